//! Node sets (`sonata::node_sets`, `nodes select`): every grammar case and every error of
//! `shared/spec/node-sets.md` on small node files written here; the differential test against
//! libsonata is `python/tests/test_node_sets.py`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod cell_fixtures;
mod common;

use std::path::Path;

use sonata_census::Error;
use sonata_census::sonata::node_sets::{NodeSets, Selected};
use sonata_census::sonata::nodes::{NodeFile, NodePopulation};

use cell_fixtures::{create, node_population, run, tmp};
use common::locked;

/// Population `A` (6 nodes: `@library` mtype, string synapse_class, int layer, float y) and `B`
/// (4 nodes: synapse_class and layer only).
fn write_nodes(path: &Path) {
    locked(|| {
        let f = create(path);
        node_population(&f, "A", 6)
            .library(
                "mtype",
                &[0, 1, 2, 0, 3, 4],
                &["L2_TPC:A", "L3_TPC:A", "L5_TPC:A", "BTC", "L5_TPC:B"],
            )
            .strings("synapse_class", &["EXC", "EXC", "EXC", "EXC", "INH", "EXC"])
            .i64s("layer", &[2, 3, 5, 2, 1, 5])
            .f32s("y", &[100.0, 200.0, 300.0, 400.0, 500.5, 600.0]);
        node_population(&f, "B", 4)
            .strings("synapse_class", &["INH", "EXC", "EXC", "INH"])
            .i64s("layer", &[1, 2, 3, 4]);
    });
}

struct Fixture {
    _dir: tempfile::TempDir,
    nodes: std::path::PathBuf,
    a: NodePopulation,
    b: NodePopulation,
}

fn fixture() -> Fixture {
    let dir = tmp();
    let nodes = dir.path().join("nodes.h5");
    write_nodes(&nodes);
    let (a, b) = locked(|| {
        let f = NodeFile::open(&nodes).unwrap();
        (f.population("A").unwrap(), f.population("B").unwrap())
    });
    Fixture {
        _dir: dir,
        nodes,
        a,
        b,
    }
}

/// `{"s": <set>}` evaluated on `pop`.
fn sel(set: &str, pop: &NodePopulation) -> Result<Vec<u64>, Error> {
    let sets = NodeSets::from_str(&format!("{{\"s\": {set}}}"))?;
    locked(|| sets.select("s", pop))
}

fn ids(set: &str, pop: &NodePopulation) -> Vec<u64> {
    sel(set, pop).unwrap_or_else(|e| panic!("{set}: {e}"))
}

fn parse_err(text: &str) -> String {
    match NodeSets::from_str(text) {
        Ok(_) => panic!("{text}: parsed"),
        Err(e) => e.to_string(),
    }
}

fn eval_err(set: &str, pop: &NodePopulation) -> String {
    match sel(set, pop) {
        Ok(ids) => panic!("{set}: gave {ids:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn equality_on_strings_library_and_integers() {
    let f = fixture();
    assert_eq!(ids(r#"{"synapse_class": "EXC"}"#, &f.a), [0, 1, 2, 3, 5]);
    assert_eq!(ids(r#"{"synapse_class": "EXC"}"#, &f.b), [1, 2]);
    assert_eq!(ids(r#"{"mtype": "L2_TPC:A"}"#, &f.a), [0, 3]);
    assert_eq!(
        ids(r#"{"mtype": ["L2_TPC:A", "L3_TPC:A"]}"#, &f.a),
        [0, 1, 3]
    );
    assert_eq!(ids(r#"{"mtype": "nope"}"#, &f.a), Vec::<u64>::new());
    assert_eq!(ids(r#"{"layer": 5}"#, &f.a), [2, 5]);
    assert_eq!(ids(r#"{"layer": [2, 3]}"#, &f.a), [0, 1, 3]);
    assert_eq!(ids(r#"{"layer": -1}"#, &f.a), Vec::<u64>::new());
    // An integral float is an integer (libsonata reads numbers as doubles).
    assert_eq!(ids(r#"{"layer": 5.0}"#, &f.a), [2, 5]);
    assert_eq!(ids(r#"{"layer": [2e0]}"#, &f.a), [0, 3]);
    // Both conditions.
    assert_eq!(ids(r#"{"layer": 5, "mtype": "L5_TPC:B"}"#, &f.a), [5]);
    // Empty lists match nothing, whatever the attribute (even a missing one).
    assert_eq!(ids(r#"{"layer": []}"#, &f.a), Vec::<u64>::new());
    assert_eq!(ids(r#"{"nope": []}"#, &f.a), Vec::<u64>::new());
    assert_eq!(ids(r#"{"node_id": []}"#, &f.a), Vec::<u64>::new());
}

#[test]
fn population_and_node_id_clauses() {
    let f = fixture();
    assert_eq!(ids(r#"{"population": "A"}"#, &f.a), [0, 1, 2, 3, 4, 5]);
    assert_eq!(ids(r#"{"population": "A"}"#, &f.b), Vec::<u64>::new());
    assert_eq!(ids(r#"{"population": ["B", "A"]}"#, &f.b), [0, 1, 2, 3]);
    assert_eq!(
        ids(r#"{"population": "A", "node_id": [3, 99999999]}"#, &f.a),
        [3]
    );
    assert_eq!(
        ids(r#"{"population": "A", "node_id": [3, 99999999]}"#, &f.b),
        Vec::<u64>::new()
    );
    assert_eq!(ids(r#"{"node_id": [5, 0, 5, 1.0]}"#, &f.a), [0, 1, 5]);
    assert_eq!(ids(r#"{"node_id": 4}"#, &f.b), Vec::<u64>::new());
}

#[test]
fn comparisons_and_regex() {
    let f = fixture();
    assert_eq!(ids(r#"{"y": {"$lt": 500.5}}"#, &f.a), [0, 1, 2, 3]);
    assert_eq!(ids(r#"{"y": {"$lte": 500.5}}"#, &f.a), [0, 1, 2, 3, 4]);
    assert_eq!(ids(r#"{"y": {"$gt": 500.5}}"#, &f.a), [5]);
    assert_eq!(ids(r#"{"layer": {"$gte": 3}}"#, &f.a), [1, 2, 5]);
    // @library attributes compare their codes, as libsonata does.
    assert_eq!(ids(r#"{"mtype": {"$gt": 2}}"#, &f.a), [4, 5]);
    assert_eq!(ids(r#"{"mtype": {"$regex": "^L[56]_TPC"}}"#, &f.a), [2, 5]);
    // Unanchored.
    assert_eq!(
        ids(r#"{"mtype": {"$regex": "TPC"}}"#, &f.a),
        [0, 1, 2, 3, 5]
    );
    assert_eq!(ids(r#"{"synapse_class": {"$regex": "N"}}"#, &f.b), [0, 3]);
    assert_eq!(
        ids(r#"{"synapse_class": {"$regex": "^EXC$"}}"#, &f.b),
        [1, 2]
    );
}

#[test]
fn compounds_are_unions_resolved_by_name() {
    let f = fixture();
    let sets = NodeSets::from_str(
        r#"{"Exc": {"synapse_class": "EXC"}, "thal": {"population": ["B"]},
            "mix": ["Exc", "thal"], "none": [], "again": ["mix", "mix", "none"]}"#,
    )
    .unwrap();
    locked(|| {
        assert_eq!(sets.select("mix", &f.b).unwrap(), [0, 1, 2, 3]);
        assert_eq!(sets.select("mix", &f.a).unwrap(), [0, 1, 2, 3, 5]);
        assert_eq!(sets.select("none", &f.a).unwrap(), Vec::<u64>::new());
        assert_eq!(sets.select("again", &f.a).unwrap(), [0, 1, 2, 3, 5]);
    });
    assert_eq!(sets.names().len(), 5);
}

#[test]
fn merging_replaces_same_named_entries_and_compounds_see_them() {
    let f = fixture();
    let circuit =
        NodeSets::from_str(r#"{"L": {"layer": 2}, "keep": {"layer": 3}, "both": ["L", "keep"]}"#)
            .unwrap();
    let simulation = NodeSets::from_str(r#"{"L": {"layer": 5}, "new": ["L"]}"#).unwrap();
    let merged = circuit.merged_with(&simulation).unwrap();
    locked(|| {
        assert_eq!(merged.select("L", &f.a).unwrap(), [2, 5]);
        assert_eq!(merged.select("both", &f.a).unwrap(), [1, 2, 5]);
        assert_eq!(merged.select("new", &f.a).unwrap(), [2, 5]);
        assert_eq!(circuit.select("both", &f.a).unwrap(), [0, 1, 3]);
    });
    // Each file is checked alone (as libsonata does): a member must be in its own file.
    let e = NodeSets::from_str(r#"{"x": ["L"]}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'L' is not a node set"), "{e}");
    // A replacement that makes compounds nest too deep is refused.
    let chain = |prefix: &str, bottom: &str| {
        let mut parts = Vec::new();
        let mut prev = bottom.to_string();
        for i in 0..6 {
            parts.push(format!("\"{prefix}{i}\": [\"{prev}\"]"));
            prev = format!("{prefix}{i}");
        }
        parts
    };
    let mut upper = chain("u", "b");
    upper.push("\"b\": {\"layer\": 2}".into());
    let mut lower = chain("l", "c");
    lower.push("\"b\": [\"l5\"]".into());
    lower.push("\"c\": {\"layer\": 3}".into());
    let upper = NodeSets::from_str(&format!("{{{}}}", upper.join(","))).unwrap();
    let lower = NodeSets::from_str(&format!("{{{}}}", lower.join(","))).unwrap();
    let e = upper.merged_with(&lower).unwrap_err().to_string();
    assert!(e.contains("more than the 10 allowed"), "{e}");
}

#[test]
fn from_file_names_the_file_in_errors() {
    let dir = tmp();
    let path = dir.path().join("node_sets.json");
    std::fs::write(&path, r#"{"s": {"layer": 2.5}}"#).unwrap();
    let e = NodeSets::from_file(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(e.contains("node set 's'") && e.contains("expected integer, got float 2.5"));
    let e = NodeSets::from_file(dir.path().join("absent.json")).unwrap_err();
    assert!(matches!(e, Error::InputFile { .. }), "{e}");
    std::fs::write(&path, r#"{"s": {"layer": 2}}"#).unwrap();
    assert!(NodeSets::from_file(&path).unwrap().get("s").is_some());
}

#[test]
fn grammar_errors_are_refused_when_parsed() {
    for (text, want) in [
        ("[]", "top level"),
        ("\"x\"", "top level"),
        ("{\"s\": 1}", "must be an object"),
        ("{\"s\": \"x\"}", "must be an object"),
        ("{\"s\": null}", "must be an object"),
        ("{\"s\": [1]}", "compound members must be names"),
        ("{\"s\": [\"t\"]}", "'t' is not a node set"),
        ("{\"e\": {}, \"s\": [\"e\"]}", "'e' is not a node set"),
        ("{\"s\": [\"s\"]}", "reaches itself"),
        ("{\"s\": [\"t\"], \"t\": [\"s\"]}", "reaches itself"),
        (
            "{\"s\": {\"layer\": 2.5}}",
            "expected integer, got float 2.5",
        ),
        (
            "{\"s\": {\"layer\": [2, 2.5]}}",
            "expected integer, got float",
        ),
        ("{\"s\": {\"layer\": [2, \"x\"]}}", "expected integer"),
        ("{\"s\": {\"mtype\": [\"x\", 2]}}", "expected string"),
        ("{\"s\": {\"layer\": true}}", "true is not a value"),
        ("{\"s\": {\"layer\": null}}", "null is not a value"),
        ("{\"s\": {\"layer\": [true]}}", "integers or strings"),
        ("{\"s\": {\"layer\": [null]}}", "integers or strings"),
        ("{\"s\": {\"layer\": [[2]]}}", "integers or strings"),
        ("{\"s\": {\"layer\": 18446744073709551615}}", "int64 range"),
        (
            "{\"s\": {\"population\": 1}}",
            "'population' must be a string",
        ),
        (
            "{\"s\": {\"population\": [1]}}",
            "'population' must be a string",
        ),
        ("{\"s\": {\"node_id\": \"1\"}}", "'node_id' must be an id"),
        ("{\"s\": {\"node_id\": -1}}", "expected unsigned integer"),
        ("{\"s\": {\"node_id\": [-1]}}", "negative"),
        ("{\"s\": {\"node_id\": 1.5}}", "expected integer, got float"),
        (
            "{\"s\": {\"y\": {\"$gt\": 1, \"$lt\": 5}}}",
            "exactly one key",
        ),
        ("{\"s\": {\"y\": {}}}", "exactly one key"),
        (
            "{\"s\": {\"y\": {\"$and\": 1}}}",
            "unknown numeric operator '$and'",
        ),
        (
            "{\"s\": {\"y\": {\"$or\": \"a\"}}}",
            "unknown string operator '$or'",
        ),
        (
            "{\"s\": {\"y\": {\"$node_set\": \"a\"}}}",
            "unknown string operator",
        ),
        (
            "{\"s\": {\"y\": {\"$gt\": \"3\"}}}",
            "unknown string operator '$gt'",
        ),
        ("{\"s\": {\"y\": {\"$gt\": true}}}", "unknown operator"),
        (
            "{\"s\": {\"y\": {\"$regex\": 2}}}",
            "unknown numeric operator '$regex'",
        ),
        ("{\"s\": {\"layer\": 2}} x", "not valid JSON"),
        ("", "not valid JSON"),
    ] {
        let e = parse_err(text);
        assert!(e.contains(want), "{text}: {e}");
        assert!(!e.contains('\n'), "{text}: {e}");
    }
}

#[test]
fn compound_nesting_is_limited_to_ten() {
    // A chain of n compounds above one basic set.
    let chain = |n: usize| {
        let mut text = String::from("{\"b\": {\"layer\": 2}");
        let mut prev = "b".to_string();
        for i in 0..n {
            text.push_str(&format!(", \"c{i}\": [\"{prev}\"]"));
            prev = format!("c{i}");
        }
        text.push('}');
        (text, prev)
    };
    let f = fixture();
    let (text, top) = chain(11);
    let sets = NodeSets::from_str(&text).unwrap();
    assert_eq!(locked(|| sets.select(&top, &f.a)).unwrap(), [0, 3]);
    let (text, _) = chain(12);
    let e = parse_err(&text);
    assert!(e.contains("more than the 10 allowed"), "{e}");
}

#[test]
fn evaluation_errors_name_population_and_set() {
    let f = fixture();
    for (set, want) in [
        (r#"{"layer": "2"}"#, "needs a string or @library"),
        (
            r#"{"synapse_class": 2}"#,
            "a string attribute: match it with strings",
        ),
        (r#"{"mtype": 2}"#, "an @library enumeration"),
        (r#"{"y": 100}"#, "exact comparison of floats"),
        (r#"{"y": [100]}"#, "exact comparison of floats"),
        (
            r#"{"layer": {"$regex": "2"}}"#,
            "needs a string or @library",
        ),
        (r#"{"synapse_class": {"$gt": 2}}"#, "need a numeric one"),
        (r#"{"mtype": {"$regex": "("}}"#, "invalid $regex"),
        (r#"{"mtype": {"$regex": "a(?=b)"}}"#, "invalid $regex"),
        (r#"{"nope": 1}"#, "no attribute 'nope'"),
        (r#"{"population": "B", "nope": 1}"#, "no attribute 'nope'"),
        (r#"{"node_id": {"$gt": 1}}"#, "no attribute 'node_id'"),
    ] {
        let e = eval_err(set, &f.a);
        assert!(e.contains(want), "{set}: {e}");
        assert!(
            e.contains("population 'A'") && e.contains("node set 's'"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
    let sets = NodeSets::from_str(r#"{"s": {"layer": 2}}"#).unwrap();
    let e = locked(|| sets.select("t", &f.a)).unwrap_err().to_string();
    assert!(
        e.contains("no node set 't'") && e.contains("there are: s"),
        "{e}"
    );
}

#[test]
fn select_all_skips_populations_without_the_attribute() {
    let f = fixture();
    let sets =
        NodeSets::from_str(r#"{"pc": {"mtype": {"$regex": "PC"}}, "L": {"layer": 2}}"#).unwrap();
    let pops = [f.a.clone(), f.b.clone()];
    let got = locked(|| sets.select_all("pc", &pops)).unwrap();
    assert_eq!(
        got[0],
        ("A".to_string(), Selected::Ids(vec![0, 1, 2, 3, 5]))
    );
    match &got[1] {
        (name, Selected::Skipped(w)) => {
            assert_eq!(name, "B");
            assert!(
                w.contains("population 'B'") && w.contains("no attribute 'mtype'"),
                "{w}"
            );
        }
        other => panic!("{other:?}"),
    }
    let got = locked(|| sets.select_all("L", &pops)).unwrap();
    assert_eq!(got[1], ("B".to_string(), Selected::Ids(vec![1])));
    // Other errors fail the whole call.
    let bad = NodeSets::from_str(r#"{"s": {"layer": "x"}}"#).unwrap();
    assert!(locked(|| bad.select_all("s", &pops)).is_err());
    let _ = &f.nodes;
}

// ---------------------------------------------------------------------------------------------
// The command line

fn json_of(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{out}: {e}"))
}

#[test]
fn cli_select_on_a_node_file_and_a_config() {
    let f = fixture();
    let dir = f.nodes.parent().unwrap();
    let sets = dir.join("sets.json");
    std::fs::write(
        &sets,
        r#"{"Exc": {"synapse_class": "EXC"}, "pc": {"mtype": {"$regex": "PC"}},
            "none": {"node_id": []}}"#,
    )
    .unwrap();
    let nodes = f.nodes.to_str().unwrap();
    let sets_arg = sets.to_str().unwrap();
    let (code, out, err) = run(&["nodes", "select", nodes, "Exc", "--node-sets", sets_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json_of(&out),
        serde_json::json!({"A": [0, 1, 2, 3, 5], "B": [1, 2]})
    );
    assert_eq!(err, "");
    let (code, out, _) = run(&["nodes", "select", nodes, "none", "--node-sets", sets_arg]);
    assert_eq!(code, 0);
    assert_eq!(json_of(&out), serde_json::json!({"A": [], "B": []}));
    // A population without the attribute is left out, with a warning...
    let (code, out, err) = run(&["nodes", "select", nodes, "pc", "--node-sets", sets_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out), serde_json::json!({"A": [0, 1, 2, 3, 5]}));
    assert!(
        err.starts_with("warning: ") && err.contains("no attribute 'mtype'"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, quiet, err) = run(&[
        "-q",
        "nodes",
        "select",
        nodes,
        "pc",
        "--node-sets",
        sets_arg,
    ]);
    assert_eq!((code, quiet, err.as_str()), (0, out, ""));
    // ...and is an error when it was asked for.
    let (code, out, err) = run(&[
        "nodes",
        "select",
        nodes,
        "pc",
        "--node-sets",
        sets_arg,
        "-p",
        "B",
    ]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("sonata-census: ") && err.contains("no attribute 'mtype'"));
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, out, _) = run(&[
        "nodes",
        "select",
        nodes,
        "pc",
        "--node-sets",
        sets_arg,
        "-p",
        "A",
    ]);
    assert_eq!(code, 0);
    assert_eq!(json_of(&out), serde_json::json!({"A": [0, 1, 2, 3, 5]}));
    // A node file needs --node-sets.
    let (code, _, err) = run(&["nodes", "select", nodes, "Exc"]);
    assert_eq!(code, 2);
    assert!(err.contains("--node-sets"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // A config: its node_sets_file (relative), --node-sets laid over it.
    std::fs::create_dir(dir.join("sets")).unwrap();
    std::fs::write(
        dir.join("sets/circuit_sets.json"),
        r#"{"L": {"layer": 2}, "both": ["L", "Exc"], "Exc": {"synapse_class": "INH"}}"#,
    )
    .unwrap();
    let config = dir.join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"manifest": {"$BASE": "./sets"}, "node_sets_file": "$BASE/circuit_sets.json",
            "networks": {"nodes": [{"nodes_file": "nodes.h5"}]}}"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (code, out, err) = run(&["nodes", "select", config, "both"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json_of(&out),
        serde_json::json!({"A": [0, 3, 4], "B": [0, 1, 3]})
    );
    let (code, out, err) = run(&["nodes", "select", config, "both", "--node-sets", sets_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json_of(&out),
        serde_json::json!({"A": [0, 1, 2, 3, 5], "B": [1, 2]})
    );
}

#[test]
fn cli_errors_are_one_line_with_exit_code_2() {
    let f = fixture();
    let dir = f.nodes.parent().unwrap();
    let nodes = f.nodes.to_str().unwrap();
    let sets = dir.join("sets.json");
    for (text, name, want) in [
        (
            "{\"s\": {\"layer\": 2.5}}",
            "s",
            "expected integer, got float 2.5",
        ),
        ("{\"s\": [\"s\"]}", "s", "reaches itself"),
        ("{\"s\": {\"layer\": 2}}", "t", "no node set 't'"),
        (
            "{\"s\": {\"layer\": \"2\"}}",
            "s",
            "needs a string or @library",
        ),
        ("not json", "s", "not valid JSON"),
    ] {
        std::fs::write(&sets, text).unwrap();
        let (code, out, err) = run(&[
            "nodes",
            "select",
            nodes,
            name,
            "--node-sets",
            sets.to_str().unwrap(),
        ]);
        assert_eq!((code, out.as_str()), (2, ""), "{text}: {err}");
        assert!(
            err.starts_with("sonata-census: ") && err.contains(want),
            "{text}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A config without node_sets_file and no --node-sets.
    let config = dir.join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"networks": {"nodes": [{"nodes_file": "nodes.h5"}]}}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["nodes", "select", config.to_str().unwrap(), "s"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("node_sets_file") && err.contains("--node-sets"),
        "{err}"
    );
}

#[test]
fn cli_simulation_config_lays_its_node_sets_over_the_circuit_ones() {
    let f = fixture();
    let dir = f.nodes.parent().unwrap();
    std::fs::write(
        dir.join("circuit_sets.json"),
        r#"{"L": {"layer": 2}, "both": ["L", "Exc"], "Exc": {"synapse_class": "EXC"}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("circuit_config.json"),
        r#"{"node_sets_file": "circuit_sets.json",
            "networks": {"nodes": [{"nodes_file": "nodes.h5"}]}}"#,
    )
    .unwrap();
    std::fs::create_dir(dir.join("sim")).unwrap();
    std::fs::write(dir.join("sim/sim_sets.json"), r#"{"L": {"layer": 3}}"#).unwrap();
    let sim = dir.join("sim/simulation_config.json");
    std::fs::write(
        &sim,
        r#"{"manifest": {"$OUT": "."}, "network": "../circuit_config.json",
            "node_sets_file": "$OUT/sim_sets.json", "run": {"tstop": 1}}"#,
    )
    .unwrap();
    let sim = sim.to_str().unwrap();
    let (code, out, err) = run(&["nodes", "select", sim, "both", "-p", "B"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out), serde_json::json!({"B": [1, 2]}));
    let (code, out, err) = run(&["nodes", "select", sim, "L"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out), serde_json::json!({"A": [1], "B": [2]}));
    // A missing node_sets_file names the config.
    std::fs::remove_file(dir.join("sim/sim_sets.json")).unwrap();
    let (code, _, err) = run(&["nodes", "select", sim, "L"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sim_sets.json") && err.contains("named by"),
        "{err}"
    );
    let e = sonata_census::sonata::CircuitConfig::parse(
        r#"{"node_sets_file": 3, "networks": {"nodes": [{"nodes_file": "n.h5"}]}}"#,
        Path::new("c.json"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("'node_sets_file' must be"), "{e}");
}
