//! The CPU census engine: the specification that every other engine must equal bit for bit.
//!
//! Two strategies, chosen while streaming:
//!
//! - **Sorted by target** (BBP files, bmtk files): one streamed pass. Each target's edges form one
//!   run; a run's sources are sorted (when they are not already) and run-length encoded into
//!   connections. Runs that cross chunk boundaries are carried over. Whole runs inside a chunk are
//!   counted in parallel (rayon). Memory: the chunk buffers, the largest in-degree, and the output
//!   (with `census_spilled`, the connection table goes to spill files as it is found, so only
//!   the per-target tables stay).
//! - **Unsorted, bucketed** (when 8 bytes per edge fit `memory_budget` and every id fits 32
//!   bits): one read; each edge packed as `target << 32 | source` into the bucket of its
//!   target's high bits, then each bucket counting-sorted by target in cache and counted,
//!   buckets in parallel (`buckets.rs`). Memory: 8 B per edge, freed as buckets are counted.
//! - **Unsorted, two passes** (otherwise): detected at the first decreasing target id, then
//!   1. pass 1 streams the target column and counts synapses per target (exact in-degrees);
//!   2. targets are cut into contiguous partitions of at most `memory_budget` bytes of sources;
//!   3. one partition: pass 2 scatters each edge's source into its target's slot (counting
//!      sort); several partitions: pass 2 spills `(target, source)` records into one file per
//!      partition, then each partition is loaded and scattered in turn;
//!   4. each target's sources are sorted and run-length encoded, targets in parallel.
//!
//!   Time O(E log d) for E edges and in-degree d (plus O(E) spill I/O when partitioned); memory
//!   O(memory_budget + chunk buffers + output), where the output is 8 B per target ×3 and 12 B per
//!   connection. A single target whose in-degree exceeds the budget gets a partition of its own
//!   and may exceed it.
//!
//! Both strategies end in the same `TableBuilder`, so their tables are identical by
//! construction, and tests compare both with a naive reference.

//! # Files
//! This file holds the entry points (`census`, `census_spilled`) and the run-length encoding
//! every strategy uses; `sorted.rs` is the one-pass strategy, `buckets.rs` the one-read strategy
//! for unsorted input, `unsorted.rs` the two-pass one, and `spill.rs` its partitioned variant
//! that groups through files on disk. The tables and errors the
//! GPU engine shares with this one are in [`super::tables`].

mod buckets;
mod sorted;
mod spill;
mod unsorted;

use std::ops::ControlFlow;
use std::path::PathBuf;

use rayon::prelude::*;

use super::stream::{Chunk, NsynsSource, SpilledConnections, for_each_chunk_filtered};
use super::tables::{TableBuilder, Tables, TargetRuns, target_beyond, too_many_synapses};
use super::{Census, CensusOptions, CountedBy, TargetSpace};
use crate::error::{Location, Result};
use crate::progress::Progress;
use crate::sonata::EdgePopulation;
pub(crate) use buckets::PACKED_KEY_BYTES;
use buckets::{BucketAttempt, bucket_census};
use sorted::{SortedAttempt, sorted_census};
use spill::spill_census;
use unsorted::unsorted_census;

/// Run-length encodes ascending `sources` into connections. Returns the number of connections.
pub(super) fn encode_connections<S: SourceId>(
    sources: &[S],
    out_sources: &mut Vec<u64>,
    out_counts: &mut Vec<u32>,
) -> std::result::Result<u64, u64> {
    let mut n = 0u64;
    let mut i = 0;
    while i < sources.len() {
        let s = sources[i];
        let mut j = i + 1;
        while j < sources.len() && sources[j] == s {
            j += 1;
        }
        let len = (j - i) as u64;
        let len32 = u32::try_from(len).map_err(|_| s.to_u64())?;
        out_sources.push(s.to_u64());
        out_counts.push(len32);
        n += 1;
        i = j;
    }
    Ok(n)
}

/// Counts one run of edges of target `target`: run-length encodes its sources in one pass when
/// they are ascending (the common, BBP case), else sorts a copy first.
pub(super) fn count_run(
    target: u64,
    sources: &[u64],
    scratch: &mut Vec<u64>,
    piece: &mut TargetRuns,
    at: &Location,
) -> Result<()> {
    if piece.last_target().is_some_and(|last| last >= target) {
        piece.targets_increasing = false;
    }
    let mark = piece.sources.len();
    let conns = match encode_ascending(sources, &mut piece.sources, &mut piece.counts) {
        Ok(Some(n)) => n,
        Ok(None) => {
            piece.sources_sorted = false;
            piece.sources.truncate(mark);
            piece.counts.truncate(mark);
            scratch.clear();
            scratch.extend_from_slice(sources);
            scratch.sort_unstable();
            encode_connections(scratch, &mut piece.sources, &mut piece.counts)
                .map_err(|s| too_many_synapses(at, target, s))?
        }
        Err(s) => return Err(too_many_synapses(at, target, s)),
    };
    piece.runs.push((target, sources.len() as u64, conns));
    Ok(())
}

/// Run-length encodes `sources` if they are ascending; `Ok(None)` (output partly written) when
/// they are not, `Err(source)` when a connection has more than `u32::MAX` synapses.
///
/// Branch-free: every edge writes its source and its run's length so far to the current slot,
/// and the slot advances where the run ends. Connections of a few synapses each make the
/// branch "same source as before?" a coin toss; as a branch it took a quarter of a sorted
/// census's CPU time (perf, 1e8 edges).
pub(super) fn encode_ascending(
    sources: &[u64],
    out_sources: &mut Vec<u64>,
    out_counts: &mut Vec<u32>,
) -> std::result::Result<Option<u64>, u64> {
    let n = sources.len();
    let Some(&last) = sources.last() else {
        return Ok(Some(0));
    };
    let Ok(n32) = u32::try_from(n) else {
        // A run this long may hold a connection of more than u32::MAX synapses: checked.
        return encode_ascending_checked(sources, out_sources, out_counts);
    };
    let base = out_sources.len();
    out_sources.resize(base + n, 0);
    out_counts.resize(base + n, 0);
    let (slots, counts) = (&mut out_sources[base..], &mut out_counts[base..]);
    let mut k = 0usize;
    let mut run_start = 0u32;
    let mut descending = false;
    for (i, pair) in (1u32..).zip(sources.windows(2)) {
        let (s, next) = (pair[0], pair[1]);
        slots[k] = s;
        counts[k] = i - run_start;
        let ends = s != next;
        descending |= next < s;
        k += usize::from(ends);
        run_start = if ends { i } else { run_start };
    }
    slots[k] = last;
    counts[k] = n32 - run_start;
    k += 1;
    out_sources.truncate(base + k);
    out_counts.truncate(base + k);
    Ok((!descending).then_some(k as u64))
}

/// [`encode_ascending`] for runs of `u32::MAX` edges or more, checking each connection's count.
fn encode_ascending_checked(
    sources: &[u64],
    out_sources: &mut Vec<u64>,
    out_counts: &mut Vec<u32>,
) -> std::result::Result<Option<u64>, u64> {
    let Some((&first, rest)) = sources.split_first() else {
        return Ok(Some(0));
    };
    let mut current = first;
    let mut count = 1u64;
    let mut n = 0u64;
    for &s in rest {
        if s == current {
            count += 1;
        } else if s > current {
            out_sources.push(current);
            out_counts.push(u32::try_from(count).map_err(|_| current)?);
            n += 1;
            current = s;
            count = 1;
        } else {
            return Ok(None);
        }
    }
    out_sources.push(current);
    out_counts.push(u32::try_from(count).map_err(|_| current)?);
    Ok(Some(n + 1))
}

/// How the CPU engine counted a population (the `cpu strategy:` line of `-v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuStrategy {
    /// One streamed pass over input sorted by target; `spilled`: the connection table went to
    /// files (this many connections, in this folder) instead of memory.
    Sorted {
        /// Connections spilled and the folder of the spill files, when spilled.
        spilled: Option<(u64, PathBuf)>,
    },
    /// Unsorted input read once into buckets of targets, each grouped in cache.
    Bucketed {
        /// Number of buckets.
        buckets: usize,
        /// Bytes of the (target, source) keys.
        pair_bytes: u64,
        /// Width of a key: 32 (local target and source packed) or 64 (a `target << 32 |
        /// source` pair).
        key_bits: u64,
        /// The memory budget (bytes).
        memory_budget: u64,
    },
    /// Unsorted input grouped by target in memory, in one partition.
    Grouped {
        /// Bytes of sources grouped.
        source_bytes: u64,
        /// Width of a source id while grouping (32 or 64).
        source_bits: u64,
        /// The memory budget (bytes).
        memory_budget: u64,
    },
    /// Unsorted input grouped partition by partition through spill files.
    Partitioned {
        /// Target partitions.
        partitions: usize,
        /// The memory budget (bytes).
        memory_budget: u64,
        /// Width of a source id while grouping (32 or 64).
        source_bits: u64,
        /// Folder of the spill files.
        spill_dir: PathBuf,
    },
}

impl std::fmt::Display for CpuStrategy {
    /// The words of the `-v` line (which name `count`'s `--memory-budget`, as they always did).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |bytes: u64| bytes as f64 / f64::from(1u32 << 20);
        match self {
            CpuStrategy::Sorted { spilled: None } => {
                f.write_str("sorted by target, one streamed pass; connection table in memory")
            }
            CpuStrategy::Sorted {
                spilled: Some((n, dir)),
            } => write!(
                f,
                "sorted by target, one streamed pass; connection table ({}) spilled to files in {}",
                crate::words::plural(*n, "connection"),
                dir.display()
            ),
            CpuStrategy::Bucketed {
                buckets,
                pair_bytes,
                key_bits,
                memory_budget,
            } => write!(
                f,
                "unsorted, in memory: read once into {buckets} buckets of targets ({:.1} MiB of \
                 {key_bits}-bit (target, source) keys, --memory-budget {:.0} MiB), each grouped \
                 by target in cache",
                mib(*pair_bytes),
                mib(*memory_budget)
            ),
            CpuStrategy::Grouped {
                source_bytes,
                source_bits,
                memory_budget,
            } => write!(
                f,
                "unsorted, in memory: grouped by target in one partition ({:.1} MiB of \
                 {source_bits}-bit sources, --memory-budget {:.0} MiB)",
                mib(*source_bytes),
                mib(*memory_budget)
            ),
            CpuStrategy::Partitioned {
                partitions,
                memory_budget,
                source_bits,
                spill_dir,
            } => write!(
                f,
                "unsorted, spilled: {} of at most {:.0} MiB (the memory budget) of \
                 {source_bits}-bit sources, records written to {}",
                crate::words::plural(*partitions as u64, "partition"),
                mib(*memory_budget),
                spill_dir.display()
            ),
        }
    }
}

/// What every strategy reads: the population, the caller's options, the target space, the
/// progress display, where messages point, and `count`'s spill threshold (bytes of tables).
#[derive(Clone, Copy)]
pub(super) struct Pass<'a> {
    pub(super) pop: &'a EdgePopulation,
    pub(super) options: &'a CensusOptions,
    pub(super) space: &'a TargetSpace,
    pub(super) progress: &'a Progress,
    pub(super) at: &'a Location,
    pub(super) spill_above: Option<u64>,
}

impl Pass<'_> {
    /// The tables' builder for this population (spilling past `spill_above`).
    fn table_builder(&self) -> TableBuilder {
        let builder =
            TableBuilder::with_targets(self.space.n_targets.unwrap_or(0), self.pop.size());
        match self.spill_above {
            Some(above) => builder.spilling(above, self.options.spill_dir.clone()),
            None => builder,
        }
    }
}

/// Adds each edge's bmtk `nsyns` (when the chunk has them) to its target's total.
fn add_nsyns(totals: &mut Vec<u64>, targets: &[u64], nsyns: Option<&[u64]>) {
    let Some(nsyns) = nsyns else {
        return;
    };
    for (&t, &n) in targets.iter().zip(nsyns) {
        let t = t as usize;
        if t >= totals.len() {
            totals.resize(t + 1, 0);
        }
        totals[t] += n;
    }
}

/// The error for the first target of `chunk` at or beyond `limit` (the chunk has one).
fn first_target_beyond(
    chunk: &Chunk,
    limit: u64,
    space: &TargetSpace,
    at: &Location,
) -> crate::error::Error {
    let row = chunk.targets.iter().position(|&t| t >= limit).unwrap_or(0);
    let target = chunk.targets.get(row).copied().unwrap_or(limit);
    let edge = if chunk.targets.is_empty() {
        chunk.first_edge
    } else {
        chunk.edge_id(row)
    };
    target_beyond(at, target, edge, space)
}

/// The error for the first of `targets` (rows from `first_edge` on) at or beyond `limit`.
fn first_target_beyond_in(
    targets: &[u64],
    first_edge: u64,
    limit: u64,
    space: &TargetSpace,
    at: &Location,
) -> crate::error::Error {
    let row = targets.iter().position(|&t| t >= limit).unwrap_or(0);
    let target = targets.get(row).copied().unwrap_or(limit);
    target_beyond(at, target, first_edge + row as u64, space)
}

/// The folder spill files go to: the caller's, or the system's temporary folder.
fn spill_dir(options: &CensusOptions) -> PathBuf {
    options.spill_dir.clone().unwrap_or_else(std::env::temp_dir)
}

/// Storage type of source ids while gathering: u32 when every source fits, else u64.
pub(super) trait SourceId: Copy + Ord + Send + Sync + Default + bytemuck::Pod {
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
}

impl SourceId for u32 {
    fn from_u64(v: u64) -> Self {
        // Only used after pass 1 proved every source id fits.
        v as u32
    }
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl SourceId for u64 {
    fn from_u64(v: u64) -> Self {
        v
    }
    fn to_u64(self) -> u64 {
        self
    }
}

/// Census of a population, CPU engine. See the module docs for the strategies. (What a GPU run
/// falls back to; other callers want [`census_spilled`]'s notes.)
#[cfg(feature = "gpu")]
pub(crate) fn census(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<NsynsSource>>,
    progress: &Progress,
) -> Result<Census> {
    census_spilled(pop, options, space, nsyns, progress, None, &mut Vec::new())
        .map(|(census, _)| census)
}

/// [`census`]; with `spill_above` (bytes), the connection table goes to temporary files (in
/// `options.spill_dir`) as it is found, once the tables in memory exceed that many bytes
/// (12 per connection, 16 per target), instead of staying in memory: the returned census then
/// has empty `source_node_id` / `synapse_count` and the table comes back as
/// [`SpilledConnections`] (same content). Unsorted input counted by the two-pass strategy keeps
/// its table in memory either way. The strategy it took goes to `notes` (a `-v` line).
pub(crate) fn census_spilled(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<NsynsSource>>,
    progress: &Progress,
    spill_above: Option<u64>,
    notes: &mut Vec<super::Note>,
) -> Result<(Census, Option<SpilledConnections>)> {
    let at = pop.target_ids().location().clone();
    progress.phase(&format!("{}: counting", pop.name()), pop.size());
    let mut nsyns_total: Option<Vec<u64>> = None;
    let pass = Pass {
        pop,
        options,
        space,
        progress,
        at: &at,
        spill_above,
    };
    let attempt = sorted_census(&pass, nsyns()?, &mut nsyns_total)?;
    let (tables, spilled, sortedness) = match attempt {
        SortedAttempt::Done(tables, spilled, by_target_source) => {
            let strategy = CpuStrategy::Sorted {
                spilled: spilled.as_ref().map(|s| (s.len(), spill_dir(options))),
            };
            notes.push(super::Note::detail(format!(
                "cpu strategy: {}: {strategy}",
                pop.name()
            )));
            (
                tables,
                spilled,
                super::Sortedness {
                    by_target: true,
                    by_target_source,
                },
            )
        }
        SortedAttempt::Unsorted => {
            // (The strategies set `nsyns_total` only when they finish.)
            nsyns_total = None;
            let fits = pop.size().saturating_mul(PACKED_KEY_BYTES) <= options.memory_budget;
            let bucketed = if fits {
                match bucket_census(&pass, nsyns()?, &mut nsyns_total)? {
                    BucketAttempt::Done(done) => Some(*done),
                    BucketAttempt::CountOtherwise => None,
                }
            } else {
                None
            };
            let (tables, spilled, strategy) = match bucketed {
                Some(done) => done,
                None => {
                    let (tables, strategy) = unsorted_census(&pass, nsyns()?, &mut nsyns_total)?;
                    (tables, None, strategy)
                }
            };
            notes.push(super::Note::detail(format!(
                "cpu strategy: {}: {strategy}",
                pop.name()
            )));
            (
                tables,
                spilled,
                super::Sortedness {
                    by_target: false,
                    by_target_source: false,
                },
            )
        }
    };
    let n_targets = tables.target_synapse_count.len() as u64;
    if let Some(v) = nsyns_total.as_mut() {
        v.resize(n_targets as usize, 0);
    }
    let census = Census::from_tables(
        pop,
        n_targets,
        sortedness,
        tables,
        nsyns_total,
        CountedBy::Cpu,
    );
    Ok((census, spilled))
}

#[cfg(test)]
mod tests {
    use super::sorted::{count_sorted_segment, run_boundaries};
    use super::unsorted::{TargetGroup, partitions};
    use super::*;
    use crate::census::tables::synapses_per_connection;

    /// The branch-free run-length encoding equals the checked one, and says when sources are not
    /// ascending.
    #[test]
    fn branch_free_encoding_equals_checked() {
        let cases: [&[u64]; 7] = [
            &[],
            &[5],
            &[1, 1, 1],
            &[1, 2, 3],
            &[0, 0, 2, 2, 2, 7, 9, 9],
            &[3, 3, 1],
            &[1, 2, 2, 1, 5],
        ];
        for sources in cases {
            let (mut a_s, mut a_c) = (vec![42u64], vec![7u32]);
            let (mut b_s, mut b_c) = (vec![42u64], vec![7u32]);
            let a = encode_ascending(sources, &mut a_s, &mut a_c);
            let b = encode_ascending_checked(sources, &mut b_s, &mut b_c);
            assert_eq!(a, b, "{sources:?}");
            if a.is_ok_and(|n| n.is_some()) {
                assert_eq!((a_s, a_c), (b_s, b_c), "{sources:?}");
            }
        }
    }

    #[test]
    fn histogram_counts_each_size() {
        assert_eq!(synapses_per_connection(&[]), vec![0]);
        assert_eq!(synapses_per_connection(&[1, 3, 3, 1, 1]), vec![0, 3, 0, 2]);
    }

    #[test]
    fn partitions_respect_budget_and_cover_all_targets() {
        assert_eq!(partitions(&[3, 3, 3, 3], 6), vec![(0, 2), (2, 4)]);
        assert_eq!(partitions(&[10, 1, 1], 4), vec![(0, 1), (1, 3)]);
        assert_eq!(partitions(&[], 4), vec![(0, 0)]);
        assert_eq!(partitions(&[0, 0, 5], 4), vec![(0, 3)]);
    }

    #[test]
    fn staged_scatter_equals_direct_scatter() {
        let at = Location::file("x");
        // A pseudo-random shuffled population: 37 targets (some empty), in-degrees up to ~100,
        // so that staging lines fill, flush and are left partly full; scattered in several calls.
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let n_targets = 37usize;
        let (mut targets, mut sources) = (Vec::new(), Vec::new());
        for _ in 0..2000 {
            let t = next() % n_targets as u64;
            if t % 5 != 2 {
                targets.push(t);
                sources.push(next() % 9);
            }
        }
        let mut synapses = vec![0u64; n_targets];
        for &t in &targets {
            synapses[t as usize] += 1;
        }
        for (t0, t1) in [(0, n_targets), (3, 20)] {
            let pieces: Vec<TargetRuns> = [false, true]
                .into_iter()
                .map(|stage| {
                    let mut g = TargetGroup::<u32>::with_staging(&synapses, t0, t1, stage);
                    for (ts, ss) in targets.chunks(333).zip(sources.chunks(333)) {
                        g.scatter(ts, ss);
                    }
                    g.count(&at).unwrap()
                })
                .collect();
            assert_eq!(pieces[0].runs, pieces[1].runs);
            assert_eq!(pieces[0].sources, pieces[1].sources);
            assert_eq!(pieces[0].counts, pieces[1].counts);
            let edges: u64 = pieces[1].runs.iter().map(|r| r.1).sum();
            assert_eq!(edges, synapses[t0..t1].iter().sum::<u64>());
        }
    }

    #[test]
    fn run_boundaries_never_split_a_run() {
        let t = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
        for parts in 1..12 {
            let cuts = run_boundaries(&t, parts);
            assert_eq!(cuts.first(), Some(&0));
            assert_eq!(cuts.last(), Some(&t.len()));
            for &c in &cuts[1..cuts.len() - 1] {
                assert_ne!(t[c], t[c - 1], "cut {c} splits a run ({parts} parts)");
            }
        }
    }

    #[test]
    fn sorted_segment_counts_connections() {
        let at = Location::file("x");
        let mut piece = TargetRuns::default();
        let mut scratch = Vec::new();
        count_sorted_segment(
            &[1, 1, 1, 4, 4],
            &[7, 2, 7, 0, 0],
            &mut piece,
            &mut scratch,
            &at,
        )
        .unwrap();
        assert_eq!(piece.runs, vec![(1, 3, 2), (4, 2, 1)]);
        assert_eq!(piece.sources, vec![2, 7, 0]);
        assert_eq!(piece.counts, vec![1, 2, 2]);
        assert!(!piece.sources_sorted && piece.targets_increasing);
        count_sorted_segment(&[1, 1, 3, 2], &[0, 1, 0, 0], &mut piece, &mut scratch, &at).unwrap();
        assert!(piece.sources_sorted && !piece.targets_increasing);
    }
}
