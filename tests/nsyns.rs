//! bmtk `nsyns` (an edge row stands for `nsyns` synapses) is shown wherever synapses are counted:
//! `count`'s summary line, `info` (text and JSON) and `report` (page, `summary.json`, a plot of
//! synapses per target), beside the edge rows the census tables count, each labelled. Checked on
//! a generated bmtk circuit against sums computed here from the raw columns, on a circuit
//! without `nsyns` (nothing added), and on the Allen `300_intfire` sample.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use common::{bin, locked, naive_census, path_str as p, samples_dir};
use sonata_census::Error;
use sonata_census::census::output::CensusWriter;
use sonata_census::report::{ReportOptions, write_report};

fn run(args: &[&str]) -> Output {
    locked(|| bin().args(args).output().unwrap())
}

fn ok(args: &[&str]) -> (String, String) {
    let o = run(args);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "{args:?}: {err}");
    (out, err)
}

/// (edge rows, synapses per target) of one population, from the raw columns: `nsyns` of each
/// edge's group row, 1 for groups without the column.
fn raw_nsyns(path: &Path, population: &str) -> (u64, BTreeMap<u64, u64>) {
    locked(|| {
        let f = hdf5::File::open(path).unwrap();
        let g = f.group(&format!("edges/{population}")).unwrap();
        let read = |n: &str| g.dataset(n).unwrap().read_raw::<u64>().unwrap();
        let targets = read("target_node_id");
        let (gid, gidx) = if g.link_exists("edge_group_id") {
            (read("edge_group_id"), read("edge_group_index"))
        } else {
            (vec![0; targets.len()], (0..targets.len() as u64).collect())
        };
        let mut columns: BTreeMap<u64, Option<Vec<u64>>> = BTreeMap::new();
        let mut per_target = BTreeMap::new();
        for ((&t, &k), &row) in targets.iter().zip(&gid).zip(&gidx) {
            let column = columns.entry(k).or_insert_with(|| {
                let name = format!("{k}/nsyns");
                g.link_exists(&name)
                    .then(|| g.dataset(&name).unwrap().read_raw::<u64>().unwrap())
            });
            let n = column.as_ref().map_or(1, |c| c[row as usize]);
            *per_target.entry(t).or_insert(0) += n;
        }
        (targets.len() as u64, per_target)
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn generated_bmtk_circuit_shows_edge_rows_and_synapses_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, tables, report) = (
        dir.path().join("bmtk.h5"),
        dir.path().join("census.h5"),
        dir.path().join("rep"),
    );
    ok(&[
        "generate",
        p(&edges),
        "--nodes",
        "300",
        "--edges",
        "20000",
        "--attributes",
        "bmtk",
        "--groups",
        "2",
        "--order",
        "shuffled",
    ]);
    let (rows, per_target) = raw_nsyns(&edges, "All__All__chemical");
    let synapses: u64 = per_target.values().sum();
    assert!(synapses > rows, "generated nsyns are mostly > 1");

    // count: the summary line gives both, and says what the tables count.
    let (_, err) = ok(&["count", p(&edges), "-o", p(&tables)]);
    assert!(
        err.contains(&format!(
            "; bmtk nsyns: {synapses} synapses (the tables count the {rows} edge rows)"
        )),
        "{err}"
    );

    // info: text and JSON; --no-scan names the columns without summing.
    let (text, _) = ok(&["info", p(&edges)]);
    assert!(
        text.contains(&format!("  edges:        {rows}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  synapses:     {synapses} (sum of bmtk nsyns in 0/nsyns, 1/nsyns; the census tables count edge rows)"
        )),
        "{text}"
    );
    let (j, _) = ok(&["info", p(&edges), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    let pop = &j["populations"][0];
    assert_eq!(pop["edge_count"], rows);
    assert_eq!(pop["nsyns"]["synapses"], synapses);
    assert_eq!(
        pop["nsyns"]["columns"],
        serde_json::json!(["0/nsyns", "1/nsyns"])
    );
    let (j, _) = ok(&["info", p(&edges), "--json", "--no-scan"]);
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(
        j["populations"][0]["nsyns"]["synapses"],
        serde_json::Value::Null
    );
    let (text, _) = ok(&["info", p(&edges), "--no-scan"]);
    assert!(
        text.contains("synapses:     not summed (--no-scan)"),
        "{text}"
    );

    // report: summary.json, the page and a fourth plot.
    ok(&["report", p(&tables), "-o", p(&report)]);
    let s = json(&report.join("summary.json"));
    let pop = &s["populations"][0];
    assert_eq!(pop["edges"], rows);
    assert_eq!(pop["synapses"], synapses);
    assert_eq!(pop["synapses_from"], "nsyns");
    // Every target of the index is counted, those without edges as 0.
    let mut all: Vec<u64> = (0..300)
        .map(|t| *per_target.get(&t).unwrap_or(&0))
        .collect();
    all.sort_unstable();
    let d = &pop["nsyns_per_target"];
    assert_eq!(d["min"], all[0]);
    assert_eq!(d["max"], all[all.len() - 1]);
    assert_eq!(d["median"], (all[149] as f64 + all[150] as f64) / 2.0);
    let mean = d["mean"].as_f64().unwrap();
    assert!((mean - synapses as f64 / 300.0).abs() < 1e-9, "{mean}");
    // The row tables are unchanged: they count edge rows.
    assert_eq!(
        pop["synapses_per_target"]["mean"].as_f64().unwrap(),
        rows as f64 / 300.0
    );
    let plot = &pop["plots"]["nsyns_per_target"];
    let (png, svg) = (plot["png"].as_str().unwrap(), plot["svg"].as_str().unwrap());
    assert_eq!(png, "All__All__chemical/nsyns_per_target.png");
    assert!(report.join(png).is_file() && report.join(svg).is_file());
    let svg_text = std::fs::read_to_string(report.join(svg)).unwrap();
    roxmltree::Document::parse(&svg_text).unwrap();
    let grouped = |v: u64| {
        let s = v.to_string();
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
        svg_text.contains(&format!(
            "300 targets, {} synapses in {} edge rows",
            grouped(synapses),
            grouped(rows)
        )),
        "{svg_text}"
    );
    // The row plots say they count edge rows.
    let rows_svg =
        std::fs::read_to_string(report.join("All__All__chemical/synapses_per_target.svg")).unwrap();
    assert!(rows_svg.contains("edge rows per target"), "{rows_svg}");
    assert!(rows_svg.contains(&format!("{} edge rows", grouped(rows))));
    let conn_svg =
        std::fs::read_to_string(report.join("All__All__chemical/synapses_per_connection.svg"))
            .unwrap();
    assert!(conn_svg.contains("edge rows per connection"), "{conn_svg}");

    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for want in [
        format!("<th>edge rows</th><td class=\"n\" data-key=\"edges\" data-value=\"{rows}\">"),
        format!(
            "<th>synapses (sum of nsyns)</th><td class=\"n\" data-key=\"synapses\" data-value=\"{synapses}\">{}</td>",
            grouped(synapses)
        ),
        "<th>edge rows per target</th>".to_string(),
        "<th>synapses (nsyns) per target</th>".to_string(),
        "<th>edge rows per connection</th>".to_string(),
        "data-key=\"synapses_from\" data-value=\"nsyns\"".to_string(),
        "count edge rows".to_string(),
        format!(
            "data-key=\"nsyns_per_target.max\" data-value=\"{}\"",
            all[299]
        ),
        format!("src=\"{svg}\""),
        format!("href=\"{png}\""),
    ] {
        assert!(html.contains(&want), "page without {want}");
    }
}

#[test]
fn without_nsyns_nothing_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, tables, report) = (
        dir.path().join("bbp.h5"),
        dir.path().join("census.h5"),
        dir.path().join("rep"),
    );
    ok(&["generate", p(&edges), "--nodes", "50", "--edges", "2000"]);
    let (_, err) = ok(&["count", p(&edges), "-o", p(&tables)]);
    assert!(!err.contains("nsyns"), "{err}");
    let (text, _) = ok(&["info", p(&edges)]);
    assert!(!text.contains("synapses:"), "{text}");
    let (j, _) = ok(&["info", p(&edges), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(j["populations"][0]["nsyns"], serde_json::Value::Null);
    ok(&["report", p(&tables), "-o", p(&report)]);
    let s = json(&report.join("summary.json"));
    let pop = &s["populations"][0];
    assert_eq!(pop["synapses"], 2000);
    assert_eq!(pop["edges"], 2000);
    assert_eq!(pop["synapses_from"], "edge rows");
    assert_eq!(pop["nsyns_per_target"], serde_json::Value::Null);
    assert_eq!(pop["plots"]["nsyns_per_target"], serde_json::Value::Null);
    assert!(
        !report
            .join("All__All__chemical/nsyns_per_target.png")
            .exists()
    );
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.contains("nsyns") && !html.contains("edge row"));
    assert!(html.contains("<th>synapses (edges)</th>"));
}

#[test]
fn allen_lgn_v1_sample_reports_171600_synapses_in_17160_rows() {
    let Some(samples) = samples_dir() else {
        return;
    };
    let net = samples.join("AllenInstitute/sonata/examples/300_intfire/network");
    let dir = tempfile::tempdir().unwrap();
    for (file, population, rows, synapses) in [
        ("lgn_v1_edges.h5", "lgn_to_v1", 17_160u64, 171_600u64),
        ("v1_v1_edges.h5", "v1_to_v1", 61_560, 615_600),
    ] {
        let edges = net.join(file);
        // The raw columns agree with the numbers h5py gives (every nsyns is 10).
        let (raw_rows, per_target) = raw_nsyns(&edges, population);
        assert_eq!(
            (raw_rows, per_target.values().sum::<u64>()),
            (rows, synapses)
        );

        let tables = dir.path().join(format!("{population}.h5"));
        let (_, err) = ok(&["count", p(&edges), "-o", p(&tables)]);
        assert!(
            err.contains(&format!(
                "{population}: {rows} edges, {rows} connections, 300 targets"
            )) && err.contains(&format!(
                "bmtk nsyns: {synapses} synapses (the tables count the {rows} edge rows)"
            )),
            "{err}"
        );
        let (text, _) = ok(&["info", p(&edges)]);
        assert!(
            text.contains(&format!(
                "  synapses:     {synapses} (sum of bmtk nsyns in 0/nsyns;"
            )),
            "{text}"
        );
        let report = dir.path().join(format!("rep-{population}"));
        let (_, err) = ok(&["report", p(&tables), "-o", p(&report)]);
        assert!(
            err.contains(&format!(
                "bmtk nsyns: {synapses} synapses (the tables count the {rows} edge rows)"
            )),
            "report's line: {err}"
        );
        let s = json(&report.join("summary.json"));
        let pop = &s["populations"][0];
        assert_eq!(pop["edges"], rows);
        assert_eq!(pop["synapses"], synapses);
        assert_eq!(
            pop["synapses_per_connection"]["mean"], 1.0,
            "rows per connection"
        );
        assert_eq!(
            pop["nsyns_per_target"]["mean"].as_f64().unwrap(),
            synapses as f64 / 300.0
        );
        assert!(
            report
                .join(format!("{population}/nsyns_per_target.png"))
                .is_file()
        );
    }
}

#[test]
fn nsyns_tables_that_disagree_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("census.h5");
    let write = |nsyns: Vec<u64>| {
        locked(|| {
            let mut c = naive_census(&[1, 2, 2], &[0, 0, 2], Some(3));
            c.population = "p".into();
            c.target_nsyns_total = Some(nsyns);
            let mut w = CensusWriter::create(&tables, true).unwrap();
            w.write(&c).unwrap();
            w.finish().unwrap();
        })
    };
    let out = dir.path().join("rep");
    let report = || locked(|| write_report(&tables, &out, &ReportOptions::default()));
    write(vec![5, 0, 7]);
    let s = report().unwrap();
    assert_eq!(s.populations[0].synapses, 12);
    std::fs::remove_dir_all(&out).unwrap();
    for (nsyns, want) in [
        (vec![5, 0], "2 entries, but n_targets is 3"),
        (
            vec![5, 1, 7],
            "target 1: nsyns sum to 1, but target_synapse_count gives it no edge row",
        ),
    ] {
        write(nsyns);
        let e = report().unwrap_err();
        assert!(matches!(e, Error::InvalidData { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("target_nsyns_total") && msg.contains(want),
            "{msg}"
        );
        assert!(!out.exists());
    }
}
