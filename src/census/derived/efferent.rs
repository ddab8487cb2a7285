//! The efferent census: the afferent connection table transposed by source.
//!
//! This file owns the source space ([`SourceSpace`]: how many sources the per-source tables
//! have, and who said so) and the transposition ([`transpose`]). The transposition streams the
//! table, so memory is the per-source tables plus one range buffer whatever the table's size:
//! - pass 1 counts the connections and synapses of each source, which give the offsets;
//! - the sources are then split into ranges whose rows (12 B each) fit the memory budget, and
//!   each range is one more pass over the table: a stable counting-sort scatter of the rows
//!   whose source is in the range into a buffer, handed to the sink in row order. Rows come in
//!   target order, so targets end up ascending within a source.
//!
//! The file layout is [`crate::census::schema`]'s; the writer is
//! [`crate::census::output::CensusWriter::write_efferent`].

use super::{ConnectionRows, Efferent};
use crate::census::limits;
use crate::error::{Error, Location, Result};
use crate::memory::{gib, memory_text};
use crate::sonata::EdgePopulation;
use crate::sonata::index::{EdgeIndex, IndexDirection};

/// The words of [`SourceSpace::origin`] for a size from the circuit's node files.
pub const ORIGIN_NODE_POPULATION: &str =
    "the size of the source node population in the circuit's node files";
/// The words of [`SourceSpace::origin`] for a size from the source index.
pub const ORIGIN_SOURCE_INDEX: &str = "the source index (indices/source_to_target)";
/// The words of [`SourceSpace::origin`] when the largest source id sets the size.
pub const ORIGIN_LARGEST_SOURCE_ID: &str = "the largest source id";

/// Bytes of per-source tables per source while transposing: synapse count, connection count,
/// offset and scatter cursor (u64 each).
const BYTES_PER_SOURCE: u64 = 32;

/// How many sources the per-source tables have, and where the number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpace {
    /// Fixed number of sources, or `None` for "largest source id + 1" (found from the table).
    pub n_sources: Option<u64>,
    /// Where the number comes from, in words (recorded as the `n_sources_origin` attribute).
    pub origin: String,
}

impl SourceSpace {
    /// The size of the source node population when given (`from_node_population`, from a
    /// circuit config), else the length of the population's source index when it has one, else
    /// unknown (the largest source id + 1).
    ///
    /// # Errors
    /// A malformed source index; a size whose per-source tables cannot fit in memory.
    pub fn resolve(pop: &EdgePopulation, from_node_population: Option<u64>) -> Result<Self> {
        let space = if let Some(n) = from_node_population {
            SourceSpace {
                n_sources: Some(n),
                origin: ORIGIN_NODE_POPULATION.to_string(),
            }
        } else if let Some(index) = EdgeIndex::open(pop, IndexDirection::SourceToTarget)? {
            SourceSpace {
                n_sources: Some(index.node_count()),
                origin: ORIGIN_SOURCE_INDEX.to_string(),
            }
        } else {
            SourceSpace {
                n_sources: None,
                origin: ORIGIN_LARGEST_SOURCE_ID.to_string(),
            }
        };
        if let Some(n) = space.n_sources {
            check_source_count(n, &space.origin, pop.location())?;
        }
        Ok(space)
    }
}

/// Errors when `n` sources need more per-source table memory than the machine has (the bound of
/// the per-target tables, [`limits::max_targets`]): the number comes from the circuit's files
/// (node files, index, ids), so a corrupt one is an error naming the population, not an
/// allocation abort.
fn check_source_count(n: u64, origin: &str, at: &Location) -> Result<()> {
    let max = limits::max_targets();
    if n <= max {
        return Ok(());
    }
    Err(Error::invalid(
        at.clone(),
        format!(
            "{origin} gives {n} source nodes, which need {} of per-source tables, more than \
             this machine's memory (RAM + swap: {}); the ids are probably corrupt",
            gib(n.saturating_mul(BYTES_PER_SOURCE)),
            memory_text()
        ),
    ))
}

/// Transposes `rows` by source: returns the per-source tables (`target_node_id` and
/// `synapse_count` empty) and hands the efferent connection table to `sink` as
/// `(first row, targets, counts)` blocks in row order (source, then target ascending). Memory:
/// the per-source tables and one buffer of at most `memory_budget` bytes (12 B per row; a single
/// source with more rows than that is one buffer of its own).
///
/// # Errors
/// [`Error::InvalidData`] naming the population when a source id is at or beyond a fixed
/// `n_sources`, or when the per-source tables cannot fit in memory; read
/// errors of spill files; [`Error::Interrupted`]; the first error of `sink`.
pub fn transpose(
    rows: &ConnectionRows<'_>,
    space: &SourceSpace,
    memory_budget: u64,
    mut sink: impl FnMut(u64, &[u64], &[u32]) -> Result<()>,
) -> Result<Efferent> {
    let at = rows.location();
    if let Some(n) = space.n_sources {
        check_source_count(n, &space.origin, &at)?;
    }
    // Pass 1: connections and synapses per source.
    let mut connections: Vec<u64> = vec![0; space.n_sources.unwrap_or(0) as usize];
    let mut synapses: Vec<u64> = vec![0; connections.len()];
    rows.for_each_target_run(|_, sources, counts| {
        for (&s, &n) in sources.iter().zip(counts) {
            let i = s as usize;
            if i >= connections.len() {
                match space.n_sources {
                    Some(max) => {
                        return Err(Error::invalid(
                            at.clone(),
                            format!(
                                "source id {s} is out of range: {} gives {max} source nodes",
                                space.origin
                            ),
                        ));
                    }
                    None => {
                        let len = s.saturating_add(1);
                        check_source_count(len, &space.origin, &at)?;
                        connections.resize(len as usize, 0);
                        synapses.resize(len as usize, 0);
                    }
                }
            }
            connections[i] += 1;
            synapses[i] += u64::from(n);
        }
        Ok(())
    })?;
    let n_sources = connections.len() as u64;
    let mut offsets = Vec::with_capacity(connections.len() + 1);
    let mut total = 0u64;
    offsets.push(0);
    for &c in &connections {
        total += c;
        offsets.push(total);
    }
    // Passes 2..: one per range of sources whose rows fit the budget.
    let rows_per_range = (memory_budget / 12).max(1);
    let mut cursor: Vec<u64> = Vec::new();
    let mut targets: Vec<u64> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut s0 = 0usize;
    while s0 < connections.len() {
        // The range: sources s0..s1, rows offsets[s0]..offsets[s1]; at least one source.
        let base = offsets[s0];
        let mut s1 = s0 + 1;
        while s1 < connections.len() && offsets[s1 + 1] - base <= rows_per_range {
            s1 += 1;
        }
        let len = (offsets[s1] - base) as usize;
        if len == 0 {
            s0 = s1;
            continue;
        }
        cursor.clear();
        cursor.extend(offsets[s0..s1].iter().map(|&o| o - base));
        targets.clear();
        targets.resize(len, 0);
        counts.clear();
        counts.resize(len, 0);
        let (lo, hi) = (s0 as u64, s1 as u64);
        rows.for_each_target_run(|t, sources, synapses| {
            for (&s, &n) in sources.iter().zip(synapses) {
                if s >= lo && s < hi {
                    let c = &mut cursor[(s - lo) as usize];
                    targets[*c as usize] = t;
                    counts[*c as usize] = n;
                    *c += 1;
                }
            }
            Ok(())
        })?;
        crate::interrupt::check()?;
        sink(base, &targets, &counts)?;
        s0 = s1;
    }
    Ok(Efferent {
        n_sources,
        n_sources_origin: space.origin.clone(),
        source_synapse_count: synapses,
        source_connection_count: connections,
        source_offsets: offsets,
        target_node_id: Vec::new(),
        synapse_count: Vec::new(),
    })
}

/// [`transpose`] with the efferent connection table kept in the result (12 B per connection;
/// the Python module's, and tests').
///
/// # Errors
/// As [`transpose`].
pub fn transpose_in_memory(
    rows: &ConnectionRows<'_>,
    space: &SourceSpace,
    memory_budget: u64,
) -> Result<Efferent> {
    let n = rows.len() as usize;
    let mut target_node_id: Vec<u64> = Vec::with_capacity(n);
    let mut synapse_count: Vec<u32> = Vec::with_capacity(n);
    let mut e = transpose(rows, space, memory_budget, |_, targets, counts| {
        target_node_id.extend_from_slice(targets);
        synapse_count.extend_from_slice(counts);
        Ok(())
    })?;
    e.target_node_id = target_node_id;
    e.synapse_count = synapse_count;
    Ok(e)
}
