//! What both census engines share: the tables of a census before its metadata is attached
//! (`Tables`), the builder the CPU engine fills target run by target run (`TableBuilder`,
//! spilling the connection table to disk past a threshold), the synapses-per-connection histogram,
//! and the errors both engines must word identically for the same bad input (`target_beyond`,
//! `too_many_synapses`): the GPU engine's output and messages equal the CPU engine's bit for bit,
//! so what they share lives once, here.

use rayon::prelude::*;

use super::stream::{ConnectionSpill, SpilledConnections};
use super::{TargetOrigin, TargetSpace};
use crate::error::{Error, Location, Result, Setting};

/// Connections the CPU engine found for a run of targets, in target order: what
/// [`TableBuilder::push`] takes.
#[derive(Debug, Default)]
pub(crate) struct TargetRuns {
    /// `(target, synapses, connections)` per target with at least one edge, ascending targets.
    pub(super) runs: Vec<(u64, u64, u64)>,
    /// Source id of each connection (ascending within a target).
    pub(super) sources: Vec<u64>,
    /// Synapses of each connection.
    pub(super) counts: Vec<u32>,
    /// Every run's sources were already ascending (the input is sorted by (target, source)).
    pub(super) sources_sorted: bool,
    /// The runs' targets strictly increase (the input is sorted by target).
    pub(super) targets_increasing: bool,
}

impl TargetRuns {
    /// Empties the piece, keeping its buffers (they are reused chunk after chunk).
    pub(super) fn reset(&mut self) {
        self.runs.clear();
        self.sources.clear();
        self.counts.clear();
        self.sources_sorted = true;
        self.targets_increasing = true;
    }

    pub(super) fn first_target(&self) -> Option<u64> {
        self.runs.first().map(|r| r.0)
    }

    pub(super) fn last_target(&self) -> Option<u64> {
        self.runs.last().map(|r| r.0)
    }
}

/// Accumulates pieces (in ascending target order) into the census tables.
#[derive(Debug, Default)]
pub(crate) struct TableBuilder {
    pub(super) synapses: Vec<u64>,
    pub(super) connections: Vec<u64>,
    pub(super) sources: Vec<u64>,
    pub(super) counts: Vec<u32>,
    /// When set, connections go to these files instead of `sources` / `counts`, so that memory
    /// stays flat however many connections there are.
    pub(super) spill: Option<ConnectionSpill>,
    /// Move the connection table to spill files once the tables in memory exceed this many
    /// bytes ([`TableBuilder::table_bytes`]), and the folder for them.
    pub(super) spill_above: Option<(u64, Option<std::path::PathBuf>)>,
    /// Histogram of synapses per connection, kept as connections pass (only when spilling).
    pub(super) histogram: Vec<u64>,
}

impl TableBuilder {
    /// A builder for `n` targets (more when target ids say so) and up to `edges` connections.
    pub(super) fn with_targets(n: u64, edges: u64) -> Self {
        // Reserving address space for the connections avoids copies as the table grows; pages
        // are only touched (and counted in RSS) as connections arrive. Capped so that huge
        // populations do not ask for absurd reservations up front.
        // Filled front to back right away: huge pages spare most of the page faults.
        let reserve = edges.min(MAX_CONNECTION_RESERVE) as usize;
        let mut sources = Vec::with_capacity(reserve);
        let mut counts = Vec::with_capacity(reserve);
        super::huge_pages::advise_vec(&mut sources);
        super::huge_pages::advise_vec(&mut counts);
        TableBuilder {
            synapses: vec![0; n as usize],
            connections: vec![0; n as usize],
            sources,
            counts,
            spill: None,
            spill_above: None,
            histogram: vec![0],
        }
    }

    /// Sends the connections to spill files in `dir` once the tables exceed `above` bytes.
    pub(super) fn spilling(mut self, above: u64, dir: Option<std::path::PathBuf>) -> Self {
        self.spill_above = Some((above, dir));
        self
    }

    pub(super) fn push(&mut self, piece: &TargetRuns) -> Result<()> {
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
            && self.table_bytes(piece.sources.len()) > *above
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

    /// Bytes of the tables in memory once `more` connections are added: 12 per connection
    /// (source and count), 16 per target (synapse and connection counts).
    fn table_bytes(&self, more: usize) -> u64 {
        ((self.sources.len() + more) as u64).saturating_mul(CONNECTION_BYTES)
            + (self.synapses.len() as u64).saturating_mul(TARGET_BYTES)
    }

    /// Builds the census tables for `n_targets` targets (every target id seen is below it). When
    /// spilling, the tables' connection columns are empty and the connections are returned on
    /// disk.
    pub(super) fn finish(mut self, n_targets: u64) -> Result<(Tables, Option<SpilledConnections>)> {
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

/// Bytes of a connection in memory (u64 source, u32 count) and of a target's counts (two u64).
pub(crate) const CONNECTION_BYTES: u64 = 12;
pub(crate) const TARGET_BYTES: u64 = 16;

/// Largest number of connections reserved up front (beyond it the table grows by doubling).
const MAX_CONNECTION_RESERVE: u64 = 1 << 27;

/// The tables of a census, before metadata is attached.
#[derive(Debug)]
pub(crate) struct Tables {
    pub(super) target_synapse_count: Vec<u64>,
    pub(super) target_connection_count: Vec<u64>,
    pub(super) target_offsets: Vec<u64>,
    pub(super) source_node_id: Vec<u64>,
    pub(super) synapse_count: Vec<u32>,
    pub(super) synapses_per_connection: Vec<u64>,
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

/// A target id beyond the node count (both engines).
pub(crate) fn target_beyond(at: &Location, target: u64, row: u64, space: &TargetSpace) -> Error {
    let err = Error::invalid(
        at.clone(),
        format!(
            "target node id {target} at row {row} is beyond the {} target nodes given by {} \
             (the data and the node count disagree)",
            space.n_targets.unwrap_or(0),
            space.origin
        ),
    );
    if space.origin == TargetOrigin::NodeCount {
        err.about(Setting::NodeCount)
    } else {
        err
    }
}
