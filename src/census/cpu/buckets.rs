//! The bucketed strategy of the CPU engine for unsorted input: one read of the id columns, each
//! edge packed into a `target << 32 | source` pair and appended to the bucket of its target's
//! high bits (a radix partition), then every bucket grouped by target in cache and counted,
//! buckets in parallel.
//!
//! Why: the two-pass strategy ([`super::unsorted`]) reads the columns twice and scatters every
//! source to a random slot of a buffer of hundreds of MB (one cache and TLB miss per edge: its
//! cost grew faster than the edges once a million targets were in play). Here the partition
//! writes to at most 1024 append streams (staged a cache line at a time), and each bucket (tens of
//! thousands of pairs, a few hundred targets) is radix-sorted by (target, source) inside the
//! cache.
//!
//! Memory: 8 bytes per edge for the pairs (the caller checks they fit the memory budget; the
//! two-pass strategy takes over otherwise), freed bucket by bucket as the buckets are counted,
//! plus the output (which [`TableBuilder`] can spill to files). Ids of 2^32 or more do not pack;
//! the strategy then gives up ([`BucketAttempt::IdsTooWide`]) and the caller counts with the
//! two-pass strategy.

use super::*;

/// Outcome of the bucketed strategy.
pub(super) enum BucketAttempt {
    /// Counted: the tables, the spilled connection table (when spilling), and how (boxed: the
    /// tables are large beside the other variant).
    Done(Box<(Tables, Option<SpilledConnections>, CpuStrategy)>),
    /// A target or source id does not fit in 32 bits: count another way.
    IdsTooWide,
}

/// Bytes per edge while bucketed (one packed pair).
pub(crate) const PAIR_BYTES: u64 = 8;

/// Pairs per bucket aimed at: 16 Ki pairs; their two copies and grouped sources (320 KiB) stay
/// in a 512 KiB L2 while they are sorted.
const PAIRS_PER_BUCKET: u64 = 1 << 14;

/// Bucket count bounds: enough buckets to spread the work over every thread, few enough that
/// the partition's staging lines and append streams stay in cache and TLB reach. Measured on
/// shuffled 1e8 edges over 1e6 targets (2-core VM): at most 512, 1024, 2048 and 4096 buckets took
/// 2.1–2.3, 2.1–2.4, 2.5–2.7 and 2.7–2.8 s (larger buckets leave the L2 cache while sorted,
/// more buckets miss the cache and TLB while partitioned).
const MIN_BUCKETS: u64 = 64;
const MAX_BUCKETS: u64 = 1024;

/// Edges a worker partitions at a time: smaller pieces are not worth a task.
const MIN_PIECE: usize = 1 << 15;

/// How targets map to buckets: bucket `min(t >> shift, last)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucketing {
    shift: u32,
    last: usize,
}

impl Bucketing {
    /// Buckets for `edges` edges whose targets are (mostly) below `target_bound`.
    pub(super) fn new(edges: u64, target_bound: u64) -> Self {
        let wanted = (edges / PAIRS_PER_BUCKET).clamp(MIN_BUCKETS, MAX_BUCKETS);
        let bound = target_bound.max(1);
        // The smallest shift that maps every target below `bound` to fewer than `wanted`
        // buckets (so at least `bound / wanted` targets share a bucket).
        let mut shift = 0u32;
        while shift < 63 && (bound - 1) >> shift >= wanted {
            shift += 1;
        }
        let buckets = ((bound - 1) >> shift) + 1;
        Bucketing {
            shift,
            last: buckets as usize - 1,
        }
    }

    /// Number of buckets.
    pub(super) fn len(&self) -> usize {
        self.last + 1
    }

    fn bucket(&self, target: u64) -> usize {
        ((target >> self.shift) as usize).min(self.last)
    }
}

/// Pairs staged per bucket before they are appended to it: with their count, one 64-byte cache
/// line.
const LINE: usize = 7;

/// A cache line of staged pairs and their count (aligned, so that it is one line).
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Line {
    pairs: [u64; LINE],
    len: u64,
}

/// Pairs appended by one worker: one growing vector per bucket, fed a cache line at a time.
///
/// Why staged: with thousands of buckets (a million targets), appending each pair straight to
/// its bucket touches a different page and line per edge, a TLB and cache miss each time (a
/// quarter of a shuffled 1e8-edge census); the staging lines (64 B per bucket, a few hundred
/// KiB) stay in cache, and a bucket's vector is touched once per [`LINE`] pairs.
pub(super) struct BucketSet {
    buckets: Vec<Vec<u64>>,
    staged: Vec<Line>,
}

impl BucketSet {
    /// `n` empty buckets with room for `room` pairs each (address space until written).
    pub(super) fn new(n: usize, room: usize) -> Self {
        BucketSet {
            buckets: (0..n).map(|_| Vec::with_capacity(room)).collect(),
            staged: vec![Line::default(); n],
        }
    }

    fn push(&mut self, bucket: usize, pair: u64) {
        let line = &mut self.staged[bucket];
        // `len` < LINE always (a full line is appended at once).
        let n = (line.len as usize).min(LINE - 1);
        line.pairs[n] = pair;
        if n + 1 == LINE {
            self.buckets[bucket].extend_from_slice(&line.pairs);
            line.len = 0;
        } else {
            line.len = (n + 1) as u64;
        }
    }

    /// Appends the pairs still staged to their buckets.
    pub(super) fn flush(&mut self) {
        for (bucket, line) in self.buckets.iter_mut().zip(&mut self.staged) {
            bucket.extend_from_slice(&line.pairs[..(line.len as usize).min(LINE)]);
            line.len = 0;
        }
    }

    /// The pairs of bucket `b` (after [`BucketSet::flush`]), leaving it empty.
    pub(super) fn take(&mut self, b: usize) -> Vec<u64> {
        std::mem::take(&mut self.buckets[b])
    }
}

pub(super) fn bucket_census(
    pass: &Pass<'_>,
    nsyns: Option<NsynsSource>,
    nsyns_total: &mut Option<Vec<u64>>,
) -> Result<BucketAttempt> {
    let Pass {
        pop,
        options,
        space,
        progress,
        at,
        ..
    } = *pass;
    progress.phase(
        &format!("{}: unsorted, partitioning by target", pop.name()),
        pop.size(),
    );
    let target_bound = match space.n_targets {
        Some(n) => n,
        None => first_chunk_target_bound(pop, options.chunk_len)?,
    };
    let bucketing = Bucketing::new(pop.size(), target_bound);
    let workers = rayon::current_num_threads().max(1);
    // Room for an even share of the edges (and a margin) in every bucket: the vectors then seldom
    // grow (each growth copies), and the room only costs address space until it is written.
    let share = pop.size() / (bucketing.len() * workers) as u64;
    let room = (share + share / 4 + 16).min(1 << 24) as usize;
    let mut sets: Vec<BucketSet> = (0..workers)
        .map(|_| BucketSet::new(bucketing.len(), room))
        .collect();
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    let mut source_max = 0u64;
    let too_wide = for_each_chunk(pop, options.chunk_len, nsyns, |chunk: &Chunk| {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        // The ids are checked after they are partitioned (one pass over the chunk, not three);
        // a chunk that fails the checks leaves its pairs behind, and the attempt with them.
        let (max_target, max_source) = partition(&bucketing, targets, sources, &mut sets);
        if let Some(limit) = space.n_targets
            && max_target >= limit
        {
            return Err(first_target_beyond(chunk, limit, space, at));
        }
        if (max_target | max_source) > u64::from(u32::MAX) {
            return Ok(ControlFlow::Break(()));
        }
        source_max = source_max.max(max_source);
        add_nsyns(&mut nsyns_acc, targets, chunk.nsyns.as_deref());
        progress.inc(targets.len() as u64);
        Ok(ControlFlow::Continue(()))
    })?;
    if too_wide.is_some() {
        return Ok(BucketAttempt::IdsTooWide);
    }
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    for set in &mut sets {
        set.flush();
    }
    progress.phase(
        &format!("{}: unsorted, counting buckets", pop.name()),
        pop.size(),
    );
    let mut builder = pass.table_builder();
    // Buckets are counted a batch at a time, in target order, and freed as soon as they are
    // (the pairs shrink while the connection table grows); a batch is pushed to the tables
    // while the next one is counted.
    let digits = SourceDigits::new(source_max);
    let batch = workers * 8;
    let count_batch = |sets: &mut [BucketSet], first: usize| -> Vec<Result<TargetRuns>> {
        let end = (first + batch).min(bucketing.len());
        let taken: Vec<Vec<Vec<u64>>> = (first..end)
            .map(|b| sets.iter_mut().map(|s| s.take(b)).collect())
            .collect();
        taken
            .into_par_iter()
            .map(|parts| {
                let piece =
                    SCRATCH.with_borrow_mut(|scratch| count_bucket(&parts, digits, scratch, at));
                let edges: usize = parts.iter().map(Vec::len).sum();
                drop(parts);
                progress.inc(edges as u64);
                piece
            })
            .collect()
    };
    let mut counted = count_batch(&mut sets, 0);
    let mut first = batch;
    loop {
        crate::interrupt::check()?;
        let more = first < bucketing.len();
        let (pushed, next) = rayon::join(
            || -> Result<()> {
                for piece in counted {
                    builder.push(&piece?)?;
                }
                Ok(())
            },
            || more.then(|| count_batch(&mut sets, first)),
        );
        pushed?;
        match next {
            Some(next) => counted = next,
            None => break,
        }
        first += batch;
    }
    let n_targets = space.n_targets.unwrap_or(builder.synapses.len() as u64);
    let (tables, spilled) = builder.finish(n_targets)?;
    let strategy = CpuStrategy::Bucketed {
        buckets: bucketing.len(),
        pair_bytes: pop.size() * PAIR_BYTES,
        memory_budget: options.memory_budget,
    };
    Ok(BucketAttempt::Done(Box::new((tables, spilled, strategy))))
}

/// A bound on the target ids for bucketing when the population does not say how many targets
/// there are: twice the largest target of the first chunk (later, larger targets all go to the
/// last bucket, which is still counted exactly, only less evenly).
fn first_chunk_target_bound(pop: &EdgePopulation, chunk_len: usize) -> Result<u64> {
    let n = (pop.size() as usize).min(chunk_len.max(1));
    let mut targets = vec![0u64; n];
    pop.target_ids().read_range_into(0, &mut targets)?;
    let max = targets.iter().fold(0, |m, &t| m.max(t));
    Ok(max.saturating_add(1).saturating_mul(2))
}

/// Appends each edge's packed pair to its bucket, the chunk split over the workers (worker `i`
/// appends to `sets[i]`: no locks, and the order inside a bucket does not matter). Returns the
/// largest target and source (a pair packs correctly only when both fit 32 bits).
fn partition(
    bucketing: &Bucketing,
    targets: &[u64],
    sources: &[u64],
    sets: &mut [BucketSet],
) -> (u64, u64) {
    let piece = targets.len().div_ceil(sets.len()).max(MIN_PIECE);
    sets.par_iter_mut()
        .zip(targets.par_chunks(piece).zip(sources.par_chunks(piece)))
        .map(|(set, (ts, ss))| {
            let (mut max_t, mut max_s) = (0u64, 0u64);
            for (&t, &s) in ts.iter().zip(ss) {
                set.push(bucketing.bucket(t), (t << 32) | s);
                max_t = max_t.max(t);
                max_s = max_s.max(s);
            }
            (max_t, max_s)
        })
        .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)))
}

/// The digits of a least-significant-digit radix sort of source ids below `2^bits`: as few
/// passes as keep each digit's histogram (2^width counters) in L1.
#[derive(Debug, Clone, Copy)]
pub(super) struct SourceDigits {
    /// Bits of the largest source.
    bits: u32,
    passes: u32,
    width: u32,
}

/// Widest digit of the source radix sort (2^10 counters of 4 bytes: 4 KiB, and 16 pairs per
/// counter in a bucket of 16 Ki pairs).
const MAX_DIGIT_BITS: u32 = 10;

impl SourceDigits {
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
    static SCRATCH: std::cell::RefCell<GroupScratch> = std::cell::RefCell::default();
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
}

/// A bucket spanning more targets than this many per pair (plus a constant) is sorted whole
/// instead of grouped by a counting sort: only the overflow bucket of a population without a
/// known target count can (targets far beyond the first chunk's).
const SPARSE_TARGETS_PER_PAIR: u64 = 4;

/// Counts one bucket (the pairs of every worker for it): targets ascending, each target's
/// sources sorted and run-length encoded.
///
/// The sort is a radix sort inside the cache: stable passes over the source digits (least
/// significant first), then a stable counting sort by target, which leaves each target's
/// sources ascending. (Sorting each target's sources with `sort_unstable` took ~40 % more time
/// on shuffled 1e7-edge circuits: about a hundred sources per target, each sort branchy.)
pub(super) fn count_bucket(
    parts: &[Vec<u64>],
    digits: SourceDigits,
    scratch: &mut GroupScratch,
    at: &Location,
) -> Result<TargetRuns> {
    let n: usize = parts.iter().map(Vec::len).sum();
    let mut piece = TargetRuns {
        sources: Vec::with_capacity(n),
        counts: Vec::with_capacity(n),
        ..TargetRuns::default()
    };
    if n == 0 {
        return Ok(piece);
    }
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for &k in parts.iter().flatten() {
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
        count_packed(parts, lo, target_bits, digits.bits, scratch, &mut piece);
        return Ok(piece);
    }
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
        for &k in parts.iter().flatten() {
            keys.push(k);
            let mut s = k & u64::from(u32::MAX);
            for d in 0..passes {
                digit_counts[d * radix + (s & mask) as usize] += 1;
                s >>= digits.width;
            }
            target_counts[((k >> 32) - lo) as usize + 1] += 1;
        }
    }
    radix_passes(keys, spare, &mut counts[..passes * radix], radix, |k, d| {
        ((k >> (d as u32 * digits.width)) & mask) as usize
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

/// [`count_bucket`] when a local target and a source fit one 32-bit key together (the common
/// case: up to 2^32 targets × sources over all buckets): one least-significant-digit radix sort
/// of the keys orders the bucket by (target, source), moving half the bytes of the 64-bit path
/// and needing no separate pass by target.
fn count_packed(
    parts: &[Vec<u64>],
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
        ..
    } = scratch;
    counts.clear();
    counts.resize(passes * radix, 0);
    packed.clear();
    let pack = Packing {
        lo,
        source_bits,
        width,
        radix,
    };
    // The digit count as a constant: the histogram loop is then unrolled (2-4 passes; a
    // runtime count kept the loop's variables in memory, 13 % of the bucket time).
    match passes {
        1 => pack.keys_and_histograms::<1>(parts, counts, packed),
        2 => pack.keys_and_histograms::<2>(parts, counts, packed),
        3 => pack.keys_and_histograms::<3>(parts, counts, packed),
        _ => pack.keys_and_histograms::<4>(parts, counts, packed),
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
    let base = piece.sources.len();
    piece.sources.resize(base + n, 0);
    piece.counts.resize(base + n, 0);
    let (slots, counts) = (&mut piece.sources[base..], &mut piece.counts[base..]);
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
    piece.sources.truncate(base + k);
    piece.counts.truncate(base + k);
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

/// How [`count_packed`] packs a bucket's pairs into 32-bit keys, and its digits.
struct Packing {
    lo: u64,
    source_bits: u32,
    width: u32,
    radix: usize,
}

impl Packing {
    /// Packs every pair of `parts` into `packed` and counts the `P` digits of each key into
    /// `counts` (digit `d`'s histogram at `d * radix`).
    fn keys_and_histograms<const P: usize>(
        &self,
        parts: &[Vec<u64>],
        counts: &mut [u32],
        packed: &mut Vec<u32>,
    ) {
        let mask = (self.radix - 1) as u32;
        let Some(hists) = counts.get_mut(..P * self.radix) else {
            return;
        };
        for part in parts {
            for &k in part {
                // Every target is in lo..lo + 2^target_bits, every source below 2^source_bits.
                let key =
                    (((k >> 32) - self.lo) << self.source_bits | (k & u64::from(u32::MAX))) as u32;
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
    parts: &[Vec<u64>],
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The connections of `(target, source)` edges, naively: per target, sorted distinct sources
    /// with their multiplicities.
    /// `(target, synapses, connections)` per target, sources, counts.
    type Naive = (Vec<(u64, u64, u64)>, Vec<u64>, Vec<u32>);

    fn naive(edges: &[(u64, u64)]) -> Naive {
        let mut sorted = edges.to_vec();
        sorted.sort_unstable();
        let (mut runs, mut sources, mut counts) = (Vec::new(), Vec::new(), Vec::new());
        let mut i = 0;
        while i < sorted.len() {
            let t = sorted[i].0;
            let mut j = i;
            let mut conns = 0;
            while j < sorted.len() && sorted[j].0 == t {
                let mut k = j;
                while k < sorted.len() && sorted[k] == sorted[j] {
                    k += 1;
                }
                sources.push(sorted[j].1);
                counts.push((k - j) as u32);
                conns += 1;
                j = k;
            }
            runs.push((t, (j - i) as u64, conns));
            i = j;
        }
        (runs, sources, counts)
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed.max(1);
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Every bucket of a partition counted in order equals the naive census, for dense and
    /// sparse targets, skewed in-degrees, several workers, and targets past the bound.
    #[test]
    fn buckets_equal_naive_grouping() {
        let at = Location::file("x");
        for (seed, n_edges, n_targets, bound, workers) in [
            (1u64, 0usize, 10u64, 10u64, 1usize),
            (2, 1, 1, 1, 1),
            (3, 5000, 300, 300, 2),
            (4, 70_000, 5000, 5000, 3),
            // Targets far beyond the bound: the last bucket is sparse.
            (5, 20_000, 1 << 31, 1000, 2),
            // Skewed: most edges on a few targets.
            (6, 50_000, 100_000, 100_000, 4),
            // Sources of up to 32 bits: a local target and a source do not share one u32 key.
            (8, 30_000, 2000, 2000, 2),
            // Sources of 20 bits: packed keys of several digits.
            (10, 40_000, 3000, 3000, 2),
        ] {
            let mut next = xorshift(seed);
            let edges: Vec<(u64, u64)> = (0..n_edges)
                .map(|_| {
                    let r = next();
                    let t = if seed == 6 && !r.is_multiple_of(4) {
                        r % 7
                    } else {
                        next() % n_targets
                    };
                    let source_range = [50, 1 << 20, 1 << 32][(seed % 3) as usize];
                    (t, next() % source_range)
                })
                .collect();
            let bucketing = Bucketing::new(n_edges as u64, bound);
            let mut sets: Vec<BucketSet> = (0..workers)
                .map(|_| BucketSet::new(bucketing.len(), 0))
                .collect();
            let (ts, ss): (Vec<u64>, Vec<u64>) = edges.iter().copied().unzip();
            for (tc, sc) in ts.chunks(777).zip(ss.chunks(777)) {
                partition(&bucketing, tc, sc, &mut sets);
            }
            for set in &mut sets {
                set.flush();
            }
            let mut merged = TargetRuns::default();
            let mut scratch = GroupScratch::default();
            let digits = SourceDigits::new(ss.iter().copied().max().unwrap_or(0));
            for b in 0..bucketing.len() {
                let parts: Vec<Vec<u64>> = sets.iter_mut().map(|s| s.take(b)).collect();
                let piece = count_bucket(&parts, digits, &mut scratch, &at).unwrap();
                merged.runs.extend(piece.runs);
                merged.sources.extend(piece.sources);
                merged.counts.extend(piece.counts);
            }
            let (runs, sources, counts) = naive(&edges);
            assert_eq!(merged.runs, runs, "seed {seed}");
            assert_eq!(merged.sources, sources, "seed {seed}");
            assert_eq!(merged.counts, counts, "seed {seed}");
        }
    }

    #[test]
    fn bucketing_covers_bound_and_clamps() {
        let b = Bucketing::new(1 << 20, 100_000);
        assert!(b.len() as u64 <= MAX_BUCKETS && b.len() >= 2);
        assert_eq!(b.bucket(0), 0);
        assert_eq!(b.bucket(99_999), b.len() - 1);
        assert_eq!(b.bucket(u64::from(u32::MAX)), b.len() - 1);
        let one = Bucketing::new(10, 1);
        assert_eq!(one.len(), 1);
    }
}
