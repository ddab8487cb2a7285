//! The bucketed strategy of the CPU engine for unsorted input: one read of the id columns, each
//! edge packed into a key and appended to the bucket of its target's high bits (a radix
//! partition), then every bucket grouped by target in cache and counted, buckets in parallel.
//!
//! Why: the two-pass strategy ([`super::unsorted`]) reads the columns twice and scatters every
//! source to a random slot of a buffer of hundreds of MB (one cache and TLB miss per edge: its
//! cost grew faster than the edges once a million targets were in play). Here the partition
//! writes to at most 1024 append streams (staged a cache line at a time), and each bucket (tens of
//! thousands of pairs, a few hundred targets) is grouped by target inside the cache: each
//! target's synapses tallied per source in a per-worker array of counters when the source ids
//! are below 2^22 ([`dense`]), else the bucket radix-sorted by (target, source) ([`group`]).
//!
//! Keys: a bucket's targets differ only in their low `shift` bits, so a 32-bit key
//! `local target << (32 - shift) | source` holds an edge whenever its source is below
//! `2^(32 - shift)` (sources below 2^22 with 1024 buckets of a million targets): half the bytes
//! of a `target << 32 | source` pair, written while partitioned and read while counted. The
//! first chunk whose sources (or, with no known target count, targets) do not pack turns the
//! keys so far into pairs, and pairs are kept from then on ([`Pairs::widen`]).
//!
//! Memory: 4 bytes per edge for packed keys, 8 for pairs (each worker's in one mapping of huge
//! pages with a sixteenth of room to spare, [`keys`]), freed a batch of buckets at a time as
//! they are counted, plus the dense path's counters (2 bytes per source id, at most 8 MiB per
//! worker) and the output (which [`TableBuilder`] can spill to files). The caller tries the
//! strategy when 4 bytes per edge fit the memory budget; it gives up
//! ([`BucketAttempt::CountOtherwise`]) when the keys would have to widen to pairs beyond the
//! budget, or when an id is 2^32 or more (no pair holds it), and the caller then counts with
//! the two-pass strategy.

use super::*;

/// Outcome of the bucketed strategy.
pub(super) enum BucketAttempt {
    /// Counted: the tables, the spilled connection table (when spilling), and how (boxed: the
    /// tables are large beside the other variant).
    Done(Box<(Tables, Option<SpilledConnections>, CpuStrategy)>),
    /// Count another way: a target or source id does not fit in 32 bits, or the keys would
    /// have to widen to pairs (8 bytes per edge) that do not fit the memory budget.
    CountOtherwise,
}

/// Bytes per edge of a `target << 32 | source` pair.
pub(crate) const PAIR_BYTES: u64 = 8;

/// Bytes per edge of a packed key: the strategy is tried when this many fit the memory budget
/// (and gives up when the keys would have to widen to pairs that do not).
pub(crate) const PACKED_KEY_BYTES: u64 = 4;

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

    /// The first target of bucket `b`.
    fn first(&self, b: usize) -> u64 {
        (b as u64) << self.shift
    }

    /// Bits of a source in a packed key: what a local target (below `2^shift` in every bucket
    /// but the last, whose targets are checked) leaves of 32; `None` when that is nothing, or
    /// when every target has a bucket of its own (`shift` 0: so few targets that the wide
    /// pairs cost nothing).
    fn packed_source_bits(&self) -> Option<u32> {
        (1..32).contains(&self.shift).then(|| 32 - self.shift)
    }

    /// Targets from this one on do not pack: beyond the last bucket's `2^shift`.
    fn packed_target_end(&self) -> u64 {
        ((self.last as u64) + 1)
            .checked_shl(self.shift)
            .unwrap_or(u64::MAX)
    }

    /// How bucket `b`'s packed keys are laid out.
    fn layout(&self, b: usize, source_bits: u32) -> PackedLayout {
        PackedLayout {
            first_target: self.first(b),
            target_bits: self.shift,
            source_bits,
        }
    }
}

/// How the keys of one bucket were packed: `(target - first_target) << source_bits | source`.
#[derive(Debug, Clone, Copy)]
pub(super) struct PackedLayout {
    pub(super) first_target: u64,
    /// Bits of a local target (`target - first_target`).
    pub(super) target_bits: u32,
    /// Bits of a source, below the local target's.
    pub(super) source_bits: u32,
}

impl PackedLayout {
    /// The `target << 32 | source` pairs of `keys`.
    pub(super) fn widen(&self, keys: &[u32]) -> Vec<u64> {
        let mask = low_bits(self.source_bits);
        keys.iter()
            .map(|&k| {
                let target =
                    self.first_target + u64::from(k.checked_shr(self.source_bits).unwrap_or(0));
                (target << 32) | u64::from(k & mask)
            })
            .collect()
    }
}

/// A key of the partition: a packed 32-bit key or a 64-bit `target << 32 | source` pair.
pub(super) trait PairKey: bytemuck::Pod + Send + Sync {}

impl PairKey for u32 {}
impl PairKey for u64 {}

/// The partitioned pairs of every worker: packed while the ids allow, else wide.
enum Pairs {
    /// 32-bit keys, `local target << source_bits | source` (see [`PackedLayout`]).
    Packed {
        sets: Vec<BucketSet<u32>>,
        source_bits: u32,
    },
    /// `target << 32 | source` pairs.
    Wide(Vec<BucketSet<u64>>),
}

impl Pairs {
    /// Empty sets of `workers` workers: packed when the bucketing leaves bits for sources.
    fn new(bucketing: &Bucketing, workers: usize, room: usize) -> Self {
        match bucketing.packed_source_bits() {
            Some(source_bits) => Pairs::Packed {
                sets: (0..workers)
                    .map(|_| BucketSet::new(bucketing.len(), room))
                    .collect(),
                source_bits,
            },
            None => Pairs::Wide(
                (0..workers)
                    .map(|_| BucketSet::new(bucketing.len(), room))
                    .collect(),
            ),
        }
    }

    /// Rewrites packed keys as wide pairs (bucket by bucket, freeing each as it goes), for a
    /// chunk whose ids do not pack.
    fn widen(&mut self, bucketing: &Bucketing, room: usize) {
        let Pairs::Packed { sets, source_bits } = self else {
            return;
        };
        let wide = sets
            .iter_mut()
            .map(|set| {
                set.flush();
                let mut out = BucketSet::<u64>::new(bucketing.len(), room);
                for b in 0..bucketing.len() {
                    let keys = set.take(b);
                    for part in keys.parts() {
                        for pair in bucketing.layout(b, *source_bits).widen(part) {
                            out.push(b, pair);
                        }
                    }
                }
                finish_appends();
                out
            })
            .collect();
        *self = Pairs::Wide(wide);
    }

    /// Appends a chunk's edges to their buckets: packed while every edge of the chunk packs
    /// (checked first: a key that does not pack is garbage), the pairs so far widened otherwise
    /// (when `may_widen`; else `None`); targets past the last bucket are checked only when
    /// `check_targets`. Returns the largest target and a value with the largest source's
    /// highest bit.
    fn partition(
        &mut self,
        bucketing: &Bucketing,
        targets: &[u64],
        sources: &[u64],
        check_targets: bool,
        room: usize,
        may_widen: bool,
    ) -> Option<(u64, u64)> {
        if let Pairs::Packed { source_bits, .. } = *self {
            let target_end = check_targets.then(|| bucketing.packed_target_end());
            if !packs(targets, sources, source_bits, target_end) {
                if !may_widen {
                    return None;
                }
                self.widen(bucketing, room);
            }
        }
        Some(match self {
            Pairs::Packed { sets, source_bits } => {
                partition_packed(bucketing, targets, sources, sets, *source_bits)
            }
            Pairs::Wide(sets) => partition(bucketing, targets, sources, sets),
        })
    }

    fn flush(&mut self) {
        match self {
            Pairs::Packed { sets, .. } => sets.iter_mut().for_each(BucketSet::flush),
            Pairs::Wide(sets) => sets.iter_mut().for_each(BucketSet::flush),
        }
    }

    /// Every worker's pairs of bucket `b` (after [`Pairs::flush`]), leaving it empty.
    fn take(&mut self, bucketing: &Bucketing, b: usize) -> BucketParts {
        match self {
            Pairs::Packed { sets, source_bits } => BucketParts::Packed(
                sets.iter_mut().map(|s| s.take(b)).collect(),
                bucketing.layout(b, *source_bits),
            ),
            Pairs::Wide(sets) => BucketParts::Wide(sets.iter_mut().map(|s| s.take(b)).collect()),
        }
    }

    /// Gives back the memory of the buckets below `b` (taken, counted and dropped).
    fn release_below(&mut self, b: usize) {
        match self {
            Pairs::Packed { sets, .. } => sets.iter_mut().for_each(|s| s.release_below(b)),
            Pairs::Wide(sets) => sets.iter_mut().for_each(|s| s.release_below(b)),
        }
    }

    /// Bytes per pair.
    fn pair_bytes(&self) -> u64 {
        match self {
            Pairs::Packed { .. } => 4,
            Pairs::Wide(_) => PAIR_BYTES,
        }
    }
}

/// The pairs of one bucket, taken from every worker's set.
enum BucketParts {
    Packed(Vec<KeyLines>, PackedLayout),
    Wide(Vec<KeyLines>),
}

impl BucketParts {
    /// The bucket's targets and connections (see [`count_bucket`]).
    fn count(
        &self,
        digits: SourceDigits,
        scratch: &mut GroupScratch,
        at: &Location,
    ) -> Result<TargetRuns> {
        match self {
            BucketParts::Packed(parts, layout) => {
                let keys: Vec<&[u32]> = parts.iter().flat_map(KeyLines::parts).collect();
                let n = keys.iter().map(|k| k.len()).sum();
                if dense_applies(n, *layout, digits.bits()) {
                    count_dense_bucket(&keys, *layout, digits.bits(), &mut scratch.dense, at)
                } else {
                    count_packed_bucket(&keys, *layout, digits, scratch, at)
                }
            }
            BucketParts::Wide(parts) => {
                let pairs: Vec<&[u64]> = parts.iter().flat_map(KeyLines::parts).collect();
                count_bucket(&pairs, digits, scratch, at)
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            BucketParts::Packed(parts, _) | BucketParts::Wide(parts) => {
                parts.iter().map(KeyLines::len).sum()
            }
        }
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
    // Room for an even share of the edges (and a margin) in every bucket's region: what does not
    // fit goes to the bucket's overflow vector. The regions are written in huge pages, so all of
    // their room is touched (zeroed, and counted in RSS): a sixteenth over the share covers the
    // random spread of uniform targets (under 1 % at 1e7 edges) without paying a quarter more.
    let share = pop.size() / (bucketing.len() * workers) as u64;
    let room = (share + share / 16 + 16).min(1 << 24) as usize;
    // Pairs are allowed only where 8 bytes per edge fit the budget (the caller checked 4).
    let pairs_fit = pop.size().saturating_mul(PAIR_BYTES) <= options.memory_budget;
    let mut pairs = Pairs::new(&bucketing, workers, room);
    if matches!(pairs, Pairs::Wide(_)) && !pairs_fit {
        return Ok(BucketAttempt::CountOtherwise);
    }
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    let mut source_max = 0u64;
    // Without nsyns, packed keys of contiguous columns are partitioned by the workers reading
    // their own rows; when some do not pack, the pairs are made again below, by the chunk
    // reader (which widens). Chunked columns stay with the chunk reader: blocks of the workers
    // would split the stored chunks and decode each twice. So does a census restricted to node
    // sets: the chunk reader applies the filter (one place for every engine).
    let mut by_workers = false;
    let contiguous = !pop.source_ids().dataset().is_chunked()
        && !pop.target_ids().dataset().is_chunked()
        && options.edge_filter.is_none();
    if let (None, true, Pairs::Packed { sets, source_bits }) = (&nsyns, contiguous, &mut pairs) {
        match by_workers::partition(pass, &bucketing, sets, *source_bits)? {
            by_workers::Outcome::Done { any_source } => {
                source_max = any_source;
                by_workers = true;
            }
            by_workers::Outcome::IdsTooWide => return Ok(BucketAttempt::CountOtherwise),
            by_workers::Outcome::DoesNotPack => {
                progress.phase(
                    &format!("{}: unsorted, partitioning by target", pop.name()),
                    pop.size(),
                );
                pairs = Pairs::new(&bucketing, workers, room);
            }
        }
    }
    let other_way = if by_workers {
        None
    } else {
        for_each_chunk_filtered(
            pop,
            options.chunk_len,
            nsyns,
            options.edge_filter.as_deref(),
            |chunk: &Chunk| {
                let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
                // The ids are checked after they are partitioned (one pass over the chunk, not three);
                // a chunk that fails the checks leaves its pairs behind, and the attempt with them.
                // (Targets past a known count are an error: whether they pack does not matter.)
                let check_targets = space.n_targets.is_none();
                let Some((max_target, max_source)) =
                    pairs.partition(&bucketing, targets, sources, check_targets, room, pairs_fit)
                else {
                    return Ok(ControlFlow::Break(()));
                };
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
                progress.inc(chunk.rows);
                Ok(ControlFlow::Continue(()))
            },
        )?
    };
    if other_way.is_some() {
        return Ok(BucketAttempt::CountOtherwise);
    }
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    pairs.flush();
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
    let pair_bytes = pop.size() * pairs.pair_bytes();
    let key_bits = 8 * pairs.pair_bytes();
    let count_batch = |pairs: &mut Pairs, first: usize| -> Vec<Result<TargetRuns>> {
        let end = (first + batch).min(bucketing.len());
        let taken: Vec<BucketParts> = (first..end).map(|b| pairs.take(&bucketing, b)).collect();
        taken
            .into_par_iter()
            .map(|parts| {
                let piece = SCRATCH.with_borrow_mut(|scratch| parts.count(digits, scratch, at));
                let edges = parts.len();
                drop(parts);
                progress.inc(edges as u64);
                piece
            })
            .collect()
    };
    let mut counted = count_batch(&mut pairs, 0);
    let mut first = batch;
    loop {
        crate::interrupt::check()?;
        // Every bucket below `first` is counted and its keys dropped.
        pairs.release_below(first);
        let more = first < bucketing.len();
        let (pushed, next) = rayon::join(
            || -> Result<()> {
                for piece in counted {
                    builder.push(&piece?)?;
                }
                Ok(())
            },
            || more.then(|| count_batch(&mut pairs, first)),
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
        pair_bytes,
        key_bits,
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
    sets: &mut [BucketSet<u64>],
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
            finish_appends();
            (max_t, max_s)
        })
        .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)))
}

mod by_workers;
mod dense;
mod group;
mod keys;
#[cfg(test)]
mod tests;

use dense::{count_dense_bucket, dense_applies};
use group::*;
use keys::{BucketSet, KeyLines, finish_appends};

/// Whether every edge of a chunk packs ([`block_packs`], pieces in parallel).
fn packs(targets: &[u64], sources: &[u64], source_bits: u32, target_end: Option<u64>) -> bool {
    targets
        .par_chunks(MIN_PIECE)
        .zip(sources.par_chunks(MIN_PIECE))
        .all(|(ts, ss)| block_packs(ts, ss, source_bits, target_end))
}

/// Whether every edge packs: sources below `2^source_bits` (their bitwise or, which
/// vectorises, has no higher bit) and, when given, targets below `target_end`.
fn block_packs(
    targets: &[u64],
    sources: &[u64],
    source_bits: u32,
    target_end: Option<u64>,
) -> bool {
    let any_source = sources.iter().fold(0, |acc, &s| acc | s);
    any_source.checked_shr(source_bits).unwrap_or(0) == 0
        && target_end.is_none_or(|end| targets.iter().fold(0, |m, &t| m.max(t)) < end)
}

/// [`partition`] into packed keys (`local target << source_bits | source`; the caller checked
/// that the chunk packs: [`packs`]): half the bytes of a pair written, and read back when
/// counted. Returns the largest target and the bitwise or of the sources (whose highest bit is
/// the largest source's).
fn partition_packed(
    bucketing: &Bucketing,
    targets: &[u64],
    sources: &[u64],
    sets: &mut [BucketSet<u32>],
    source_bits: u32,
) -> (u64, u64) {
    let piece = targets.len().div_ceil(sets.len()).max(MIN_PIECE);
    sets.par_iter_mut()
        .zip(targets.par_chunks(piece).zip(sources.par_chunks(piece)))
        .map(|(set, (ts, ss))| {
            let found = push_packed(bucketing, ts, ss, set, source_bits);
            finish_appends();
            found
        })
        .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1 | b.1))
}

/// Appends the packed keys of one worker's edges to its set (the edges pack: [`packs`]).
/// Returns the largest target and the bitwise or of the sources.
#[inline]
fn push_packed(
    bucketing: &Bucketing,
    targets: &[u64],
    sources: &[u64],
    set: &mut BucketSet<u32>,
    source_bits: u32,
) -> (u64, u64) {
    let (mut max_t, mut any_s) = (0u64, 0u64);
    for (&t, &s) in targets.iter().zip(sources) {
        let b = bucketing.bucket(t);
        let local = t - bucketing.first(b);
        set.push(b, ((local << source_bits) | s) as u32);
        max_t = max_t.max(t);
        any_s |= s;
    }
    (max_t, any_s)
}
