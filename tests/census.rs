//! Every census engine against hand-computed tables and the naive reference, from one body per
//! behaviour: each test is a function of the [`Engine`] that [`engine_tests!`] runs as
//! `cpu::NAME` and `gpu::NAME` (the GPU variant prints "no GPU adapter - skipped" and
//! passes without an adapter, lavapipe counts, unless SONATA_CENSUS_REQUIRE_GPU=1). Input shapes:
//! sorted, target-sorted, unsorted and skewed files, chunk sizes that make runs cross chunk
//! boundaries, spilled or several partitions, empty targets, a target with 10^6 synapses, bmtk
//! `nsyns`; errors of bad id columns and targets beyond the node count; the written file (read
//! back, atomic, byte-identical whichever engine counted). GPU-only behaviour (flushes, CPU
//! fallback of wide ids, the sample files against the CPU engine) is in `gpu_census.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use common::{
    Engine, Ids, Rng, assert_same_tables, engine_tests, naive_census, random_edges as edges,
    write_edges, write_nsyns, write_target_index,
};
use sonata_census::census::output::CensusWriter;
use sonata_census::census::reader::read_census;
use sonata_census::census::{CensusOptions, CountedBy};
use sonata_census::error::Setting;
use sonata_census::{Census, EdgeFile, Error};

engine_tests! {
    fn hand_computed_tables;
    fn random_shapes_match_the_naive_reference;
    fn index_sets_the_number_of_targets_and_many_targets_are_empty;
    fn one_target_with_a_million_synapses;
    fn target_beyond_the_node_count_is_an_error;
    fn bad_id_columns_are_named_errors;
    fn nsyns_totals_are_summed_per_target;
    fn written_tables_read_back_identically_and_atomically;
    fn written_tables_are_byte_identical_to_the_cpu_engines;
    fn source_ids_around_and_beyond_2_32_are_counted_exactly;
}

fn opts(chunk_len: usize, memory_budget: u64, nodes_count: Option<u64>) -> CensusOptions {
    CensusOptions {
        chunk_len,
        memory_budget,
        nodes_count,
        ..Default::default()
    }
}

/// The engine's census equals the CPU engine's on every field but the backend name, which says
/// "cpu" or "gpu: <adapter>".
fn assert_equals_cpu(engine: Engine, got: &Census, cpu: &Census, what: &str) {
    assert_same_tables(got, cpu, what);
    assert_eq!(got.population, cpu.population, "{what}: population");
    assert_eq!(got.source_population, cpu.source_population, "{what}");
    assert_eq!(got.target_population, cpu.target_population, "{what}");
    assert!(
        got.target_nsyns_total == cpu.target_nsyns_total,
        "{what}: target_nsyns_total differs"
    );
    let mut g = got.clone();
    g.backend = cpu.backend.clone();
    assert!(&g == cpu, "{what}: the censuses differ");
    match engine {
        Engine::Cpu => assert_eq!(got.backend, CountedBy::Cpu, "{what}"),
        Engine::Gpu => assert!(
            matches!(got.backend, CountedBy::Gpu { .. }),
            "{what}: {}",
            got.backend
        ),
    }
}

fn hand_computed_tables(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    // target 0 <- 5,5,2 ; target 2 <- 1 ; target 3 <- 4,4,4,4 ; targets 1 and 4 none
    let sources = [5, 2, 5, 1, 4, 4, 4, 4];
    let targets = [0, 0, 0, 2, 3, 3, 3, 3];
    write_edges(&path, "p", &sources, &targets, Ids::U64);
    for chunk in [1, 2, 3, 100] {
        let what = format!("chunk {chunk}");
        let (c, notes) = engine
            .census_noted(&path, "p", &opts(chunk, 1 << 30, Some(5)))
            .unwrap();
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
        engine.assert_gpu_strategy(&notes, "sorted", &what);
        engine.assert_no_notices(&notes, &what);
    }
    // Without --nodes-count and without index: largest target + 1.
    let c = engine.census(&path, "p", &opts(3, 1 << 30, None)).unwrap();
    assert_eq!(c.n_targets, 4);
    assert_eq!(c.target_offsets, vec![0, 2, 2, 3, 4]);
}

/// Sources on both sides of 2^32 (and far beyond), int64 and uint64 columns, every input order,
/// with chunks small enough that a sorted run starts with narrow chunks and turns wide midway:
/// the naive reference and the CPU engine's census, exactly, counted by the engine itself (no
/// notice of a hand-back).
fn source_ids_around_and_beyond_2_32_are_counted_exactly(engine: Engine) {
    const NEAR: [u64; 8] = [
        0,
        1,
        (1 << 32) - 1,
        1 << 32,
        (1 << 32) + 1,
        (3 << 32) - 1,
        (3 << 32) + 5,
        1 << 62,
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(32);
    let mut case = 0;
    for shape in ["sorted", "target-sorted", "shuffled"] {
        for ids in [Ids::U64, Ids::I64] {
            case += 1;
            let n_targets = 40u64;
            // Narrow sources only for the first targets, so that a sorted pass meets wide ones
            // after some chunks; equal low words under different high words throughout.
            let mut pairs: Vec<(u64, u64)> = (0..5000)
                .map(|_| {
                    let t = rng.below(n_targets);
                    let s = if t < 10 {
                        rng.below(3)
                    } else {
                        NEAR[rng.below(NEAR.len() as u64) as usize]
                    };
                    (t, s)
                })
                .collect();
            match shape {
                "sorted" => pairs.sort_unstable(),
                "target-sorted" => pairs.sort_by_key(|&(t, _)| t),
                _ => {}
            }
            let s: Vec<u64> = pairs.iter().map(|p| p.1).collect();
            let t: Vec<u64> = pairs.iter().map(|p| p.0).collect();
            let path = dir.path().join(format!("w{case}.h5"));
            write_edges(&path, "p", &s, &t, ids);
            let want = naive_census(&s, &t, Some(n_targets));
            assert!(want.source_node_id.iter().any(|&x| x > u64::from(u32::MAX)));
            for chunk in [250usize, 1 << 20] {
                let what = format!("{shape} case {case} chunk={chunk}");
                let o = opts(chunk, 1 << 30, Some(n_targets));
                let (got, notes) = engine
                    .census_noted(&path, "p", &o)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_same_tables(&got, &want, &what);
                let cpu = Engine::Cpu.census(&path, "p", &o).unwrap();
                assert_equals_cpu(engine, &got, &cpu, &what);
                engine.assert_no_notices(&notes, &what);
                let strategy = if shape == "shuffled" {
                    "unsorted, 1 partitions"
                } else {
                    "sorted"
                };
                engine.assert_gpu_strategy(&notes, strategy, &what);
            }
        }
    }
}

fn random_shapes_match_the_naive_reference(engine: Engine) {
    // Each engine at its own edges: the CPU engine's tiny chunks and budgets (3 rows, 8 bytes)
    // exercise its run merging and spilled partitions; the GPU engine's partitions of 256
    // edges and runs crossing 97-row chunks exercise its batching. Sources beyond 32 bits
    // (multiples of 2^37, and of 2^30 on both sides of 2^32 in int64 columns) take the GPU
    // engine's wide kernels.
    let id_cases: &[(Ids, u64)] = &[
        (Ids::U64, 50),
        (Ids::I64, 1000),
        (Ids::U64, 1 << 40),
        (Ids::I64, 1 << 33),
    ];
    // (chunk_len, memory_budget)
    let chunkings: &[(usize, u64)] = match engine {
        Engine::Cpu => &[(1 << 20, 1 << 30), (7, 1 << 30), (64, 256), (3, 8)],
        Engine::Gpu => &[(1 << 20, 1 << 30), (97, 1 << 30), (1000, 1024)],
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(42);
    let mut case = 0;
    for shape in ["sorted", "target-sorted", "shuffled", "skewed"] {
        for n in [0usize, 1, 2, 255, 256, 257, 1000, 4099] {
            for &(ids, n_sources) in id_cases {
                case += 1;
                let n_targets = 1 + rng.below(60);
                let (s, t) = edges(&mut rng, n, n_targets, n_sources, shape);
                let path = dir.path().join(format!("c{case}.h5"));
                write_edges(&path, "p", &s, &t, ids);
                let want = naive_census(&s, &t, Some(n_targets));
                for &(chunk, budget) in chunkings {
                    let what = format!(
                        "case {case} {shape} n={n} chunk={chunk} budget={budget} sources<{n_sources}"
                    );
                    let o = opts(chunk, budget, Some(n_targets));
                    let (got, notes) = engine
                        .census_noted(&path, "p", &o)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_same_tables(&got, &want, &what);
                    if engine != Engine::Cpu {
                        let cpu = Engine::Cpu.census(&path, "p", &o).unwrap();
                        assert_equals_cpu(engine, &got, &cpu, &what);
                    }
                    engine.assert_no_notices(&notes, &what);
                }
            }
        }
    }
}

fn index_sets_the_number_of_targets_and_many_targets_are_empty(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    for shape in ["sorted", "shuffled"] {
        let path = dir.path().join(format!("{shape}.h5"));
        let (s, t) = edges(&mut rng, 500, 40, 100, shape);
        // Targets are below 40; the index says there are 100_000 nodes.
        write_edges(&path, "p", &s, &t, Ids::U64);
        write_target_index(&path, "p", &t, 100_000);
        let want = naive_census(&s, &t, Some(100_000));
        let got = engine.census(&path, "p", &opts(64, 1 << 30, None)).unwrap();
        assert_same_tables(&got, &want, shape);
        assert_eq!(got.target_synapse_count[9_999], 0);
        assert_eq!(got.target_synapse_count[99_999], 0);
    }
}

/// One target with 10^6 synapses: a long segment (on the GPU sorted through the global path), a
/// run crossing many chunks, and an unsorted file in several partitions.
fn one_target_with_a_million_synapses(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(3);
    let mut pairs: Vec<(u64, u64)> = (0..1_000_000).map(|_| (1, rng.below(5000))).collect();
    pairs.extend((0..3000).map(|i| (i % 3 * 2, i)));
    pairs.sort_by_key(|&(t, _)| t);
    let s: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let t: Vec<u64> = pairs.iter().map(|p| p.0).collect();
    let sorted = dir.path().join("sorted.h5");
    write_edges(&sorted, "p", &s, &t, Ids::U64);
    let want = naive_census(&s, &t, None);
    for chunk in [1000, 65_536, 150_000, 1 << 20] {
        let got = engine
            .census(&sorted, "p", &opts(chunk, 1 << 30, None))
            .unwrap();
        assert_same_tables(&got, &want, &format!("sorted, chunk {chunk}"));
        assert_eq!(got.target_synapse_count[1], 1_000_000);
    }
    // Shuffled: the heavy target gets a partition of its own (budget of 10^5 edges).
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let s2: Vec<u64> = order.iter().map(|&i| s[i]).collect();
    let t2: Vec<u64> = order.iter().map(|&i| t[i]).collect();
    let shuffled = dir.path().join("shuffled.h5");
    write_edges(&shuffled, "p", &s2, &t2, Ids::U64);
    let (got, notes) = engine
        .census_noted(&shuffled, "p", &opts(1 << 19, 400_000, None))
        .unwrap();
    let want = naive_census(&s2, &t2, None);
    assert_same_tables(&got, &want, "shuffled");
    engine.assert_gpu_strategy(&notes, "unsorted, 3 partitions", "shuffled");
}

fn target_beyond_the_node_count_is_an_error(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("sorted", &[0, 1, 2][..], &[0, 1, 5][..]),
        ("unsorted", &[0, 1, 2], &[5, 1, 0]),
        ("sorted-4", &[0, 1, 2, 3], &[0, 1, 1, 5]),
        ("unsorted-4", &[0, 1, 2, 3], &[2, 1, 5, 0]),
    ];
    for (name, sources, targets) in files {
        let path = dir.path().join(format!("{name}.h5"));
        write_edges(&path, "p", sources, targets, Ids::U64);
        for chunk in [2, 100] {
            let o = opts(chunk, 1 << 30, Some(3));
            let err = engine.census(&path, "p", &o).unwrap_err();
            let msg = err.to_string();
            // About the caller's node count: the library names no flag, the tool adds it.
            assert!(
                matches!(&err, Error::About { error, setting: Setting::NodeCount }
                    if matches!(**error, Error::InvalidData { .. })),
                "{msg}"
            );
            assert!(msg.contains("target node id 5 at row"), "{msg}");
            assert!(msg.contains("given by the node count"), "{msg}");
            assert!(!msg.contains("--nodes-count"), "{msg}");
            assert!(msg.contains("target_node_id"), "{msg}");
            // Every engine gives the CPU engine's error.
            let cpu_err = Engine::Cpu.census(&path, "p", &o).unwrap_err();
            assert_eq!(msg, cpu_err.to_string(), "{name}");
        }
    }
}

fn bad_id_columns_are_named_errors(engine: Engine) {
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
    let msg = engine
        .census(&neg, "p", &CensusOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("negative node id -3 at row 1") && msg.contains("target_node_id"),
        "{msg}"
    );

    // The rest fails when the population is opened, before any engine runs.
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

/// The bmtk `nsyns` column is summed per target, and equals the CPU engine's sums.
fn nsyns_totals_are_summed_per_target(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(12);
    for shape in ["sorted", "shuffled"] {
        let (s, t) = edges(&mut rng, 3000, 50, 100, shape);
        let path = dir.path().join(format!("{shape}.h5"));
        write_edges(&path, "p", &s, &t, Ids::U64);
        let nsyns: Vec<u64> = (0..s.len() as u64).map(|i| 1 + i % 5).collect();
        write_nsyns(&path, "p", &nsyns);
        let o = opts(700, 1 << 30, None);
        let got = engine.census(&path, "p", &o).unwrap();
        let mut want = vec![0u64; got.n_targets as usize];
        for (&tt, &k) in t.iter().zip(&nsyns) {
            want[tt as usize] += k;
        }
        assert_eq!(got.target_nsyns_total, Some(want), "{shape}");
        assert_same_tables(&got, &naive_census(&s, &t, None), shape);
    }
}

fn written_tables_read_back_identically_and_atomically(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("e.h5");
    let mut rng = Rng(11);
    let (s, t) = edges(&mut rng, 3000, 100, 300, "shuffled");
    write_edges(&input, "a", &s, &t, Ids::U64);
    write_edges(&input, "b", &t, &s, Ids::U32);
    let out = dir.path().join("census.h5");
    let ca = engine
        .census(&input, "a", &CensusOptions::default())
        .unwrap();
    let cb = engine
        .census(&input, "b", &CensusOptions::default())
        .unwrap();
    let mut w = CensusWriter::create(&out, false).unwrap();
    w.write(&ca).unwrap();
    w.write(&cb).unwrap();
    assert!(!out.exists(), "the output must appear only when complete");
    w.finish().unwrap();
    // The file does not record the engine (outputs are byte-identical across backends).
    let engine_blank = |c: &Census| Census {
        backend: CountedBy::Unrecorded,
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

/// The census tables written from this engine's censuses are byte for byte those of the CPU
/// engine.
fn written_tables_are_byte_identical_to_the_cpu_engines(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(13);
    let input = dir.path().join("e.h5");
    let (s, t) = edges(&mut rng, 5000, 200, 600, "shuffled");
    write_edges(&input, "a", &s, &t, Ids::U64);
    let (s, t) = edges(&mut rng, 5000, 200, 600, "target-sorted");
    write_edges(&input, "b", &s, &t, Ids::U32);
    let write = |name: &str, censuses: &[Census]| {
        let out = dir.path().join(name);
        let mut w = CensusWriter::create(&out, false).unwrap();
        for c in censuses {
            w.write(c).unwrap();
        }
        w.finish().unwrap();
        std::fs::read(&out).unwrap()
    };
    let o = opts(333, 1 << 30, None);
    let counted = |e: Engine| -> Vec<Census> {
        ["a", "b"]
            .iter()
            .map(|p| e.census(&input, p, &o).unwrap())
            .collect()
    };
    let got = counted(engine);
    assert!(
        got.iter().all(|c| c.backend != CountedBy::Cpu) || engine == Engine::Cpu,
        "{engine:?} handed a population to the CPU engine"
    );
    assert_eq!(
        write("engine.h5", &got),
        write("cpu.h5", &counted(Engine::Cpu))
    );
}
