//! `count --direction` and `count CIRCUIT --pathways` from the command line: the efferent tables
//! and pathway matrices of the file against a naive recount, byte-identical from both engines,
//! with node sets; an edge file's efferent tables; and every refusal (one line, exit 2, no
//! output). The library's transposition and matrices are tested in `tests/derived.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use sonata_census::census::derived::PathwayValues;
use sonata_census::census::reader::{CensusFile, ConnectionTable};

use common::{Engine, Ids, Rng, bin, locked, random_edges, write_edges};

const N_TARGETS: u64 = 300;
const N_SOURCES: u64 = 200;
const EDGES: usize = 6000;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    locked(|| bin().current_dir(dir).args(args).output().unwrap())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Node population `pop` of `n` nodes with an int `layer` (node id % 6 + 1) and, when
/// `with_region`, a string `region` ("R" + node id % 3) in group `0`.
fn write_nodes(path: &Path, pop: &str, n: u64, with_region: bool) {
    locked(|| {
        let f = hdf5::File::create(path).unwrap();
        let g = f.create_group(&format!("nodes/{pop}")).unwrap();
        g.new_dataset_builder()
            .with_data(&vec![-1i64; n as usize])
            .create("node_type_id")
            .unwrap();
        let g0 = g.create_group("0").unwrap();
        let layer: Vec<i64> = (0..n).map(|i| (i % 6 + 1) as i64).collect();
        g0.new_dataset_builder()
            .with_data(&layer)
            .create("layer")
            .unwrap();
        if with_region {
            let region: Vec<hdf5::types::VarLenUnicode> = (0..n)
                .map(|i| format!("R{}", i % 3).parse().unwrap())
                .collect();
            g0.new_dataset_builder()
                .with_data(&region)
                .create("region")
                .unwrap();
        }
    });
}

/// `src` (N_SOURCES nodes, `layer`) -> `tgt` (N_TARGETS, `layer` and `region`), edge population
/// `e` (shuffled), node set `L5`. Returns the edges (sources, targets).
fn circuit(dir: &Path) -> (Vec<u64>, Vec<u64>) {
    write_nodes(&dir.join("src.h5"), "src", N_SOURCES, false);
    write_nodes(&dir.join("tgt.h5"), "tgt", N_TARGETS, true);
    let (sources, targets) = random_edges(&mut Rng(5), EDGES, N_TARGETS, N_SOURCES, "shuffled");
    locked(|| write_edges(&dir.join("edges.h5"), "e", &sources, &targets, Ids::U64));
    std::fs::write(dir.join("node_sets.json"), r#"{"L5": {"layer": 5}}"#).unwrap();
    std::fs::write(
        dir.join("circuit_config.json"),
        r#"{"manifest": {"$BASE_DIR": "."},
            "node_sets_file": "$BASE_DIR/node_sets.json",
            "networks": {
              "nodes": [{"nodes_file": "$BASE_DIR/src.h5"}, {"nodes_file": "$BASE_DIR/tgt.h5"}],
              "edges": [{"edges_file": "$BASE_DIR/edges.h5"}]}}"#,
    )
    .unwrap();
    (sources, targets)
}

/// The layer pathway of the edges `keep` selects, naively: (synapses, connections) as 6 x 6
/// row-major matrices over layers 1..=6.
fn layer_matrices(sources: &[u64], targets: &[u64], keep: impl Fn(u64) -> bool) -> [Vec<u64>; 2] {
    let mut syn = vec![0u64; 36];
    let mut pairs = BTreeSet::new();
    for (&s, &t) in sources.iter().zip(targets) {
        if keep(t) {
            syn[(s % 6 * 6 + t % 6) as usize] += 1;
            pairs.insert((s, t));
        }
    }
    let mut conn = vec![0u64; 36];
    for (s, t) in pairs {
        conn[(s % 6 * 6 + t % 6) as usize] += 1;
    }
    [syn, conn]
}

#[test]
fn efferent_tables_and_pathways_equal_a_naive_recount_from_every_engine() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (sources, targets) = circuit(dir);
    let args = |out: &'static str, backend: &'static str| {
        vec![
            "count",
            "circuit_config.json",
            "--direction",
            "both",
            "--pathways",
            "layer",
            "-o",
            out,
            "--backend",
            backend,
        ]
    };
    let o = run_in(dir, &args("cpu.h5", "cpu"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file = locked(|| CensusFile::open(&dir.join("cpu.h5")).unwrap());
    let e = locked(|| file.efferent("e", ConnectionTable::Read).unwrap().unwrap());
    // Sized by the source node population of the circuit.
    assert_eq!(e.n_sources, N_SOURCES);
    let mut by_source: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); N_SOURCES as usize];
    let mut synapses = vec![0u64; N_SOURCES as usize];
    for (&s, &t) in sources.iter().zip(&targets) {
        by_source[s as usize].insert(t);
        synapses[s as usize] += 1;
    }
    assert_eq!(e.source_synapse_count, synapses);
    let connections: Vec<u64> = by_source.iter().map(|t| t.len() as u64).collect();
    assert_eq!(e.source_connection_count, connections);
    let flat: Vec<u64> = by_source.iter().flatten().copied().collect();
    assert_eq!(
        e.target_node_id, flat,
        "targets ascending within each source"
    );
    let pathways = locked(|| file.pathways("e").unwrap());
    assert_eq!(pathways.len(), 1);
    let p = &pathways[0];
    assert_eq!(p.attribute, "layer");
    assert_eq!(p.source_values, PathwayValues::Integers((1..=6).collect()));
    let [syn, conn] = layer_matrices(&sources, &targets, |_| true);
    assert_eq!(p.synapses, syn);
    assert_eq!(p.connections, conn);
    // Two node populations: every pair is possible.
    let n_s: Vec<u64> = (0..6)
        .map(|l| (0..N_SOURCES).filter(|i| i % 6 == l).count() as u64)
        .collect();
    let n_t: Vec<u64> = (0..6)
        .map(|l| (0..N_TARGETS).filter(|i| i % 6 == l).count() as u64)
        .collect();
    assert_eq!(p.source_node_count, n_s);
    assert_eq!(p.target_node_count, n_t);
    let pairs: Vec<u64> = n_s
        .iter()
        .flat_map(|a| n_t.iter().map(move |b| a * b))
        .collect();
    assert_eq!(p.pair_count, pairs);
    if Engine::Gpu.available() {
        let o = run_in(dir, &args("gpu.h5", "gpu"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(
            std::fs::read(dir.join("cpu.h5")).unwrap(),
            std::fs::read(dir.join("gpu.h5")).unwrap(),
            "the GPU engine's file differs"
        );
    } else {
        println!("no GPU adapter: the GPU half of this test skipped");
    }
    // Restricted to L5 targets: only the values of the counted nodes.
    let o = run_in(
        dir,
        &[
            "count",
            "circuit_config.json",
            "-p",
            "e",
            "--target-node-set",
            "L5",
            "--pathways",
            "layer",
            "-o",
            "l5.h5",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file = locked(|| CensusFile::open(&dir.join("l5.h5")).unwrap());
    let pathways = locked(|| file.pathways("e").unwrap());
    let [layer] = &pathways[..] else {
        panic!("{pathways:?}")
    };
    assert_eq!(layer.target_values, PathwayValues::Integers(vec![5]));
    let [syn, conn] = layer_matrices(&sources, &targets, |t| t % 6 == 4);
    let column = |m: &[u64]| -> Vec<u64> { (0..6).map(|i| m[i * 6 + 4]).collect() };
    assert_eq!(layer.synapses, column(&syn));
    assert_eq!(layer.connections, column(&conn));
}

#[test]
fn pathways_of_an_attribute_the_sources_lack_and_other_mistakes_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    circuit(dir);
    let cases: [(&[&str], &str); 5] = [
        (
            &["count", "edges.h5", "--pathways", "layer", "-o", "x.h5"],
            "--pathways needs a circuit config",
        ),
        (
            // src has no region: an error naming the attribute.
            &[
                "count",
                "circuit_config.json",
                "--pathways",
                "region",
                "-o",
                "x.h5",
            ],
            "region",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--pathways",
                "layer,layer",
                "-o",
                "x.h5",
            ],
            "named twice",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--direction",
                "sideways",
                "-o",
                "x.h5",
            ],
            "sideways",
        ),
        (
            &[
                "count",
                "circuit_config.json",
                "--pathways",
                "",
                "-o",
                "x.h5",
            ],
            "",
        ),
    ];
    for (args, says) in cases {
        let o = run_in(dir, args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.join("x.h5").exists(), "{args:?} left an output");
    }
}

#[test]
fn an_edge_file_counts_its_efferent_tables_alone() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (sources, _) = circuit(dir);
    let o = run_in(
        dir,
        &["count", "edges.h5", "--direction", "efferent", "-o", "e.h5"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file = locked(|| CensusFile::open(&dir.join("e.h5")).unwrap());
    // No per-target tables: the afferent reader refuses the group, the efferent one reads it.
    let refused = locked(|| file.read("e", ConnectionTable::Skip).unwrap_err());
    assert!(
        refused.to_string().contains("efferent tables only"),
        "{refused}"
    );
    let e = locked(|| file.efferent("e", ConnectionTable::Read).unwrap().unwrap());
    // No index, no config: the largest source + 1.
    assert_eq!(e.n_sources, sources.iter().max().unwrap() + 1);
    assert_eq!(e.source_synapse_count.iter().sum::<u64>(), EDGES as u64);
    assert_eq!(
        e.source_offsets.last().copied(),
        Some(e.target_node_id.len() as u64)
    );
}
