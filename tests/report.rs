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

// ---------------------------------------------------------------------------------------------
// Issue 15's tables (restricted censuses, efferent tables, pathway matrices), written by hand
// with the `hdf5` crate exactly as src/census/schema.rs lays them out, so that these tests check
// the reader of those tables as much as the report.

/// Values of a pathway attribute: text or int64.
enum Values {
    Text(Vec<&'static str>),
    Int(Vec<i64>),
}

/// One pathway attribute of a hand-written group: the attribute value of each source node and
/// each target node (indices into the values).
struct HandPathway {
    attribute: &'static str,
    source_values: Values,
    target_values: Values,
    source_value_of: fn(u64) -> usize,
    target_value_of: fn(u64) -> usize,
}

/// One hand-written census group.
struct HandGroup {
    pop: Pop,
    /// The `direction` attribute; `None`: not written (files of earlier versions).
    direction: Option<&'static str>,
    /// (target node set, source node set, node_sets_file, population_edge_count).
    restriction: Option<(
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        u64,
    )>,
    n_sources: u64,
    pathways: Vec<HandPathway>,
}

fn str_attr(g: &hdf5::Group, name: &str, value: &str) {
    let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
    g.new_attr::<hdf5::types::VarLenUnicode>()
        .create(name)
        .unwrap()
        .write_scalar(&v)
        .unwrap();
}

fn u64_attr(g: &hdf5::Group, name: &str, value: u64) {
    g.new_attr::<u64>()
        .create(name)
        .unwrap()
        .write_scalar(&value)
        .unwrap();
}

fn u8_attr(g: &hdf5::Group, name: &str, value: u8) {
    g.new_attr::<u8>()
        .create(name)
        .unwrap()
        .write_scalar(&value)
        .unwrap();
}

fn dataset<T: hdf5::H5Type + Copy>(g: &hdf5::Group, name: &str, data: &[T]) {
    g.new_dataset_builder()
        .with_data(data)
        .create(name)
        .unwrap();
}

fn matrix_dataset(g: &hdf5::Group, name: &str, rows: usize, cols: usize, data: &[u64]) {
    let a = ndarray::Array2::from_shape_vec((rows, cols), data.to_vec()).unwrap();
    g.new_dataset_builder().with_data(&a).create(name).unwrap();
}

fn values_dataset(g: &hdf5::Group, name: &str, values: &Values) {
    match values {
        Values::Text(v) => {
            let v: Vec<hdf5::types::VarLenUnicode> = v.iter().map(|s| s.parse().unwrap()).collect();
            g.new_dataset_builder().with_data(&v).create(name).unwrap();
        }
        Values::Int(v) => dataset(g, name, v),
    }
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Int(v) => v.len(),
        }
    }
}

/// The efferent tables of `p` with `n_sources` sources:
/// (synapses per source, connections per source, offsets, targets, synapses per connection).
#[allow(
    clippy::type_complexity,
    reason = "test helper: the five columns of the schema"
)]
fn efferent_of(p: &Pop, n_sources: u64) -> (Vec<u64>, Vec<u64>, Vec<u64>, Vec<u64>, Vec<u32>) {
    let mut pairs: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for (&s, &t) in p.sources.iter().zip(&p.targets) {
        *pairs.entry((s, t)).or_default() += 1;
    }
    let mut syn = vec![0u64; n_sources as usize];
    let mut conn = vec![0u64; n_sources as usize];
    let (mut tgt, mut cnt) = (Vec::new(), Vec::new());
    for (&(s, t), &n) in &pairs {
        syn[s as usize] += n;
        conn[s as usize] += 1;
        tgt.push(t);
        cnt.push(n as u32);
    }
    let mut offsets = vec![0u64];
    for &c in &conn {
        offsets.push(offsets.last().unwrap() + c);
    }
    (syn, conn, offsets, tgt, cnt)
}

/// The matrices of `pw` over `p`'s edges: (synapses, connections, pair_count, source node
/// count, target node count), with source nodes `0..n_sources` and targets `0..n_targets`.
#[allow(
    clippy::type_complexity,
    reason = "test helper: the five columns of the schema"
)]
fn pathway_of(
    p: &Pop,
    n_sources: u64,
    pw: &HandPathway,
) -> (Vec<u64>, Vec<u64>, Vec<u64>, Vec<u64>, Vec<u64>) {
    let (rows, cols) = (pw.source_values.len(), pw.target_values.len());
    let mut syn = vec![0u64; rows * cols];
    let mut conn = vec![0u64; rows * cols];
    let mut pairs = std::collections::BTreeSet::new();
    for (&s, &t) in p.sources.iter().zip(&p.targets) {
        let k = (pw.source_value_of)(s) * cols + (pw.target_value_of)(t);
        syn[k] += 1;
        if pairs.insert((s, t)) {
            conn[k] += 1;
        }
    }
    let mut src_n = vec![0u64; rows];
    for s in 0..n_sources {
        src_n[(pw.source_value_of)(s)] += 1;
    }
    let mut tgt_n = vec![0u64; cols];
    for t in 0..p.n_targets {
        tgt_n[(pw.target_value_of)(t)] += 1;
    }
    // Source and target populations differ here: no node is on both sides.
    let pair_count = (0..rows * cols)
        .map(|k| src_n[k / cols] * tgt_n[k % cols])
        .collect();
    (syn, conn, pair_count, src_n, tgt_n)
}

/// Writes `groups` into a new census table file, following src/census/schema.rs.
fn write_by_hand(path: &Path, groups: &[HandGroup]) {
    locked(|| {
        let file = hdf5::File::create(path).unwrap();
        for hg in groups {
            let p = &hg.pop;
            let c = naive_census(&p.sources, &p.targets, Some(p.n_targets));
            let g = file.create_group(p.name).unwrap();
            str_attr(&g, "source_node_population", "src");
            str_attr(&g, "target_node_population", "tgt");
            u64_attr(&g, "edge_count", c.edge_count);
            u8_attr(&g, "sorted_by_target", u8::from(c.sortedness.by_target));
            u8_attr(
                &g,
                "sorted_by_target_source",
                u8::from(c.sortedness.by_target_source),
            );
            str_attr(&g, "sonata_census_version", "test");
            if let Some((tset, sset, files, population_edges)) = hg.restriction {
                str_attr(&g, "table_kind", "restricted");
                u64_attr(&g, "population_edge_count", population_edges);
                if let Some(t) = tset {
                    str_attr(&g, "target_node_set", t);
                }
                if let Some(s) = sset {
                    str_attr(&g, "source_node_set", s);
                }
                str_attr(&g, "node_sets_file", files);
            }
            let direction = hg.direction.unwrap_or("afferent");
            if let Some(d) = hg.direction {
                str_attr(&g, "direction", d);
            }
            if direction != "efferent" {
                u64_attr(&g, "n_targets", c.n_targets);
                dataset(&g, "target_synapse_count", &c.target_synapse_count);
                dataset(&g, "target_connection_count", &c.target_connection_count);
                let conns = g.create_group("connections").unwrap();
                dataset(&conns, "target_offsets", &c.target_offsets);
                dataset(&conns, "source_node_id", &c.source_node_id);
                dataset(&conns, "synapse_count", &c.synapse_count);
            }
            dataset(&g, "synapses_per_connection", &c.synapses_per_connection);
            if direction != "afferent" {
                let (syn, conn, offsets, tgt, cnt) = efferent_of(p, hg.n_sources);
                let e = g.create_group("efferent").unwrap();
                u64_attr(&e, "n_sources", hg.n_sources);
                str_attr(&e, "n_sources_origin", "the source node population's size");
                dataset(&e, "source_synapse_count", &syn);
                dataset(&e, "source_connection_count", &conn);
                let ec = e.create_group("connections").unwrap();
                dataset(&ec, "source_offsets", &offsets);
                dataset(&ec, "target_node_id", &tgt);
                dataset(&ec, "synapse_count", &cnt);
            }
            if !hg.pathways.is_empty() {
                let pg = g.create_group("pathways").unwrap();
                for pw in &hg.pathways {
                    let (syn, conn, pairs, src_n, tgt_n) = pathway_of(p, hg.n_sources, pw);
                    let (rows, cols) = (pw.source_values.len(), pw.target_values.len());
                    let a = pg.create_group(pw.attribute).unwrap();
                    values_dataset(&a, "source_values", &pw.source_values);
                    values_dataset(&a, "target_values", &pw.target_values);
                    dataset(&a, "source_node_count", &src_n);
                    dataset(&a, "target_node_count", &tgt_n);
                    matrix_dataset(&a, "synapses", rows, cols, &syn);
                    matrix_dataset(&a, "connections", rows, cols, &conn);
                    matrix_dataset(&a, "pair_count", rows, cols, &pairs);
                }
            }
        }
    });
}

/// 300 edges from 40 sources onto 30 targets (sources 35..40 and targets 25..30 without any).
fn pathway_pop(name: &'static str) -> Pop {
    let mut rng = Rng(23);
    let (mut sources, mut targets) = (Vec::new(), Vec::new());
    for _ in 0..300 {
        sources.push(rng.below(35));
        targets.push(rng.below(25));
    }
    Pop {
        name,
        sources,
        targets,
        n_targets: 30,
    }
}

fn mtype_pathway() -> HandPathway {
    HandPathway {
        attribute: "mtype",
        source_values: Values::Text(vec![
            "L23_PC",
            "L5_TTPC",
            "L6_BPC_with_a_name_too_long_to_show",
        ]),
        target_values: Values::Text(vec!["L23_PC", "L5_TTPC"]),
        source_value_of: |s| (s % 3) as usize,
        // Targets 25..30 (no edges) are all L5_TTPC.
        target_value_of: |t| usize::from(t >= 10),
    }
}

fn layer_pathway() -> HandPathway {
    HandPathway {
        attribute: "cell layer",
        source_values: Values::Int(vec![2, 5]),
        target_values: Values::Int(vec![2, 4, 6]),
        source_value_of: |s| usize::from(s >= 20),
        target_value_of: |t| (t % 3) as usize,
    }
}

#[test]
fn a_group_without_the_new_attributes_reads_as_afferent_with_no_new_plots() {
    // Files of earlier versions: no direction, no restriction, no efferent or pathways group.
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("old.h5");
    write_by_hand(
        &tables,
        &[HandGroup {
            pop: pathway_pop("old"),
            direction: None,
            restriction: None,
            n_sources: 40,
            pathways: Vec::new(),
        }],
    );
    let out = dir.path().join("report");
    let summary = locked(|| write_report(&tables, &out, &options(800, 500))).unwrap();
    assert_eq!(summary.files.len(), 6 + 2);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let j = &json["populations"][0];
    assert_eq!(j["direction"], "afferent");
    assert_eq!(j["restriction"], serde_json::Value::Null);
    assert_eq!(j["efferent"], serde_json::Value::Null);
    assert_eq!(j["pathways"], serde_json::json!([]));
    assert_eq!(j["plots"]["synapses_per_source"], serde_json::Value::Null);
    assert_eq!(j["targets"], 30);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("Restricted census") && !html.contains("Pathways by"));
}

#[test]
fn restricted_efferent_and_pathway_tables_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    write_by_hand(
        &tables,
        &[
            HandGroup {
                pop: pathway_pop("both"),
                direction: Some("both"),
                restriction: Some((
                    Some("Layer5 <targets>"),
                    Some("Excitatory"),
                    "node_sets.json; extra.json",
                    1000,
                )),
                n_sources: 40,
                pathways: vec![mtype_pathway(), layer_pathway()],
            },
            HandGroup {
                pop: pathway_pop("efferent_only"),
                direction: Some("efferent"),
                restriction: None,
                n_sources: 40,
                pathways: vec![mtype_pathway()],
            },
        ],
    );
    let out = dir.path().join("report");
    let summary = locked(|| write_report(&tables, &out, &options(800, 500))).unwrap();
    let rel: Vec<String> = summary
        .files
        .iter()
        .map(|f| f.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    let mut want = Vec::new();
    for stem in [
        "synapses_per_target",
        "connections_per_target",
        "synapses_per_source",
        "connections_per_source",
        "synapses_per_connection",
    ] {
        want.push(format!("both/{stem}"));
    }
    for attr in ["mtype", "cell_layer"] {
        for m in [
            "synapses",
            "connections",
            "probability",
            "synapses_per_connection",
        ] {
            want.push(format!("both/pathways_{attr}_{m}"));
        }
    }
    // Efferent-only: no per-target plots.
    for stem in [
        "synapses_per_source",
        "connections_per_source",
        "synapses_per_connection",
        "pathways_mtype_synapses",
        "pathways_mtype_connections",
        "pathways_mtype_probability",
        "pathways_mtype_synapses_per_connection",
    ] {
        want.push(format!("efferent_only/{stem}"));
    }
    let mut want: Vec<String> = want
        .iter()
        .flat_map(|w| [format!("{w}.png"), format!("{w}.svg")])
        .collect();
    want.push("summary.json".into());
    want.push("index.html".into());
    // index.html last; the pathway attributes come in the file's order (by name here).
    assert_eq!(rel.last().map(String::as_str), Some("index.html"));
    let (mut rel, mut want) = (rel, want);
    rel.sort();
    want.sort();
    assert_eq!(rel, want);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for (k, name) in ["both", "efferent_only"].into_iter().enumerate() {
        let j = &json["populations"][k];
        let p = pathway_pop(name);
        let e = expected(&p);
        let (syn, conn, ..) = efferent_of(&p, 40);
        assert_eq!(j["population"], name);
        assert_eq!(j["edges"], 300);
        assert_eq!(j["connections"], e.connections, "{name}");
        let ej = &j["efferent"];
        assert_eq!(ej["sources"], 40);
        assert_eq!(ej["connections"], e.connections);
        let with = syn.iter().filter(|&&x| x > 0).count() as u64;
        assert_eq!(ej["sources_with_synapses"], with);
        assert_eq!(ej["sources_without_synapses"], 40 - with);
        for (key, values) in [
            ("synapses_per_source", &syn),
            ("connections_per_source", &conn),
        ] {
            let [_, median, min, max] = stats(values);
            assert_eq!(ej[key]["median"], median, "{name} {key}");
            assert_eq!(ej[key]["min"], min, "{name} {key}");
            assert_eq!(ej[key]["max"], max, "{name} {key}");
        }
        let [_, median, ..] = stats(&e.syn_per_conn);
        assert_eq!(j["synapses_per_connection"]["median"], median, "{name}");
        let h = html_values(&html, name);
        assert_eq!(h["efferent.sources"], "40");
        assert_eq!(h["direction"], if k == 0 { "both" } else { "efferent" });
        // The mtype pathway: totals of the matrices.
        let pathways = j["pathways"].as_array().unwrap();
        let pk = pathways
            .iter()
            .position(|p| p["attribute"] == "mtype")
            .unwrap();
        let pw = &pathways[pk];
        let (psyn, pconn, pairs, ..) = pathway_of(&p, 40, &mtype_pathway());
        assert_eq!(pw["attribute"], "mtype");
        assert_eq!(pw["source_values"], 3);
        assert_eq!(pw["target_values"], 2);
        assert_eq!(pw["synapses"], psyn.iter().sum::<u64>());
        assert_eq!(pw["connections"], pconn.iter().sum::<u64>());
        assert_eq!(pw["pair_count"], pairs.iter().sum::<u64>());
        assert_eq!(pw["pair_count"], 40 * 30);
        assert_eq!(h[&format!("pathways.{pk}.attribute")], "mtype");
        assert_eq!(h[&format!("pathways.{pk}.synapses")], "300");
        for m in ["synapses", "probability"] {
            let f = &pw["plots"][m];
            let svg_rel = f["svg"].as_str().unwrap();
            assert!(html.contains(&format!("src=\"{svg_rel}\"")), "{svg_rel}");
            let (w, hgt, rgb) = decode_png(&out.join(f["png"].as_str().unwrap()));
            assert_eq!(
                (w, hgt),
                (
                    f["width"].as_u64().unwrap() as u32,
                    f["height"].as_u64().unwrap() as u32
                )
            );
            assert!(w >= 800 && hgt >= 500);
            assert!(dark_pixels(&rgb) > 500, "{svg_rel}: no text");
            let svg = std::fs::read_to_string(out.join(svg_rel)).unwrap();
            roxmltree::Document::parse(&svg).unwrap();
            for label in [
                "source mtype",
                "target mtype",
                "L23_PC",
                "L5_TTPC",
                "L6_BPC_with_a_name_too_…",
            ] {
                assert!(svg.contains(label), "{svg_rel}: no {label}");
            }
        }
    }
    let both = &json["populations"][0];
    // Restricted: the node sets and both edge counts, in the JSON and on the page.
    let r = &both["restriction"];
    assert_eq!(r["target_node_set"], "Layer5 <targets>");
    assert_eq!(r["source_node_set"], "Excitatory");
    assert_eq!(
        r["node_sets_files"],
        serde_json::json!(["node_sets.json", "extra.json"])
    );
    assert_eq!(r["population_edge_count"], 1000);
    assert_eq!(r["edges_counted"], 300);
    let h = html_values(&html, "both");
    assert_eq!(h["target_node_set"], "Layer5 &lt;targets&gt;");
    assert_eq!(h["source_node_set"], "Excitatory");
    assert_eq!(h["population_edge_count"], "1000");
    assert!(html.contains("node_sets.json; extra.json"));
    assert_eq!(both["targets"], 30);
    let layer = both["pathways"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["attribute"] == "cell layer")
        .unwrap();
    assert_eq!(layer["source_values"], 2);
    assert_eq!(layer["target_values"], 3);
    assert_eq!(layer["synapses"], 300);
    // Efferent-only: no per-target numbers or plots.
    let eff = &json["populations"][1];
    assert_eq!(eff["targets"], serde_json::Value::Null);
    assert_eq!(eff["synapses_per_target"], serde_json::Value::Null);
    assert_eq!(eff["plots"]["synapses_per_target"], serde_json::Value::Null);
    assert!(!html_values(&html, "efferent_only").contains_key("targets"));

    // The same tables give the same bytes.
    let again = dir.path().join("again");
    let s2 = locked(|| write_report(&tables, &again, &options(800, 500))).unwrap();
    for f in &s2.files {
        let rel = f.strip_prefix(&again).unwrap();
        assert_eq!(
            std::fs::read(out.join(rel)).unwrap(),
            std::fs::read(f).unwrap(),
            "{}",
            rel.display()
        );
    }
}
