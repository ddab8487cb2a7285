//! Reading back and checking the derived tables of a census table file: the efferent tables
//! agree with each other and with the group's totals, and pathway matrices have their shapes.
//! [`crate::census::reader::CensusFile`] calls these; the layout is
//! [`crate::census::schema`]'s.

use hdf5::types::{TypeDescriptor, VarLenUnicode};

use super::{Efferent, PathwayMatrix, PathwayValues};
use crate::census::schema;
use crate::error::{Error, H5Context, Location, Result};

/// Checks the per-source tables: lengths against `n_sources`, offsets against the connection
/// counts, synapses against `edge_count`, connections against the afferent table's (when the
/// group has one) and the `synapses_per_connection` histogram.
pub(crate) fn efferent(
    e: &Efferent,
    edge_count: u64,
    afferent_connections: Option<u64>,
    hist: &[u64],
    at: &Location,
) -> Result<()> {
    let bad = |dataset: &str, reason: String| Err(Error::invalid(at.dataset(dataset), reason));
    let n = e.n_sources;
    for (name, len) in [
        (schema::SOURCE_SYNAPSE_COUNT, e.source_synapse_count.len()),
        (
            schema::SOURCE_CONNECTION_COUNT,
            e.source_connection_count.len(),
        ),
    ] {
        if len as u64 != n {
            return bad(name, format!("{len} entries, but n_sources is {n}"));
        }
    }
    let offsets = &e.source_offsets;
    if offsets.len() as u64 != n.saturating_add(1) || offsets.first() != Some(&0) {
        return bad(
            schema::SOURCE_OFFSETS,
            format!(
                "expected {} entries starting at 0 (n_sources + 1), found {}",
                n.saturating_add(1),
                offsets.len()
            ),
        );
    }
    for (i, (w, &c)) in offsets
        .windows(2)
        .zip(&e.source_connection_count)
        .enumerate()
    {
        if w[1].checked_sub(w[0]) != Some(c) {
            return bad(
                schema::SOURCE_OFFSETS,
                format!(
                    "source {i}: offsets do not match {} ({c})",
                    schema::SOURCE_CONNECTION_COUNT
                ),
            );
        }
    }
    let synapses: u128 = e.source_synapse_count.iter().map(|&x| u128::from(x)).sum();
    if synapses != u128::from(edge_count) {
        return bad(
            schema::SOURCE_SYNAPSE_COUNT,
            format!("sums to {synapses}, but edge_count is {edge_count}"),
        );
    }
    let connections = offsets.last().copied().unwrap_or(0);
    if let Some(a) = afferent_connections
        && a != connections
    {
        return bad(
            schema::SOURCE_OFFSETS,
            format!(
                "end at {connections} connections, but {} ends at {a}",
                schema::TARGET_OFFSETS
            ),
        );
    }
    let hist_conns: u128 = hist.iter().map(|&x| u128::from(x)).sum();
    if hist_conns != u128::from(connections) {
        return bad(
            schema::SYNAPSES_PER_CONNECTION,
            format!("counts {hist_conns} connections, but the efferent tables have {connections}"),
        );
    }
    Ok(())
}

/// Checks the efferent connection table: one row per connection, targets ascending within a
/// source, synapses summing to each source's count.
pub(crate) fn efferent_table(e: &Efferent, at: &Location) -> Result<()> {
    let connections = e.source_offsets.last().copied().unwrap_or(0);
    for (name, len) in [
        (schema::TARGET_NODE_ID, e.target_node_id.len()),
        (schema::EFFERENT_SYNAPSE_COUNT, e.synapse_count.len()),
    ] {
        if len as u64 != connections {
            return Err(Error::invalid(
                at.dataset(name),
                format!(
                    "{len} entries, but {} ends at {connections}",
                    schema::SOURCE_OFFSETS
                ),
            ));
        }
    }
    for (s, w) in e.source_offsets.windows(2).enumerate() {
        let (a, b) = (w[0] as usize, w[1] as usize);
        let targets = &e.target_node_id[a..b];
        if let Some(k) = targets.windows(2).position(|p| p[0] >= p[1]) {
            return Err(Error::invalid(
                at.dataset(schema::TARGET_NODE_ID),
                format!(
                    "source {s}: targets not ascending ({} then {})",
                    targets[k],
                    targets[k + 1]
                ),
            ));
        }
        let sum: u64 = e.synapse_count[a..b].iter().map(|&x| u64::from(x)).sum();
        if e.source_synapse_count.get(s) != Some(&sum) {
            return Err(Error::invalid(
                at.dataset(schema::EFFERENT_SYNAPSE_COUNT),
                format!(
                    "source {s}: synapses sum to {sum}, but {} says {}",
                    schema::SOURCE_SYNAPSE_COUNT,
                    e.source_synapse_count.get(s).copied().unwrap_or(0)
                ),
            ));
        }
    }
    Ok(())
}

/// Reads one pathway group `g` (attribute `attribute`, at `at`) and checks its shapes, and that
/// no cell has more connections than synapses.
pub(crate) fn read_pathway(
    g: &hdf5::Group,
    attribute: &str,
    at: &Location,
) -> Result<PathwayMatrix> {
    let u64s = |name: &str| -> Result<Vec<u64>> {
        g.dataset(name)
            .and_then(|d| d.read_raw::<u64>())
            .at(&at.dataset(name))
    };
    let source_values = read_values(g, schema::PATHWAY_SOURCE_VALUES, at)?;
    let target_values = read_values(g, schema::PATHWAY_TARGET_VALUES, at)?;
    let (n_s, n_t) = (source_values.len(), target_values.len());
    let matrix = |name: &str| -> Result<Vec<u64>> {
        let shape = g.dataset(name).map(|d| d.shape()).at(&at.dataset(name))?;
        if shape != [n_s, n_t] {
            return Err(Error::invalid(
                at.dataset(name),
                format!("shape {shape:?}, but there are {n_s} source and {n_t} target values"),
            ));
        }
        u64s(name)
    };
    let m = PathwayMatrix {
        attribute: attribute.to_string(),
        source_node_count: u64s(schema::PATHWAY_SOURCE_NODE_COUNT)?,
        target_node_count: u64s(schema::PATHWAY_TARGET_NODE_COUNT)?,
        synapses: matrix(schema::PATHWAY_SYNAPSES)?,
        connections: matrix(schema::PATHWAY_CONNECTIONS)?,
        pair_count: matrix(schema::PATHWAY_PAIR_COUNT)?,
        source_values,
        target_values,
    };
    for (name, len, want) in [
        (
            schema::PATHWAY_SOURCE_NODE_COUNT,
            m.source_node_count.len(),
            n_s,
        ),
        (
            schema::PATHWAY_TARGET_NODE_COUNT,
            m.target_node_count.len(),
            n_t,
        ),
    ] {
        if len != want {
            return Err(Error::invalid(
                at.dataset(name),
                format!("{len} entries, but there are {want} values"),
            ));
        }
    }
    if let Some(k) = (0..m.synapses.len()).find(|&k| m.connections[k] > m.synapses[k]) {
        return Err(Error::invalid(
            at.dataset(schema::PATHWAY_CONNECTIONS),
            format!(
                "cell ({}, {}): {} connections of {} synapses",
                k / n_t.max(1),
                k % n_t.max(1),
                m.connections[k],
                m.synapses[k]
            ),
        ));
    }
    Ok(m)
}

/// A values dataset: text or integers.
fn read_values(g: &hdf5::Group, name: &str, at: &Location) -> Result<PathwayValues> {
    let at = at.dataset(name);
    let ds = g.dataset(name).at(&at)?;
    let dtype = ds.dtype().and_then(|t| t.to_descriptor()).at(&at)?;
    match dtype {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
            Ok(PathwayValues::Integers(ds.read_raw::<i64>().at(&at)?))
        }
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii => {
            crate::sonata::global_heap::check(&at)?;
            let v = ds.read_raw::<VarLenUnicode>().at(&at)?;
            Ok(PathwayValues::Strings(
                v.iter()
                    .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
                    .collect(),
            ))
        }
        other => Err(Error::invalid(
            at,
            format!("holds {other} values, not text or integers"),
        )),
    }
}
