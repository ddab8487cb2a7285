//! `report`: the plots are valid images of the asked size, the numbers of `summary.json` and
//! `index.html` equal numbers computed here from the edges the fixtures were made of, odd
//! populations (empty, one target, no synapses) work, bad input is a clean error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Rng, bin, locked, naive_census, path_str as p};
use sonata_census::Error;
use sonata_census::census::output::CensusWriter;
use sonata_census::report::{ReportOptions, write_report};

/// One fixture population: its edges, as (source, target) columns.
struct Pop {
    name: &'static str,
    sources: Vec<u64>,
    targets: Vec<u64>,
    n_targets: u64,
}

/// In-degrees from 0 to about 1000 (a heavy tail: log-spaced bins), sources drawn with
/// repetition so connections carry several synapses.
fn heavy() -> Pop {
    let mut rng = Rng(7);
    let (mut sources, mut targets) = (Vec::new(), Vec::new());
    for t in 0..3000u64 {
        let r = rng.below(1_000_000) as f64 / 1e6;
        let degree = ((2.0 / (r + 0.002)) as u64).saturating_sub(2);
        for _ in 0..degree {
            sources.push(rng.below(400));
            targets.push(t);
        }
    }
    Pop {
        name: "heavy",
        sources,
        targets,
        n_targets: 3000,
    }
}

/// In-degrees 40 to 239, unsorted, two targets without edges (linear bins of 5).
fn narrow() -> Pop {
    let mut rng = Rng(11);
    let mut edges = Vec::new();
    for t in 0..200u64 {
        if t == 17 || t == 150 {
            continue;
        }
        for _ in 0..40 + rng.below(200) {
            edges.push((rng.below(100), t));
        }
    }
    // Unsorted: interleave by a deterministic shuffle.
    for i in (1..edges.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        edges.swap(i, j);
    }
    Pop {
        name: "narrow pop <odd> & name",
        sources: edges.iter().map(|e| e.0).collect(),
        targets: edges.iter().map(|e| e.1).collect(),
        n_targets: 200,
    }
}

fn small(name: &'static str, sources: &[u64], targets: &[u64], n_targets: u64) -> Pop {
    Pop {
        name,
        sources: sources.to_vec(),
        targets: targets.to_vec(),
        n_targets,
    }
}

/// The fixture populations: heavy-tailed, narrow, empty, one target, targets without synapses.
fn fixture_pops() -> Vec<Pop> {
    vec![
        heavy(),
        narrow(),
        small("empty", &[], &[], 0),
        small("one_target", &[4, 9, 4], &[0, 0, 0], 1),
        small("no_synapses", &[], &[], 5),
    ]
}

/// Writes census tables of `pops` with the library's writer.
fn write_tables(path: &Path, pops: &[Pop]) {
    locked(|| {
        let mut w = CensusWriter::create(path, true).unwrap();
        for p in pops {
            let mut c = naive_census(&p.sources, &p.targets, Some(p.n_targets));
            c.population = p.name.to_string();
            c.source_population = Some("src".into());
            c.target_population = (p.name != "empty").then(|| "tgt".to_string());
            c.backend = sonata_census::census::CountedBy::Cpu;
            w.write(&c).unwrap();
        }
        w.finish().unwrap();
    });
}

/// Numbers computed here from the edges, the obvious way.
struct Expected {
    edges: u64,
    connections: u64,
    targets: u64,
    with: u64,
    syn_per_target: Vec<u64>,
    conn_per_target: Vec<u64>,
    syn_per_conn: Vec<u64>,
    sorted_by_target: bool,
}

fn expected(p: &Pop) -> Expected {
    let mut pairs: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for (&s, &t) in p.sources.iter().zip(&p.targets) {
        *pairs.entry((t, s)).or_default() += 1;
    }
    let mut syn = vec![0u64; p.n_targets as usize];
    let mut conn = vec![0u64; p.n_targets as usize];
    for (&(t, _), &n) in &pairs {
        syn[t as usize] += n;
        conn[t as usize] += 1;
    }
    Expected {
        edges: p.sources.len() as u64,
        connections: pairs.len() as u64,
        targets: p.n_targets,
        with: syn.iter().filter(|&&x| x > 0).count() as u64,
        syn_per_target: syn,
        conn_per_target: conn,
        syn_per_conn: pairs.values().copied().collect(),
        sorted_by_target: p.targets.windows(2).all(|w| w[0] <= w[1]),
    }
}

/// (mean, median, min, max) as JSON values: null when there is no value.
fn stats(values: &[u64]) -> [serde_json::Value; 4] {
    if values.is_empty() {
        return [
            serde_json::Value::Null,
            serde_json::Value::Null,
            serde_json::Value::Null,
            serde_json::Value::Null,
        ];
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    let mean = v.iter().map(|&x| x as u128).sum::<u128>() as f64 / n as f64;
    let median = if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    };
    [mean.into(), median.into(), v[0].into(), v[n - 1].into()]
}

fn options(width: u32, height: u32) -> ReportOptions {
    ReportOptions {
        width,
        height,
        ..ReportOptions::default()
    }
}

/// Decodes a PNG and returns (width, height, RGB pixels), checking its CRCs on the way.
fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels of the bar colour (blue, well away from white, grey and black).
fn bar_pixels(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .filter(|p| p[2] > 120 && p[0] < 120 && p[2] as i32 - p[0] as i32 > 60)
        .count()
}

fn dark_pixels(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
        .count()
}

/// `data-key` → `data-value` of one population's section of index.html.
fn html_values(html: &str, population_heading: &str) -> BTreeMap<String, String> {
    let start = html
        .find(&format!("<h2>{population_heading}</h2>"))
        .unwrap_or_else(|| panic!("no section '{population_heading}'"));
    let end = html[start..].find("</section>").unwrap() + start;
    let section = &html[start..end];
    let mut out = BTreeMap::new();
    let mut rest = section;
    while let Some(i) = rest.find("data-key=\"") {
        rest = &rest[i + 10..];
        let key = &rest[..rest.find('"').unwrap()];
        let j = rest.find("data-value=\"").unwrap();
        let after = &rest[j + 12..];
        let value = &after[..after.find('"').unwrap()];
        out.insert(key.to_string(), value.to_string());
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_as_html(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                format!("{}", n.as_f64().unwrap())
            }
        }
        other => other.to_string(),
    }
}

#[test]
fn report_numbers_equal_the_tables_and_plots_are_images_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    let pops = fixture_pops();
    write_tables(&tables, &pops);
    // The report folder is created; a missing parent is not (the README's rule for outputs).
    let nested = dir.path().join("new/report");
    let err = locked(|| write_report(&tables, &nested, &options(800, 500))).unwrap_err();
    assert!(
        matches!(&err, sonata_census::Error::Io { path, .. } if path == &dir.path().join("new")),
        "{err}"
    );
    assert!(!dir.path().join("new").exists());
    let out = dir.path().join("report");
    let summary = locked(|| write_report(&tables, &out, &options(800, 500))).unwrap();
    assert_eq!(summary.populations.len(), pops.len());
    assert_eq!(summary.files.last().unwrap(), &out.join("index.html"));
    assert_eq!(summary.files.len(), pops.len() * 6 + 2);
    for f in &summary.files {
        assert!(f.is_file(), "{}", f.display());
    }
    // Nothing but the report in the folder: the staging folder is gone.
    let mut entries: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            "empty",
            "heavy",
            "index.html",
            "narrow_pop__odd____name",
            "no_synapses",
            "one_target",
            "summary.json"
        ]
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("NaN") && !json.to_string().contains("NaN"));
    let jpops = json["populations"].as_array().unwrap();
    // The file lists its groups by name; the report follows the file.
    let names: Vec<&str> = jpops
        .iter()
        .map(|j| j["population"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "empty",
            "heavy",
            "narrow pop <odd> & name",
            "no_synapses",
            "one_target"
        ]
    );
    for j in jpops {
        let p = pops.iter().find(|p| j["population"] == p.name).unwrap();
        let e = expected(p);
        let what = p.name;
        assert_eq!(j["population"], p.name, "{what}");
        assert_eq!(j["edges"], e.edges, "{what}");
        assert_eq!(j["connections"], e.connections, "{what}");
        assert_eq!(j["targets"], e.targets, "{what}");
        assert_eq!(j["targets_with_synapses"], e.with, "{what}");
        assert_eq!(j["targets_without_synapses"], e.targets - e.with, "{what}");
        assert_eq!(j["sorted_by_target"], e.sorted_by_target, "{what}");
        assert_eq!(j["source_node_population"], "src");
        let tgt = if p.name == "empty" { "unknown" } else { "tgt" };
        assert_eq!(j["target_node_population"], tgt);
        for (key, values) in [
            ("synapses_per_target", &e.syn_per_target),
            ("connections_per_target", &e.conn_per_target),
            ("synapses_per_connection", &e.syn_per_conn),
        ] {
            let [mean, median, min, max] = stats(values);
            // serde_json's parser may round the last bit of a float (without its
            // float_roundtrip feature); the page's value is checked exactly below.
            match (j[key]["mean"].as_f64(), mean.as_f64()) {
                (Some(got), Some(want)) => {
                    assert!(
                        (got - want).abs() <= want.abs() * 1e-15,
                        "{what} {key}.mean: {got} {want}"
                    )
                }
                _ => assert_eq!(j[key]["mean"], mean, "{what} {key}.mean"),
            }
            assert_eq!(j[key]["median"], median, "{what} {key}.median");
            assert_eq!(j[key]["min"], min, "{what} {key}.min");
            assert_eq!(j[key]["max"], max, "{what} {key}.max");
        }

        // The page shows the same numbers, exactly in data-value and rounded in the text.
        let h = html_values(&html, &html_escape(p.name));
        for key in [
            "edges",
            "connections",
            "targets",
            "targets_with_synapses",
            "targets_without_synapses",
        ] {
            assert_eq!(h[key], j[key].as_u64().unwrap().to_string(), "{what} {key}");
        }
        for (key, values) in [
            ("synapses_per_target", &e.syn_per_target),
            ("connections_per_target", &e.conn_per_target),
            ("synapses_per_connection", &e.syn_per_conn),
        ] {
            for (field, want) in ["mean", "median", "min", "max"]
                .into_iter()
                .zip(stats(values))
            {
                let got = &h[&format!("{key}.{field}")];
                match want.as_f64() {
                    // Rust's float parsing is exact: the page carries the very f64.
                    Some(w) => assert_eq!(got.parse::<f64>().unwrap(), w, "{what} {key}.{field}"),
                    None => assert_eq!(got, "null", "{what} {key}.{field}"),
                }
                if field == "min" || field == "max" {
                    assert_eq!(got, &json_as_html(&j[key][field]), "{what} {key}.{field}");
                }
            }
        }
        assert_eq!(h["sorted_by_target"], e.sorted_by_target.to_string());
        let grouped = {
            let s = e.edges.to_string();
            let mut g = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    g.push(',');
                }
                g.push(c);
            }
            g
        };
        assert!(
            html.contains(&format!("data-value=\"{}\">{grouped}</td>", e.edges)),
            "{what}: edges shown as {grouped}"
        );

        // Plots: decodable PNGs and parseable SVGs of 800 x 500, referenced by the page.
        for plot in [
            "synapses_per_target",
            "connections_per_target",
            "synapses_per_connection",
        ] {
            let png_rel = j["plots"][plot]["png"].as_str().unwrap();
            let svg_rel = j["plots"][plot]["svg"].as_str().unwrap();
            assert!(
                html.contains(&format!("src=\"{svg_rel}\"")),
                "{what}: {svg_rel} not on the page"
            );
            assert!(
                html.contains(&format!("href=\"{png_rel}\"")),
                "{what}: {png_rel} not linked"
            );
            let (w, h, rgb) = decode_png(&out.join(png_rel));
            assert_eq!((w, h), (800, 500), "{png_rel}");
            assert!(dark_pixels(&rgb) > 500, "{png_rel}: no text drawn");
            let has_bars = match plot {
                "synapses_per_connection" => e.connections > 0,
                _ => e.with > 0,
            };
            assert_eq!(bar_pixels(&rgb) > 100, has_bars, "{png_rel}: bars");

            let svg = std::fs::read_to_string(out.join(svg_rel)).unwrap();
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{svg_rel}: {e}"));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert_eq!(root.attribute("width"), Some("800"), "{svg_rel}");
            assert_eq!(root.attribute("height"), Some("500"), "{svg_rel}");
            let texts: String = doc
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect();
            assert!(
                texts.contains(p.name),
                "{svg_rel}: title without the population"
            );
            let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
            assert_eq!(rects > 1, has_bars, "{svg_rel}: bars");
        }
    }
    // Zero counts are stated on the plot, not silently dropped.
    let narrow_svg =
        std::fs::read_to_string(out.join("narrow_pop__odd____name/synapses_per_target.svg"))
            .unwrap();
    assert!(
        narrow_svg.contains("targets with no synapses (in no bar): 2 (1.0%)"),
        "{narrow_svg}"
    );
    // The heavy tail spans decades: log-spaced bins and log axes.
    let heavy_svg = std::fs::read_to_string(out.join("heavy/synapses_per_target.svg")).unwrap();
    assert!(heavy_svg.contains("log-spaced bins"));
    assert!(heavy_svg.contains("synapses per target (log scale)"));
    assert!(heavy_svg.contains("targets per value (log scale)"));
    assert!(
        narrow_svg.contains("bins of 5 values"),
        "narrow data: linear bins"
    );
    assert!(
        narrow_svg.contains("targets per bin") && !narrow_svg.contains("(log scale)"),
        "narrow data: linear axes"
    );
}

#[test]
fn same_tables_give_identical_reports_and_existing_files_need_force() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    write_tables(&tables, &[heavy()]);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    locked(|| write_report(&tables, &a, &ReportOptions::default())).unwrap();
    let sb = locked(|| write_report(&tables, &b, &ReportOptions::default())).unwrap();
    for f in &sb.files {
        let rel = f.strip_prefix(&b).unwrap();
        assert_eq!(
            std::fs::read(a.join(rel)).unwrap(),
            std::fs::read(f).unwrap(),
            "{}",
            rel.display()
        );
    }
    let (w, h, _) = decode_png(&a.join("heavy/synapses_per_target.png"));
    assert_eq!((w, h), (960, 600), "default size");

    // Without force: refused before any work, nothing touched.
    std::fs::write(a.join("heavy/connections_per_target.svg"), "mine").unwrap();
    let err = locked(|| write_report(&tables, &a, &ReportOptions::default())).unwrap_err();
    assert!(matches!(err, Error::OutputExists { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("heavy/synapses_per_target.png: output exists"),
        "the first existing file is named: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(a.join("heavy/connections_per_target.svg")).unwrap(),
        "mine"
    );
    // With force: replaced.
    let opts = ReportOptions {
        force: true,
        ..ReportOptions::default()
    };
    locked(|| write_report(&tables, &a, &opts)).unwrap();
    assert_eq!(
        std::fs::read(a.join("heavy/connections_per_target.svg")).unwrap(),
        std::fs::read(b.join("heavy/connections_per_target.svg")).unwrap()
    );
    // A subset of populations, in the order asked.
    let c = dir.path().join("c");
    let opts = ReportOptions {
        populations: vec!["heavy".into(), "heavy".into()],
        ..ReportOptions::default()
    };
    let s = locked(|| write_report(&tables, &c, &opts)).unwrap();
    assert_eq!(s.populations.len(), 1);
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let text = dir.path().join("text.h5");
    std::fs::write(&text, "not hdf5\n").unwrap();
    let edges = dir.path().join("edges.h5");
    locked(|| common::write_edges(&edges, "pop", &[1, 2], &[0, 0], common::Ids::U64));
    let tables = dir.path().join("census.h5");
    write_tables(&tables, &[small("p", &[1, 2, 2], &[0, 1, 1], 3)]);
    let run = |path: &Path, opts: &ReportOptions| locked(|| write_report(path, &out, opts));
    let d = ReportOptions::default();

    let e = run(&dir.path().join("missing.h5"), &d).unwrap_err();
    assert!(matches!(e, Error::InputFile { .. }), "{e}");
    assert!(e.to_string().contains("missing.h5"), "{e}");
    let e = run(&text, &d).unwrap_err();
    assert!(matches!(e, Error::NotHdf5 { .. }), "{e}");
    let e = run(&edges, &d).unwrap_err();
    assert!(matches!(e, Error::InvalidData { .. }), "{e}");
    assert!(e.to_string().contains("not a census table file"), "{e}");
    assert!(e.to_string().contains("sonata-census count"), "{e}");
    let opts = ReportOptions {
        populations: vec!["zzz".into()],
        ..ReportOptions::default()
    };
    let e = run(&tables, &opts).unwrap_err();
    assert!(matches!(e, Error::PopulationNotFound { .. }), "{e}");
    assert!(e.to_string().contains("(the file has: p)"), "{e}");
    let e = run(&tables, &options(10, 10)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(e.is_input_error());

    // Tables that disagree: an edge_count that is not the sum of the synapses.
    locked(|| {
        let f = hdf5::File::open_rw(&tables).unwrap();
        let g = f.group("p").unwrap();
        g.delete_attr("edge_count").unwrap();
        g.new_attr::<u64>()
            .create("edge_count")
            .unwrap()
            .write_scalar(&4u64)
            .unwrap();
    });
    let e = run(&tables, &d).unwrap_err();
    assert!(matches!(e, Error::InvalidData { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("population 'p'") && msg.contains("target_synapse_count"),
        "{msg}"
    );
    assert!(msg.contains("edge_count is 4"), "{msg}");
    assert!(!out.exists(), "a failed report left {}", out.display());
}

fn run_cli(args: &[&str]) -> Output {
    locked(|| bin().args(args).output().unwrap())
}

#[test]
fn cli_report_writes_the_page_and_exits_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    write_tables(
        &tables,
        &[heavy(), small("one_target", &[4, 9, 4], &[0, 0, 0], 1)],
    );
    let out: PathBuf = dir.path().join("rep");
    let o = run_cli(&["report", p(&tables), "-o", p(&out), "--size", "640x400"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("heavy: "), "{err}");
    assert!(
        err.contains(&format!("wrote {}", out.join("index.html").display())),
        "{err}"
    );
    let (w, h, _) = decode_png(&out.join("one_target/synapses_per_connection.png"));
    assert_eq!((w, h), (640, 400));

    // Again without --force: exit 2, one line.
    let o = run_cli(&["report", p(&tables), "-o", p(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("output exists (pass --force to replace it)"),
        "{err}"
    );
    let o = run_cli(&["report", p(&tables), "-o", p(&out), "--force", "-q"]);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let text = dir.path().join("text.h5");
    std::fs::write(&text, "text").unwrap();
    let out2 = dir.path().join("rep2");
    for (args, want) in [
        (
            vec!["report", p(&text), "-o", p(&out2)],
            "cannot open as an HDF5 file",
        ),
        (
            vec!["report", p(&tables), "-o", p(&out2), "-p", "nope"],
            "no population 'nope'",
        ),
        (
            vec!["report", p(&tables), "-o", p(&out2), "--size", "100x100"],
            "out of range",
        ),
        (
            vec!["report", p(&tables), "-o", p(&out2), "--size", "big"],
            "WIDTHxHEIGHT",
        ),
    ] {
        let o = run_cli(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected '{want}' in {err}");
        assert!(!out2.exists(), "{args:?} left {}", out2.display());
    }
    // A missing input file is bad input (exit 2), as for every other command.
    let o = run_cli(&["report", p(&dir.path().join("missing.h5")), "-o", p(&out2)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.h5"));

    let o = run_cli(&["report", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("sonata-census report census.h5 --output report"),
        "{help}"
    );
}

/// The numeric tick labels of an SVG plot: (value axis, count axis), and how many text
/// elements are empty (a tick without its label).
fn svg_ticks(svg: &str) -> (Vec<String>, Vec<String>, usize) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let (mut x, mut y, mut empty) = (Vec::new(), Vec::new(), 0);
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let t = n.text().unwrap_or("").trim().to_string();
        if t.is_empty() {
            empty += 1;
        } else if t.parse::<f64>().is_ok() || t.ends_with('k') || t.ends_with('M') {
            match n.attribute("text-anchor") {
                Some("middle") => x.push(t),
                Some("end") => y.push(t),
                _ => {}
            }
        }
    }
    (x, y, empty)
}

#[test]
fn tiny_populations_get_whole_ticks_and_axes_that_end_at_the_largest_value() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    // One target, 3 synapses from 2 sources (2 + 1); one of 3 from 1 source.
    write_tables(
        &tables,
        &[
            small("one_target", &[4, 9, 4], &[0, 0, 0], 1),
            small("one_connection", &[5, 5, 5], &[0, 0, 0], 1),
        ],
    );
    let out = dir.path().join("rep");
    locked(|| write_report(&tables, &out, &options(640, 400))).unwrap();
    let read = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap();
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (rel, want_x) in [
        (
            "one_target/synapses_per_target.svg",
            &["0", "1", "2", "3"][..],
        ),
        ("one_target/connections_per_target.svg", &["0", "1", "2"]),
        ("one_target/synapses_per_connection.svg", &["0", "1", "2"]),
        (
            "one_connection/synapses_per_target.svg",
            &["0", "1", "2", "3"],
        ),
        (
            "one_connection/synapses_per_connection.svg",
            &["0", "1", "2", "3"],
        ),
        ("one_connection/connections_per_target.svg", &["0", "1"]),
    ] {
        let (x, y, empty) = svg_ticks(&read(rel));
        assert_eq!(
            empty, 0,
            "{rel}: a tick without a label (0.5 on a count axis)"
        );
        assert_eq!(x, strs(want_x), "{rel}: value axis");
        assert_eq!(y, strs(&["0", "1"]), "{rel}: count axis");
    }
}
