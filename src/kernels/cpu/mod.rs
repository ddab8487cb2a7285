//! CPU twins of the shaders: each function does what the shader of the same name does, with the
//! same constants and the same loop structure, serially (one "invocation" after another).
//! Comparators of one sorting step touch disjoint pairs and atomics commute, so running the
//! invocations in order gives exactly what the GPU gives; where the GPU result depends on
//! scheduling (the order of sources within a target in `sources_by_target`), the doc says so.
//!
//! [`connections`] runs the whole per-batch pipeline of twins, as `census::gpu` records it.
#![allow(
    clippy::needless_range_loop,
    reason = "index loops keep the twins comparable with the shaders line by line"
)]

pub mod connection_counts;
pub mod connection_counts_wide;
pub mod prefix_sum;
pub mod segment_merge;
pub mod segment_merge_wide;
pub mod segment_sort;
pub mod segment_sort_wide;
pub mod sources_by_target;
pub mod sources_by_target_wide;
pub mod synapses_per_connection;
pub mod target_counts;

pub use connection_counts::{advance, count_heads, finish, scatter_heads};
pub use prefix_sum::{add_offsets, exclusive_scan, scan_blocks};
pub use segment_merge::segment_merge;
pub use segment_sort::segment_sort;
pub use sources_by_target::sources_by_target;
pub use synapses_per_connection::synapses_per_connection;
pub use target_counts::target_counts;

use super::layout::{SegmentLayout, SortStep};
use super::params::{ConnectionCountsParams, SCAN_BLOCK};
use super::{BatchConnections, WideBatchConnections};

/// The connections of one batch, by the CPU twins in the order the GPU engine dispatches them:
/// `keys` are sources grouped by segment (`seg_offsets`, `m + 1` strictly increasing entries);
/// they are sorted in place.
pub fn connections(keys: &mut [u32], seg_offsets: &[u32]) -> BatchConnections {
    let n = keys.len();
    let layout = SegmentLayout::build(seg_offsets);
    for step in layout.sort_steps() {
        match step {
            SortStep::Sort(p) => segment_sort(&p, &layout.blocks, seg_offsets, keys),
            SortStep::Merge(p) => segment_merge(&p, &layout.long_segs, keys),
        }
    }
    let m = layout.m;
    let p = ConnectionCountsParams {
        n: n as u32,
        m,
        seg_base: 0,
        _pad: 0,
    };
    let mut out = BatchConnections::default();
    if n == 0 {
        return out;
    }
    let mut block_heads = vec![0u32; n.div_ceil(SCAN_BLOCK as usize)];
    count_heads(&p, keys, seg_offsets, &mut block_heads);
    let total = exclusive_scan(&mut block_heads);
    let mut state = [0u32];
    let mut head_idx = vec![0u32; n];
    let mut seg_first = vec![0u32; m as usize];
    out.sources = vec![0u32; total as usize];
    out.counts = vec![0u32; total as usize];
    out.per_segment = vec![0u32; m as usize];
    scatter_heads(
        &p,
        keys,
        seg_offsets,
        &block_heads,
        &state,
        &mut out.sources,
        &mut head_idx,
        &mut seg_first,
    );
    finish(
        &p,
        &[total],
        &head_idx,
        &seg_first,
        &state,
        &mut out.counts,
        &mut out.per_segment,
    );
    advance(&[total], &mut state);
    out
}

/// [`connections`] for sources wider than 32 bits, by the twins of the `_wide` kernels in the
/// order the GPU engine dispatches them: `keys` (u64 sources grouped by segment) are split into
/// low and high words, sorted as pairs, and encoded; `keys` are sorted in place.
pub fn connections_wide(keys: &mut [u64], seg_offsets: &[u32]) -> WideBatchConnections {
    let n = keys.len();
    let mut lo: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
    let mut hi: Vec<u32> = keys.iter().map(|&k| (k >> 32) as u32).collect();
    let layout = SegmentLayout::build(seg_offsets);
    for step in layout.sort_steps() {
        match step {
            SortStep::Sort(p) => {
                segment_sort_wide::segment_sort(&p, &layout.blocks, seg_offsets, &mut lo, &mut hi)
            }
            SortStep::Merge(p) => {
                segment_merge_wide::segment_merge(&p, &layout.long_segs, &mut lo, &mut hi)
            }
        }
    }
    for (k, (&l, &h)) in keys.iter_mut().zip(lo.iter().zip(&hi)) {
        *k = u64::from(h) << 32 | u64::from(l);
    }
    let mut out = WideBatchConnections::default();
    if n == 0 {
        return out;
    }
    let m = layout.m;
    let p = ConnectionCountsParams {
        n: n as u32,
        m,
        seg_base: 0,
        _pad: 0,
    };
    let mut block_heads = vec![0u32; n.div_ceil(SCAN_BLOCK as usize)];
    connection_counts_wide::count_heads(&p, &lo, &hi, seg_offsets, &mut block_heads);
    let total = exclusive_scan(&mut block_heads);
    let mut state = [0u32];
    let mut head_idx = vec![0u32; n];
    let mut seg_first = vec![0u32; m as usize];
    let (mut src_lo, mut src_hi) = (vec![0u32; total as usize], vec![0u32; total as usize]);
    out.counts = vec![0u32; total as usize];
    out.per_segment = vec![0u32; m as usize];
    connection_counts_wide::scatter_heads(
        &p,
        &lo,
        &hi,
        seg_offsets,
        &block_heads,
        &state,
        &mut src_lo,
        &mut src_hi,
        &mut head_idx,
        &mut seg_first,
    );
    finish(
        &p,
        &[total],
        &head_idx,
        &seg_first,
        &state,
        &mut out.counts,
        &mut out.per_segment,
    );
    advance(&[total], &mut state);
    out.sources = src_lo
        .iter()
        .zip(&src_hi)
        .map(|(&l, &h)| u64::from(h) << 32 | u64::from(l))
        .collect();
    out
}

/// [`reference_connections`] for u64 sources, to check the wide twins' pipeline.
pub fn reference_connections_wide(keys: &[u64], seg_offsets: &[u32]) -> WideBatchConnections {
    let mut out = WideBatchConnections::default();
    for w in seg_offsets.windows(2) {
        let mut seg = keys[w[0] as usize..w[1] as usize].to_vec();
        seg.sort_unstable();
        let before = out.sources.len();
        for run in seg.chunk_by(|a, b| a == b) {
            out.sources.push(run[0]);
            out.counts.push(run.len() as u32);
        }
        out.per_segment.push((out.sources.len() - before) as u32);
    }
    out
}

/// The connections of a batch computed the obvious way (sort each segment, run-length encode),
/// to check the twins' pipeline.
pub fn reference_connections(keys: &[u32], seg_offsets: &[u32]) -> BatchConnections {
    let mut out = BatchConnections::default();
    for w in seg_offsets.windows(2) {
        let mut seg = keys[w[0] as usize..w[1] as usize].to_vec();
        seg.sort_unstable();
        let mut conns = 0;
        let mut i = 0;
        while i < seg.len() {
            let mut j = i + 1;
            while j < seg.len() && seg[j] == seg[i] {
                j += 1;
            }
            out.sources.push(seg[i]);
            out.counts.push((j - i) as u32);
            conns += 1;
            i = j;
        }
        out.per_segment.push(conns);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::params::SORT_TILE;

    fn lcg(state: &mut u64) -> u32 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 33) as u32
    }

    #[test]
    fn twin_pipeline_matches_the_reference() {
        let mut rng = 7u64;
        let t = SORT_TILE;
        let shapes: Vec<Vec<u32>> = vec![
            vec![],
            vec![1],
            vec![t - 1, 1, t, t + 1],
            vec![5; 1000],
            vec![3 * t + 7, 2, 9 * t, t / 2, 4 * t, 1],
            vec![1; 5000],
        ];
        for lens in shapes {
            let mut offsets = vec![0u32];
            for &l in &lens {
                offsets.push(offsets.last().copied().unwrap_or(0) + l);
            }
            let n = *offsets.last().unwrap_or(&0) as usize;
            for range in [4u32, 1000, u32::MAX] {
                let keys: Vec<u32> = (0..n)
                    .map(|_| match range {
                        u32::MAX => lcg(&mut rng) | 0x8000_0000,
                        r => lcg(&mut rng) % r,
                    })
                    .collect();
                let want = reference_connections(&keys, &offsets);
                let mut sorted = keys.clone();
                let got = connections(&mut sorted, &offsets);
                assert_eq!(got, want, "lens {lens:?} range {range}");
                for w in offsets.windows(2) {
                    let s = &sorted[w[0] as usize..w[1] as usize];
                    assert!(s.windows(2).all(|p| p[0] <= p[1]), "segment sorted");
                }
            }
        }
    }

    /// The wide twins against the reference, with sources on both sides of 2^32 and equal low
    /// words under different high words (which a sort of the low words alone would mix up).
    #[test]
    fn wide_twin_pipeline_matches_the_reference() {
        let mut rng = 11u64;
        let t = SORT_TILE;
        for lens in [
            vec![],
            vec![1],
            vec![t - 1, 1, t, t + 1],
            vec![3 * t + 7, 2, 5, 9 * t],
        ] {
            let mut offsets = vec![0u32];
            for &l in &lens {
                offsets.push(offsets.last().copied().unwrap_or(0) + l);
            }
            let n = *offsets.last().unwrap_or(&0) as usize;
            let keys: Vec<u64> = (0..n)
                .map(|_| u64::from(lcg(&mut rng) % 3) << 32 | u64::from(lcg(&mut rng) % 7))
                .collect();
            let want = reference_connections_wide(&keys, &offsets);
            let mut sorted = keys.clone();
            let got = connections_wide(&mut sorted, &offsets);
            assert_eq!(got, want, "lens {lens:?}");
            assert!(want.sources.iter().any(|&s| s >> 32 != 0) || n == 0);
        }
    }

    #[test]
    fn scan_recurses_over_levels() {
        let mut rng = 3u64;
        for n in [0usize, 1, 2047, 2048, 2049, 2048 * 2048 + 5] {
            let data: Vec<u32> = (0..n).map(|_| lcg(&mut rng) % 5).collect();
            let mut got = data.clone();
            let total = exclusive_scan(&mut got);
            let mut acc = 0u32;
            for (i, &x) in data.iter().enumerate() {
                assert_eq!(got[i], acc, "n {n} at {i}");
                acc += x;
            }
            assert_eq!(total, acc);
        }
    }
}
