//! Reads what a report needs from a census table file, and checks that the tables agree.
//!
//! Only the per-target tables (with bmtk's `target_nsyns_total` where the census has it), the
//! connection offsets and the synapses-per-connection histogram are read: the connection table itself (12 B per connection) is not needed for any number or
//! plot of the report, so a report of a 10^10-synapse census reads megabytes, not gigabytes.

use std::path::Path;

use hdf5::types::VarLenUnicode;

use crate::census::Sortedness;
use crate::census::output::UNKNOWN_POPULATION;
use crate::error::{Error, H5Context, Location, Result};

/// The tables of one census population that the report uses.
#[derive(Debug, Clone)]
pub struct PopulationTables {
    /// Edge population name (the group's name).
    pub population: String,
    /// Source node population, `None` when the census recorded "unknown".
    pub source_population: Option<String>,
    /// Target node population, `None` when the census recorded "unknown".
    pub target_population: Option<String>,
    /// Synapses (edges).
    pub edge_count: u64,
    /// Length of the per-target tables.
    pub n_targets: u64,
    /// Order of the edges in the counted file.
    pub sortedness: Sortedness,
    /// Synapses per target.
    pub target_synapse_count: Vec<u64>,
    /// Connections per target.
    pub target_connection_count: Vec<u64>,
    /// Connections in all (the last connection offset).
    pub connection_count: u64,
    /// Entry `k`: connections with exactly `k` synapses.
    pub synapses_per_connection: Vec<u64>,
    /// Per-target sum of bmtk `nsyns` (`target_nsyns_total`), when the census has it: an edge
    /// row then stands for `nsyns` synapses, and every other table counts edge rows.
    pub target_nsyns_total: Option<Vec<u64>>,
    /// Sum of `target_nsyns_total` (0 without it).
    pub nsyns_total: u64,
}

/// The optional per-target `nsyns` sums of a bmtk census.
const NSYNS: &str = "target_nsyns_total";

/// Datasets and attributes that make an HDF5 group a census population.
const REQUIRED: [&str; 3] = [
    "target_synapse_count",
    "target_connection_count",
    "synapses_per_connection",
];

/// Opens a census table file and lists its census populations (top-level groups with the census
/// datasets and an `edge_count` attribute), in the file's order.
///
/// # Errors
/// [`Error::InputFile`] when the file cannot be read, [`Error::NotHdf5`], and
/// [`Error::InvalidData`] when the file holds no census population (e.g. a SONATA edge file).
pub fn open(path: &Path) -> Result<(hdf5::File, Vec<String>)> {
    let at = Location::file(path);
    let file = crate::sonata::open_hdf5_file(path)?;
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
                "not a census table file (no group with {} and an edge_count attribute){hint}",
                REQUIRED.join(", ")
            ),
        ));
    }
    Ok((file, names))
}

fn is_census_group(g: &hdf5::Group) -> bool {
    REQUIRED.iter().all(|d| g.link_exists(d))
        && g.link_exists("connections/target_offsets")
        && g.attr("edge_count").is_ok()
}

/// Whether census population `name` of an open table file has bmtk's `target_nsyns_total`.
pub fn has_nsyns(file: &hdf5::File, name: &str) -> bool {
    file.group(name).is_ok_and(|g| g.link_exists(NSYNS))
}

/// Reads one census population of an open table file and checks its tables against each other.
///
/// # Errors
/// [`Error::PopulationNotFound`]; [`Error::Hdf5`] naming the dataset that cannot be read;
/// [`Error::InvalidData`] when the tables disagree (lengths, sums).
pub fn read_population(file: &hdf5::File, path: &Path, name: &str) -> Result<PopulationTables> {
    let at = Location::file(path).population(name);
    let g = match file.group(name) {
        Ok(g) if is_census_group(&g) => g,
        _ => {
            let available = open(path).map(|(_, names)| names).unwrap_or_default();
            return Err(Error::PopulationNotFound {
                at: Location::file(path),
                name: name.to_string(),
                available,
            });
        }
    };
    let u64s = |dataset: &str| -> Result<Vec<u64>> {
        g.dataset(dataset)
            .and_then(|d| d.read_raw::<u64>())
            .at(&at.dataset(dataset))
    };
    let attr_u64 = |attr: &str| -> Result<u64> {
        g.attr(attr)
            .and_then(|a| a.read_scalar::<u64>())
            .at(&at.dataset(&format!("@{attr}")))
    };
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
    let tables = PopulationTables {
        population: name.to_string(),
        source_population: attr_population("source_node_population")?,
        target_population: attr_population("target_node_population")?,
        edge_count: attr_u64("edge_count")?,
        n_targets: attr_u64("n_targets")?,
        sortedness: Sortedness {
            by_target: attr_flag("sorted_by_target")?,
            by_target_source: attr_flag("sorted_by_target_source")?,
        },
        target_synapse_count: u64s("target_synapse_count")?,
        target_connection_count: u64s("target_connection_count")?,
        connection_count: 0,
        synapses_per_connection: u64s("synapses_per_connection")?,
        target_nsyns_total: if g.link_exists(NSYNS) {
            Some(u64s(NSYNS)?)
        } else {
            None
        },
        nsyns_total: 0,
    };
    let offsets = u64s("connections/target_offsets")?;
    check(tables, &offsets, &at)
}

/// Checks that the tables describe one census: lengths match `n_targets`, the offsets match the
/// connection counts, and synapses and connections add up the same way through every table.
fn check(mut t: PopulationTables, offsets: &[u64], at: &Location) -> Result<PopulationTables> {
    let bad = |dataset: &str, reason: String| Err(Error::invalid(at.dataset(dataset), reason));
    let n = t.n_targets;
    for (name, len) in [
        ("target_synapse_count", t.target_synapse_count.len()),
        ("target_connection_count", t.target_connection_count.len()),
    ] {
        if len as u64 != n {
            return bad(name, format!("{len} entries, but n_targets is {n}"));
        }
    }
    if offsets.len() as u64 != n.saturating_add(1) || offsets.first() != Some(&0) {
        return bad(
            "connections/target_offsets",
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
                "connections/target_offsets",
                format!("target {i}: offsets do not match target_connection_count ({c})"),
            );
        }
    }
    t.connection_count = offsets.last().copied().unwrap_or(0);
    let synapses: u128 = t.target_synapse_count.iter().map(|&x| u128::from(x)).sum();
    if synapses != u128::from(t.edge_count) {
        return bad(
            "target_synapse_count",
            format!("sums to {synapses}, but edge_count is {}", t.edge_count),
        );
    }
    let hist = &t.synapses_per_connection;
    if hist.first().is_some_and(|&z| z != 0) {
        return bad(
            "synapses_per_connection",
            format!("{} connections with 0 synapses", hist[0]),
        );
    }
    let hist_conns: u128 = hist.iter().map(|&x| u128::from(x)).sum();
    let hist_syns: u128 = hist
        .iter()
        .enumerate()
        .map(|(k, &x)| k as u128 * u128::from(x))
        .sum();
    if hist_conns != u128::from(t.connection_count) || hist_syns != u128::from(t.edge_count) {
        return bad(
            "synapses_per_connection",
            format!(
                "counts {hist_conns} connections of {hist_syns} synapses, but the tables have {} \
                 connections and edge_count is {}",
                t.connection_count, t.edge_count
            ),
        );
    }
    if let Some(nsyns) = &t.target_nsyns_total {
        if nsyns.len() as u64 != n {
            return bad(
                NSYNS,
                format!("{} entries, but n_targets is {n}", nsyns.len()),
            );
        }
        // A target without edge rows has no nsyns to sum.
        if let Some(i) = (0..nsyns.len()).find(|&i| nsyns[i] > 0 && t.target_synapse_count[i] == 0)
        {
            return bad(
                NSYNS,
                format!(
                    "target {i}: nsyns sum to {}, but target_synapse_count gives it no edge row",
                    nsyns[i]
                ),
            );
        }
        let total: u128 = nsyns.iter().map(|&x| u128::from(x)).sum();
        t.nsyns_total = match u64::try_from(total) {
            Ok(v) => v,
            Err(_) => return bad(NSYNS, format!("sums to {total}, more than 2^64 - 1")),
        };
    }
    Ok(t)
}
