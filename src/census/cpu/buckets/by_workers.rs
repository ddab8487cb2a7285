//! The partition of packed keys with every worker reading its own rows: worker `w` of `W` takes
//! rows `w·E/W .. (w+1)·E/W` a block at a time, `pread`s the block's two columns itself and
//! appends its keys to its own set while the block is still in its cache.
//!
//! Why: with a reader thread handing chunks to the workers, two threads copied out of the page
//! cache while two partitioned, on two cores: the workers waited on each other and on the
//! reads (the partition ran at about half of two cores), and every chunk went through the
//! shared cache twice. Here each core reads and partitions in turn, with no hand-over.
//!
//! Only for packed keys of contiguous id columns and populations without bmtk `nsyns` (the
//! chunk reader of [`super::bucket_census`] does the rest): a block whose sources (or, with no
//! known target count, targets) do not pack stops the workers, and the caller starts again with
//! the chunk reader, which widens keys into pairs. Every outcome is the one of the lowest row
//! that has one, as when the rows are read in order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::error::Error;

/// Rows a worker reads at a time (fewer when the census's chunks are smaller): 256 KiB of each
/// column (u64), so that the block is still in the worker's cache while it is partitioned.
const BLOCK_ROWS: usize = 1 << 15;

/// How the partition ended.
pub(super) enum Outcome {
    /// Every edge is in the sets; the bitwise or of the sources (its highest bit is the
    /// largest source's).
    Done { any_source: u64 },
    /// An id of 2^32 or more: count another way.
    IdsTooWide,
    /// A source (or target) does not pack: partition again with pairs.
    DoesNotPack,
}

/// What stopped a worker, at which row.
enum Stop {
    Failed(Error),
    IdsTooWide,
    DoesNotPack,
}

/// Partitions every edge of `pop` into `sets` (one per worker) as packed keys.
///
/// # Errors
/// The read errors, a target beyond the known count (the lowest row's), an interruption.
pub(super) fn partition(
    pass: &Pass<'_>,
    bucketing: &Bucketing,
    sets: &mut [BucketSet<u32>],
    source_bits: u32,
) -> Result<Outcome> {
    let Pass {
        pop,
        options,
        space,
        progress,
        at,
        ..
    } = *pass;
    let edges = pop.size();
    let workers = sets.len() as u64;
    let block_rows = BLOCK_ROWS.min(options.chunk_len.max(1));
    // The lowest row at which a worker stopped: workers give up on rows beyond it.
    let stopped_at = AtomicU64::new(u64::MAX);
    let stops: Mutex<Vec<(u64, Stop)>> = Mutex::new(Vec::new());
    let target_end = match space.n_targets {
        // Targets past the count are an error, found below; every other one packs.
        Some(_) => None,
        None => Some(bucketing.packed_target_end()),
    };
    let any_source = sets
        .par_iter_mut()
        .enumerate()
        .map(|(w, set)| {
            let (first, end) = (edges * w as u64 / workers, edges * (w as u64 + 1) / workers);
            let stop = |row: u64, why: Stop| {
                stopped_at.fetch_min(row, Ordering::Relaxed);
                if let Ok(mut stops) = stops.lock() {
                    stops.push((row, why));
                }
            };
            let (mut targets, mut sources) = (vec![0u64; block_rows], vec![0u64; block_rows]);
            let mut any_source = 0u64;
            let mut row = first;
            while row < end && row < stopped_at.load(Ordering::Relaxed) {
                let n = ((end - row) as usize).min(block_rows);
                let (ts, ss) = (&mut targets[..n], &mut sources[..n]);
                let read = crate::interrupt::check()
                    .and_then(|()| pop.target_ids().read_range_into(row, ts))
                    .and_then(|()| pop.source_ids().read_range_into(row, ss));
                if let Err(e) = read {
                    stop(row, Stop::Failed(e));
                    break;
                }
                if !block_packs(ts, ss, source_bits, target_end) {
                    stop(row, Stop::DoesNotPack);
                    break;
                }
                let (max_target, any_here) = push_packed(bucketing, ts, ss, set, source_bits);
                if let Some(limit) = space.n_targets
                    && max_target >= limit
                {
                    let e = first_target_beyond_in(ts, pop.first_row() + row, limit, space, at);
                    stop(row, Stop::Failed(e));
                    break;
                }
                if max_target > u64::from(u32::MAX) {
                    stop(row, Stop::IdsTooWide);
                    break;
                }
                any_source |= any_here;
                progress.inc(n as u64);
                row += n as u64;
            }
            finish_appends();
            any_source
        })
        .reduce(|| 0, |a, b| a | b);
    let first_stop = stops
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .min_by_key(|&(row, _)| row);
    match first_stop {
        None => Ok(Outcome::Done { any_source }),
        Some((_, Stop::Failed(e))) => Err(e),
        Some((_, Stop::IdsTooWide)) => Ok(Outcome::IdsTooWide),
        Some((_, Stop::DoesNotPack)) => Ok(Outcome::DoesNotPack),
    }
}
