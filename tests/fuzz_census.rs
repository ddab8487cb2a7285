//! Property tests (proptest) of the census engines and the CPU twins of the GPU kernels against
//! naive references.
//!
//! - The CPU engine on arbitrary id arrays written to small HDF5 files: empty, one edge, one
//!   target, skewed, sizes around chunk boundaries (chunks of 1 to 9 rows), sources on both sides
//!   of `u32::MAX` and up to `u64::MAX`, orders sorted / sorted by target / shuffled / descending
//!   / sorted but for the last edge, uint64 / int64 / uint32 columns, memory budgets from a few
//!   bytes (every target its own spilled partition) to 1 GiB, node counts from the data, from a
//!   target index or from `--nodes-count` (larger than the data, or too small: the typed error
//!   naming the first bad edge). Every table must equal `common::naive_census` exactly, and no
//!   spill file may be left behind.
//! - The GPU engine on the same cases, fewer of them, with small chunks, arenas and counter
//!   flushes (skipped without an adapter unless `SONATA_CENSUS_REQUIRE_GPU=1`).
//! - The CPU twins of the kernels (`kernels::cpu`): the whole per-batch pipeline, the prefix sum,
//!   `target_counts`, `sources_by_target`, `synapses_per_connection` and the sort plan
//!   (`SegmentLayout`), each against the obvious computation.
//!
//! Each property runs a bounded number of cases by default; `PROPTEST_CASES=N` runs N cases of
//! every property instead. See README "Tests".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
#[path = "common/props.rs"]
mod props;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    Ids, assert_same_tables, gpu_context as gpu_ctx, naive_census, write_edges, write_target_index,
};
use props::config;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestCaseError;
use sonata_census::census::census_on_gpu;
use sonata_census::census::gpu::{GpuStrategy, GpuTuning};
use sonata_census::census::stream::NsynsSource;
use sonata_census::census::{Backend, CensusOptions, TargetSpace, census_population};
use sonata_census::progress::Progress;
use sonata_census::{Census, EdgeFile, Error};

// ---------------------------------------------------------------------------------------------
// Census cases

/// Where the number of targets comes from.
#[derive(Debug, Clone, Copy)]
enum Nodes {
    /// The largest target + 1.
    FromData,
    /// `--nodes-count` = largest target + 1 + extra.
    Count(u64),
    /// A target index (libsonata-style) for largest target + 1 + extra nodes.
    Index(u64),
    /// `--nodes-count` = this, at most the largest target: the typed error.
    TooSmall(u64),
}

#[derive(Debug, Clone)]
struct CensusCase {
    /// `(target, source)` of each edge, in file order.
    pairs: Vec<(u64, u64)>,
    ids: Ids,
    chunk_len: usize,
    memory_budget: u64,
    nodes: Nodes,
}

impl CensusCase {
    fn sources(&self) -> Vec<u64> {
        self.pairs.iter().map(|p| p.1).collect()
    }
    fn targets(&self) -> Vec<u64> {
        self.pairs.iter().map(|p| p.0).collect()
    }
    fn max_target(&self) -> Option<u64> {
        self.pairs.iter().map(|p| p.0).max()
    }
    /// The node count the census must use, and `--nodes-count` when given.
    fn n_targets(&self) -> (Option<u64>, Option<u64>) {
        let top = self.max_target().map_or(0, |m| m + 1);
        match self.nodes {
            Nodes::FromData => (None, None),
            Nodes::Count(extra) => (Some(top + extra), Some(top + extra)),
            Nodes::Index(extra) => (Some(top + extra), None),
            Nodes::TooSmall(n) => (Some(n), Some(n)),
        }
    }
    /// The first edge (row, target) at or beyond the node count, when there is one.
    fn first_bad_edge(&self) -> Option<(usize, u64)> {
        let (Some(n), _) = self.n_targets() else {
            return None;
        };
        self.pairs
            .iter()
            .position(|p| p.0 >= n)
            .map(|row| (row, self.pairs[row].0))
    }
}

/// A raw edge: target kind and value, source kind and value. Kinds shrink to the plainest case.
type RawEdge = (u8, u64, u8, u64);

/// Builds a case from raw edges and case-level choices (kept apart from the raw values so that
/// every part shrinks on its own).
#[allow(clippy::too_many_arguments)]
fn build_case(
    raw: &[RawEdge],
    n_tgt: u64,
    shape: u8,
    sources: u8,
    order: u8,
    ids: u8,
    chunk_len: usize,
    budget: (u8, u64),
    nodes: (u8, u64),
) -> CensusCase {
    let mut pairs: Vec<(u64, u64)> = raw
        .iter()
        .map(|&(tk, t, sk, s)| {
            let t = match shape {
                // Uniform over n_tgt targets.
                0 => t % n_tgt,
                // One target.
                1 => n_tgt - 1,
                // Skewed: 70% on one target.
                2 if tk % 10 < 7 => n_tgt / 2,
                // A few targets near u32::MAX or anywhere (with a node count below them).
                3 if tk == 9 => u64::from(u32::MAX) - 1 + t % 3,
                3 if tk == 8 => t,
                _ => t % n_tgt,
            };
            let s = match (sources, sk) {
                // Few sources: connections with several synapses.
                (_, 0..=5) => s % 6,
                (0, _) => s % 6,
                (1, _) => s % 1000,
                // Both sides of u32::MAX: the engine switches from u32 to u64 source slots.
                (2, _) => u64::from(u32::MAX) - 2 + s % 5,
                // Anywhere, up to u64::MAX.
                _ => s,
            };
            (t, s)
        })
        .collect();
    match order % 5 {
        // By (target, source): the sorted path with run-length encoding only.
        0 => pairs.sort_unstable(),
        // By target, sources in generated order: the sorted path with per-run sorts.
        1 => pairs.sort_by_key(|p| p.0),
        // As generated: usually the unsorted path.
        2 => {}
        // Descending targets: unsorted from the second edge.
        3 => pairs.sort_unstable_by(|a, b| b.cmp(a)),
        // Sorted, then the first edge moved to the end: unsorted only at the very last edge,
        // after the sorted path has counted every chunk.
        _ => {
            pairs.sort_unstable();
            if !pairs.is_empty() {
                let first = pairs.remove(0);
                pairs.push(first);
            }
        }
    }
    let largest = pairs.iter().map(|p| p.0.max(p.1)).max().unwrap_or(0);
    let ids = match ids % 3 {
        1 if largest <= i64::MAX as u64 => Ids::I64,
        2 if largest <= u64::from(u32::MAX) => Ids::U32,
        _ => Ids::U64,
    };
    let memory_budget = match budget.0 % 3 {
        0 => 1 << 30,
        // A few bytes: every target its own spilled partition.
        1 => budget.1 % 64,
        _ => 64 + budget.1 % 4096,
    };
    let max_target = pairs.iter().map(|p| p.0).max().unwrap_or(0);
    let nodes = match nodes.0 % 4 {
        // Huge target ids: only a node count below them keeps the tables small.
        _ if max_target >= 1 << 20 => Nodes::TooSmall(n_tgt.min(max_target)),
        0 => Nodes::FromData,
        1 => Nodes::Count(nodes.1 % 5),
        2 => Nodes::Index(nodes.1 % 5),
        _ => Nodes::TooSmall(max_target * (nodes.1 % 8) / 8),
    };
    CensusCase {
        pairs,
        ids,
        chunk_len,
        memory_budget,
        nodes,
    }
}

fn census_case(max_len: usize) -> impl Strategy<Value = CensusCase> {
    let raw = (0u8..10, any::<u64>(), 0u8..10, any::<u64>());
    let edges = prop_oneof![
        6 => proptest::collection::vec(raw.clone(), 0..=max_len / 8),
        1 => proptest::collection::vec(raw, 0..=max_len),
    ];
    (
        edges,
        (
            1u64..30,
            prop_oneof![3 => 0u8..3, 1 => Just(3u8)],
            prop_oneof![3 => 0u8..2, 1 => 2u8..4],
            0u8..5,
            0u8..3,
        ),
        prop_oneof![8 => 1usize..10, 1 => 10usize..300, 1 => Just(1usize << 18)],
        (0u8..3, any::<u64>()),
        (prop_oneof![3 => 0u8..3, 1 => Just(3u8)], any::<u64>()),
    )
        .prop_map(
            |(raw, (n_tgt, shape, sources, order, ids), chunk_len, budget, nodes)| {
                build_case(
                    &raw, n_tgt, shape, sources, order, ids, chunk_len, budget, nodes,
                )
            },
        )
}

/// A case's file in a folder of its own, removed (folder included) when dropped, also when the
/// case fails: a folder shared by the whole binary in a `static` is never dropped, and left
/// its files in the temporary folder after every run.
struct CaseFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// Writes the case's file (and index).
fn write_case(c: &CensusCase) -> CaseFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.h5");
    let (s, t) = (c.sources(), c.targets());
    write_edges(&path, "p", &s, &t, c.ids);
    if let (Nodes::Index(_), (Some(n), _)) = (c.nodes, c.n_targets()) {
        write_target_index(&path, "p", &t, n);
    }
    CaseFile { _dir: dir, path }
}

/// Checks an engine's result against the naive reference (or the typed error it must give).
fn check_result(
    c: &CensusCase,
    got: sonata_census::Result<Census>,
    what: &str,
) -> Result<(), TestCaseError> {
    let (n_targets, _) = c.n_targets();
    match (got, c.first_bad_edge()) {
        (Ok(got), None) => {
            let want = naive_census(&c.sources(), &c.targets(), n_targets);
            // assert_same_tables panics with a message; proptest shrinks panics too.
            assert_same_tables(&got, &want, what);
        }
        (Err(e), Some((row, t))) => {
            let msg = e.to_string();
            prop_assert!(
                matches!(e.innermost(), Error::InvalidData { .. }),
                "{what}: {e:?}"
            );
            let needle = format!("target node id {t} at row {row}");
            prop_assert!(msg.contains(&needle), "{what}: {msg} should say '{needle}'");
            prop_assert!(msg.contains("target_node_id"), "{what}: {msg}");
        }
        (got, bad) => prop_assert!(
            false,
            "{what}: got {:?}, first edge beyond the node count {bad:?}",
            got.map(|c| c.target_synapse_count)
        ),
    }
    Ok(())
}

fn options(c: &CensusCase, spill: &Path, backend: Backend) -> CensusOptions {
    CensusOptions {
        nodes_count: c.n_targets().1,
        chunk_len: c.chunk_len,
        memory_budget: c.memory_budget,
        spill_dir: Some(spill.to_path_buf()),
        backend,
        ..CensusOptions::default()
    }
}

/// Runs the CPU engine on one case and checks it; also that no spill file is left behind.
fn check_cpu(c: &CensusCase) -> Result<(), TestCaseError> {
    let case_file = write_case(c);
    let spill = tempfile::tempdir().unwrap();
    let file = EdgeFile::open(&case_file.path).unwrap();
    let pop = file.population("p").unwrap();
    let got = census_population(
        &pop,
        &options(c, spill.path(), Backend::Cpu),
        &Progress::hidden(),
    );
    check_result(c, got, "cpu")?;
    let left: Vec<_> = std::fs::read_dir(spill.path()).unwrap().collect();
    prop_assert!(left.is_empty(), "spill files left behind: {left:?}");
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    /// The CPU engine equals the naive census on every case, or gives the typed error.
    #[test]
    fn cpu_census_matches_the_naive_reference(c in census_case(400)) {
        check_cpu(&c)?;
    }
}

// ---------------------------------------------------------------------------------------------
// GPU engine

fn no_nsyns() -> sonata_census::Result<Option<NsynsSource>> {
    Ok(None)
}

/// The GPU engine equals the naive census on the same cases as the CPU engine (fewer of them),
/// with tiny arenas and counter flushes so that every flush path runs.
#[test]
fn gpu_census_matches_the_naive_reference() {
    let Some(ctx) = gpu_ctx() else { return };
    let strategy = (census_case(2000), 1usize..64, 1u64..5000);
    let config = config(32);
    let cases = config.cases as usize;
    let on_gpu = AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&strategy, |(c, arena, flush)| {
        let case_file = write_case(&c);
        let spill = tempfile::tempdir().unwrap();
        let file = EdgeFile::open(&case_file.path).unwrap();
        let pop = file.population("p").unwrap();
        let options = options(&c, spill.path(), Backend::Gpu);
        let space = TargetSpace::resolve(&pop, options.nodes_count).unwrap();
        let tuning = GpuTuning {
            arena_len: Some(arena),
            counter_flush_edges: Some(flush),
            ..Default::default()
        };
        let options = CensusOptions {
            gpu_tuning: tuning,
            ..options
        };
        let got = census_on_gpu(&pop, &options, &space, no_nsyns, &Progress::hidden(), ctx);
        if let Ok((_, timings)) = &got
            && timings.strategy != GpuStrategy::CpuFallback
        {
            on_gpu.fetch_add(1, Ordering::Relaxed);
        }
        check_result(&c, got.map(|(census, _)| census), "gpu")?;
        let left: Vec<_> = std::fs::read_dir(spill.path()).unwrap().collect();
        prop_assert!(left.is_empty(), "spill files left behind: {left:?}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Wide source ids make the engine count on the CPU: most cases must still reach the GPU.
    let on_gpu = on_gpu.into_inner();
    eprintln!("{cases} cases, {on_gpu} counted on the GPU");
    assert!(
        on_gpu >= cases / 5,
        "only {on_gpu} of {cases} cases counted on the GPU"
    );
}

// ---------------------------------------------------------------------------------------------
// CPU twins of the kernels

use sonata_census::kernels::cpu as twin;
use sonata_census::kernels::layout::SegmentLayout;
use sonata_census::kernels::params::{
    MODE_EDGES, MODE_SEGMENTS, SCAN_BLOCK, SORT_TILE, SourcesByTargetParams,
    SynapsesPerConnectionParams, TargetCountsParams,
};

/// Segment lengths (all at least 1): mostly short, some around [`SORT_TILE`] and beyond it.
fn segment_lengths() -> impl Strategy<Value = Vec<u32>> {
    let t = SORT_TILE;
    let len = prop_oneof![
        12 => 1u32..40,
        1 => (t - 1)..=(t + 1),
        1 => (t + 2)..(3 * t + 5),
    ];
    proptest::collection::vec(len, 0..12)
}

/// Keys from a range chosen per case: few values (many duplicates), some, or any `u32`.
fn keys(n: usize) -> impl Strategy<Value = Vec<u32>> {
    (0u8..3, proptest::collection::vec(any::<u32>(), n)).prop_map(|(range, v)| match range {
        0 => v.iter().map(|x| x % 4).collect(),
        1 => v.iter().map(|x| x % 1000).collect(),
        _ => v,
    })
}

fn offsets_of(lengths: &[u32]) -> Vec<u32> {
    let mut offsets = vec![0u32];
    for &l in lengths {
        offsets.push(offsets[offsets.len() - 1] + l);
    }
    offsets
}

proptest! {
    #![proptest_config(config(64))]

    /// The twins' per-batch pipeline (segment sort, merges, connection counts, prefix sums)
    /// gives every segment's connections exactly, and its plan covers every element once.
    #[test]
    fn twin_connections_match_the_naive_reference(
        (lengths, keys) in segment_lengths().prop_flat_map(|l| {
            let n = l.iter().sum::<u32>() as usize;
            (Just(l), keys(n))
        })
    ) {
        let offsets = offsets_of(&lengths);
        let mut sorted = keys.clone();
        let got = twin::connections(&mut sorted, &offsets);
        let (mut sources, mut counts, mut per_segment) = (Vec::new(), Vec::new(), Vec::new());
        for w in offsets.windows(2) {
            let seg = &keys[w[0] as usize..w[1] as usize];
            let mut count: BTreeMap<u32, u32> = BTreeMap::new();
            for &k in seg {
                *count.entry(k).or_default() += 1;
            }
            per_segment.push(count.len() as u32);
            sources.extend(count.keys().copied());
            counts.extend(count.values().copied());
            let mut want = seg.to_vec();
            want.sort_unstable();
            prop_assert_eq!(&sorted[w[0] as usize..w[1] as usize], &want[..], "segment sorted in place");
        }
        prop_assert_eq!(got.sources, sources);
        prop_assert_eq!(got.counts, counts);
        prop_assert_eq!(got.per_segment, per_segment);

        let layout = SegmentLayout::build(&offsets);
        let mut covered = vec![0u8; keys.len()];
        for (i, &[a, b]) in layout.blocks.iter().enumerate() {
            prop_assert!(a < b && b - a <= SORT_TILE, "block {i} = [{a}, {b})");
            if (i as u32) < layout.long_first_block {
                // Short blocks hold whole segments.
                prop_assert!(offsets.contains(&a) && offsets.contains(&b), "block [{a}, {b})");
            }
            for x in a..b {
                covered[x as usize] += 1;
            }
        }
        prop_assert!(covered.iter().all(|&c| c == 1), "every element in exactly one block");
        let long: usize = lengths.iter().filter(|&&l| l > SORT_TILE).count();
        prop_assert_eq!(layout.long_segs.len(), long);
        prop_assert_eq!(layout.max_segment_len, lengths.iter().copied().max().unwrap_or(0));
    }

    /// `exclusive_scan` (scan_blocks, recursion, add_offsets) is the wrapping exclusive prefix sum.
    #[test]
    fn twin_prefix_sum_matches_the_naive_reference(
        data in prop_oneof![
            3 => proptest::collection::vec(any::<u32>(), 0..100),
            1 => proptest::collection::vec(any::<u32>(), (SCAN_BLOCK as usize - 2)..(5 * SCAN_BLOCK as usize)),
            1 => proptest::collection::vec(0u32..3, (SCAN_BLOCK as usize - 2)..(5 * SCAN_BLOCK as usize)),
        ]
    ) {
        let mut got = data.clone();
        let total = twin::exclusive_scan(&mut got);
        let mut acc = 0u32;
        for (i, &x) in data.iter().enumerate() {
            prop_assert_eq!(got[i], acc, "at {}", i);
            acc = acc.wrapping_add(x);
        }
        prop_assert_eq!(total, acc);
    }

    /// `target_counts` adds each entry's weight (1, or its segment length) to its target's
    /// counter, wrapping, ignoring targets at or past `n_counts`.
    #[test]
    fn twin_target_counts_match_the_naive_reference(
        raw in proptest::collection::vec((0u8..8, 0u32..24, any::<u32>()), 0..600),
        n_counts in 0u32..24,
        segments in any::<bool>(),
        start in proptest::collection::vec(any::<u32>(), 24),
    ) {
        // Runs of equal targets are common (sorted chunks): half the entries repeat the last.
        let mut targets: Vec<u32> = Vec::new();
        for &(k, t, _) in &raw {
            let t = match (k, targets.last()) {
                (0..=3, Some(&last)) => last,
                (7, _) => u32::MAX - t,
                _ => t,
            };
            targets.push(t);
        }
        let mut offsets = vec![0u32];
        for &(_, _, w) in &raw {
            offsets.push(offsets[offsets.len() - 1].wrapping_add(w % 5000));
        }
        let p = TargetCountsParams {
            n: targets.len() as u32,
            mode: if segments { MODE_SEGMENTS } else { MODE_EDGES },
            n_counts,
            _pad: 0,
        };
        let mut want = start[..n_counts as usize].to_vec();
        for (i, &t) in targets.iter().enumerate() {
            if t < n_counts {
                let w = if segments { offsets[i + 1].wrapping_sub(offsets[i]) } else { 1 };
                want[t as usize] = want[t as usize].wrapping_add(w);
            }
        }
        let mut got = start[..n_counts as usize].to_vec();
        twin::target_counts(&p, &targets, &offsets, &mut got);
        prop_assert_eq!(got, want);
    }

    /// `sources_by_target` puts each in-range edge's source into its target's slots, in edge
    /// order, and leaves each cursor at the target's edge count.
    #[test]
    fn twin_sources_by_target_match_the_naive_reference(
        edges in proptest::collection::vec((0u32..20, any::<u32>()), 0..400),
        t0 in 0u32..20,
        width in 0u32..20,
    ) {
        let t1 = t0 + width;
        let (targets, sources): (Vec<u32>, Vec<u32>) = edges.iter().copied().unzip();
        let mut per: Vec<Vec<u32>> = vec![Vec::new(); width as usize];
        for &(t, s) in &edges {
            if t >= t0 && t < t1 {
                per[(t - t0) as usize].push(s);
            }
        }
        let mut offsets = vec![0u32];
        for v in &per {
            offsets.push(offsets[offsets.len() - 1] + v.len() as u32);
        }
        let p = SourcesByTargetParams { n: edges.len() as u32, t0, t1, _pad: 0 };
        let mut cursor = vec![0u32; width as usize];
        let mut grouped = vec![u32::MAX; offsets[width as usize] as usize];
        twin::sources_by_target(&p, &targets, &sources, &offsets, &mut cursor, &mut grouped);
        for (k, v) in per.iter().enumerate() {
            prop_assert_eq!(cursor[k], v.len() as u32);
            prop_assert_eq!(&grouped[offsets[k] as usize..offsets[k + 1] as usize], &v[..]);
        }
    }

    /// `synapses_per_connection` adds one to bin `c` for each count `c < n_bins` of the batch's
    /// window of the arena.
    #[test]
    fn twin_histogram_matches_the_naive_reference(
        counts in proptest::collection::vec(
            prop_oneof![6 => 0u32..300, 1 => 0u32..70_000, 1 => any::<u32>()], 0..500),
        window in (any::<u16>(), any::<u16>()),
        n_bins in prop_oneof![Just(0u32), 1u32..300, Just(1 << 16)],
        start in any::<u32>(),
    ) {
        let base = (window.0 as usize) % (counts.len() + 1);
        let total = (window.1 as usize) % (counts.len() - base + 1);
        let p = SynapsesPerConnectionParams { n_bins, _pad: [0; 3] };
        let mut want = vec![start; n_bins as usize];
        for &c in &counts[base..base + total] {
            if c < n_bins {
                want[c as usize] = want[c as usize].wrapping_add(1);
            }
        }
        let mut got = vec![start; n_bins as usize];
        twin::synapses_per_connection(&p, &[base as u32], &[total as u32], &counts, &mut got);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn case_shapes_are_reachable() {
    // The strategy must produce every kind of case the module docs promise; a degenerate
    // strategy would pass every property vacuously.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = census_case(400);
    let mut seen = BTreeSet::new();
    for _ in 0..2000 {
        let c = strategy.new_tree(&mut runner).unwrap().current();
        let t = c.targets();
        let sorted = t.windows(2).all(|w| w[0] <= w[1]);
        seen.insert(match () {
            _ if c.pairs.is_empty() => "empty",
            _ if c.pairs.len() == 1 => "one edge",
            _ if c.first_bad_edge().is_some() => "bad target",
            _ if c.memory_budget < 64 && !sorted => "spilled",
            _ if !sorted => "unsorted",
            _ => "sorted",
        });
        if c.pairs.iter().any(|p| p.1 > u64::from(u32::MAX)) && !sorted {
            seen.insert("unsorted wide sources");
        }
        if c.pairs.iter().any(|p| p.0 >= u64::from(u32::MAX)) {
            seen.insert("target near u32::MAX");
        }
        if c.pairs.len() > 1 && c.pairs.iter().all(|p| p.0 == c.pairs[0].0) {
            seen.insert("one target");
        }
        if matches!(c.nodes, Nodes::Index(_)) {
            seen.insert("index");
        }
        if matches!(c.ids, Ids::U32) {
            seen.insert("u32 ids");
        }
        if matches!(c.ids, Ids::I64) {
            seen.insert("i64 ids");
        }
    }
    let all = [
        "empty",
        "one edge",
        "bad target",
        "spilled",
        "unsorted",
        "sorted",
        "unsorted wide sources",
        "target near u32::MAX",
        "one target",
        "index",
        "u32 ids",
        "i64 ids",
    ];
    for kind in all {
        assert!(seen.contains(kind), "no '{kind}' case in 2000: {seen:?}");
    }
}
