//! Edge indices: `EdgeIndex::resolve`, `afferent_edges`, `efferent_edges`, `connecting_edges`
//! on small files written here, and on the public sample files when present.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use std::path::{Path, PathBuf};

use ndarray::Array2;
use sonata_census::sonata::index::{EdgeIndex, IndexDirection, IndexSpelling};
use sonata_census::{EdgeFile, EdgePopulation, Error, Selection};

// ---------------------------------------------------------------------------------------------
// Fixture writer

/// A temporary edge file with one population `pop`.
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    /// Writes `/edges/pop/{source,target}_node_id` (uint64).
    fn new(sources: &[u64], targets: &[u64]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edges.h5");
        let file = hdf5::File::create(&path).unwrap();
        let g = file.create_group("edges/pop").unwrap();
        g.new_dataset_builder()
            .with_data(sources)
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(targets)
            .create("target_node_id")
            .unwrap();
        Fixture { _dir: dir, path }
    }

    fn pop_group(&self) -> hdf5::Group {
        hdf5::File::open_rw(&self.path)
            .unwrap()
            .group("edges/pop")
            .unwrap()
    }

    /// Writes `indices/<dir>/{nodes_name, range_to_edge_id}` from explicit rows.
    fn write_index(&self, dir: &str, nodes_name: &str, nodes: &[[u64; 2]], ranges: &[[u64; 2]]) {
        let g = self
            .pop_group()
            .create_group(&format!("indices/{dir}"))
            .unwrap();
        g.new_dataset_builder()
            .with_data(&rows(nodes))
            .create(nodes_name)
            .unwrap();
        g.new_dataset_builder()
            .with_data(&rows(ranges))
            .create("range_to_edge_id")
            .unwrap();
    }

    /// Writes both indices the way libsonata's `write_indices` does.
    fn write_libsonata_indices(&self, sources: &[u64], targets: &[u64], n_src: u64, n_tgt: u64) {
        let (nodes, ranges) = libsonata_index(sources, n_src);
        self.write_index("source_to_target", "node_id_to_ranges", &nodes, &ranges);
        let (nodes, ranges) = libsonata_index(targets, n_tgt);
        self.write_index("target_to_source", "node_id_to_ranges", &nodes, &ranges);
    }

    fn population(&self) -> EdgePopulation {
        EdgeFile::open(&self.path)
            .unwrap()
            .population("pop")
            .unwrap()
    }
}

fn rows(r: &[[u64; 2]]) -> Array2<u64> {
    Array2::from_shape_vec((r.len(), 2), r.concat()).unwrap()
}

/// libsonata `write_indices`: maximal runs of equal ids become ranges, nodes `0..n` in order.
fn libsonata_index(ids: &[u64], n: u64) -> (Vec<[u64; 2]>, Vec<[u64; 2]>) {
    let mut per_node: Vec<Vec<[u64; 2]>> = vec![Vec::new(); n as usize];
    let mut i = 0;
    while i < ids.len() {
        let mut j = i + 1;
        while j < ids.len() && ids[j] == ids[i] {
            j += 1;
        }
        per_node[ids[i] as usize].push([i as u64, j as u64]);
        i = j;
    }
    let mut nodes = Vec::new();
    let mut ranges = Vec::new();
    for r in per_node {
        let a = ranges.len() as u64;
        ranges.extend(r);
        nodes.push([a, ranges.len() as u64]);
    }
    (nodes, ranges)
}

/// The edges whose `column` value is in `wanted`, by a scan.
fn naive(column: &[u64], wanted: &[u64]) -> Selection {
    let ids: Vec<u64> = (0..column.len() as u64)
        .filter(|&e| wanted.contains(&column[e as usize]))
        .collect();
    Selection::from_values(&ids)
}

fn invalid_message(err: Error) -> String {
    match err {
        Error::InvalidData { .. } => err.to_string(),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

// Unsorted edges: several runs per node in both directions.
const SOURCES: [u64; 12] = [0, 0, 2, 1, 0, 2, 2, 3, 1, 0, 0, 3];
const TARGETS: [u64; 12] = [3, 1, 1, 3, 0, 3, 1, 2, 2, 0, 1, 3];

fn unsorted_fixture() -> Fixture {
    let f = Fixture::new(&SOURCES, &TARGETS);
    f.write_libsonata_indices(&SOURCES, &TARGETS, 5, 5);
    f
}

// ---------------------------------------------------------------------------------------------
// Synthetic files

#[test]
fn unsorted_edges_give_merged_sorted_ranges() {
    let f = unsorted_fixture();
    let pop = f.population();
    let index = pop.target_index().unwrap().unwrap();
    assert_eq!(index.direction(), IndexDirection::TargetToSource);
    assert_eq!(index.spelling(), IndexSpelling::Sonata);
    assert_eq!(index.node_count(), 5);
    // Target 1 is at edges 1, 2 (one run), 6, 10: three ranges in range_to_edge_id.
    assert_eq!(
        pop.afferent_edges(&[1]).unwrap().ranges(),
        &[(1, 3), (6, 7), (10, 11)]
    );
    // Target 3 at 0, 3, 5, 11.
    assert_eq!(
        pop.afferent_edges(&[3]).unwrap().ranges(),
        &[(0, 1), (3, 4), (5, 6), (11, 12)]
    );
    // Together they coalesce: touching ranges merge.
    assert_eq!(
        pop.afferent_edges(&[3, 1]).unwrap().ranges(),
        &[(0, 4), (5, 7), (10, 12)]
    );
    // Every subset of nodes agrees with a scan, in both directions.
    for mask in 0u32..32 {
        let ids: Vec<u64> = (0..5).filter(|b| mask & (1 << b) != 0).collect();
        assert_eq!(
            pop.afferent_edges(&ids).unwrap(),
            naive(&TARGETS, &ids),
            "afferent {ids:?}"
        );
        assert_eq!(
            pop.efferent_edges(&ids).unwrap(),
            naive(&SOURCES, &ids),
            "efferent {ids:?}"
        );
    }
    index.validate().unwrap();
    pop.source_index().unwrap().unwrap().validate().unwrap();
}

#[test]
fn duplicate_and_unsorted_ids_are_a_set() {
    let f = unsorted_fixture();
    let pop = f.population();
    let a = pop.afferent_edges(&[3, 1, 3, 1, 1]).unwrap();
    assert_eq!(a, pop.afferent_edges(&[1, 3]).unwrap());
    assert_eq!(a, naive(&TARGETS, &[1, 3]));
    assert!(pop.afferent_edges(&[]).unwrap().is_empty());
}

#[test]
fn ids_beyond_the_index_are_dropped() {
    let f = unsorted_fixture();
    let pop = f.population();
    assert_eq!(
        pop.afferent_edges(&[5, 1, 1_000_000, u64::MAX]).unwrap(),
        naive(&TARGETS, &[1])
    );
    assert!(pop.afferent_edges(&[5, 99]).unwrap().is_empty());
    // Node 4 is in the index (node_count 5) but has no edges: row [x, x].
    assert!(pop.afferent_edges(&[4]).unwrap().is_empty());
}

#[test]
fn empty_ranges_are_dropped_at_both_levels() {
    // Node rows [1,1] (empty) and edge rows [2,2] (empty) must vanish.
    let f = Fixture::new(&[0, 0, 0, 0], &[0, 0, 2, 2]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 2], [1, 1], [2, 4]],
        &[[0, 2], [2, 2], [2, 2], [2, 4]],
    );
    let pop = f.population();
    assert_eq!(pop.afferent_edges(&[0]).unwrap().ranges(), &[(0, 2)]);
    assert!(pop.afferent_edges(&[1]).unwrap().is_empty());
    assert_eq!(pop.afferent_edges(&[2]).unwrap().ranges(), &[(2, 4)]);
    assert_eq!(pop.afferent_edges(&[0, 1, 2]).unwrap().ranges(), &[(0, 4)]);
    pop.target_index().unwrap().unwrap().validate().unwrap();
}

#[test]
fn overlapping_node_rows_are_read_once() {
    // Two nodes share rows of range_to_edge_id; results are a set either way.
    let f = Fixture::new(&[0; 6], &[0, 0, 1, 1, 1, 0]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 2], [1, 3]],
        &[[0, 2], [5, 6], [2, 5]],
    );
    let pop = f.population();
    assert_eq!(
        pop.afferent_edges(&[0]).unwrap().ranges(),
        &[(0, 2), (5, 6)]
    );
    assert_eq!(pop.afferent_edges(&[1]).unwrap().ranges(), &[(2, 6)]);
    assert_eq!(pop.afferent_edges(&[0, 1]).unwrap().ranges(), &[(0, 6)]);
}

#[test]
fn bmtk_spelling_is_accepted() {
    let f = Fixture::new(&SOURCES, &TARGETS);
    let (nodes, ranges) = libsonata_index(&TARGETS, 5);
    f.write_index("target_to_source", "node_id_to_range", &nodes, &ranges);
    let pop = f.population();
    let index = pop.target_index().unwrap().unwrap();
    assert_eq!(index.spelling(), IndexSpelling::Bmtk);
    assert_eq!(index.range_count(), ranges.len() as u64);
    for n in 0..6 {
        assert_eq!(pop.afferent_edges(&[n]).unwrap(), naive(&TARGETS, &[n]));
    }
    assert!(pop.source_index().unwrap().is_none());
}

#[test]
fn signed_index_datasets_are_accepted_and_negatives_rejected() {
    let f = Fixture::new(&[0, 0, 0], &[1, 0, 1]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    let nodes = Array2::from_shape_vec((2, 2), vec![0i64, 1, 1, 3]).unwrap();
    let ranges = Array2::from_shape_vec((3, 2), vec![1i32, 2, 0, 1, 2, 3]).unwrap();
    g.new_dataset_builder()
        .with_data(&nodes)
        .create("node_id_to_ranges")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&ranges)
        .create("range_to_edge_id")
        .unwrap();
    let pop = f.population();
    assert_eq!(
        pop.afferent_edges(&[1]).unwrap().ranges(),
        &[(0, 1), (2, 3)]
    );
    assert_eq!(pop.afferent_edges(&[0]).unwrap().ranges(), &[(1, 2)]);

    let f = Fixture::new(&[0, 0, 0], &[1, 0, 1]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    let nodes = Array2::from_shape_vec((2, 2), vec![0i64, 1, -1, 3]).unwrap();
    let ranges = Array2::from_shape_vec((3, 2), vec![1i64, 2, 0, 1, 2, 3]).unwrap();
    g.new_dataset_builder()
        .with_data(&nodes)
        .create("node_id_to_ranges")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&ranges)
        .create("range_to_edge_id")
        .unwrap();
    let msg = invalid_message(f.population().afferent_edges(&[1]).unwrap_err());
    assert!(
        msg.contains("node_id_to_ranges") && msg.contains("negative"),
        "{msg}"
    );
}

#[test]
fn inverted_node_range_is_an_error() {
    let f = Fixture::new(&[0, 0, 0], &[0, 1, 2]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 1], [1, 2], [3, 2]],
        &[[0, 1], [1, 2], [2, 3]],
    );
    let pop = f.population();
    assert_eq!(pop.afferent_edges(&[0, 1]).unwrap().ranges(), &[(0, 2)]);
    let msg = invalid_message(pop.afferent_edges(&[2]).unwrap_err());
    assert!(
        msg.contains("indices/target_to_source/node_id_to_ranges"),
        "{msg}"
    );
    assert!(msg.contains("node 2") && msg.contains("inverted"), "{msg}");
    assert!(
        msg.contains("population 'pop'") && msg.contains("edges.h5"),
        "{msg}"
    );
    let msg = invalid_message(pop.target_index().unwrap().unwrap().validate().unwrap_err());
    assert!(msg.contains("node 2"), "{msg}");
}

#[test]
fn node_range_past_range_to_edge_id_is_an_error() {
    let f = Fixture::new(&[0, 0], &[0, 1]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 1], [1, 5]],
        &[[0, 1], [1, 2]],
    );
    let pop = f.population();
    let msg = invalid_message(pop.afferent_edges(&[1]).unwrap_err());
    assert!(
        msg.contains("node_id_to_ranges") && msg.contains("node 1"),
        "{msg}"
    );
    assert!(msg.contains("2 rows"), "{msg}");
}

#[test]
fn edge_range_past_the_edges_is_an_error() {
    let f = Fixture::new(&[0, 0, 0], &[0, 1, 1]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 1], [1, 2]],
        &[[0, 1], [1, 7]],
    );
    let pop = f.population();
    assert_eq!(pop.afferent_edges(&[0]).unwrap().ranges(), &[(0, 1)]);
    let msg = invalid_message(pop.afferent_edges(&[1]).unwrap_err());
    assert!(
        msg.contains("indices/target_to_source/range_to_edge_id"),
        "{msg}"
    );
    assert!(msg.contains("row 1") && msg.contains("3 edges"), "{msg}");
    let msg = invalid_message(pop.target_index().unwrap().unwrap().validate().unwrap_err());
    assert!(msg.contains("range_to_edge_id"), "{msg}");

    let f = Fixture::new(&[0, 0, 0], &[0, 1, 1]);
    f.write_index(
        "target_to_source",
        "node_id_to_ranges",
        &[[0, 1], [1, 2]],
        &[[0, 1], [3, 1]],
    );
    let msg = invalid_message(f.population().afferent_edges(&[1]).unwrap_err());
    assert!(
        msg.contains("range_to_edge_id") && msg.contains("inverted"),
        "{msg}"
    );
}

#[test]
fn missing_index_is_a_clear_error() {
    let f = Fixture::new(&SOURCES, &TARGETS);
    let pop = f.population();
    assert!(pop.target_index().unwrap().is_none());
    assert!(pop.source_index().unwrap().is_none());
    let msg = invalid_message(pop.afferent_edges(&[1]).unwrap_err());
    assert!(msg.contains("has no indices/target_to_source"), "{msg}");
    assert!(
        msg.contains("edges.h5") && msg.contains("population 'pop'"),
        "{msg}"
    );
    let msg = invalid_message(pop.efferent_edges(&[1]).unwrap_err());
    assert!(msg.contains("has no indices/source_to_target"), "{msg}");
    let msg = invalid_message(pop.connecting_edges(&[1], &[1]).unwrap_err());
    assert!(msg.contains("has no indices/"), "{msg}");
}

#[test]
fn malformed_indices_are_rejected_at_open() {
    // 1-D node dataset.
    let f = Fixture::new(&[0], &[0]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&[0u64, 1])
        .create("node_id_to_ranges")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&rows(&[[0, 1]]))
        .create("range_to_edge_id")
        .unwrap();
    let msg = invalid_message(f.population().target_index().unwrap_err());
    assert!(
        msg.contains("node_id_to_ranges") && msg.contains("shape"),
        "{msg}"
    );

    // (n, 3) and float datasets.
    let f = Fixture::new(&[0], &[0]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    let three = Array2::from_shape_vec((1, 3), vec![0u64, 1, 2]).unwrap();
    g.new_dataset_builder()
        .with_data(&three)
        .create("node_id_to_ranges")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&rows(&[[0, 1]]))
        .create("range_to_edge_id")
        .unwrap();
    assert!(invalid_message(f.population().target_index().unwrap_err()).contains("(n, 2)"));

    let f = Fixture::new(&[0], &[0]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&rows(&[[0, 1]]))
        .create("node_id_to_ranges")
        .unwrap();
    let floats = Array2::from_shape_vec((1, 2), vec![0.0f64, 1.0]).unwrap();
    g.new_dataset_builder()
        .with_data(&floats)
        .create("range_to_edge_id")
        .unwrap();
    let msg = invalid_message(f.population().target_index().unwrap_err());
    assert!(
        msg.contains("range_to_edge_id") && msg.contains("integers"),
        "{msg}"
    );

    // range_to_edge_id missing; node dataset missing.
    let f = Fixture::new(&[0], &[0]);
    let g = f
        .pop_group()
        .create_group("indices/target_to_source")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&rows(&[[0, 1]]))
        .create("node_id_to_ranges")
        .unwrap();
    let msg = invalid_message(f.population().afferent_edges(&[0]).unwrap_err());
    assert!(msg.contains("indices/target_to_source/range_to_edge_id") && msg.contains("missing"));

    let f = Fixture::new(&[0], &[0]);
    let g = f
        .pop_group()
        .create_group("indices/source_to_target")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&rows(&[[0, 1]]))
        .create("range_to_edge_id")
        .unwrap();
    let msg = invalid_message(f.population().source_index().unwrap_err());
    assert!(
        msg.contains("node_id_to_ranges") && msg.contains("node_id_to_range'"),
        "{msg}"
    );
}

#[test]
fn connecting_edges_is_the_intersection() {
    let f = unsorted_fixture();
    let pop = f.population();
    for smask in 0u32..16 {
        for tmask in 0u32..16 {
            let s: Vec<u64> = (0..4).filter(|b| smask & (1 << b) != 0).collect();
            let t: Vec<u64> = (0..4).filter(|b| tmask & (1 << b) != 0).collect();
            let want: Vec<u64> = (0..SOURCES.len() as u64)
                .filter(|&e| s.contains(&SOURCES[e as usize]) && t.contains(&TARGETS[e as usize]))
                .collect();
            assert_eq!(
                pop.connecting_edges(&s, &t).unwrap(),
                Selection::from_values(&want),
                "{s:?} -> {t:?}"
            );
        }
    }
    // Source 0 -> target 1: edges 1 and 10.
    assert_eq!(
        pop.connecting_edges(&[0], &[1]).unwrap().ranges(),
        &[(1, 2), (10, 11)]
    );
}

#[test]
fn large_index_is_read_in_blocks() {
    // 1.3M nodes (more than one 2^20-row block), edges only for a few of them, far apart
    // (more than the 262,144-row merge gap).
    let n: u64 = 1_300_000;
    let with_edges = [0u64, 7, 262_150, 700_000, 1_048_576, 1_299_999];
    let targets: Vec<u64> = with_edges.iter().flat_map(|&t| [t, t]).collect();
    let sources = vec![0u64; targets.len()];
    let f = Fixture::new(&sources, &targets);
    let (nodes, ranges) = libsonata_index(&targets, n);
    f.write_index("target_to_source", "node_id_to_ranges", &nodes, &ranges);
    let pop = f.population();
    let index = pop.target_index().unwrap().unwrap();
    assert_eq!(index.node_count(), n);
    let all: Vec<u64> = (0..n).collect();
    assert_eq!(pop.afferent_edges(&all).unwrap().ranges(), &[(0, 12)]);
    assert_eq!(
        pop.afferent_edges(&[1_299_999, 0, 700_000, 5])
            .unwrap()
            .ranges(),
        &[(0, 2), (6, 8), (10, 12)]
    );
    for (k, &t) in with_edges.iter().enumerate() {
        let k = k as u64;
        assert_eq!(
            pop.afferent_edges(&[t]).unwrap().ranges(),
            &[(2 * k, 2 * k + 2)]
        );
    }
    index.validate().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Sample files

fn samples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sonata_samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/sonata_samples is absent (sample-file checks need it)");
        None
    }
}

fn read_ids(pop: &EdgePopulation) -> (Vec<u64>, Vec<u64>) {
    let sel = Selection::all(pop.size());
    (
        pop.source_ids().read_selection(&sel).unwrap(),
        pop.target_ids().read_selection(&sel).unwrap(),
    )
}

#[test]
fn libsonata_edges1_documented_results() {
    let Some(dir) = samples_dir() else { return };
    let path = dir.join("openbraininstitute/libsonata/tests/data/edges1.h5");
    let pop = EdgeFile::open(&path)
        .unwrap()
        .population("edges-AB")
        .unwrap();
    // Inspected with h5py: target_node_id = [1, 2, 1, 1, 0, 2], source_node_id = [1, 1, 2, 2, 3, 3];
    // target_to_source node_id_to_ranges = [[0,1],[1,3],[3,5],[5,5]],
    // range_to_edge_id = [[4,5],[0,1],[2,4],[1,2],[5,6]].
    let (sources, targets) = read_ids(&pop);
    assert_eq!(targets, vec![1, 2, 1, 1, 0, 2]);
    assert_eq!(sources, vec![1, 1, 2, 2, 3, 3]);
    let index = pop.target_index().unwrap().unwrap();
    assert_eq!((index.node_count(), index.range_count()), (4, 5));
    for t in 0..6 {
        assert_eq!(
            pop.afferent_edges(&[t]).unwrap(),
            naive(&targets, &[t]),
            "target {t}"
        );
    }
    // libsonata tests/test_edges.cpp: afferentEdges({1, 2}) == {{0, 4}, {5, 6}},
    // efferentEdges({1, 2}) == {{0, 4}}, connectingEdges({1}, {2}) == {{1, 2}}.
    assert_eq!(
        pop.afferent_edges(&[2, 1]).unwrap().ranges(),
        &[(0, 4), (5, 6)]
    );
    assert_eq!(pop.afferent_edges(&[0]).unwrap().ranges(), &[(4, 5)]);
    assert!(pop.afferent_edges(&[3]).unwrap().is_empty());
    assert_eq!(pop.efferent_edges(&[1, 2]).unwrap().ranges(), &[(0, 4)]);
    assert_eq!(
        pop.connecting_edges(&[1], &[2]).unwrap().ranges(),
        &[(1, 2)]
    );
    assert_eq!(
        pop.connecting_edges(&[1, 2, 3], &[0, 1, 2]).unwrap(),
        Selection::all(6)
    );
}

#[test]
fn every_sample_index_agrees_with_the_id_columns() {
    let Some(dir) = samples_dir() else { return };
    let files = [
        "AllenInstitute/sonata/examples/300_intfire/network/v1_v1_edges.h5",
        "AllenInstitute/sonata/examples/300_intfire/network/lgn_v1_edges.h5",
        "AllenInstitute/sonata/examples/edges/edge_index_example.h5",
        "AllenInstitute/sonata/examples/9_cells/network/excvirt_cortex_edges.h5",
        "BlueBrain/snap/tests/data/edges.h5",
        "BlueBrain/snap/tests/data/edges_complete_graph.h5",
        "BlueBrain/sonata-extension/source/usecases/usecase3/edges_AB.h5",
        "BlueBrain/sonata-extension/source/usecases/usecase3/local_edges_B.h5",
        "openbraininstitute/libsonata/tests/data/edges1.h5",
    ];
    let mut checked = 0;
    for rel in files {
        let file = EdgeFile::open(dir.join(rel)).unwrap();
        for name in file.population_names().unwrap() {
            let Ok(pop) = file.population(&name) else {
                continue;
            }; // libsonata's broken edges-AC
            let (sources, targets) = read_ids(&pop);
            for (index, column) in [
                (pop.target_index().unwrap(), &targets),
                (pop.source_index().unwrap(), &sources),
            ] {
                let index: EdgeIndex = index.unwrap_or_else(|| panic!("{rel} {name}: no index"));
                index.validate().unwrap();
                if rel.contains("AllenInstitute") {
                    assert_eq!(index.spelling(), IndexSpelling::Bmtk, "{rel}");
                }
                for node in 0..index.node_count() + 1 {
                    assert_eq!(
                        index.resolve(&[node]).unwrap(),
                        naive(column, &[node]),
                        "{rel} {name} {:?} node {node}",
                        index.direction()
                    );
                }
                let all: Vec<u64> = (0..index.node_count()).collect();
                assert_eq!(
                    index.resolve(&all).unwrap(),
                    naive(column, &all),
                    "{rel} {name}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} indices checked");
}
