//! Host side of `shaders/connection_counts_wide.wgsl` (CPU twin:
//! [`crate::kernels::cpu::connection_counts_wide`]): entry points `count_heads` and
//! `scatter_heads` for sources of two u32 words; `finish` and `advance` are
//! [`super::connection_counts`]'s.

use super::{GpuContext, KernelId, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::{ConnectionCountsParams, SCAN_BLOCK};

fn block_groups(ctx: &GpuContext, p: &ConnectionCountsParams) -> u32 {
    ctx.groups(u64::from(p.n.div_ceil(SCAN_BLOCK)), 1)
}

/// Records `count_heads`: `[keys, seg_offsets, block_heads, keys_hi]`.
pub(crate) fn record_count_heads(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 4],
) {
    let g = block_groups(rec.ctx(), p);
    rec.dispatch(KernelId::CountHeadsWide, p, &buffers, g);
}

/// Records `scatter_heads`: `[keys, seg_offsets, block_offsets, state, conn_src, head_idx,
/// seg_first, keys_hi, conn_src_hi]`.
pub(crate) fn record_scatter_heads(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 9],
) {
    let g = block_groups(rec.ctx(), p);
    rec.dispatch(KernelId::ScatterHeadsWide, p, &buffers, g);
}

/// Runs `count_heads` once; returns `block_heads`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error, or when the adapter has no wide
/// kernels.
pub fn run_count_heads(
    ctx: &GpuContext,
    p: &ConnectionCountsParams,
    keys: [&[u32]; 2],
    seg_offsets: &[u32],
    block_heads: &[u32],
) -> Result<Vec<u32>> {
    let g = block_groups(ctx, p);
    let mut out = run_once(
        ctx,
        KernelId::CountHeadsWide,
        p,
        &[keys[0], seg_offsets, block_heads, keys[1]],
        g,
    )?;
    out.truncate(3);
    Ok(out.pop().unwrap_or_default())
}

/// Outputs of [`run_scatter_heads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScatteredHeads {
    /// `conn_src` (low words) after the kernel.
    pub conn_src: Vec<u32>,
    /// `conn_src_hi` after the kernel.
    pub conn_src_hi: Vec<u32>,
    /// `head_idx` after the kernel.
    pub head_idx: Vec<u32>,
    /// `seg_first` after the kernel.
    pub seg_first: Vec<u32>,
}

/// Runs `scatter_heads` once on copies of the slices (`keys`, `conn_src`: low and high words).
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error, or when the adapter has no wide
/// kernels.
#[allow(clippy::too_many_arguments)]
pub fn run_scatter_heads(
    ctx: &GpuContext,
    p: &ConnectionCountsParams,
    keys: [&[u32]; 2],
    seg_offsets: &[u32],
    block_offsets: &[u32],
    state: &[u32],
    conn_src: [&[u32]; 2],
    head_idx: &[u32],
    seg_first: &[u32],
) -> Result<ScatteredHeads> {
    let g = block_groups(ctx, p);
    let out = run_once(
        ctx,
        KernelId::ScatterHeadsWide,
        p,
        &[
            keys[0],
            seg_offsets,
            block_offsets,
            state,
            conn_src[0],
            head_idx,
            seg_first,
            keys[1],
            conn_src[1],
        ],
        g,
    )?;
    let take = |i: usize| out.get(i).cloned().unwrap_or_default();
    Ok(ScatteredHeads {
        conn_src: take(4),
        conn_src_hi: take(8),
        head_idx: take(5),
        seg_first: take(6),
    })
}
