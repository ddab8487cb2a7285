//! Twin of `shaders/sources_by_target.wgsl`.

use crate::kernels::params::SourcesByTargetParams;

/// Puts the source of every edge whose target `t` is in `[p.t0, p.t1)` into slot
/// `offsets[t - t0] + cursor[t - t0]` of `grouped` and advances the cursor. The twin fills each
/// target's slots in edge order; the GPU fills them in arrival order, so only the multiset of
/// sources per target (and the cursors) are the same.
pub fn sources_by_target(
    p: &SourcesByTargetParams,
    targets: &[u32],
    sources: &[u32],
    offsets: &[u32],
    cursor: &mut [u32],
    grouped: &mut [u32],
) {
    for i in 0..p.n as usize {
        let t = targets[i];
        if t >= p.t0 && t < p.t1 {
            let k = (t - p.t0) as usize;
            let slot = offsets[k].wrapping_add(cursor[k]);
            cursor[k] = cursor[k].wrapping_add(1);
            grouped[slot as usize] = sources[i];
        }
    }
}
