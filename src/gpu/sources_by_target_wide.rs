//! Host side of `shaders/sources_by_target_wide.wgsl` (CPU twin:
//! [`crate::kernels::cpu::sources_by_target_wide::sources_by_target()`]).

use super::{GpuContext, KernelId, Recorder, run_once};
use crate::error::Result;
use crate::kernels::params::{SourcesByTargetParams, WG_SIZE};

/// The buffers of one dispatch: the chunk's targets and source words, the partition's offsets
/// and cursors, and where the grouped source words go.
pub(crate) struct Scatter<'a> {
    pub(crate) targets: &'a wgpu::Buffer,
    pub(crate) sources: [&'a wgpu::Buffer; 2],
    pub(crate) offsets: &'a wgpu::Buffer,
    pub(crate) cursor: &'a wgpu::Buffer,
    pub(crate) grouped: [&'a wgpu::Buffer; 2],
}

/// Records one dispatch scattering both words of the chunk's sources of targets
/// `[p.t0, p.t1)`.
pub(crate) fn record(rec: &mut Recorder<'_>, p: &SourcesByTargetParams, b: &Scatter<'_>) {
    let g = rec.ctx().groups(u64::from(p.n), u64::from(WG_SIZE));
    rec.dispatch(
        KernelId::SourcesByTargetWide,
        p,
        &[
            b.targets,
            b.sources[0],
            b.offsets,
            b.cursor,
            b.grouped[0],
            b.sources[1],
            b.grouped[1],
        ],
        g,
    );
}

/// Outputs of [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScatteredSources {
    /// `cursor` after the kernel.
    pub cursor: Vec<u32>,
    /// `grouped` (low words) after the kernel.
    pub grouped: Vec<u32>,
    /// `grouped_hi` after the kernel.
    pub grouped_hi: Vec<u32>,
}

/// Runs the kernel once on copies of the slices.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error, or when the adapter has no wide
/// kernels.
#[allow(clippy::too_many_arguments)]
pub fn run(
    ctx: &GpuContext,
    p: &SourcesByTargetParams,
    targets: &[u32],
    sources: &[u32],
    offsets: &[u32],
    cursor: &[u32],
    grouped: &[u32],
    sources_hi: &[u32],
    grouped_hi: &[u32],
) -> Result<ScatteredSources> {
    let g = ctx.groups(u64::from(p.n), u64::from(WG_SIZE));
    let mut out = run_once(
        ctx,
        KernelId::SourcesByTargetWide,
        p,
        &[
            targets, sources, offsets, cursor, grouped, sources_hi, grouped_hi,
        ],
        g,
    )?;
    let grouped_hi = out.pop().unwrap_or_default();
    out.pop();
    let grouped = out.pop().unwrap_or_default();
    let cursor = out.pop().unwrap_or_default();
    Ok(ScatteredSources {
        cursor,
        grouped,
        grouped_hi,
    })
}
