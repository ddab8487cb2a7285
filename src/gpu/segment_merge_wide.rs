//! Host side of `shaders/segment_merge_wide.wgsl` (CPU twin:
//! [`crate::kernels::cpu::segment_merge_wide::segment_merge()`]).

use super::{GpuContext, KernelId, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::{SegmentMergeParams, WG_SIZE};

/// Records one global bitonic step of the long segments.
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SegmentMergeParams,
    long_segs: &wgpu::Buffer,
    keys: [&wgpu::Buffer; 2],
) {
    let g = rec
        .ctx()
        .groups(u64::from(p.n_comparators), u64::from(WG_SIZE));
    rec.dispatch(
        KernelId::SegmentMergeWide,
        p,
        &[long_segs, keys[0], keys[1]],
        g,
    );
}

/// Runs the kernel once on copies of the slices; returns the (low, high) words.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error, or when the adapter has no wide
/// kernels.
pub fn run(
    ctx: &GpuContext,
    p: &SegmentMergeParams,
    long_segs: &[[u32; 4]],
    keys: &[u32],
    keys_hi: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
    let g = ctx.groups(u64::from(p.n_comparators), u64::from(WG_SIZE));
    let mut out = run_once(
        ctx,
        KernelId::SegmentMergeWide,
        p,
        &[long_segs.as_flattened(), keys, keys_hi],
        g,
    )?;
    let hi = out.pop().unwrap_or_default();
    let lo = out.pop().unwrap_or_default();
    Ok((lo, hi))
}
