//! The CPU census engine: the specification that every other engine must equal bit for bit.
//!
//! Two strategies, chosen while streaming:
//!
//! - **Sorted by target** (BBP files, bmtk files): one streamed pass. Each target's edges form one
//!   run; a run's sources are sorted (when they are not already) and run-length encoded into
//!   connections. Runs that cross chunk boundaries are carried over. Whole runs inside a chunk are
//!   counted in parallel (rayon). Memory: the chunk buffers, the largest in-degree, and the output
//!   (with [`census_spilled`], the connection table goes to spill files as it is found, so only
//!   the per-target tables stay).
//! - **Unsorted**: detected at the first decreasing target id, then
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

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;

use rayon::prelude::*;

use super::stream::{Chunk, ConnectionSpill, NsynsSource, SpilledConnections, for_each_chunk};
use super::{Census, CensusOptions, TargetSpace};
use crate::error::{Error, Location, Result};
use crate::progress::Progress;
use crate::sonata::EdgePopulation;

/// Connections found for a run of targets, in target order.
#[derive(Debug, Default)]
pub(crate) struct Piece {
    /// `(target, synapses, connections)` per target with at least one edge, ascending targets.
    runs: Vec<(u64, u64, u64)>,
    /// Source id of each connection (ascending within a target).
    sources: Vec<u64>,
    /// Synapses of each connection.
    counts: Vec<u32>,
    /// Every run's sources were already ascending (the input is sorted by (target, source)).
    sources_sorted: bool,
    /// The runs' targets strictly increase (the input is sorted by target).
    targets_increasing: bool,
}

impl Piece {
    /// Empties the piece, keeping its buffers (they are reused chunk after chunk).
    fn reset(&mut self) {
        self.runs.clear();
        self.sources.clear();
        self.counts.clear();
        self.sources_sorted = true;
        self.targets_increasing = true;
    }

    fn first_target(&self) -> Option<u64> {
        self.runs.first().map(|r| r.0)
    }

    fn last_target(&self) -> Option<u64> {
        self.runs.last().map(|r| r.0)
    }
}

/// Accumulates pieces (in ascending target order) into the census tables.
#[derive(Debug, Default)]
pub(crate) struct TableBuilder {
    synapses: Vec<u64>,
    connections: Vec<u64>,
    sources: Vec<u64>,
    counts: Vec<u32>,
    /// When set, connections go to these files instead of `sources` / `counts`, so that memory
    /// stays flat however many connections there are.
    spill: Option<ConnectionSpill>,
    /// Move the table to spill files once it holds more than this many connections (and the
    /// folder for them).
    spill_above: Option<(u64, Option<std::path::PathBuf>)>,
    /// Histogram of synapses per connection, kept as connections pass (only when spilling).
    histogram: Vec<u64>,
}

impl TableBuilder {
    /// A builder for `n` targets (more when target ids say so) and up to `edges` connections.
    fn with_targets(n: u64, edges: u64) -> Self {
        // Reserving address space for the connections avoids copies as the table grows; pages
        // are only touched (and counted in RSS) as connections arrive. Capped so that huge
        // populations do not ask for absurd reservations up front.
        let reserve = edges.min(MAX_CONNECTION_RESERVE) as usize;
        TableBuilder {
            synapses: vec![0; n as usize],
            connections: vec![0; n as usize],
            sources: Vec::with_capacity(reserve),
            counts: Vec::with_capacity(reserve),
            spill: None,
            spill_above: None,
            histogram: vec![0],
        }
    }

    /// Sends the connections to spill files in `dir` once there are more than `above`.
    fn spilling(mut self, above: u64, dir: Option<std::path::PathBuf>) -> Self {
        self.spill_above = Some((above, dir));
        self
    }

    fn push(&mut self, piece: &Piece) -> Result<()> {
        for &(t, syn, conn) in &piece.runs {
            let t = t as usize;
            if t >= self.synapses.len() {
                self.synapses.resize(t + 1, 0);
                self.connections.resize(t + 1, 0);
            }
            self.synapses[t] += syn;
            self.connections[t] += conn;
        }
        if let (None, Some((above, dir))) = (&self.spill, &self.spill_above)
            && (self.sources.len() + piece.sources.len()) as u64 > *above
        {
            let mut spill = ConnectionSpill::create(dir.as_deref())?;
            spill.append(&self.sources, &self.counts)?;
            self.histogram = synapses_per_connection(&self.counts);
            // Give the pages back: from now on connections only pass through.
            self.sources = Vec::new();
            self.counts = Vec::new();
            self.spill = Some(spill);
        }
        match self.spill.as_mut() {
            Some(spill) => {
                spill.append(&piece.sources, &piece.counts)?;
                for &c in &piece.counts {
                    let c = c as usize;
                    if c >= self.histogram.len() {
                        self.histogram.resize(c + 1, 0);
                    }
                    self.histogram[c] += 1;
                }
            }
            None => {
                self.sources.extend_from_slice(&piece.sources);
                self.counts.extend_from_slice(&piece.counts);
            }
        }
        Ok(())
    }

    /// Builds the census tables for `n_targets` targets (every target id seen is below it). When
    /// spilling, the tables' connection columns are empty and the connections are returned on
    /// disk.
    fn finish(mut self, n_targets: u64) -> Result<(Tables, Option<SpilledConnections>)> {
        self.synapses.resize(n_targets as usize, 0);
        self.connections.resize(n_targets as usize, 0);
        let mut offsets = Vec::with_capacity(n_targets as usize + 1);
        let mut acc = 0u64;
        offsets.push(0);
        for &c in &self.connections {
            acc += c;
            offsets.push(acc);
        }
        let (histogram, spilled) = match self.spill.take() {
            Some(spill) => (std::mem::take(&mut self.histogram), Some(spill.finish()?)),
            None => (synapses_per_connection(&self.counts), None),
        };
        let tables = Tables {
            target_synapse_count: self.synapses,
            target_connection_count: self.connections,
            target_offsets: offsets,
            source_node_id: self.sources,
            synapse_count: self.counts,
            synapses_per_connection: histogram,
        };
        Ok((tables, spilled))
    }
}

/// Largest number of connections reserved up front (beyond it the table grows by doubling).
const MAX_CONNECTION_RESERVE: u64 = 1 << 27;

/// The tables of a census, before metadata is attached.
#[derive(Debug)]
pub(crate) struct Tables {
    pub target_synapse_count: Vec<u64>,
    pub target_connection_count: Vec<u64>,
    pub target_offsets: Vec<u64>,
    pub source_node_id: Vec<u64>,
    pub synapse_count: Vec<u32>,
    pub synapses_per_connection: Vec<u64>,
}

/// Histogram of synapses per connection: entry `i` counts connections with exactly `i` synapses.
/// Its length is the largest count + 1 (just `[0]` when there are no connections).
pub fn synapses_per_connection(counts: &[u32]) -> Vec<u64> {
    let max = counts.par_iter().copied().max().unwrap_or(0) as usize;
    counts
        .par_chunks(1 << 16)
        .fold(
            || vec![0u64; max + 1],
            |mut h, c| {
                for &x in c {
                    h[x as usize] += 1;
                }
                h
            },
        )
        .reduce(
            || vec![0u64; max + 1],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

/// Run-length encodes ascending `sources` into connections. Returns the number of connections.
fn encode_connections<S: SourceId>(
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

/// A connection with more synapses than the u32 `synapse_count` table holds (both engines).
pub(crate) fn too_many_synapses(at: &Location, target: u64, source: u64) -> Error {
    Error::invalid(
        at.clone(),
        format!(
            "connection {source} -> {target} has more than {} synapses; the synapse_count table \
             (uint32) cannot hold it",
            u32::MAX
        ),
    )
}

/// Counts one run of edges of target `target`: run-length encodes its sources in one pass when
/// they are ascending (the common, BBP case), else sorts a copy first.
fn count_run(
    target: u64,
    sources: &[u64],
    scratch: &mut Vec<u64>,
    piece: &mut Piece,
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
fn encode_ascending(
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

/// Counts complete runs of (supposedly) target-sorted edges into `piece` (reset first). Whether
/// the targets really increase is recorded in the piece.
fn count_sorted_segment(
    targets: &[u64],
    sources: &[u64],
    piece: &mut Piece,
    scratch: &mut Vec<u64>,
    at: &Location,
) -> Result<()> {
    piece.reset();
    let mut i = 0;
    while i < targets.len() {
        let t = targets[i];
        let mut j = i + 1;
        while j < targets.len() && targets[j] == t {
            j += 1;
        }
        count_run(t, &sources[i..j], scratch, piece, at)?;
        i = j;
    }
    Ok(())
}

/// Splits `[0, targets.len())` into about `parts` pieces whose boundaries fall between runs.
fn run_boundaries(targets: &[u64], parts: usize) -> Vec<usize> {
    let n = targets.len();
    let mut cuts = vec![0];
    for k in 1..parts {
        let mut c = (n * k / parts).max(*cuts.last().unwrap_or(&0));
        while c > 0 && c < n && targets[c] == targets[c - 1] {
            c += 1;
        }
        if c < n && c > *cuts.last().unwrap_or(&0) {
            cuts.push(c);
        }
    }
    cuts.push(n);
    cuts
}

/// A target id beyond the node count (both engines).
pub(crate) fn target_beyond(at: &Location, target: u64, row: u64, space: &TargetSpace) -> Error {
    Error::invalid(
        at.clone(),
        format!(
            "target node id {target} at row {row} is beyond the {} target nodes given by {} \
             (the data and the node count disagree)",
            space.n_targets.unwrap_or(0),
            space.origin
        ),
    )
}

/// Outcome of the sorted attempt.
enum SortedAttempt {
    Done(Tables, Option<SpilledConnections>, bool),
    Unsorted,
}

/// Census of a population, CPU engine. See the module docs for the strategies.
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

/// [`census`]; with `spill_above`, the connection table of sorted input goes to temporary files
/// (in `options.spill_dir`) as it is found, once it holds more than that many connections,
/// instead of staying in memory: the returned census then has empty `source_node_id` /
/// `synapse_count` and the table comes back as [`SpilledConnections`] (same content). Unsorted
/// input is counted in memory either way. The strategy it took goes to `notes` (a `-v` line).
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
    let attempt = sorted_census(
        pop,
        options,
        space,
        nsyns()?,
        &mut nsyns_total,
        progress,
        &at,
        spill_above,
    )?;
    let spill_dir = || {
        options
            .spill_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .display()
            .to_string()
    };
    let (tables, spilled, sortedness) = match attempt {
        SortedAttempt::Done(tables, spilled, by_target_source) => {
            let table = match &spilled {
                Some(s) => format!(
                    "connection table ({}) spilled to files in {}",
                    crate::words::plural(s.len(), "connection"),
                    spill_dir()
                ),
                None => "connection table in memory".to_string(),
            };
            notes.push(super::Note::detail(format!(
                "cpu strategy: {}: sorted by target, one streamed pass; {table}",
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
            nsyns_total = None;
            let (tables, strategy) = unsorted_census(
                pop,
                options,
                space,
                nsyns()?,
                &mut nsyns_total,
                progress,
                &at,
            )?;
            notes.push(super::Note::detail(format!(
                "cpu strategy: {}: unsorted, {strategy}",
                pop.name()
            )));
            (
                tables,
                None,
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
        "cpu".into(),
    );
    Ok((census, spilled))
}

#[allow(clippy::too_many_arguments)]
fn sorted_census(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: Option<NsynsSource>,
    nsyns_total: &mut Option<Vec<u64>>,
    progress: &Progress,
    at: &Location,
    spill_above: Option<u64>,
) -> Result<SortedAttempt> {
    let mut builder = TableBuilder::with_targets(space.n_targets.unwrap_or(0), pop.size());
    if let Some(above) = spill_above {
        builder = builder.spilling(above, options.spill_dir.clone());
    }
    // The run carried over from the previous chunk: (target, its sources so far).
    let mut pending: Option<(u64, Vec<u64>)> = None;
    let mut sources_sorted = true;
    let threads = rayon::current_num_threads().max(1);
    // Pieces and their sort scratch are reused chunk after chunk.
    let mut pieces: Vec<(Piece, Vec<u64>)> = Vec::new();
    let mut single = Piece::default();
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    let broke = for_each_chunk(pop, options.chunk_len, nsyns, |chunk: &Chunk| {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        // Continue the run carried over from the previous chunk.
        let mut start = 0;
        if let Some((t, run)) = pending.as_mut() {
            start = targets.iter().position(|x| x != t).unwrap_or(targets.len());
            run.extend_from_slice(&sources[..start]);
            if start == targets.len() {
                progress.inc(targets.len() as u64);
                return Ok(ControlFlow::Continue(()));
            }
            if targets[start] < *t {
                return Ok(ControlFlow::Break(()));
            }
        }
        // The last run may continue in the next chunk: carry it.
        let last_t = targets[targets.len() - 1];
        let mut end = targets.len();
        while end > start && targets[end - 1] == last_t {
            end -= 1;
        }
        let (mid_t, mid_s) = (&targets[start..end], &sources[start..end]);
        let cuts = run_boundaries(mid_t, threads * 4);
        pieces.resize_with(cuts.len() - 1, Default::default);
        pieces
            .par_iter_mut()
            .zip(cuts.par_windows(2))
            .try_for_each(|((piece, scratch), w)| {
                count_sorted_segment(&mid_t[w[0]..w[1]], &mid_s[w[0]..w[1]], piece, scratch, at)
            })?;
        // Sorted by target iff every piece's targets increase and so do the pieces'.
        let mut previous = pending.as_ref().map(|p| p.0);
        for (piece, _) in &pieces {
            let (Some(first), Some(last)) = (piece.first_target(), piece.last_target()) else {
                continue;
            };
            if !piece.targets_increasing || previous.is_some_and(|p| p >= first) {
                return Ok(ControlFlow::Break(()));
            }
            previous = Some(last);
        }
        if previous.is_some_and(|p| p >= last_t) {
            return Ok(ControlFlow::Break(()));
        }
        if let Some(limit) = space.n_targets
            && last_t >= limit
        {
            let row = targets.iter().position(|&t| t >= limit).unwrap_or(0);
            let (t, row) = (targets[row], chunk.first_edge + row as u64);
            return Err(target_beyond(at, t, row, space));
        }
        if let Some((t, run)) = pending.take() {
            single.reset();
            count_run(t, &run, &mut Vec::new(), &mut single, at)?;
            sources_sorted &= single.sources_sorted;
            builder.push(&single)?;
        }
        for (piece, _) in &pieces {
            sources_sorted &= piece.sources_sorted;
            builder.push(piece)?;
        }
        if let Some(ns) = &chunk.nsyns {
            for (&t, &n) in targets.iter().zip(ns) {
                let t = t as usize;
                if t >= nsyns_acc.len() {
                    nsyns_acc.resize(t + 1, 0);
                }
                nsyns_acc[t] += n;
            }
        }
        pending = Some((last_t, sources[end..].to_vec()));
        progress.inc(targets.len() as u64);
        Ok(ControlFlow::Continue(()))
    })?;
    if broke.is_some() {
        return Ok(SortedAttempt::Unsorted);
    }
    if let Some((t, run)) = pending.take() {
        single.reset();
        count_run(t, &run, &mut Vec::new(), &mut single, at)?;
        sources_sorted &= single.sources_sorted;
        builder.push(&single)?;
    }
    let n_targets = space.n_targets.unwrap_or(builder.synapses.len() as u64);
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    let (tables, spilled) = builder.finish(n_targets)?;
    Ok(SortedAttempt::Done(tables, spilled, sources_sorted))
}

/// Storage type of source ids while gathering: u32 when every source fits, else u64.
trait SourceId: Copy + Ord + Send + Sync + Default + bytemuck::Pod {
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

/// Pass 1 of the unsorted strategy: in-degrees, largest source, nsyns totals.
struct Degrees {
    synapses: Vec<u64>,
    max_source: u64,
}

#[allow(clippy::too_many_arguments)]
fn unsorted_census(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: Option<NsynsSource>,
    nsyns_total: &mut Option<Vec<u64>>,
    progress: &Progress,
    at: &Location,
) -> Result<(Tables, String)> {
    progress.phase(
        &format!("{}: unsorted, counting in-degrees", pop.name()),
        pop.size(),
    );
    let mut degrees = Degrees {
        synapses: vec![0; space.n_targets.unwrap_or(0) as usize],
        max_source: 0,
    };
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    for_each_chunk::<()>(pop, options.chunk_len, nsyns, |chunk| {
        for (i, &t) in chunk.targets.iter().enumerate() {
            let ti = t as usize;
            if ti >= degrees.synapses.len() {
                if space.n_targets.is_some() {
                    return Err(target_beyond(at, t, chunk.first_edge + i as u64, space));
                }
                degrees.synapses.resize(ti + 1, 0);
            }
            degrees.synapses[ti] += 1;
        }
        degrees.max_source = degrees
            .max_source
            .max(chunk.sources.iter().copied().max().unwrap_or(0));
        if let Some(ns) = &chunk.nsyns {
            for (&t, &n) in chunk.targets.iter().zip(ns) {
                let t = t as usize;
                if t >= nsyns_acc.len() {
                    nsyns_acc.resize(t + 1, 0);
                }
                nsyns_acc[t] += n;
            }
        }
        progress.inc(chunk.targets.len() as u64);
        Ok(ControlFlow::Continue(()))
    })?;
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    if u32::try_from(degrees.max_source).is_ok() {
        gather_census::<u32>(pop, options, &degrees, progress, at)
    } else {
        gather_census::<u64>(pop, options, &degrees, progress, at)
    }
}

/// Cuts targets into contiguous ranges of at most `budget_edges` edges (a heavier single target
/// gets a range of its own).
fn partitions(synapses: &[u64], budget_edges: u64) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut sum = 0u64;
    for (t, &d) in synapses.iter().enumerate() {
        if sum > 0 && sum + d > budget_edges {
            parts.push((start, t));
            start = t;
            sum = 0;
        }
        sum += d;
    }
    parts.push((start, synapses.len()));
    parts
}

fn gather_census<S: SourceId>(
    pop: &EdgePopulation,
    options: &CensusOptions,
    degrees: &Degrees,
    progress: &Progress,
    at: &Location,
) -> Result<(Tables, String)> {
    let width = std::mem::size_of::<S>() as u64;
    let budget_edges = (options.memory_budget / width).max(1);
    let parts = partitions(&degrees.synapses, budget_edges);
    let mib = |bytes: u64| bytes as f64 / f64::from(1u32 << 20);
    let strategy = if parts.len() == 1 {
        format!(
            "in memory: grouped by target in one partition ({:.1} MiB of {}-bit sources, \
             --memory-budget {:.0} MiB)",
            mib(pop.size() * width),
            width * 8,
            mib(options.memory_budget)
        )
    } else {
        format!(
            "spilled: {} of at most {:.0} MiB (--memory-budget) of {}-bit sources, \
             records written to {}",
            crate::words::plural(parts.len() as u64, "partition"),
            mib(options.memory_budget),
            width * 8,
            options
                .spill_dir
                .clone()
                .unwrap_or_else(std::env::temp_dir)
                .display()
        )
    };
    let mut builder = TableBuilder::with_targets(degrees.synapses.len() as u64, pop.size());
    if parts.len() == 1 {
        progress.phase(
            &format!("{}: unsorted, grouping by target", pop.name()),
            pop.size(),
        );
        let (t0, t1) = parts[0];
        let mut group = TargetGroup::<S>::new(&degrees.synapses, t0, t1);
        for_each_chunk::<()>(pop, options.chunk_len, None, |chunk| {
            group.scatter(&chunk.targets, &chunk.sources);
            progress.inc(chunk.targets.len() as u64);
            Ok(ControlFlow::Continue(()))
        })?;
        builder.push(&group.count(at)?)?;
    } else {
        spill_census::<S>(pop, options, degrees, &parts, &mut builder, progress, at)?;
    }
    Ok((builder.finish(degrees.synapses.len() as u64)?.0, strategy))
}

/// Sources of the targets `t0..t1`, grouped by target (counting sort).
struct TargetGroup<S> {
    t0: usize,
    offsets: Vec<u64>,
    cursor: Vec<u64>,
    sources: Vec<S>,
    /// Per target, sources waiting to be written to `sources` a whole line at a time (empty when
    /// the group has too many targets to stage).
    stage: Vec<[S; STAGE]>,
    /// Per target, how many sources wait in `stage`.
    staged: Vec<u8>,
}

/// Sources staged per target before they go to the gather buffer: one 64-byte cache line of u32
/// ids. One random write per edge into a buffer of hundreds of MB misses the cache and the TLB
/// every time (41 % of a shuffled 1e8-edge census); staging turns that into one line write per
/// `STAGE` edges, while the staging lines themselves stay cache-resident.
const STAGE: usize = 16;

/// Largest group that is staged (its lines take `STAGE` ids per target: 32 MiB of u32 here).
const MAX_STAGED_TARGETS: usize = 1 << 19;

/// Smallest gather buffer (bytes) that is staged. Measured on the 2-core VM: shuffled 1e8 edges
/// (400 MB buffer) 4.6 → 3.1–3.5 s with staging; shuffled 1e7 (40 MB) took 10–20 % more CPU time
/// with it (the buffer mostly fits the caches there), so smaller buffers are written directly.
const MIN_STAGED_BYTES: u64 = 1 << 27;

impl<S: SourceId> TargetGroup<S> {
    fn new(synapses: &[u64], t0: usize, t1: usize) -> Self {
        let edges: u64 = synapses[t0..t1].iter().sum();
        let bytes = edges.saturating_mul(std::mem::size_of::<S>() as u64);
        let stage = bytes >= MIN_STAGED_BYTES && t1 - t0 <= MAX_STAGED_TARGETS;
        Self::with_staging(synapses, t0, t1, stage)
    }

    fn with_staging(synapses: &[u64], t0: usize, t1: usize, stage: bool) -> Self {
        let mut offsets = Vec::with_capacity(t1 - t0 + 1);
        let mut acc = 0u64;
        offsets.push(0);
        for &d in &synapses[t0..t1] {
            acc += d;
            offsets.push(acc);
        }
        let cursor = offsets[..t1 - t0].to_vec();
        let staged_targets = if stage { t1 - t0 } else { 0 };
        TargetGroup {
            t0,
            offsets,
            cursor,
            sources: vec![S::default(); acc as usize],
            stage: vec![[S::default(); STAGE]; staged_targets],
            staged: vec![0; staged_targets],
        }
    }

    fn t1(&self) -> usize {
        self.t0 + self.offsets.len() - 1
    }

    /// Places every edge whose target is in range; others are ignored. Staged sources reach
    /// `sources` at the latest in [`TargetGroup::flush`].
    fn scatter(&mut self, targets: &[u64], sources: &[u64]) {
        let (t0, t1) = (self.t0 as u64, self.t1() as u64);
        if self.stage.is_empty() {
            for (&t, &s) in targets.iter().zip(sources) {
                if t >= t0 && t < t1 {
                    let slot = &mut self.cursor[(t - t0) as usize];
                    self.sources[*slot as usize] = S::from_u64(s);
                    *slot += 1;
                }
            }
            return;
        }
        for (&t, &s) in targets.iter().zip(sources) {
            if t >= t0 && t < t1 {
                let k = (t - t0) as usize;
                let n = self.staged[k] as usize;
                self.stage[k][n] = S::from_u64(s);
                if n + 1 == STAGE {
                    let c = self.cursor[k] as usize;
                    self.sources[c..c + STAGE].copy_from_slice(&self.stage[k]);
                    self.cursor[k] += STAGE as u64;
                    self.staged[k] = 0;
                } else {
                    self.staged[k] = (n + 1) as u8;
                }
            }
        }
    }

    /// Writes the sources still staged to their slots.
    fn flush(&mut self) {
        for (k, (line, n)) in self.stage.iter().zip(&mut self.staged).enumerate() {
            let m = *n as usize;
            if m > 0 {
                let c = self.cursor[k] as usize;
                self.sources[c..c + m].copy_from_slice(&line[..m]);
                self.cursor[k] += m as u64;
                *n = 0;
            }
        }
        self.stage = Vec::new();
        self.staged = Vec::new();
    }

    /// Sorts each target's sources and encodes connections, targets in parallel.
    fn count(mut self, at: &Location) -> Result<Piece> {
        self.flush();
        let n = self.offsets.len() - 1;
        let threads = rayon::current_num_threads().max(1);
        // Cut targets into pieces of about equal edge counts.
        let total = self.offsets[n];
        let pieces = (threads * 8) as u64;
        let mut cuts = vec![0usize];
        for k in 1..pieces {
            let want = total * k / pieces;
            let c = self.offsets.partition_point(|&o| o < want).min(n);
            if c > *cuts.last().unwrap_or(&0) {
                cuts.push(c);
            }
        }
        if *cuts.last().unwrap_or(&0) != n {
            cuts.push(n);
        }
        let mut slices: Vec<(usize, usize, &mut [S])> = Vec::with_capacity(cuts.len());
        let mut rest: &mut [S] = &mut self.sources;
        for w in cuts.windows(2) {
            let len = (self.offsets[w[1]] - self.offsets[w[0]]) as usize;
            let (head, tail) = rest.split_at_mut(len);
            slices.push((w[0], w[1], head));
            rest = tail;
        }
        let offsets = &self.offsets;
        let t0 = self.t0 as u64;
        let results: Vec<Result<Piece>> = slices
            .into_par_iter()
            .map(|(a, b, buf)| {
                let mut piece = Piece::default();
                let base = offsets[a];
                for t in a..b {
                    let (s, e) = (
                        (offsets[t] - base) as usize,
                        (offsets[t + 1] - base) as usize,
                    );
                    if s == e {
                        continue;
                    }
                    let seg = &mut buf[s..e];
                    seg.sort_unstable();
                    let target = t0 + t as u64;
                    let conns = encode_connections(seg, &mut piece.sources, &mut piece.counts)
                        .map_err(|src| too_many_synapses(at, target, src))?;
                    piece.runs.push((target, (e - s) as u64, conns));
                }
                Ok(piece)
            })
            .collect();
        let mut merged = Piece::default();
        for piece in results {
            let piece = piece?;
            merged.runs.extend(piece.runs);
            merged.sources.extend(piece.sources);
            merged.counts.extend(piece.counts);
        }
        Ok(merged)
    }
}

/// Bytes of the write buffer of each spill file.
const SPILL_BUFFER: usize = 1 << 20;

#[allow(clippy::too_many_arguments)]
fn spill_census<S: SourceId>(
    pop: &EdgePopulation,
    options: &CensusOptions,
    degrees: &Degrees,
    parts: &[(usize, usize)],
    builder: &mut TableBuilder,
    progress: &Progress,
    at: &Location,
) -> Result<()> {
    let dir_parent = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("sonata-census-spill-")
        .tempdir_in(&dir_parent)
        .map_err(|source| Error::Io {
            path: dir_parent.clone(),
            source,
        })?;
    // Removed by the forced exit of a SIGINT / SIGTERM (else by `dir`'s drop).
    let _registered = crate::interrupt::register(dir.path());
    let io_err = |path: &std::path::Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Partition of each target.
    let mut part_of = vec![0u32; degrees.synapses.len()];
    for (p, &(a, b)) in parts.iter().enumerate() {
        part_of[a..b].fill(p as u32);
    }
    let paths: Vec<_> = (0..parts.len())
        .map(|p| dir.path().join(format!("part-{p}.bin")))
        .collect();
    let mut writers = Vec::with_capacity(parts.len());
    for path in &paths {
        let f = File::create(path).map_err(|e| io_err(path, e))?;
        writers.push(BufWriter::with_capacity(SPILL_BUFFER, f));
    }
    progress.phase(
        &format!(
            "{}: unsorted, spilling {} partitions",
            pop.name(),
            parts.len()
        ),
        pop.size(),
    );
    for_each_chunk::<()>(pop, options.chunk_len, None, |chunk| {
        for (&t, &s) in chunk.targets.iter().zip(&chunk.sources) {
            let p = part_of[t as usize] as usize;
            let record = [t, s];
            writers[p]
                .write_all(bytemuck::cast_slice(&record))
                .map_err(|e| io_err(&paths[p], e))?;
        }
        progress.inc(chunk.targets.len() as u64);
        Ok(ControlFlow::Continue(()))
    })?;
    for (w, path) in writers.into_iter().zip(&paths) {
        w.into_inner()
            .map_err(|e| io_err(path, e.into_error()))?
            .sync_all()
            .ok();
    }
    progress.phase(
        &format!("{}: unsorted, counting partitions", pop.name()),
        pop.size(),
    );
    for (&(a, b), path) in parts.iter().zip(&paths) {
        let mut group = TargetGroup::<S>::new(&degrees.synapses, a, b);
        let f = File::open(path).map_err(|e| io_err(path, e))?;
        let mut reader = BufReader::with_capacity(SPILL_BUFFER, f);
        let mut buf = vec![0u64; 2 * 65536];
        let mut ts = Vec::with_capacity(65536);
        let mut ss = Vec::with_capacity(65536);
        loop {
            crate::interrupt::check()?;
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
            let n = read_full(&mut reader, bytes).map_err(|e| io_err(path, e))?;
            if n == 0 {
                break;
            }
            let records = &buf[..n / 8];
            ts.clear();
            ss.clear();
            for r in records.chunks_exact(2) {
                ts.push(r[0]);
                ss.push(r[1]);
            }
            group.scatter(&ts, &ss);
            progress.inc(ts.len() as u64);
        }
        builder.push(&group.count(at)?)?;
        std::fs::remove_file(path).ok();
    }
    Ok(())
}

/// Reads until `buf` is full or the end of the file; returns the bytes read (a multiple of 16
/// for files written by [`spill_census`]).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let pieces: Vec<Piece> = [false, true]
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
        let mut piece = Piece::default();
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
