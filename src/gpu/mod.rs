//! The device layer of the GPU engine on wgpu: device set-up ([`GpuContext`]), the recorder of
//! kernel dispatches, readback, and the host side of every kernel (`gpu::<kernel>`, one module
//! per shader in `shaders/`). The streamed census that drives them is the GPU engine,
//! `census::gpu`; nothing here knows about censuses.
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
//! With the `testing` feature, `fault::GpuFaults` (given when the context opens) injects device
//! errors at upload, dispatch and readback, shrinks the buffer sizes the engine plans with, and
//! lets `auto` take a software adapter.

mod context;
mod recorder;

pub mod connection_counts;
pub mod connection_counts_wide;
pub mod connections;
#[cfg(feature = "testing")]
pub mod fault;
pub mod prefix_sum;
pub mod readback;
pub mod segment_merge;
pub mod segment_merge_wide;
pub mod segment_sort;
pub mod segment_sort_wide;
pub mod sources_by_target;
pub mod sources_by_target_wide;
pub mod synapses_per_connection;
pub mod target_counts;

use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::kernels::{self, Shader, params};
pub use context::{
    AdapterChoice, GpuContext, Opened, SharedContext, shared_context, shared_context_on,
};
#[cfg(feature = "testing")]
pub use context::{shared_context_with, shared_context_with_device};
pub use recorder::Prepared;
pub(crate) use recorder::{GrowBuffer, Recorder, last, run_once};

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
    SourcesByTargetWide,
    SegmentSortWide,
    SegmentMergeWide,
    CountHeadsWide,
    ScatterHeadsWide,
}

impl KernelId {
    /// A kernel for sources of two u32 words (built only where the adapter allows its workgroup
    /// memory, [`params::WIDE_WORKGROUP_BYTES`]).
    pub(crate) fn is_wide(self) -> bool {
        matches!(
            self,
            KernelId::SourcesByTargetWide
                | KernelId::SegmentSortWide
                | KernelId::SegmentMergeWide
                | KernelId::CountHeadsWide
                | KernelId::ScatterHeadsWide
        )
    }
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
        (
            KernelId::SourcesByTargetWide,
            kernels::SOURCES_BY_TARGET_WIDE,
            "main",
            &[(1, R), (2, R), (3, R), (4, W), (5, W), (6, R), (7, W)],
        ),
        (
            KernelId::SegmentSortWide,
            kernels::SEGMENT_SORT_WIDE,
            "main",
            &[(1, R), (2, R), (3, W), (4, W)],
        ),
        (
            KernelId::SegmentMergeWide,
            kernels::SEGMENT_MERGE_WIDE,
            "main",
            &[(1, R), (2, W), (3, W)],
        ),
        (
            KernelId::CountHeadsWide,
            kernels::CONNECTION_COUNTS_WIDE,
            "count_heads",
            &[(1, R), (2, R), (3, W), (11, R)],
        ),
        (
            KernelId::ScatterHeadsWide,
            kernels::CONNECTION_COUNTS_WIDE,
            "scatter_heads",
            &[
                (1, R),
                (2, R),
                (3, W),
                (4, W),
                (6, W),
                (8, W),
                (9, W),
                (11, R),
                (12, W),
            ],
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

/// A device error the engine cannot recover from (the caller may count on the CPU instead).
pub(crate) fn unavailable(reason: impl Into<String>) -> Error {
    Error::BackendUnavailable {
        backend: "gpu".into(),
        reason: reason.into(),
    }
}

/// Usage of every device-side storage buffer.
pub(crate) const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_DST)
    .union(wgpu::BufferUsages::COPY_SRC);

fn build_kernels(device: &wgpu::Device) -> Vec<(KernelId, Kernel)> {
    let mut modules: Vec<(&str, wgpu::ShaderModule)> = Vec::new();
    let mut out = Vec::new();
    // The wide sort needs more workgroup memory than some adapters give (WebGPU's default is
    // 16 KiB); without it the device still counts every population with 32-bit sources.
    let wide = device.limits().max_compute_workgroup_storage_size >= params::WIDE_WORKGROUP_BYTES;
    for &(id, shader, entry, bindings) in KERNEL_SPECS {
        if id.is_wide() && !wide {
            continue;
        }
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
