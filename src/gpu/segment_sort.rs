//! Host side of `shaders/segment_sort.wgsl` (CPU twin: [`crate::kernels::cpu::segment_sort()`]).

use super::{GpuContext, KernelId, Prepared, Recorder, last, run_once};
use crate::error::Result;
use crate::kernels::layout::SegmentLayout;
use crate::kernels::params::{MODE_SORT, SegmentSortParams};

/// Records one dispatch (one workgroup per block, grid-stride).
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SegmentSortParams,
    blocks: &wgpu::Buffer,
    seg_offsets: &wgpu::Buffer,
    keys: &wgpu::Buffer,
) {
    let g = rec.ctx().groups(u64::from(p.n_blocks), 1);
    rec.dispatch(KernelId::SegmentSort, p, &[blocks, seg_offsets, keys], g);
}

/// Runs the kernel once on copies of the slices; returns the keys.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    p: &SegmentSortParams,
    blocks: &[[u32; 2]],
    seg_offsets: &[u32],
    keys: &[u32],
) -> Result<Vec<u32>> {
    let g = ctx.groups(u64::from(p.n_blocks), 1);
    Ok(last(run_once(
        ctx,
        KernelId::SegmentSort,
        p,
        &[blocks.as_flattened(), seg_offsets, keys],
        g,
    )?))
}

/// The full local sort of every block of the segments `seg_offsets` (the first step of the
/// segmented sort) on resident copies, for benchmarks.
pub fn prepare<'c>(ctx: &'c GpuContext, keys: &[u32], seg_offsets: &[u32]) -> Prepared<'c> {
    let layout = SegmentLayout::build(seg_offsets);
    let p = SegmentSortParams {
        first_block: 0,
        n_blocks: layout.blocks.len() as u32,
        mode: MODE_SORT,
        m: layout.m,
    };
    let blocks = ctx.storage_with("blocks", layout.blocks.as_flattened());
    let seg_offsets = ctx.storage_with("seg_offsets", seg_offsets);
    let keys_buf = ctx.storage_with("keys", keys);
    let mut rec = Recorder::new(ctx);
    record(&mut rec, &p, &blocks, &seg_offsets, &keys_buf);
    Prepared::from_recorder(rec, keys.len() as u64)
}
