//! The CPU census engine against hand-computed tables and the naive reference, on every input
//! shape: sorted, target-sorted, unsorted, chunk boundaries, spilled partitions, wide ids, and
//! the errors of bad id columns.

mod common;

use common::{
    Ids, Rng, assert_same_tables, naive_census, random_edges as edges, write_edges,
    write_target_index,
};
use sonata_census::census::output::{CensusWriter, read_census};
use sonata_census::census::{CensusOptions, census_population};
use sonata_census::progress::Progress;
use sonata_census::{EdgeFile, Error};

fn run(
    path: &std::path::Path,
    pop: &str,
    options: &CensusOptions,
) -> sonata_census::Result<sonata_census::Census> {
    let file = EdgeFile::open(path)?;
    let pop = file.population(pop)?;
    census_population(&pop, options, &Progress::hidden())
}

fn opts(chunk_len: usize, memory_budget: u64, nodes_count: Option<u64>) -> CensusOptions {
    CensusOptions {
        chunk_len,
        memory_budget,
        nodes_count,
        ..Default::default()
    }
}

#[test]
fn hand_computed_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    // target 0 <- 5,5,2 ; target 2 <- 1 ; target 3 <- 4,4,4,4 ; target 1 and 4 none
    let sources = [5, 2, 5, 1, 4, 4, 4, 4];
    let targets = [0, 0, 0, 2, 3, 3, 3, 3];
    write_edges(&path, "p", &sources, &targets, Ids::U64);
    for chunk in [1, 2, 3, 100] {
        let c = run(&path, "p", &opts(chunk, 1 << 30, Some(5))).unwrap();
        assert_eq!(c.n_targets, 5);
        assert_eq!(c.target_synapse_count, vec![3, 0, 1, 4, 0]);
        assert_eq!(c.target_connection_count, vec![2, 0, 1, 1, 0]);
        assert_eq!(c.target_offsets, vec![0, 2, 2, 3, 4, 4]);
        assert_eq!(c.source_node_id, vec![2, 5, 1, 4]);
        assert_eq!(c.synapse_count, vec![1, 2, 1, 4]);
        assert_eq!(c.synapses_per_connection, vec![0, 2, 1, 0, 1]);
        assert!(c.sortedness.by_target && !c.sortedness.by_target_source);
        assert_eq!(c.source_population.as_deref(), Some("src"));
        assert_eq!(c.target_population.as_deref(), Some("tgt"));
    }
    // Without --nodes-count and without index: largest target + 1.
    let c = run(&path, "p", &opts(3, 1 << 30, None)).unwrap();
    assert_eq!(c.n_targets, 4);
    assert_eq!(c.target_offsets, vec![0, 2, 2, 3, 4]);
}

#[test]
fn random_shapes_match_the_naive_reference() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(42);
    let mut case = 0;
    for shape in ["sorted", "target-sorted", "shuffled", "skewed"] {
        for n in [0usize, 1, 2, 255, 256, 257, 1000, 4099] {
            for (ids, n_sources) in [(Ids::U64, 50u64), (Ids::I64, 1000), (Ids::U64, 1 << 40)] {
                case += 1;
                let n_targets = 1 + rng.below(60);
                let (s, t) = edges(&mut rng, n, n_targets, n_sources, shape);
                let path = dir.path().join(format!("c{case}.h5"));
                write_edges(&path, "p", &s, &t, ids);
                let want = naive_census(&s, &t, Some(n_targets));
                for (chunk, budget) in [(1 << 20, 1 << 30), (7, 1 << 30), (64, 256), (3, 8)] {
                    let what = format!(
                        "case {case} {shape} n={n} chunk={chunk} budget={budget} sources<{n_sources}"
                    );
                    let got = run(&path, "p", &opts(chunk, budget, Some(n_targets))).unwrap();
                    assert_same_tables(&got, &want, &what);
                }
            }
        }
    }
}

#[test]
fn index_sets_the_number_of_targets_and_many_targets_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    let mut rng = Rng(7);
    let (s, t) = edges(&mut rng, 500, 40, 100, "shuffled");
    // Only targets < 40 have edges; the index says there are 10_000 nodes.
    write_edges(&path, "p", &s, &t, Ids::U64);
    write_target_index(&path, "p", &t, 10_000);
    let want = naive_census(&s, &t, Some(10_000));
    let got = run(&path, "p", &opts(64, 1 << 30, None)).unwrap();
    assert_same_tables(&got, &want, "index-sized");
    assert_eq!(got.target_synapse_count[9_999], 0);
}

#[test]
fn one_target_with_100k_synapses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    let mut rng = Rng(3);
    let mut pairs: Vec<(u64, u64)> = (0..100_000).map(|_| (1, rng.below(5000))).collect();
    pairs.extend((0..1000).map(|i| (i % 3 * 2, i)));
    pairs.sort_unstable_by_key(|&(t, _)| t);
    let s: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let t: Vec<u64> = pairs.iter().map(|p| p.0).collect();
    write_edges(&path, "p", &s, &t, Ids::U64);
    let want = naive_census(&s, &t, None);
    for chunk in [1000, 65_536, 1 << 20] {
        let got = run(&path, "p", &opts(chunk, 1 << 30, None)).unwrap();
        assert_same_tables(&got, &want, &format!("chunk {chunk}"));
        assert_eq!(got.target_synapse_count[1], 100_000);
    }
}

#[test]
fn target_beyond_the_node_count_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    write_edges(&path, "p", &[0, 1, 2], &[0, 1, 5], Ids::U64);
    let unsorted = dir.path().join("u.h5");
    write_edges(&unsorted, "p", &[0, 1, 2], &[5, 1, 0], Ids::U64);
    for p in [&path, &unsorted] {
        let err = run(p, "p", &opts(2, 1 << 30, Some(3))).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidData { .. }), "{msg}");
        assert!(msg.contains("target node id 5"), "{msg}");
        assert!(msg.contains("--nodes-count"), "{msg}");
        assert!(msg.contains("target_node_id"), "{msg}");
    }
}

#[test]
fn bad_id_columns_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Negative int64 id.
    let neg = dir.path().join("neg.h5");
    {
        let f = hdf5::File::create(&neg).unwrap();
        let g = f.create_group("edges/p").unwrap();
        g.new_dataset_builder()
            .with_data(&[0i64, 1])
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0i64, -3])
            .create("target_node_id")
            .unwrap();
    }
    let msg = run(&neg, "p", &CensusOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("negative node id -3 at row 1") && msg.contains("target_node_id"),
        "{msg}"
    );

    // Float ids.
    let float = dir.path().join("float.h5");
    {
        let f = hdf5::File::create(&float).unwrap();
        let g = f.create_group("edges/p").unwrap();
        g.new_dataset_builder()
            .with_data(&[0.0f64, 1.0])
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("target_node_id")
            .unwrap();
    }
    let err = EdgeFile::open(&float).unwrap().population("p").unwrap_err();
    assert!(
        err.to_string().contains("source_node_id") && err.to_string().contains("float64"),
        "{err}"
    );

    // 2-D ids.
    let twod = dir.path().join("2d.h5");
    {
        let f = hdf5::File::create(&twod).unwrap();
        let g = f.create_group("edges/p").unwrap();
        g.new_dataset_builder()
            .with_data(&ndarray::arr2(&[[0u64, 1], [2, 3]]))
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("target_node_id")
            .unwrap();
    }
    let err = EdgeFile::open(&twod).unwrap().population("p").unwrap_err();
    assert!(err.to_string().contains("must be 1-D"), "{err}");

    // Length mismatch and missing column.
    let mism = dir.path().join("mism.h5");
    {
        let f = hdf5::File::create(&mism).unwrap();
        let g = f.create_group("edges/p").unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1, 2])
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("target_node_id")
            .unwrap();
        let g = f.create_group("edges/q").unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("source_node_id")
            .unwrap();
    }
    let file = EdgeFile::open(&mism).unwrap();
    let err = file.population("p").unwrap_err().to_string();
    assert!(err.contains("has 3 rows") && err.contains("has 2"), "{err}");
    let err = file.population("q").unwrap_err().to_string();
    assert!(
        err.contains("population 'q'") && err.contains("target_node_id") && err.contains("missing"),
        "{err}"
    );
    let err = file.population("nope").unwrap_err().to_string();
    assert!(
        err.contains("no population 'nope'") && err.contains("p, q"),
        "{err}"
    );
}

#[test]
fn written_tables_read_back_identically_and_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("e.h5");
    let mut rng = Rng(11);
    let (s, t) = edges(&mut rng, 3000, 100, 300, "shuffled");
    write_edges(&input, "a", &s, &t, Ids::U64);
    write_edges(&input, "b", &t, &s, Ids::U32);
    let out = dir.path().join("census.h5");
    let ca = run(&input, "a", &CensusOptions::default()).unwrap();
    let cb = run(&input, "b", &CensusOptions::default()).unwrap();
    let mut w = CensusWriter::create(&out, false).unwrap();
    w.write(&ca).unwrap();
    w.write(&cb).unwrap();
    assert!(!out.exists(), "the output must appear only when complete");
    w.finish().unwrap();
    // The file does not record the engine (outputs are byte-identical across backends).
    let engine_blank = |c: &sonata_census::Census| sonata_census::Census {
        backend: sonata_census::census::CountedBy::Unrecorded,
        ..c.clone()
    };
    assert_eq!(read_census(&out, "a").unwrap(), engine_blank(&ca));
    assert_eq!(read_census(&out, "b").unwrap(), engine_blank(&cb));
    // Only the output is left in the folder (no temporary files).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Existing output is refused without force; a dropped writer leaves nothing.
    assert!(matches!(
        CensusWriter::create(&out, false),
        Err(Error::OutputExists { .. })
    ));
    let before = std::fs::read(&out).unwrap();
    drop(CensusWriter::create(&out, true).unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    // Writing the same census twice gives byte-identical files.
    let out2 = dir.path().join("census2.h5");
    let mut w = CensusWriter::create(&out2, false).unwrap();
    w.write(&ca).unwrap();
    w.write(&cb).unwrap();
    w.finish().unwrap();
    assert_eq!(std::fs::read(&out2).unwrap(), before);
}
