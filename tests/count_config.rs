//! `count CIRCUIT_CONFIG.json`: every edge population of a circuit, each counted with its
//! target node population's size from the node files (equal to `count FILE --nodes-count`),
//! simulation configs followed, and every refusal one line, exit 2, no output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use sonata_census::census::reader::read_census;

use common::{Ids, bin, locked, path_str, samples_dir, write_edges};

fn run(args: &[&str]) -> Output {
    locked(|| bin().args(args).output().unwrap())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The one line of a failed run: exit 2, no stdout, one line on stderr.
fn failure(o: &Output, what: &str) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(o.stdout.is_empty(), "{what}: {}", text(&o.stdout));
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("sonata-census: "), "{what}: {err}");
    err
}

/// `/nodes/<pop>/node_type_id` of `n` rows and an empty group `0`.
fn write_nodes(path: &Path, pop: &str, n: usize) {
    locked(|| {
        let f = if path.exists() {
            hdf5::File::open_rw(path).unwrap()
        } else {
            hdf5::File::create(path).unwrap()
        };
        let g = f.create_group(&format!("nodes/{pop}")).unwrap();
        g.new_dataset_builder()
            .with_data(&vec![-1i64; n])
            .create("node_type_id")
            .unwrap();
        g.create_group("0").unwrap();
    });
}

/// Size of the target node population `tgt` of the fixture circuit (larger than any target id
/// + 1, so that the edge file alone counts fewer targets).
const TARGETS: u64 = 40;

/// A circuit in `dir`: node populations `src` (25) and `tgt` ([`TARGETS`]) in two node files,
/// edge populations `pa` (a.h5) and `pb`, `pc` (b.h5), all `src` -> `tgt`.
fn circuit(dir: &Path) -> PathBuf {
    write_nodes(&dir.join("src_nodes.h5"), "src", 25);
    write_nodes(&dir.join("tgt_nodes.h5"), "tgt", TARGETS as usize);
    let mut rng = 7u64;
    let mut next = |n: u64| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    for (file, pop, edges) in [("a.h5", "pa", 200), ("b.h5", "pb", 150), ("b.h5", "pc", 1)] {
        let sources: Vec<u64> = (0..edges).map(|_| next(25)).collect();
        let targets: Vec<u64> = (0..edges).map(|_| next(30)).collect();
        locked(|| write_edges(&dir.join(file), pop, &sources, &targets, Ids::U64));
    }
    let config = dir.join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"manifest": {"$BASE_DIR": "./"},
            "networks": {
              "nodes": [{"nodes_file": "$BASE_DIR/src_nodes.h5", "populations": {"src": {}}},
                        {"nodes_file": "$BASE_DIR/tgt_nodes.h5"}],
              "edges": [{"edges_file": "$BASE_DIR/b.h5"},
                        {"edges_file": "$BASE_DIR/a.h5", "populations": {"pa": {}}}]}}"#,
    )
    .unwrap();
    config
}

fn names(path: &Path) -> Vec<String> {
    let f = hdf5::File::open(path).unwrap();
    f.member_names().unwrap()
}

#[test]
fn a_circuit_counts_as_its_edge_files_with_the_node_population_size() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let config = circuit(dir);
    let out = dir.join("circuit.h5");
    let o = run(&[
        "count",
        path_str(&config),
        "-o",
        path_str(&out),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut got = names(&out);
    got.sort();
    assert_eq!(got, ["pa", "pb", "pc"]);
    for (file, pop) in [("a.h5", "pa"), ("b.h5", "pb"), ("b.h5", "pc")] {
        let edge_file = dir.join(file);
        let want_path = dir.join(format!("{pop}.h5"));
        let o = run(&[
            "count",
            path_str(&edge_file),
            "-p",
            pop,
            "--nodes-count",
            &TARGETS.to_string(),
            "-o",
            path_str(&want_path),
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let c = locked(|| read_census(&out, pop).unwrap());
        let want = locked(|| read_census(&want_path, pop).unwrap());
        assert_eq!(c.n_targets, TARGETS, "{pop}");
        common::assert_same_tables(&c, &want, pop);
        assert_eq!(c.target_population.as_deref(), Some("tgt"));
        // The edge file alone has no target index: fewer targets.
        let plain = dir.join(format!("{pop}_plain.h5"));
        let o = run(&[
            "count",
            path_str(&edge_file),
            "-p",
            pop,
            "-o",
            path_str(&plain),
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let p = locked(|| read_census(&plain, pop).unwrap());
        assert!(p.n_targets < TARGETS, "{pop}: {}", p.n_targets);
    }
    // -p picks populations, in the order asked.
    let some = dir.join("some.h5");
    let o = run(&[
        "count",
        path_str(&config),
        "-p",
        "pc",
        "-p",
        "pa",
        "-o",
        path_str(&some),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut got = names(&some);
    got.sort();
    assert_eq!(got, ["pa", "pc"]);
    // A simulation config is followed to its network.
    std::fs::write(
        dir.join("simulation_config.json"),
        r#"{"network": "circuit_config.json", "run": {"tstop": 1, "dt": 0.025}}"#,
    )
    .unwrap();
    let sim_out = dir.join("sim.h5");
    let o = run(&[
        "count",
        path_str(&dir.join("simulation_config.json")),
        "-o",
        path_str(&sim_out),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for pop in ["pa", "pb", "pc"] {
        let a = locked(|| read_census(&out, pop).unwrap());
        let b = locked(|| read_census(&sim_out, pop).unwrap());
        common::assert_same_tables(&a, &b, pop);
    }
}

/// Runs `count` on `config` with `extra`; checks the one-line failure and that no output was
/// written; returns the line.
fn refused(dir: &Path, config: &Path, extra: &[&str], what: &str) -> String {
    let out = dir.join("refused.h5");
    let mut args = vec!["count", path_str(config), "-o", path_str(&out)];
    args.extend_from_slice(extra);
    let err = failure(&run(&args), what);
    assert!(!out.exists(), "{what}: output written");
    err
}

fn write_config(dir: &Path, name: &str, json: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, json).unwrap();
    p
}

#[test]
fn refusals_are_one_line_exit_2_and_no_output() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let config = circuit(dir);

    let err = refused(dir, &config, &["--nodes-count", "40"], "--nodes-count");
    assert!(
        err.contains("--nodes-count") && err.contains("circuit config"),
        "{err}"
    );

    let err = refused(dir, &config, &["-p", "nope"], "unknown -p");
    assert!(
        err.contains("nope") && err.contains("circuit_config.json"),
        "{err}"
    );

    let missing_edges = write_config(
        dir,
        "missing_edges.json",
        r#"{"networks": {"nodes": [{"nodes_file": "tgt_nodes.h5"}],
            "edges": [{"edges_file": "a.h5"}, {"edges_file": "gone.h5"}]}}"#,
    );
    let err = refused(dir, &missing_edges, &[], "missing edge file");
    assert!(
        err.contains("gone.h5") && err.contains("missing_edges.json"),
        "{err}"
    );

    let missing_nodes = write_config(
        dir,
        "missing_nodes.json",
        r#"{"networks": {"nodes": [{"nodes_file": "lost_nodes.h5", "populations": {"tgt": {}}}],
            "edges": [{"edges_file": "a.h5"}]}}"#,
    );
    let err = refused(dir, &missing_nodes, &[], "missing node file");
    assert!(
        err.contains("lost_nodes.h5") && err.contains("missing_nodes.json"),
        "{err}"
    );

    let no_target = write_config(
        dir,
        "no_target.json",
        r#"{"networks": {"nodes": [{"nodes_file": "src_nodes.h5"}],
            "edges": [{"edges_file": "a.h5"}]}}"#,
    );
    let err = refused(dir, &no_target, &[], "no target node population");
    assert!(
        err.contains("'tgt'") && err.contains("no_target.json"),
        "{err}"
    );

    // pa of a.h5 twice: a copy under another name.
    std::fs::copy(dir.join("a.h5"), dir.join("a_copy.h5")).unwrap();
    let twice = write_config(
        dir,
        "twice.json",
        r#"{"networks": {"nodes": [{"nodes_file": "tgt_nodes.h5"}],
            "edges": [{"edges_file": "a.h5"}, {"edges_file": "a_copy.h5"}]}}"#,
    );
    let err = refused(dir, &twice, &[], "same name twice");
    assert!(
        err.contains("'pa'") && err.contains("a.h5") && err.contains("a_copy.h5"),
        "{err}"
    );

    // Target ids beyond a too-small target node population.
    write_nodes(&dir.join("small_nodes.h5"), "tgt", 3);
    let small = write_config(
        dir,
        "small.json",
        r#"{"networks": {"nodes": [{"nodes_file": "small_nodes.h5"}],
            "edges": [{"edges_file": "a.h5"}]}}"#,
    );
    let err = refused(dir, &small, &["--backend", "cpu"], "target beyond");
    assert!(err.contains("target node population"), "{err}");

    // A broken population (no target_node_id) stops the run.
    locked(|| {
        let f = hdf5::File::create(dir.join("broken.h5")).unwrap();
        let g = f.create_group("edges/bad").unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("source_node_id")
            .unwrap();
    });
    let broken = write_config(
        dir,
        "broken.json",
        r#"{"networks": {"nodes": [{"nodes_file": "tgt_nodes.h5"}],
            "edges": [{"edges_file": "a.h5"}, {"edges_file": "broken.h5"}]}}"#,
    );
    let err = refused(dir, &broken, &[], "broken population");
    assert!(err.contains("broken.h5"), "{err}");
}

#[test]
fn a_plain_edge_file_is_unchanged_by_a_json_neighbour() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    circuit(dir);
    // An edge file is still an edge file, --nodes-count still applies.
    let out = dir.join("plain.h5");
    let o = run(&[
        "count",
        path_str(&dir.join("b.h5")),
        "--nodes-count",
        "35",
        "-o",
        path_str(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let c = locked(|| read_census(&out, "pb").unwrap());
    assert_eq!(c.n_targets, 35);
}

/// Every sample circuit config either counts or fails with one line saying why.
#[test]
fn sample_circuit_configs_count_or_say_why() {
    let Some(samples) = samples_dir() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let cases: [(&str, Result<&[&str], &str>); 5] = [
        (
            "BlueBrain/snap/tests/data/circuit_config.json",
            Ok(&["default", "default2"]),
        ),
        (
            "openbraininstitute/libsonata/tests/data/config/circuit_config.json",
            Err("'node_type_id': is missing"),
        ),
        (
            "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/circuit_config.json",
            Err("edges_B.h5: No such file"),
        ),
        (
            "openbraininstitute/neurodamus/tests/simulations/ringtest/circuit_config.json",
            Err("local_edges_B.h5: No such file"),
        ),
        (
            "AllenInstitute/sonata/examples/300_intfire/circuit_config.json",
            Err("tw_v1_edges.h5: No such file"),
        ),
    ];
    for (config, want) in cases {
        let path = samples.join(config);
        let out = work.path().join("sample.h5");
        let o = run(&["count", path_str(&path), "-o", path_str(&out), "--force"]);
        match want {
            Ok(pops) => {
                assert!(o.status.success(), "{config}: {}", text(&o.stderr));
                let mut got = names(&out);
                got.sort();
                assert_eq!(got, pops, "{config}");
            }
            Err(needle) => {
                let err = failure(&o, config);
                assert!(err.contains(needle), "{config}: {err}");
                assert!(!out.exists(), "{config}: output written");
            }
        }
        let _ = std::fs::remove_file(&out);
    }
}

/// `dry-run` of a simulation config counts the afferent synapses of its `node_set`'s cells
/// only; the sets are the circuit's node sets with the simulation's laid over them.
#[test]
fn dry_run_applies_the_simulations_node_set() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    circuit(dir);
    let with_sets = std::fs::read_to_string(dir.join("circuit_config.json"))
        .unwrap()
        .replacen('{', r#"{"node_sets_file": "circuit_sets.json", "#, 1);
    std::fs::write(dir.join("circuit_with_sets.json"), with_sets).unwrap();
    std::fs::write(
        dir.join("circuit_sets.json"),
        r#"{"A": {"node_id": [0, 1, 2]}, "B": {"population": "tgt", "node_id": [5, 7]}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("sim_sets.json"), r#"{"A": {"node_id": [3]}}"#).unwrap();
    // The whole circuit's tables, to sum the chosen cells' counts from.
    let out = dir.join("all.h5");
    let o = run(&[
        "count",
        path_str(&dir.join("circuit_with_sets.json")),
        "-o",
        path_str(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for (set, cells) in [("A", vec![3usize]), ("B", vec![5, 7])] {
        let sim = dir.join(format!("sim_{set}.json"));
        std::fs::write(
            &sim,
            format!(
                r#"{{"network": "circuit_with_sets.json", "node_set": "{set}",
                    "node_sets_file": "sim_sets.json", "run": {{"tstop": 1, "dt": 0.025}}}}"#
            ),
        )
        .unwrap();
        let o = run(&[
            "dry-run",
            path_str(&sim),
            "--json",
            "-q",
            "--backend",
            "cpu",
        ]);
        assert!(o.status.success(), "{set}: {}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut total = 0;
        for p in v["populations"].as_array().unwrap() {
            let name = p["edge_population"].as_str().unwrap();
            let c = locked(|| read_census(&out, name).unwrap());
            let want: u64 = cells.iter().map(|&g| c.target_synapse_count[g]).sum();
            let conns: u64 = cells.iter().map(|&g| c.target_connection_count[g]).sum();
            assert_eq!(p["target_cells"], cells.len(), "{set} {name}");
            assert_eq!(p["synapses"], want, "{set} {name}");
            assert_eq!(p["connections"], conns, "{set} {name}");
            total += want;
        }
        assert_eq!(v["total_synapses"], total, "{set}");
        assert!(
            v["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains(&format!("node_set '{set}'"))),
            "{v}"
        );
    }
}
