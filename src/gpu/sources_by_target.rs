//! Host side of `shaders/sources_by_target.wgsl` (CPU twin:
//! [`crate::kernels::cpu::sources_by_target()`]).

use super::{GpuContext, KernelId, Prepared, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::{SourcesByTargetParams, WG_SIZE};

/// Records one dispatch scattering the chunk's sources of targets `[p.t0, p.t1)` into `grouped`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SourcesByTargetParams,
    targets: &wgpu::Buffer,
    sources: &wgpu::Buffer,
    offsets: &wgpu::Buffer,
    cursor: &wgpu::Buffer,
    grouped: &wgpu::Buffer,
) {
    let g = rec.ctx().groups(u64::from(p.n), u64::from(WG_SIZE));
    rec.dispatch(
        KernelId::SourcesByTarget,
        p,
        &[targets, sources, offsets, cursor, grouped],
        g,
    );
}

/// Runs the kernel once on copies of the slices; returns `(cursor, grouped)`.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    p: &SourcesByTargetParams,
    targets: &[u32],
    sources: &[u32],
    offsets: &[u32],
    cursor: &[u32],
    grouped: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
    let g = ctx.groups(u64::from(p.n), u64::from(WG_SIZE));
    let mut out = run_once(
        ctx,
        KernelId::SourcesByTarget,
        p,
        &[targets, sources, offsets, cursor, grouped],
        g,
    )?;
    let grouped = out.pop().unwrap_or_default();
    let cursor = out.pop().unwrap_or_default();
    Ok((cursor, grouped))
}

/// The kernel on resident copies of the slices, for benchmarks (cursors cleared each run).
pub fn prepare<'c>(
    ctx: &'c GpuContext,
    p: &SourcesByTargetParams,
    targets: &[u32],
    sources: &[u32],
    offsets: &[u32],
    grouped_len: usize,
) -> Prepared<'c> {
    let targets = ctx.storage_with("targets", targets);
    let sources = ctx.storage_with("sources", sources);
    let cursor = ctx.storage_with("cursor", &vec![0; offsets.len()]);
    let offsets = ctx.storage_with("offsets", offsets);
    let grouped = ctx.storage_with("grouped", &vec![0; grouped_len]);
    let mut rec = Recorder::new(ctx);
    record(&mut rec, p, &targets, &sources, &offsets, &cursor, &grouped);
    Prepared::from_recorder(rec, u64::from(p.n)).clearing(&[&cursor])
}
