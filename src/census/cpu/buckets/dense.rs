//! Counting one bucket of packed keys with a counter per source: the keys grouped by local
//! target (a counting sort over the bucket's few hundred targets), then each target's synapses
//! per source tallied in a per-worker array indexed by source id, and only the target's
//! distinct sources sorted.
//!
//! Why: the radix sort of [`super::group`] moves every key through two or three scatter passes
//! of thousands of bins (a 25-bit key at 1e7 edges over 100k nodes), each a cache miss on a
//! 32 KiB-L1 core; here a key is moved once (into its target's group, 256 bins that stay in
//! L1) and counted once, and the sort only sees each connection, not each synapse (4.4 synapses
//! per connection in generated circuits). On the 2-core AMD EPYC VM of 2026-12-04: 70 ms
//! instead of 144 ms for 390 buckets of 25.6k keys (one core), equal outputs.
//!
//! The counters are `u16` (100k sources: 200 KiB, inside L2; `u32` took 30 % longer). A target
//! with more than `u16::MAX` keys could overflow one: its sources are sorted and run-length
//! encoded instead. Used where the sources are few enough for the array
//! ([`DENSE_MAX_SOURCE_BITS`]) and the bucket's targets are not too sparse for a counting sort
//! (the same bound as the radix path's).

use super::*;

/// Largest source id width counted densely: 2^22 counters of 2 bytes (8 MiB per worker, for
/// circuits of up to 4 million source nodes); wider ids go through the radix sort.
pub(super) const DENSE_MAX_SOURCE_BITS: u32 = 22;

/// Per-worker buffers of [`count_dense_bucket`], reused bucket after bucket.
#[derive(Default)]
pub(super) struct DenseScratch {
    /// Each local target's first slot in `grouped`, then each one's next free slot.
    offsets: Vec<u32>,
    slots: Vec<u32>,
    /// The bucket's sources grouped by local target.
    grouped: Vec<u32>,
    /// Synapses per source of the target being counted; all zero between targets.
    synapses: Vec<u16>,
    /// The target's distinct sources (sorted before they are written).
    distinct: Vec<u32>,
}

/// Whether [`count_dense_bucket`] can count a bucket of `n` keys laid out as `layout` whose
/// sources are below `2^source_bits`.
pub(super) fn dense_applies(n: usize, layout: PackedLayout, source_bits: u32) -> bool {
    let span = 1u64.checked_shl(layout.target_bits).unwrap_or(u64::MAX);
    source_bits <= DENSE_MAX_SOURCE_BITS
        && source_bits <= layout.source_bits
        && u32::try_from(n).is_ok()
        && span <= SPARSE_TARGETS_PER_PAIR * n as u64 + 4096
}

/// Counts one bucket of packed keys (`local target << layout.source_bits | source`, sources
/// below `2^source_bits`; [`dense_applies`] holds): targets ascending, each target's sources
/// ascending with their synapse counts, as [`count_packed_bucket`] gives them.
pub(super) fn count_dense_bucket(
    parts: &[&[u32]],
    layout: PackedLayout,
    source_bits: u32,
    scratch: &mut DenseScratch,
    at: &Location,
) -> Result<TargetRuns> {
    let mut piece = TargetRuns::default();
    let n: usize = parts.iter().map(|p| p.len()).sum();
    if n == 0 {
        return Ok(piece);
    }
    let PackedLayout {
        first_target,
        target_bits,
        source_bits: layout_bits,
    } = layout;
    let span = 1usize << target_bits;
    let source_mask = low_bits(layout_bits);
    let DenseScratch {
        offsets,
        slots,
        grouped,
        synapses,
        distinct,
    } = scratch;
    // Group the sources by local target: a counting sort.
    offsets.clear();
    offsets.resize(span + 1, 0);
    for part in parts {
        for &k in part.iter() {
            offsets[(k >> layout_bits) as usize + 1] += 1;
        }
    }
    for i in 0..span {
        offsets[i + 1] += offsets[i];
    }
    slots.clear();
    slots.extend_from_slice(&offsets[..span]);
    grouped.clear();
    grouped.resize(n, 0);
    for part in parts {
        for &k in part.iter() {
            let slot = &mut slots[(k >> layout_bits) as usize];
            grouped[*slot as usize] = k & source_mask;
            *slot += 1;
        }
    }
    // (Resizing zeroes only what the scratch never had; counters go back to zero after each
    // target.)
    piece.sources.reserve(n / 4 + 16);
    piece.counts.reserve(n / 4 + 16);
    let sources_end = 1usize << source_bits;
    if synapses.len() < sources_end {
        synapses.resize(sources_end, 0);
    }
    for local in 0..span {
        let (start, end) = (offsets[local] as usize, offsets[local + 1] as usize);
        if start == end {
            continue;
        }
        let target = first_target + local as u64;
        let group = &mut grouped[start..end];
        let before = piece.sources.len();
        if group.len() > usize::from(u16::MAX) {
            // A counter could overflow: sort and run-length encode this target instead.
            group.sort_unstable();
            encode_connections(group, &mut piece.sources, &mut piece.counts)
                .map_err(|s| too_many_synapses(at, target, s))?;
        } else {
            // Branch-free: every source is written to the next slot, which advances only for
            // a source not seen yet in this target.
            distinct.clear();
            distinct.resize(group.len(), 0);
            let mut found = 0usize;
            for &s in group.iter() {
                let count = &mut synapses[s as usize];
                distinct[found] = s;
                found += usize::from(*count == 0);
                *count += 1;
            }
            let distinct = &mut distinct[..found];
            distinct.sort_unstable();
            for &s in distinct.iter() {
                let count = &mut synapses[s as usize];
                piece.sources.push(u64::from(s));
                piece.counts.push(u32::from(*count));
                *count = 0;
            }
        }
        piece.runs.push((
            target,
            (end - start) as u64,
            (piece.sources.len() - before) as u64,
        ));
    }
    Ok(piece)
}
