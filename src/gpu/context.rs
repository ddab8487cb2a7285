//! The device context: finding the adapter ([`AdapterChoice`]), opening the device with the
//! census pipelines ([`GpuContext`]), the process-wide shared context ([`shared_context`]), and
//! the device error log that every synchronisation point turns into
//! [`Error::BackendUnavailable`].

use super::*;

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
    shared_context_on(choice, None)
}

/// [`shared_context`] on GPU `device` of the machine: with several GPUs of the best kind
/// (and backend), the one at that position (modulo their number) in the driver's order, as a
/// rank of a sharded run picks its own by its local rank; `None`: the first.
///
/// # Errors
/// As [`shared_context`].
pub fn shared_context_on(choice: AdapterChoice, device: Option<usize>) -> Result<SharedContext> {
    #[cfg(feature = "testing")]
    return shared_context_with_device(choice, device, &fault::GpuFaults::default());
    #[cfg(not(feature = "testing"))]
    shared(choice, device, || {
        GpuContext::open_inner(choice, false, None, device)
    })
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
    shared_context_with_device(choice, None, faults)
}

/// [`shared_context_on`] with the testing hooks `faults`.
///
/// # Errors
/// As [`shared_context`].
#[cfg(feature = "testing")]
pub fn shared_context_with_device(
    choice: AdapterChoice,
    device: Option<usize>,
    faults: &fault::GpuFaults,
) -> Result<SharedContext> {
    shared(choice, device, || {
        GpuContext::open_with_device(choice, device, faults)
    })
}

fn shared(
    choice: AdapterChoice,
    device: Option<usize>,
    open: impl FnOnce() -> Result<Opened>,
) -> Result<SharedContext> {
    type Slot = Arc<std::sync::OnceLock<std::result::Result<SharedContext, String>>>;
    type Key = (AdapterChoice, Option<usize>);
    // One context per (choice, device) for the process (in practice one or two).
    static SLOTS: Mutex<Vec<(Key, Slot)>> = Mutex::new(Vec::new());
    let slot = {
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        let key = (choice, device);
        match slots.iter().find(|(k, _)| *k == key) {
            Some((_, slot)) => Arc::clone(slot),
            None => {
                let slot = Slot::default();
                slots.push((key, Arc::clone(&slot)));
                slot
            }
        }
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

/// A wgpu device with the census pipelines, built once and reused for every population.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(super) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) timestamps: bool,
    pub(super) kernels: Vec<(KernelId, Kernel)>,
    pub(super) errors: Arc<Mutex<Vec<String>>>,
    pub(super) opened_s: f64,
    /// The injected faults of the `testing` feature, counted per context.
    #[cfg(feature = "testing")]
    pub(super) faults: fault::Injector,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.describe())
            .finish_non_exhaustive()
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
        Self::open_inner(choice, false, None, None)
    }

    /// [`GpuContext::open`] with the testing hooks `faults`: injected device errors, a smaller
    /// planned memory, software adapters under `auto`.
    ///
    /// # Errors
    /// As [`GpuContext::open`].
    #[cfg(feature = "testing")]
    pub fn open_with(choice: AdapterChoice, faults: &fault::GpuFaults) -> Result<Opened> {
        Self::open_with_device(choice, None, faults)
    }

    /// [`GpuContext::open_with`] on GPU `device` ([`shared_context_on`]).
    ///
    /// # Errors
    /// As [`GpuContext::open`].
    #[cfg(feature = "testing")]
    pub fn open_with_device(
        choice: AdapterChoice,
        device: Option<usize>,
        faults: &fault::GpuFaults,
    ) -> Result<Opened> {
        let mut opened =
            Self::open_inner(choice, faults.allow_software, faults.memory_limit, device)?;
        if let Opened::Ready(ctx) = &mut opened {
            ctx.faults = fault::Injector::new(faults.fault.clone());
        }
        Ok(opened)
    }

    fn open_inner(
        choice: AdapterChoice,
        allow_software: bool,
        memory_limit: Option<u64>,
        device: Option<usize>,
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
        let rank = |a: &wgpu::Adapter| {
            let info = a.get_info();
            (
                device_type_rank(info.device_type),
                backend_rank(info.backend),
            )
        };
        // Stable: adapters of one kind keep the driver's order, which `device` indexes.
        usable.sort_by_key(rank);
        let best = usable.first().map(rank);
        let peers: Vec<wgpu::Adapter> = usable
            .into_iter()
            .filter(|a| Some(rank(a)) == best)
            .collect();
        let nth = device.map_or(0, |d| d % peers.len().max(1));
        let Some(adapter) = peers.into_iter().nth(nth) else {
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

    /// Whether the kernels for sources of 2^32 and more were built (the adapter gives them the
    /// workgroup memory they need).
    pub fn has_wide_kernels(&self) -> bool {
        self.kernels.iter().any(|(k, _)| k.is_wide())
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
