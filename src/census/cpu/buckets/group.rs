//! Counting one bucket of the bucketed strategy: its pairs sorted by (target, source) with a
//! radix sort inside the cache, then run-length encoded into connections.

use super::*;

/// The digits of a least-significant-digit radix sort of source ids below `2^bits`: as few
/// passes as keep each digit's histogram (2^width counters) in L1.
#[derive(Debug, Clone, Copy)]
pub(super) struct SourceDigits {
    /// Bits of the largest source.
    bits: u32,
    passes: u32,
    width: u32,
}

/// Widest digit of the radix sorts: 2^13 counters of 4 bytes (32 KiB, in a 64 KiB L1 cache).
/// A 25-bit key (100k sources, 256 targets per bucket: the shuffled 1e7-edge bench) then sorts
/// in two passes instead of three of 10-bit digits: 10 % less CPU time for the whole census on
/// the 2-core VM, with about 3 keys per counter in a bucket of 25 Ki keys.
const MAX_DIGIT_BITS: u32 = 13;

impl SourceDigits {
    /// Bits of the largest source.
    pub(super) fn bits(&self) -> u32 {
        self.bits
    }

    /// Digits for sources up to `max_source`.
    pub(super) fn new(max_source: u64) -> Self {
        let bits = (64 - max_source.leading_zeros()).max(1);
        let passes = bits.div_ceil(MAX_DIGIT_BITS);
        SourceDigits {
            bits,
            passes,
            width: bits.div_ceil(passes),
        }
    }
}

thread_local! {
    /// Each worker's buffers for [`count_bucket`], kept from bucket to bucket (fresh buffers
    /// per bucket cost a page fault and a page of zeros every 4 KiB).
    pub(super) static SCRATCH: std::cell::RefCell<GroupScratch> = std::cell::RefCell::default();
}

/// Per-worker buffers of [`count_bucket`], reused bucket after bucket.
#[derive(Default)]
pub(super) struct GroupScratch {
    /// Histograms: of each source digit, then of the targets.
    counts: Vec<u32>,
    /// The bucket's pairs, and their copy being sorted into.
    keys: Vec<u64>,
    spare: Vec<u64>,
    /// The bucket's sources grouped by target, each target's ascending.
    sources: Vec<u32>,
    /// The bucket's edges as 32-bit `local target << source bits | source` keys, and their copy
    /// being sorted into (when the two fit 32 bits).
    packed: Vec<u32>,
    packed_spare: Vec<u32>,
    /// The packed path's connections (source, synapses) before they are copied out at their
    /// exact number: a bucket-sized output per bucket cost a fresh allocation, its zeroing and
    /// page faults (12 bytes per edge, for ~4.5x fewer connections).
    run_sources: Vec<u64>,
    run_counts: Vec<u32>,
    /// The buffers of the dense path ([`super::dense`]).
    pub(super) dense: super::dense::DenseScratch,
}

/// A bucket spanning more targets than this many per pair (plus a constant) is sorted whole
/// instead of grouped by a counting sort: only the overflow bucket of a population without a
/// known target count can (targets far beyond the first chunk's).
pub(super) const SPARSE_TARGETS_PER_PAIR: u64 = 4;

/// Counts one bucket (the pairs of every worker for it): targets ascending, each target's
/// sources sorted and run-length encoded.
///
/// The sort is a radix sort inside the cache: stable passes over the source digits (least
/// significant first), then a stable counting sort by target, which leaves each target's
/// sources ascending. (Sorting each target's sources with `sort_unstable` took ~40 % more time
/// on shuffled 1e7-edge circuits: about a hundred sources per target, each sort branchy.)
pub(super) fn count_bucket(
    parts: &[&[u64]],
    digits: SourceDigits,
    scratch: &mut GroupScratch,
    at: &Location,
) -> Result<TargetRuns> {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    // The connection lists get their capacity where they are filled: exactly the connections
    // for the packed path (which encodes into per-worker scratch first), the edges otherwise.
    let mut piece = TargetRuns::default();
    if n == 0 {
        return Ok(piece);
    }
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for &k in parts.iter().flat_map(|p| p.iter()) {
        let t = k >> 32;
        lo = lo.min(t);
        hi = hi.max(t);
    }
    let span = hi - lo + 1;
    // (The histograms are u32: a bucket of 2^32 pairs or more is sorted whole.)
    if span > SPARSE_TARGETS_PER_PAIR * n as u64 + 4096 || u32::try_from(n).is_err() {
        count_sparse_bucket(parts, scratch, &mut piece, at)?;
        return Ok(piece);
    }
    let span = span as usize;
    let target_bits = usize::BITS - (span - 1).leading_zeros();
    if target_bits + digits.bits <= 32 {
        let source_bits = digits.bits;
        // Every target is in lo..lo + 2^target_bits, every source below 2^source_bits.
        let key = |k: u64| (((k >> 32) - lo) << source_bits | (k & u64::from(u32::MAX))) as u32;
        count_packed(
            parts,
            key,
            lo,
            target_bits,
            source_bits,
            scratch,
            &mut piece,
        );
        return Ok(piece);
    }
    piece.sources.reserve(n);
    piece.counts.reserve(n);
    let radix = 1usize << digits.width;
    let mask = (radix - 1) as u64;
    let passes = digits.passes as usize;
    // One pass for every histogram: the source digits', then the targets'.
    let GroupScratch {
        counts,
        keys,
        spare,
        sources,
        ..
    } = scratch;
    counts.clear();
    counts.resize(passes * radix + span + 1, 0);
    keys.clear();
    keys.reserve(n);
    {
        let (digit_counts, target_counts) = counts.split_at_mut(passes * radix);
        for &k in parts.iter().flat_map(|p| p.iter()) {
            keys.push(k);
            let mut s = k & u64::from(u32::MAX);
            for d in 0..passes {
                digit_counts[d * radix + (s & mask) as usize] += 1;
                s >>= digits.width;
            }
            target_counts[((k >> 32) - lo) as usize + 1] += 1;
        }
    }
    // (The digits are the source's: its last may be narrower than `width`, and the target's
    // bits above it must not leak into it.)
    radix_passes(keys, spare, &mut counts[..passes * radix], radix, |k, d| {
        (((k & u64::from(u32::MAX)) >> (d as u32 * digits.width)) & mask) as usize
    });
    // The stable counting sort by target: `offsets[t]` walks from the start of target t's slots
    // to the start of t + 1's.
    let offsets = &mut counts[passes * radix..];
    for i in 0..span {
        offsets[i + 1] += offsets[i];
    }
    sources.clear();
    sources.resize(n, 0);
    for &k in keys.iter() {
        let slot = &mut offsets[((k >> 32) - lo) as usize];
        sources[*slot as usize] = k as u32;
        *slot += 1;
    }
    let mut start = 0usize;
    for (local, &end) in offsets[..span].iter().enumerate() {
        let end = end as usize;
        if end == start {
            continue;
        }
        let target = lo + local as u64;
        let conns = encode_connections(&sources[start..end], &mut piece.sources, &mut piece.counts)
            .map_err(|s| too_many_synapses(at, target, s))?;
        piece.runs.push((target, (end - start) as u64, conns));
        start = end;
    }
    Ok(piece)
}

/// [`count_bucket`] for pairs packed when partitioned: `local target << layout_bits | source`
/// keys, local targets below `2^target_bits` counted from `first_target` (the bucket's first).
/// The keys are repacked as the sources' real width asks (`digits`), so that the sort has as
/// few passes as in [`count_bucket`].
pub(super) fn count_packed_bucket(
    parts: &[&[u32]],
    layout: PackedLayout,
    digits: SourceDigits,
    scratch: &mut GroupScratch,
    at: &Location,
) -> Result<TargetRuns> {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    let mut piece = TargetRuns::default();
    if n == 0 {
        return Ok(piece);
    }
    if u32::try_from(n).is_err() {
        // (Runs are counted in u32 below: a bucket of 2^32 pairs or more goes the wide way.)
        let wide: Vec<Vec<u64>> = parts.iter().map(|p| layout.widen(p)).collect();
        let wide: Vec<&[u64]> = wide.iter().map(Vec::as_slice).collect();
        return count_bucket(&wide, digits, scratch, at);
    }
    let PackedLayout {
        first_target,
        target_bits,
        source_bits: layout_bits,
    } = layout;
    let source_bits = digits.bits.min(layout_bits);
    let source_mask = low_bits(layout_bits);
    let key = |k: u32| ((k >> layout_bits) << source_bits) | (k & source_mask);
    count_packed(
        parts,
        key,
        first_target,
        target_bits,
        source_bits,
        scratch,
        &mut piece,
    );
    Ok(piece)
}

/// The low `bits` bits of a u32 set (all of them from 32 on).
pub(super) fn low_bits(bits: u32) -> u32 {
    1u32.checked_shl(bits).map_or(u32::MAX, |b| b - 1)
}

/// [`count_bucket`] when a local target and a source fit one 32-bit key together (the common
/// case: up to 2^32 targets × sources over all buckets): one least-significant-digit radix sort
/// of the keys orders the bucket by (target, source), moving half the bytes of the 64-bit path
/// and needing no separate pass by target. `key` turns an element of `parts` (a pair, or a key
/// packed when partitioned) into `local target << source_bits | source`, with targets counted
/// from `lo`.
fn count_packed<K: Copy>(
    parts: &[&[K]],
    key: impl Fn(K) -> u32,
    lo: u64,
    target_bits: u32,
    source_bits: u32,
    scratch: &mut GroupScratch,
    piece: &mut TargetRuns,
) {
    let total = target_bits + source_bits;
    let passes = total.div_ceil(MAX_DIGIT_BITS).max(1);
    let width = total.div_ceil(passes);
    let radix = 1usize << width;
    let mask = (radix - 1) as u32;
    let passes = passes as usize;
    let GroupScratch {
        counts,
        packed,
        packed_spare,
        run_sources,
        run_counts,
        ..
    } = scratch;
    counts.clear();
    counts.resize(passes * radix, 0);
    packed.clear();
    let pack = Packing { width, radix };
    // The digit count as a constant: the histogram loop is then unrolled (2-4 passes; a
    // runtime count kept the loop's variables in memory, 13 % of the bucket time).
    match passes {
        1 => pack.keys_and_histograms::<1, _>(parts, &key, counts, packed),
        2 => pack.keys_and_histograms::<2, _>(parts, &key, counts, packed),
        3 => pack.keys_and_histograms::<3, _>(parts, &key, counts, packed),
        _ => pack.keys_and_histograms::<4, _>(parts, &key, counts, packed),
    }
    let n = packed.len();
    radix_passes(packed, packed_spare, counts, radix, |key, d| {
        ((key >> (d as u32 * width)) & mask) as usize
    });
    // Sorted by (target, source): run-length encode keys, a new target at each change of the
    // high bits.
    let source_mask = if source_bits >= 32 {
        u32::MAX
    } else {
        (1u32 << source_bits) - 1
    };
    let target_of = |key: u32| lo + u64::from(key.checked_shr(source_bits).unwrap_or(0));
    let Some(&last) = packed.last() else {
        return;
    };
    // Branch-free over connections (as `encode_ascending`): each key writes its source and its
    // run's length so far to the current slot, which advances where the run ends; a target's
    // end (every hundred keys or so) is a branch. Lengths fit u32: the caller sends buckets of
    // fewer than 2^32 pairs here.
    // (Resizing zeroes only what the scratch buffers never had.)
    run_sources.resize(run_sources.len().max(n), 0);
    run_counts.resize(run_counts.len().max(n), 0);
    let (slots, counts) = (&mut run_sources[..n], &mut run_counts[..n]);
    let runs = &mut piece.runs;
    let (mut k, mut run_start, mut target_start, mut target_conns) = (0usize, 0u32, 0u32, 0usize);
    for (i, pair) in (1u32..).zip(packed.windows(2)) {
        let (key, next) = (pair[0], pair[1]);
        slots[k] = u64::from(key & source_mask);
        counts[k] = i - run_start;
        let ends = key != next;
        k += usize::from(ends);
        run_start = if ends { i } else { run_start };
        if (key ^ next) & !source_mask != 0 {
            runs.push((
                target_of(key),
                u64::from(i - target_start),
                (k - target_conns) as u64,
            ));
            target_start = i;
            target_conns = k;
        }
    }
    let n32 = n as u32;
    slots[k] = u64::from(last & source_mask);
    counts[k] = n32 - run_start;
    k += 1;
    runs.push((
        target_of(last),
        u64::from(n32 - target_start),
        (k - target_conns) as u64,
    ));
    piece.sources.extend_from_slice(&slots[..k]);
    piece.counts.extend_from_slice(&counts[..k]);
}

/// The passes of a least-significant-digit radix sort of `keys`, one per histogram of `counts`
/// (`radix` counters each, already counted: `digit(key, d)` is key's digit of pass `d`), using
/// `spare` as the other buffer; the sorted keys end in `keys`.
fn radix_passes<K: Copy + Default>(
    keys: &mut Vec<K>,
    spare: &mut Vec<K>,
    counts: &mut [u32],
    radix: usize,
    digit: impl Fn(K, usize) -> usize,
) {
    spare.clear();
    spare.resize(keys.len(), K::default());
    for (d, hist) in counts.chunks_exact_mut(radix).enumerate() {
        // The digit's histogram becomes each digit value's first slot.
        let mut acc = 0u32;
        for c in hist.iter_mut() {
            let here = *c;
            *c = acc;
            acc += here;
        }
        scatter(keys, spare, hist, |k| digit(k, d));
        std::mem::swap(keys, spare);
    }
}

/// One stable counting-sort pass: each key of `from` goes to `to` at its digit's next slot
/// (`slots`: each digit's first free slot, advanced as keys arrive). Plain slices, so that the
/// loop keeps its pointers in registers (through `Vec`s they were reloaded on every key).
fn scatter<K: Copy>(from: &[K], to: &mut [K], slots: &mut [u32], digit: impl Fn(K) -> usize) {
    for &key in from {
        let slot = &mut slots[digit(key)];
        to[*slot as usize] = key;
        *slot += 1;
    }
}

/// The digits of [`count_packed`]'s radix sort.
struct Packing {
    width: u32,
    radix: usize,
}

impl Packing {
    /// Packs every pair of `parts` into `packed` and counts the `P` digits of each key into
    /// `counts` (digit `d`'s histogram at `d * radix`).
    fn keys_and_histograms<const P: usize, K: Copy>(
        &self,
        parts: &[&[K]],
        key_of: &impl Fn(K) -> u32,
        counts: &mut [u32],
        packed: &mut Vec<u32>,
    ) {
        let mask = (self.radix - 1) as u32;
        let Some(hists) = counts.get_mut(..P * self.radix) else {
            return;
        };
        for part in parts {
            for &k in part.iter() {
                let key = key_of(k);
                packed.push(key);
                let mut rest = key;
                for d in 0..P {
                    hists[d * self.radix + (rest & mask) as usize] += 1;
                    rest >>= self.width;
                }
            }
        }
    }
}

/// Counts a bucket whose targets are too sparse for a counting sort: its pairs sorted whole.
fn count_sparse_bucket(
    parts: &[&[u64]],
    scratch: &mut GroupScratch,
    piece: &mut TargetRuns,
    at: &Location,
) -> Result<()> {
    let keys = &mut scratch.keys;
    keys.clear();
    for p in parts {
        keys.extend_from_slice(p);
    }
    keys.sort_unstable();
    let mut i = 0;
    while i < keys.len() {
        let target = keys[i] >> 32;
        let mut j = i;
        let mut conns = 0u64;
        while j < keys.len() && keys[j] >> 32 == target {
            let key = keys[j];
            let mut k = j + 1;
            while k < keys.len() && keys[k] == key {
                k += 1;
            }
            let source = key & u64::from(u32::MAX);
            let count = u32::try_from(k - j).map_err(|_| too_many_synapses(at, target, source))?;
            piece.sources.push(source);
            piece.counts.push(count);
            conns += 1;
            j = k;
        }
        piece.runs.push((target, (j - i) as u64, conns));
        i = j;
    }
    Ok(())
}
