//! Edge indices: node ids to edge [`Selection`]s through `indices/<direction>/`, as libsonata does.
//!
//! An index (`indices/target_to_source` or `indices/source_to_target`) has two `(k, 2)` integer
//! datasets (spec §1.2):
//! - `node_id_to_ranges[n] = [a, b)`: rows `a..b` of `range_to_edge_id` belong to node `n`
//!   (bmtk / Allen files spell it `node_id_to_range`; both are accepted, see [`IndexSpelling`]);
//! - `range_to_edge_id[r] = [e0, e1)`: edge ids `e0..e1`.
//!
//! [`EdgeIndex::resolve`] reproduces libsonata's `edge_index::resolve`: ids are sorted and
//! deduplicated, ids past the index are dropped, the needed rows are read with a few contiguous
//! block reads (rows closer than [`INDEX_MERGE_GAP_ROWS`] share one read; never one HDF5 call per
//! id, never an OR-ed hyperslab), empty ranges are dropped and both levels are sorted and merged.
//! The datasets stay in the file: memory is bounded by the block size and the result.
//!
//! Unlike libsonata, rows that are malformed (inverted, pointing past the other dataset or past
//! the edges, negative) are reported as [`Error::InvalidData`] instead of being dropped or
//! surfacing as an HDF5 range error.

use std::fmt;

use hdf5::Dataset;
use hdf5::types::TypeDescriptor;

use super::bulk::{plan_blocks, read_rows_2d_into};
use super::edges::describe_type;
use super::schema;
use crate::error::{Error, H5Context, Location, Result};
use crate::selection::{Selection, sort_and_merge};
use crate::sonata::EdgePopulation;

/// Index rows closer than this many rows are read with one block read: 4 MiB of `(u64, u64)`
/// rows, libsonata's page size (`SONATA_PAGESIZE / 16` = 262,144 rows).
pub const INDEX_MERGE_GAP_ROWS: u64 = super::bulk::MERGE_GAP_BYTES / 16;

/// Largest block of index rows read at once (16 MiB of `(u64, u64)` rows); longer runs are split.
pub const INDEX_MAX_BLOCK_ROWS: u64 = 1 << 20;

/// Gap below which an index held in memory ([`EdgeIndex::held_in_memory`]) copies wanted rows
/// as one block.
const HELD_MERGE_GAP_ROWS: u64 = 8;

/// Rows per read when [`EdgeIndex::validate`] streams a whole dataset (1 MiB of rows).
const VALIDATE_BLOCK_ROWS: u64 = 1 << 16;

/// Which of a population's two indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexDirection {
    /// `indices/target_to_source`: keyed by target node, for afferent lookups.
    TargetToSource,
    /// `indices/source_to_target`: keyed by source node, for efferent lookups.
    SourceToTarget,
}

impl IndexDirection {
    /// The index group's name inside `indices/` (`target_to_source` or `source_to_target`).
    pub fn group_name(self) -> &'static str {
        match self {
            IndexDirection::TargetToSource => schema::TARGET_TO_SOURCE,
            IndexDirection::SourceToTarget => schema::SOURCE_TO_TARGET,
        }
    }

    /// The group's path relative to the population (`indices/target_to_source`, ...).
    pub fn group_path(self) -> String {
        format!("{}/{}", schema::INDICES_GROUP, self.group_name())
    }
}

impl fmt::Display for IndexDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.group_name())
    }
}

/// How the per-node dataset of an index is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexSpelling {
    /// `node_id_to_ranges` (SONATA spec, libsonata, BBP).
    Sonata,
    /// `node_id_to_range` (bmtk / Allen files; libsonata cannot read these).
    Bmtk,
}

impl IndexSpelling {
    /// The per-node dataset's name under this spelling.
    pub fn dataset_name(self) -> &'static str {
        match self {
            IndexSpelling::Sonata => schema::NODE_ID_TO_RANGES,
            IndexSpelling::Bmtk => schema::NODE_ID_TO_RANGE_BMTK,
        }
    }
}

/// One `(k, 2)` integer dataset of an index, left in the file.
#[derive(Debug, Clone)]
struct IndexTable {
    storage: Storage,
    at: Location,
    rows: u64,
    signed: bool,
}

/// Where an index table's rows live.
#[derive(Debug, Clone)]
enum Storage {
    /// The HDF5 dataset (every real index).
    File(Dataset),
    /// Rows held in memory, as the raw 64-bit words of the stored integers (`i64` bit patterns
    /// when the table is signed): the fuzz tests' way to run [`EdgeIndex::resolve`] on thousands
    /// of malformed tables without writing files (see [`EdgeIndex::in_memory`]).
    Memory(Vec<u64>),
}

impl IndexTable {
    /// Opens `group/name` and checks that it is a 2-D `(k, 2)` integer dataset.
    fn open(group: &hdf5::Group, name: &str, at: Location) -> Result<Self> {
        if !group.link_exists(name) {
            return Err(Error::invalid(at, "dataset is missing"));
        }
        let dataset = group
            .dataset(name)
            .map_err(|_| Error::invalid(at.clone(), "is not a dataset"))?;
        let shape = dataset.shape();
        if shape.len() != 2 || shape[1] != 2 {
            return Err(Error::invalid(
                at,
                format!("an index dataset must have shape (n, 2) but has shape {shape:?}"),
            ));
        }
        let descriptor = dataset.dtype().and_then(|t| t.to_descriptor()).at(&at)?;
        let signed = match descriptor {
            TypeDescriptor::Unsigned(_) => false,
            TypeDescriptor::Integer(_) => true,
            other => {
                return Err(Error::invalid(
                    at,
                    format!(
                        "an index dataset must hold integers but holds {}",
                        describe_type(&other)
                    ),
                ));
            }
        };
        Ok(IndexTable {
            rows: shape[0] as u64,
            storage: Storage::File(dataset),
            at,
            signed,
        })
    }

    /// A table of `rows` held in memory (raw 64-bit words, `i64` bit patterns when `signed`).
    fn in_memory(rows: &[[u64; 2]], signed: bool, at: Location) -> Self {
        IndexTable {
            rows: rows.len() as u64,
            storage: Storage::Memory(rows.iter().flatten().copied().collect()),
            at,
            signed,
        }
    }

    /// This table read whole into memory (its rows' raw words, as [`IndexTable::in_memory`]):
    /// checks still happen row by row as [`EdgeIndex::resolve`] reads them.
    fn held_in_memory(&self) -> Result<Self> {
        let Storage::File(_) = &self.storage else {
            return Ok(self.clone());
        };
        let words = usize::try_from(self.rows.saturating_mul(2))
            .map_err(|_| Error::invalid(self.at.clone(), "the table does not fit in memory"))?;
        let mut all = vec![0u64; words];
        self.read_rows_into(0, &mut all)?;
        Ok(IndexTable {
            rows: self.rows,
            storage: Storage::Memory(all),
            at: self.at.clone(),
            signed: self.signed,
        })
    }

    /// Reads rows `start .. start + out.len() / 2` as `u64` pairs, flattened, into `out`.
    ///
    /// Signed datasets are read as `i64` and left as their bit patterns: a block read also covers
    /// rows between the wanted ones, so negative values are rejected per wanted row, by
    /// [`IndexTable::check_negative`], not here.
    fn read_rows_into(&self, start: u64, out: &mut [u64]) -> Result<()> {
        match &self.storage {
            Storage::File(dataset) if self.signed => {
                let signed: &mut [i64] = bytemuck::cast_slice_mut(out);
                read_rows_2d_into(dataset, start, signed).at(&self.at)
            }
            Storage::File(dataset) => read_rows_2d_into(dataset, start, out).at(&self.at),
            Storage::Memory(words) => {
                let first = usize::try_from(start)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(2);
                let rows = first
                    .checked_add(out.len())
                    .and_then(|last| words.get(first..last))
                    .ok_or_else(|| {
                        Error::invalid(
                            self.at.clone(),
                            format!(
                                "rows from {start} are outside the {}",
                                crate::words::plural(self.rows, "row")
                            ),
                        )
                    })?;
                out.copy_from_slice(rows);
                Ok(())
            }
        }
    }

    /// Rejects row `row` = `[lo, hi)` of a signed table when a value is negative.
    fn check_negative(&self, row: u64, lo: u64, hi: u64) -> Result<()> {
        if !self.signed {
            return Ok(());
        }
        match [lo as i64, hi as i64].into_iter().find(|&v| v < 0) {
            Some(v) => Err(Error::invalid(
                self.at.clone(),
                format!("negative value {v} at row {row}"),
            )),
            None => Ok(()),
        }
    }
}

/// One index of an edge population (`indices/target_to_source` or `indices/source_to_target`).
///
/// The datasets stay in the file; [`EdgeIndex::resolve`] reads only the rows it needs.
#[derive(Debug, Clone)]
pub struct EdgeIndex {
    direction: IndexDirection,
    spelling: IndexSpelling,
    nodes: IndexTable,
    ranges: IndexTable,
    edge_count: u64,
    /// [`INDEX_MERGE_GAP_ROWS`] and [`INDEX_MAX_BLOCK_ROWS`], smaller only for fuzzing.
    merge_gap_rows: u64,
    max_block_rows: u64,
}

impl EdgeIndex {
    /// Opens the index of `pop` in `direction`.
    ///
    /// Returns `Ok(None)` when `indices/<direction>` does not exist. Accepts both spellings of
    /// the per-node dataset (`node_id_to_ranges` is preferred when both exist).
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the group or dataset when the index exists but is malformed:
    /// not a group, per-node dataset or `range_to_edge_id` missing, a dataset that is not a 2-D
    /// `(n, 2)` integer dataset.
    pub fn open(pop: &EdgePopulation, direction: IndexDirection) -> Result<Option<EdgeIndex>> {
        let path = direction.group_path();
        let group_at = pop.location().dataset(&path);
        if !pop.group().link_exists(&path) {
            return Ok(None);
        }
        let group = pop
            .group()
            .group(&path)
            .map_err(|_| Error::invalid(group_at.clone(), "is not a group"))?;
        let spelling = if group.link_exists(schema::NODE_ID_TO_RANGES) {
            IndexSpelling::Sonata
        } else if group.link_exists(schema::NODE_ID_TO_RANGE_BMTK) {
            IndexSpelling::Bmtk
        } else {
            return Err(Error::invalid(
                group_at,
                format!(
                    "index has no '{}' (nor bmtk's '{}') dataset",
                    schema::NODE_ID_TO_RANGES,
                    schema::NODE_ID_TO_RANGE_BMTK
                ),
            ));
        };
        let nodes_name = spelling.dataset_name();
        let nodes = IndexTable::open(
            &group,
            nodes_name,
            pop.location().dataset(&format!("{path}/{nodes_name}")),
        )?;
        let ranges = IndexTable::open(
            &group,
            schema::RANGE_TO_EDGE_ID,
            pop.location()
                .dataset(&format!("{path}/{}", schema::RANGE_TO_EDGE_ID)),
        )?;
        Ok(Some(EdgeIndex {
            direction,
            spelling,
            nodes,
            ranges,
            edge_count: pop.size(),
            merge_gap_rows: INDEX_MERGE_GAP_ROWS,
            max_block_rows: INDEX_MAX_BLOCK_ROWS,
        }))
    }

    /// An index whose two tables are held in memory, for property tests and fuzz targets: the
    /// same [`EdgeIndex::resolve`] and [`EdgeIndex::validate`] as on a file, without HDF5.
    ///
    /// Rows are the stored integers' 64-bit words; with `signed` they are read as `i64` (so
    /// values `>= 2^63` are negative and rejected, as in an `int64` dataset). `merge_gap_rows` and
    /// `max_block_rows` replace [`INDEX_MERGE_GAP_ROWS`] and [`INDEX_MAX_BLOCK_ROWS`] so that small
    /// tables exercise the block planning. Errors name the file `<memory>`.
    #[doc(hidden)]
    pub fn in_memory(
        node_id_to_ranges: &[[u64; 2]],
        range_to_edge_id: &[[u64; 2]],
        signed: bool,
        edge_count: u64,
        merge_gap_rows: u64,
        max_block_rows: u64,
    ) -> EdgeIndex {
        let direction = IndexDirection::TargetToSource;
        let at = |name: &str| {
            Location::file("<memory>").dataset(&format!("{}/{name}", direction.group_path()))
        };
        EdgeIndex {
            direction,
            spelling: IndexSpelling::Sonata,
            nodes: IndexTable::in_memory(node_id_to_ranges, signed, at(schema::NODE_ID_TO_RANGES)),
            ranges: IndexTable::in_memory(range_to_edge_id, signed, at(schema::RANGE_TO_EDGE_ID)),
            edge_count,
            merge_gap_rows,
            max_block_rows,
        }
    }

    /// This index with both tables read into memory when together they take at most
    /// `max_bytes` (16 B per row), unchanged otherwise: for a reader answering many small
    /// lookups (neurodamus's dry run calls `get_conn_counts` thousands of times), which then
    /// reads no index row from the file again. Resolves give the same selections and the same
    /// errors (rows are still checked as they are used).
    ///
    /// # Errors
    /// [`Error::Hdf5`] when a table cannot be read.
    pub fn held_in_memory(&self, max_bytes: u64) -> Result<EdgeIndex> {
        let bytes = (self.nodes.rows)
            .saturating_add(self.ranges.rows)
            .saturating_mul(16);
        if bytes > max_bytes {
            return Ok(self.clone());
        }
        Ok(EdgeIndex {
            nodes: self.nodes.held_in_memory()?,
            ranges: self.ranges.held_in_memory()?,
            // Rows in memory cost nothing to reach: copy only the wanted ones (a block merged
            // over a file-sized gap copied whole tables per lookup).
            merge_gap_rows: HELD_MERGE_GAP_ROWS,
            ..self.clone()
        })
    }

    /// Which index this is.
    pub fn direction(&self) -> IndexDirection {
        self.direction
    }

    /// How its per-node dataset is spelled.
    pub fn spelling(&self) -> IndexSpelling {
        self.spelling
    }

    /// Rows of the per-node dataset: node ids `0..node_count()` can be looked up.
    pub fn node_count(&self) -> u64 {
        self.nodes.rows
    }

    /// Rows of `range_to_edge_id`.
    pub fn range_count(&self) -> u64 {
        self.ranges.rows
    }

    /// The edge ids of `node_ids`, as libsonata's `edge_index::resolve` computes them.
    ///
    /// `node_ids` may be in any order and contain duplicates; ids `>= node_count()` are dropped
    /// silently (libsonata, after SYN2). The result is canonical: sorted, merged ranges.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the per-node dataset and the node id when a node's row is
    /// inverted (`a > b`), points past `range_to_edge_id` or is negative; naming
    /// `range_to_edge_id` and the row when an edge range is inverted or reaches past the
    /// population's edges. [`Error::Hdf5`] when a read fails.
    pub fn resolve(&self, node_ids: &[u64]) -> Result<Selection> {
        let mut ids: Vec<u64> = node_ids
            .iter()
            .copied()
            .filter(|&id| id < self.nodes.rows)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let node_ranges = Selection::from_values(&ids);
        drop(ids);

        let mut buffer: Vec<u64> = Vec::new();
        let mut row_ranges: Vec<(u64, u64)> = Vec::new();
        for block in plan_blocks(
            node_ranges.ranges(),
            self.merge_gap_rows,
            self.max_block_rows,
        ) {
            buffer.resize(2 * (block.end - block.start) as usize, 0);
            self.nodes.read_rows_into(block.start, &mut buffer)?;
            for &(a, b) in &block.parts {
                for node in a..b {
                    let k = 2 * (node - block.start) as usize;
                    let (lo, hi) = (buffer[k], buffer[k + 1]);
                    self.check_node_row(node, lo, hi)?;
                    push_coalescing(&mut row_ranges, lo, hi);
                }
            }
        }
        sort_and_merge(&mut row_ranges);

        let mut edge_ranges: Vec<(u64, u64)> = Vec::new();
        for block in plan_blocks(&row_ranges, self.merge_gap_rows, self.max_block_rows) {
            buffer.resize(2 * (block.end - block.start) as usize, 0);
            self.ranges.read_rows_into(block.start, &mut buffer)?;
            for &(a, b) in &block.parts {
                for row in a..b {
                    let k = 2 * (row - block.start) as usize;
                    let (lo, hi) = (buffer[k], buffer[k + 1]);
                    self.check_edge_row(row, lo, hi)?;
                    push_coalescing(&mut edge_ranges, lo, hi);
                }
            }
        }
        Ok(Selection::from_ranges(edge_ranges))
    }

    /// Checks every row of both datasets, streaming them in bounded blocks.
    ///
    /// Checks: no negative values; per-node rows `[a, b)` with `a <= b <= range_count()`;
    /// edge ranges `[e0, e1)` with `e0 <= e1 <= ` the population's edge count. It does not check
    /// that the ranges cover every edge exactly once (that needs memory proportional to the edge
    /// count) nor that the index agrees with the id columns. Neither is needed for correct
    /// answers: the census counts from the id columns alone, and lookups sort and merge the
    /// ranges they read (an edge listed twice is counted once) and count by the edges' own ids,
    /// as libsonata and neurodamus do.
    ///
    /// # Errors
    /// The first violation, as [`EdgeIndex::resolve`] reports it.
    pub fn validate(&self) -> Result<()> {
        self.validate_nodes()?;
        let mut buffer: Vec<u64> = Vec::new();
        let mut start = 0;
        while start < self.ranges.rows {
            let n = (self.ranges.rows - start).min(VALIDATE_BLOCK_ROWS);
            buffer.resize(2 * n as usize, 0);
            self.ranges.read_rows_into(start, &mut buffer)?;
            for (k, pair) in buffer.chunks_exact(2).enumerate() {
                self.check_edge_row(start + k as u64, pair[0], pair[1])?;
            }
            start += n;
        }
        Ok(())
    }

    /// Checks every row of the per-node dataset only (`node_id_to_ranges`): no negative values,
    /// rows `[a, b)` with `a <= b <= range_count()`. Reads `node_count()` rows, not the
    /// (possibly edge-sized) `range_to_edge_id`: this is what the census checks, since it takes
    /// the node count from this dataset and never reads the edge ranges.
    ///
    /// # Errors
    /// The first violation, naming the dataset and the node.
    pub fn validate_nodes(&self) -> Result<()> {
        let mut buffer: Vec<u64> = Vec::new();
        let mut start = 0;
        while start < self.nodes.rows {
            let n = (self.nodes.rows - start).min(VALIDATE_BLOCK_ROWS);
            buffer.resize(2 * n as usize, 0);
            self.nodes.read_rows_into(start, &mut buffer)?;
            for (k, pair) in buffer.chunks_exact(2).enumerate() {
                self.check_node_row(start + k as u64, pair[0], pair[1])?;
            }
            start += n;
        }
        Ok(())
    }

    fn check_node_row(&self, node: u64, lo: u64, hi: u64) -> Result<()> {
        self.nodes.check_negative(node, lo, hi)?;
        if lo > hi {
            return Err(Error::invalid(
                self.nodes.at.clone(),
                format!("node {node} has an inverted range [{lo}, {hi})"),
            ));
        }
        if hi > self.ranges.rows {
            return Err(Error::invalid(
                self.nodes.at.clone(),
                format!(
                    "node {node} has range [{lo}, {hi}) but '{}' has {}",
                    schema::RANGE_TO_EDGE_ID,
                    crate::words::plural(self.ranges.rows, "row")
                ),
            ));
        }
        Ok(())
    }

    fn check_edge_row(&self, row: u64, lo: u64, hi: u64) -> Result<()> {
        self.ranges.check_negative(row, lo, hi)?;
        if lo > hi {
            return Err(Error::invalid(
                self.ranges.at.clone(),
                format!("row {row} is an inverted edge range [{lo}, {hi})"),
            ));
        }
        if hi > self.edge_count {
            return Err(Error::invalid(
                self.ranges.at.clone(),
                format!(
                    "row {row} is the edge range [{lo}, {hi}) but the population has {}",
                    crate::words::plural(self.edge_count, "edge")
                ),
            ));
        }
        Ok(())
    }
}

/// Appends `[lo, hi)` to `ranges`, dropping it when empty and merging it into the last range when
/// it starts inside or right at its end (keeps target-sorted results small while reading).
fn push_coalescing(ranges: &mut Vec<(u64, u64)>, lo: u64, hi: u64) {
    if lo >= hi {
        return;
    }
    match ranges.last_mut() {
        Some(last) if lo >= last.0 && lo <= last.1 => last.1 = last.1.max(hi),
        _ => ranges.push((lo, hi)),
    }
}

impl EdgePopulation {
    /// The `indices/target_to_source` index, or `None` when the file has none.
    ///
    /// # Errors
    /// See [`EdgeIndex::open`].
    pub fn target_index(&self) -> Result<Option<EdgeIndex>> {
        EdgeIndex::open(self, IndexDirection::TargetToSource)
    }

    /// The `indices/source_to_target` index, or `None` when the file has none.
    ///
    /// # Errors
    /// See [`EdgeIndex::open`].
    pub fn source_index(&self) -> Result<Option<EdgeIndex>> {
        EdgeIndex::open(self, IndexDirection::SourceToTarget)
    }

    /// Edges whose target is one of `node_ids` (libsonata `afferent_edges`).
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the file and population when there is no
    /// `indices/target_to_source`; otherwise as [`EdgeIndex::resolve`].
    pub fn afferent_edges(&self, node_ids: &[u64]) -> Result<Selection> {
        self.require_index(IndexDirection::TargetToSource, "afferent")?
            .resolve(node_ids)
    }

    /// Edges whose source is one of `node_ids` (libsonata `efferent_edges`).
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the file and population when there is no
    /// `indices/source_to_target`; otherwise as [`EdgeIndex::resolve`].
    pub fn efferent_edges(&self, node_ids: &[u64]) -> Result<Selection> {
        self.require_index(IndexDirection::SourceToTarget, "efferent")?
            .resolve(node_ids)
    }

    /// Edges from one of `sources` to one of `targets`: the intersection of
    /// [`EdgePopulation::efferent_edges`] and [`EdgePopulation::afferent_edges`], as libsonata's
    /// `connecting_edges` (computed on ranges, without flattening).
    ///
    /// # Errors
    /// As [`EdgePopulation::efferent_edges`] and [`EdgePopulation::afferent_edges`].
    pub fn connecting_edges(&self, sources: &[u64], targets: &[u64]) -> Result<Selection> {
        let efferent = self.efferent_edges(sources)?;
        let afferent = self.afferent_edges(targets)?;
        Ok(intersect(&efferent, &afferent))
    }

    fn require_index(&self, direction: IndexDirection, what: &str) -> Result<EdgeIndex> {
        EdgeIndex::open(self, direction)?.ok_or_else(|| {
            Error::invalid(
                self.location().clone(),
                format!(
                    "has no {}: cannot look up {what} edges",
                    direction.group_path()
                ),
            )
        })
    }
}

/// Intersection of two selections, range by range.
#[doc(hidden)]
pub fn intersect(a: &Selection, b: &Selection) -> Selection {
    let (a, b) = (a.ranges(), b.ranges());
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo < hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    Selection::from_ranges(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_coalescing_merges_touching_and_drops_empty() {
        let mut v = Vec::new();
        push_coalescing(&mut v, 0, 2);
        push_coalescing(&mut v, 2, 4);
        push_coalescing(&mut v, 3, 3);
        push_coalescing(&mut v, 1, 3);
        push_coalescing(&mut v, 6, 7);
        push_coalescing(&mut v, 0, 1);
        assert_eq!(v, vec![(0, 4), (6, 7), (0, 1)]);
        sort_and_merge(&mut v);
        assert_eq!(v, vec![(0, 4), (6, 7)]);
    }

    #[test]
    fn intersect_ranges() {
        let a = Selection::from_ranges(vec![(0, 5), (8, 12), (20, 30)]);
        let b = Selection::from_ranges(vec![(3, 9), (11, 21), (29, 40)]);
        let c = intersect(&a, &b);
        assert_eq!(c.ranges(), &[(3, 5), (8, 9), (11, 12), (20, 21), (29, 30)]);
        // Same as the flattened set intersection (libsonata's definition).
        let fa = a.flatten();
        let fb = b.flatten();
        let naive: Vec<u64> = fa.iter().copied().filter(|x| fb.contains(x)).collect();
        assert_eq!(c, Selection::from_values(&naive));
        assert!(intersect(&a, &Selection::empty()).is_empty());
    }
}
