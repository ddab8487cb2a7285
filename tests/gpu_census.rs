//! The GPU census engine against the CPU engine and the naive reference: every table equal, on
//! files of every shape (sorted, sorted by target only, shuffled, skewed), chunk sizes that make
//! runs cross chunk boundaries, forced arena and counter flushes, several partitions, a target
//! with 10^6 synapses, wide ids (CPU fallback), bad targets (the CPU engine's errors), and the
//! sample files. Needs a GPU adapter (lavapipe counts): without one each test prints
//! "no GPU adapter - skipped" and passes, unless SONATA_CENSUS_REQUIRE_GPU=1.

mod common;

use std::path::Path;

use common::{
    Ids, Rng, assert_same_tables, gpu_context as gpu_ctx, naive_census, random_edges as edges,
    write_edges, write_target_index,
};
use sonata_census::census::CountedBy;
use sonata_census::census::census_on_gpu;
use sonata_census::census::gpu::{GpuTimings, GpuTuning};
use sonata_census::census::output::CensusWriter;
use sonata_census::census::stream::NsynsSource;
use sonata_census::census::{Backend, CensusOptions, TargetSpace, census_population};
use sonata_census::gpu::GpuContext;
use sonata_census::progress::Progress;
use sonata_census::sonata::attributes::NsynsReader;
use sonata_census::{Census, EdgeFile, EdgePopulation, Error};

fn opts(chunk_len: usize, memory_budget: u64, nodes_count: Option<u64>) -> CensusOptions {
    CensusOptions {
        chunk_len,
        memory_budget,
        nodes_count,
        ..Default::default()
    }
}

fn run_gpu(
    ctx: &GpuContext,
    path: &Path,
    pop: &str,
    options: &CensusOptions,
    tuning: &GpuTuning,
) -> sonata_census::Result<(Census, GpuTimings)> {
    let file = EdgeFile::open(path)?;
    let pop = file.population(pop)?;
    let space = TargetSpace::resolve(&pop, options.nodes_count)?;
    let options = CensusOptions {
        gpu_tuning: tuning.clone(),
        ..options.clone()
    };
    census_on_gpu(
        &pop,
        &options,
        &space,
        || nsyns_of(&pop),
        &Progress::hidden(),
        ctx,
    )
}

fn run_cpu(path: &Path, pop: &str, options: &CensusOptions) -> sonata_census::Result<Census> {
    let file = EdgeFile::open(path)?;
    let pop = file.population(pop)?;
    let options = CensusOptions {
        backend: Backend::Cpu,
        ..options.clone()
    };
    census_population(&pop, &options, &Progress::hidden())
}

/// GPU == CPU engine on every field but the backend name, which says "gpu: <adapter>".
fn assert_gpu_equals_cpu(gpu: &Census, cpu: &Census, what: &str) {
    assert_same_tables(gpu, cpu, what);
    assert_eq!(gpu.population, cpu.population, "{what}: population");
    assert_eq!(gpu.source_population, cpu.source_population, "{what}");
    assert_eq!(gpu.target_population, cpu.target_population, "{what}");
    assert!(
        gpu.target_nsyns_total == cpu.target_nsyns_total,
        "{what}: target_nsyns_total differs"
    );
    let mut g = gpu.clone();
    g.backend = cpu.backend.clone();
    assert!(&g == cpu, "{what}: the censuses differ");
    assert!(
        matches!(gpu.backend, CountedBy::Gpu { .. }),
        "{what}: {}",
        gpu.backend
    );
}

/// The bmtk `nsyns` column of a population, as `census_population` opens it.
fn nsyns_of(pop: &EdgePopulation) -> sonata_census::Result<Option<NsynsSource>> {
    Ok(NsynsReader::open(pop)?.map(|mut reader| {
        Box::new(move |first: u64, out: &mut [u64]| reader.read_range_into(first, out))
            as NsynsSource
    }))
}

#[test]
fn hand_computed_tables() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    // target 0 <- 5,5,2 ; target 2 <- 1 ; target 3 <- 4,4,4,4 ; targets 1 and 4 none
    let sources = [5, 2, 5, 1, 4, 4, 4, 4];
    let targets = [0, 0, 0, 2, 3, 3, 3, 3];
    write_edges(&path, "p", &sources, &targets, Ids::U64);
    for chunk in [1, 2, 3, 100] {
        let (c, t) = run_gpu(
            ctx,
            &path,
            "p",
            &opts(chunk, 1 << 30, Some(5)),
            &GpuTuning::default(),
        )
        .unwrap();
        assert_eq!(c.n_targets, 5);
        assert_eq!(c.target_synapse_count, vec![3, 0, 1, 4, 0]);
        assert_eq!(c.target_connection_count, vec![2, 0, 1, 1, 0]);
        assert_eq!(c.target_offsets, vec![0, 2, 2, 3, 4, 4]);
        assert_eq!(c.source_node_id, vec![2, 5, 1, 4]);
        assert_eq!(c.synapse_count, vec![1, 2, 1, 4]);
        assert_eq!(c.synapses_per_connection, vec![0, 2, 1, 0, 1]);
        assert!(c.sortedness.by_target && !c.sortedness.by_target_source);
        assert_eq!(t.strategy.to_string(), "sorted");
        assert!(t.notices.is_empty(), "{:?}", t.notices);
    }
    let (c, _) = run_gpu(
        ctx,
        &path,
        "p",
        &opts(3, 1 << 30, None),
        &GpuTuning::default(),
    )
    .unwrap();
    assert_eq!(c.n_targets, 4);
    assert_eq!(c.target_offsets, vec![0, 2, 2, 3, 4]);
}

#[test]
fn random_shapes_match_the_cpu_engine_and_the_naive_reference() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(42);
    let mut case = 0;
    for shape in ["sorted", "target-sorted", "shuffled", "skewed"] {
        for n in [0usize, 1, 2, 255, 256, 257, 1000, 4099] {
            for (ids, n_sources) in [(Ids::U64, 50u64), (Ids::I64, 1000)] {
                case += 1;
                let n_targets = 1 + rng.below(60);
                let (s, t) = edges(&mut rng, n, n_targets, n_sources, shape);
                let path = dir.path().join(format!("c{case}.h5"));
                write_edges(&path, "p", &s, &t, ids);
                let want = naive_census(&s, &t, Some(n_targets));
                // Whole file in one chunk; runs crossing chunks; partitions of 256 edges.
                for (chunk, budget) in [(1 << 20, 1 << 30), (97, 1 << 30), (1000, 1024)] {
                    let what = format!("case {case} {shape} n={n} chunk={chunk} budget={budget}");
                    let o = opts(chunk, budget, Some(n_targets));
                    let (got, timings) = run_gpu(ctx, &path, "p", &o, &GpuTuning::default())
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_same_tables(&got, &want, &what);
                    assert_gpu_equals_cpu(&got, &run_cpu(&path, "p", &o).unwrap(), &what);
                    assert!(timings.notices.is_empty(), "{what}: {:?}", timings.notices);
                }
            }
        }
    }
}

#[test]
fn ids_beyond_32_bits_are_counted_by_the_cpu_engine_with_a_notice() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(9);
    for shape in ["sorted", "shuffled"] {
        let (s, t) = edges(&mut rng, 3000, 40, 1 << 40, shape);
        let path = dir.path().join(format!("{shape}.h5"));
        write_edges(&path, "p", &s, &t, Ids::U64);
        let o = opts(500, 1 << 30, None);
        let (got, timings) = run_gpu(ctx, &path, "p", &o, &GpuTuning::default()).unwrap();
        assert!(
            got == run_cpu(&path, "p", &o).unwrap(),
            "{shape}: the censuses differ"
        );
        assert_eq!(got.backend, CountedBy::Cpu);
        assert_eq!(timings.strategy.to_string(), "cpu fallback");
        assert!(
            timings
                .notices
                .iter()
                .any(|n| n.contains("does not fit in 32 bits")),
            "{shape}: {:?}",
            timings.notices
        );
    }
}

#[test]
fn index_sets_the_number_of_targets_and_many_targets_are_empty() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    for shape in ["sorted", "shuffled"] {
        let path = dir.path().join(format!("{shape}.h5"));
        let (s, t) = edges(&mut rng, 500, 40, 100, shape);
        // Targets are below 40; the index says there are 100_000 nodes.
        write_edges(&path, "p", &s, &t, Ids::U64);
        write_target_index(&path, "p", &t, 100_000);
        let want = naive_census(&s, &t, Some(100_000));
        let (got, _) = run_gpu(
            ctx,
            &path,
            "p",
            &opts(64, 1 << 30, None),
            &GpuTuning::default(),
        )
        .unwrap();
        assert_same_tables(&got, &want, shape);
        assert_eq!(got.target_synapse_count[99_999], 0);
    }
}

/// One target with 10^6 synapses: a long segment sorted through the global path, a run
/// crossing many chunks (merged on the host), and an unsorted file in several partitions.
#[test]
fn one_target_with_a_million_synapses() {
    let Some(ctx) = gpu_ctx() else { return };
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
    for chunk in [1 << 20, 150_000] {
        let (got, _) = run_gpu(
            ctx,
            &sorted,
            "p",
            &opts(chunk, 1 << 30, None),
            &GpuTuning::default(),
        )
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
    let (got, timings) = run_gpu(
        ctx,
        &shuffled,
        "p",
        &opts(1 << 19, 400_000, None),
        &GpuTuning::default(),
    )
    .unwrap();
    let want = naive_census(&s2, &t2, None);
    assert_same_tables(&got, &want, "shuffled");
    assert_eq!(timings.strategy.to_string(), "unsorted, 3 partitions");
}

#[test]
fn target_beyond_the_node_count_is_the_cpu_engines_error() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sorted = dir.path().join("e.h5");
    write_edges(&sorted, "p", &[0, 1, 2, 3], &[0, 1, 1, 5], Ids::U64);
    let unsorted = dir.path().join("u.h5");
    write_edges(&unsorted, "p", &[0, 1, 2, 3], &[2, 1, 5, 0], Ids::U64);
    for p in [&sorted, &unsorted] {
        for chunk in [2, 100] {
            let o = opts(chunk, 1 << 30, Some(3));
            let err = run_gpu(ctx, p, "p", &o, &GpuTuning::default()).unwrap_err();
            let cpu_err = run_cpu(p, "p", &o).unwrap_err();
            assert!(matches!(err, Error::InvalidData { .. }), "{err}");
            assert_eq!(err.to_string(), cpu_err.to_string());
            assert!(err.to_string().contains("target node id 5 at row"), "{err}");
        }
    }
}

/// Tiny arenas and counter limits force many flushes (each waits for the GPU and reads back);
/// the tables must not change.
#[test]
fn flushes_do_not_change_the_tables() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    for shape in ["target-sorted", "shuffled"] {
        let (s, t) = edges(&mut rng, 20_000, 300, 4000, shape);
        let path = dir.path().join(format!("{shape}.h5"));
        write_edges(&path, "p", &s, &t, Ids::U64);
        let want = naive_census(&s, &t, None);
        let tuning = GpuTuning {
            arena_len: Some(1),
            counter_flush_edges: Some(1500),
            ..Default::default()
        };
        let (got, timings) = run_gpu(ctx, &path, "p", &opts(1000, 40_000, None), &tuning).unwrap();
        assert_same_tables(&got, &want, shape);
        assert!(timings.flushes > 10, "{shape}: {timings}");
        assert!(timings.batches >= 20, "{shape}: {timings}");
    }
}

/// The bmtk `nsyns` column is summed per target as the CPU engine sums it.
#[test]
fn nsyns_totals_match_the_cpu_engine() {
    let Some(ctx) = gpu_ctx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(12);
    for shape in ["sorted", "shuffled"] {
        let (s, t) = edges(&mut rng, 3000, 50, 100, shape);
        let path = dir.path().join(format!("{shape}.h5"));
        write_edges(&path, "p", &s, &t, Ids::U64);
        let nsyns: Vec<u64> = (0..s.len() as u64).map(|i| 1 + i % 5).collect();
        let source = || -> sonata_census::Result<Option<NsynsSource>> {
            let v = nsyns.clone();
            Ok(Some(Box::new(move |start: u64, out: &mut [u64]| {
                let a = start as usize;
                out.copy_from_slice(&v[a..a + out.len()]);
                Ok(())
            })))
        };
        let file = EdgeFile::open(&path).unwrap();
        let pop = file.population("p").unwrap();
        let o = opts(700, 1 << 30, None);
        let space = TargetSpace::resolve(&pop, None).unwrap();
        let (got, _) = census_on_gpu(&pop, &o, &space, source, &Progress::hidden(), ctx).unwrap();
        let mut want = vec![0u64; got.n_targets as usize];
        for (&tt, &k) in t.iter().zip(&nsyns) {
            want[tt as usize] += k;
        }
        assert_eq!(got.target_nsyns_total, Some(want), "{shape}");
    }
}

/// The census tables written by the GPU engine are byte for byte those of the CPU engine.
#[test]
fn written_tables_are_byte_identical() {
    let Some(ctx) = gpu_ctx() else { return };
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
            let mut c = c.clone();
            c.backend = CountedBy::Gpu {
                adapter: "normalised".into(),
            };
            w.write(&c).unwrap();
        }
        w.finish().unwrap();
        std::fs::read(&out).unwrap()
    };
    let o = opts(333, 1 << 30, None);
    let gpu: Vec<Census> = ["a", "b"]
        .iter()
        .map(|p| {
            run_gpu(ctx, &input, p, &o, &GpuTuning::default())
                .unwrap()
                .0
        })
        .collect();
    let cpu: Vec<Census> = ["a", "b"]
        .iter()
        .map(|p| run_cpu(&input, p, &o).unwrap())
        .collect();
    assert_eq!(write("gpu.h5", &gpu), write("cpu.h5", &cpu));
}

fn h5_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            h5_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "h5") {
            out.push(p);
        }
    }
}

/// Every population of the sample files: GPU == CPU, with small chunks so runs cross them.
#[test]
fn sample_files_match_the_cpu_engine() {
    let Some(ctx) = gpu_ctx() else { return };
    let Some(dir) = common::samples_dir() else {
        return;
    };
    let mut files = Vec::new();
    h5_files(&dir, &mut files);
    let mut counted = 0;
    for path in files {
        let Ok(file) = EdgeFile::open(&path) else {
            continue;
        };
        let Ok(names) = file.population_names() else {
            continue;
        };
        for name in names {
            let Ok(pop) = file.population(&name) else {
                continue;
            };
            let chunk = (pop.size() as usize / 3).max(1);
            let o = opts(chunk, 1 << 30, None);
            let what = format!("{} {name}", path.display());
            match (
                run_cpu(&path, &name, &o),
                run_gpu(ctx, &path, &name, &o, &GpuTuning::default()),
            ) {
                (Ok(cpu), Ok((gpu, _))) => {
                    if gpu.backend == CountedBy::Cpu {
                        assert!(gpu == cpu, "{what}: the censuses differ");
                    } else {
                        assert_gpu_equals_cpu(&gpu, &cpu, &what);
                    }
                    counted += 1;
                }
                (Err(c), Err(g)) => assert_eq!(g.to_string(), c.to_string(), "{what}"),
                (c, g) => panic!("{what}: cpu {:?} gpu {:?}", c.err(), g.err()),
            }
        }
    }
    eprintln!("{counted} sample populations counted on the GPU");
}

/// Compares the census files named by SONATA_CENSUS_COMPARE_A and SONATA_CENSUS_COMPARE_B:
/// every population, every table and attribute but the backend name. `scripts/gpu-check.sh`
/// runs it (`gpu_census --ignored --exact compare_census_files`) when the two outputs of
/// `count` differ in bytes, which they do by the recorded backend alone.
#[test]
#[ignore = "run by scripts/gpu-check.sh on two census files"]
fn compare_census_files() {
    let (Ok(a), Ok(b)) = (
        std::env::var("SONATA_CENSUS_COMPARE_A"),
        std::env::var("SONATA_CENSUS_COMPARE_B"),
    ) else {
        panic!("set SONATA_CENSUS_COMPARE_A and SONATA_CENSUS_COMPARE_B");
    };
    let names = |p: &str| {
        let mut v = hdf5::File::open(p).unwrap().member_names().unwrap();
        v.sort();
        v
    };
    let (na, nb) = (names(&a), names(&b));
    assert_eq!(na, nb, "populations");
    for name in na {
        let ca = sonata_census::census::output::read_census(Path::new(&a), &name).unwrap();
        let mut cb = sonata_census::census::output::read_census(Path::new(&b), &name).unwrap();
        assert_same_tables(&ca, &cb, &name);
        eprintln!("{name}: {} / {}", ca.backend, cb.backend);
        cb.backend = ca.backend.clone();
        assert!(ca == cb, "{name}: the censuses differ");
    }
    eprintln!("same tables");
}
