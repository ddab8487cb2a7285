//! Where the partition's keys live: per worker, one region of an anonymous mapping per bucket
//! (huge pages where the kernel allows), a growing vector for what overflows a region, and a
//! staging line per bucket that is written to them a whole line at a time.
//!
//! Why one mapping and not a vector per bucket: the keys are the largest memory a shuffled
//! census writes (4 bytes per edge), and every page of them was a fresh page fault, 45 % of the
//! census's 21.7k faults at 1e7 edges. On the 2-core AMD EPYC VM of 2026-12-04 a fault cost
//! about 5 µs of system time, and system time was a third of the census. A bucket's vector (tens
//! of KiB) is too small for a huge page; one mapping of every bucket's room is not, and the
//! kernel then backs it with 2 MiB pages (`MADV_HUGEPAGE`: 512 times fewer faults, the same
//! zeroing). Regions are released as the buckets are counted ([`BucketSet::release_below`]), in
//! target order, so the keys still shrink while the connection table grows.

use std::sync::Arc;

use memmap2::{MmapMut, UncheckedAdvice};

use super::PairKey;

use crate::census::huge_pages::HUGE_PAGE;

/// A cache line of keys: 16 packed keys or 8 pairs, aligned so that it fills one line.
#[derive(Clone, Copy, Default, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C, align(64))]
pub(in crate::census::cpu) struct Line {
    words: [u64; 8],
}

impl Line {
    fn keys_mut<K: PairKey>(&mut self) -> &mut [K] {
        bytemuck::cast_slice_mut(&mut self.words)
    }
}

/// The regions of every bucket of one worker: bucket `b`'s `room` lines start at line
/// `first + b * room` of the mapping (`first` skips to a huge-page boundary). Written while
/// the worker partitions, then shared by the buckets' [`KeyLines`] while they are counted.
struct Arena {
    writing: Option<MmapMut>,
    shared: Option<Arc<MmapMut>>,
    first: usize,
    room: usize,
    /// Lines below this one (counted from `first`) were released.
    released: usize,
}

impl Arena {
    /// Regions of `room` lines for `buckets` buckets, or `None` when there is no room to give
    /// or the address space cannot be had (the keys then all go to the vectors).
    fn new(buckets: usize, room: usize) -> Option<Self> {
        let bytes = buckets
            .checked_mul(room)?
            .checked_mul(std::mem::size_of::<Line>())?;
        if bytes == 0 {
            return None;
        }
        let map = MmapMut::map_anon(bytes.checked_add(HUGE_PAGE)?).ok()?;
        let skip = map.as_ptr().align_offset(HUGE_PAGE).min(HUGE_PAGE);
        // Only a hint: without it (THP off, another OS) the pages are ordinary.
        #[cfg(target_os = "linux")]
        let _ = map.advise_range(memmap2::Advice::HugePage, skip, bytes);
        Some(Arena {
            writing: Some(map),
            shared: None,
            first: skip / std::mem::size_of::<Line>(),
            room,
            released: 0,
        })
    }

    /// Every line of the mapping while it is written (its start is page-aligned, so
    /// line-aligned).
    #[inline]
    fn lines_mut(&mut self) -> Option<&mut [Line]> {
        let map = self.writing.as_mut()?;
        let whole = map.len() / std::mem::size_of::<Line>() * std::mem::size_of::<Line>();
        bytemuck::try_cast_slice_mut(&mut map[..whole]).ok()
    }

    /// Ends the writing: from now on the buckets' keys share the mapping.
    fn share(&mut self) -> Option<&Arc<MmapMut>> {
        if let Some(map) = self.writing.take() {
            self.shared = Some(Arc::new(map));
        }
        self.shared.as_ref()
    }
}

/// The keys of one bucket of one worker: the lines of its region, then its overflow lines (the
/// last line of the two possibly partly filled).
pub(in crate::census::cpu) struct KeyLines {
    region: Option<(Arc<MmapMut>, usize, usize)>,
    overflow: Vec<Line>,
    len: usize,
}

impl KeyLines {
    /// The keys, in at most two slices (region, overflow).
    pub(in crate::census::cpu) fn parts<K: PairKey>(&self) -> [&[K]; 2] {
        let in_region: &[K] = match &self.region {
            Some((map, start, lines)) => {
                let line = std::mem::size_of::<Line>();
                bytemuck::cast_slice(&map[start * line..(start + lines) * line])
            }
            None => &[],
        };
        let in_region = &in_region[..in_region.len().min(self.len)];
        let rest = self.len - in_region.len();
        [in_region, &bytemuck::cast_slice(&self.overflow)[..rest]]
    }

    pub(in crate::census::cpu) fn len(&self) -> usize {
        self.len
    }
}

/// Keys appended by one worker: a region and an overflow vector per bucket, fed a line at a
/// time.
///
/// Why staged: with thousands of buckets (a million targets), appending each pair straight to
/// its bucket touches a different page and line per edge, a TLB and cache miss each time (a
/// quarter of a shuffled 1e8-edge census); the staging lines (64 B per bucket, a few hundred
/// KiB) stay in cache, and a bucket's storage is written a whole aligned line at a time, with
/// a non-temporal store on x86-64 (the line goes to memory without first being read into the
/// cache, as an ordinary store would: a third of the partition's time went to those reads).
pub(in crate::census::cpu) struct BucketSet<K> {
    arena: Option<Arena>,
    /// Lines written to each bucket's region.
    in_region: Vec<usize>,
    overflow: Vec<Vec<Line>>,
    staged: Vec<Line>,
    /// Keys staged per bucket.
    fill: Vec<u8>,
    /// Keys in each bucket's last line after [`BucketSet::flush`] (all lines full before).
    tail: Vec<u8>,
    key: std::marker::PhantomData<K>,
}

impl<K: PairKey> BucketSet<K> {
    /// Keys per line.
    pub(in crate::census::cpu) const PER_LINE: usize = 64 / std::mem::size_of::<K>();

    /// `n` empty buckets with room for `room` keys each in their regions (address space until
    /// written; more keys go to the overflow vectors).
    pub(in crate::census::cpu) fn new(n: usize, room: usize) -> Self {
        BucketSet {
            arena: Arena::new(n, room.div_ceil(Self::PER_LINE)),
            in_region: vec![0; n],
            overflow: (0..n).map(|_| Vec::new()).collect(),
            staged: vec![Line::default(); n],
            fill: vec![0; n],
            tail: vec![0; n],
            key: std::marker::PhantomData,
        }
    }

    #[inline]
    pub(in crate::census::cpu) fn push(&mut self, bucket: usize, key: K) {
        let n = usize::from(self.fill[bucket]).min(Self::PER_LINE - 1);
        self.staged[bucket].keys_mut()[n] = key;
        if n + 1 == Self::PER_LINE {
            self.append(bucket);
            self.fill[bucket] = 0;
        } else {
            self.fill[bucket] = (n + 1) as u8;
        }
    }

    /// Appends bucket `b`'s staged line to its region, or to its overflow once the region is
    /// full.
    #[inline]
    fn append(&mut self, b: usize) {
        let line = &self.staged[b];
        let written = self.in_region[b];
        if let Some(arena) = &mut self.arena
            && written < arena.room
        {
            let at = arena.first + b * arena.room + written;
            if let Some(slot) = arena.lines_mut().and_then(|lines| lines.get_mut(at)) {
                store_line(slot, line);
                self.in_region[b] = written + 1;
                return;
            }
        }
        append_line(&mut self.overflow[b], line);
    }

    /// Appends the keys still staged to their buckets (a partly filled last line); call once,
    /// after the last push.
    pub(in crate::census::cpu) fn flush(&mut self) {
        for b in 0..self.staged.len() {
            let n = self.fill[b];
            if n > 0 {
                self.append(b);
            }
            self.fill[b] = 0;
            self.tail[b] = n;
        }
        finish_appends();
    }

    /// The keys of bucket `b` (after [`BucketSet::flush`]), leaving it empty.
    pub(in crate::census::cpu) fn take(&mut self, b: usize) -> KeyLines {
        let overflow = std::mem::take(&mut self.overflow[b]);
        let region_lines = std::mem::take(&mut self.in_region[b]);
        let lines = region_lines + overflow.len();
        let len = match self.tail[b] {
            0 => lines * Self::PER_LINE,
            n => lines.saturating_sub(1) * Self::PER_LINE + usize::from(n),
        };
        let region = self.arena.as_mut().and_then(|a| {
            let start = a.first + b * a.room;
            let map = Arc::clone(a.share()?);
            (region_lines > 0).then_some((map, start, region_lines))
        });
        KeyLines {
            region,
            overflow,
            len,
        }
    }

    /// Gives the memory of the regions of buckets below `b` back to the system (whole huge
    /// pages only); their keys must have been taken and dropped.
    pub(in crate::census::cpu) fn release_below(&mut self, b: usize) {
        let Some(arena) = &mut self.arena else {
            return;
        };
        let Some(map) = arena.share().map(Arc::clone) else {
            return;
        };
        let line_bytes = std::mem::size_of::<Line>();
        let end =
            b.saturating_mul(arena.room) / (HUGE_PAGE / line_bytes) * (HUGE_PAGE / line_bytes);
        if end <= arena.released {
            return;
        }
        let (offset, len) = (
            (arena.first + arena.released) * line_bytes,
            (end - arena.released) * line_bytes,
        );
        if offset + len <= map.len() {
            // SAFETY: the lines released belong to buckets whose keys were taken, counted and
            // dropped (the caller's promise; every `KeyLines` of them is gone), so no reference
            // into them is alive; their pages read as zeros from now on, and nothing reads them.
            let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) };
        }
        arena.released = end;
    }
}

/// Writes a full line to `slot`, bypassing the cache where the CPU allows.
#[inline]
fn store_line(slot: &mut Line, line: &Line) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `slot` is a valid, aligned line.
    unsafe {
        stream_line(std::ptr::from_mut(slot), line);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        *slot = *line;
    }
}

/// Writes `line`'s 64 bytes to `to` with non-temporal stores.
///
/// # Safety
/// `to` must be valid for writes of a `Line` (and so 64-byte aligned).
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn stream_line(to: *mut Line, line: &Line) {
    use std::arch::x86_64::{__m128i, _mm_load_si128, _mm_stream_si128};
    let to = to.cast::<__m128i>();
    let from = std::ptr::from_ref(line).cast::<__m128i>();
    // SAFETY: both pointers are 64-byte aligned (so 16-byte aligned, as the SSE2 load and
    // stream stores, always available on x86-64, require) and valid for 64 bytes.
    unsafe {
        for i in 0..4 {
            _mm_stream_si128(to.add(i), _mm_load_si128(from.add(i)));
        }
    }
}

/// Appends a full line to `lines`, bypassing the cache where the CPU allows.
#[inline]
fn append_line(lines: &mut Vec<Line>, line: &Line) {
    #[cfg(target_arch = "x86_64")]
    {
        lines.reserve(1);
        let len = lines.len();
        // SAFETY: `reserve` made room for one more line at `len`, which the stream stores
        // initialise whole before `set_len`.
        unsafe {
            stream_line(lines.as_mut_ptr().add(len), line);
            lines.set_len(len + 1);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    lines.push(*line);
}

/// Orders the non-temporal stores of [`store_line`] before what follows (other threads then
/// read the lines); each worker calls it when done appending.
pub(in crate::census::cpu) fn finish_appends() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a store fence has no preconditions.
    unsafe {
        std::arch::x86_64::_mm_sfence();
    }
}
