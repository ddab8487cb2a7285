//! A census table file answering per-target questions in place of its edge file: the
//! synapses of a target and its connections (sources and synapses per source), for
//! neurodamus's `get_counts` / `get_conn_counts` (`SonataReader::use_census_tables`,
//! `query --tables`, Python's `census_tables=`).
//!
//! Opening reads the per-target tables (`target_synapse_count` and `connections/target_offsets`:
//! 16 B per target) and checks them; each question then reads only the connection rows of the
//! targets asked about (nearby rows as one read), past HDF5 when the columns are contiguous (as
//! `count` writes them), so a dry run's thousands of calls of a hundred targets each cost little
//! more than building their answers. Only a full census with a record of its input
//! ([`super::provenance`]) is accepted, and [`TableLookup::check_input`] refuses tables of
//! another input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::provenance::{Provenance, TableKind};
use super::reader::{CensusFile, read_attr_u64, read_u64s};
use super::schema;
use crate::error::{Error, H5Context, Location, Result};
use crate::sonata::EdgePopulation;
use crate::sonata::direct::{self, DirectColumn};

/// Rows between two wanted ranges below which both are read as one block (4 KiB of sources).
const MERGE_GAP_ROWS: u64 = 512;

/// The connections of a list of targets, aligned with it: the rows of the `i`-th target are
/// `offsets[i] .. offsets[i + 1]` of `sources` (ascending) and `synapses`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRows {
    /// `targets.len() + 1` offsets, starting at 0.
    pub offsets: Vec<u64>,
    /// Source of each connection.
    pub sources: Vec<u64>,
    /// Synapses of each connection.
    pub synapses: Vec<u64>,
}

impl ConnectionRows {
    /// The rows of the `i`-th target asked about, as `(source, synapses)`.
    pub fn of(&self, i: usize) -> impl Iterator<Item = (u64, u64)> + '_ {
        let (a, b) = match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        let sources = self.sources.get(a..b).unwrap_or(&[]);
        let synapses = self.synapses.get(a..b).unwrap_or(&[]);
        sources.iter().copied().zip(synapses.iter().copied())
    }
}

/// One column of the connection table, read a range at a time.
#[derive(Debug)]
struct Rows {
    dataset: hdf5::Dataset,
    direct: Option<DirectColumn>,
    at: Location,
}

impl Rows {
    fn open(
        group: &hdf5::Group,
        name: &str,
        raw: Option<&Arc<std::fs::File>>,
        at: Location,
    ) -> Result<Self> {
        let dataset = group.dataset(name).at(&at)?;
        let direct = raw.and_then(|f| direct::probe_file(&dataset, Arc::clone(f)));
        Ok(Rows {
            dataset,
            direct,
            at,
        })
    }

    fn len(&self) -> u64 {
        self.dataset.size() as u64
    }

    /// Rows `start .. start + out.len()` as u64.
    fn read(&self, start: u64, out: &mut [u64]) -> Result<()> {
        if self
            .direct
            .as_ref()
            .is_some_and(|d| d.read_into(start, out).is_ok())
        {
            return Ok(());
        }
        crate::sonata::bulk::read_range_into(&self.dataset, start, out).at(&self.at)
    }
}

/// A census population of a table file, open for per-target questions.
#[derive(Debug)]
pub struct TableLookup {
    path: PathBuf,
    population: String,
    edge_count: u64,
    input: Provenance,
    synapses: Vec<u64>,
    offsets: Vec<u64>,
    sources: Rows,
    counts: Rows,
}

impl TableLookup {
    /// Opens population `population` of the census table file `path` and checks its per-target
    /// tables.
    ///
    /// # Errors
    /// As [`CensusFile::open`]; [`Error::PopulationNotFound`]; [`Error::InvalidData`] when the
    /// population records no input (tables written by `count` before it recorded one, or by
    /// other means), is not a full census ([`TableKind`]), or its tables disagree.
    pub fn open(path: &Path, population: &str) -> Result<Self> {
        let file = CensusFile::open(path)?;
        if !file.populations().iter().any(|p| p == population) {
            return Err(Error::PopulationNotFound {
                at: Location::file(path),
                name: population.to_string(),
                available: file.populations().to_vec(),
            });
        }
        let at = Location::file(path).population(population);
        let Some(input) = file.provenance(population)? else {
            return Err(Error::invalid(
                at,
                "the census records no input file (tables made by an earlier sonata-census, or \
                 not by `count`): count the edge file again to answer from tables",
            ));
        };
        if input.kind != TableKind::Full {
            return Err(Error::invalid(
                at,
                format!(
                    "the tables are {}, which cannot answer for every target: only a full \
                     census can (`sonata-census count EDGES.h5 -o TABLES.h5`)",
                    input.kind.describe()
                ),
            ));
        }
        let group = file.group(population).at(&at)?;
        let u64s = |dataset: &str| read_u64s(&group, dataset, &at);
        let attr_u64 = |attr: &str| read_attr_u64(&group, attr, &at);
        let edge_count = attr_u64(schema::EDGE_COUNT)?;
        let n_targets = attr_u64(schema::N_TARGETS)?;
        let synapses = u64s(schema::TARGET_SYNAPSE_COUNT)?;
        let offsets = u64s(schema::TARGET_OFFSETS)?;
        let raw = std::fs::File::open(path).ok().map(Arc::new);
        let sources = Rows::open(
            &group,
            schema::SOURCE_NODE_ID,
            raw.as_ref(),
            at.dataset(schema::SOURCE_NODE_ID),
        )?;
        let counts = Rows::open(
            &group,
            schema::SYNAPSE_COUNT,
            raw.as_ref(),
            at.dataset(schema::SYNAPSE_COUNT),
        )?;
        let lookup = TableLookup {
            path: path.to_path_buf(),
            population: population.to_string(),
            edge_count,
            input,
            synapses,
            offsets,
            sources,
            counts,
        };
        lookup.check_tables(n_targets, &at)?;
        Ok(lookup)
    }

    /// Lengths, offsets and sums agree (what answers rely on; each answer checks its own rows).
    fn check_tables(&self, n_targets: u64, at: &Location) -> Result<()> {
        let bad = |dataset: &str, reason: String| Err(Error::invalid(at.dataset(dataset), reason));
        if self.synapses.len() as u64 != n_targets {
            return bad(
                schema::TARGET_SYNAPSE_COUNT,
                format!(
                    "{} entries, but n_targets is {n_targets}",
                    self.synapses.len()
                ),
            );
        }
        if self.offsets.len() as u64 != n_targets + 1
            || self.offsets.first() != Some(&0)
            || self.offsets.windows(2).any(|w| w[0] > w[1])
        {
            return bad(
                schema::TARGET_OFFSETS,
                format!(
                    "expected {} ascending entries starting at 0 (n_targets + 1)",
                    n_targets + 1
                ),
            );
        }
        let connections = self.offsets.last().copied().unwrap_or(0);
        for (name, rows) in [
            (schema::SOURCE_NODE_ID, &self.sources),
            (schema::SYNAPSE_COUNT, &self.counts),
        ] {
            if rows.len() != connections {
                return bad(
                    name,
                    format!(
                        "{} entries, but {} ends at {connections}",
                        rows.len(),
                        schema::TARGET_OFFSETS
                    ),
                );
            }
        }
        let total: u128 = self.synapses.iter().map(|&x| u128::from(x)).sum();
        if total != u128::from(self.edge_count) {
            return bad(
                schema::TARGET_SYNAPSE_COUNT,
                format!("sums to {total}, but edge_count is {}", self.edge_count),
            );
        }
        Ok(())
    }

    /// Refuses tables that were not counted from `pop`: another population name, edge count,
    /// file name or size, or id columns whose fingerprint differs. The message names both files.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the table file, the edge file and what differs; read
    /// errors of `pop`'s id columns (the fingerprint reads up to 4 MiB).
    pub fn check_input(&self, pop: &EdgePopulation) -> Result<()> {
        let why = if pop.name() != self.population {
            Some(format!(
                "they count population '{}', not '{}'",
                self.population,
                pop.name()
            ))
        } else if pop.size() != self.edge_count {
            Some(format!(
                "they count {} edges, the population has {}",
                self.edge_count,
                pop.size()
            ))
        } else {
            self.input.mismatch(&Provenance::of(pop, TableKind::Full)?)
        };
        match why {
            None => Ok(()),
            Some(why) => Err(Error::InvalidArgument(format!(
                "{}: the census tables of '{}' were not counted from {}: {why} (count it again: \
                 sonata-census count {} -o TABLES.h5)",
                self.path.display(),
                self.population,
                pop.file().path().display(),
                pop.file().path().display(),
            ))),
        }
    }

    /// The table file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The census population read.
    pub fn population(&self) -> &str {
        &self.population
    }

    /// What the tables record of their input.
    pub fn input(&self) -> &Provenance {
        &self.input
    }

    /// Length of the per-target tables.
    pub fn n_targets(&self) -> u64 {
        self.synapses.len() as u64
    }

    /// Synapses of `target` (0 beyond the tables: such a target has no edges).
    pub fn synapses(&self, target: u64) -> u64 {
        usize::try_from(target)
            .ok()
            .and_then(|t| self.synapses.get(t))
            .copied()
            .unwrap_or(0)
    }

    /// Connection rows of `target`: `[start, end)` of the connection table.
    fn rows_of(&self, target: u64) -> (u64, u64) {
        usize::try_from(target)
            .ok()
            .and_then(|t| Some((*self.offsets.get(t)?, *self.offsets.get(t.checked_add(1)?)?)))
            .unwrap_or_default()
    }

    /// The connections of each of `targets` (any order, duplicates allowed; targets without
    /// edges have none), reading only their rows. Each target's rows are checked: sources
    /// ascending, synapses positive and summing to its `target_synapse_count`.
    ///
    /// # Errors
    /// Read errors of the connection table; [`Error::InvalidData`] when a target's rows
    /// disagree with its synapse count; [`Error::Interrupted`].
    pub fn connections(&self, targets: &[u64]) -> Result<ConnectionRows> {
        // Read the wanted row ranges in file order, nearby ones as one block.
        let mut wanted: Vec<(u64, u64)> = targets
            .iter()
            .map(|&t| self.rows_of(t))
            .filter(|&(a, b)| a < b)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        for &(a, b) in &wanted {
            match blocks.last_mut() {
                Some(last) if a <= last.1.saturating_add(MERGE_GAP_ROWS) => last.1 = last.1.max(b),
                _ => blocks.push((a, b)),
            }
        }
        // Staged rows: block i's rows start at stage_at[i] of the staging vectors.
        let staged_rows: u64 = blocks.iter().map(|&(a, b)| b - a).sum();
        let mut stage_sources = vec![0u64; staged_rows as usize];
        let mut stage_counts = vec![0u64; staged_rows as usize];
        let mut stage_at = Vec::with_capacity(blocks.len());
        let mut at = 0usize;
        for (i, &(a, b)) in blocks.iter().enumerate() {
            if i % 256 == 0 {
                crate::interrupt::check()?;
            }
            let n = (b - a) as usize;
            self.sources.read(a, &mut stage_sources[at..at + n])?;
            self.counts.read(a, &mut stage_counts[at..at + n])?;
            stage_at.push(at);
            at += n;
        }
        let mut out = ConnectionRows {
            offsets: Vec::with_capacity(targets.len() + 1),
            sources: Vec::new(),
            synapses: Vec::new(),
        };
        out.offsets.push(0);
        for &t in targets {
            let (a, b) = self.rows_of(t);
            if a < b {
                // The block holding [a, b): the last one starting at or before a.
                let i = blocks.partition_point(|&(start, _)| start <= a) - 1;
                let from = stage_at[i] + (a - blocks[i].0) as usize;
                let n = (b - a) as usize;
                let sources = &stage_sources[from..from + n];
                let counts = &stage_counts[from..from + n];
                self.check_rows(t, sources, counts)?;
                out.sources.extend_from_slice(sources);
                out.synapses.extend_from_slice(counts);
            }
            out.offsets.push(out.sources.len() as u64);
        }
        Ok(out)
    }

    fn check_rows(&self, target: u64, sources: &[u64], counts: &[u64]) -> Result<()> {
        let sum: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        let ascending = sources.windows(2).all(|w| w[0] < w[1]);
        if sum != u128::from(self.synapses(target)) || !ascending || counts.contains(&0) {
            return Err(Error::invalid(
                Location::file(&self.path)
                    .population(&self.population)
                    .dataset(schema::CONNECTIONS),
                format!(
                    "the connections of target {target} disagree with its {} ({}): the table \
                     file is damaged",
                    schema::TARGET_SYNAPSE_COUNT,
                    self.synapses(target)
                ),
            ));
        }
        Ok(())
    }
}
