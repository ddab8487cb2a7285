//! The one reader of census table files: lists a file's census populations and reads one back
//! as a [`Census`], checking that its tables agree. `report` and the tests read through it.
//!
//! The names are [`super::schema`]'s. The connection table itself (12 B per connection) can be
//! left unread ([`ConnectionTable::Skip`]): no number or plot of a report needs it, so a report
//! of a 10^10-synapse census reads megabytes, not gigabytes. Such a census has empty
//! `source_node_id` / `synapse_count`, as a spilled one ([`super::census_population_spilled`]);
//! its `target_offsets` and every other table are complete.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::derived::{Direction, Efferent, PathwayMatrix, check as derived_check};
use super::provenance::{Provenance, Restriction, TableKind};
use super::schema::{self, UNKNOWN_POPULATION};
use super::{Census, Sortedness};
use crate::error::{Error, H5Context, Location, Result};

/// Whether [`CensusFile::read`] reads the connection table (`connections/source_node_id` and
/// `connections/synapse_count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionTable {
    /// Read it: the census is complete.
    Read,
    /// Leave it in the file: the census has empty `source_node_id` and `synapse_count`.
    Skip,
}

/// An open census table file and its census populations.
#[derive(Debug)]
pub struct CensusFile {
    file: hdf5::File,
    path: PathBuf,
    populations: Vec<String>,
}

impl CensusFile {
    /// Opens a census table file and lists its census populations (top-level groups with the
    /// census datasets and an `edge_count` attribute), in the file's order.
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file cannot be read, [`Error::NotHdf5`], and
    /// [`Error::InvalidData`] when the file holds no census population (e.g. a SONATA edge file).
    pub fn open(path: &Path) -> Result<Self> {
        Self::of_file(crate::sonata::open_hdf5_file(path)?, path)
    }

    /// [`CensusFile::open`] of `file`, already open at `path` (`merge` reads a partial file's
    /// root before it takes it as a census file).
    ///
    /// # Errors
    /// As [`CensusFile::open`].
    pub(crate) fn of_file(file: hdf5::File, path: &Path) -> Result<Self> {
        let at = Location::file(path);
        let mut names = Vec::new();
        for name in crate::sonata::column::ordered_member_names(&file).at(&at)? {
            let Ok(group) = file.group(&name) else {
                continue;
            };
            if is_census_group(&group) {
                names.push(name);
            }
        }
        if names.is_empty() {
            let hint = if file.link_exists("edges") {
                ": it looks like a SONATA edge file; make the tables with `sonata-census count FILE -o TABLES.h5`"
            } else {
                ""
            };
            return Err(Error::invalid(
                at,
                format!(
                    "not a census table file (no group with {} (or {} alone) and an {} \
                     attribute){hint}",
                    schema::REQUIRED.join(", "),
                    schema::SOURCE_SYNAPSE_COUNT,
                    schema::EDGE_COUNT
                ),
            ));
        }
        Ok(CensusFile {
            file,
            path: path.to_path_buf(),
            populations: names,
        })
    }

    /// The census populations, in the file's order.
    pub fn populations(&self) -> &[String] {
        &self.populations
    }

    /// Whether census population `name` has bmtk's `target_nsyns_total`.
    pub fn has_nsyns(&self, name: &str) -> bool {
        self.file
            .group(name)
            .is_ok_and(|g| g.link_exists(schema::TARGET_NSYNS_TOTAL))
    }

    /// The HDF5 group of census population `name`.
    pub(crate) fn group(&self, name: &str) -> hdf5::Result<hdf5::Group> {
        self.file.group(name)
    }

    /// What census population `name` records of its input ([`Provenance`]), or `None` when it
    /// records nothing (files of earlier versions, tables written without a record).
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::Hdf5`] when a recorded attribute cannot be read;
    /// [`Error::InvalidData`] for a table kind this version does not know.
    pub fn provenance(&self, name: &str) -> Result<Option<Provenance>> {
        let at = Location::file(&self.path).population(name);
        let g = self
            .file
            .group(name)
            .ok()
            .filter(is_census_group)
            .ok_or_else(|| Error::PopulationNotFound {
                at: Location::file(&self.path),
                name: name.to_string(),
                available: self.populations.clone(),
            })?;
        if g.attr(schema::TABLE_KIND).is_err() {
            return Ok(None);
        }
        let text = |attr: &str| -> Result<String> {
            let at = at.dataset(&format!("@{attr}"));
            crate::sonata::global_heap::check(&at)?;
            let s = g
                .attr(attr)
                .and_then(|a| a.read_scalar::<VarLenUnicode>())
                .at(&at)?;
            Ok(String::from_utf8_lossy(s.as_bytes()).into_owned())
        };
        let kind_text = text(schema::TABLE_KIND)?;
        let kind = TableKind::parse(&kind_text).ok_or_else(|| {
            Error::invalid(
                at.dataset(&format!("@{}", schema::TABLE_KIND)),
                format!("unknown table kind {kind_text:?} (made by a later sonata-census?)"),
            )
        })?;
        Ok(Some(Provenance {
            input_file: text(schema::INPUT_FILE)?,
            input_size: g
                .attr(schema::INPUT_SIZE)
                .and_then(|a| a.read_scalar::<u64>())
                .at(&at.dataset(&format!("@{}", schema::INPUT_SIZE)))?,
            id_fingerprint: text(schema::INPUT_FINGERPRINT)?,
            kind,
        }))
    }

    /// Reads census population `name` and checks its tables against each other. The census's
    /// `backend` is [`CountedBy::Unrecorded`](super::CountedBy::Unrecorded): files do not record
    /// the engine.
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::Hdf5`] naming the dataset that cannot be read;
    /// [`Error::InvalidData`] when the tables disagree (lengths, sums).
    pub fn read(&self, name: &str, connections: ConnectionTable) -> Result<Census> {
        let at = Location::file(&self.path).population(name);
        let g = match self.file.group(name) {
            Ok(g) if is_census_group(&g) => g,
            _ => {
                return Err(Error::PopulationNotFound {
                    at: Location::file(&self.path),
                    name: name.to_string(),
                    available: self.populations.clone(),
                });
            }
        };
        if is_efferent_only(&g) {
            return Err(Error::invalid(
                at,
                "holds efferent tables only (no per-target tables): read them with the efferent \
                 reader (CensusFile::efferent)",
            ));
        }
        let u64s = |dataset: &str| read_u64s(&g, dataset, &at);
        let attr_u64 = |attr: &str| read_attr_u64(&g, attr, &at);
        let attr_flag = |attr: &str| -> Result<bool> {
            g.attr(attr)
                .and_then(|a| a.read_scalar::<u8>())
                .map(|v| v != 0)
                .at(&at.dataset(&format!("@{attr}")))
        };
        let attr_population = |attr: &str| -> Result<Option<String>> {
            // HDF5 may hang on a damaged global heap, where these strings are.
            crate::sonata::global_heap::check(&at.dataset(&format!("@{attr}")))?;
            let s = g
                .attr(attr)
                .and_then(|a| a.read_scalar::<VarLenUnicode>())
                .at(&at.dataset(&format!("@{attr}")))?;
            Ok(Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
                .filter(|s| s != UNKNOWN_POPULATION))
        };
        let mut census = Census {
            population: name.to_string(),
            source_population: attr_population(schema::SOURCE_NODE_POPULATION)?,
            target_population: attr_population(schema::TARGET_NODE_POPULATION)?,
            edge_count: attr_u64(schema::EDGE_COUNT)?,
            n_targets: attr_u64(schema::N_TARGETS)?,
            sortedness: Sortedness {
                by_target: attr_flag(schema::SORTED_BY_TARGET)?,
                by_target_source: attr_flag(schema::SORTED_BY_TARGET_SOURCE)?,
            },
            target_synapse_count: u64s(schema::TARGET_SYNAPSE_COUNT)?,
            target_connection_count: u64s(schema::TARGET_CONNECTION_COUNT)?,
            target_offsets: Vec::new(),
            source_node_id: Vec::new(),
            synapse_count: Vec::new(),
            synapses_per_connection: u64s(schema::SYNAPSES_PER_CONNECTION)?,
            target_nsyns_total: if g.link_exists(schema::TARGET_NSYNS_TOTAL) {
                Some(u64s(schema::TARGET_NSYNS_TOTAL)?)
            } else {
                None
            },
            // Not recorded in the file: it is the same whichever engine counted.
            backend: super::CountedBy::Unrecorded,
        };
        census.target_offsets = u64s(schema::TARGET_OFFSETS)?;
        check(&census, &at)?;
        if connections == ConnectionTable::Read {
            census.source_node_id = u64s(schema::SOURCE_NODE_ID)?;
            census.synapse_count = g
                .dataset(schema::SYNAPSE_COUNT)
                .and_then(|d| d.read_raw::<u32>())
                .at(&at.dataset(schema::SYNAPSE_COUNT))?;
            check_connection_table(&census, &at)?;
        }
        Ok(census)
    }
}

impl CensusFile {
    /// The group of census population `name`, or [`Error::PopulationNotFound`].
    fn census_group(&self, name: &str) -> Result<hdf5::Group> {
        self.file
            .group(name)
            .ok()
            .filter(is_census_group)
            .ok_or_else(|| Error::PopulationNotFound {
                at: Location::file(&self.path),
                name: name.to_string(),
                available: self.populations.clone(),
            })
    }

    /// A text attribute of census population `name`, or `None` when absent.
    fn text_attr(&self, g: &hdf5::Group, name: &str, attr: &str) -> Result<Option<String>> {
        if g.attr(attr).is_err() {
            return Ok(None);
        }
        let at = Location::file(&self.path)
            .population(name)
            .dataset(&format!("@{attr}"));
        crate::sonata::global_heap::check(&at)?;
        let s = g
            .attr(attr)
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .at(&at)?;
        Ok(Some(String::from_utf8_lossy(s.as_bytes()).into_owned()))
    }

    /// Which tables census population `name` holds ([`Direction::Afferent`] for files of
    /// versions that did not record it).
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::InvalidData`] for a value this version does not
    /// know.
    pub fn direction(&self, name: &str) -> Result<Direction> {
        let g = self.census_group(name)?;
        match self.text_attr(&g, name, schema::DIRECTION)? {
            None => Ok(Direction::Afferent),
            Some(text) => text.parse().map_err(|_| {
                Error::invalid(
                    Location::file(&self.path)
                        .population(name)
                        .dataset(&format!("@{}", schema::DIRECTION)),
                    format!("unknown direction {text:?} (made by a later sonata-census?)"),
                )
            }),
        }
    }

    /// How census population `name` was restricted to node sets, or `None` when it was not.
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::Hdf5`] when a recorded attribute cannot be read.
    pub fn restriction(&self, name: &str) -> Result<Option<Restriction>> {
        let g = self.census_group(name)?;
        if g.attr(schema::POPULATION_EDGE_COUNT).is_err() {
            return Ok(None);
        }
        let at = Location::file(&self.path).population(name);
        let files = self
            .text_attr(&g, name, schema::NODE_SETS_FILE)?
            .unwrap_or_default();
        Ok(Some(Restriction {
            target_node_set: self.text_attr(&g, name, schema::TARGET_NODE_SET)?,
            source_node_set: self.text_attr(&g, name, schema::SOURCE_NODE_SET)?,
            node_sets_files: files
                .split("; ")
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            population_edge_count: read_attr_u64(&g, schema::POPULATION_EDGE_COUNT, &at)?,
        }))
    }

    /// The efferent tables of census population `name` (their connection table only with
    /// [`ConnectionTable::Read`]), checked against each other, or `None` when it has none.
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::Hdf5`] naming the dataset that cannot be read;
    /// [`Error::InvalidData`] when the tables disagree.
    pub fn efferent(&self, name: &str, connections: ConnectionTable) -> Result<Option<Efferent>> {
        let g = self.census_group(name)?;
        if !g.link_exists(schema::EFFERENT) {
            return Ok(None);
        }
        let at = Location::file(&self.path).population(name);
        let eg = g
            .group(schema::EFFERENT)
            .at(&at.dataset(schema::EFFERENT))?;
        let e_at = at.dataset(schema::EFFERENT);
        let mut e = Efferent {
            n_sources: read_attr_u64(&eg, schema::N_SOURCES, &e_at)?,
            n_sources_origin: self
                .text_attr(&eg, name, schema::N_SOURCES_ORIGIN)?
                .unwrap_or_default(),
            source_synapse_count: read_u64s(&g, schema::SOURCE_SYNAPSE_COUNT, &at)?,
            source_connection_count: read_u64s(&g, schema::SOURCE_CONNECTION_COUNT, &at)?,
            source_offsets: read_u64s(&g, schema::SOURCE_OFFSETS, &at)?,
            target_node_id: Vec::new(),
            synapse_count: Vec::new(),
        };
        let edge_count = read_attr_u64(&g, schema::EDGE_COUNT, &at)?;
        // The afferent total, when the group has the afferent tables.
        let afferent_connections = if g.link_exists(schema::TARGET_OFFSETS) {
            read_u64s(&g, schema::TARGET_OFFSETS, &at)?.last().copied()
        } else {
            None
        };
        let hist = read_u64s(&g, schema::SYNAPSES_PER_CONNECTION, &at)?;
        derived_check::efferent(&e, edge_count, afferent_connections, &hist, &at)?;
        if connections == ConnectionTable::Read {
            e.target_node_id = read_u64s(&g, schema::TARGET_NODE_ID, &at)?;
            e.synapse_count = g
                .dataset(schema::EFFERENT_SYNAPSE_COUNT)
                .and_then(|d| d.read_raw::<u32>())
                .at(&at.dataset(schema::EFFERENT_SYNAPSE_COUNT))?;
            derived_check::efferent_table(&e, &at)?;
        }
        Ok(Some(e))
    }

    /// The pathway matrices of census population `name`, one per attribute in the file's order
    /// (none when it has none), checked (shapes, sums).
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`]; [`Error::Hdf5`] naming the dataset that cannot be read;
    /// [`Error::InvalidData`] when shapes disagree.
    pub fn pathways(&self, name: &str) -> Result<Vec<PathwayMatrix>> {
        let g = self.census_group(name)?;
        if !g.link_exists(schema::PATHWAYS) {
            return Ok(Vec::new());
        }
        let at = Location::file(&self.path).population(name);
        let pg = g
            .group(schema::PATHWAYS)
            .at(&at.dataset(schema::PATHWAYS))?;
        let mut out = Vec::new();
        for attr in
            crate::sonata::column::ordered_member_names(&pg).at(&at.dataset(schema::PATHWAYS))?
        {
            let path = format!("{}/{attr}", schema::PATHWAYS);
            let ag = pg.group(&attr).at(&at.dataset(&path))?;
            out.push(derived_check::read_pathway(&ag, &attr, &at.dataset(&path))?);
        }
        Ok(out)
    }
}

/// Reads population `population` of the census table file `path` with its connection table:
/// [`CensusFile::open`] then [`CensusFile::read`].
///
/// # Errors
/// As [`CensusFile::open`] and [`CensusFile::read`].
pub fn read_census(path: &Path, population: &str) -> Result<Census> {
    CensusFile::open(path)?.read(population, ConnectionTable::Read)
}

/// The synapses a census counts with bmtk's `nsyns`: the sum of `target_nsyns_total` (0
/// without it). [`CensusFile::read`] has checked that the sum of a file's table fits in 64
/// bits; a larger sum saturates.
pub fn nsyns_total(census: &Census) -> u64 {
    let total: u128 = census
        .target_nsyns_total
        .iter()
        .flatten()
        .map(|&x| u128::from(x))
        .sum();
    u64::try_from(total).unwrap_or(u64::MAX)
}

/// Dataset `dataset` of the census group `g` (at `at`), whole, as u64.
pub(crate) fn read_u64s(g: &hdf5::Group, dataset: &str, at: &Location) -> Result<Vec<u64>> {
    g.dataset(dataset)
        .and_then(|d| d.read_raw::<u64>())
        .at(&at.dataset(dataset))
}

/// Scalar u64 attribute `attr` of the census group `g` (at `at`).
pub(crate) fn read_attr_u64(g: &hdf5::Group, attr: &str, at: &Location) -> Result<u64> {
    g.attr(attr)
        .and_then(|a| a.read_scalar::<u64>())
        .at(&at.dataset(&format!("@{attr}")))
}

fn is_census_group(g: &hdf5::Group) -> bool {
    let afferent =
        schema::REQUIRED.iter().all(|d| g.link_exists(d)) && g.link_exists(schema::TARGET_OFFSETS);
    (afferent || is_efferent_only(g)) && g.attr(schema::EDGE_COUNT).is_ok()
}

/// A group of efferent tables alone (`count --direction efferent`): no per-target tables.
fn is_efferent_only(g: &hdf5::Group) -> bool {
    g.link_exists(schema::SYNAPSES_PER_CONNECTION)
        && g.link_exists(schema::SOURCE_SYNAPSE_COUNT)
        && !g.link_exists(schema::TARGET_SYNAPSE_COUNT)
        // HDF5 may hang on a damaged global heap, where the attribute's text is.
        && crate::sonata::global_heap::check(&Location::file(g.filename())).is_ok()
        && g
            .attr(schema::DIRECTION)
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .is_ok_and(|v| v.as_str() == Direction::Efferent.as_str())
}

/// Checks that the tables describe one census: lengths match `n_targets`, the offsets match the
/// connection counts, and synapses and connections add up the same way through every table.
fn check(t: &Census, at: &Location) -> Result<()> {
    let bad = |dataset: &str, reason: String| Err(Error::invalid(at.dataset(dataset), reason));
    let n = t.n_targets;
    for (name, len) in [
        (schema::TARGET_SYNAPSE_COUNT, t.target_synapse_count.len()),
        (
            schema::TARGET_CONNECTION_COUNT,
            t.target_connection_count.len(),
        ),
    ] {
        if len as u64 != n {
            return bad(name, format!("{len} entries, but n_targets is {n}"));
        }
    }
    let offsets = &t.target_offsets;
    if offsets.len() as u64 != n.saturating_add(1) || offsets.first() != Some(&0) {
        return bad(
            schema::TARGET_OFFSETS,
            format!(
                "expected {} entries starting at 0 (n_targets + 1), found {}",
                n.saturating_add(1),
                offsets.len()
            ),
        );
    }
    for (i, (w, &c)) in offsets
        .windows(2)
        .zip(&t.target_connection_count)
        .enumerate()
    {
        if w[1].checked_sub(w[0]) != Some(c) {
            return bad(
                schema::TARGET_OFFSETS,
                format!(
                    "target {i}: offsets do not match {} ({c})",
                    schema::TARGET_CONNECTION_COUNT
                ),
            );
        }
    }
    let connection_count = t.connection_count();
    let synapses: u128 = t.target_synapse_count.iter().map(|&x| u128::from(x)).sum();
    if synapses != u128::from(t.edge_count) {
        return bad(
            schema::TARGET_SYNAPSE_COUNT,
            format!("sums to {synapses}, but edge_count is {}", t.edge_count),
        );
    }
    let hist = &t.synapses_per_connection;
    if hist.first().is_some_and(|&z| z != 0) {
        return bad(
            schema::SYNAPSES_PER_CONNECTION,
            format!("{} connections with 0 synapses", hist[0]),
        );
    }
    let hist_conns: u128 = hist.iter().map(|&x| u128::from(x)).sum();
    let hist_syns: u128 = hist
        .iter()
        .enumerate()
        .map(|(k, &x)| k as u128 * u128::from(x))
        .sum();
    if hist_conns != u128::from(connection_count) || hist_syns != u128::from(t.edge_count) {
        return bad(
            schema::SYNAPSES_PER_CONNECTION,
            format!(
                "counts {hist_conns} connections of {hist_syns} synapses, but the tables have \
                 {connection_count} connections and edge_count is {}",
                t.edge_count
            ),
        );
    }
    if let Some(nsyns) = &t.target_nsyns_total {
        if nsyns.len() as u64 != n {
            return bad(
                schema::TARGET_NSYNS_TOTAL,
                format!("{} entries, but n_targets is {n}", nsyns.len()),
            );
        }
        // A target without edge rows has no nsyns to sum.
        if let Some(i) = (0..nsyns.len()).find(|&i| nsyns[i] > 0 && t.target_synapse_count[i] == 0)
        {
            return bad(
                schema::TARGET_NSYNS_TOTAL,
                format!(
                    "target {i}: nsyns sum to {}, but target_synapse_count gives it no edge row",
                    nsyns[i]
                ),
            );
        }
        let total: u128 = nsyns.iter().map(|&x| u128::from(x)).sum();
        if u64::try_from(total).is_err() {
            return bad(
                schema::TARGET_NSYNS_TOTAL,
                format!("sums to {total}, more than 2^64 - 1"),
            );
        }
    }
    Ok(())
}

/// Checks that the connection table has one row per connection of the offsets.
fn check_connection_table(t: &Census, at: &Location) -> Result<()> {
    let connections = t.connection_count();
    for (name, len) in [
        (schema::SOURCE_NODE_ID, t.source_node_id.len()),
        (schema::SYNAPSE_COUNT, t.synapse_count.len()),
    ] {
        if len as u64 != connections {
            return Err(Error::invalid(
                at.dataset(name),
                format!(
                    "{len} entries, but {} ends at {connections}",
                    schema::TARGET_OFFSETS
                ),
            ));
        }
    }
    Ok(())
}
