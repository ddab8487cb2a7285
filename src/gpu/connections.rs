//! The per-batch pipeline (the GPU side of [`crate::kernels::cpu::connections`]): sort every
//! segment's sources (`segment_sort`, `segment_merge`), run-length encode them into connections
//! (`connection_counts` with `prefix_sum`), and count them into the synapses-per-connection
//! histogram (`synapses_per_connection`), appending to resident arenas. With a high-word arena
//! ([`Arenas::conn_src_hi`]) the batch's sources are pairs of u32 words (`keys`, `keys_hi`) and
//! the `_wide` kernels sort and encode them (sources of 2^32 and more, without `SHADER_INT64`).

use super::{GpuContext, GrowBuffer, Prepared, Recorder, prefix_sum, readback};
use super::{connection_counts, segment_merge, segment_sort, synapses_per_connection};
use super::{connection_counts_wide, segment_merge_wide, segment_sort_wide};
use crate::error::Result;
use crate::kernels::layout::{SegmentLayout, SortStep};
use crate::kernels::params::{
    ConnectionCountsParams, HIST_BINS, SCAN_BLOCK, SynapsesPerConnectionParams,
};
use crate::kernels::{BatchConnections, WideBatchConnections};

/// The device buffers of one batch; they grow as batches need.
#[derive(Debug)]
pub(crate) struct BatchBuffers {
    /// Sources grouped by segment (sorted in place); their low words in a wide batch.
    pub(crate) keys: GrowBuffer,
    /// High words of the sources of a wide batch (grown by [`BatchBuffers::ensure_wide`] only).
    pub(crate) keys_hi: GrowBuffer,
    /// `m + 1` segment boundaries.
    pub(crate) seg_offsets: GrowBuffer,
    /// Target of each segment.
    pub(crate) seg_targets: GrowBuffer,
    /// [`SegmentLayout::blocks`].
    pub(crate) blocks: GrowBuffer,
    /// [`SegmentLayout::long_segs`].
    pub(crate) long_segs: GrowBuffer,
    block_heads: GrowBuffer,
    levels: Vec<GrowBuffer>,
    head_idx: GrowBuffer,
    seg_first: GrowBuffer,
}

impl BatchBuffers {
    pub(crate) fn new(ctx: &GpuContext, n: usize, m: usize) -> Result<Self> {
        Ok(BatchBuffers {
            keys: GrowBuffer::new(ctx, "keys", n)?,
            keys_hi: GrowBuffer::new(ctx, "keys_hi", 16)?,
            seg_offsets: GrowBuffer::new(ctx, "seg_offsets", m + 1)?,
            seg_targets: GrowBuffer::new(ctx, "seg_targets", m)?,
            blocks: GrowBuffer::new(ctx, "blocks", 16)?,
            long_segs: GrowBuffer::new(ctx, "long_segs", 16)?,
            block_heads: GrowBuffer::new(ctx, "block_heads", 16)?,
            levels: Vec::new(),
            head_idx: GrowBuffer::new(ctx, "head_idx", n)?,
            seg_first: GrowBuffer::new(ctx, "seg_first", m)?,
        })
    }

    /// Makes room for a batch of `n` elements laid out as `layout`.
    pub(crate) fn ensure(
        &mut self,
        ctx: &GpuContext,
        n: usize,
        layout: &SegmentLayout,
    ) -> Result<()> {
        let m = layout.m as usize;
        self.keys.ensure(ctx, n)?;
        self.seg_offsets.ensure(ctx, m + 1)?;
        self.seg_targets.ensure(ctx, m)?;
        self.blocks.ensure(ctx, 2 * layout.blocks.len())?;
        self.long_segs.ensure(ctx, 4 * layout.long_segs.len())?;
        let blocks = n.div_ceil(SCAN_BLOCK as usize);
        self.block_heads.ensure(ctx, blocks)?;
        let sizes = prefix_sum::scan_levels(blocks);
        for (i, &len) in sizes.iter().enumerate() {
            match self.levels.get_mut(i) {
                Some(level) => level.ensure(ctx, len)?,
                None => self.levels.push(GrowBuffer::new(ctx, "scan level", len)?),
            }
        }
        self.head_idx.ensure(ctx, n)?;
        self.seg_first.ensure(ctx, m)?;
        Ok(())
    }

    /// Makes room for the high words of a wide batch of `n` elements.
    pub(crate) fn ensure_wide(&mut self, ctx: &GpuContext, n: usize) -> Result<()> {
        self.keys_hi.ensure(ctx, n)
    }
}

/// Where a batch's results go (resident across batches).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arenas<'a> {
    /// `[connections already in conn_src / conn_count]`.
    pub(crate) state: &'a wgpu::Buffer,
    pub(crate) conn_src: &'a wgpu::Buffer,
    pub(crate) conn_count: &'a wgpu::Buffer,
    pub(crate) seg_conn: &'a wgpu::Buffer,
    /// Where this batch's per-segment counts go in `seg_conn`.
    pub(crate) seg_base: u32,
    /// The synapses-per-connection histogram ([`HIST_BINS`] bins), when wanted.
    pub(crate) bins: Option<&'a wgpu::Buffer>,
    /// High words of the connections' sources: present for wide batches, whose sources are
    /// pairs of words (`keys`, `keys_hi`).
    pub(crate) conn_src_hi: Option<&'a wgpu::Buffer>,
}

/// Records the pipeline for a batch of `n >= 1` elements whose keys, segment table, blocks and
/// long segments are in `bufs`. With `presorted`, the host saw every segment's sources already
/// ascending and the sort is skipped. With `out.conn_src_hi`, the sources are pairs of words
/// (`bufs.keys`, `bufs.keys_hi`) and the wide kernels sort and encode them.
pub(crate) fn record(
    rec: &mut Recorder<'_>,
    bufs: &BatchBuffers,
    n: u32,
    layout: &SegmentLayout,
    out: &Arenas<'_>,
    presorted: bool,
) {
    let keys = bufs.keys.buffer();
    let seg_offsets = bufs.seg_offsets.buffer();
    let steps = if presorted {
        Vec::new()
    } else {
        layout.sort_steps()
    };
    let keys_hi = bufs.keys_hi.buffer();
    let wide = out.conn_src_hi;
    for step in steps {
        match (step, wide) {
            (SortStep::Sort(p), None) => {
                segment_sort::record(rec, &p, bufs.blocks.buffer(), seg_offsets, keys)
            }
            (SortStep::Merge(p), None) => {
                segment_merge::record(rec, &p, bufs.long_segs.buffer(), keys)
            }
            (SortStep::Sort(p), Some(_)) => segment_sort_wide::record(
                rec,
                &p,
                bufs.blocks.buffer(),
                seg_offsets,
                [keys, keys_hi],
            ),
            (SortStep::Merge(p), Some(_)) => {
                segment_merge_wide::record(rec, &p, bufs.long_segs.buffer(), [keys, keys_hi])
            }
        }
    }
    let p = ConnectionCountsParams {
        n,
        m: layout.m,
        seg_base: out.seg_base,
        _pad: 0,
    };
    let block_heads = bufs.block_heads.buffer();
    match wide {
        None => connection_counts::record_count_heads(rec, &p, [keys, seg_offsets, block_heads]),
        Some(_) => connection_counts_wide::record_count_heads(
            rec,
            &p,
            [keys, seg_offsets, block_heads, keys_hi],
        ),
    }
    let top = prefix_sum::record_scan(rec, block_heads, n.div_ceil(SCAN_BLOCK), &bufs.levels, 0);
    let Some(total) = bufs.levels.get(top).map(GrowBuffer::buffer) else {
        return;
    };
    let (head_idx, seg_first) = (bufs.head_idx.buffer(), bufs.seg_first.buffer());
    match wide {
        None => connection_counts::record_scatter_heads(
            rec,
            &p,
            [
                keys,
                seg_offsets,
                block_heads,
                out.state,
                out.conn_src,
                head_idx,
                seg_first,
            ],
        ),
        Some(conn_src_hi) => connection_counts_wide::record_scatter_heads(
            rec,
            &p,
            [
                keys,
                seg_offsets,
                block_heads,
                out.state,
                out.conn_src,
                head_idx,
                seg_first,
                keys_hi,
                conn_src_hi,
            ],
        ),
    }
    connection_counts::record_finish(
        rec,
        &p,
        [
            out.state,
            total,
            out.conn_count,
            head_idx,
            seg_first,
            out.seg_conn,
        ],
    );
    if let Some(bins) = out.bins {
        let hp = SynapsesPerConnectionParams {
            n_bins: HIST_BINS,
            _pad: [0; 3],
        };
        synapses_per_connection::record(rec, &hp, n, [out.state, total, out.conn_count, bins]);
    }
    connection_counts::record_advance(rec, &p, [out.state, total]);
}

/// Lays out the segments of one batch and uploads its keys, offsets and layout tables.
fn upload_batch(
    ctx: &GpuContext,
    keys: &[u32],
    seg_offsets: &[u32],
) -> Result<(SegmentLayout, BatchBuffers)> {
    let n = keys.len();
    let layout = SegmentLayout::build(seg_offsets);
    let mut bufs = BatchBuffers::new(ctx, n, layout.m as usize)?;
    bufs.ensure(ctx, n, &layout)?;
    let q = &ctx.queue;
    // Offsets of an empty batch are not uploaded (a lone 0).
    let offsets: &[u32] = if n > 0 { seg_offsets } else { &[] };
    let uploads: [(&wgpu::Buffer, &[u8]); 4] = [
        (bufs.keys.buffer(), bytemuck::cast_slice(keys)),
        (bufs.seg_offsets.buffer(), bytemuck::cast_slice(offsets)),
        (bufs.blocks.buffer(), bytemuck::cast_slice(&layout.blocks)),
        (
            bufs.long_segs.buffer(),
            bytemuck::cast_slice(&layout.long_segs),
        ),
    ];
    for (buffer, bytes) in uploads {
        if !bytes.is_empty() {
            q.write_buffer(buffer, 0, bytes);
        }
    }
    Ok((layout, bufs))
}

/// Runs the whole pipeline on one batch (`keys` grouped by the segments of `seg_offsets`) and
/// returns its connections and the sorted keys: the GPU side of
/// [`crate::kernels::cpu::connections`].
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error.
pub fn run(
    ctx: &GpuContext,
    keys: &[u32],
    seg_offsets: &[u32],
) -> Result<(BatchConnections, Vec<u32>)> {
    let n = keys.len();
    if n == 0 {
        return Ok((BatchConnections::default(), Vec::new()));
    }
    let (layout, bufs) = upload_batch(ctx, keys, seg_offsets)?;
    let m = layout.m as usize;
    let state = ctx.storage_with("state", &[0]);
    let conn_src = GrowBuffer::new(ctx, "conn_src", n)?;
    let conn_count = GrowBuffer::new(ctx, "conn_count", n)?;
    let seg_conn = GrowBuffer::new(ctx, "seg_conn", m)?;
    let mut rec = Recorder::new(ctx);
    record(
        &mut rec,
        &bufs,
        n as u32,
        &layout,
        &Arenas {
            state: &state,
            conn_src: conn_src.buffer(),
            conn_count: conn_count.buffer(),
            seg_conn: seg_conn.buffer(),
            seg_base: 0,
            bins: None,
            conn_src_hi: None,
        },
        false,
    );
    rec.submit_and_wait()?;
    let total = readback::read_u32s(ctx, &state, 0, 1)?
        .first()
        .copied()
        .unwrap_or(0) as usize;
    let out = BatchConnections {
        sources: readback::read_u32s(ctx, conn_src.buffer(), 0, total)?,
        counts: readback::read_u32s(ctx, conn_count.buffer(), 0, total)?,
        per_segment: readback::read_u32s(ctx, seg_conn.buffer(), 0, m)?,
    };
    let sorted = readback::read_u32s(ctx, bufs.keys.buffer(), 0, n)?;
    Ok((out, sorted))
}

/// [`run`] for sources wider than 32 bits: the batch's u64 sources go up as low and high words
/// and the wide kernels sort and encode them; returns the connections and the sorted keys (the
/// GPU side of [`crate::kernels::cpu::connections_wide`]).
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] on a device error, or when the adapter has no wide
/// kernels.
pub fn run_wide(
    ctx: &GpuContext,
    keys: &[u64],
    seg_offsets: &[u32],
) -> Result<(WideBatchConnections, Vec<u64>)> {
    let n = keys.len();
    if n == 0 {
        return Ok((WideBatchConnections::default(), Vec::new()));
    }
    let lo: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
    let hi: Vec<u32> = keys.iter().map(|&k| (k >> 32) as u32).collect();
    let (layout, mut bufs) = upload_batch(ctx, &lo, seg_offsets)?;
    bufs.ensure_wide(ctx, n)?;
    ctx.queue
        .write_buffer(bufs.keys_hi.buffer(), 0, bytemuck::cast_slice(&hi));
    let m = layout.m as usize;
    let state = ctx.storage_with("state", &[0]);
    let conn_src = GrowBuffer::new(ctx, "conn_src", n)?;
    let conn_src_hi = GrowBuffer::new(ctx, "conn_src_hi", n)?;
    let conn_count = GrowBuffer::new(ctx, "conn_count", n)?;
    let seg_conn = GrowBuffer::new(ctx, "seg_conn", m)?;
    let mut rec = Recorder::new(ctx);
    record(
        &mut rec,
        &bufs,
        n as u32,
        &layout,
        &Arenas {
            state: &state,
            conn_src: conn_src.buffer(),
            conn_count: conn_count.buffer(),
            seg_conn: seg_conn.buffer(),
            seg_base: 0,
            bins: None,
            conn_src_hi: Some(conn_src_hi.buffer()),
        },
        false,
    );
    rec.submit_and_wait()?;
    let total = readback::read_u32s(ctx, &state, 0, 1)?
        .first()
        .copied()
        .unwrap_or(0) as usize;
    let join = |lo: Vec<u32>, hi: Vec<u32>| -> Vec<u64> {
        lo.iter()
            .zip(&hi)
            .map(|(&l, &h)| u64::from(h) << 32 | u64::from(l))
            .collect()
    };
    let out = WideBatchConnections {
        sources: join(
            readback::read_u32s(ctx, conn_src.buffer(), 0, total)?,
            readback::read_u32s(ctx, conn_src_hi.buffer(), 0, total)?,
        ),
        counts: readback::read_u32s(ctx, conn_count.buffer(), 0, total)?,
        per_segment: readback::read_u32s(ctx, seg_conn.buffer(), 0, m)?,
    };
    let sorted = join(
        readback::read_u32s(ctx, bufs.keys.buffer(), 0, n)?,
        readback::read_u32s(ctx, bufs.keys_hi.buffer(), 0, n)?,
    );
    Ok((out, sorted))
}

/// The whole per-batch pipeline (sort, encode, histogram) on resident copies, for benchmarks;
/// each run sorts the already sorted keys again (the network does the same work) and starts
/// with empty arenas.
///
/// # Errors
/// [`crate::Error::BackendUnavailable`] when the buffers cannot be made.
pub fn prepare<'c>(ctx: &'c GpuContext, keys: &[u32], seg_offsets: &[u32]) -> Result<Prepared<'c>> {
    let n = keys.len();
    let (layout, bufs) = upload_batch(ctx, keys, seg_offsets)?;
    let m = layout.m as usize;
    let state = ctx.storage_with("state", &[0]);
    let conn_src = GrowBuffer::new(ctx, "conn_src", n)?;
    let conn_count = GrowBuffer::new(ctx, "conn_count", n)?;
    let seg_conn = GrowBuffer::new(ctx, "seg_conn", m)?;
    let bins = ctx.storage_with("bins", &vec![0; HIST_BINS as usize]);
    let mut rec = Recorder::new(ctx);
    if n > 0 {
        record(
            &mut rec,
            &bufs,
            n as u32,
            &layout,
            &Arenas {
                state: &state,
                conn_src: conn_src.buffer(),
                conn_count: conn_count.buffer(),
                seg_conn: seg_conn.buffer(),
                seg_base: 0,
                bins: Some(&bins),
                conn_src_hi: None,
            },
            false,
        );
    }
    // `bufs` may be dropped: the recorded steps hold their buffers.
    Ok(Prepared::from_recorder(rec, n as u64).clearing(&[&state, &bins]))
}
