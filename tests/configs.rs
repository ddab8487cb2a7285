//! Circuit and simulation configs as a user passes them: relative paths from another working
//! folder, `manifest` variables resolved once against the config's folder, every sample config,
//! simulation configs followed to their `network`, configs that name nothing, population order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use sonata_census::Error;
use sonata_census::sonata::config::CircuitConfig;

use common::{Ids, bin, locked, samples_dir, write_edges};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    locked(|| bin().current_dir(dir).args(args).output().unwrap())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The one line of a failed run; checks it is one line, exit code 2 and no stdout.
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

// ---------------------------------------------------------------------------------------------
// Every sample config, by a relative path from another working folder

/// What a sample config gives: a node population every `nodes` subcommand can read, and the
/// files it names that the sample folder genuinely lacks (then `dry-run` stops at the first).
struct Sample {
    config: &'static str,
    population: &'static str,
    cells: usize,
    /// Which of `nodes metypes` and `nodes load` succeed (they need mtype/etype, morphology,
    /// ...); the others fail on a missing attribute, having found the file.
    readers: &'static [&'static str],
    missing: &'static [&'static str],
    /// `dry-run`: `Ok` counts every population; `Err(needle)` is the one-line error.
    dry_run: Result<(), &'static str>,
}

const ALLEN: &str = "AllenInstitute/sonata/examples/300_intfire";
const RING: &str = "openbraininstitute/neurodamus/tests/simulations/ringtest";
const RING_ALLEN: &str = "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1";

fn samples() -> Vec<Sample> {
    vec![
        Sample {
            config: "AllenInstitute/sonata/examples/300_intfire/circuit_config.json",
            population: "v1",
            cells: 300,
            // bmtk keeps these in v1_node_types.csv, which is not read.
            readers: &[],
            missing: &["network/tw_nodes.h5", "network/tw_v1_edges.h5"],
            dry_run: Err("300_intfire/network/tw_nodes.h5: No such file or directory"),
        },
        Sample {
            config: "BlueBrain/snap/tests/data/circuit_config.json",
            population: "default",
            cells: 3,
            readers: &["load"],
            missing: &[],
            dry_run: Ok(()),
        },
        Sample {
            config: "BlueBrain/sonata-extension/source/usecases/usecase3/circuit_sonata.json",
            population: "NodeA",
            cells: 3,
            readers: &["metypes", "load"],
            missing: &[],
            dry_run: Ok(()),
        },
        Sample {
            config: "openbraininstitute/libsonata/tests/data/config/circuit_config.json",
            population: "nodes-A",
            cells: 6,
            readers: &[],
            missing: &[],
            // libsonata's test data: nodes-B has no node_type_id, so no size.
            dry_run: Err(
                "libsonata/tests/data/nodes1.h5, population 'nodes-B', dataset 'node_type_id'",
            ),
        },
        Sample {
            config: "openbraininstitute/neurodamus/tests/simulations/ringtest/circuit_config.json",
            population: "RingA",
            cells: 3,
            readers: &["metypes", "load"],
            missing: &["local_edges_B.h5"],
            dry_run: Err("ringtest/local_edges_B.h5: No such file or directory"),
        },
        Sample {
            config: "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/circuit_config.json",
            population: "RingA",
            cells: 3,
            readers: &["metypes", "load"],
            missing: &["nodes_B.h5", "edges_B.h5", "edges_AB.h5", "edges_BA.h5"],
            dry_run: Err("ringtest_allen_v1/edges_B.h5: No such file or directory"),
        },
    ]
}

/// Every `.json` under `dir` with `networks` (a circuit config), relative to `dir`.
fn find_configs(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            find_configs(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && let Ok(json) =
                serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap())
            && json.get("networks").is_some()
        {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
}

#[test]
fn every_sample_config_is_in_the_table() {
    let Some(dir) = samples_dir() else { return };
    let mut found = Vec::new();
    find_configs(&dir, &dir, &mut found);
    found.sort();
    let mut known: Vec<String> = samples().iter().map(|s| s.config.to_string()).collect();
    known.sort();
    assert_eq!(found, known);
}

/// The library, given each sample config by a path relative to the working folder (the crate
/// root; not the config's folder): every file resolves to a path that exists, except those the
/// sample folder lacks, and none repeats the config's folder.
#[test]
fn sample_configs_resolve_files_from_a_relative_path() {
    let Some(_) = samples_dir() else { return };
    for s in samples() {
        let rel = Path::new("../shared/sonata_samples").join(s.config);
        let config = CircuitConfig::open(&rel).unwrap();
        let entries = config.nodes.iter().chain(&config.edges);
        let mut n = 0;
        for e in entries {
            n += 1;
            let name = e.file.file_name().unwrap().to_str().unwrap();
            let lacking = s.missing.iter().any(|m| m.ends_with(name));
            assert_eq!(
                e.file.exists(),
                !lacking,
                "{}: {}",
                s.config,
                e.file.display()
            );
            // Never the config's folder inside itself.
            let f = e.file.to_str().unwrap();
            let folder = Path::new(s.config).parent().unwrap().to_str().unwrap();
            assert!(f.matches(folder).count() <= 1, "{f}");
            assert!(f.starts_with("../shared/sonata_samples/"), "{f}");
            if let Some(types) = &e.types_file {
                assert!(types.exists() || lacking, "{}", types.display());
            }
        }
        assert!(n > 0, "{}", s.config);
        // Manifest values resolve against the config's folder, once.
        for v in config.manifest.values() {
            assert!(
                v.starts_with("../shared") || v.is_absolute(),
                "{}",
                v.display()
            );
        }
    }
}

/// The CLI from the sample folder itself and from the crate root, with relative paths: the
/// issue's `nodes load AllenInstitute/.../circuit_config.json -p v1` doubled the folder.
#[test]
fn sample_configs_work_from_other_folders_on_the_command_line() {
    let Some(dir) = samples_dir() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (cwd, prefix) in [(dir.as_path(), ""), (root, "../shared/sonata_samples/")] {
        for s in samples() {
            let config = format!("{prefix}{}", s.config);
            let what = format!("{config} from {}", cwd.display());
            let o = run_in(cwd, &["nodes", "distribute", &config, "-p", s.population]);
            assert!(o.status.success(), "{what}: {}", text(&o.stderr));
            let ids: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(ids.as_array().unwrap().len(), s.cells, "{what}");
            for sub in ["metypes", "load"] {
                let o = run_in(cwd, &["nodes", sub, &config, "-p", s.population]);
                if s.readers.contains(&sub) {
                    assert!(o.status.success(), "{what} {sub}: {}", text(&o.stderr));
                } else {
                    // The file is found: the error is about its columns, not its path.
                    let err = failure(&o, &what);
                    assert!(err.contains("no attribute"), "{what} {sub}: {err}");
                }
            }
            let o = run_in(cwd, &["dry-run", &config, "--backend", "cpu", "-q"]);
            match s.dry_run {
                Ok(()) => {
                    assert!(o.status.success(), "{what}: {}", text(&o.stderr));
                    assert!(text(&o.stdout).contains("synapses"), "{what}");
                }
                Err(needle) => {
                    let err = failure(&o, &what);
                    assert!(err.contains(needle), "{what}: {err}");
                    if err.contains("No such file") {
                        // The missing path is where the config says, under its folder: that
                        // folder exists, the file does not.
                        let path = err
                            .trim_start_matches("sonata-census: ")
                            .split(": No such file")
                            .next()
                            .unwrap();
                        let path = cwd.join(path);
                        assert!(!path.exists(), "{}", path.display());
                        assert!(path.parent().unwrap().is_dir(), "{err}");
                        assert!(err.contains(&format!("(named by {config})")), "{err}");
                    }
                }
            }
        }
    }
    // The issue's command: v1 is found (the missing tw_nodes.h5 after it does not matter).
    let o = run_in(
        &dir,
        &[
            "nodes",
            "load",
            &format!("{ALLEN}/circuit_config.json"),
            "-p",
            "v1",
        ],
    );
    let err = failure(&o, "allen load");
    assert!(
        err.contains(&format!("{ALLEN}/network/v1_nodes.h5, population 'v1'")),
        "{err}"
    );
    let _ = (RING, RING_ALLEN);
}

// ---------------------------------------------------------------------------------------------
// Manifest rules

#[test]
fn manifest_values_resolve_once_against_the_config_folder() {
    let work = tempfile::tempdir().unwrap();
    let conf = work.path().join("a/b");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::create_dir_all(work.path().join("a/net")).unwrap();
    write_nodes(&work.path().join("a/net/nodes.h5"), "N", 4);
    write_nodes(&conf.join("here.h5"), "H", 2);
    write_nodes(&work.path().join("a/net/x.h5"), "X", 5);
    std::fs::write(
        conf.join("circuit_config.json"),
        format!(
            r#"{{"manifest": {{"$BASE_DIR": ".", "$UP": "../", "$NET": "$UP/net",
                              "$ABS": "{}"}},
                "networks": {{"nodes": [
                    {{"nodes_file": "$NET/nodes.h5", "populations": {{"N": {{}}}}}},
                    {{"nodes_file": "$BASE_DIR/here.h5", "populations": {{"H": {{}}}}}},
                    {{"nodes_file": "$ABS/x.h5", "populations": {{"X": {{}}}}}}]}}}}"#,
            work.path().join("a/net").display()
        ),
    )
    .unwrap();
    // As opened from the folder above the config, by a relative path (resolving is lexical:
    // no file is opened to resolve).
    let cwd = work.path().join("a");
    let json = std::fs::read_to_string(conf.join("circuit_config.json")).unwrap();
    let c = CircuitConfig::parse(&json, Path::new("b/circuit_config.json")).unwrap();
    assert_eq!(c.nodes[0].file, PathBuf::from("net/nodes.h5"));
    assert_eq!(c.nodes[1].file, PathBuf::from("b/here.h5"));
    assert_eq!(c.nodes[2].file, work.path().join("a/net/x.h5"));
    assert_eq!(c.manifest["$BASE_DIR"], PathBuf::from("b"));
    assert_eq!(c.manifest["$NET"], PathBuf::from("net"));
    // The same through the binary, from two other folders.
    for (dir, config) in [
        (cwd.clone(), "b/circuit_config.json".to_string()),
        (conf.join(".."), "b/circuit_config.json".to_string()),
        (
            work.path().to_path_buf(),
            "a/b/circuit_config.json".to_string(),
        ),
    ] {
        for (pop, n) in [("N", 4), ("H", 2), ("X", 5)] {
            let o = run_in(&dir, &["nodes", "distribute", &config, "-p", pop]);
            assert!(o.status.success(), "{config} {pop}: {}", text(&o.stderr));
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v.as_array().unwrap().len(), n);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Population order

#[test]
fn populations_keep_the_config_file_order() {
    let work = tempfile::tempdir().unwrap();
    let nodes = work.path().join("nodes.h5");
    for (pop, n) in [("zeta", 1), ("alpha", 2), ("mid", 3)] {
        write_nodes(&nodes, pop, n);
    }
    let config = work.path().join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"networks": {
            "nodes": [{"nodes_file": "nodes.h5",
                       "populations": {"zeta": {}, "alpha": {"type": "virtual"}, "mid": {}}}],
            "edges": [{"edges_file": "edges.h5",
                       "populations": {"z__z": {}, "a__a": {"type": "electrical"}}}]}}"#,
    )
    .unwrap();
    let c = CircuitConfig::open(&config).unwrap();
    let names: Vec<String> = c
        .node_populations()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    let edges: Vec<String> = c
        .edge_populations()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(edges, ["z__z", "a__a"]);
    // The command line lists them in the same order when it needs one named.
    let o = run_in(work.path(), &["nodes", "metypes", "circuit_config.json"]);
    let err = failure(&o, "no -p");
    assert!(
        err.contains("the config has 3 node populations (zeta, alpha, mid): name one"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Configs that name nothing, and simulation configs

/// A circuit of 3 cells of `tgt` with 4 synapses from `src`, in `dir/circuit`.
fn circuit(dir: &Path) -> PathBuf {
    let c = dir.join("circuit");
    std::fs::create_dir_all(&c).unwrap();
    write_nodes(&c.join("nodes.h5"), "tgt", 3);
    locked(|| {
        write_edges(
            &c.join("edges.h5"),
            "src__tgt__chemical",
            &[0, 0, 1, 2],
            &[0, 2, 2, 2],
            Ids::U64,
        )
    });
    let config = c.join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"manifest": {"$BASE_DIR": "./"},
            "networks": {
              "nodes": [{"nodes_file": "$BASE_DIR/nodes.h5", "populations": {"tgt": {}}}],
              "edges": [{"edges_file": "$BASE_DIR/edges.h5",
                         "populations": {"src__tgt__chemical": {"type": "chemical"}}}]}}"#,
    )
    .unwrap();
    config
}

#[test]
fn configs_without_networks_are_refused_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    circuit(work.path());
    for (name, json, needle) in [
        (
            "empty.json",
            "{}",
            "has no 'networks': not a circuit config",
        ),
        ("list.json", "[]", "the top level is not a JSON object"),
        (
            "no_files.json",
            r#"{"networks": {}}"#,
            "'networks' lists no node or edge file",
        ),
        (
            "nodes_only.json",
            r#"{"networks": {"nodes": [{"nodes_file": "circuit/nodes.h5"}]}}"#,
            "names no edge population",
        ),
    ] {
        std::fs::write(work.path().join(name), json).unwrap();
        for json_flag in [false, true] {
            let mut args = vec!["dry-run", name, "--backend", "cpu"];
            if json_flag {
                args.push("--json");
            }
            let err = failure(&run_in(work.path(), &args), name);
            assert!(err.contains(name) && err.contains(needle), "{name}: {err}");
        }
    }
    let err = CircuitConfig::parse("{}", Path::new("x.json")).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
}

#[test]
fn a_simulation_config_is_followed_to_its_network() {
    let work = tempfile::tempdir().unwrap();
    circuit(work.path());
    let sim = work.path().join("sim");
    std::fs::create_dir_all(&sim).unwrap();
    std::fs::write(
        sim.join("simulation_config.json"),
        r#"{"manifest": {"$BASE_DIR": ".", "$OUTPUT_DIR": "./output"},
            "network": "$BASE_DIR/../circuit/circuit_config.json",
            "node_set": "Mosaic",
            "node_sets_file": "node_sets.json",
            "run": {"tstop": 100, "dt": 0.025, "random_seed": 1},
            "output": {"output_dir": "$OUTPUT_DIR"}}"#,
    )
    .unwrap();
    // The simulation's node_set instantiates cell 2 of `tgt` only: 3 of the 4 synapses.
    std::fs::write(
        sim.join("node_sets.json"),
        r#"{"Mosaic": {"population": "tgt", "node_id": [2]}}"#,
    )
    .unwrap();
    // From the work folder, a relative path.
    let o = run_in(
        work.path(),
        &["dry-run", "sim/simulation_config.json", "--backend", "cpu"],
    );
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{err}");
    assert!(
        out.starts_with(
            "circuit/circuit_config.json (the network of sim/simulation_config.json): \
             exact dry-run statistics"
        ),
        "{out}"
    );
    assert!(
        out.contains("3 synapses, 3 connections, 1 target cell"),
        "{out}"
    );
    assert!(
        err.contains("node_set 'Mosaic': 1 of 3 cells of population 'tgt'"),
        "{err}"
    );
    // -q silences the note, not the result.
    let o = run_in(
        work.path(),
        &[
            "dry-run",
            "sim/simulation_config.json",
            "--backend",
            "cpu",
            "-q",
            "--json",
        ],
    );
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        text(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["config"], "circuit/circuit_config.json");
    assert_eq!(v["simulation_config"], "sim/simulation_config.json");
    assert_eq!(v["total_synapses"], 3);
    assert_eq!(v["populations"][0]["target_cells"], 1);
    assert!(v["notes"][0].as_str().unwrap().contains("Mosaic"), "{v}");
    // A node_set without node sets, or one they lack: one line, exit 2.
    for (name, json, needle) in [
        (
            "no_sets.json",
            r#"{"network": "../circuit/circuit_config.json", "node_set": "Mosaic", "run": {}}"#,
            "node_set 'Mosaic' needs a node_sets_file",
        ),
        (
            "unknown_set.json",
            r#"{"network": "../circuit/circuit_config.json", "node_set": "Nope",
                "node_sets_file": "node_sets.json", "run": {}}"#,
            "no node set 'Nope'",
        ),
    ] {
        std::fs::write(sim.join(name), json).unwrap();
        let err = failure(
            &run_in(work.path(), &["dry-run", &format!("sim/{name}")]),
            name,
        );
        assert!(err.contains(name) && err.contains(needle), "{name}: {err}");
    }
    // `nodes` reads the circuit's populations through it.
    let o = run_in(
        &sim,
        &["nodes", "distribute", "simulation_config.json", "-p", "tgt"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "[0,1,2]");

    // Without `network`: circuit_config.json next to it (libsonata's default).
    std::fs::write(
        work.path().join("circuit/simulation_config.json"),
        r#"{"run": {"tstop": 1, "dt": 0.025, "random_seed": 1}}"#,
    )
    .unwrap();
    let o = run_in(
        work.path(),
        &["dry-run", "circuit/simulation_config.json", "--json", "-q"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["config"], "circuit/circuit_config.json");
    assert_eq!(v["simulation_config"], "circuit/simulation_config.json");
    let notes = v["notes"].as_array().unwrap();
    assert!(
        !notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("node_set")),
        "{v}"
    );

    // A network that is missing, or that is not a circuit config.
    std::fs::write(
        sim.join("missing.json"),
        r#"{"network": "nope/circuit_config.json", "run": {}}"#,
    )
    .unwrap();
    std::fs::write(
        sim.join("loop.json"),
        r#"{"network": "missing.json", "run": {}}"#,
    )
    .unwrap();
    let err = failure(
        &run_in(work.path(), &["dry-run", "sim/missing.json"]),
        "missing network",
    );
    assert!(
        err.contains("sim/nope/circuit_config.json: No such file or directory")
            && err.contains("(named by sim/missing.json)"),
        "{err}"
    );
    let err = failure(
        &run_in(work.path(), &["dry-run", "sim/loop.json"]),
        "sim to sim",
    );
    assert!(
        err.contains("sim/missing.json: has no 'networks': not a circuit config (named by 'network' of sim/loop.json)"),
        "{err}"
    );
}

/// Synapse memory of nothing was `-0.000` (`f64` sums start at `-0.0`): any zero prints as
/// `0.000` / `0.0`.
#[test]
fn zero_memory_is_never_negative() {
    let work = tempfile::tempdir().unwrap();
    let c = work.path().join("circuit");
    std::fs::create_dir_all(&c).unwrap();
    write_nodes(&c.join("nodes.h5"), "tgt", 2);
    locked(|| {
        write_edges(
            &c.join("edges.h5"),
            "src__tgt__chemical",
            &[],
            &[],
            Ids::U64,
        )
    });
    std::fs::write(
        c.join("circuit_config.json"),
        r#"{"networks": {
              "nodes": [{"nodes_file": "nodes.h5", "populations": {"tgt": {}}}],
              "edges": [{"edges_file": "edges.h5", "populations": {"src__tgt__chemical": {}}}]}}"#,
    )
    .unwrap();
    for args in [
        &[
            "dry-run",
            "circuit/circuit_config.json",
            "--backend",
            "cpu",
            "-q",
        ][..],
        &[
            "dry-run",
            "circuit/circuit_config.json",
            "--backend",
            "cpu",
            "-q",
            "--json",
            "--ranks",
            "3",
        ][..],
    ] {
        let o = run_in(work.path(), args);
        let out = text(&o.stdout);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            out.contains("0 synapses") || out.contains("\"total_synapses\": 0"),
            "{out}"
        );
        assert!(!out.contains("-0"), "{out}");
    }
}
