//! [`NsynsReader`]: the bmtk `nsyns` column streamed in edge order, for the census (one edge
//! row may stand for several synapses).

use super::groups::{Mapping, numeric_groups, open_group, row_ranges, scatter};
use super::schema;
use crate::error::{Error, Location, Result};
use crate::sonata::EdgePopulation;
use crate::sonata::column::{Column, DtypeNames};

/// Streams the bmtk `nsyns` column aligned with edge ids (one edge row may stand for several
/// synapses, spec §1.1).
///
/// Edges whose group has no `nsyns` column count as 1 synapse (bmtk's meaning of a row). Buffers
/// are kept between calls, so streaming a population allocates only once per chunk size.
#[derive(Debug)]
pub struct NsynsReader {
    at: Location,
    size: u64,
    /// The edge (dataset row) of this reader's edge 0: non-zero for a window of the
    /// population's rows ([`EdgePopulation::rows`]).
    window_start: u64,
    columns: NsynsColumns,
    ids: Vec<u64>,
    rows: Vec<u64>,
    pairs: Vec<(u64, usize)>,
    ranges: Vec<(u64, u64)>,
    values: Vec<u64>,
    buffer: Vec<u64>,
}

/// Where the `nsyns` values of an edge are, by the population's group layout.
#[derive(Debug)]
enum NsynsColumns {
    /// Implicit layout: group `0`'s column, row = edge id (`None`: group 0 has no `nsyns`).
    Implicit(Option<Column>),
    /// Explicit layout: the mapping columns and each group's column, sorted by group id.
    Explicit {
        gid: Box<Column>,
        gidx: Box<Column>,
        groups: Vec<(u64, String, Option<Column>)>,
    },
}

impl NsynsReader {
    /// Opens the `nsyns` columns of `pop`; `Ok(None)` when no group has one.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when an `nsyns` column is not a 1-D numeric dataset (strings are
    /// refused), or the group mapping is malformed (see [`EdgePopulation::attribute`]).
    pub fn open(pop: &EdgePopulation) -> Result<Option<NsynsReader>> {
        let mut per_group = Vec::new();
        for (id, g) in numeric_groups(pop)? {
            let group = open_group(pop, &g)?;
            let path = format!("{g}/{}", schema::NSYNS);
            let column = Column::open(
                &group,
                schema::NSYNS,
                &path,
                pop.location(),
                DtypeNames::Sonata,
            )?;
            if let Some(c) = column.as_ref().filter(|c| !c.is_numeric()) {
                return Err(Error::invalid(
                    c.at.clone(),
                    format!("holds {} but a synapse count must be a number", c.dtype),
                ));
            }
            per_group.push((id, g, column));
        }
        if per_group.iter().all(|(_, _, c)| c.is_none()) {
            return Ok(None);
        }
        let columns = match Mapping::of(pop)? {
            Mapping::Implicit => NsynsColumns::Implicit(
                per_group
                    .into_iter()
                    .find(|(_, g, _)| g == "0")
                    .and_then(|(_, _, c)| c),
            ),
            Mapping::Explicit { gid, gidx } => NsynsColumns::Explicit {
                gid,
                gidx,
                groups: per_group,
            },
        };
        Ok(Some(NsynsReader {
            at: pop.location().clone(),
            size: pop.size(),
            window_start: pop.first_row(),
            columns,
            ids: Vec::new(),
            rows: Vec::new(),
            pairs: Vec::new(),
            ranges: Vec::new(),
            values: Vec::new(),
            buffer: Vec::new(),
        }))
    }

    /// Fills `out[i]` with the `nsyns` of edge `first_edge + i`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the edges are past the population;
    /// [`Error::InvalidData`] when an `nsyns` column is shorter than needed, `edge_group_id`
    /// names no group, a value is negative or not integral; [`Error::Hdf5`] when a read fails.
    pub fn read_range_into(&mut self, first_edge: u64, out: &mut [u64]) -> Result<()> {
        let n = out.len();
        if n == 0 {
            return Ok(());
        }
        let end = first_edge
            .checked_add(n as u64)
            .filter(|&end| end <= self.size);
        let Some(end) = end else {
            return Err(Error::InvalidArgument(format!(
                "{}: edges {first_edge}..{} are past the population's {}",
                self.at,
                first_edge.saturating_add(n as u64),
                crate::words::plural(self.size, "edge")
            )));
        };
        // A window's edges are the dataset's rows from its start on.
        let (first_edge, end) = (first_edge + self.window_start, end + self.window_start);
        match &self.columns {
            NsynsColumns::Implicit(None) => {
                out.fill(1);
                Ok(())
            }
            NsynsColumns::Implicit(Some(column)) => {
                column.check_row(end - 1, || {
                    format!("edge {} needs it; row = edge id", end - 1)
                })?;
                column.read_integral_range_into(first_edge, out)
            }
            NsynsColumns::Explicit { gid, gidx, groups } => {
                self.ids.resize(n, 0);
                self.rows.resize(n, 0);
                gid.read_integral_range_into(first_edge, &mut self.ids)?;
                gidx.read_integral_range_into(first_edge, &mut self.rows)?;
                // Replace group ids by slots into `groups`; edges of groups without nsyns get 1.
                let mut last: Option<(u64, usize)> = None;
                for (i, (slot_out, value)) in self.ids.iter_mut().zip(out.iter_mut()).enumerate() {
                    let id = *slot_out;
                    let slot = match last {
                        Some((last_id, slot)) if last_id == id => slot,
                        _ => {
                            let Ok(slot) = groups.binary_search_by_key(&id, |(g, _, _)| *g) else {
                                return Err(Error::invalid(
                                    gid.at.clone(),
                                    format!(
                                        "edge {} has edge_group_id {id} but there is no group '{id}'",
                                        first_edge + i as u64
                                    ),
                                ));
                            };
                            last = Some((id, slot));
                            slot
                        }
                    };
                    *slot_out = slot as u64;
                    if groups[slot].2.is_none() {
                        *value = 1;
                    }
                }
                for (slot, (_, gname, column)) in groups.iter().enumerate() {
                    let Some(column) = column else { continue };
                    self.pairs.clear();
                    self.pairs.extend(
                        (0..n)
                            .filter(|&i| self.ids[i] == slot as u64)
                            .map(|i| (self.rows[i], i)),
                    );
                    let Some(&(first_row, first_pos)) = self.pairs.first() else {
                        continue;
                    };
                    let len = self.pairs.len();
                    let contiguous = self
                        .pairs
                        .iter()
                        .enumerate()
                        .all(|(k, &(row, _))| row == first_row + k as u64);
                    if !contiguous {
                        self.pairs.sort_unstable();
                    }
                    // Ascending rows either way: the last pair has the largest row.
                    let (max_row, max_pos) = self.pairs[len - 1];
                    column.check_row(max_row, || {
                        format!(
                            "edge {} has edge_group_index {max_row} in group '{gname}'",
                            first_edge + max_pos as u64
                        )
                    })?;
                    if contiguous {
                        let in_order = self
                            .pairs
                            .iter()
                            .enumerate()
                            .all(|(k, &(_, pos))| pos == first_pos + k);
                        if in_order {
                            column.read_integral_range_into(
                                first_row,
                                &mut out[first_pos..first_pos + len],
                            )?;
                        } else {
                            self.buffer.resize(len, 0);
                            column.read_integral_range_into(first_row, &mut self.buffer)?;
                            for (k, &(_, pos)) in self.pairs.iter().enumerate() {
                                out[pos] = self.buffer[k];
                            }
                        }
                        continue;
                    }
                    row_ranges(&self.pairs, &mut self.ranges);
                    column.read_integral_ranges_into(
                        &self.ranges,
                        &mut self.values,
                        &mut self.buffer,
                    )?;
                    scatter(out, &self.values, &self.pairs);
                }
                Ok(())
            }
        }
    }
}
