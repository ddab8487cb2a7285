//! Twin of `shaders/target_counts.wgsl`.

use crate::kernels::params::{MODE_SEGMENTS, TC_PER_THREAD, TargetCountsParams};

/// `counts[t] += weight` of every entry whose target is `t` (weight 1 in `MODE_EDGES`, the
/// segment length `offsets[i + 1] - offsets[i]` in `MODE_SEGMENTS`), one addition per run of
/// equal targets within each invocation's [`TC_PER_THREAD`] entries. Wraps like the GPU's
/// `atomicAdd`; targets at or past `p.n_counts` are ignored.
pub fn target_counts(p: &TargetCountsParams, targets: &[u32], offsets: &[u32], counts: &mut [u32]) {
    let weight = |i: usize| -> u32 {
        if p.mode == MODE_SEGMENTS {
            offsets[i + 1].wrapping_sub(offsets[i])
        } else {
            1
        }
    };
    let add = |counts: &mut [u32], t: u32, w: u32| {
        if t < p.n_counts
            && w > 0
            && let Some(c) = counts.get_mut(t as usize)
        {
            *c = c.wrapping_add(w);
        }
    };
    let n = p.n as usize;
    let per = TC_PER_THREAD as usize;
    let mut start = 0;
    while start < n {
        let end = (start + per).min(n);
        let mut t = targets[start];
        let mut w = weight(start);
        for i in start + 1..end {
            let ti = targets[i];
            if ti != t {
                add(counts, t, w);
                t = ti;
                w = 0;
            }
            w = w.wrapping_add(weight(i));
        }
        add(counts, t, w);
        start += per;
    }
}
