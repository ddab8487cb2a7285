//! Host side of `shaders/synapses_per_connection.wgsl` (CPU twin:
//! [`crate::kernels::cpu::synapses_per_connection()`]).

use super::{GpuContext, KernelId, Prepared, Recorder, last, run_once};
use crate::error::Result;
use crate::kernels::params::{HIST_BINS, SynapsesPerConnectionParams, WG_SIZE};

/// Invocations per workgroup-private histogram (fewer workgroups, fewer flushes).
const PER_GROUP: u64 = WG_SIZE as u64 * 16;

/// Records the histogram of the `upper_bound` (at most) connections of the last batch.
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    p: &SynapsesPerConnectionParams,
    upper_bound: u32,
    [state, total, counts, bins]: [&wgpu::Buffer; 4],
) {
    let g = rec.ctx().groups(u64::from(upper_bound), PER_GROUP);
    rec.dispatch(
        KernelId::SynapsesPerConnection,
        p,
        &[state, total, counts, bins],
        g,
    );
}

/// Runs the kernel once on copies of the slices; returns the bins.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    p: &SynapsesPerConnectionParams,
    state: &[u32],
    total: &[u32],
    counts: &[u32],
    bins: &[u32],
) -> Result<Vec<u32>> {
    let g = ctx.groups(counts.len() as u64, PER_GROUP);
    Ok(last(run_once(
        ctx,
        KernelId::SynapsesPerConnection,
        p,
        &[state, total, counts, bins],
        g,
    )?))
}

/// The histogram of `counts` on resident copies, for benchmarks (bins cleared each run).
pub fn prepare<'c>(ctx: &'c GpuContext, counts: &[u32]) -> Prepared<'c> {
    let p = SynapsesPerConnectionParams {
        n_bins: HIST_BINS,
        _pad: [0; 3],
    };
    let state = ctx.storage_with("state", &[0]);
    let total = ctx.storage_with("total", &[counts.len() as u32]);
    let counts_buf = ctx.storage_with("counts", counts);
    let bins = ctx.storage_with("bins", &vec![0; HIST_BINS as usize]);
    let mut rec = Recorder::new(ctx);
    record(
        &mut rec,
        &p,
        counts.len() as u32,
        [&state, &total, &counts_buf, &bins],
    );
    Prepared::from_recorder(rec, counts.len() as u64).clearing(&[&bins])
}
