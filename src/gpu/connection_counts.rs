//! Host side of `shaders/connection_counts.wgsl` (CPU twin:
//! [`crate::kernels::cpu::connection_counts`]): entry points `count_heads`, `scatter_heads`,
//! `finish` and `advance`.

use super::{GpuContext, KernelId, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::{ConnectionCountsParams, SCAN_BLOCK, WG_SIZE};

fn block_groups(ctx: &GpuContext, p: &ConnectionCountsParams) -> u32 {
    ctx.groups(u64::from(p.n.div_ceil(SCAN_BLOCK)), 1)
}

fn finish_groups(ctx: &GpuContext, p: &ConnectionCountsParams) -> u32 {
    ctx.groups(u64::from(p.n.max(p.m)), u64::from(WG_SIZE))
}

/// Records `count_heads`: `[keys, seg_offsets, block_heads]`.
pub(crate) fn record_count_heads(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 3],
) {
    let g = block_groups(rec.ctx(), p);
    rec.dispatch(KernelId::CountHeads, p, &buffers, g);
}

/// Records `scatter_heads`:
/// `[keys, seg_offsets, block_offsets, state, conn_src, head_idx, seg_first]`.
pub(crate) fn record_scatter_heads(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 7],
) {
    let g = block_groups(rec.ctx(), p);
    rec.dispatch(KernelId::ScatterHeads, p, &buffers, g);
}

/// Records `finish`: `[state, total, conn_count, head_idx, seg_first, seg_conn]`.
pub(crate) fn record_finish(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 6],
) {
    let g = finish_groups(rec.ctx(), p);
    rec.dispatch(KernelId::Finish, p, &buffers, g);
}

/// Records `advance`: `[state, total]`.
pub(crate) fn record_advance(
    rec: &mut Recorder<'_>,
    p: &ConnectionCountsParams,
    buffers: [&wgpu::Buffer; 2],
) {
    rec.dispatch(KernelId::Advance, p, &buffers, 1);
}

/// Runs `count_heads` once; returns `block_heads`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run_count_heads(
    ctx: &GpuContext,
    p: &ConnectionCountsParams,
    keys: &[u32],
    seg_offsets: &[u32],
    block_heads: &[u32],
) -> Result<Vec<u32>> {
    let g = block_groups(ctx, p);
    let mut out = run_once(
        ctx,
        KernelId::CountHeads,
        p,
        &[keys, seg_offsets, block_heads],
        g,
    )?;
    Ok(out.pop().unwrap_or_default())
}

/// Outputs of [`run_scatter_heads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScatteredHeads {
    /// `conn_src` after the kernel.
    pub conn_src: Vec<u32>,
    /// `head_idx` after the kernel.
    pub head_idx: Vec<u32>,
    /// `seg_first` after the kernel.
    pub seg_first: Vec<u32>,
}

/// Runs `scatter_heads` once on copies of the slices.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
#[allow(clippy::too_many_arguments)]
pub fn run_scatter_heads(
    ctx: &GpuContext,
    p: &ConnectionCountsParams,
    keys: &[u32],
    seg_offsets: &[u32],
    block_offsets: &[u32],
    state: &[u32],
    conn_src: &[u32],
    head_idx: &[u32],
    seg_first: &[u32],
) -> Result<ScatteredHeads> {
    let g = block_groups(ctx, p);
    let mut out = run_once(
        ctx,
        KernelId::ScatterHeads,
        p,
        &[
            keys,
            seg_offsets,
            block_offsets,
            state,
            conn_src,
            head_idx,
            seg_first,
        ],
        g,
    )?;
    let seg_first = out.pop().unwrap_or_default();
    let head_idx = out.pop().unwrap_or_default();
    let conn_src = out.pop().unwrap_or_default();
    Ok(ScatteredHeads {
        conn_src,
        head_idx,
        seg_first,
    })
}

/// Runs `finish` once on copies of the slices; returns `(conn_count, seg_conn)`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
#[allow(clippy::too_many_arguments)]
pub fn run_finish(
    ctx: &GpuContext,
    p: &ConnectionCountsParams,
    state: &[u32],
    total: &[u32],
    conn_count: &[u32],
    head_idx: &[u32],
    seg_first: &[u32],
    seg_conn: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
    let g = finish_groups(ctx, p);
    let mut out = run_once(
        ctx,
        KernelId::Finish,
        p,
        &[state, total, conn_count, head_idx, seg_first, seg_conn],
        g,
    )?;
    let seg_conn = out.pop().unwrap_or_default();
    out.truncate(3);
    let conn_count = out.pop().unwrap_or_default();
    Ok((conn_count, seg_conn))
}

/// Runs `advance` once; returns `state`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run_advance(ctx: &GpuContext, state: &[u32], total: &[u32]) -> Result<Vec<u32>> {
    let p = ConnectionCountsParams::default();
    let mut out = run_once(ctx, KernelId::Advance, &p, &[state, total], 1)?;
    out.truncate(1);
    Ok(out.pop().unwrap_or_default())
}
