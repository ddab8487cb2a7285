//! What a GPU census run did and how long its parts took: [`GpuTimings`] (the `gpu:` and
//! `gpu timings:` lines of `-v`, and benchmarks), and the pass timestamps it sums when the adapter
//! has timestamp queries.

use super::*;

/// How the GPU engine counted a population (the `strategy` of the `gpu:` log lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuStrategy {
    /// Not counted yet (the engine stopped before choosing).
    #[default]
    None,
    /// One pass over input sorted by target.
    Sorted,
    /// Two passes over unsorted input, pass 2 in this many target partitions.
    Unsorted {
        /// Target partitions of pass 2.
        partitions: usize,
    },
    /// Handed to the CPU engine ([`super::GpuOutcome::HandToCpu`]).
    CpuFallback,
}

impl std::fmt::Display for GpuStrategy {
    /// `sorted`, `unsorted, K partitions` or `cpu fallback` (nothing before a strategy is chosen).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuStrategy::None => Ok(()),
            GpuStrategy::Sorted => f.write_str("sorted"),
            GpuStrategy::Unsorted { partitions } => write!(f, "unsorted, {partitions} partitions"),
            GpuStrategy::CpuFallback => f.write_str("cpu fallback"),
        }
    }
}

/// What a GPU census run did and how long its parts took (for `-v` logs and benchmarks).
#[derive(Debug, Clone, Default)]
pub struct GpuTimings {
    /// The adapter ("name (backend, type)").
    pub adapter: String,
    /// How the population was counted.
    pub strategy: GpuStrategy,
    /// Seconds the reader thread spent in HDF5 reads (both id columns).
    pub read_s: f64,
    /// Bytes those reads delivered (16 per edge and pass).
    pub read_bytes: u64,
    /// Host seconds spent narrowing into staging buffers and submitting (waits excluded).
    pub upload_s: f64,
    /// Host seconds spent waiting for the GPU to release a staging buffer (the GPU was behind).
    pub wait_s: f64,
    /// Bytes written into staging buffers (uploaded).
    pub upload_bytes: u64,
    /// GPU seconds of the compute passes (timestamp queries), when the adapter has them.
    pub kernel_s: Option<f64>,
    /// Seconds spent reading results back (waiting for the GPU to finish, copying, and
    /// assembling the connection tables on the host).
    pub readback_s: f64,
    /// Bytes read back.
    pub readback_bytes: u64,
    /// Wall seconds of the whole census (opening the context excluded).
    pub total_s: f64,
    /// Seconds it took to open the GPU context (adapter, device, pipelines), paid once per
    /// process when the context is shared.
    pub context_s: f64,
    /// Edges counted.
    pub edges: u64,
    /// Batches submitted.
    pub batches: u64,
    /// Passes over the file.
    pub file_passes: u32,
    /// Arena and counter flushes (each one waits for the GPU).
    pub flushes: u32,
    /// Notices for the log (CPU fallback and why).
    pub notices: Vec<String>,
}

pub(super) fn gbps(bytes: u64, s: f64) -> f64 {
    if s > 0.0 { bytes as f64 / s / 1e9 } else { 0.0 }
}

impl GpuTimings {
    /// The figures as `key=value` pairs separated by spaces (no spaces inside values), for
    /// scripts: `strategy read_s read_bytes upload_s upload_bytes wait_s kernel_s readback_s
    /// readback_bytes total_s context_s edges batches file_passes flushes` (kernel_s is `-` when
    /// untimed).
    pub fn to_kv(&self) -> String {
        format!(
            "strategy={} read_s={:.6} read_bytes={} upload_s={:.6} upload_bytes={} wait_s={:.6} \
             kernel_s={} readback_s={:.6} readback_bytes={} total_s={:.6} context_s={:.6} edges={} \
             batches={} file_passes={} flushes={}",
            self.strategy
                .to_string()
                .replace(", ", ",")
                .replace(' ', "_"),
            self.read_s,
            self.read_bytes,
            self.upload_s,
            self.upload_bytes,
            self.wait_s,
            self.kernel_s
                .map_or_else(|| "-".to_string(), |k| format!("{k:.6}")),
            self.readback_s,
            self.readback_bytes,
            self.total_s,
            self.context_s,
            self.edges,
            self.batches,
            self.file_passes,
            self.flushes
        )
    }
}

impl std::fmt::Display for GpuTimings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}; HDF5 read {:.3} s ({:.2} GB/s); upload {:.3} s ({:.2} GB/s); waiting for the \
             GPU {:.3} s; kernels {}; readback {:.3} s; total {:.3} s ({:.3e} edges/s); {} batches, \
             {} file passes, {} flushes; context opened in {:.3} s",
            self.adapter,
            self.strategy,
            self.read_s,
            gbps(self.read_bytes, self.read_s),
            self.upload_s,
            gbps(self.upload_bytes, self.upload_s),
            self.wait_s,
            self.kernel_s
                .map_or_else(|| "untimed".to_string(), |k| format!("{k:.4} s")),
            self.readback_s,
            self.total_s,
            if self.total_s > 0.0 {
                self.edges as f64 / self.total_s
            } else {
                0.0
            },
            self.batches,
            self.file_passes,
            self.flushes,
            self.context_s
        )
    }
}

/// Pairs of pass timestamps, resolved and summed in batches.
pub(super) struct Timer {
    pub(super) set: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    pub(super) cap: u32,
    pub(super) used: u32,
    pub(super) ticks: u64,
    pub(super) any: bool,
}

impl Timer {
    pub(super) fn new(ctx: &GpuContext) -> Self {
        let cap = 256;
        let set = ctx.timestamps.then(|| {
            let qs = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * cap,
            });
            let resolve = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: u64::from(cap) * 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (qs, resolve)
        });
        Timer {
            set,
            cap,
            used: 0,
            ticks: 0,
            any: false,
        }
    }

    /// The query set and pair index for the next pass.
    pub(super) fn next(&mut self, ctx: &GpuContext) -> Result<Option<(&wgpu::QuerySet, u32)>> {
        if self.set.is_none() {
            return Ok(None);
        }
        if self.used == self.cap {
            self.drain(ctx)?;
        }
        let pair = self.used;
        self.used += 1;
        self.any = true;
        Ok(self.set.as_ref().map(|(qs, _)| (qs, pair)))
    }

    pub(super) fn drain(&mut self, ctx: &GpuContext) -> Result<()> {
        let Some((qs, resolve)) = &self.set else {
            return Ok(());
        };
        if self.used == 0 {
            return Ok(());
        }
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.resolve_query_set(qs, 0..2 * self.used, resolve, 0);
        ctx.queue.submit([encoder.finish()]);
        let words = readback::read_u32s(ctx, resolve, 0, 4 * self.used as usize)?;
        for pair in words.chunks_exact(4) {
            let begin = u64::from(pair[0]) | u64::from(pair[1]) << 32;
            let end = u64::from(pair[2]) | u64::from(pair[3]) << 32;
            self.ticks += end.saturating_sub(begin);
        }
        self.used = 0;
        Ok(())
    }

    pub(super) fn seconds(&self, ctx: &GpuContext) -> Option<f64> {
        (self.set.is_some() && self.any)
            .then(|| self.ticks as f64 * f64::from(ctx.queue.get_timestamp_period()) * 1e-9)
    }
}
