//! Twin of `shaders/segment_merge_wide.wgsl`: [`super::segment_merge()`] with sources of two u32
//! words (`keys` the low words, `keys_hi` the high words), compared as (hi, lo).

use crate::kernels::params::SegmentMergeParams;

/// One global step (stage `p.k`, distance `p.j`) of the bitonic sort of the first `p.n_segs`
/// long segments (`[begin, len, width, comp_offset]`), comparators in index order.
pub fn segment_merge(
    p: &SegmentMergeParams,
    long_segs: &[[u32; 4]],
    keys: &mut [u32],
    keys_hi: &mut [u32],
) {
    for c in 0..p.n_comparators {
        // The long segment of comparator c.
        let (mut lo_s, mut hi_s) = (0u32, p.n_segs);
        while hi_s - lo_s > 1 {
            let mid = lo_s + (hi_s - lo_s) / 2;
            if long_segs[mid as usize][3] <= c {
                lo_s = mid;
            } else {
                hi_s = mid;
            }
        }
        let [begin, len, _, comp_offset] = long_segs[lo_s as usize];
        let r = c - comp_offset;
        let (lo, hi) = if p.j == p.k >> 1 {
            let base = (r / p.j) * p.k;
            let q = r % p.j;
            (base + q, base + p.k - 1 - q)
        } else {
            let lo = (r / p.j) * 2 * p.j + r % p.j;
            (lo, lo + p.j)
        };
        if hi < len {
            let (a, b) = ((begin + lo) as usize, (begin + hi) as usize);
            if (keys_hi[b], keys[b]) < (keys_hi[a], keys[a]) {
                keys.swap(a, b);
                keys_hi.swap(a, b);
            }
        }
    }
}
