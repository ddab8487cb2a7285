//! A census restricted to node sets: the engines count only the edges an `EdgeFilter` keeps
//! (checked on every engine against a naive recount of the kept edges, for every input shape,
//! chunk boundaries, a filter that empties whole chunks, and the out-of-memory strategies), and
//! `count CIRCUIT --target-node-set/--source-node-set` from the command line (tables, recorded
//! attributes, and every refusal: one line, exit 2, no output).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use hdf5::types::VarLenUnicode;
use sonata_census::census::CensusOptions;
use sonata_census::census::filter::{EdgeFilter, NodeMask};
use sonata_census::census::provenance::TableKind;
use sonata_census::census::reader::{CensusFile, read_census};

use common::{Engine, Ids, Rng, bin, locked, naive_census, random_edges, write_edges};

const N_TARGETS: u64 = 300;
const N_SOURCES: u64 = 200;

/// The edges `filter` keeps.
fn kept(filter: &EdgeFilter, sources: &[u64], targets: &[u64]) -> (Vec<u64>, Vec<u64>) {
    sources
        .iter()
        .zip(targets)
        .filter(|&(&s, &t)| filter.keeps(t, s))
        .map(|(&s, &t)| (s, t))
        .unzip()
}

/// Every third target, sources below half the population, and both.
fn filters() -> Vec<(&'static str, EdgeFilter)> {
    let thirds: Vec<u64> = (0..N_TARGETS).filter(|t| t % 3 == 0).collect();
    let low: Vec<u64> = (0..N_SOURCES / 2).collect();
    let targets = NodeMask::from_ids(&thirds, N_TARGETS);
    let sources = NodeMask::from_ids(&low, N_SOURCES);
    vec![
        (
            "targets",
            EdgeFilter {
                targets: Some(targets.clone()),
                sources: None,
            },
        ),
        (
            "sources",
            EdgeFilter {
                targets: None,
                sources: Some(sources.clone()),
            },
        ),
        (
            "both",
            EdgeFilter {
                targets: Some(targets),
                sources: Some(sources),
            },
        ),
        (
            "empty",
            EdgeFilter {
                targets: Some(NodeMask::from_ids(&[], N_TARGETS)),
                sources: None,
            },
        ),
        (
            // Only the last target: every chunk but the last ones of a sorted file is emptied.
            "last target",
            EdgeFilter {
                targets: Some(NodeMask::from_ids(&[N_TARGETS - 1], N_TARGETS)),
                sources: None,
            },
        ),
    ]
}

fn restricted_census_equals_naive_recount(engine: Engine) {
    let work = tempfile::tempdir().unwrap();
    let mut rng = Rng(15);
    for shape in ["sorted", "target-sorted", "shuffled", "skewed"] {
        for n in [0usize, 1, 63, 64, 65, 3000] {
            let (sources, targets) = random_edges(&mut rng, n, N_TARGETS, N_SOURCES, shape);
            let path = work.path().join(format!("{shape}_{n}.h5"));
            locked(|| write_edges(&path, "p", &sources, &targets, Ids::U64));
            for (what, filter) in filters() {
                // Small chunks (the filter empties some) and budgets that force the two-pass
                // and spilling strategies.
                for (chunk_len, budget) in [(64usize, 1u64 << 30), (1000, 4096)] {
                    let options = CensusOptions {
                        nodes_count: Some(N_TARGETS),
                        chunk_len,
                        memory_budget: budget,
                        spill_dir: Some(work.path().to_path_buf()),
                        edge_filter: Some(Arc::new(filter.clone())),
                        ..CensusOptions::default()
                    };
                    let label = format!("{engine:?} {shape} n={n} {what} chunk={chunk_len}");
                    let got = locked(|| engine.census(&path, "p", &options))
                        .unwrap_or_else(|e| panic!("{label}: {e}"));
                    let (ks, kt) = kept(&filter, &sources, &targets);
                    let want = naive_census(&ks, &kt, Some(N_TARGETS));
                    common::assert_same_tables(&got, &want, &label);
                }
            }
        }
    }
}

fn a_bad_target_kept_by_the_filter_is_reported_at_its_row(engine: Engine) {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bad.h5");
    // Row 5's target is beyond the 10 targets; rows 0..5 are outside the set.
    let targets = [1u64, 1, 1, 2, 2, 50, 3];
    let sources = [0u64; 7];
    locked(|| write_edges(&path, "p", &sources, &targets, Ids::U64));
    let options = CensusOptions {
        nodes_count: Some(10),
        chunk_len: 3,
        edge_filter: Some(Arc::new(EdgeFilter {
            targets: Some(NodeMask::from_ids(&[3], 10)),
            sources: None,
        })),
        ..CensusOptions::default()
    };
    let e = locked(|| engine.census(&path, "p", &options)).unwrap_err();
    assert!(
        e.to_string().contains("target node id 50 at row 5 "),
        "{engine:?}: {e}"
    );
}

common::engine_tests! {
    fn restricted_census_equals_naive_recount;
    fn a_bad_target_kept_by_the_filter_is_reported_at_its_row;
}

// ---- The command line -------------------------------------------------------------------

fn run_in(dir: &Path, args: &[&str]) -> Output {
    locked(|| bin().current_dir(dir).args(args).output().unwrap())
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
    err
}

/// Node population `pop` of `n` nodes with an int `layer` attribute (node id % 6 + 1) in
/// group `0` (the implicit layout).
fn write_nodes(path: &Path, pop: &str, n: u64, with_layer: bool) {
    locked(|| {
        let f = hdf5::File::create(path).unwrap();
        let g = f.create_group(&format!("nodes/{pop}")).unwrap();
        g.new_dataset_builder()
            .with_data(&vec![-1i64; n as usize])
            .create("node_type_id")
            .unwrap();
        let g0 = g.create_group("0").unwrap();
        if with_layer {
            let layer: Vec<i64> = (0..n).map(|i| (i % 6 + 1) as i64).collect();
            g0.new_dataset_builder()
                .with_data(&layer)
                .create("layer")
                .unwrap();
        }
    });
}

/// A circuit in `dir`: `src` (N_SOURCES nodes, no attributes) -> `tgt` (N_TARGETS, `layer`),
/// edge population `e` (shuffled), node sets `L5` (layer 5), `Low` (node ids 0..50) and
/// `NoAttr` (a `mtype` nobody has). Returns the config and the edges.
fn circuit(dir: &Path) -> (PathBuf, Vec<u64>, Vec<u64>) {
    write_nodes(&dir.join("src.h5"), "src", N_SOURCES, false);
    write_nodes(&dir.join("tgt.h5"), "tgt", N_TARGETS, true);
    let (sources, targets) = random_edges(&mut Rng(3), 5000, N_TARGETS, N_SOURCES, "shuffled");
    locked(|| write_edges(&dir.join("edges.h5"), "e", &sources, &targets, Ids::I64));
    std::fs::write(
        dir.join("node_sets.json"),
        r#"{"L5": {"layer": 5}, "Low": {"node_id": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
            12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]}, "NoAttr": {"mtype": "L5_TPC"}}"#,
    )
    .unwrap();
    let config = dir.join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"manifest": {"$BASE_DIR": "."},
            "node_sets_file": "$BASE_DIR/node_sets.json",
            "networks": {
              "nodes": [{"nodes_file": "$BASE_DIR/src.h5"}, {"nodes_file": "$BASE_DIR/tgt.h5"}],
              "edges": [{"edges_file": "$BASE_DIR/edges.h5"}]}}"#,
    )
    .unwrap();
    (config, sources, targets)
}

fn text_attr(path: &Path, pop: &str, name: &str) -> String {
    locked(|| {
        let f = hdf5::File::open(path).unwrap();
        let s: VarLenUnicode = f
            .group(pop)
            .unwrap()
            .attr(name)
            .unwrap()
            .read_scalar()
            .unwrap();
        s.as_str().to_string()
    })
}

#[test]
fn count_with_node_sets_counts_the_edges_between_them_and_records_the_sets() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (_, sources, targets) = circuit(dir);
    // From the circuit's folder, with relative paths, as a user would.
    let o = run_in(
        dir,
        &[
            "count",
            "circuit_config.json",
            "--target-node-set",
            "L5",
            "--source-node-set",
            "Low",
            "-o",
            "l5.h5",
            "--backend",
            "cpu",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("of 5000 (target node set 'L5', source node set 'Low')"),
        "{err}"
    );
    let out = dir.join("l5.h5");
    let filter = EdgeFilter {
        targets: Some(NodeMask::from_ids(
            &(0..N_TARGETS)
                .filter(|t| t % 6 + 1 == 5)
                .collect::<Vec<_>>(),
            N_TARGETS,
        )),
        sources: Some(NodeMask::from_ids(&(0..25).collect::<Vec<_>>(), N_SOURCES)),
    };
    let (ks, kt) = kept(&filter, &sources, &targets);
    assert!(!ks.is_empty() && ks.len() < 5000, "{}", ks.len());
    let got = locked(|| read_census(&out, "e").unwrap());
    common::assert_same_tables(&got, &naive_census(&ks, &kt, Some(N_TARGETS)), "L5 <- Low");
    let file = locked(|| CensusFile::open(&out).unwrap());
    let record = locked(|| file.restriction("e").unwrap().unwrap());
    assert_eq!(record.target_node_set.as_deref(), Some("L5"));
    assert_eq!(record.source_node_set.as_deref(), Some("Low"));
    assert_eq!(record.node_sets_files, ["node_sets.json"]);
    assert_eq!(record.population_edge_count, 5000);
    let kind = locked(|| file.provenance("e").unwrap().unwrap().kind);
    assert_eq!(kind, TableKind::Restricted);
    assert_eq!(text_attr(&out, "e", "table_kind"), "restricted");
    // The GPU engine writes the same bytes.
    if Engine::Gpu.available() {
        let o = run_in(
            dir,
            &[
                "count",
                "circuit_config.json",
                "--target-node-set",
                "L5",
                "--source-node-set",
                "Low",
                "-o",
                "l5_gpu.h5",
                "--backend",
                "gpu",
            ],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(dir.join("l5_gpu.h5")).unwrap()
        );
    }
    // A second node-sets file replaces same-named sets: L5 becomes node 7 alone.
    std::fs::write(dir.join("more.json"), r#"{"L5": {"node_id": [7]}}"#).unwrap();
    let o = run_in(
        dir,
        &[
            "count",
            "circuit_config.json",
            "--target-node-set",
            "L5",
            "--node-sets",
            "more.json",
            "-o",
            "seven.h5",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got = locked(|| read_census(&dir.join("seven.h5"), "e").unwrap());
    let sevens = targets.iter().filter(|&&t| t == 7).count() as u64;
    assert_eq!(got.edge_count, sevens);
    assert_eq!(got.target_synapse_count[7], sevens);
    assert_eq!(
        text_attr(&dir.join("seven.h5"), "e", "node_sets_file"),
        "node_sets.json; more.json"
    );
}

#[test]
fn node_set_mistakes_are_one_line_and_leave_no_output() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    circuit(dir);
    let cases: [(&[&str], &str); 6] = [
        (
            &["count", "edges.h5", "--target-node-set", "L5", "-o", "x.h5"],
            "need a circuit config",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--target-node-set",
                "Nope",
                "-o",
                "x.h5",
            ],
            "no node set 'Nope'",
        ),
        (
            // The attribute is missing on the target node population: an error, not a skip.
            &[
                "count",
                "circuit_config.json",
                "--target-node-set",
                "NoAttr",
                "-o",
                "x.h5",
            ],
            "mtype",
        ),
        (
            // src has no `layer`.
            &[
                "count",
                "circuit_config.json",
                "--source-node-set",
                "L5",
                "-o",
                "x.h5",
            ],
            "layer",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--node-sets",
                "node_sets.json",
                "-o",
                "x.h5",
            ],
            "--node-sets is used with",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--target-node-set",
                "L5",
                "--node-sets",
                "missing.json",
                "-o",
                "x.h5",
            ],
            "missing.json",
        ),
    ];
    for (args, says) in cases {
        let o = run_in(dir, args);
        let err = failure(&o, &args.join(" "));
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.join("x.h5").exists(), "{args:?} left an output");
    }
}
