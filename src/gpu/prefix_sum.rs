//! Host side of `shaders/prefix_sum.wgsl` (CPU twin: [`crate::kernels::cpu::prefix_sum`]).

use super::{GpuContext, GrowBuffer, KernelId, Prepared, Recorder, readback, run_once};
use crate::error::Result;
use crate::kernels::params::{PrefixSumParams, SCAN_BLOCK, WG_SIZE};

/// Sizes of the block-sum levels of an exclusive scan of `n` (at least 1) elements: level 0 has
/// one entry per block of the data, level 1 one per block of level 0, ... down to one entry.
pub(crate) fn scan_levels(n: usize) -> Vec<usize> {
    let mut levels = Vec::new();
    let mut x = n.max(1);
    loop {
        let nb = x.div_ceil(SCAN_BLOCK as usize);
        levels.push(nb);
        if nb <= 1 {
            return levels;
        }
        x = nb;
    }
}

fn params(n: u32) -> PrefixSumParams {
    PrefixSumParams { n, _pad: [0; 3] }
}

/// Records the exclusive scan of `data[..n]` in place (`n >= 1`), using `levels` (sized by
/// [`scan_levels`]) for the block sums. Returns the index of the level whose entry 0 holds the
/// total.
pub(crate) fn record_scan(
    rec: &mut Recorder<'_>,
    data: &wgpu::Buffer,
    n: u32,
    levels: &[GrowBuffer],
    level: usize,
) -> usize {
    let Some(sums) = levels.get(level) else {
        return level.saturating_sub(1);
    };
    let p = params(n);
    let blocks = n.div_ceil(SCAN_BLOCK);
    let g = rec.ctx().groups(u64::from(blocks), 1);
    rec.dispatch(KernelId::ScanBlocks, &p, &[data, sums.buffer()], g);
    if blocks <= 1 {
        return level;
    }
    let top = record_scan(rec, sums.buffer(), blocks, levels, level + 1);
    let g = rec.ctx().groups(u64::from(n), u64::from(WG_SIZE));
    rec.dispatch(KernelId::AddOffsets, &p, &[data, sums.buffer()], g);
    top
}

/// Runs entry point `scan_blocks` once; returns `(data, sums)`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run_scan_blocks(
    ctx: &GpuContext,
    p: &PrefixSumParams,
    data: &[u32],
    sums: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
    let g = ctx.groups(u64::from(p.n.div_ceil(SCAN_BLOCK)), 1);
    let mut out = run_once(ctx, KernelId::ScanBlocks, p, &[data, sums], g)?;
    let sums = out.pop().unwrap_or_default();
    Ok((out.pop().unwrap_or_default(), sums))
}

/// Runs entry point `add_offsets` once; returns the data.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run_add_offsets(
    ctx: &GpuContext,
    p: &PrefixSumParams,
    data: &[u32],
    sums: &[u32],
) -> Result<Vec<u32>> {
    let g = ctx.groups(u64::from(p.n), u64::from(WG_SIZE));
    let mut out = run_once(ctx, KernelId::AddOffsets, p, &[data, sums], g)?;
    out.truncate(1);
    Ok(out.pop().unwrap_or_default())
}

/// The whole multi-level exclusive scan of `data` on the GPU (what
/// [`crate::kernels::cpu::exclusive_scan`] does); returns the scanned data and the total.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(ctx: &GpuContext, data: &[u32]) -> Result<(Vec<u32>, u32)> {
    if data.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let buffer = ctx.storage_with("scan data", data);
    let levels = scan_levels(data.len())
        .into_iter()
        .map(|len| GrowBuffer::new(ctx, "scan level", len))
        .collect::<Result<Vec<_>>>()?;
    let mut rec = Recorder::new(ctx);
    let top = record_scan(&mut rec, &buffer, data.len() as u32, &levels, 0);
    rec.submit_and_wait()?;
    let scanned = readback::read_u32s(ctx, &buffer, 0, data.len())?;
    let total = readback::read_u32s(ctx, levels[top].buffer(), 0, 1)?;
    Ok((scanned, total.first().copied().unwrap_or(0)))
}

/// The whole multi-level scan on a resident copy of `data`, for benchmarks.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] when the buffers cannot be made.
pub fn prepare<'c>(ctx: &'c GpuContext, data: &[u32]) -> Result<Prepared<'c>> {
    let buffer = ctx.storage_with("scan data", data);
    let levels = scan_levels(data.len())
        .into_iter()
        .map(|len| GrowBuffer::new(ctx, "scan level", len))
        .collect::<Result<Vec<_>>>()?;
    let mut rec = Recorder::new(ctx);
    if !data.is_empty() {
        record_scan(&mut rec, &buffer, data.len() as u32, &levels, 0);
    }
    Ok(Prepared::from_recorder(rec, data.len() as u64))
}
