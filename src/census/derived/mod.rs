//! Tables derived from a census's connection table once it is counted: the efferent census
//! (the table transposed by source, [`efferent`]) and pathway matrices (connections grouped by a
//! node attribute of their source and target, [`pathways`]). Both read the afferent connection
//! table, from memory or from its spill files, so they are the same whichever engine counted.
//!
//! The layout they are written in is [`super::schema`]'s.

pub(crate) mod check;
pub mod efferent;
pub mod pathways;
pub mod plan;

use super::{Census, SpilledConnections};
use crate::error::{Error, Location, Result};

/// Rows per block that [`ConnectionRows::for_each_block`] hands out (about 20 MiB of the three
/// columns): large enough that per-block work is negligible, small enough that memory stays flat.
pub const ROW_BLOCK: usize = 1 << 20;

/// The afferent connection table of a census (CSR by target), from memory or from its spill
/// files: what the derived tables are computed from.
#[derive(Debug, Clone)]
pub struct ConnectionRows<'a> {
    census: &'a Census,
    spilled: Option<&'a SpilledConnections>,
    at: Option<Location>,
}

/// One block of connection rows, in target order: row `first + k` is the connection from
/// `sources[k]` to `targets[k]` of `counts[k]` synapses.
#[derive(Debug, Clone, Copy)]
pub struct RowBlock<'b> {
    /// Index of the first row in the table.
    pub first: u64,
    /// Target of each row.
    pub targets: &'b [u64],
    /// Source of each row.
    pub sources: &'b [u64],
    /// Synapses of each row.
    pub counts: &'b [u32],
}

impl<'a> ConnectionRows<'a> {
    /// The table of `census`, in `spilled` when the census's own table went to disk
    /// ([`super::census_population_spilled`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the table is neither in the census nor spilled (a census
    /// read with [`super::reader::ConnectionTable::Skip`]), or its length is not the offsets'.
    pub fn new(census: &'a Census, spilled: Option<&'a SpilledConnections>) -> Result<Self> {
        let n = census.connection_count();
        let (sources, counts) = match spilled {
            Some(t) => (t.len(), t.len()),
            None => (
                census.source_node_id.len() as u64,
                census.synapse_count.len() as u64,
            ),
        };
        if sources != n || counts != n {
            return Err(Error::InvalidArgument(format!(
                "population '{}': the connection table has {sources} rows, but the census counts \
                 {n} connections (a census read without its connection table?)",
                census.population
            )));
        }
        if census.target_offsets.len() as u64 != census.n_targets.saturating_add(1) {
            return Err(Error::InvalidArgument(format!(
                "population '{}': {} target offsets for {} targets",
                census.population,
                census.target_offsets.len(),
                census.n_targets
            )));
        }
        Ok(ConnectionRows {
            census,
            spilled,
            at: None,
        })
    }

    /// The census whose table this is.
    pub fn census(&self) -> &'a Census {
        self.census
    }

    /// Whether the table is the census's own (in memory), not spill files: then it can be
    /// walked by target directly ([`Census::target_offsets`]).
    pub fn in_memory(&self) -> bool {
        self.spilled.is_none()
    }

    /// Number of rows (connections).
    pub fn len(&self) -> u64 {
        self.census.connection_count()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// These rows with errors about them located at `at` (the edge population counted:
    /// [`crate::EdgePopulation::location`]); the census itself does not know its file.
    #[must_use]
    pub fn with_location(mut self, at: Location) -> Self {
        self.at = Some(at);
        self
    }

    /// Where the table's population is, for messages: [`ConnectionRows::with_location`]'s, else
    /// the census of the population.
    pub fn location(&self) -> Location {
        self.at
            .clone()
            .unwrap_or_else(|| Location::file("<census>").population(&self.census.population))
    }

    /// Calls `f` on consecutive blocks of at most [`ROW_BLOCK`] rows in table (target) order,
    /// checking for interruption between blocks. Memory: one block.
    ///
    /// # Errors
    /// Read errors of the spill files, [`Error::Interrupted`], or the first error of `f`.
    pub fn for_each_block(&self, mut f: impl FnMut(RowBlock<'_>) -> Result<()>) -> Result<()> {
        let offsets = &self.census.target_offsets;
        // The target of the next row: offsets are ascending, so one cursor walks them once.
        let mut target = 0usize;
        let mut targets: Vec<u64> = Vec::new();
        let mut emit = |first: u64, sources: &[u64], counts: &[u32]| -> Result<()> {
            crate::interrupt::check()?;
            targets.clear();
            for row in first..first + sources.len() as u64 {
                while target + 1 < offsets.len() && offsets[target + 1] <= row {
                    target += 1;
                }
                targets.push(target as u64);
            }
            f(RowBlock {
                first,
                targets: &targets,
                sources,
                counts,
            })
        };
        match self.spilled {
            Some(table) => table.for_each_block(&mut emit),
            None => {
                let sources = &self.census.source_node_id;
                let counts = &self.census.synapse_count;
                let mut first = 0usize;
                while first < sources.len() {
                    let end = (first + ROW_BLOCK).min(sources.len());
                    emit(first as u64, &sources[first..end], &counts[first..end])?;
                    first = end;
                }
                Ok(())
            }
        }
    }
}

impl ConnectionRows<'_> {
    /// Calls `f(target, sources, counts)` on the rows of each target in table order: a table
    /// in memory is walked through its offsets (no per-row target column is made); a spilled
    /// one through [`ConnectionRows::for_each_block`], so a target's rows may come in two
    /// calls when they straddle blocks. Checks for interruption about every [`ROW_BLOCK`] rows.
    ///
    /// # Errors
    /// As [`ConnectionRows::for_each_block`].
    pub fn for_each_target_run(
        &self,
        mut f: impl FnMut(u64, &[u64], &[u32]) -> Result<()>,
    ) -> Result<()> {
        if self.spilled.is_some() {
            return self.for_each_block(|block| {
                let mut a = 0;
                while a < block.targets.len() {
                    let t = block.targets[a];
                    let mut b = a + 1;
                    while b < block.targets.len() && block.targets[b] == t {
                        b += 1;
                    }
                    f(t, &block.sources[a..b], &block.counts[a..b])?;
                    a = b;
                }
                Ok(())
            });
        }
        let c = self.census;
        let mut since_check = 0u64;
        for (t, w) in c.target_offsets.windows(2).enumerate() {
            let (a, b) = (w[0] as usize, w[1] as usize);
            if a == b {
                continue;
            }
            since_check += (b - a) as u64;
            if since_check >= ROW_BLOCK as u64 {
                crate::interrupt::check()?;
                since_check = 0;
            }
            f(t as u64, &c.source_node_id[a..b], &c.synapse_count[a..b])?;
        }
        crate::interrupt::check()
    }
}

/// Which tables a census writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Per-target tables and the connection table by target (what `count` always wrote).
    #[default]
    Afferent,
    /// Per-source tables and the connection table by source only.
    Efferent,
    /// Both.
    Both,
}

impl Direction {
    /// The value of the [`super::schema::DIRECTION`] attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Afferent => "afferent",
            Direction::Efferent => "efferent",
            Direction::Both => "both",
        }
    }

    /// Whether the per-target tables are written.
    pub fn afferent(self) -> bool {
        matches!(self, Direction::Afferent | Direction::Both)
    }

    /// Whether the per-source tables are written.
    pub fn efferent(self) -> bool {
        matches!(self, Direction::Efferent | Direction::Both)
    }
}

impl std::str::FromStr for Direction {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s {
            "afferent" => Ok(Direction::Afferent),
            "efferent" => Ok(Direction::Efferent),
            "both" => Ok(Direction::Both),
            other => Err(crate::error::Error::InvalidArgument(format!(
                "unknown direction '{other}' (expected afferent, efferent or both)"
            ))),
        }
    }
}

/// The efferent (per-source) tables of a census.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Efferent {
    /// Length of the per-source tables.
    pub n_sources: u64,
    /// Where `n_sources` comes from, in words (recorded as an attribute).
    pub n_sources_origin: String,
    /// Synapses (edges) per source.
    pub source_synapse_count: Vec<u64>,
    /// Connections (distinct targets) per source.
    pub source_connection_count: Vec<u64>,
    /// CSR offsets into the efferent connection table, `n_sources + 1` entries.
    pub source_offsets: Vec<u64>,
    /// Target of each connection, ascending within a source; empty when the table was written
    /// straight to a file or left unread.
    pub target_node_id: Vec<u64>,
    /// Synapses of each connection (as `target_node_id`).
    pub synapse_count: Vec<u32>,
}

/// The values of a node attribute that label a pathway matrix's rows or columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathwayValues {
    /// String or `@library` attributes.
    Strings(Vec<String>),
    /// Integer attributes.
    Integers(Vec<i64>),
}

impl PathwayValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            PathwayValues::Strings(v) => v.len(),
            PathwayValues::Integers(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as text (labels of plots and JSON).
    pub fn label(&self, i: usize) -> String {
        match self {
            PathwayValues::Strings(v) => v.get(i).cloned().unwrap_or_default(),
            PathwayValues::Integers(v) => v.get(i).map(i64::to_string).unwrap_or_default(),
        }
    }
}

/// The pathway matrices of one node attribute: `synapses[i * T + j]` and `connections[i * T + j]`
/// count the synapses (edge rows) and connections from source nodes of value
/// `source_values[i]` to target nodes of value `target_values[j]` (row-major, `S` rows and `T`
/// columns); `pair_count[i * T + j]` counts the possible connections between them:
/// `source_node_count[i] * target_node_count[j]`, less the nodes counted on both sides (of a
/// population onto itself) with those two values, since a node does not connect to itself.
/// The connection probability is `connections / pair_count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathwayMatrix {
    /// The node attribute.
    pub attribute: String,
    /// Values of the source nodes (rows), in the attribute's order: an `@library` attribute's
    /// enumeration order, else ascending; only values some counted node has.
    pub source_values: PathwayValues,
    /// Values of the target nodes (columns), as `source_values`.
    pub target_values: PathwayValues,
    /// Source nodes (of the source node set, when restricted) per value.
    pub source_node_count: Vec<u64>,
    /// Target nodes (of the target node set, when restricted) per value.
    pub target_node_count: Vec<u64>,
    /// Synapses (edge rows), `S * T`, row-major.
    pub synapses: Vec<u64>,
    /// Connections, `S * T`, row-major.
    pub connections: Vec<u64>,
    /// Possible connections, `S * T`, row-major.
    pub pair_count: Vec<u64>,
}
