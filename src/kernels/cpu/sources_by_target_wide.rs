//! Twin of `shaders/sources_by_target_wide.wgsl`: [`super::sources_by_target()`] moving both
//! words of each source (`sources` the low words, `sources_hi` the high words) to the same slot.

use crate::kernels::params::SourcesByTargetParams;

/// Puts the source of every edge whose target `t` is in `[p.t0, p.t1)` into slot
/// `offsets[t - t0] + cursor[t - t0]` of `grouped` and advances the cursor. The twin fills each
/// target's slots in edge order; the GPU fills them in arrival order, so only the multiset of
/// sources per target (and the cursors) are the same.
#[allow(clippy::too_many_arguments)]
pub fn sources_by_target(
    p: &SourcesByTargetParams,
    targets: &[u32],
    sources: &[u32],
    offsets: &[u32],
    cursor: &mut [u32],
    grouped: &mut [u32],
    sources_hi: &[u32],
    grouped_hi: &mut [u32],
) {
    for i in 0..p.n as usize {
        let t = targets[i];
        if t >= p.t0 && t < p.t1 {
            let k = (t - p.t0) as usize;
            let slot = offsets[k].wrapping_add(cursor[k]);
            cursor[k] = cursor[k].wrapping_add(1);
            grouped[slot as usize] = sources[i];
            grouped_hi[slot as usize] = sources_hi[i];
        }
    }
}
