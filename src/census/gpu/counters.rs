//! Resident counters of the GPU engine: per-target synapse counters and the
//! synapses-per-connection histogram stay on the GPU as u32 and are flushed into u64 on the host
//! before they could reach 2^32, so every count is exact.

use super::*;

/// Per-target synapse counters and the synapses-per-connection histogram, u32 on the GPU and
/// flushed into u64 on the host before any could reach 2^32.
pub(super) struct Counters {
    pub(super) targets: Option<wgpu::Buffer>,
    pub(super) cap: usize,
    pub(super) host: Vec<u64>,
    pub(super) bins: wgpu::Buffer,
    pub(super) host_bins: Vec<u64>,
    pub(super) since_flush: u64,
    pub(super) limit: u64,
}

impl Counters {
    pub(super) fn new(ctx: &GpuContext, limit: u64) -> Result<Self> {
        Ok(Counters {
            targets: None,
            cap: 0,
            host: Vec::new(),
            bins: ctx.buffer("histogram", u64::from(HIST_BINS) * 4, STORAGE_USAGE)?,
            host_bins: vec![0; HIST_BINS as usize],
            since_flush: 0,
            limit: limit.clamp(1, u64::from(u32::MAX)),
        })
    }

    /// Room for targets `0..needed`; `Some(why)` when one GPU buffer cannot hold them (the
    /// population then goes to the CPU engine).
    pub(super) fn ensure_targets(
        &mut self,
        ctx: &GpuContext,
        needed: usize,
    ) -> Result<Option<String>> {
        if needed <= self.cap && self.targets.is_some() {
            return Ok(None);
        }
        let max = ctx.max_batch_len();
        if needed > max {
            return Ok(Some(format!(
                "{needed} target nodes need more per-target counters than one GPU buffer holds \
                 ({max}); the CPU engine counts this population"
            )));
        }
        let cap = needed.max(2 * self.cap).clamp(16, max);
        let buffer = ctx.buffer("target counts", cap as u64 * 4, STORAGE_USAGE)?;
        if let Some(old) = &self.targets {
            let mut encoder = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            encoder.copy_buffer_to_buffer(old, 0, &buffer, 0, self.cap as u64 * 4);
            ctx.queue.submit([encoder.finish()]);
        }
        self.targets = Some(buffer);
        self.cap = cap;
        Ok(None)
    }

    /// Makes room for `edges` more counted edges, flushing first when a counter could wrap.
    pub(super) fn before(&mut self, ctx: &GpuContext, edges: u64, t: &mut Stats) -> Result<()> {
        if self.since_flush + edges > self.limit {
            self.flush(ctx, t)?;
        }
        self.since_flush += edges;
        Ok(())
    }

    /// Adds the GPU counters into the host's u64 and clears them: one mapped transfer for the
    /// per-target counters and the histogram, added straight from the mapping.
    pub(super) fn flush(&mut self, ctx: &GpuContext, t: &mut Stats) -> Result<()> {
        let started = Instant::now();
        let mut spans = vec![readback::Span {
            src: &self.bins,
            first: 0,
            count: HIST_BINS as usize,
        }];
        if let Some(b) = &self.targets {
            spans.push(readback::Span {
                src: b,
                first: 0,
                count: self.cap,
            });
        }
        let (host, host_bins) = (&mut self.host, &mut self.host_bins);
        t.readback.read_tables(ctx, &spans, |w| {
            for (h, x) in host_bins.iter_mut().zip(w[0]) {
                *h += u64::from(*x);
            }
            if let Some(v) = w.get(1) {
                if host.len() < v.len() {
                    host.resize(v.len(), 0);
                }
                for (h, x) in host.iter_mut().zip(*v) {
                    *h += u64::from(*x);
                }
            }
            Ok(())
        })?;
        t.readback_bytes += spans.iter().map(|s| 4 * s.count as u64).sum::<u64>();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.clear_buffer(&self.bins, 0, None);
        if let Some(b) = &self.targets {
            encoder.clear_buffer(b, 0, None);
        }
        ctx.queue.submit([encoder.finish()]);
        self.since_flush = 0;
        t.flushes += 1;
        t.readback_s += started.elapsed().as_secs_f64();
        Ok(())
    }
}
