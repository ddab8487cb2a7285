//! Host side of `shaders/segment_merge.wgsl` (CPU twin: [`crate::kernels::cpu::segment_merge()`]).

use super::{GpuContext, KernelId, Recorder, last, run_once};
use crate::error::Result;
use crate::kernels::params::{SegmentMergeParams, WG_SIZE};

/// Records one global bitonic step of the long segments.
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SegmentMergeParams,
    long_segs: &wgpu::Buffer,
    keys: &wgpu::Buffer,
) {
    let g = rec
        .ctx()
        .groups(u64::from(p.n_comparators), u64::from(WG_SIZE));
    rec.dispatch(KernelId::SegmentMerge, p, &[long_segs, keys], g);
}

/// Runs the kernel once on copies of the slices; returns the keys.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    p: &SegmentMergeParams,
    long_segs: &[[u32; 4]],
    keys: &[u32],
) -> Result<Vec<u32>> {
    let g = ctx.groups(u64::from(p.n_comparators), u64::from(WG_SIZE));
    Ok(last(run_once(
        ctx,
        KernelId::SegmentMerge,
        p,
        &[long_segs.as_flattened(), keys],
        g,
    )?))
}
