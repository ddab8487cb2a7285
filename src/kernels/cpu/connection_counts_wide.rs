//! Twin of `shaders/connection_counts_wide.wgsl` (entry points `count_heads`, `scatter_heads`):
//! those of [`super::connection_counts`] with sources of two u32 words (`keys` the low words,
//! `keys_hi` the high words). `finish` and `advance` do not read sources and are shared.

use crate::kernels::params::{ConnectionCountsParams, SCAN_BLOCK, SCAN_PER_THREAD, WG_SIZE};

/// The first segment starting at or after element `g` (`m` when none).
fn first_segment_from(seg_offsets: &[u32], m: u32, g: u32) -> u32 {
    let (mut lo, mut hi) = (0u32, m);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if seg_offsets[mid as usize] < g {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The block's segment starts: `start[i - begin] = s + 1` when element `i` starts segment `s`.
fn mark_starts(p: &ConnectionCountsParams, seg_offsets: &[u32], begin: u32, end: u32) -> Vec<u32> {
    let mut start = vec![0u32; SCAN_BLOCK as usize];
    let mut s = first_segment_from(seg_offsets, p.m, begin);
    while s < p.m {
        let o = seg_offsets[s as usize];
        if o >= end {
            break;
        }
        start[(o - begin) as usize] = s + 1;
        s += 1;
    }
    start
}

/// The (low, high) words of the sorted sources.
type Keys<'a> = (&'a [u32], &'a [u32]);

fn is_head(keys: Keys<'_>, start: &[u32], i: u32, begin: u32) -> bool {
    // A segment start (element 0 included) is a head before the element before it is read.
    if start[(i - begin) as usize] != 0 {
        return true;
    }
    let (i, j) = (i as usize, (i - 1) as usize);
    keys.0[i] != keys.0[j] || keys.1[i] != keys.1[j]
}

/// Heads of each invocation's [`SCAN_PER_THREAD`] elements of block `[begin, end)`.
fn heads_per_thread(keys: Keys<'_>, start: &[u32], begin: u32, end: u32) -> Vec<u32> {
    (0..WG_SIZE)
        .map(|lid| {
            let first = begin + lid * SCAN_PER_THREAD;
            (first..first + SCAN_PER_THREAD)
                .filter(|&i| i < end && is_head(keys, start, i, begin))
                .count() as u32
        })
        .collect()
}

/// Entry point `count_heads`: `block_heads[b]` = heads in block `b`.
pub fn count_heads(
    p: &ConnectionCountsParams,
    keys: &[u32],
    keys_hi: &[u32],
    seg_offsets: &[u32],
    block_heads: &mut [u32],
) {
    for b in 0..p.n.div_ceil(SCAN_BLOCK) {
        let begin = b * SCAN_BLOCK;
        let end = (begin + SCAN_BLOCK).min(p.n);
        let start = mark_starts(p, seg_offsets, begin, end);
        block_heads[b as usize] = heads_per_thread((keys, keys_hi), &start, begin, end)
            .iter()
            .sum();
    }
}

/// Entry point `scatter_heads`: with `block_offsets` the exclusive prefix sum of `count_heads`,
/// writes each head's source words at `conn_src[state[0] + rank]` and `conn_src_hi[..]`, its index at `head_idx[rank]`, and
/// the rank of each segment's first head at `seg_first[s]`.
#[allow(clippy::too_many_arguments)]
pub fn scatter_heads(
    p: &ConnectionCountsParams,
    keys: &[u32],
    keys_hi: &[u32],
    seg_offsets: &[u32],
    block_offsets: &[u32],
    state: &[u32],
    conn_src: &mut [u32],
    conn_src_hi: &mut [u32],
    head_idx: &mut [u32],
    seg_first: &mut [u32],
) {
    let base = state[0];
    for b in 0..p.n.div_ceil(SCAN_BLOCK) {
        let begin = b * SCAN_BLOCK;
        let end = (begin + SCAN_BLOCK).min(p.n);
        let start = mark_starts(p, seg_offsets, begin, end);
        let per_thread = heads_per_thread((keys, keys_hi), &start, begin, end);
        let mut excl = 0u32;
        for lid in 0..WG_SIZE {
            let mut rank = block_offsets[b as usize] + excl;
            let first = begin + lid * SCAN_PER_THREAD;
            for i in first..first + SCAN_PER_THREAD {
                if i < end && is_head((keys, keys_hi), &start, i, begin) {
                    conn_src[(base + rank) as usize] = keys[i as usize];
                    conn_src_hi[(base + rank) as usize] = keys_hi[i as usize];
                    head_idx[rank as usize] = i;
                    let s = start[(i - begin) as usize];
                    if s != 0 {
                        seg_first[(s - 1) as usize] = rank;
                    }
                    rank += 1;
                }
            }
            excl += per_thread[lid as usize];
        }
    }
}
