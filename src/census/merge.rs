//! `merge`: the partial table files of a sharded count (`count --shard i/N`, [`super::shard`])
//! into the table file one process would have written, byte for byte.
//!
//! The shards' files are checked as a set first (one count, every shard once, each owning the
//! edge range its index gives, each counted from the same input), then the count is planned again
//! from the request recorded in them ([`super::shard::ShardHeader`]): the merged file is then
//! written by the code `count` writes with (the group's record, the restriction, the efferent
//! tables and pathway matrices from the node files), so it cannot drift from a single process's.
//!
//! The merge streams: targets are taken in blocks (a few thousand per shard at a time, fewer
//! when their connections are many), each shard's connections of the block are read, the
//! (target, source) runs of equal targets merged with their synapses summed, and the result goes
//! to the table builder the CPU engine fills, which moves the connection table to disk past
//! [`super::SPILL_TABLE_BYTES_ABOVE`]. Memory is then the per-target tables of the output (as for
//! a single process) and one block. For a file sorted by target, most targets are in one shard
//! only, and the merge is a concatenation that joins the target straddling each cut.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::count_plan::{CountPlan, CountRequest, Spelling};
use super::output::CensusWriter;
use super::provenance::{Provenance, TableKind};
use super::shard::{SHARD_FORMAT, Shard, ShardHeader};
use super::tables::{TableBuilder, TargetRuns, too_many_synapses};
use super::{
    Census, CountedBy, SPILL_TABLE_BYTES_ABOVE, Sortedness, SpilledConnections, TargetSpace, schema,
};
use crate::error::{Error, H5Context, Location, Result};
use crate::progress::Progress;

/// Connections (of every shard together) read per block: 12 MiB of sources and counts.
const BLOCK_CONNECTIONS: u64 = 1 << 20;
/// Per-target offsets held per block, all shards together (16 MiB of u64).
const BLOCK_OFFSETS: u64 = 1 << 21;

/// Options of [`merge`].
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Replace an existing output.
    pub force: bool,
    /// Folder for the connection table's spill files (default: the system temporary folder).
    pub spill_dir: Option<PathBuf>,
    /// Buffer of the efferent transpose when the connection table stays in memory.
    pub memory_budget: u64,
    /// Bytes of tables in memory past which the merged connection table goes to spill files
    /// (as `count`'s [`SPILL_TABLE_BYTES_ABOVE`], the default; tests lower it). The file is
    /// the same either way.
    pub spill_above: u64,
    /// How the caller's options are written in messages (`--output` or `output`).
    pub spelling: Spelling,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            force: false,
            spill_dir: None,
            memory_budget: super::DEFAULT_MEMORY_BUDGET,
            spill_above: SPILL_TABLE_BYTES_ABOVE,
            spelling: Spelling::Flags,
        }
    }
}

/// One merged population, for the caller's summary.
#[derive(Debug)]
pub struct MergedPopulation {
    /// The merged census (its connection table is empty when it went to disk).
    pub census: Census,
    /// The restriction to node sets, when the count had one.
    pub restriction: Option<super::provenance::Restriction>,
    /// Which tables were written.
    pub direction: super::derived::Direction,
    /// The number of sources of the efferent tables, when written.
    pub n_sources: Option<u64>,
    /// Seconds the population took.
    pub seconds: f64,
}

/// A partial table file, opened, with its header.
struct Part {
    path: PathBuf,
    census: super::reader::CensusFile,
    header: ShardHeader,
}

/// The paths `args` name: each existing path as given, and each other argument holding `*`, `?`
/// or `[` expanded as a glob pattern (`merge 'out.shard-*-of-4.h5'`, quoted so that the shell
/// leaves it), its matches sorted.
///
/// # Errors
/// [`Error::InvalidArgument`] for a pattern that is malformed or matches nothing.
pub fn expand_parts(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        let pattern = text.contains(['*', '?', '[']);
        if std::fs::symlink_metadata(arg).is_ok() || !pattern {
            out.push(arg.clone());
            continue;
        }
        let bad = |why: String| Error::InvalidArgument(format!("{text}: {why}"));
        let mut matches: Vec<PathBuf> = glob::glob(&text)
            .map_err(|e| bad(format!("not a valid pattern ({e})")))?
            .filter_map(std::result::Result::ok)
            .collect();
        if matches.is_empty() {
            return Err(bad("no file matches this pattern".into()));
        }
        matches.sort();
        out.extend(matches);
    }
    Ok(out)
}

/// Merges the partial files `paths` (in any order) into `output`; returns each population's
/// merged census and what the summary needs.
///
/// # Errors
/// [`Error::InvalidArgument`] (one line naming the files) for a file that is not a partial file,
/// shards of different counts, a duplicated or missing shard, a shard whose edge range, edge
/// total or input record does not match the input as it is now, or synapse counts that do not
/// sum to the shard's edges; the errors of planning the count again ([`CountPlan::new`]: the
/// input must still be where the shards read it), HDF5 read and write errors, and the errors
/// of [`CensusWriter`]. Nothing is left at `output` on error.
pub fn merge(
    paths: &[PathBuf],
    output: &Path,
    options: &MergeOptions,
    progress: &dyn Fn(&str, u64) -> Progress,
) -> Result<Vec<MergedPopulation>> {
    if let Some(p) = paths.iter().find(|p| crate::outputs::same_file(p, output)) {
        return Err(Error::InvalidArgument(format!(
            "{}: the output is one of the partial files (choose another {})",
            p.display(),
            options.spelling.option("output")
        )));
    }
    super::output::check_output_path(output, options.force)?;
    let parts = open_set(paths)?;
    let header = &parts[0].header;
    let request = &header.request;
    let restriction = request.restriction();
    let direction = request.direction()?;
    if crate::outputs::same_file(&request.input, output) {
        return Err(Error::InvalidArgument(format!(
            "{}: the output is the input the shards counted (choose another {})",
            output.display(),
            options.spelling.option("output")
        )));
    }
    let plan = CountPlan::new(
        &CountRequest {
            path: &request.input,
            populations: &request.populations,
            nodes_count: request.nodes_count,
            restriction: &restriction,
            direction,
            pathways: &request.pathways,
            output: Some(output),
        },
        options.spelling,
    )
    .map_err(|e| {
        e.with_note(&format!(
            "merge plans the count again from the input recorded in {}: {}",
            parts[0].path.display(),
            request.input.display()
        ))
    })?;
    let origin = plan.target_origin();
    let mut writer = CensusWriter::create(output, options.force)?;
    let mut merged = Vec::new();
    for w in &plan.work {
        let started = std::time::Instant::now();
        let pop = &w.population;
        let space = TargetSpace::resolve_from(pop, w.nodes_count, origin)?;
        let shown = progress(pop.name(), 0);
        let (census, spilled) = merge_population(&parts, w, &space, options, &shown)?;
        shown.finish();
        let efferent = w.write(
            &mut writer,
            &census,
            spilled.as_ref(),
            (options.memory_budget, options.spill_above),
        )?;
        merged.push(MergedPopulation {
            census,
            restriction: w.restricted.as_ref().map(|(_, r)| r.clone()),
            direction,
            n_sources: efferent.map(|e| e.n_sources),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    writer.finish()?;
    Ok(merged)
}

/// Opens the partial files and checks that they are every shard of one count, once; sorted by
/// shard index.
fn open_set(paths: &[PathBuf]) -> Result<Vec<Part>> {
    if paths.is_empty() {
        return Err(Error::InvalidArgument(
            "merge needs the partial files of a sharded count (count --shard)".into(),
        ));
    }
    let mut parts = paths
        .iter()
        .map(|p| open_part(p))
        .collect::<Result<Vec<_>>>()?;
    let first = &parts[0];
    for p in &parts[1..] {
        if p.header.shard_count != first.header.shard_count {
            return Err(Error::InvalidArgument(format!(
                "{} is a shard of {} but {} of {}: not shards of one count",
                first.path.display(),
                first.header.shard_count,
                p.path.display(),
                p.header.shard_count
            )));
        }
        if p.header.request != first.header.request {
            return Err(Error::InvalidArgument(format!(
                "{} and {} are shards of different counts ({})",
                first.path.display(),
                p.path.display(),
                request_difference(&first.header, &p.header)
            )));
        }
    }
    parts.sort_by_key(|p| p.header.shard_index);
    for pair in parts.windows(2) {
        if pair[0].header.shard_index == pair[1].header.shard_index {
            return Err(Error::InvalidArgument(format!(
                "{} and {} are both shard {}/{}",
                pair[0].path.display(),
                pair[1].path.display(),
                pair[0].header.shard_index,
                pair[0].header.shard_count
            )));
        }
    }
    let count = parts[0].header.shard_count;
    let missing: Vec<String> = (0..count)
        .filter(|i| {
            parts
                .binary_search_by_key(i, |p| p.header.shard_index)
                .is_err()
        })
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = missing.len() - shown.len();
        let given: Vec<String> = parts
            .iter()
            .take(4)
            .map(|p| p.path.display().to_string())
            .collect();
        return Err(Error::InvalidArgument(format!(
            "shard{} {}{} of {count} missing: {} given ({}{})",
            if missing.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            crate::words::plural(parts.len() as u64, "file"),
            given.join(", "),
            if parts.len() > given.len() {
                ", ..."
            } else {
                ""
            }
        )));
    }
    Ok(parts)
}

/// What differs between the requests of two shards, in words.
fn request_difference(a: &ShardHeader, b: &ShardHeader) -> String {
    let (a, b) = (&a.request, &b.request);
    if a.input != b.input {
        format!("inputs {} and {}", a.input.display(), b.input.display())
    } else {
        let text = |r: &super::shard::RecordedRequest| serde_json::to_string(r).unwrap_or_default();
        format!("the same input, other options: {} and {}", text(a), text(b))
    }
}

/// Opens one partial file and reads its header.
fn open_part(path: &Path) -> Result<Part> {
    let file = crate::sonata::open_hdf5_file(path)?;
    let not_partial = |why: &str| {
        Error::InvalidArgument(format!(
            "{}: not a partial table file of `count --shard` ({why})",
            path.display()
        ))
    };
    let Ok(attr) = file.attr(schema::SHARD_HEADER) else {
        return Err(not_partial(&format!(
            "no {} attribute at its root",
            schema::SHARD_HEADER
        )));
    };
    let at = Location::file(path).dataset(&format!("@{}", schema::SHARD_HEADER));
    crate::sonata::global_heap::check(&at)?;
    let text = attr
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .at(&at)?
        .to_string();
    let header: ShardHeader = serde_json::from_str(&text).map_err(|e| {
        not_partial(&format!(
            "its {} is not readable: {e}",
            schema::SHARD_HEADER
        ))
    })?;
    if header.format != SHARD_FORMAT {
        return Err(not_partial(&format!(
            "format {} where this version reads {SHARD_FORMAT}",
            header.format
        )));
    }
    if Shard::new(header.shard_index, header.shard_count).is_err() {
        return Err(not_partial(&format!(
            "its shard {}/{} is out of range",
            header.shard_index, header.shard_count
        )));
    }
    Ok(Part {
        path: path.to_path_buf(),
        census: super::reader::CensusFile::of_file(file, path)?,
        header,
    })
}

/// One population's group of one partial file, checked against the input as it is now.
struct PartGroup<'a> {
    part: &'a Part,
    at: Location,
    n_targets: u64,
    sorted: Sortedness,
    edges: u64,
    synapses: hdf5::Dataset,
    offsets: hdf5::Dataset,
    sources: hdf5::Dataset,
    counts: hdf5::Dataset,
    nsyns: Option<hdf5::Dataset>,
    /// The targets from the first to the last that have connections in this shard: blocks
    /// outside it skip the shard (a sorted file's shard covers a narrow range of targets, so a
    /// merge of many shards reads each shard's tables where they hold something).
    active: std::ops::Range<u64>,
    /// Synapses of the group's targets read so far (checked against its edges at the end).
    synapses_seen: u64,
    /// The first and last (target, source) connection seen, for the merged sortedness.
    first: Option<(u64, u64)>,
    last: Option<(u64, u64)>,
    /// The current block's offsets (relative to the block's first connection) and columns.
    block_offsets: Vec<u64>,
    block_synapses: Vec<u64>,
    block_nsyns: Vec<u64>,
    block_sources: Vec<u64>,
    block_counts: Vec<u32>,
}

impl<'a> PartGroup<'a> {
    fn open(
        part: &'a Part,
        pop: &crate::sonata::EdgePopulation,
        expected: &Provenance,
    ) -> Result<Self> {
        let name = pop.name();
        let path = part.path.display();
        let at = Location::file(&part.path).population(name);
        let missing = || {
            Error::InvalidArgument(format!(
                "{path}: has no population '{name}', which the count's input has"
            ))
        };
        if !part.census.populations().iter().any(|p| p == name) {
            return Err(missing());
        }
        let group = part.census.group(name).map_err(|_| missing())?;
        let number =
            |attr: &str| -> Result<u64> { super::reader::read_attr_u64(&group, attr, &at) };
        let recorded = part.census.provenance(name)?;
        if recorded.as_ref().map(|p| p.kind) != Some(TableKind::Partial) {
            return Err(Error::InvalidArgument(format!(
                "{path}: population '{name}' is not a partial census (table_kind is not \
                 'partial')"
            )));
        }
        let shard = Shard::new(number(schema::SHARD_INDEX)?, number(schema::SHARD_COUNT)?)?;
        if shard != part.header.shard() {
            return Err(Error::InvalidArgument(format!(
                "{path}: population '{name}' is shard {}/{} but the file is shard {}/{}",
                shard.index, shard.count, part.header.shard_index, part.header.shard_count
            )));
        }
        let total = number(schema::SHARD_POPULATION_EDGES)?;
        if total != pop.size() {
            return Err(Error::InvalidArgument(format!(
                "{path}: population '{name}' had {} when the shard was counted; the input has {} \
                 now",
                crate::words::plural(total, "edge"),
                pop.size()
            )));
        }
        let range = shard.edge_range(total);
        let (first, end) = (
            number(schema::SHARD_FIRST_EDGE)?,
            number(schema::SHARD_END_EDGE)?,
        );
        if (first, end) != (range.start, range.end) {
            return Err(Error::InvalidArgument(format!(
                "{path}: population '{name}': shard {}/{} of {total} edges owns edges {}..{} but \
                 the file holds edges {first}..{end}",
                shard.index, shard.count, range.start, range.end
            )));
        }
        if recorded.as_ref() != Some(expected) {
            return Err(Error::InvalidArgument(format!(
                "{path}: population '{name}' was counted from another input than the count's \
                 input as it is now ({}: name, size or id fingerprint differ)",
                part.header.request.input.display()
            )));
        }
        let flag = |attr: &str| number(attr).map(|v| v != 0);
        let sorted = Sortedness {
            by_target: flag(schema::SORTED_BY_TARGET)?,
            by_target_source: flag(schema::SORTED_BY_TARGET_SOURCE)?,
        };
        let dataset =
            |name: &str| -> Result<hdf5::Dataset> { group.dataset(name).at(&at.dataset(name)) };
        let n_targets = number(schema::N_TARGETS)?;
        let g = PartGroup {
            part,
            n_targets,
            sorted,
            edges: number(schema::EDGE_COUNT)?,
            synapses: dataset(schema::TARGET_SYNAPSE_COUNT)?,
            offsets: dataset(schema::TARGET_OFFSETS)?,
            sources: dataset(schema::SOURCE_NODE_ID)?,
            counts: dataset(schema::SYNAPSE_COUNT)?,
            nsyns: group
                .link_exists(schema::TARGET_NSYNS_TOTAL)
                .then(|| dataset(schema::TARGET_NSYNS_TOTAL))
                .transpose()?,
            at,
            active: 0..0,
            synapses_seen: 0,
            first: None,
            last: None,
            block_offsets: Vec::new(),
            block_synapses: Vec::new(),
            block_nsyns: Vec::new(),
            block_sources: Vec::new(),
            block_counts: Vec::new(),
        };
        let len = |ds: &hdf5::Dataset| ds.size() as u64;
        let connections = len(&g.sources);
        let consistent = len(&g.synapses) == n_targets
            && len(&g.offsets) == n_targets + 1
            && len(&g.counts) == connections
            && g.nsyns.as_ref().is_none_or(|d| len(d) == n_targets);
        if !consistent {
            return Err(Error::invalid(
                g.at.clone(),
                "the tables' lengths disagree with n_targets and the connection table",
            ));
        }
        let mut g = g;
        g.active = g.targets_with_connections(connections)?;
        Ok(g)
    }

    /// From the first to the last target with connections, by binary search on the offsets
    /// (ascending; a corrupt table can only make the range wrong, which the sum of synapses
    /// checked at the end catches).
    fn targets_with_connections(&self, connections: u64) -> Result<std::ops::Range<u64>> {
        if connections == 0 || self.n_targets == 0 {
            return Ok(0..0);
        }
        let at = self.at.dataset(schema::TARGET_OFFSETS);
        let offset = |t: u64| read_one(&self.offsets, t, &at);
        // The first t with offsets[t + 1] > 0.
        let (mut lo, mut hi) = (0, self.n_targets - 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if offset(mid + 1)? > 0 {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let first = lo;
        // The last t with offsets[t] < connections.
        let (mut lo, mut hi) = (first, self.n_targets - 1);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if offset(mid)? < connections {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(first..lo + 1)
    }

    /// Frees the block buffers (the shard has nothing more to give).
    fn release(&mut self) {
        for v in [
            &mut self.block_offsets,
            &mut self.block_synapses,
            &mut self.block_nsyns,
            &mut self.block_sources,
        ] {
            *v = Vec::new();
        }
        self.block_counts = Vec::new();
    }

    /// Reads the offsets of targets `a..=b` (those of targets past the group's own table are
    /// its last offset: no connections).
    fn read_offsets(&mut self, a: u64, b: u64) -> Result<()> {
        let n = (b - a + 1) as usize;
        self.block_offsets.clear();
        self.block_offsets.resize(n, 0);
        let own = self
            .n_targets
            .saturating_add(1)
            .saturating_sub(a)
            .min(n as u64) as usize;
        let at = self.at.dataset(schema::TARGET_OFFSETS);
        crate::sonata::bulk::read_range_into(&self.offsets, a, &mut self.block_offsets[..own])
            .at(&at)?;
        let last = match own {
            0 => read_one(&self.offsets, self.n_targets, &at)?,
            own => self.block_offsets[own - 1],
        };
        self.block_offsets[own..].fill(last);
        Ok(())
    }

    /// Connections of targets `a..c` (offsets read for the block from `a`).
    fn rows(&self, a: u64, c: u64) -> u64 {
        self.block_offsets[(c - a) as usize] - self.block_offsets[0]
    }

    /// Reads the columns of targets `a..c` (offsets already read from `a`).
    fn read_block(&mut self, a: u64, c: u64) -> Result<()> {
        let own = c.min(self.n_targets).saturating_sub(a) as usize;
        let targets = (c - a) as usize;
        self.block_synapses.clear();
        self.block_synapses.resize(targets, 0);
        crate::sonata::bulk::read_range_into(&self.synapses, a, &mut self.block_synapses[..own])
            .at(&self.at.dataset(schema::TARGET_SYNAPSE_COUNT))?;
        self.block_nsyns.clear();
        if let Some(ds) = &self.nsyns {
            self.block_nsyns.resize(targets, 0);
            crate::sonata::bulk::read_range_into(ds, a, &mut self.block_nsyns[..own])
                .at(&self.at.dataset(schema::TARGET_NSYNS_TOTAL))?;
        }
        let (first, rows) = (self.block_offsets[0], self.rows(a, c) as usize);
        self.block_sources.clear();
        self.block_sources.resize(rows, 0);
        self.block_counts.clear();
        self.block_counts.resize(rows, 0);
        crate::sonata::bulk::read_range_into(&self.sources, first, &mut self.block_sources)
            .at(&self.at.dataset(schema::SOURCE_NODE_ID))?;
        crate::sonata::bulk::read_range_into(&self.counts, first, &mut self.block_counts)
            .at(&self.at.dataset(schema::SYNAPSE_COUNT))?;
        if let Some(bad) = self.block_offsets.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::invalid(
                self.at.dataset(schema::TARGET_OFFSETS),
                format!("offsets decrease at target {}", a + bad as u64),
            ));
        }
        Ok(())
    }

    /// The connections of target `t` of the block from `a`, as indices into the block columns.
    fn target_rows(&self, a: u64, t: u64) -> std::ops::Range<usize> {
        let i = (t - a) as usize;
        let base = self.block_offsets[0];
        (self.block_offsets[i] - base) as usize..(self.block_offsets[i + 1] - base) as usize
    }
}

/// Reads element `i` of a u64 dataset.
fn read_one(ds: &hdf5::Dataset, i: u64, at: &Location) -> Result<u64> {
    let mut one = [0u64];
    crate::sonata::bulk::read_range_into(ds, i, &mut one).at(at)?;
    Ok(one[0])
}

/// Merges the groups of population `w` of every part into its census.
fn merge_population(
    parts: &[Part],
    w: &super::count_plan::PopulationWork,
    space: &TargetSpace,
    options: &MergeOptions,
    progress: &Progress,
) -> Result<(Census, Option<SpilledConnections>)> {
    let pop = &w.population;
    let expected = Provenance::of(pop, TableKind::Partial)?;
    let mut groups = parts
        .iter()
        .map(|p| PartGroup::open(p, pop, &expected))
        .collect::<Result<Vec<_>>>()?;
    let n_targets = match space.n_targets {
        Some(n) => {
            if let Some(g) = groups.iter().find(|g| g.n_targets != n) {
                return Err(Error::InvalidArgument(format!(
                    "{}: population '{}' has {} targets where the count's input gives {n} ({})",
                    g.part.path.display(),
                    pop.name(),
                    g.n_targets,
                    space.origin
                )));
            }
            n
        }
        None => groups.iter().map(|g| g.n_targets).max().unwrap_or(0),
    };
    let with_nsyns = groups.iter().filter(|g| g.nsyns.is_some()).count();
    if with_nsyns != 0 && with_nsyns != groups.len() {
        return Err(Error::InvalidArgument(format!(
            "population '{}': some partial files have target_nsyns_total and others not",
            pop.name()
        )));
    }
    let connections: u64 = groups.iter().map(|g| g.sources.size() as u64).sum();
    let mut builder = TableBuilder::with_targets(n_targets, connections)
        .spilling(options.spill_above, options.spill_dir.clone());
    let mut nsyns_total = (with_nsyns != 0).then(|| vec![0u64; n_targets as usize]);
    let block_targets = (BLOCK_OFFSETS / groups.len() as u64).clamp(1 << 10, 1 << 16);
    progress.phase(&format!("{}: merging", pop.name()), n_targets);
    let at = pop.location().clone();
    let mut a = 0u64;
    let mut block: Vec<usize> = Vec::with_capacity(groups.len());
    while a < n_targets {
        crate::interrupt::check()?;
        let b = (a + block_targets).min(n_targets);
        // Shards whose last connection is behind give their buffers back: with a sorted file
        // each shard's block once held up to a whole block of connections.
        for g in groups.iter_mut().filter(|g| g.active.end <= a) {
            g.release();
        }
        // The shards with connections in the block; a block of none is skipped.
        block.clear();
        block.extend((0..groups.len()).filter(|&k| {
            let r = &groups[k].active;
            r.start < b && a < r.end
        }));
        if block.is_empty() {
            progress.set_position(b);
            a = b;
            continue;
        }
        for &k in &block {
            groups[k].read_offsets(a, b)?;
        }
        // The block ends before the connections of every shard together pass the bound (one
        // target at least, however many connections it has).
        let mut c = a + 1;
        let mut rows: u64 = block.iter().map(|&k| groups[k].rows(a, c)).sum();
        while c < b {
            let next: u64 = block
                .iter()
                .map(|&k| {
                    let o = &groups[k].block_offsets;
                    o[(c + 1 - a) as usize] - o[(c - a) as usize]
                })
                .sum();
            if rows + next > BLOCK_CONNECTIONS {
                break;
            }
            rows += next;
            c += 1;
        }
        for &k in &block {
            groups[k].read_block(a, c)?;
        }
        // Per shard, in order: its synapses (checked at the end), its nsyns, and its first and
        // last connection (for the merged sortedness).
        for &k in &block {
            let g = &mut groups[k];
            let n = (c - a) as usize;
            g.synapses_seen += g.block_synapses[..n].iter().sum::<u64>();
            if let Some(total) = nsyns_total.as_mut() {
                for (t, &x) in total[a as usize..c as usize].iter_mut().zip(&g.block_nsyns) {
                    *t += x;
                }
            }
            let first = (a..c)
                .map(|t| (t, g.target_rows(a, t)))
                .find(|(_, r)| !r.is_empty())
                .map(|(t, r)| (t, g.block_sources[r.start]));
            let last = (a..c)
                .rev()
                .map(|t| (t, g.target_rows(a, t)))
                .find(|(_, r)| !r.is_empty())
                .map(|(t, r)| (t, g.block_sources[r.end - 1]));
            if g.first.is_none() {
                g.first = first;
            }
            if last.is_some() {
                g.last = last;
            }
        }
        // The targets of the block merged in parallel (each independent of the others), in
        // pieces pushed in target order.
        let pieces_of = ((c - a) / (4 * rayon::current_num_threads() as u64)).max(1 << 10);
        let pieces: Vec<Result<TargetRuns>> = (a..c)
            .step_by(pieces_of as usize)
            .collect::<Vec<u64>>()
            .into_par_iter()
            .map(|from| {
                let to = (from + pieces_of).min(c);
                merge_targets(&groups, &block, a, from..to, &at)
            })
            .collect();
        for piece in pieces {
            builder.push(&piece?)?;
        }
        progress.set_position(c);
        a = c;
    }
    // Every shard's synapses are the edges it counted (its rows, or those its filter kept).
    for g in &groups {
        let owned = g.part.header.shard().edge_range(pop.size());
        let expected = if w.restricted.is_some() {
            g.edges
        } else {
            owned.end - owned.start
        };
        if g.synapses_seen != expected || g.edges != expected {
            return Err(Error::InvalidArgument(format!(
                "{}: population '{}': the synapse counts sum to {} but the shard counted {} \
                 (edges {}..{})",
                g.part.path.display(),
                pop.name(),
                g.synapses_seen,
                crate::words::plural(expected, "edge"),
                owned.start,
                owned.end
            )));
        }
    }
    let sortedness = merged_sortedness(&groups);
    let (tables, spilled) = builder.finish(n_targets)?;
    let mut census = Census::from_tables(
        pop,
        n_targets,
        sortedness,
        tables,
        nsyns_total,
        CountedBy::Unrecorded,
    );
    if w.restricted.is_some() {
        census.edge_count = census.target_synapse_count.iter().sum();
    }
    Ok((census, spilled))
}

/// The merged connections of targets `targets` of the block from `a` held by the shards
/// `block`: for each target with synapses, its synapse total and its sources ascending, the
/// synapses of equal sources summed.
fn merge_targets(
    groups: &[PartGroup<'_>],
    block: &[usize],
    a: u64,
    targets: std::ops::Range<u64>,
    at: &Location,
) -> Result<TargetRuns> {
    let mut piece = TargetRuns::default();
    let mut scratch: Vec<(u64, u64)> = Vec::new();
    for t in targets {
        let i = (t - a) as usize;
        let synapses: u64 = block.iter().map(|&k| groups[k].block_synapses[i]).sum();
        let mut holders = block
            .iter()
            .map(|&k| &groups[k])
            .filter(|g| !g.target_rows(a, t).is_empty());
        let (first, second) = (holders.next(), holders.next());
        if synapses == 0 && first.is_none() {
            continue;
        }
        let before = piece.sources.len();
        match (first, second) {
            (None, _) => {}
            (Some(g), None) => {
                // One shard holds the target (a sorted file, away from the cuts): a copy.
                let r = g.target_rows(a, t);
                piece.sources.extend_from_slice(&g.block_sources[r.clone()]);
                piece.counts.extend_from_slice(&g.block_counts[r]);
            }
            (Some(_), Some(_)) => {
                scratch.clear();
                for &k in block {
                    let g = &groups[k];
                    let r = g.target_rows(a, t);
                    scratch.extend(
                        g.block_sources[r.clone()]
                            .iter()
                            .zip(&g.block_counts[r])
                            .map(|(&s, &n)| (s, u64::from(n))),
                    );
                }
                scratch.sort_unstable_by_key(|&(s, _)| s);
                let mut k = 0;
                while k < scratch.len() {
                    let (s, mut n) = scratch[k];
                    k += 1;
                    while k < scratch.len() && scratch[k].0 == s {
                        n += scratch[k].1;
                        k += 1;
                    }
                    let n = u32::try_from(n).map_err(|_| too_many_synapses(at, t, s))?;
                    piece.sources.push(s);
                    piece.counts.push(n);
                }
            }
        }
        let conns = (piece.sources.len() - before) as u64;
        piece.runs.push((t, synapses, conns));
    }
    Ok(piece)
}

/// The order of the edges of the whole population, from each shard's and the connections at
/// the cuts: sorted by target when every shard is and no shard's first target is below the last
/// one of the shard before (shards without edges do not count); by (target, source) likewise.
fn merged_sortedness(groups: &[PartGroup<'_>]) -> Sortedness {
    let mut by_target = true;
    let mut by_target_source = true;
    let mut last: Option<(u64, u64)> = None;
    for g in groups.iter().filter(|g| g.first.is_some()) {
        by_target &= g.sorted.by_target;
        by_target_source &= g.sorted.by_target_source;
        if let (Some((lt, ls)), Some((ft, fs))) = (last, g.first) {
            by_target &= lt <= ft;
            by_target_source &= (lt, ls) <= (ft, fs);
        }
        last = g.last;
    }
    Sortedness {
        by_target,
        by_target_source: by_target && by_target_source,
    }
}
