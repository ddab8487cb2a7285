//! The staging ring of the GPU engine: two `MAP_WRITE | COPY_SRC` buffers that alternate, one
//! being filled by the host (narrowing, [`super::narrowing`]) while the GPU copies the other into
//! its device buffers; a slot is mapped again only once the GPU is done with it.

use super::*;

pub(super) struct Slot {
    pub(super) buffer: wgpu::Buffer,
    pub(super) bytes: u64,
    pub(super) wait: Option<MapWait>,
}

/// Two `MAP_WRITE | COPY_SRC` buffers used in turn: one is filled while the GPU copies from the
/// other.
pub(super) struct Staging {
    pub(super) slots: Vec<Slot>,
    pub(super) next: usize,
    /// Seconds spent waiting for the GPU to release a slot.
    pub(super) waited_s: f64,
}

pub(super) fn staging_buffer(ctx: &GpuContext, bytes: u64) -> Result<wgpu::Buffer> {
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
    pub(super) fn new(ctx: &GpuContext, bytes: u64) -> Result<Self> {
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
    pub(super) fn acquire(&mut self, ctx: &GpuContext, bytes: u64) -> Result<usize> {
        let i = self.next;
        self.next = (i + 1) % self.slots.len();
        let slot = &mut self.slots[i];
        if let Some(w) = slot.wait.take() {
            let started = Instant::now();
            readback::wait_mapped(ctx, w)?;
            self.waited_s += started.elapsed().as_secs_f64();
        }
        ctx.reach(crate::gpu::Stage::Upload)?;
        if slot.bytes < bytes {
            let grown = bytes.max(slot.bytes + slot.bytes / 2).next_multiple_of(8);
            slot.buffer = staging_buffer(ctx, grown)?;
            slot.bytes = grown;
        }
        Ok(i)
    }

    /// Makes mapped slot `i` at least `bytes` long, replacing its buffer (contents lost) when it
    /// is shorter; returns whether it was replaced. For a chunk that turns out to need more room
    /// than it was acquired with (the first chunk with sources of 2^32 and more).
    pub(super) fn regrow(&mut self, ctx: &GpuContext, i: usize, bytes: u64) -> Result<bool> {
        let slot = &mut self.slots[i];
        if slot.bytes >= bytes {
            return Ok(false);
        }
        let grown = bytes.max(slot.bytes + slot.bytes / 2).next_multiple_of(8);
        slot.buffer = staging_buffer(ctx, grown)?;
        slot.bytes = grown;
        Ok(true)
    }

    /// A write view of `len` bytes at `offset` (8-aligned) of slot `i`.
    pub(super) fn view(&self, i: usize, offset: u64, len: u64) -> Result<wgpu::BufferViewMut> {
        self.slots[i]
            .buffer
            .get_mapped_range_mut(offset..offset + len)
            .map_err(|e| unavailable(format!("staging buffer: {e}")))
    }

    pub(super) fn buffer(&self, i: usize) -> &wgpu::Buffer {
        &self.slots[i].buffer
    }

    /// Slot `i` was submitted as `index`: map it again for its next use.
    pub(super) fn submitted(&mut self, i: usize, index: wgpu::SubmissionIndex) {
        let w = readback::map_for_write(&self.slots[i].buffer, index);
        self.slots[i].wait = Some(w);
    }
}
