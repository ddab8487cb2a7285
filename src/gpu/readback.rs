//! Every `map_async` and `device.poll` of the engine lives here (wgpu changes its polling API
//! between versions; this keeps an upgrade to one file): waiting for the GPU, mapping staging
//! buffers for writing again, and reading results back.
//!
//! Results come back through one kept `MAP_READ` buffer. [`Readback::read_tables`] reads several
//! ranges (the tables of a census: connection arenas, counters) with one copy each into that
//! buffer, one submit and one mapping, and lets the caller consume the mapped words in place:
//! no round trip per piece and no host copy. Mapping is not a binding, so the 128 MiB storage
//! binding limit of lavapipe does not apply; only `max_buffer_size` bounds one transfer, and
//! larger reads (never met by the engine's arenas) fall back to [`Readback::read_u32s`]'s pieces.

use std::sync::mpsc;

use super::GpuContext;
use crate::error::{Error, Result};

/// Bytes copied back per round trip.
const READBACK_PIECE: u64 = 64 << 20;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::BackendUnavailable {
        backend: "gpu".into(),
        reason: format!("{what}: {e}"),
    }
}

/// Waits until the GPU has finished all submitted work, then reports device errors.
///
/// # Errors
/// [`Error::BackendUnavailable`] when the device is lost or reported an error.
pub(crate) fn wait_idle(ctx: &GpuContext) -> Result<()> {
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| failed("waiting for the GPU", e))?;
    ctx.check()
}

/// A pending `map_async` of a buffer last used by submission `index`.
#[derive(Debug)]
pub(crate) struct MapWait {
    rx: mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
    index: wgpu::SubmissionIndex,
}

/// Starts mapping all of `buffer` for writing (a staging buffer whose copy was submitted as
/// `index`).
pub(crate) fn map_for_write(buffer: &wgpu::Buffer, index: wgpu::SubmissionIndex) -> MapWait {
    let (tx, rx) = mpsc::channel();
    buffer.map_async(wgpu::MapMode::Write, .., move |r| {
        let _ = tx.send(r);
    });
    MapWait { rx, index }
}

/// Waits for a mapping started by [`map_for_write`].
///
/// # Errors
/// [`Error::BackendUnavailable`] when the mapping fails or the device reports an error.
pub(crate) fn wait_mapped(ctx: &GpuContext, wait: MapWait) -> Result<()> {
    let result = match wait.rx.try_recv() {
        Ok(r) => r,
        Err(_) => {
            // Wait only for the submission that used the buffer, so that later work keeps the
            // GPU busy while the host fills it again.
            ctx.device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(wait.index),
                    timeout: None,
                })
                .map_err(|e| failed("waiting for a staging buffer", e))?;
            wait.rx
                .recv()
                .map_err(|e| failed("waiting for a staging buffer", e))?
        }
    };
    result.map_err(|e| failed("mapping a staging buffer", e))?;
    ctx.check()
}

/// Reads `count` u32 starting at word `first` of `src` (which must have `COPY_SRC`), through a
/// readback buffer made for this call (tests and one-off reads; the engine keeps a [`Readback`]).
///
/// # Errors
/// [`Error::BackendUnavailable`] when the copy or the mapping fails.
pub(crate) fn read_u32s(
    ctx: &GpuContext,
    src: &wgpu::Buffer,
    first: u64,
    count: usize,
) -> Result<Vec<u32>> {
    Readback::default().read_u32s(ctx, src, first, count)
}

/// Uploads each of `data` to a buffer of its own and reads `(first, count)` of each back in one
/// [`Readback::read_tables`] transfer (`pieces: false`) or with [`Readback::read_u32s`]'s
/// pieces, one round trip per table and piece (`pieces: true`): the two readback paths of the
/// engine, for tests and measurements.
///
/// # Errors
/// [`Error::BackendUnavailable`] when the copy or the mapping fails; a range beyond its data.
pub fn read_back_copies(
    ctx: &GpuContext,
    data: &[&[u32]],
    ranges: &[(u64, usize)],
    pieces: bool,
) -> Result<Vec<Vec<u32>>> {
    let buffers: Vec<wgpu::Buffer> = data.iter().map(|d| ctx.storage_with("data", d)).collect();
    let mut spans = Vec::with_capacity(ranges.len());
    for ((buffer, d), &(first, count)) in buffers.iter().zip(data).zip(ranges) {
        if first as usize + count > d.len() {
            return Err(failed(
                "reading results back",
                format!("{first} + {count} words of {}", d.len()),
            ));
        }
        spans.push(Span {
            src: buffer,
            first,
            count,
        });
    }
    let mut rb = Readback::default();
    if pieces {
        return spans
            .iter()
            .map(|s| rb.read_u32s(ctx, s.src, s.first, s.count))
            .collect();
    }
    rb.read_tables(ctx, &spans, |words| {
        Ok(words.iter().map(|w| w.to_vec()).collect())
    })
}

/// A `MAP_READ` buffer kept for many reads: a fresh host-visible allocation per read costs more
/// than the copy (the driver pins and the host faults in every page).
#[derive(Debug, Default)]
pub(crate) struct Readback {
    buffer: Option<wgpu::Buffer>,
}

/// `count` u32 starting at word `first` of `src` (which must have `COPY_SRC`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span<'a> {
    pub(crate) src: &'a wgpu::Buffer,
    pub(crate) first: u64,
    pub(crate) count: usize,
}

impl Readback {
    /// The kept buffer, grown (by half again at least, so that growing reads do not make a new
    /// one each time) to hold `bytes`.
    fn buffer_for(&mut self, ctx: &GpuContext, bytes: u64, limit: u64) -> wgpu::Buffer {
        match &self.buffer {
            Some(b) if b.size() >= bytes => b.clone(),
            old => {
                let grown = old.as_ref().map_or(0, |b| b.size() + b.size() / 2);
                let b = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: bytes.max(grown.min(limit)).next_multiple_of(8),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                self.buffer = Some(b.clone());
                b
            }
        }
    }

    /// Reads every span with one copy each into the kept buffer, one submit and one mapping, and
    /// hands `consume` the words of each span, in order, straight from the mapping (copied only
    /// when the mapping is not 4-byte aligned). Spans larger in all than one buffer may be read
    /// in pieces instead ([`Readback::read_u32s`]).
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when the copy or the mapping fails; `consume`'s errors.
    pub(crate) fn read_tables<R>(
        &mut self,
        ctx: &GpuContext,
        spans: &[Span<'_>],
        consume: impl FnOnce(&[&[u32]]) -> Result<R>,
    ) -> Result<R> {
        let total: u64 = spans.iter().map(|s| 4 * s.count as u64).sum();
        if total == 0 {
            let empty: Vec<&[u32]> = spans.iter().map(|_| &[][..]).collect();
            return consume(&empty);
        }
        ctx.reach(super::Stage::Readback)?;
        let limit = (ctx.limits.max_buffer_size / 8 * 8).max(8);
        if total > limit {
            let owned = spans
                .iter()
                .map(|s| self.read_u32s(ctx, s.src, s.first, s.count))
                .collect::<Result<Vec<_>>>()?;
            let words: Vec<&[u32]> = owned.iter().map(Vec::as_slice).collect();
            return consume(&words);
        }
        let staging = self.buffer_for(ctx, total, limit);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        let mut at = 0u64;
        for s in spans.iter().filter(|s| s.count > 0) {
            let len = 4 * s.count as u64;
            encoder.copy_buffer_to_buffer(s.src, 4 * s.first, &staging, at, len);
            at += len;
        }
        ctx.queue.submit([encoder.finish()]);
        let (tx, rx) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, 0..total, move |r| {
            let _ = tx.send(r);
        });
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| failed("reading results back", e))?;
        rx.recv()
            .map_err(|e| failed("reading results back", e))?
            .map_err(|e| failed("mapping results", e))?;
        ctx.check()?;
        let result = {
            let view = staging
                .get_mapped_range(0..total)
                .map_err(|e| failed("mapping results", e))?;
            let copied: Vec<u32>;
            let all: &[u32] = match bytemuck::try_cast_slice::<u8, u32>(&view) {
                Ok(words) => words,
                Err(_) => {
                    copied = view
                        .chunks_exact(4)
                        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    &copied
                }
            };
            let mut rest = all;
            let mut words = Vec::with_capacity(spans.len());
            for s in spans {
                let (head, tail) = rest.split_at(s.count.min(rest.len()));
                words.push(head);
                rest = tail;
            }
            consume(&words)
        };
        staging.unmap();
        result
    }

    /// Reads `count` u32 starting at word `first` of `src` (which must have `COPY_SRC`).
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when the copy or the mapping fails.
    pub(crate) fn read_u32s(
        &mut self,
        ctx: &GpuContext,
        src: &wgpu::Buffer,
        first: u64,
        count: usize,
    ) -> Result<Vec<u32>> {
        let mut out: Vec<u32> = Vec::with_capacity(count);
        let total = count as u64 * 4;
        if total == 0 {
            return Ok(out);
        }
        ctx.reach(super::Stage::Readback)?;
        // At most one buffer of the planned limit (`SONATA_CENSUS_GPU_MEMORY_LIMIT`), in whole
        // map-aligned pieces.
        let piece_limit = (ctx.limits.max_buffer_size / 8 * 8).max(8);
        let want = total.min(READBACK_PIECE).min(piece_limit);
        let staging = match &self.buffer {
            Some(b) if b.size() >= want => b.clone(),
            _ => {
                let b = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: want.max(self.buffer.as_ref().map_or(0, |b| b.size())),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                self.buffer = Some(b.clone());
                b
            }
        };
        let piece = staging.size().min(READBACK_PIECE).min(piece_limit);
        let mut done = 0u64;
        while done < total {
            let len = piece.min(total - done);
            let mut encoder = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("readback"),
                });
            encoder.copy_buffer_to_buffer(src, first * 4 + done, &staging, 0, len);
            ctx.queue.submit([encoder.finish()]);
            let (tx, rx) = mpsc::channel();
            staging.map_async(wgpu::MapMode::Read, 0..len, move |r| {
                let _ = tx.send(r);
            });
            ctx.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| failed("reading results back", e))?;
            rx.recv()
                .map_err(|e| failed("reading results back", e))?
                .map_err(|e| failed("mapping results", e))?;
            {
                let view = staging
                    .get_mapped_range(0..len)
                    .map_err(|e| failed("mapping results", e))?;
                match bytemuck::try_cast_slice::<u8, u32>(&view) {
                    Ok(words) => out.extend_from_slice(words),
                    Err(_) => out.extend(
                        view.chunks_exact(4)
                            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
                    ),
                }
            }
            staging.unmap();
            done += len;
        }
        ctx.check()?;
        Ok(out)
    }
}
