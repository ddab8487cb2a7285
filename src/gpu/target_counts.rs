//! Host side of `shaders/target_counts.wgsl` (CPU twin: [`crate::kernels::cpu::target_counts()`]).

use super::{GpuContext, KernelId, Prepared, Recorder, last, run_once};
use crate::error::Result;
use crate::kernels::params::{TC_PER_THREAD, TargetCountsParams, WG_SIZE};

fn groups(ctx: &GpuContext, p: &TargetCountsParams) -> u32 {
    ctx.groups(u64::from(p.n), u64::from(WG_SIZE * TC_PER_THREAD))
}

/// Records one dispatch: `counts[targets[i]] += weight(i)` for the `p.n` entries.
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &TargetCountsParams,
    targets: &wgpu::Buffer,
    offsets: &wgpu::Buffer,
    counts: &wgpu::Buffer,
) {
    let g = groups(rec.ctx(), p);
    rec.dispatch(KernelId::TargetCounts, p, &[targets, offsets, counts], g);
}

/// Runs the kernel once on copies of the slices and returns the counts (what
/// [`crate::kernels::cpu::target_counts()`] leaves in `counts`).
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    p: &TargetCountsParams,
    targets: &[u32],
    offsets: &[u32],
    counts: &[u32],
) -> Result<Vec<u32>> {
    let g = groups(ctx, p);
    Ok(last(run_once(
        ctx,
        KernelId::TargetCounts,
        p,
        &[targets, offsets, counts],
        g,
    )?))
}

/// The kernel on resident copies of the slices, for benchmarks (counts keep accumulating).
pub fn prepare<'c>(
    ctx: &'c GpuContext,
    p: &TargetCountsParams,
    targets: &[u32],
    offsets: &[u32],
    n_counts: usize,
) -> Prepared<'c> {
    let targets = ctx.storage_with("targets", targets);
    let offsets = ctx.storage_with("offsets", offsets);
    let counts = ctx.storage_with("counts", &vec![0; n_counts]);
    let mut rec = Recorder::new(ctx);
    record(&mut rec, p, &targets, &offsets, &counts);
    Prepared::from_recorder(rec, u64::from(p.n))
}
