//! The streamed GPU census: the same tables as [`crate::census::cpu`], bit for bit.
//!
//! # Data path
//! A reader thread reads chunk k+1 from HDF5 while the host narrows chunk k (u64 → u32, checked,
//! several threads writing disjoint parts of a mapped staging buffer) and the GPU counts chunk
//! k-1. Two staging buffers (`MAP_WRITE | COPY_SRC`) alternate; each is copied into the device
//! buffers and mapped again once the GPU is done with it. Counters and results stay on the GPU:
//! per-target synapse counters and the synapses-per-connection histogram are resident; the
//! connections (source, synapses) and per-segment connection counts of every batch are appended
//! to resident arenas that are read back only when they could fill up (rarely) and at the end.
//!
//! # Strategies (as the CPU engine)
//! - **Sorted by target**: one pass. The host finds the runs of equal targets ("segments") while
//!   narrowing and uploads only the sources plus the segment table. Per chunk the GPU counts
//!   synapses per target (`target_counts`, one atomic per segment), sorts each segment
//!   (`segment_sort` in workgroup memory; `segment_merge` for segments longer than a workgroup
//!   tile) and run-length encodes it (`connection_counts`, `prefix_sum`), then histograms the
//!   connections (`synapses_per_connection`). A target whose edges cross a chunk boundary gets a
//!   partial connection list from each chunk; the host merges those sorted lists exactly (adding
//!   the synapse counts in u64) and corrects the histogram for them.
//! - **Unsorted**: found at the first decreasing target, then pass 1 counts in-degrees on the GPU
//!   (`target_counts`, global atomics), targets are cut into contiguous partitions whose edges fit
//!   a GPU batch (and the memory budget), and for each partition pass 2 groups the sources by
//!   target on the GPU (`sources_by_target`, a counting-sort scatter), then sorts and encodes the
//!   segments as above. No kernel waits on another workgroup.
//!
//! # Exactness
//! Every count is an integer computed without loss: u32 counters on the GPU are flushed into u64
//! on the host before they could reach 2^32; connection counts of one batch are below 2^32 by
//! construction and merged in u64 (a connection of more than 2^32 - 1 synapses is the CPU
//! engine's error). The order of the output is fixed by sorting, never by scheduling. Ids that do
//! not fit in 32 bits, or tables larger than a GPU buffer, make the engine hand the population to
//! the CPU engine with a notice (see [`GpuTimings::notices`]).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use wgpu::WriteOnly;

use super::connections::{self, Arenas, BatchBuffers};
use super::readback::{self, MapWait};
use super::stream::{ReadStats, for_each_chunk};
use super::{GpuContext, GrowBuffer, Recorder, STORAGE_USAGE, sources_by_target, target_counts};
use crate::census::cpu::{self, Tables};
use crate::census::stream::{Chunk, NsynsSource};
use crate::census::{Census, CensusOptions, DEFAULT_CHUNK_LEN, Sortedness, TargetSpace};
use crate::error::{Error, Location, Result};
use crate::kernels::layout::SegmentLayout;
use crate::kernels::params::{
    HIST_BINS, MODE_EDGES, MODE_SEGMENTS, SORT_TILE, SourcesByTargetParams, TargetCountsParams,
};
use crate::progress::Progress;
use crate::sonata::EdgePopulation;

/// Knobs of the GPU engine, for tests and benchmarks (the defaults suit real runs).
#[derive(Debug, Clone, Default)]
pub struct GpuTuning {
    /// Rows per chunk (default: the caller's `chunk_len`, or
    /// [`GpuContext::preferred_chunk_len`] when the caller kept the default).
    pub chunk_len: Option<usize>,
    /// Capacity of the connection arenas in connections (default: up to 64 Mi).
    pub arena_len: Option<usize>,
    /// Edges counted between flushes of the u32 GPU counters into u64 (default 2^32 - 1).
    pub counter_flush_edges: Option<u64>,
}

/// What a GPU census run did and how long its parts took (for `-v` logs and benchmarks).
#[derive(Debug, Clone, Default)]
pub struct GpuTimings {
    /// The adapter ("name (backend, type)").
    pub adapter: String,
    /// "sorted", "unsorted, k partitions", or "cpu fallback".
    pub strategy: String,
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

fn gbps(bytes: u64, s: f64) -> f64 {
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
            self.strategy.replace(", ", ",").replace(' ', "_"),
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

/// Census of a population on the GPU, with the same tables as the CPU engine.
///
/// `nsyns` opens the bmtk `nsyns` column when the population has one (called once per attempt).
/// When the ids do not fit in 32 bits or the tables do not fit the device, the CPU engine counts
/// the population instead and [`GpuTimings::notices`] says why.
///
/// # Errors
/// As the CPU engine for bad input (a target id at or beyond the node count, read errors);
/// [`Error::BackendUnavailable`] when the device fails (lost, out of memory, validation).
pub fn census(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<NsynsSource>>,
    progress: &Progress,
    ctx: &GpuContext,
) -> Result<(Census, GpuTimings)> {
    census_with(
        pop,
        options,
        space,
        nsyns,
        progress,
        ctx,
        &GpuTuning::default(),
    )
}

/// [`census`] with explicit [`GpuTuning`].
///
/// # Errors
/// As [`census`].
pub fn census_with(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<NsynsSource>>,
    progress: &Progress,
    ctx: &GpuContext,
    tuning: &GpuTuning,
) -> Result<(Census, GpuTimings)> {
    let started = Instant::now();
    let mut timings = GpuTimings {
        adapter: ctx.describe(),
        context_s: ctx.opened_s(),
        edges: pop.size(),
        ..Default::default()
    };
    let result = Engine::new(ctx, pop, options, space, tuning).and_then(|mut engine| {
        let r = engine.run(&nsyns, progress);
        engine.finish_timings(&mut timings);
        r
    });
    // A device error names the population it was counting (the message is one line).
    let result = result.map_err(|e| match e {
        Error::BackendUnavailable { backend, reason } => Error::BackendUnavailable {
            backend,
            reason: format!(
                "{}, population '{}': {reason}",
                pop.target_ids().location().file.display(),
                pop.name()
            ),
        },
        other => other,
    });
    let census = match result? {
        Outcome::Census(c) => *c,
        Outcome::Cpu(notice) => {
            timings.notices.push(notice);
            timings.strategy = "cpu fallback".into();
            cpu::census(pop, options, space, nsyns, progress)?
        }
    };
    timings.total_s = started.elapsed().as_secs_f64();
    Ok((census, timings))
}

enum Outcome {
    Census(Box<Census>),
    Cpu(String),
}

/// Why a pass stopped early.
enum Stop {
    Unsorted,
    Cpu(String),
}

fn unavailable(reason: impl Into<String>) -> Error {
    Error::BackendUnavailable {
        backend: "gpu".into(),
        reason: reason.into(),
    }
}

fn too_wide(column: &str, id: u64, row: u64) -> String {
    format!(
        "{column} id {id} at row {row} does not fit in 32 bits, which the GPU kernels need; \
         the CPU engine counts this population"
    )
}

// ---------------------------------------------------------------------------------------------
// Staging ring

struct Slot {
    buffer: wgpu::Buffer,
    bytes: u64,
    wait: Option<MapWait>,
}

/// Two `MAP_WRITE | COPY_SRC` buffers used in turn: one is filled while the GPU copies from the
/// other.
struct Staging {
    slots: Vec<Slot>,
    next: usize,
    /// Seconds spent waiting for the GPU to release a slot.
    waited_s: f64,
}

fn staging_buffer(ctx: &GpuContext, bytes: u64) -> Result<wgpu::Buffer> {
    if bytes > ctx.limits.max_buffer_size {
        return Err(unavailable(format!(
            "a staging buffer of {bytes} bytes exceeds the device's limit"
        )));
    }
    Ok(ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: true,
    }))
}

impl Staging {
    fn new(ctx: &GpuContext, bytes: u64) -> Result<Self> {
        let bytes = bytes.max(1024).next_multiple_of(8);
        let slots = (0..2)
            .map(|_| {
                Ok(Slot {
                    buffer: staging_buffer(ctx, bytes)?,
                    bytes,
                    wait: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Staging {
            slots,
            next: 0,
            waited_s: 0.0,
        })
    }

    /// The next slot, mapped and at least `bytes` long.
    fn acquire(&mut self, ctx: &GpuContext, bytes: u64) -> Result<usize> {
        let i = self.next;
        self.next = (i + 1) % self.slots.len();
        let slot = &mut self.slots[i];
        if let Some(w) = slot.wait.take() {
            let started = Instant::now();
            readback::wait_mapped(ctx, w)?;
            self.waited_s += started.elapsed().as_secs_f64();
        }
        ctx.reach(super::fault::Stage::Upload)?;
        if slot.bytes < bytes {
            let grown = bytes.max(slot.bytes + slot.bytes / 2).next_multiple_of(8);
            slot.buffer = staging_buffer(ctx, grown)?;
            slot.bytes = grown;
        }
        Ok(i)
    }

    /// A write view of `len` bytes at `offset` (8-aligned) of slot `i`.
    fn view(&self, i: usize, offset: u64, len: u64) -> Result<wgpu::BufferViewMut> {
        self.slots[i]
            .buffer
            .get_mapped_range_mut(offset..offset + len)
            .map_err(|e| unavailable(format!("staging buffer: {e}")))
    }

    fn buffer(&self, i: usize) -> &wgpu::Buffer {
        &self.slots[i].buffer
    }

    /// Slot `i` was submitted as `index`: map it again for its next use.
    fn submitted(&mut self, i: usize, index: wgpu::SubmissionIndex) {
        let w = readback::map_for_write(&self.slots[i].buffer, index);
        self.slots[i].wait = Some(w);
    }
}

// ---------------------------------------------------------------------------------------------
// Host-side narrowing, in parallel parts

/// Cuts `n` rows into about `threads` parts of at least 64 Ki rows.
fn parts(n: usize, threads: usize) -> Vec<(usize, usize)> {
    let k = threads.max(1).min(n.div_ceil(1 << 16)).max(1);
    (0..k).map(|p| (n * p / k, n * (p + 1) / k)).collect()
}

/// One thread's part of a mapped staging range.
///
/// `WriteOnly<'a, [u8]>` is in effect a `&'a mut [u8]` that may not be read, and would be `Send`
/// like one, but wgpu 30 implements `Send` for sized targets only. This carries the part to a
/// worker thread and gives the `WriteOnly` back there.
struct Piece<'a> {
    ptr: std::ptr::NonNull<[u8]>,
    _life: std::marker::PhantomData<WriteOnly<'a, [u8]>>,
}

// SAFETY: a `Piece` is made only by `split_out` from a `WriteOnly<'a, [u8]>` (exclusive, valid
// for writes for 'a); the pieces of one call are disjoint, and each is turned back into a
// `WriteOnly` by exactly one thread. Sending exclusive write access to plain bytes is sound.
unsafe impl Send for Piece<'_> {}

impl<'a> Piece<'a> {
    fn into_write_only(self) -> WriteOnly<'a, [u8]> {
        // SAFETY: `ptr` came from a `WriteOnly<'a, [u8]>` (see `split_out`) that was consumed,
        // so this is the only access to that memory for 'a.
        unsafe { WriteOnly::new(self.ptr) }
    }
}

/// Splits `out` (4 bytes per row) into the byte ranges of `parts`, one piece per thread.
fn split_out<'a>(mut out: WriteOnly<'a, [u8]>, parts: &[(usize, usize)]) -> Vec<Piece<'a>> {
    let mut pieces = Vec::with_capacity(parts.len());
    for &(a, b) in parts {
        let mut head = match out.split_at_checked((b - a) * 4) {
            Ok((head, tail)) => {
                out = tail;
                head
            }
            Err(rest) => {
                out = WriteOnly::default();
                rest
            }
        };
        pieces.push(Piece {
            ptr: head.as_raw_ptr(),
            _life: std::marker::PhantomData,
        });
    }
    pieces
}

/// Writes `ids` as u32 (truncating; callers check the range) into `out`, a block at a time:
/// staging memory may be write-combined, where whole-block copies are much faster than
/// scattered 4-byte stores.
fn write_u32s(ids: &[u64], mut out: WriteOnly<'_, [u8]>) {
    const BLOCK: usize = 1024;
    let mut buf = [0u32; BLOCK];
    for (k, part) in ids.chunks(BLOCK).enumerate() {
        for (b, &id) in buf.iter_mut().zip(part) {
            *b = id as u32;
        }
        let at = k * BLOCK * 4;
        let bytes: &[u8] = bytemuck::cast_slice(&buf[..part.len()]);
        if let Some(mut dst) = out.slice(at..).split_off(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// What one part of a sorted chunk showed.
#[derive(Default)]
struct SortedPart {
    unsorted: bool,
    by_target_source: bool,
    /// Rows (chunk-relative) where a segment starts.
    starts: Vec<u32>,
    /// First row with a source id beyond u32.
    wide_source: Option<usize>,
}

/// Scans rows `a..b` of a chunk sorted by target (so far): order, segment starts, narrowed
/// sources into `out`. `order_prev` is the row before `a` (or the previous chunk's last row),
/// `seg_prev` the target before `a` within the chunk.
fn scan_sorted_part(
    targets: &[u64],
    sources: &[u64],
    a: usize,
    order_prev: Option<(u64, u64)>,
    seg_prev: Option<u64>,
    out: WriteOnly<'_, [u8]>,
) -> SortedPart {
    let mut r = SortedPart {
        by_target_source: true,
        ..Default::default()
    };
    let (mut op, mut sp) = (order_prev, seg_prev);
    for (i, (&t, &s)) in targets.iter().zip(sources).enumerate() {
        if let Some((pt, ps)) = op {
            if t < pt {
                r.unsorted = true;
                return r;
            }
            if t == pt && s < ps {
                r.by_target_source = false;
            }
        }
        if sp != Some(t) {
            r.starts.push((a + i) as u32);
            sp = Some(t);
        }
        if s > u64::from(u32::MAX) && r.wide_source.is_none() {
            r.wide_source = Some(a + i);
        }
        op = Some((t, s));
    }
    write_u32s(sources, out);
    r
}

// ---------------------------------------------------------------------------------------------
// Resident counters

/// Per-target synapse counters and the synapses-per-connection histogram, u32 on the GPU and
/// flushed into u64 on the host before any could reach 2^32.
struct Counters {
    targets: Option<wgpu::Buffer>,
    cap: usize,
    host: Vec<u64>,
    bins: wgpu::Buffer,
    host_bins: Vec<u64>,
    since_flush: u64,
    limit: u64,
}

impl Counters {
    fn new(ctx: &GpuContext, limit: u64) -> Result<Self> {
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
    fn ensure_targets(&mut self, ctx: &GpuContext, needed: usize) -> Result<Option<String>> {
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
    fn before(&mut self, ctx: &GpuContext, edges: u64, t: &mut Stats) -> Result<()> {
        if self.since_flush + edges > self.limit {
            self.flush(ctx, t)?;
        }
        self.since_flush += edges;
        Ok(())
    }

    fn flush(&mut self, ctx: &GpuContext, t: &mut Stats) -> Result<()> {
        let started = Instant::now();
        let rb = &mut t.readback;
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        if let Some(b) = &self.targets {
            let v = rb.read_u32s(ctx, b, 0, self.cap)?;
            if self.host.len() < v.len() {
                self.host.resize(v.len(), 0);
            }
            for (h, x) in self.host.iter_mut().zip(&v) {
                *h += u64::from(*x);
            }
            t.readback_bytes += 4 * v.len() as u64;
            encoder.clear_buffer(b, 0, None);
        }
        let v = rb.read_u32s(ctx, &self.bins, 0, HIST_BINS as usize)?;
        for (h, x) in self.host_bins.iter_mut().zip(&v) {
            *h += u64::from(*x);
        }
        t.readback_bytes += 4 * v.len() as u64;
        encoder.clear_buffer(&self.bins, 0, None);
        ctx.queue.submit([encoder.finish()]);
        self.since_flush = 0;
        t.flushes += 1;
        t.readback_s += started.elapsed().as_secs_f64();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Connection arenas and the host assembly

/// Resident arenas of connections and per-segment connection counts.
struct Arena {
    state: wgpu::Buffer,
    conn_src: GrowBuffer,
    conn_count: GrowBuffer,
    seg_conn: GrowBuffer,
    cap: usize,
    /// Upper bound of the connections in the arena (edges since the last flush).
    bound: usize,
    /// Segments in the arena, and their targets.
    seg_targets: Vec<u32>,
}

impl Arena {
    fn new(ctx: &GpuContext, cap: usize) -> Result<Self> {
        Ok(Arena {
            state: ctx.storage_with("state", &[0]),
            conn_src: GrowBuffer::new(ctx, "conn_src", cap)?,
            conn_count: GrowBuffer::new(ctx, "conn_count", cap)?,
            seg_conn: GrowBuffer::new(ctx, "seg_conn", cap)?,
            cap,
            bound: 0,
            seg_targets: Vec::new(),
        })
    }

    fn fits(&self, n: usize, m: usize) -> bool {
        self.bound + n <= self.cap && self.seg_targets.len() + m <= self.cap
    }

    /// Makes room for a batch of `n` edges in `m` segments: flushes the arena when it could
    /// overflow, and grows it when the batch alone is larger (a big partition).
    fn make_room(
        &mut self,
        ctx: &GpuContext,
        n: usize,
        m: usize,
        asm: &mut AsmWorker,
        t: &mut Stats,
    ) -> Result<()> {
        if !self.fits(n, m) {
            self.flush(ctx, asm, t)?;
        }
        if !self.fits(n, m) {
            let cap = n.max(m);
            self.conn_src.ensure(ctx, cap)?;
            self.conn_count.ensure(ctx, cap)?;
            self.seg_conn.ensure(ctx, cap)?;
            self.cap = cap;
        }
        Ok(())
    }

    fn arenas<'a>(&'a self, bins: &'a wgpu::Buffer) -> Arenas<'a> {
        Arenas {
            state: &self.state,
            conn_src: self.conn_src.buffer(),
            conn_count: self.conn_count.buffer(),
            seg_conn: self.seg_conn.buffer(),
            seg_base: self.seg_targets.len() as u32,
            bins: Some(bins),
        }
    }

    /// Reads the arenas back into the assembler and empties them.
    fn flush(&mut self, ctx: &GpuContext, asm: &mut AsmWorker, t: &mut Stats) -> Result<()> {
        if self.seg_targets.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let rb = &mut t.readback;
        let used = rb
            .read_u32s(ctx, &self.state, 0, 1)?
            .first()
            .copied()
            .unwrap_or(0) as usize;
        if used > self.bound {
            return Err(unavailable(format!(
                "the GPU reported {used} connections for at most {} edges",
                self.bound
            )));
        }
        let src = rb.read_u32s(ctx, self.conn_src.buffer(), 0, used)?;
        let cnt = rb.read_u32s(ctx, self.conn_count.buffer(), 0, used)?;
        let per_seg = rb.read_u32s(ctx, self.seg_conn.buffer(), 0, self.seg_targets.len())?;
        t.readback_bytes += 8 * used as u64 + 4 * per_seg.len() as u64;
        asm.take(Flushed {
            seg_targets: std::mem::take(&mut self.seg_targets),
            per_seg,
            src,
            cnt,
        })?;
        t.readback_s += started.elapsed().as_secs_f64();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.clear_buffer(&self.state, 0, None);
        ctx.queue.submit([encoder.finish()]);
        self.bound = 0;
        self.seg_targets.clear();
        t.flushes += 1;
        Ok(())
    }
}

/// A target's connections that may continue in the next segment (a run crossing a chunk).
struct Pending {
    target: u32,
    list: Vec<(u32, u64)>,
    merged: bool,
}

/// Builds the connection tables from the arenas' contents, in target order.
struct Assembler {
    at: Location,
    connections: Vec<u64>,
    sources: Vec<u64>,
    counts: Vec<u32>,
    /// Corrections to the GPU histogram: connections it did not count (more than `HIST_BINS - 1`
    /// synapses, or merged across batches), minus the partial ones it counted.
    hist_fix: BTreeMap<u64, i64>,
    pending: Option<Pending>,
}

fn gpu_counted(c: u64) -> bool {
    c < u64::from(HIST_BINS)
}

impl Assembler {
    fn new(at: Location) -> Self {
        Assembler {
            at,
            connections: Vec::new(),
            sources: Vec::new(),
            counts: Vec::new(),
            hist_fix: BTreeMap::new(),
            pending: None,
        }
    }

    fn fix(&mut self, c: u64, d: i64) {
        *self.hist_fix.entry(c).or_insert(0) += d;
    }

    fn take(
        &mut self,
        seg_targets: &[u32],
        per_seg: &[u32],
        src: &[u32],
        cnt: &[u32],
    ) -> Result<()> {
        let mut pos = 0usize;
        for (s, &t) in seg_targets.iter().enumerate() {
            let d = per_seg.get(s).copied().unwrap_or(0) as usize;
            let (Some(ss), Some(cc)) = (src.get(pos..pos + d), cnt.get(pos..pos + d)) else {
                return Err(unavailable(
                    "the GPU's connection arenas are inconsistent with its segment counts",
                ));
            };
            pos += d;
            if let Some(p) = self.pending.as_mut()
                && p.target == t
            {
                let mut fixes = Vec::new();
                if !p.merged {
                    fixes.extend(p.list.iter().map(|&(_, c)| c));
                    p.merged = true;
                }
                fixes.extend(cc.iter().map(|&c| u64::from(c)));
                p.list = merge(&p.list, ss, cc);
                for c in fixes {
                    if gpu_counted(c) {
                        self.fix(c, -1);
                    }
                }
                continue;
            }
            if let Some(p) = self.pending.take() {
                self.emit(p)?;
            }
            let may_continue = seg_targets.get(s + 1).is_none_or(|&next| next == t);
            if may_continue {
                self.pending = Some(Pending {
                    target: t,
                    list: ss
                        .iter()
                        .zip(cc)
                        .map(|(&s, &c)| (s, u64::from(c)))
                        .collect(),
                    merged: false,
                });
            } else {
                self.emit_direct(t, ss, cc);
            }
        }
        if pos != src.len() {
            return Err(unavailable(
                "the GPU's connection arenas hold more connections than its segment counts",
            ));
        }
        Ok(())
    }

    /// Emits the connections of a target seen in one segment only (counts below 2^32, and the
    /// GPU histogram counted those below `HIST_BINS`).
    fn emit_direct(&mut self, target: u32, ss: &[u32], cc: &[u32]) {
        let t = target as usize;
        if t >= self.connections.len() {
            self.connections.resize(t + 1, 0);
        }
        self.connections[t] += ss.len() as u64;
        self.sources.extend(ss.iter().map(|&s| u64::from(s)));
        self.counts.extend_from_slice(cc);
        for &c in cc {
            if !gpu_counted(u64::from(c)) {
                self.fix(u64::from(c), 1);
            }
        }
    }

    fn emit(&mut self, p: Pending) -> Result<()> {
        let t = p.target as usize;
        if t >= self.connections.len() {
            self.connections.resize(t + 1, 0);
        }
        self.connections[t] += p.list.len() as u64;
        for &(s, c) in &p.list {
            let c32 = u32::try_from(c)
                .map_err(|_| cpu::too_many_synapses(&self.at, u64::from(p.target), u64::from(s)))?;
            if p.merged || !gpu_counted(c) {
                self.fix(c, 1);
            }
            self.sources.push(u64::from(s));
            self.counts.push(c32);
        }
        Ok(())
    }

    /// The tables for `n_targets` targets, given the u64 synapse counters and histogram.
    fn finish(mut self, n_targets: u64, mut synapses: Vec<u64>, bins: Vec<u64>) -> Result<Tables> {
        if let Some(p) = self.pending.take() {
            self.emit(p)?;
        }
        let n = n_targets as usize;
        synapses.resize(n, 0);
        self.connections.resize(n, 0);
        let mut offsets = Vec::with_capacity(n + 1);
        let mut acc = 0u64;
        offsets.push(0);
        for &c in &self.connections {
            acc += c;
            offsets.push(acc);
        }
        let mut hist = bins;
        for (&c, &d) in &self.hist_fix {
            let c = c as usize;
            if c >= hist.len() {
                hist.resize(c + 1, 0);
            }
            hist[c] = hist[c].checked_add_signed(d).ok_or_else(|| {
                unavailable("the GPU histogram of synapses per connection is inconsistent")
            })?;
        }
        let len = hist.iter().rposition(|&h| h > 0).map_or(1, |i| i + 1);
        hist.truncate(len);
        hist.resize(len, 0);
        Ok(Tables {
            target_synapse_count: synapses,
            target_connection_count: self.connections,
            target_offsets: offsets,
            source_node_id: self.sources,
            synapse_count: self.counts,
            synapses_per_connection: hist,
        })
    }
}

/// One arena's worth of results for the assembler.
struct Flushed {
    seg_targets: Vec<u32>,
    per_seg: Vec<u32>,
    src: Vec<u32>,
    cnt: Vec<u32>,
}

/// The [`Assembler`] on a thread of its own, so that building the tables on the host overlaps
/// with reading and counting the next chunks. At most one flush waits in the channel.
struct AsmWorker {
    tx: Option<mpsc::SyncSender<Flushed>>,
    handle: Option<std::thread::JoinHandle<Result<Assembler>>>,
}

impl AsmWorker {
    fn new(at: Location) -> Self {
        let (tx, rx) = mpsc::sync_channel::<Flushed>(1);
        let handle = std::thread::spawn(move || {
            let mut asm = Assembler::new(at);
            for f in rx {
                asm.take(&f.seg_targets, &f.per_seg, &f.src, &f.cnt)?;
            }
            Ok(asm)
        });
        AsmWorker {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    /// Hands a flush to the worker; when the worker has stopped on an error, returns it.
    fn take(&mut self, f: Flushed) -> Result<()> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(f).is_ok());
        if sent {
            return Ok(());
        }
        self.finish().map(|_| ())?;
        Err(unavailable("internal: the table assembler stopped"))
    }

    /// Waits for the worker and returns the assembler.
    fn finish(&mut self) -> Result<Assembler> {
        self.tx = None;
        let handle = self
            .handle
            .take()
            .ok_or_else(|| unavailable("internal: the table assembler is gone"))?;
        handle
            .join()
            .map_err(|_| unavailable("internal: the table assembler panicked"))?
    }
}

/// Merges two connection lists sorted by source, adding the counts of equal sources.
fn merge(a: &[(u32, u64)], bs: &[u32], bc: &[u32]) -> Vec<(u32, u64)> {
    let mut out = Vec::with_capacity(a.len() + bs.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < bs.len() {
        match (a.get(i), bs.get(j)) {
            (Some(&(s, c)), Some(&t)) if s == t => {
                out.push((s, c + u64::from(bc[j])));
                i += 1;
                j += 1;
            }
            (Some(&(s, c)), Some(&t)) if s < t => {
                out.push((s, c));
                i += 1;
            }
            (Some(&x), None) => {
                out.push(x);
                i += 1;
            }
            (_, Some(&t)) => {
                out.push((t, u64::from(bc[j])));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// Pairs of pass timestamps, resolved and summed in batches.
struct Timer {
    set: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    cap: u32,
    used: u32,
    ticks: u64,
    any: bool,
}

impl Timer {
    fn new(ctx: &GpuContext) -> Self {
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
    fn next(&mut self, ctx: &GpuContext) -> Result<Option<(&wgpu::QuerySet, u32)>> {
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

    fn drain(&mut self, ctx: &GpuContext) -> Result<()> {
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

    fn seconds(&self, ctx: &GpuContext) -> Option<f64> {
        (self.set.is_some() && self.any)
            .then(|| self.ticks as f64 * f64::from(ctx.queue.get_timestamp_period()) * 1e-9)
    }
}

// ---------------------------------------------------------------------------------------------
// The engine

#[derive(Default)]
struct Stats {
    /// The readback buffer, reused by every read.
    readback: readback::Readback,
    read: ReadStats,
    upload_s: f64,
    upload_bytes: u64,
    readback_s: f64,
    readback_bytes: u64,
    batches: u64,
    passes: u32,
    flushes: u32,
    strategy: String,
}

/// Unsorted-path buffers for one chunk and one partition.
struct ScatterBuffers {
    targets: GrowBuffer,
    sources: GrowBuffer,
    offsets: GrowBuffer,
    cursor: GrowBuffer,
}

struct Engine<'a> {
    ctx: &'a GpuContext,
    pop: &'a EdgePopulation,
    options: &'a CensusOptions,
    space: &'a TargetSpace,
    at: Location,
    chunk_len: usize,
    arena_cap: usize,
    flush_limit: u64,
    threads: usize,
    staging: Staging,
    batch: BatchBuffers,
    counters: Counters,
    arena: Arena,
    asm: AsmWorker,
    timer: Timer,
    stats: Stats,
}

/// Words of staging a sorted chunk of `n` rows can need (sources, segment table, blocks,
/// long segments), in the worst case.
fn sorted_staging_words(n: usize) -> usize {
    let tile = SORT_TILE as usize;
    n + 2 * n + 1 + 2 * (5 * n / tile + 4) + 4 * (n / tile + 1) + 8
}

/// The longest sorted chunk whose staging fits in one buffer of `max_bytes` (the device's limit,
/// or `SONATA_CENSUS_GPU_MEMORY_LIMIT`).
fn staging_chunk_cap(max_bytes: u64) -> usize {
    let fits = |n: usize| 4 * sorted_staging_words(n) as u64 <= max_bytes;
    // Adapters may report no real buffer limit (u64::MAX): 2^40 words is beyond any chunk.
    let words = (max_bytes / 4).clamp(1, 1 << 40);
    let (mut lo, mut hi) = (1usize, usize::try_from(words).unwrap_or(usize::MAX));
    if fits(hi) {
        return hi;
    }
    // fits(lo) may be false on an absurdly small device: the staging buffer then refuses.
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

impl<'a> Engine<'a> {
    fn new(
        ctx: &'a GpuContext,
        pop: &'a EdgePopulation,
        options: &'a CensusOptions,
        space: &'a TargetSpace,
        tuning: &GpuTuning,
    ) -> Result<Self> {
        let asked = tuning
            .chunk_len
            .unwrap_or(if options.chunk_len == DEFAULT_CHUNK_LEN {
                ctx.preferred_chunk_len()
            } else {
                options.chunk_len
            });
        let edges = usize::try_from(pop.size()).unwrap_or(usize::MAX);
        let chunk_len = asked
            .min(ctx.max_batch_len())
            .min(staging_chunk_cap(ctx.limits.max_buffer_size))
            .min(edges)
            .max(1);
        let arena_cap = tuning
            .arena_len
            .unwrap_or(1 << 26)
            .min(ctx.max_batch_len())
            .min(edges)
            .max(chunk_len)
            .max(1);
        let flush_limit = tuning.counter_flush_edges.unwrap_or(u64::from(u32::MAX));
        let at = pop.target_ids().location().clone();
        Ok(Engine {
            ctx,
            pop,
            options,
            space,
            at: at.clone(),
            chunk_len,
            arena_cap,
            flush_limit,
            threads: rayon::current_num_threads().max(1),
            staging: Staging::new(ctx, 4 * sorted_staging_words(chunk_len) as u64)?,
            batch: BatchBuffers::new(ctx, chunk_len, 16)?,
            counters: Counters::new(ctx, flush_limit)?,
            arena: Arena::new(ctx, arena_cap)?,
            asm: AsmWorker::new(at),
            timer: Timer::new(ctx),
            stats: Stats::default(),
        })
    }

    fn finish_timings(&mut self, t: &mut GpuTimings) {
        let _ = self.timer.drain(self.ctx);
        let s = &self.stats;
        t.strategy = s.strategy.clone();
        t.read_s = s.read.seconds;
        t.read_bytes = s.read.bytes;
        t.wait_s = self.staging.waited_s;
        t.upload_s = (s.upload_s - t.wait_s).max(0.0);
        t.upload_bytes = s.upload_bytes;
        t.kernel_s = self.timer.seconds(self.ctx);
        t.readback_s = s.readback_s;
        t.readback_bytes = s.readback_bytes;
        t.batches = s.batches;
        t.file_passes = s.passes;
        t.flushes = s.flushes;
    }

    /// Drops everything counted so far (the sorted attempt found unsorted rows).
    fn reset(&mut self) -> Result<()> {
        readback::wait_idle(self.ctx)?;
        self.counters = Counters::new(self.ctx, self.flush_limit)?;
        self.arena = Arena::new(self.ctx, self.arena_cap)?;
        self.asm = AsmWorker::new(self.at.clone());
        Ok(())
    }

    fn run(
        &mut self,
        nsyns: &impl Fn() -> Result<Option<NsynsSource>>,
        progress: &Progress,
    ) -> Result<Outcome> {
        progress.phase(
            &format!("{}: counting on the GPU", self.pop.name()),
            self.pop.size(),
        );
        self.stats.strategy = "sorted".into();
        let sorted = self.sorted_pass(nsyns()?, progress)?;
        let (tables, sortedness, nsyns_total) = match sorted {
            Err(Stop::Cpu(notice)) => return Ok(Outcome::Cpu(notice)),
            Ok((tables, by_target_source, nsyns_total)) => (
                tables,
                Sortedness {
                    by_target: true,
                    by_target_source,
                },
                nsyns_total,
            ),
            Err(Stop::Unsorted) => {
                self.reset()?;
                match self.unsorted_passes(nsyns()?, progress)? {
                    Err(Stop::Cpu(notice)) => return Ok(Outcome::Cpu(notice)),
                    Err(Stop::Unsorted) => {
                        return Err(unavailable("internal: unsorted twice"));
                    }
                    Ok((tables, nsyns_total)) => (
                        tables,
                        Sortedness {
                            by_target: false,
                            by_target_source: false,
                        },
                        nsyns_total,
                    ),
                }
            }
        };
        let n_targets = tables.target_synapse_count.len() as u64;
        let mut nsyns_total = nsyns_total;
        if let Some(v) = nsyns_total.as_mut() {
            v.resize(n_targets as usize, 0);
        }
        Ok(Outcome::Census(Box::new(Census::from_tables(
            self.pop,
            n_targets,
            sortedness,
            tables,
            nsyns_total,
            format!("gpu: {}", self.ctx.adapter_name()),
        ))))
    }

    /// Ends a run: reads back the arenas and counters and builds the tables.
    fn finish_tables(&mut self, n_targets: u64) -> Result<Tables> {
        self.arena.flush(self.ctx, &mut self.asm, &mut self.stats)?;
        self.counters.flush(self.ctx, &mut self.stats)?;
        self.timer.drain(self.ctx)?;
        let waiting = Instant::now();
        let asm = self.asm.finish()?;
        self.stats.readback_s += waiting.elapsed().as_secs_f64();
        let synapses = std::mem::take(&mut self.counters.host);
        let bins = std::mem::take(&mut self.counters.host_bins);
        asm.finish(n_targets, synapses, bins)
    }

    /// Uploads the segment table of a batch (`seg_offsets`, `seg_targets`, blocks, long
    /// segments) from `words` at `offset` of staging slot `slot` into the batch buffers.
    fn copy_tables(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        slot: usize,
        offset: u64,
        m: usize,
        layout: &SegmentLayout,
    ) {
        let staging = self.staging.buffer(slot);
        let mut at = offset;
        let b = &self.batch;
        for (words, dst) in [
            (m + 1, b.seg_offsets.buffer()),
            (m, b.seg_targets.buffer()),
            (2 * layout.blocks.len(), b.blocks.buffer()),
            (4 * layout.long_segs.len(), b.long_segs.buffer()),
        ] {
            if words > 0 {
                encoder.copy_buffer_to_buffer(staging, at, dst, 0, words as u64 * 4);
            }
            at += words as u64 * 4;
        }
    }

    /// The words [`Self::copy_tables`] copies.
    fn table_words(seg_offsets: &[u32], seg_targets: &[u32], layout: &SegmentLayout) -> Vec<u32> {
        let mut w = Vec::with_capacity(
            seg_offsets.len()
                + seg_targets.len()
                + 2 * layout.blocks.len()
                + 4 * layout.long_segs.len(),
        );
        w.extend_from_slice(seg_offsets);
        w.extend_from_slice(seg_targets);
        w.extend_from_slice(layout.blocks.as_flattened());
        w.extend_from_slice(layout.long_segs.as_flattened());
        w
    }

    /// Records the connection pipeline of the batch now in the batch buffers, submits it with
    /// `encoder` (which holds its copies), and books the segments.
    fn submit_batch(
        &mut self,
        mut encoder: wgpu::CommandEncoder,
        rec: Recorder<'_>,
        slot: Option<usize>,
        seg_targets: &[u32],
        n: usize,
    ) -> Result<()> {
        let pair = self.timer.next(self.ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = self.ctx.queue.submit([encoder.finish()]);
        if let Some(i) = slot {
            self.staging.submitted(i, index);
        }
        self.arena.bound += n;
        self.arena.seg_targets.extend_from_slice(seg_targets);
        self.stats.batches += 1;
        Ok(())
    }

    // -- sorted by target ----------------------------------------------------------------------

    #[allow(clippy::type_complexity)]
    fn sorted_pass(
        &mut self,
        nsyns: Option<NsynsSource>,
        progress: &Progress,
    ) -> Result<std::result::Result<(Tables, bool, Option<Vec<u64>>), Stop>> {
        let mut st = SortedState {
            prev: None,
            by_target_source: true,
            max_target: None,
            nsyns: Vec::new(),
        };
        let with_nsyns = nsyns.is_some();
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let pop = self.pop;
        let stopped = for_each_chunk(pop, self.chunk_len, nsyns, &mut read, |chunk| {
            let r = self.sorted_chunk(chunk, &mut st);
            progress.inc(chunk.targets.len() as u64);
            r
        });
        self.add_read(read);
        progress.waiting(&format!("{}: finishing on the GPU", pop.name()));
        if let Some(stop) = stopped? {
            return Ok(Err(stop));
        }
        let n_targets = self
            .space
            .n_targets
            .unwrap_or_else(|| st.max_target.map_or(0, |t| t + 1));
        let tables = self.finish_tables(n_targets)?;
        Ok(Ok((
            tables,
            st.by_target_source,
            with_nsyns.then_some(st.nsyns),
        )))
    }

    /// Adds the host time since `started` to the upload time, less the readbacks (flushes) done
    /// meanwhile, which count as readback.
    fn book_upload(&mut self, started: Instant, readback_before: f64) {
        let flushes = self.stats.readback_s - readback_before;
        self.stats.upload_s += (started.elapsed().as_secs_f64() - flushes).max(0.0);
    }

    fn add_read(&mut self, read: ReadStats) {
        self.stats.read.seconds += read.seconds;
        self.stats.read.bytes += read.bytes;
    }

    fn sorted_chunk(&mut self, chunk: &Chunk, st: &mut SortedState) -> Result<ControlFlow<Stop>> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let slot = self
            .staging
            .acquire(ctx, 4 * sorted_staging_words(n) as u64)?;
        let src_bytes = (4 * n as u64).next_multiple_of(8);
        let scan = {
            let mut view = self.staging.view(slot, 0, 4 * n as u64)?;
            let cuts = parts(n, self.threads);
            let pieces = split_out(view.slice(..), &cuts);
            let prev = st.prev;
            let results: Vec<SortedPart> = cuts
                .par_iter()
                .zip(pieces)
                .map(|(&(a, b), out)| {
                    let (op, sp) = if a == 0 {
                        (prev, None)
                    } else {
                        (Some((targets[a - 1], sources[a - 1])), Some(targets[a - 1]))
                    };
                    scan_sorted_part(
                        &targets[a..b],
                        &sources[a..b],
                        a,
                        op,
                        sp,
                        out.into_write_only(),
                    )
                })
                .collect();
            results
        };
        if scan.iter().any(|p| p.unsorted) {
            return Ok(ControlFlow::Break(Stop::Unsorted));
        }
        // Sources already ascending within every segment (as in files sorted by target and
        // source): the GPU skips the sort.
        let presorted = scan.iter().all(|p| p.by_target_source);
        st.by_target_source &= presorted;
        st.prev = Some((targets[n - 1], sources[n - 1]));
        let last = targets[n - 1];
        if let Some(limit) = self.space.n_targets
            && last >= limit
        {
            let row = targets.partition_point(|&t| t < limit);
            return Err(cpu::target_beyond(
                &self.at,
                targets[row.min(n - 1)],
                chunk.first_edge + row as u64,
                self.space,
            ));
        }
        if let Some(i) = scan.iter().find_map(|p| p.wide_source) {
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "source node",
                sources[i],
                chunk.first_edge + i as u64,
            ))));
        }
        if last > u64::from(u32::MAX) {
            let row = targets.partition_point(|&t| t <= u64::from(u32::MAX));
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "target node",
                targets[row.min(n - 1)],
                chunk.first_edge + row as u64,
            ))));
        }
        st.max_target = Some(last);
        if let Some(ns) = &chunk.nsyns {
            for (&t, &k) in targets.iter().zip(ns) {
                let t = t as usize;
                if t >= st.nsyns.len() {
                    st.nsyns.resize(t + 1, 0);
                }
                st.nsyns[t] += k;
            }
        }
        let starts: Vec<u32> = scan.into_iter().flat_map(|p| p.starts).collect();
        let m = starts.len();
        let seg_targets: Vec<u32> = starts.iter().map(|&i| targets[i as usize] as u32).collect();
        let mut seg_offsets = starts;
        seg_offsets.push(n as u32);
        let layout = SegmentLayout::build(&seg_offsets);
        if let Some(why) = self.counters.ensure_targets(ctx, last as usize + 1)? {
            return Ok(ControlFlow::Break(Stop::Cpu(why)));
        }
        self.counters.before(ctx, n as u64, &mut self.stats)?;
        self.arena
            .make_room(ctx, n, m, &mut self.asm, &mut self.stats)?;
        self.batch.ensure(ctx, n, &layout)?;
        let tables = Self::table_words(&seg_offsets, &seg_targets, &layout);
        self.staging
            .view(slot, src_bytes, 4 * tables.len() as u64)?
            .copy_from_slice(bytemuck::cast_slice(&tables));
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sorted chunk"),
            });
        encoder.copy_buffer_to_buffer(
            self.staging.buffer(slot),
            0,
            self.batch.keys.buffer(),
            0,
            4 * n as u64,
        );
        self.copy_tables(&mut encoder, slot, src_bytes, m, &layout);
        let mut rec = Recorder::new(ctx);
        let counts = self
            .counters
            .targets
            .as_ref()
            .ok_or_else(|| unavailable("internal: no target counters"))?;
        target_counts::record(
            &mut rec,
            &TargetCountsParams {
                n: m as u32,
                mode: MODE_SEGMENTS,
                n_counts: self.counters.cap as u32,
                _pad: 0,
            },
            self.batch.seg_targets.buffer(),
            self.batch.seg_offsets.buffer(),
            counts,
        );
        connections::record(
            &mut rec,
            &self.batch,
            n as u32,
            &layout,
            &self.arena.arenas(&self.counters.bins),
            presorted,
        );
        self.stats.upload_bytes += 4 * (n + tables.len()) as u64;
        self.submit_batch(encoder, rec, Some(slot), &seg_targets, n)?;
        self.book_upload(started, readback_before);
        Ok(ControlFlow::Continue(()))
    }

    // -- unsorted ------------------------------------------------------------------------------

    #[allow(clippy::type_complexity)]
    fn unsorted_passes(
        &mut self,
        nsyns: Option<NsynsSource>,
        progress: &Progress,
    ) -> Result<std::result::Result<(Tables, Option<Vec<u64>>), Stop>> {
        let ctx = self.ctx;
        let pop = self.pop;
        progress.phase(
            &format!("{}: unsorted, counting in-degrees on the GPU", pop.name()),
            pop.size(),
        );
        let mut sc = ScatterBuffers {
            targets: GrowBuffer::new(ctx, "chunk targets", self.chunk_len)?,
            sources: GrowBuffer::new(ctx, "chunk sources", self.chunk_len)?,
            offsets: GrowBuffer::new(ctx, "partition offsets", 16)?,
            cursor: GrowBuffer::new(ctx, "partition cursor", 16)?,
        };
        let mut st = DegreeState {
            max_target: None,
            nsyns: Vec::new(),
        };
        let with_nsyns = nsyns.is_some();
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let stopped = for_each_chunk(pop, self.chunk_len, nsyns, &mut read, |chunk| {
            let r = self.degree_chunk(chunk, &mut st, &sc);
            progress.inc(chunk.targets.len() as u64);
            r
        });
        self.add_read(read);
        progress.waiting(&format!(
            "{}: finishing the in-degrees on the GPU",
            pop.name()
        ));
        if let Some(stop) = stopped? {
            return Ok(Err(stop));
        }
        // In-degrees, exactly (u64).
        self.counters.flush(ctx, &mut self.stats)?;
        let n_targets = self
            .space
            .n_targets
            .unwrap_or_else(|| st.max_target.map_or(0, |t| t + 1));
        let mut degrees = std::mem::take(&mut self.counters.host);
        degrees.resize(n_targets as usize, 0);
        let max_batch = ctx.max_batch_len();
        if let Some((t, &d)) = degrees
            .iter()
            .enumerate()
            .find(|&(_, &d)| d > max_batch as u64)
        {
            return Ok(Err(Stop::Cpu(format!(
                "target {t} has {d} synapses, more than one GPU batch holds ({max_batch}); the \
                 CPU engine counts this population"
            ))));
        }
        let budget = usize::try_from(self.options.memory_budget / 4).unwrap_or(usize::MAX);
        let parts = partitions(&degrees, budget.clamp(1, max_batch) as u64, max_batch);
        let parts: Vec<(usize, usize, u64)> = parts
            .into_iter()
            .filter(|&(_, _, edges)| edges > 0)
            .collect();
        self.stats.strategy = format!("unsorted, {} partitions", parts.len());
        for (k, &(t0, t1, edges)) in parts.iter().enumerate() {
            progress.phase(
                &format!(
                    "{}: unsorted, grouping partition {}/{} on the GPU",
                    pop.name(),
                    k + 1,
                    parts.len()
                ),
                pop.size(),
            );
            self.partition(t0, t1, edges as usize, &degrees, &mut sc, progress)?;
        }
        // The synapse counts are the in-degrees; the counters now only hold the histogram.
        let tables = self.finish_tables(n_targets)?;
        let tables = Tables {
            target_synapse_count: degrees,
            ..tables
        };
        Ok(Ok((tables, with_nsyns.then_some(st.nsyns))))
    }

    fn degree_chunk(
        &mut self,
        chunk: &Chunk,
        st: &mut DegreeState,
        sc: &ScatterBuffers,
    ) -> Result<ControlFlow<Stop>> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let limit = self.space.n_targets;
        let slot = self.staging.acquire(ctx, 4 * n as u64)?;
        let cuts = parts(n, self.threads);
        let scans: Vec<DegreePart> = {
            let mut view = self.staging.view(slot, 0, 4 * n as u64)?;
            let pieces = split_out(view.slice(..), &cuts);
            cuts.par_iter()
                .zip(pieces)
                .map(|(&(a, b), out)| {
                    let (ts, ss) = (&targets[a..b], &sources[a..b]);
                    let beyond = limit.and_then(|l| ts.iter().position(|&t| t >= l).map(|i| a + i));
                    let wide_target = ts
                        .iter()
                        .position(|&t| t > u64::from(u32::MAX))
                        .map(|i| a + i);
                    let wide_source = ss
                        .iter()
                        .position(|&s| s > u64::from(u32::MAX))
                        .map(|i| a + i);
                    write_u32s(ts, out.into_write_only());
                    DegreePart {
                        max_target: ts.iter().copied().max().unwrap_or(0),
                        beyond,
                        wide_target,
                        wide_source,
                    }
                })
                .collect()
        };
        if let Some(row) = scans.iter().find_map(|p| p.beyond) {
            return Err(cpu::target_beyond(
                &self.at,
                targets[row],
                chunk.first_edge + row as u64,
                self.space,
            ));
        }
        if let Some(i) = scans.iter().find_map(|p| p.wide_target) {
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "target node",
                targets[i],
                chunk.first_edge + i as u64,
            ))));
        }
        if let Some(i) = scans.iter().find_map(|p| p.wide_source) {
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "source node",
                sources[i],
                chunk.first_edge + i as u64,
            ))));
        }
        let max_t = scans.iter().map(|p| p.max_target).max().unwrap_or(0);
        st.max_target = Some(st.max_target.map_or(max_t, |m| m.max(max_t)));
        if let Some(ns) = &chunk.nsyns {
            for (&t, &k) in targets.iter().zip(ns) {
                let t = t as usize;
                if t >= st.nsyns.len() {
                    st.nsyns.resize(t + 1, 0);
                }
                st.nsyns[t] += k;
            }
        }
        let needed = limit.map_or(max_t + 1, |l| l.max(max_t + 1));
        if let Some(why) = self.counters.ensure_targets(ctx, needed as usize)? {
            return Ok(ControlFlow::Break(Stop::Cpu(why)));
        }
        self.counters.before(ctx, n as u64, &mut self.stats)?;
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("in-degrees"),
            });
        encoder.copy_buffer_to_buffer(
            self.staging.buffer(slot),
            0,
            sc.targets.buffer(),
            0,
            4 * n as u64,
        );
        let mut rec = Recorder::new(ctx);
        let counts = self
            .counters
            .targets
            .as_ref()
            .ok_or_else(|| unavailable("internal: no target counters"))?;
        target_counts::record(
            &mut rec,
            &TargetCountsParams {
                n: n as u32,
                mode: MODE_EDGES,
                n_counts: self.counters.cap as u32,
                _pad: 0,
            },
            sc.targets.buffer(),
            sc.targets.buffer(),
            counts,
        );
        let pair = self.timer.next(ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = ctx.queue.submit([encoder.finish()]);
        self.staging.submitted(slot, index);
        self.stats.batches += 1;
        self.stats.upload_bytes += 4 * n as u64;
        self.book_upload(started, readback_before);
        Ok(ControlFlow::Continue(()))
    }

    /// Pass 2 for targets `t0..t1` (`edges` edges): group their sources by target on the GPU,
    /// then sort and encode them.
    fn partition(
        &mut self,
        t0: usize,
        t1: usize,
        edges: usize,
        degrees: &[u64],
        sc: &mut ScatterBuffers,
        progress: &Progress,
    ) -> Result<()> {
        let ctx = self.ctx;
        let span = t1 - t0;
        let mut offsets = Vec::with_capacity(span);
        let mut seg_offsets = Vec::new();
        let mut seg_targets = Vec::new();
        let mut acc = 0u32;
        for (k, &d) in degrees[t0..t1].iter().enumerate() {
            offsets.push(acc);
            if d > 0 {
                seg_offsets.push(acc);
                seg_targets.push((t0 + k) as u32);
            }
            acc += d as u32;
        }
        seg_offsets.push(acc);
        let m = seg_targets.len();
        let layout = SegmentLayout::build(&seg_offsets);
        self.batch.ensure(ctx, edges, &layout)?;
        sc.offsets.ensure(ctx, span)?;
        sc.cursor.ensure(ctx, span)?;
        ctx.queue
            .write_buffer(sc.offsets.buffer(), 0, bytemuck::cast_slice(&offsets));
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.clear_buffer(sc.cursor.buffer(), 0, None);
        ctx.queue.submit([encoder.finish()]);
        let p = SourcesByTargetParams {
            n: 0,
            t0: t0 as u32,
            t1: t1 as u32,
            _pad: 0,
        };
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let pop = self.pop;
        let r = for_each_chunk::<()>(pop, self.chunk_len, None, &mut read, |chunk| {
            self.scatter_chunk(chunk, &p, sc)?;
            progress.inc(chunk.targets.len() as u64);
            Ok(ControlFlow::Continue(()))
        });
        self.add_read(read);
        progress.waiting(&format!("{}: sorting the partition on the GPU", pop.name()));
        r?;
        // The partition is one batch of segments, already in the batch's keys.
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        self.counters.before(ctx, edges as u64, &mut self.stats)?;
        self.arena
            .make_room(ctx, edges, m, &mut self.asm, &mut self.stats)?;
        let tables = Self::table_words(&seg_offsets, &seg_targets, &layout);
        let slot = self.staging.acquire(ctx, 4 * tables.len() as u64)?;
        self.staging
            .view(slot, 0, 4 * tables.len() as u64)?
            .copy_from_slice(bytemuck::cast_slice(&tables));
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("partition"),
            });
        self.copy_tables(&mut encoder, slot, 0, m, &layout);
        let mut rec = Recorder::new(ctx);
        connections::record(
            &mut rec,
            &self.batch,
            edges as u32,
            &layout,
            &self.arena.arenas(&self.counters.bins),
            false,
        );
        self.stats.upload_bytes += 4 * tables.len() as u64;
        self.submit_batch(encoder, rec, Some(slot), &seg_targets, edges)?;
        self.book_upload(started, readback_before);
        Ok(())
    }

    fn scatter_chunk(
        &mut self,
        chunk: &Chunk,
        p: &SourcesByTargetParams,
        sc: &ScatterBuffers,
    ) -> Result<()> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(());
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let half = (4 * n as u64).next_multiple_of(8);
        let slot = self.staging.acquire(ctx, 2 * half)?;
        let cuts = parts(n, self.threads);
        for (column, offset) in [(targets, 0), (sources, half)] {
            let mut view = self.staging.view(slot, offset, 4 * n as u64)?;
            let pieces = split_out(view.slice(..), &cuts);
            cuts.par_iter()
                .zip(pieces)
                .for_each(|(&(a, b), out)| write_u32s(&column[a..b], out.into_write_only()));
        }
        self.staging.buffer(slot).unmap();
        let staging = self.staging.buffer(slot);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("scatter"),
            });
        encoder.copy_buffer_to_buffer(staging, 0, sc.targets.buffer(), 0, 4 * n as u64);
        encoder.copy_buffer_to_buffer(staging, half, sc.sources.buffer(), 0, 4 * n as u64);
        let mut rec = Recorder::new(ctx);
        sources_by_target::record(
            &mut rec,
            &SourcesByTargetParams { n: n as u32, ..*p },
            sc.targets.buffer(),
            sc.sources.buffer(),
            sc.offsets.buffer(),
            sc.cursor.buffer(),
            self.batch.keys.buffer(),
        );
        let pair = self.timer.next(ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = ctx.queue.submit([encoder.finish()]);
        self.staging.submitted(slot, index);
        self.stats.batches += 1;
        self.stats.upload_bytes += 8 * n as u64;
        self.book_upload(started, readback_before);
        Ok(())
    }
}

struct SortedState {
    prev: Option<(u64, u64)>,
    by_target_source: bool,
    max_target: Option<u64>,
    nsyns: Vec<u64>,
}

struct DegreeState {
    max_target: Option<u64>,
    nsyns: Vec<u64>,
}

struct DegreePart {
    max_target: u64,
    beyond: Option<usize>,
    wide_target: Option<usize>,
    wide_source: Option<usize>,
}

/// Cuts targets into contiguous ranges `(t0, t1, edges)` of at most `budget` edges and at most
/// `max_span` targets (a heavier single target gets a range of its own), as the CPU engine
/// partitions.
fn partitions(degrees: &[u64], budget: u64, max_span: usize) -> Vec<(usize, usize, u64)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut sum = 0u64;
    for (t, &d) in degrees.iter().enumerate() {
        if (sum > 0 && sum + d > budget) || t - start >= max_span {
            parts.push((start, t, sum));
            start = t;
            sum = 0;
        }
        sum += d;
    }
    parts.push((start, degrees.len(), sum));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_chunk_cap_is_the_longest_chunk_that_fits() {
        for bytes in [4096u64, 65_536, 524_288, 1 << 20, 128 << 20] {
            let n = staging_chunk_cap(bytes);
            assert!(4 * sorted_staging_words(n) as u64 <= bytes, "{bytes}");
            assert!(4 * sorted_staging_words(n + 1) as u64 > bytes, "{bytes}");
        }
        // No overflow on adapters without a real limit.
        assert!(staging_chunk_cap(u64::MAX) >= 1 << 30);
    }

    #[test]
    fn merge_adds_equal_sources() {
        let a = [(1u32, 2u64), (4, 1), (9, 3)];
        let got = merge(&a, &[0, 4, 9, 10], &[5, 1, 1, 2]);
        assert_eq!(got, vec![(0, 5), (1, 2), (4, 2), (9, 4), (10, 2)]);
        assert_eq!(merge(&[], &[3], &[1]), vec![(3, 1)]);
        assert_eq!(merge(&a, &[], &[]), a.to_vec());
    }

    #[test]
    fn partitions_respect_budget_span_and_cover_all_targets() {
        assert_eq!(
            partitions(&[3, 3, 3, 3], 6, 100),
            vec![(0, 2, 6), (2, 4, 6)]
        );
        assert_eq!(partitions(&[10, 1, 1], 4, 100), vec![(0, 1, 10), (1, 3, 2)]);
        assert_eq!(partitions(&[0, 0, 0, 1], 4, 2), vec![(0, 2, 0), (2, 4, 1)]);
        assert_eq!(partitions(&[], 4, 2), vec![(0, 0, 0)]);
    }

    #[test]
    fn parts_cover_rows() {
        for n in [1usize, 5, 1 << 16, (1 << 18) + 3] {
            let p = parts(n, 4);
            assert_eq!(p.first().map(|x| x.0), Some(0));
            assert_eq!(p.last().map(|x| x.1), Some(n));
            assert!(p.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }

    #[test]
    fn sorted_scan_finds_segments_and_order() {
        let targets = [3u64, 3, 5, 5, 5, 9];
        let sources = [1u64, 0, 2, 2, 7, 1 << 33];
        let mut out = [0u8; 24];
        let r = scan_sorted_part(
            &targets,
            &sources,
            0,
            Some((3, 0)),
            None,
            WriteOnly::from_mut(&mut out[..]),
        );
        assert!(!r.unsorted);
        assert!(!r.by_target_source);
        assert_eq!(r.starts, vec![0, 2, 5]);
        assert_eq!(r.wide_source, Some(5));
        let words: Vec<u32> = out
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(words, vec![1, 0, 2, 2, 7, 0]);
        let r = scan_sorted_part(
            &targets,
            &sources,
            0,
            Some((4, 0)),
            None,
            WriteOnly::from_mut(&mut out[..]),
        );
        assert!(r.unsorted);
    }
}
