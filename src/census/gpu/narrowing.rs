//! Host-side narrowing of the GPU engine, in parallel parts: u64 ids become the u32 the kernels
//! take, several threads writing disjoint parts of a mapped staging buffer; for sorted input the
//! same scan finds the runs of equal targets (the segment table) and whether the order holds.
//! Sources of 2^32 and more go up as two words (the truncated low words, then the high words,
//! [`write_hi_words`]) for the wide kernels; a target that does not fit in 32 bits hands the
//! population to the CPU engine.

use super::*;

/// Cuts `n` rows into about `threads` parts of at least 64 Ki rows.
pub(super) fn parts(n: usize, threads: usize) -> Vec<(usize, usize)> {
    let k = threads.max(1).min(n.div_ceil(1 << 16)).max(1);
    (0..k).map(|p| (n * p / k, n * (p + 1) / k)).collect()
}

/// One thread's part of a mapped staging range.
///
/// `WriteOnly<'a, [u8]>` is in effect a `&'a mut [u8]` that may not be read, and would be `Send`
/// like one, but wgpu 30 implements `Send` for sized targets only. This carries the part to a
/// worker thread and gives the `WriteOnly` back there.
pub(super) struct StagingPart<'a> {
    pub(super) ptr: std::ptr::NonNull<[u8]>,
    pub(super) _life: std::marker::PhantomData<WriteOnly<'a, [u8]>>,
}

// SAFETY: a `StagingPart` is made only by `split_out` from a `WriteOnly<'a, [u8]>` (exclusive, valid
// for writes for 'a); the pieces of one call are disjoint, and each is turned back into a
// `WriteOnly` by exactly one thread. Sending exclusive write access to plain bytes is sound.
unsafe impl Send for StagingPart<'_> {}

impl<'a> StagingPart<'a> {
    pub(super) fn into_write_only(self) -> WriteOnly<'a, [u8]> {
        // SAFETY: `ptr` came from a `WriteOnly<'a, [u8]>` (see `split_out`) that was consumed,
        // so this is the only access to that memory for 'a.
        unsafe { WriteOnly::new(self.ptr) }
    }
}

/// Splits `out` (4 bytes per row) into the byte ranges of `parts`, one piece per thread.
pub(super) fn split_out<'a>(
    mut out: WriteOnly<'a, [u8]>,
    parts: &[(usize, usize)],
) -> Vec<StagingPart<'a>> {
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
        pieces.push(StagingPart {
            ptr: head.as_raw_ptr(),
            _life: std::marker::PhantomData,
        });
    }
    pieces
}

/// Writes `ids` as u32 (truncating: callers check the range, or send the high words too) into `out`, a block at a time
/// ([`crate::ids::narrow_into`]): staging memory may be write-combined, where whole-block copies
/// are much faster than scattered 4-byte stores.
pub(super) fn write_u32s(ids: &[u64], mut out: WriteOnly<'_, [u8]>) {
    const BLOCK: usize = 1024;
    let mut buf = [0u32; BLOCK];
    for (k, part) in ids.chunks(BLOCK).enumerate() {
        // Truncates every id, wide ones included: the wide path sends their high words apart.
        let _ = crate::ids::narrow_into(part, &mut buf);
        let at = k * BLOCK * 4;
        let bytes: &[u8] = bytemuck::cast_slice(&buf[..part.len()]);
        if let Some(mut dst) = out.slice(at..).split_off(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// Writes the high words of `ids` (`id >> 32`) into `out`, a block at a time (as
/// [`write_u32s`], whose truncation gives the low words).
pub(super) fn write_hi_words(ids: &[u64], mut out: WriteOnly<'_, [u8]>) {
    const BLOCK: usize = 1024;
    let mut buf = [0u32; BLOCK];
    for (k, part) in ids.chunks(BLOCK).enumerate() {
        for (o, &id) in buf.iter_mut().zip(part) {
            *o = (id >> 32) as u32;
        }
        let at = k * BLOCK * 4;
        let bytes: &[u8] = bytemuck::cast_slice(&buf[..part.len()]);
        if let Some(mut dst) = out.slice(at..).split_off(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// Writes `column` into slot `slot` of `staging` at byte `offset` in parallel parts (`cuts`):
/// the low words (truncated), or the high words with `hi`.
pub(super) fn write_words(
    staging: &Staging,
    slot: usize,
    offset: u64,
    column: &[u64],
    cuts: &[(usize, usize)],
    hi: bool,
) -> Result<()> {
    let mut view = staging.view(slot, offset, 4 * column.len() as u64)?;
    let pieces = split_out(view.slice(..), cuts);
    cuts.par_iter().zip(pieces).for_each(|(&(a, b), out)| {
        if hi {
            write_hi_words(&column[a..b], out.into_write_only());
        } else {
            write_u32s(&column[a..b], out.into_write_only());
        }
    });
    Ok(())
}

/// What one part of a sorted chunk showed.
#[derive(Default)]
pub(super) struct SortedPart {
    pub(super) unsorted: bool,
    pub(super) by_target_source: bool,
    /// Rows (chunk-relative) where a segment starts.
    pub(super) starts: Vec<u32>,
    /// First row with a source id beyond u32.
    pub(super) wide_source: Option<usize>,
}

/// Scans rows `a..b` of a chunk sorted by target (so far): order, segment starts, narrowed
/// sources into `out`. `order_prev` is the row before `a` (or the previous chunk's last row),
/// `seg_prev` the target before `a` within the chunk.
pub(super) fn scan_sorted_part(
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
