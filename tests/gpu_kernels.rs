//! Every GPU kernel against its CPU twin (exact equality, seeded random inputs), and the shader
//! sources against the Rust constants. Kernel tests need a GPU adapter (lavapipe counts): without
//! one they print "no GPU adapter - skipped" and pass, unless SONATA_CENSUS_REQUIRE_GPU=1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use sonata_census::kernels::{self, params};

/// Every shader parses and validates with naga, and every constant it shares with the host has
/// the host's value.
#[test]
fn shader_constants_match_rust() {
    for shader in kernels::SHADERS {
        let module = naga::front::wgsl::parse_str(shader.source).unwrap_or_else(|e| {
            panic!("{}.wgsl: {}", shader.name, e.emit_to_string(shader.source))
        });
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        );
        validator.validate(&module).unwrap_or_else(|e| {
            panic!("{}.wgsl: {}", shader.name, e.emit_to_string(shader.source))
        });
        for ep in shader.entry_points {
            assert!(
                module.entry_points.iter().any(|e| e.name == *ep),
                "{}.wgsl has no entry point {ep}",
                shader.name
            );
        }
        let mut checked = 0;
        for (_, c) in module.constants.iter() {
            let Some(name) = c.name.as_deref() else {
                continue;
            };
            let Some(&(_, want)) = params::SHARED_CONSTANTS.iter().find(|(n, _)| *n == name) else {
                panic!(
                    "{}.wgsl: constant {name} is not in params::SHARED_CONSTANTS",
                    shader.name
                );
            };
            let got = match module.global_expressions[c.init] {
                naga::Expression::Literal(naga::Literal::U32(v)) => v,
                ref other => panic!(
                    "{}.wgsl: {name} is not a u32 literal: {other:?}",
                    shader.name
                ),
            };
            assert_eq!(got, want, "{}.wgsl: {name}", shader.name);
            checked += 1;
        }
        assert!(checked > 0, "{}.wgsl shares no constant", shader.name);
    }
}

use common::{Rng, gpu_context as gpu};
use sonata_census::gpu;
use sonata_census::kernels::cpu;
use sonata_census::kernels::layout::SegmentLayout;
use sonata_census::kernels::params::{
    ConnectionCountsParams, HIST_BINS, MODE_EDGES, MODE_MERGE, MODE_SEGMENTS, MODE_SORT,
    PrefixSumParams, SCAN_BLOCK, SORT_TILE, SegmentMergeParams, SegmentSortParams,
    SourcesByTargetParams, SynapsesPerConnectionParams, TC_PER_THREAD, TargetCountsParams, WG_SIZE,
};

const WG: usize = WG_SIZE as usize;
const TILE: usize = SORT_TILE as usize;
const BLOCK: usize = SCAN_BLOCK as usize;

/// Sizes around every boundary of the kernels.
fn sizes() -> Vec<usize> {
    let tc = WG * TC_PER_THREAD as usize;
    vec![
        0,
        1,
        WG - 1,
        WG,
        WG + 1,
        TILE - 1,
        TILE,
        TILE + 1,
        tc - 1,
        tc,
        tc + 1,
        3 * BLOCK + 17,
        100_003,
    ]
}

/// `n` ids in `0..range`: shuffled, sorted, or skewed (70% on id 3).
fn ids(rng: &mut Rng, n: usize, range: u64, shape: &str) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n)
        .map(|_| {
            if shape == "skewed" && rng.below(10) < 7 {
                3.min(range - 1) as u32
            } else {
                rng.below(range) as u32
            }
        })
        .collect();
    if shape != "shuffled" {
        v.sort_unstable();
    }
    v
}

/// Segment boundaries for `n` elements with lengths drawn from `lens` (cycled), the last one
/// cut to fit.
fn offsets_for(n: usize, lens: &[usize]) -> Vec<u32> {
    let mut offsets = vec![0u32];
    let mut i = 0;
    while (*offsets.last().unwrap() as usize) < n {
        let l = lens[i % lens.len()].max(1);
        let next = (*offsets.last().unwrap() as usize + l).min(n);
        offsets.push(next as u32);
        i += 1;
    }
    offsets
}

#[test]
fn target_counts_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(1);
    for n in sizes() {
        for (shape, range) in [
            ("sorted", 50u64),
            ("shuffled", 1000),
            ("skewed", 200),
            ("shuffled", 1 << 20),
        ] {
            let targets = ids(&mut rng, n, range, shape);
            let n_counts = range as usize;
            // Counters start non-zero: the kernel accumulates.
            let start: Vec<u32> = (0..n_counts).map(|i| (i % 7) as u32).collect();
            let p = TargetCountsParams {
                n: n as u32,
                mode: MODE_EDGES,
                n_counts: n_counts as u32,
                _pad: 0,
            };
            let mut want = start.clone();
            cpu::target_counts(&p, &targets, &targets, &mut want);
            let got = gpu::target_counts::run(ctx, &p, &targets, &targets, &start).unwrap();
            assert_eq!(got, want, "edges n={n} {shape} range={range}");
            // Segment mode: entry i is a run of offsets[i+1] - offsets[i] edges.
            let offsets = offsets_for(n * 3, &[1, 5, 2, 300, 7]);
            let m = offsets.len() - 1;
            let seg_targets = ids(&mut rng, m, range, shape);
            let p = TargetCountsParams {
                n: m as u32,
                mode: MODE_SEGMENTS,
                ..p
            };
            let mut want = start.clone();
            cpu::target_counts(&p, &seg_targets, &offsets, &mut want);
            let got = gpu::target_counts::run(ctx, &p, &seg_targets, &offsets, &start).unwrap();
            assert_eq!(got, want, "segments m={m} {shape} range={range}");
        }
    }
}

#[test]
fn sources_by_target_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(2);
    for n in sizes() {
        for range in [10u64, 5000] {
            let targets = ids(&mut rng, n, range, "shuffled");
            let sources: Vec<u32> = (0..n).map(|_| rng.next() as u32).collect();
            let (t0, t1) = (range / 4, range - range / 4);
            let mut degrees = vec![0u32; (t1 - t0) as usize];
            for &t in &targets {
                if (t0..t1).contains(&u64::from(t)) {
                    degrees[(u64::from(t) - t0) as usize] += 1;
                }
            }
            let mut offsets = Vec::new();
            let mut acc = 0u32;
            for &d in &degrees {
                offsets.push(acc);
                acc += d;
            }
            let p = SourcesByTargetParams {
                n: n as u32,
                t0: t0 as u32,
                t1: t1 as u32,
                _pad: 0,
            };
            let cursor = vec![0u32; degrees.len()];
            let grouped = vec![u32::MAX; acc as usize];
            let (mut want_cursor, mut want) = (cursor.clone(), grouped.clone());
            cpu::sources_by_target(
                &p,
                &targets,
                &sources,
                &offsets,
                &mut want_cursor,
                &mut want,
            );
            let (got_cursor, mut got) = gpu::sources_by_target::run(
                ctx, &p, &targets, &sources, &offsets, &cursor, &grouped,
            )
            .unwrap();
            assert_eq!(got_cursor, want_cursor, "cursor n={n} range={range}");
            // Within a target the order is the GPU's arrival order: compare as multisets.
            for (k, &o) in offsets.iter().enumerate() {
                let r = o as usize..(o + degrees[k]) as usize;
                got[r.clone()].sort_unstable();
                want[r].sort_unstable();
            }
            assert_eq!(got, want, "grouped n={n} range={range}");
        }
    }
}

#[test]
fn segment_sort_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(3);
    for n in sizes() {
        for lens in [
            vec![1usize],
            vec![3, 1, 17, 200],
            vec![TILE - 1, 2, TILE, TILE + 1],
            vec![5 * TILE + 3, 40],
        ] {
            let offsets = offsets_for(n, &lens);
            let keys: Vec<u32> = (0..n).map(|_| rng.below(100) as u32).collect();
            let layout = SegmentLayout::build(&offsets);
            for mode in [MODE_SORT, MODE_MERGE] {
                let p = SegmentSortParams {
                    first_block: 0,
                    n_blocks: layout.blocks.len() as u32,
                    mode,
                    m: layout.m,
                };
                let mut want = keys.clone();
                cpu::segment_sort(&p, &layout.blocks, &offsets, &mut want);
                let got = gpu::segment_sort::run(ctx, &p, &layout.blocks, &offsets, &keys).unwrap();
                assert_eq!(got, want, "n={n} lens={lens:?} mode={mode}");
            }
        }
    }
}

#[test]
fn segment_merge_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(4);
    for n in [0usize, TILE + 1, 2 * TILE, 9 * TILE + 5, 100_003] {
        let offsets = offsets_for(n, &[3 * TILE + 1, 7, TILE + 1, 40 * TILE]);
        let keys: Vec<u32> = (0..n).map(|_| rng.next() as u32).collect();
        let layout = SegmentLayout::build(&offsets);
        let widest = layout.long_segs.first().map_or(0, |l| l[2]);
        let mut k = 2 * SORT_TILE;
        while k <= widest {
            let r = layout.long_segs.iter().take_while(|l| l[2] >= k).count();
            let n_comparators = layout.long_segs.get(r).map_or(layout.comparators, |l| l[3]);
            for j in [k / 2, SORT_TILE] {
                let p = SegmentMergeParams {
                    k,
                    j,
                    n_segs: r as u32,
                    n_comparators,
                };
                let mut want = keys.clone();
                cpu::segment_merge(&p, &layout.long_segs, &mut want);
                let got = gpu::segment_merge::run(ctx, &p, &layout.long_segs, &keys).unwrap();
                assert_eq!(got, want, "n={n} k={k} j={j}");
            }
            k *= 2;
        }
    }
}

#[test]
fn prefix_sum_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(5);
    for n in sizes().into_iter().chain([BLOCK * BLOCK + 1]) {
        let data: Vec<u32> = (0..n).map(|_| rng.below(9) as u32).collect();
        let p = PrefixSumParams {
            n: n as u32,
            _pad: [0; 3],
        };
        let blocks = n.div_ceil(BLOCK);
        let sums = vec![7u32; blocks];
        let (mut want, mut want_sums) = (data.clone(), sums.clone());
        cpu::scan_blocks(&p, &mut want, &mut want_sums);
        let (got, got_sums) = gpu::prefix_sum::run_scan_blocks(ctx, &p, &data, &sums).unwrap();
        assert_eq!(
            (got, got_sums),
            (want.clone(), want_sums.clone()),
            "scan_blocks n={n}"
        );
        let mut want_added = want.clone();
        cpu::add_offsets(&p, &mut want_added, &want_sums);
        let got = gpu::prefix_sum::run_add_offsets(ctx, &p, &want, &want_sums).unwrap();
        assert_eq!(got, want_added, "add_offsets n={n}");
        let mut want = data.clone();
        let total = cpu::exclusive_scan(&mut want);
        let got = gpu::prefix_sum::run(ctx, &data).unwrap();
        assert_eq!(got, (want, total), "whole scan n={n}");
    }
}

#[test]
fn connection_counts_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(6);
    for n in sizes() {
        for lens in [vec![1usize], vec![2, 9, 40], vec![3000, 1]] {
            let offsets = offsets_for(n, &lens);
            let m = offsets.len() - 1;
            // Sorted segments with repeated sources, as after segment_sort.
            let mut keys: Vec<u32> = (0..n).map(|_| rng.below(6) as u32 * 1000).collect();
            for w in offsets.windows(2) {
                keys[w[0] as usize..w[1] as usize].sort_unstable();
            }
            let p = ConnectionCountsParams {
                n: n as u32,
                m: m as u32,
                seg_base: 3,
                _pad: 0,
            };
            let what = format!("n={n} lens={lens:?}");
            let blocks = n.div_ceil(BLOCK);
            let mut block_heads = vec![0u32; blocks];
            cpu::count_heads(&p, &keys, &offsets, &mut block_heads);
            let got =
                gpu::connection_counts::run_count_heads(ctx, &p, &keys, &offsets, &vec![0; blocks])
                    .unwrap();
            assert_eq!(got, block_heads, "count_heads {what}");
            let total = cpu::exclusive_scan(&mut block_heads);
            let state = [5u32];
            let conn_len = 5 + total as usize;
            let (mut conn_src, mut head_idx, mut seg_first) =
                (vec![0u32; conn_len], vec![0u32; n], vec![0u32; m]);
            cpu::scatter_heads(
                &p,
                &keys,
                &offsets,
                &block_heads,
                &state,
                &mut conn_src,
                &mut head_idx,
                &mut seg_first,
            );
            let got = gpu::connection_counts::run_scatter_heads(
                ctx,
                &p,
                &keys,
                &offsets,
                &block_heads,
                &state,
                &vec![0; conn_len],
                &vec![0; n],
                &vec![0; m],
            )
            .unwrap();
            assert_eq!(got.conn_src, conn_src, "scatter conn_src {what}");
            assert_eq!(got.head_idx, head_idx, "scatter head_idx {what}");
            assert_eq!(got.seg_first, seg_first, "scatter seg_first {what}");
            let (mut conn_count, mut seg_conn) = (vec![0u32; conn_len], vec![0u32; 3 + m]);
            cpu::finish(
                &p,
                &[total],
                &head_idx,
                &seg_first,
                &state,
                &mut conn_count,
                &mut seg_conn,
            );
            let got = gpu::connection_counts::run_finish(
                ctx,
                &p,
                &state,
                &[total],
                &vec![0; conn_len],
                &head_idx,
                &seg_first,
                &vec![0; 3 + m],
            )
            .unwrap();
            assert_eq!(got, (conn_count, seg_conn), "finish {what}");
            let mut want_state = state;
            cpu::advance(&[total], &mut want_state);
            let got = gpu::connection_counts::run_advance(ctx, &state, &[total]).unwrap();
            assert_eq!(got, want_state.to_vec(), "advance {what}");
        }
    }
}

#[test]
fn synapses_per_connection_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(7);
    for n in sizes() {
        let counts: Vec<u32> = (0..n)
            .map(|_| match rng.below(100) {
                0 => HIST_BINS + rng.below(10) as u32,
                1..=3 => 256 + rng.below(5000) as u32,
                _ => 1 + rng.below(12) as u32,
            })
            .collect();
        let base = n / 3;
        let state = [base as u32];
        let total = [(n - base) as u32];
        for n_bins in [HIST_BINS, 100] {
            let p = SynapsesPerConnectionParams {
                n_bins,
                _pad: [0; 3],
            };
            let bins = vec![1u32; n_bins as usize];
            let mut want = bins.clone();
            cpu::synapses_per_connection(&p, &state, &total, &counts, &mut want);
            let got =
                gpu::synapses_per_connection::run(ctx, &p, &state, &total, &counts, &bins).unwrap();
            assert_eq!(got, want, "n={n} n_bins={n_bins}");
        }
    }
}

/// The whole per-batch pipeline: GPU == CPU twins == sort-and-count reference, including one
/// segment of 10^6 synapses, many one-edge segments, and segments around the tile size.
#[test]
fn connections_gpu_matches_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(8);
    let cases: Vec<(&str, usize, Vec<usize>, u64)> = vec![
        ("empty", 0, vec![1], 10),
        ("one edge", 1, vec![1], 10),
        ("single-edge segments", 5000, vec![1], 1 << 30),
        (
            "around the tile",
            9 * TILE,
            vec![TILE - 1, TILE, TILE + 1, 1],
            300,
        ),
        ("mixed", 200_000, vec![3, 70, 5000, 2, 33_000, 1], 2000),
        (
            "one target with 10^6 synapses",
            1_000_000,
            vec![1_000_000],
            5000,
        ),
    ];
    for (what, n, lens, range) in cases {
        let offsets = offsets_for(n, &lens);
        let keys: Vec<u32> = (0..n).map(|_| rng.below(range) as u32).collect();
        let want = cpu::reference_connections(&keys, &offsets);
        let mut twin_keys = keys.clone();
        let twin = cpu::connections(&mut twin_keys, &offsets);
        assert_eq!(twin, want, "{what}: twins");
        let (got, sorted) = gpu::connections::run(ctx, &keys, &offsets).unwrap();
        assert_eq!(got, want, "{what}: gpu");
        assert_eq!(sorted, twin_keys, "{what}: sorted keys");
    }
}

/// A GPU context with the wide kernels (sources of two u32 words); every adapter the tests run
/// on (lavapipe included) has the workgroup memory they need, so their absence is a failure.
fn wide_gpu() -> Option<&'static gpu::GpuContext> {
    let ctx = gpu()?;
    assert!(
        ctx.has_wide_kernels(),
        "the adapter has no wide kernels: {}",
        ctx.describe()
    );
    Some(ctx)
}

/// `n` u64 sources split into (low, high) words: high words from a few values (0 included, and
/// u32::MAX, the widest), low words near 0 and near u32::MAX (so equal low words under different
/// high words are common, and the sources lie on both sides of every multiple of 2^32), 70% of
/// the pairs one value when `skewed`.
fn wide_ids(rng: &mut Rng, n: usize, skewed: bool) -> (Vec<u32>, Vec<u32>) {
    let his = [0u32, 1, 2, 0x8000_0000, u32::MAX];
    let pairs: Vec<(u32, u32)> = (0..n)
        .map(|_| {
            if skewed && rng.below(10) < 7 {
                (1, 5)
            } else {
                (
                    his[rng.below(5) as usize],
                    (rng.below(40) as u32).wrapping_sub(20),
                )
            }
        })
        .collect();
    (
        pairs.iter().map(|p| p.1).collect(),
        pairs.iter().map(|p| p.0).collect(),
    )
}

#[test]
fn segment_sort_wide_gpu_matches_cpu() {
    let Some(ctx) = wide_gpu() else { return };
    let mut rng = Rng(13);
    for n in sizes() {
        for lens in [
            vec![1usize],
            vec![3, 1, 17, 200],
            vec![TILE - 1, 2, TILE, TILE + 1],
            vec![5 * TILE + 3, 40],
        ] {
            for skewed in [false, true] {
                let offsets = offsets_for(n, &lens);
                let (lo, hi) = wide_ids(&mut rng, n, skewed);
                let layout = SegmentLayout::build(&offsets);
                for mode in [MODE_SORT, MODE_MERGE] {
                    let p = SegmentSortParams {
                        first_block: 0,
                        n_blocks: layout.blocks.len() as u32,
                        mode,
                        m: layout.m,
                    };
                    let (mut want_lo, mut want_hi) = (lo.clone(), hi.clone());
                    cpu::segment_sort_wide::segment_sort(
                        &p,
                        &layout.blocks,
                        &offsets,
                        &mut want_lo,
                        &mut want_hi,
                    );
                    let got =
                        gpu::segment_sort_wide::run(ctx, &p, &layout.blocks, &offsets, &lo, &hi)
                            .unwrap();
                    let what = format!("n={n} lens={lens:?} mode={mode} skewed={skewed}");
                    assert_eq!(got, (want_lo, want_hi), "{what}");
                }
            }
        }
    }
}

#[test]
fn segment_merge_wide_gpu_matches_cpu() {
    let Some(ctx) = wide_gpu() else { return };
    let mut rng = Rng(14);
    for n in [0usize, TILE + 1, 2 * TILE, 9 * TILE + 5, 100_003] {
        let offsets = offsets_for(n, &[3 * TILE + 1, 7, TILE + 1, 40 * TILE]);
        let (lo, hi) = wide_ids(&mut rng, n, n % 2 == 1);
        let layout = SegmentLayout::build(&offsets);
        let widest = layout.long_segs.first().map_or(0, |l| l[2]);
        let mut k = 2 * SORT_TILE;
        let mut steps = 0;
        while k <= widest {
            let r = layout.long_segs.iter().take_while(|l| l[2] >= k).count();
            let n_comparators = layout.long_segs.get(r).map_or(layout.comparators, |l| l[3]);
            for j in [k / 2, SORT_TILE] {
                let p = SegmentMergeParams {
                    k,
                    j,
                    n_segs: r as u32,
                    n_comparators,
                };
                let (mut want_lo, mut want_hi) = (lo.clone(), hi.clone());
                cpu::segment_merge_wide::segment_merge(
                    &p,
                    &layout.long_segs,
                    &mut want_lo,
                    &mut want_hi,
                );
                let got =
                    gpu::segment_merge_wide::run(ctx, &p, &layout.long_segs, &lo, &hi).unwrap();
                assert_eq!(got, (want_lo, want_hi), "n={n} k={k} j={j}");
                steps += 1;
            }
            k *= 2;
        }
        assert_eq!(steps > 0, n > TILE, "n={n}: merge steps run");
    }
}

#[test]
fn sources_by_target_wide_gpu_matches_cpu() {
    let Some(ctx) = wide_gpu() else { return };
    let mut rng = Rng(15);
    for n in sizes() {
        for range in [10u64, 5000] {
            let targets = ids(&mut rng, n, range, "shuffled");
            let (sources, sources_hi) = wide_ids(&mut rng, n, range == 10);
            let (t0, t1) = (range / 4, range - range / 4);
            let mut degrees = vec![0u32; (t1 - t0) as usize];
            for &t in &targets {
                if (t0..t1).contains(&u64::from(t)) {
                    degrees[(u64::from(t) - t0) as usize] += 1;
                }
            }
            let mut offsets = Vec::new();
            let mut acc = 0u32;
            for &d in &degrees {
                offsets.push(acc);
                acc += d;
            }
            let p = SourcesByTargetParams {
                n: n as u32,
                t0: t0 as u32,
                t1: t1 as u32,
                _pad: 0,
            };
            let cursor = vec![0u32; degrees.len()];
            let grouped = vec![u32::MAX; acc as usize];
            let (mut want_cursor, mut want, mut want_hi) =
                (cursor.clone(), grouped.clone(), grouped.clone());
            cpu::sources_by_target_wide::sources_by_target(
                &p,
                &targets,
                &sources,
                &offsets,
                &mut want_cursor,
                &mut want,
                &sources_hi,
                &mut want_hi,
            );
            let got = gpu::sources_by_target_wide::run(
                ctx,
                &p,
                &targets,
                &sources,
                &offsets,
                &cursor,
                &grouped,
                &sources_hi,
                &grouped,
            )
            .unwrap();
            assert_eq!(got.cursor, want_cursor, "cursor n={n} range={range}");
            // Within a target the order is the GPU's arrival order: compare the (hi, lo) pairs
            // as multisets, which also checks that both words of a source moved together.
            let pairs = |lo: &[u32], hi: &[u32]| -> Vec<Vec<(u32, u32)>> {
                offsets
                    .iter()
                    .zip(&degrees)
                    .map(|(&o, &d)| {
                        let r = o as usize..(o + d) as usize;
                        let mut v: Vec<(u32, u32)> = hi[r.clone()]
                            .iter()
                            .copied()
                            .zip(lo[r].iter().copied())
                            .collect();
                        v.sort_unstable();
                        v
                    })
                    .collect()
            };
            assert_eq!(
                pairs(&got.grouped, &got.grouped_hi),
                pairs(&want, &want_hi),
                "grouped n={n} range={range}"
            );
        }
    }
}

#[test]
fn connection_counts_wide_gpu_matches_cpu() {
    let Some(ctx) = wide_gpu() else { return };
    let mut rng = Rng(16);
    for n in sizes() {
        for lens in [vec![1usize], vec![2, 9, 40], vec![3000, 1]] {
            let offsets = offsets_for(n, &lens);
            let m = offsets.len() - 1;
            // Sorted segments of pairs with repeats, and runs of equal low words under
            // different high words (heads that only the high word reveals).
            let (mut lo, mut hi) = wide_ids(&mut rng, n, lens.len() == 1);
            for w in offsets.windows(2) {
                let r = w[0] as usize..w[1] as usize;
                let mut v: Vec<(u32, u32)> = hi[r.clone()]
                    .iter()
                    .copied()
                    .zip(lo[r.clone()].iter().copied())
                    .collect();
                v.sort_unstable();
                for (k, (h, l)) in r.zip(v) {
                    (hi[k], lo[k]) = (h, l);
                }
            }
            let p = ConnectionCountsParams {
                n: n as u32,
                m: m as u32,
                seg_base: 3,
                _pad: 0,
            };
            let what = format!("n={n} lens={lens:?}");
            let blocks = n.div_ceil(BLOCK);
            let mut block_heads = vec![0u32; blocks];
            cpu::connection_counts_wide::count_heads(&p, &lo, &hi, &offsets, &mut block_heads);
            let got = gpu::connection_counts_wide::run_count_heads(
                ctx,
                &p,
                [&lo, &hi],
                &offsets,
                &vec![0; blocks],
            )
            .unwrap();
            assert_eq!(got, block_heads, "count_heads {what}");
            let total = cpu::exclusive_scan(&mut block_heads);
            let state = [5u32];
            let conn_len = 5 + total as usize;
            let (mut conn_src, mut conn_src_hi, mut head_idx, mut seg_first) = (
                vec![0u32; conn_len],
                vec![0u32; conn_len],
                vec![0u32; n],
                vec![0u32; m],
            );
            cpu::connection_counts_wide::scatter_heads(
                &p,
                &lo,
                &hi,
                &offsets,
                &block_heads,
                &state,
                &mut conn_src,
                &mut conn_src_hi,
                &mut head_idx,
                &mut seg_first,
            );
            let got = gpu::connection_counts_wide::run_scatter_heads(
                ctx,
                &p,
                [&lo, &hi],
                &offsets,
                &block_heads,
                &state,
                [&vec![0; conn_len], &vec![0; conn_len]],
                &vec![0; n],
                &vec![0; m],
            )
            .unwrap();
            assert_eq!(got.conn_src, conn_src, "scatter conn_src {what}");
            assert_eq!(got.conn_src_hi, conn_src_hi, "scatter conn_src_hi {what}");
            assert_eq!(got.head_idx, head_idx, "scatter head_idx {what}");
            assert_eq!(got.seg_first, seg_first, "scatter seg_first {what}");
        }
    }
}

/// The whole wide pipeline: GPU == wide twins == sort-and-count reference on u64 sources.
#[test]
fn connections_wide_gpu_matches_cpu() {
    let Some(ctx) = wide_gpu() else { return };
    let mut rng = Rng(17);
    let cases: Vec<(&str, usize, Vec<usize>)> = vec![
        ("empty", 0, vec![1]),
        ("one edge", 1, vec![1]),
        ("single-edge segments", 5000, vec![1]),
        (
            "around the tile",
            9 * TILE,
            vec![TILE - 1, TILE, TILE + 1, 1],
        ),
        ("mixed", 200_000, vec![3, 70, 5000, 2, 33_000, 1]),
        ("one target with 10^6 synapses", 1_000_000, vec![1_000_000]),
    ];
    for (what, n, lens) in cases {
        let offsets = offsets_for(n, &lens);
        let (lo, hi) = wide_ids(&mut rng, n, what.starts_with("mixed"));
        let keys: Vec<u64> = lo
            .iter()
            .zip(&hi)
            .map(|(&l, &h)| u64::from(h) << 32 | u64::from(l))
            .collect();
        let want = cpu::reference_connections_wide(&keys, &offsets);
        let mut twin_keys = keys.clone();
        let twin = cpu::connections_wide(&mut twin_keys, &offsets);
        assert_eq!(twin, want, "{what}: twins");
        let (got, sorted) = gpu::connections::run_wide(ctx, &keys, &offsets).unwrap();
        assert_eq!(got, want, "{what}: gpu");
        assert_eq!(sorted, twin_keys, "{what}: sorted keys");
    }
}

/// One mapped transfer for several tables gives exactly the words each range holds (empty
/// ranges, ranges not at the start, odd lengths), as the per-piece path does; the time of each
/// path on about 3 x 40 MiB is printed (not asserted: it depends on the adapter and the load).
#[test]
fn readback_tables_in_one_transfer_match_the_pieces() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng(18);
    let big = 10 << 20;
    let data: Vec<Vec<u32>> = [5usize, 0, 4099, big, big + 3, big - 1]
        .iter()
        .map(|&n| (0..n).map(|_| rng.next() as u32).collect())
        .collect();
    let refs: Vec<&[u32]> = data.iter().map(Vec::as_slice).collect();
    let ranges = [
        (0u64, 5usize),
        (0, 0),
        (17, 4000),
        (0, big),
        (3, big),
        (1, big - 2),
    ];
    let want: Vec<Vec<u32>> = data
        .iter()
        .zip(&ranges)
        .map(|(d, &(f, c))| d[f as usize..f as usize + c].to_vec())
        .collect();
    for pieces in [false, true, false, true] {
        let started = std::time::Instant::now();
        let got = gpu::readback::read_back_copies(ctx, &refs, &ranges, pieces).unwrap();
        let took = started.elapsed().as_secs_f64();
        assert!(got == want, "pieces={pieces}: the words differ");
        eprintln!(
            "readback of {} MiB with upload, pieces={pieces}: {took:.3} s",
            data.iter().map(Vec::len).sum::<usize>() >> 18
        );
    }
    assert!(gpu::readback::read_back_copies(ctx, &refs[..1], &[(1, 5)], false).is_err());
    // A device planned with 1 MiB buffers cannot take the tables in one transfer: the same words
    // come back in pieces (the planned limit is a testing hook).
    #[cfg(feature = "testing")]
    {
        let faults = gpu::fault::GpuFaults {
            memory_limit: Some(1 << 20),
            ..Default::default()
        };
        let small = match gpu::GpuContext::open_with(gpu::AdapterChoice::Any, &faults).unwrap() {
            gpu::Opened::Ready(c) => c,
            gpu::Opened::Unavailable(why) => panic!("a second context: {why}"),
        };
        let (few, few_ranges) = (&refs[2..5], &ranges[2..5]);
        let got = gpu::readback::read_back_copies(&small, few, few_ranges, false).unwrap();
        assert!(got == want[2..5], "over the buffer limit: the words differ");
    }
    let none = gpu::readback::read_back_copies(ctx, &[], &[], false).unwrap();
    assert!(none.is_empty());
}

/// The workgroup scan that `prefix_sum` and `connection_counts` share is written once
/// (`shaders/common/workgroup_scan.wgsl`) and appended to exactly the shaders that call it, once.
#[test]
fn the_workgroup_scan_has_one_source() {
    for shader in kernels::SHADERS {
        let defined = shader
            .source
            .matches("fn workgroup_exclusive_scan(")
            .count();
        let named = shader.source.matches("workgroup_exclusive_scan(").count();
        if named > defined {
            assert_eq!(defined, 1, "{}.wgsl", shader.name);
            assert!(
                shader.source.ends_with(kernels::WORKGROUP_SCAN),
                "{}.wgsl: the shared scan is not appended",
                shader.name
            );
        } else {
            assert_eq!(defined, 0, "{}.wgsl defines an unused scan", shader.name);
        }
    }
}
