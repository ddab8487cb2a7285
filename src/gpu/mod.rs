//! The device layer of the GPU engine on wgpu: device set-up ([`GpuContext`]), the recorder of
//! kernel dispatches, readback, and the host side of every kernel (`gpu::<kernel>`, one module
//! per shader in `shaders/`). The streamed census that drives them is the GPU engine,
//! [`crate::census::gpu`]; nothing here knows about censuses.
//!
//! # Adapters
//! [`GpuContext::open`] picks the best adapter wgpu finds (discrete, then integrated, then
//! virtual GPUs; Vulkan before Metal, DX12 and GL). [`AdapterChoice::Auto`] refuses software
//! adapters (`DeviceType::Cpu`: Mesa's lavapipe/llvmpipe, which is 3-5x slower than the CPU
//! engine) and says so; [`AdapterChoice::Any`] takes them (that is how CI tests the shaders).
//! The device gets the adapter's own limits (`adapter.limits()`, 2 GiB storage bindings on
//! NVIDIA, 128 MiB on lavapipe) and `TIMESTAMP_QUERY` when the adapter has it.
//!
//! # Errors
//! wgpu reports device errors (validation, out of memory, device lost) to callbacks rather than
//! by return value; the context collects them, and every synchronisation point turns them into
//! [`Error::BackendUnavailable`], so that a caller can redo the work on the CPU.
//!
//! # Testing hooks
//! With the `testing` feature, [`fault::GpuFaults`] (given when the context opens) injects device
//! errors at upload, dispatch and readback, shrinks the buffer sizes the engine plans with, and
//! lets `auto` take a software adapter.

pub mod connection_counts;
pub mod connections;
#[cfg(feature = "testing")]
pub mod fault;
pub mod prefix_sum;
pub mod readback;
pub mod segment_merge;
pub mod segment_sort;
pub mod sources_by_target;
pub mod synapses_per_connection;
pub mod target_counts;

use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::kernels::{self, Shader, params};

/// Which adapters [`GpuContext::open`] may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterChoice {
    /// A real GPU (discrete, integrated or virtual); software adapters are refused.
    Auto,
    /// Any adapter, software ones (lavapipe, llvmpipe) included.
    Any,
}

/// What [`GpuContext::open`] found.
#[derive(Debug)]
pub enum Opened {
    /// A device is ready.
    Ready(Box<GpuContext>),
    /// No usable adapter, and why (for the log).
    Unavailable(String),
}

/// What [`shared_context`] found: a context shared by every caller of the process, or why there
/// is none.
#[derive(Debug, Clone)]
pub enum SharedContext {
    /// A device is ready.
    Ready(Arc<GpuContext>),
    /// No (suitable) adapter, and why (for the log).
    Unavailable(String),
}

/// The process-wide context for `choice`, opened on first use and kept. Opening a device and
/// building the pipelines takes 0.1-0.5 s, so every population of a run shares one.
///
/// # Errors
/// [`Error::BackendUnavailable`] when an adapter exists but its device or pipelines cannot be
/// created (the error is kept and returned again to later callers).
pub fn shared_context(choice: AdapterChoice) -> Result<SharedContext> {
    #[cfg(feature = "testing")]
    return shared_context_with(choice, &fault::GpuFaults::default());
    #[cfg(not(feature = "testing"))]
    shared(choice, || GpuContext::open(choice))
}

/// [`shared_context`] opened with the testing hooks `faults`: the first caller's hooks are the
/// context's for the rest of the process (a run passes the same ones every time).
///
/// # Errors
/// As [`shared_context`].
#[cfg(feature = "testing")]
pub fn shared_context_with(
    choice: AdapterChoice,
    faults: &fault::GpuFaults,
) -> Result<SharedContext> {
    shared(choice, || GpuContext::open_with(choice, faults))
}

fn shared(choice: AdapterChoice, open: impl FnOnce() -> Result<Opened>) -> Result<SharedContext> {
    type Slot = std::sync::OnceLock<std::result::Result<SharedContext, String>>;
    static AUTO: Slot = std::sync::OnceLock::new();
    static ANY: Slot = std::sync::OnceLock::new();
    let slot = match choice {
        AdapterChoice::Auto => &AUTO,
        AdapterChoice::Any => &ANY,
    };
    let opened = slot.get_or_init(|| match open() {
        Ok(Opened::Ready(ctx)) => Ok(SharedContext::Ready(Arc::from(ctx))),
        Ok(Opened::Unavailable(why)) => Ok(SharedContext::Unavailable(why)),
        Err(Error::BackendUnavailable { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    });
    match opened {
        Ok(shared) => Ok(shared.clone()),
        Err(reason) => Err(unavailable(reason.clone())),
    }
}

/// A point of the GPU engine where the `testing` feature can inject a device error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Writing edges into a mapped staging buffer (host to device).
    Upload,
    /// Recording and submitting a batch of kernels.
    Dispatch,
    /// Copying results back and mapping them (device to host).
    Readback,
}

/// How a kernel binds one storage buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    ReadWrite,
}

/// The compute pipelines, one per shader entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KernelId {
    TargetCounts,
    SourcesByTarget,
    SegmentSort,
    SegmentMerge,
    ScanBlocks,
    AddOffsets,
    CountHeads,
    ScatterHeads,
    Finish,
    Advance,
    SynapsesPerConnection,
}

/// Storage bindings of a kernel (after the uniform at binding 0): binding number and access.
type Bindings = &'static [(u32, Access)];

/// Per kernel: shader, entry point, storage bindings.
const KERNEL_SPECS: &[(KernelId, Shader, &str, Bindings)] = {
    use Access::{Read as R, ReadWrite as W};
    &[
        (
            KernelId::TargetCounts,
            kernels::TARGET_COUNTS,
            "main",
            &[(1, R), (2, R), (3, W)],
        ),
        (
            KernelId::SourcesByTarget,
            kernels::SOURCES_BY_TARGET,
            "main",
            &[(1, R), (2, R), (3, R), (4, W), (5, W)],
        ),
        (
            KernelId::SegmentSort,
            kernels::SEGMENT_SORT,
            "main",
            &[(1, R), (2, R), (3, W)],
        ),
        (
            KernelId::SegmentMerge,
            kernels::SEGMENT_MERGE,
            "main",
            &[(1, R), (2, W)],
        ),
        (
            KernelId::ScanBlocks,
            kernels::PREFIX_SUM,
            "scan_blocks",
            &[(1, W), (2, W)],
        ),
        (
            KernelId::AddOffsets,
            kernels::PREFIX_SUM,
            "add_offsets",
            &[(1, W), (2, W)],
        ),
        (
            KernelId::CountHeads,
            kernels::CONNECTION_COUNTS,
            "count_heads",
            &[(1, R), (2, R), (3, W)],
        ),
        (
            KernelId::ScatterHeads,
            kernels::CONNECTION_COUNTS,
            "scatter_heads",
            &[(1, R), (2, R), (3, W), (4, W), (6, W), (8, W), (9, W)],
        ),
        (
            KernelId::Finish,
            kernels::CONNECTION_COUNTS,
            "finish",
            &[(4, W), (5, R), (7, W), (8, W), (9, W), (10, W)],
        ),
        (
            KernelId::Advance,
            kernels::CONNECTION_COUNTS,
            "advance",
            &[(4, W), (5, R)],
        ),
        (
            KernelId::SynapsesPerConnection,
            kernels::SYNAPSES_PER_CONNECTION,
            "main",
            &[(1, R), (2, R), (3, R), (4, W)],
        ),
    ]
};

/// Size of every params struct (all are 16 bytes; see `kernels::params`).
const PARAMS_SIZE: u64 = 16;

pub(crate) struct Kernel {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    bindings: &'static [(u32, Access)],
}

/// A wgpu device with the census pipelines, built once and reused for every population.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) timestamps: bool,
    kernels: Vec<(KernelId, Kernel)>,
    errors: Arc<Mutex<Vec<String>>>,
    opened_s: f64,
    /// The injected faults of the `testing` feature, counted per context.
    #[cfg(feature = "testing")]
    faults: fault::Injector,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.describe())
            .finish_non_exhaustive()
    }
}

/// A device error the engine cannot recover from (the caller may count on the CPU instead).
pub(crate) fn unavailable(reason: impl Into<String>) -> Error {
    Error::BackendUnavailable {
        backend: "gpu".into(),
        reason: reason.into(),
    }
}

fn device_type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn backend_rank(b: wgpu::Backend) -> u32 {
    match b {
        wgpu::Backend::Vulkan => 0,
        wgpu::Backend::Metal => 1,
        wgpu::Backend::Dx12 => 2,
        wgpu::Backend::Gl => 3,
        _ => 4,
    }
}

impl GpuContext {
    /// Opens the best adapter `choice` allows; `Ok(None)` when there is none (see
    /// [`GpuContext::open`] for the reason).
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when an adapter exists but its device or the pipelines
    /// cannot be created.
    pub fn new(choice: AdapterChoice) -> Result<Option<GpuContext>> {
        Ok(match Self::open(choice)? {
            Opened::Ready(ctx) => Some(*ctx),
            Opened::Unavailable(_) => None,
        })
    }

    /// Opens the best adapter `choice` allows, or says why there is none.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when an adapter exists but its device or the pipelines
    /// cannot be created.
    pub fn open(choice: AdapterChoice) -> Result<Opened> {
        #[cfg(feature = "testing")]
        return Self::open_with(choice, &fault::GpuFaults::default());
        #[cfg(not(feature = "testing"))]
        Self::open_inner(choice, false, None)
    }

    /// [`GpuContext::open`] with the testing hooks `faults`: injected device errors, a smaller
    /// planned memory, software adapters under `auto`.
    ///
    /// # Errors
    /// As [`GpuContext::open`].
    #[cfg(feature = "testing")]
    pub fn open_with(choice: AdapterChoice, faults: &fault::GpuFaults) -> Result<Opened> {
        let mut opened = Self::open_inner(choice, faults.allow_software, faults.memory_limit)?;
        if let Opened::Ready(ctx) = &mut opened {
            ctx.faults = fault::Injector::new(faults.fault.clone());
        }
        Ok(opened)
    }

    fn open_inner(
        choice: AdapterChoice,
        allow_software: bool,
        memory_limit: Option<u64>,
    ) -> Result<Opened> {
        let started = std::time::Instant::now();
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let mut usable: Vec<wgpu::Adapter> = adapters
            .into_iter()
            .filter(|a| {
                a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .collect();
        usable.sort_by_key(|a| {
            let info = a.get_info();
            (
                device_type_rank(info.device_type),
                backend_rank(info.backend),
            )
        });
        let Some(adapter) = usable.into_iter().next() else {
            return Ok(Opened::Unavailable(
                "no GPU adapter with compute shaders found (no Vulkan, Metal, DX12 or GL driver)"
                    .into(),
            ));
        };
        let info = adapter.get_info();
        if choice == AdapterChoice::Auto
            && info.device_type == wgpu::DeviceType::Cpu
            && !allow_software
        {
            return Ok(Opened::Unavailable(format!(
                "only a software adapter is available ({}, {:?}), slower than the CPU engine",
                info.name, info.backend
            )));
        }
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let limits = adapter.limits();
        // The engine plans every buffer with `planned`; the device keeps the adapter's limits.
        let mut planned = limits.clone();
        if let Some(bytes) = memory_limit {
            planned.max_buffer_size = planned.max_buffer_size.min(bytes);
            planned.max_storage_buffer_binding_size =
                planned.max_storage_buffer_binding_size.min(bytes);
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("sonata-census"),
            required_features: if timestamps {
                wgpu::Features::TIMESTAMP_QUERY
            } else {
                wgpu::Features::empty()
            },
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| unavailable(format!("cannot open a device on {}: {e}", info.name)))?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let sink = Arc::clone(&errors);
        device.set_device_lost_callback(move |reason, message| {
            if reason != wgpu::DeviceLostReason::Destroyed
                && let Ok(mut v) = sink.lock()
            {
                v.push(format!("device lost: {message}"));
            }
        });
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let kernels = build_kernels(&device);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(unavailable(format!(
                "the census shaders do not build on {}: {e}",
                info.name
            )));
        }
        let ctx = GpuContext {
            device,
            queue,
            info,
            limits: planned,
            timestamps,
            kernels,
            errors,
            opened_s: started.elapsed().as_secs_f64(),
            #[cfg(feature = "testing")]
            faults: fault::Injector::default(),
        };
        ctx.check()?;
        Ok(Opened::Ready(Box::new(ctx)))
    }

    /// Seconds it took to find the adapter, open the device and build the pipelines.
    pub fn opened_s(&self) -> f64 {
        self.opened_s
    }

    /// The adapter's name ("NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)").
    pub fn adapter_name(&self) -> &str {
        &self.info.name
    }

    /// The adapter's description from wgpu.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// "name (backend, device type)", for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }

    /// Whether the adapter is a software one (lavapipe, llvmpipe).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The limits the engine plans with: the adapter's own, lowered by the `testing` feature's
    /// memory limit when one is given.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Most u32 elements one storage binding (and so one batch) holds on this device.
    pub fn max_batch_len(&self) -> usize {
        let bytes = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        ((bytes / 4) as usize).min(1 << 29)
    }

    /// Rows per streamed chunk the engine uses when the caller keeps the default: 8 Mi edges
    /// (32 MiB per narrowed column), or less where the device's bindings are smaller.
    pub fn preferred_chunk_len(&self) -> usize {
        self.max_batch_len().min(1 << 23)
    }

    /// Workgroups of a grid-stride dispatch covering `items` items of `per_group` each.
    pub(crate) fn groups(&self, items: u64, per_group: u64) -> u32 {
        let cap = u64::from(self.limits.max_compute_workgroups_per_dimension.max(1));
        items.div_ceil(per_group.max(1)).min(cap) as u32
    }

    pub(crate) fn kernel(&self, id: KernelId) -> Result<&Kernel> {
        self.kernels
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, k)| k)
            .ok_or_else(|| unavailable(format!("kernel {id:?} missing")))
    }

    /// Reaching `stage`: when an injected error is due (the `testing` feature's
    /// [`fault::GpuFaults`]), records it in the device error log as the error callbacks would,
    /// and reports it through [`GpuContext::check`]. Without the feature, nothing.
    #[cfg(not(feature = "testing"))]
    #[inline]
    pub(crate) fn reach(&self, _stage: Stage) -> Result<()> {
        Ok(())
    }

    /// Reaching `stage`: when an injected error is due (the `testing` feature's
    /// [`fault::GpuFaults`]), records it in the device error log as the error callbacks would,
    /// and reports it through [`GpuContext::check`].
    #[cfg(feature = "testing")]
    pub(crate) fn reach(&self, stage: Stage) -> Result<()> {
        if let Some(message) = self.faults.due(stage) {
            self.errors
                .lock()
                .map_err(|_| unavailable("the GPU error log is poisoned"))?
                .push(message);
            return self.check();
        }
        Ok(())
    }

    /// Turns the device errors collected since the last check into an error.
    pub(crate) fn check(&self) -> Result<()> {
        let mut errors = self
            .errors
            .lock()
            .map_err(|_| unavailable("the GPU error log is poisoned"))?;
        if errors.is_empty() {
            return Ok(());
        }
        let all = errors.join("; ");
        errors.clear();
        Err(unavailable(format!(
            "GPU error on {}: {all}",
            self.info.name
        )))
    }

    /// A buffer of `bytes` bytes (at least 16), checked against the device limits.
    pub(crate) fn buffer(
        &self,
        label: &str,
        bytes: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer> {
        let bytes = bytes.max(16).next_multiple_of(4);
        let storage_limit = if usage.contains(wgpu::BufferUsages::STORAGE) {
            self.limits.max_storage_buffer_binding_size
        } else {
            u64::MAX
        };
        if bytes > self.limits.max_buffer_size || bytes > storage_limit {
            return Err(unavailable(format!(
                "{label}: {bytes} bytes exceed the device's buffer limits"
            )));
        }
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage,
            mapped_at_creation: false,
        }))
    }

    /// A storage buffer holding `data` (for small tables and tests; edges go through staging).
    pub(crate) fn storage_with(&self, label: &str, data: &[u32]) -> wgpu::Buffer {
        let mut words = data.to_vec();
        words.resize(data.len().max(4), 0);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&words),
                usage: STORAGE_USAGE,
            })
    }
}

/// Usage of every device-side storage buffer.
pub(crate) const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_DST)
    .union(wgpu::BufferUsages::COPY_SRC);

fn build_kernels(device: &wgpu::Device) -> Vec<(KernelId, Kernel)> {
    let mut modules: Vec<(&str, wgpu::ShaderModule)> = Vec::new();
    let mut out = Vec::new();
    for &(id, shader, entry, bindings) in KERNEL_SPECS {
        let module = match modules.iter().find(|(n, _)| *n == shader.name) {
            Some((_, m)) => m.clone(),
            None => {
                let m = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader.name),
                    source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(shader.source)),
                });
                modules.push((shader.name, m.clone()));
                m
            }
        };
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: NonZeroU64::new(PARAMS_SIZE),
            },
            count: None,
        }];
        for &(binding, access) in bindings {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage {
                        read_only: access == Access::Read,
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let label = format!("{}::{entry}", shader.name);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(&label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        out.push((
            id,
            Kernel {
                pipeline,
                layout,
                bindings,
            },
        ));
    }
    out
}

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
