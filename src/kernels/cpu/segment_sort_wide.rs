//! Twin of `shaders/segment_sort_wide.wgsl`: [`super::segment_sort()`] with sources of two u32
//! words (`keys` the low words, `keys_hi` the high words), compared as (hi, lo).

use crate::kernels::params::{MODE_SORT, NONE, SORT_TILE, SegmentSortParams};

/// The segment holding element `g`: the largest `s` in `[lo, hi)` with `seg_offsets[s] <= g`.
fn segment_of(seg_offsets: &[u32], g: u32, mut lo: u32, mut hi: u32) -> u32 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if seg_offsets[mid as usize] <= g {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Keeps the smaller (segment, hi, lo) at `a`; `wk` holds the segment, low and high words.
fn compare_exchange(wk: &mut [Vec<u32>; 3], a: usize, b: usize) {
    let [seg, val, hi] = wk;
    if seg[b] < seg[a] || (seg[b] == seg[a] && (hi[b], val[b]) < (hi[a], val[a])) {
        seg.swap(a, b);
        val.swap(a, b);
        hi.swap(a, b);
    }
}

/// Sorts blocks `p.first_block .. p.first_block + p.n_blocks` of `blocks` by (segment, hi, lo)
/// in "workgroup memory": a whole bitonic sort ([`MODE_SORT`]), or the steps below
/// [`SORT_TILE`] of one stage of a long segment (`MODE_MERGE`).
pub fn segment_sort(
    p: &SegmentSortParams,
    blocks: &[[u32; 2]],
    seg_offsets: &[u32],
    keys: &mut [u32],
    keys_hi: &mut [u32],
) {
    let mut wk = [
        vec![0u32; SORT_TILE as usize],
        vec![0u32; SORT_TILE as usize],
        vec![0u32; SORT_TILE as usize],
    ];
    for b in 0..p.n_blocks {
        let [begin, end] = blocks[(p.first_block + b) as usize];
        let len = end - begin;
        let s0 = segment_of(seg_offsets, begin, 0, p.m);
        let width = len.next_power_of_two();
        let s_end = p.m.min(s0 + len);
        for i in 0..width {
            let (i, g) = (i as usize, (begin + i) as usize);
            if i < len as usize {
                wk[0][i] = segment_of(seg_offsets, begin + i as u32, s0, s_end) - s0;
                wk[1][i] = keys[g];
                wk[2][i] = keys_hi[g];
            } else {
                wk[0][i] = NONE;
                wk[1][i] = NONE;
                wk[2][i] = NONE;
            }
        }
        let pairs = width / 2;
        if p.mode == MODE_SORT {
            let mut k = 2;
            while k <= width {
                let half = k >> 1;
                for c in 0..pairs {
                    let base = (c / half) * k;
                    let r = c % half;
                    compare_exchange(&mut wk, (base + r) as usize, (base + k - 1 - r) as usize);
                }
                let mut j = k >> 2;
                while j > 0 {
                    for c in 0..pairs {
                        let lo = (c / j) * 2 * j + c % j;
                        compare_exchange(&mut wk, lo as usize, (lo + j) as usize);
                    }
                    j >>= 1;
                }
                k <<= 1;
            }
        } else {
            let mut j = width >> 1;
            while j > 0 {
                for c in 0..pairs {
                    let lo = (c / j) * 2 * j + c % j;
                    compare_exchange(&mut wk, lo as usize, (lo + j) as usize);
                }
                j >>= 1;
            }
        }
        for i in 0..len {
            keys[(begin + i) as usize] = wk[1][i as usize];
            keys_hi[(begin + i) as usize] = wk[2][i as usize];
        }
    }
}
