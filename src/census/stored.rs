//! One census population of a table file as stored, whatever tables it holds (what the report
//! and the Python module's `read_tables` read), through [`CensusFile`]: the afferent tables
//! ([`CensusFile::read`]), the efferent tables ([`CensusFile::efferent`]), the restriction and
//! the pathway matrices.
//!
//! The optional tables are asked for only when the group says it has them (its `direction`
//! attribute, its `pathways` group), so census files of earlier versions read as before.
//!
//! An efferent-only census (direction `efferent`) has no per-target tables, and
//! [`CensusFile::read`] refuses it. Its [`Census`] is made here from what the group does hold:
//! the population attributes, `edge_count`, the sortedness flags and `synapses_per_connection`,
//! with empty per-target tables (`n_targets` 0), checked against the efferent tables (the
//! check `read` would have made against the per-target ones).

use std::path::Path;

use hdf5::types::VarLenUnicode;

use super::reader::{CensusFile, ConnectionTable, read_attr_u64, read_u64s};
use crate::Census;
use crate::census::derived::{Direction, Efferent, PathwayMatrix};
use crate::census::provenance::Restriction;
use crate::census::schema::{self, UNKNOWN_POPULATION};
use crate::census::{CountedBy, Sortedness};
use crate::error::{Error, H5Context, Location, Result};

/// The tables of one population that the report draws.
#[derive(Debug)]
pub struct PopulationTables {
    /// The afferent tables (the connection table as asked); for an efferent-only census, its
    /// attributes and `synapses_per_connection` only (see the module docs).
    pub census: Census,
    /// Which tables the group holds.
    pub direction: Direction,
    /// How the census was restricted to node sets, if it was.
    pub restriction: Option<Restriction>,
    /// The efferent tables (their connection table as asked), when the group has them.
    pub efferent: Option<Efferent>,
}

/// Reads population `name` of `file` (the file at `path`), the connection tables (afferent and
/// efferent) as `connections` says.
///
/// # Errors
/// As [`CensusFile::read`] and [`CensusFile::efferent`]; [`Error::InvalidData`] when a group
/// that records efferent tables has none, or when an efferent-only census's
/// `synapses_per_connection` disagrees with its per-source tables.
pub fn read(
    file: &CensusFile,
    path: &Path,
    name: &str,
    connections: ConnectionTable,
) -> Result<PopulationTables> {
    let direction = file.direction(name)?;
    let restriction = file.restriction(name)?;
    let efferent = if direction.efferent() {
        let e = file.efferent(name, connections)?.ok_or_else(|| {
            Error::invalid(
                Location::file(path)
                    .population(name)
                    .dataset(schema::EFFERENT),
                format!("missing: the group's direction is '{}'", direction.as_str()),
            )
        })?;
        Some(e)
    } else {
        None
    };
    let census = match (direction.afferent(), &efferent) {
        (false, Some(e)) => efferent_only(file, path, name, e)?,
        _ => file.read(name, connections)?,
    };
    Ok(PopulationTables {
        census,
        direction,
        restriction,
        efferent,
    })
}

/// The pathway matrices of population `name`; none when the group has no `pathways` group.
///
/// # Errors
/// As [`CensusFile::pathways`]; [`Error::Hdf5`] when the group cannot be opened.
pub fn pathways(file: &CensusFile, path: &Path, name: &str) -> Result<Vec<PathwayMatrix>> {
    let at = Location::file(path).population(name);
    let group = file.group(name).at(&at)?;
    if group.link_exists(schema::PATHWAYS) {
        file.pathways(name)
    } else {
        Ok(Vec::new())
    }
}

/// The [`Census`] of an efferent-only group: its attributes and `synapses_per_connection`,
/// no per-target table.
fn efferent_only(file: &CensusFile, path: &Path, name: &str, e: &Efferent) -> Result<Census> {
    let at = Location::file(path).population(name);
    let g = file.group(name).at(&at)?;
    let population = |attr: &str| -> Result<Option<String>> {
        let at = at.dataset(&format!("@{attr}"));
        // HDF5 may hang on a damaged global heap, where these strings are.
        crate::sonata::global_heap::check(&at)?;
        let s = g
            .attr(attr)
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .at(&at)?;
        Ok(Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
            .filter(|s| s != UNKNOWN_POPULATION))
    };
    // Absent flags (never written without the per-target tables) read as "not sorted".
    let flag = |attr: &str| -> bool {
        g.attr(attr)
            .and_then(|a| a.read_scalar::<u8>())
            .is_ok_and(|v| v != 0)
    };
    let census = Census {
        population: name.to_string(),
        source_population: population(schema::SOURCE_NODE_POPULATION)?,
        target_population: population(schema::TARGET_NODE_POPULATION)?,
        edge_count: read_attr_u64(&g, schema::EDGE_COUNT, &at)?,
        n_targets: 0,
        sortedness: Sortedness {
            by_target: flag(schema::SORTED_BY_TARGET),
            by_target_source: flag(schema::SORTED_BY_TARGET_SOURCE),
        },
        target_synapse_count: Vec::new(),
        target_connection_count: Vec::new(),
        target_offsets: vec![0],
        source_node_id: Vec::new(),
        synapse_count: Vec::new(),
        synapses_per_connection: read_u64s(&g, schema::SYNAPSES_PER_CONNECTION, &at)?,
        target_nsyns_total: None,
        // Not recorded in the file: it is the same whichever engine counted.
        backend: CountedBy::Unrecorded,
    };
    check_against_efferent(&census, e, &at)?;
    Ok(census)
}

/// Checks that `synapses_per_connection` counts the connections and synapses of the per-source
/// tables, and that those sum to `edge_count`.
fn check_against_efferent(t: &Census, e: &Efferent, at: &Location) -> Result<()> {
    let sum = |v: &[u64]| -> u128 { v.iter().map(|&x| u128::from(x)).sum() };
    let synapses = sum(&e.source_synapse_count);
    if synapses != u128::from(t.edge_count) {
        return Err(Error::invalid(
            at.dataset(schema::SOURCE_SYNAPSE_COUNT),
            format!("sums to {synapses}, but edge_count is {}", t.edge_count),
        ));
    }
    let hist = &t.synapses_per_connection;
    let hist_conns = sum(hist);
    let hist_syns: u128 = hist
        .iter()
        .enumerate()
        .map(|(k, &x)| k as u128 * u128::from(x))
        .sum();
    let connections = sum(&e.source_connection_count);
    if hist.first().is_some_and(|&z| z != 0) || hist_conns != connections || hist_syns != synapses {
        return Err(Error::invalid(
            at.dataset(schema::SYNAPSES_PER_CONNECTION),
            format!(
                "counts {hist_conns} connections of {hist_syns} synapses (with {} of 0 \
                 synapses), but the per-source tables have {connections} connections and \
                 edge_count is {}",
                hist.first().copied().unwrap_or(0),
                t.edge_count
            ),
        ));
    }
    Ok(())
}
