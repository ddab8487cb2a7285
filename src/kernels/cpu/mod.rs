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
pub mod prefix_sum;
pub mod segment_merge;
pub mod segment_sort;
pub mod sources_by_target;
pub mod synapses_per_connection;
pub mod target_counts;

pub use connection_counts::{advance, count_heads, finish, scatter_heads};
pub use prefix_sum::{add_offsets, exclusive_scan, scan_blocks};
pub use segment_merge::segment_merge;
pub use segment_sort::segment_sort;
pub use sources_by_target::sources_by_target;
pub use synapses_per_connection::synapses_per_connection;
pub use target_counts::target_counts;

use super::BatchConnections;
use super::layout::{SegmentLayout, SortStep};
use super::params::{ConnectionCountsParams, SCAN_BLOCK};

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
