//! Host side of `shaders/segment_sort_wide.wgsl` (CPU twin:
//! [`crate::kernels::cpu::segment_sort_wide::segment_sort()`]).

use super::{GpuContext, KernelId, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::SegmentSortParams;

/// Records one dispatch (one workgroup per block, grid-stride).
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SegmentSortParams,
    blocks: &wgpu::Buffer,
    seg_offsets: &wgpu::Buffer,
    keys: [&wgpu::Buffer; 2],
) {
    let g = rec.ctx().groups(u64::from(p.n_blocks), 1);
    rec.dispatch(
        KernelId::SegmentSortWide,
        p,
        &[blocks, seg_offsets, keys[0], keys[1]],
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
    p: &SegmentSortParams,
    blocks: &[[u32; 2]],
    seg_offsets: &[u32],
    keys: &[u32],
    keys_hi: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
    let g = ctx.groups(u64::from(p.n_blocks), 1);
    let mut out = run_once(
        ctx,
        KernelId::SegmentSortWide,
        p,
        &[blocks.as_flattened(), seg_offsets, keys, keys_hi],
        g,
    )?;
    let hi = out.pop().unwrap_or_default();
    let lo = out.pop().unwrap_or_default();
    Ok((lo, hi))
}
