//! Recording kernel work: device buffers that grow with the batch ([`GrowBuffer`]), the
//! [`Recorder`] that binds them to the pipelines and submits a batch of dispatches, and
//! [`Prepared`] inputs that run one kernel once (for the kernel tests and benchmarks).

use super::*;

/// A device buffer that grows (without keeping its contents) when a batch needs more room.
#[derive(Debug)]
pub(crate) struct GrowBuffer {
    label: &'static str,
    buffer: wgpu::Buffer,
    bytes: u64,
}

impl GrowBuffer {
    pub(crate) fn new(ctx: &GpuContext, label: &'static str, words: usize) -> Result<Self> {
        let bytes = (words as u64 * 4).max(16);
        Ok(GrowBuffer {
            label,
            buffer: ctx.buffer(label, bytes, STORAGE_USAGE)?,
            bytes,
        })
    }

    /// Makes room for `words` u32 (contents are lost when it grows).
    pub(crate) fn ensure(&mut self, ctx: &GpuContext, words: usize) -> Result<()> {
        let bytes = words as u64 * 4;
        if bytes > self.bytes {
            let limit = ctx
                .limits
                .max_storage_buffer_binding_size
                .min(ctx.limits.max_buffer_size);
            let grown = (self.bytes + self.bytes / 2)
                .max(bytes)
                .min(limit.max(bytes));
            self.buffer = ctx.buffer(self.label, grown, STORAGE_USAGE)?;
            self.bytes = grown;
        }
        Ok(())
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

/// One recorded dispatch.
struct Dispatch {
    kernel: KernelId,
    params_offset: u32,
    buffers: Vec<wgpu::Buffer>,
    groups: u32,
}

/// Collects the dispatches of one batch with their parameters, then records them into one
/// compute pass: the parameters go into one uniform buffer bound with dynamic offsets, and
/// bind groups are made once per distinct (kernel, buffers).
pub(crate) struct Recorder<'c> {
    ctx: &'c GpuContext,
    uniforms: Vec<u8>,
    dispatches: Vec<Dispatch>,
}

impl<'c> Recorder<'c> {
    pub(crate) fn new(ctx: &'c GpuContext) -> Self {
        Recorder {
            ctx,
            uniforms: Vec::new(),
            dispatches: Vec::new(),
        }
    }

    pub(crate) fn ctx(&self) -> &'c GpuContext {
        self.ctx
    }

    /// Adds a dispatch of `groups` workgroups (none when 0) of `kernel` with `params` and the
    /// storage `buffers` in the kernel's binding order.
    pub(crate) fn dispatch<P: bytemuck::Pod>(
        &mut self,
        kernel: KernelId,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: u32,
    ) {
        if groups == 0 {
            return;
        }
        let align = (self.ctx.limits.min_uniform_buffer_offset_alignment as usize).max(16);
        let offset = self.uniforms.len().next_multiple_of(align);
        self.uniforms.resize(offset, 0);
        let bytes = bytemuck::bytes_of(params);
        self.uniforms.extend_from_slice(bytes);
        self.uniforms
            .resize(offset + (PARAMS_SIZE as usize).max(bytes.len()), 0);
        self.dispatches.push(Dispatch {
            kernel,
            params_offset: offset as u32,
            buffers: buffers.iter().map(|b| (*b).clone()).collect(),
            groups,
        });
    }

    /// Records the dispatches into one compute pass of `encoder`, with timestamps at the
    /// beginning and end of the pass when `timestamps` names a query set and a pair index.
    pub(crate) fn record(
        self,
        encoder: &mut wgpu::CommandEncoder,
        timestamps: Option<(&wgpu::QuerySet, u32)>,
    ) -> Result<()> {
        if self.dispatches.is_empty() {
            return Ok(());
        }
        let ctx = self.ctx;
        ctx.reach(Stage::Dispatch)?;
        let uniform = ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: &self.uniforms,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut groups: Vec<(KernelId, &[wgpu::Buffer], wgpu::BindGroup)> = Vec::new();
        let mut bind_of = Vec::with_capacity(self.dispatches.len());
        for d in &self.dispatches {
            if let Some(i) = groups
                .iter()
                .position(|(k, b, _)| *k == d.kernel && *b == d.buffers.as_slice())
            {
                bind_of.push(i);
                continue;
            }
            let kernel = ctx.kernel(d.kernel)?;
            if kernel.bindings.len() != d.buffers.len() {
                return Err(unavailable(format!(
                    "kernel {:?} takes {} buffers, got {}",
                    d.kernel,
                    kernel.bindings.len(),
                    d.buffers.len()
                )));
            }
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &uniform,
                    offset: 0,
                    size: NonZeroU64::new(PARAMS_SIZE),
                }),
            }];
            for (&(binding, _), buffer) in kernel.bindings.iter().zip(&d.buffers) {
                entries.push(wgpu::BindGroupEntry {
                    binding,
                    resource: buffer.as_entire_binding(),
                });
            }
            let bg = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &kernel.layout,
                entries: &entries,
            });
            bind_of.push(groups.len());
            groups.push((d.kernel, &d.buffers, bg));
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("census batch"),
            timestamp_writes: timestamps.map(|(query_set, pair)| {
                wgpu::ComputePassTimestampWrites {
                    query_set,
                    beginning_of_pass_write_index: Some(2 * pair),
                    end_of_pass_write_index: Some(2 * pair + 1),
                }
            }),
        });
        for (d, &g) in self.dispatches.iter().zip(&bind_of) {
            let kernel = ctx.kernel(d.kernel)?;
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &groups[g].2, &[d.params_offset]);
            pass.dispatch_workgroups(d.groups, 1, 1);
        }
        Ok(())
    }

    /// Records into a new encoder, submits it and waits for the GPU (tests and small jobs).
    pub(crate) fn submit_and_wait(self) -> Result<()> {
        let ctx = self.ctx;
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        self.record(&mut encoder, None)?;
        ctx.queue.submit([encoder.finish()]);
        readback::wait_idle(ctx)
    }
}

/// Checks that the shader constants this module relies on are what the host assumes.
const _: () = {
    assert!(params::SCAN_BLOCK == params::WG_SIZE * params::SCAN_PER_THREAD);
    assert!(params::SORT_TILE.is_power_of_two());
    assert!(params::SORT_TILE >= 2 * params::WG_SIZE);
};

/// Runs one dispatch of `kernel` on buffers made from `data` (in binding order) and reads every
/// buffer back: the standalone entry of each kernel, for tests and benches.
pub(crate) fn run_once<P: bytemuck::Pod>(
    ctx: &GpuContext,
    kernel: KernelId,
    params: &P,
    data: &[&[u32]],
    groups: u32,
) -> Result<Vec<Vec<u32>>> {
    let buffers: Vec<wgpu::Buffer> = data.iter().map(|d| ctx.storage_with("input", d)).collect();
    let refs: Vec<&wgpu::Buffer> = buffers.iter().collect();
    let mut rec = Recorder::new(ctx);
    rec.dispatch(kernel, params, &refs, groups);
    rec.submit_and_wait()?;
    buffers
        .iter()
        .zip(data)
        .map(|(b, d)| readback::read_u32s(ctx, b, 0, d.len()))
        .collect()
}

/// The last buffer of a [`run_once`] result.
pub(crate) fn last(mut v: Vec<Vec<u32>>) -> Vec<u32> {
    v.pop().unwrap_or_default()
}

/// A recorded kernel (or a pipeline of kernels) on resident buffers, run again and again by
/// benchmarks: each [`Prepared::run`] clears the buffers that must start empty, dispatches, and
/// waits for the GPU.
pub struct Prepared<'c> {
    ctx: &'c GpuContext,
    steps: Vec<(KernelId, [u32; 4], Vec<wgpu::Buffer>, u32)>,
    clear: Vec<wgpu::Buffer>,
    elements: u64,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("dispatches", &self.steps.len())
            .field("elements", &self.elements)
            .finish_non_exhaustive()
    }
}

impl<'c> Prepared<'c> {
    pub(crate) fn new(ctx: &'c GpuContext, elements: u64) -> Self {
        Prepared {
            ctx,
            steps: Vec::new(),
            clear: Vec::new(),
            elements,
        }
    }

    /// Takes the dispatches of a recorder (whose parameters are all 16 bytes).
    pub(crate) fn from_recorder(rec: Recorder<'c>, elements: u64) -> Self {
        let mut p = Prepared::new(rec.ctx, elements);
        for d in rec.dispatches {
            let at = d.params_offset as usize;
            let mut params = [0u32; 4];
            if let Some(bytes) = rec.uniforms.get(at..at + PARAMS_SIZE as usize) {
                params = bytemuck::pod_read_unaligned(bytes);
            }
            p.steps.push((d.kernel, params, d.buffers, d.groups));
        }
        p
    }

    /// Buffers cleared to zero before each run.
    pub(crate) fn clearing(mut self, buffers: &[&wgpu::Buffer]) -> Self {
        self.clear.extend(buffers.iter().map(|b| (*b).clone()));
        self
    }

    /// Elements one run processes (for throughput).
    pub fn elements(&self) -> u64 {
        self.elements
    }

    /// Runs the dispatches once and waits for the GPU.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] on a device error.
    pub fn run(&self) -> Result<()> {
        let ctx = self.ctx;
        let mut rec = Recorder::new(ctx);
        for (kernel, params, buffers, groups) in &self.steps {
            let refs: Vec<&wgpu::Buffer> = buffers.iter().collect();
            rec.dispatch(*kernel, params, &refs, *groups);
        }
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        for b in &self.clear {
            encoder.clear_buffer(b, 0, None);
        }
        rec.record(&mut encoder, None)?;
        ctx.queue.submit([encoder.finish()]);
        readback::wait_idle(ctx)
    }
}
