//! `indices/` of a written population, as libsonata's `write_indices` writes them: the
//! per-node ranges of the source and target indices, built from the id columns in bounded
//! memory.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Rows read per step while indexing.
pub(super) const INDEX_READ_ROWS: usize = 1 << 20;
/// Rows of `node_id_to_ranges` written per step.
pub(super) const INDEX_WRITE_ROWS: usize = 1 << 19;

/// Writes `indices/source_to_target` and `indices/target_to_source` of `/edges/<population>`,
/// as libsonata's `write_indices(path, population, source_node_count, target_node_count)` does.
///
/// For each id column, maximal runs of consecutive equal node ids (in edge order) become edge
/// ranges `[first, end)` in `range_to_edge_id`, ordered by node id and, within a node, by edge
/// order; row `n` of `node_id_to_ranges` (`node_id_to_range` with [`IndexSpelling::Bmtk`]) is
/// `[a, b)`, the rows of `range_to_edge_id` for node `n`, for every `n` in `0..count` (`[x, x]`
/// for a node without edges). All datasets are uint64 of shape `(rows, 2)`, contiguous.
///
/// The id columns are read from `file` (any integer type, so files written elsewhere can be
/// indexed) twice: once to count the runs of each node, once to place them. Memory: 8 bytes per
/// node and 16 bytes per range; time: linear in edges plus nodes.
///
/// Unlike libsonata, which silently leaves edges with a node id `>= count` out of the index,
/// such ids are an error here, as are negative ids.
///
/// # Errors
/// [`Error::PopulationNotFound`] when `/edges/<population>` does not exist;
/// [`Error::InvalidData`] when an `indices` group already exists, an id column is missing or not
/// an integer column, the columns differ in length, or an id is negative or not below its node
/// count (nothing is written then); [`Error::InvalidArgument`] when the counts cannot be held in
/// memory; [`Error::Hdf5`] when HDF5 fails.
pub fn write_indices(
    file: &hdf5::File,
    population: &str,
    source_node_count: u64,
    target_node_count: u64,
    spelling: IndexSpelling,
) -> Result<()> {
    let file_at = Location::file(file.filename());
    let group_path = format!("{}/{population}", schema::EDGES_GROUP);
    if !file.link_exists(schema::EDGES_GROUP) || !file.link_exists(&group_path) {
        let available = file
            .group(schema::EDGES_GROUP)
            .and_then(|g| crate::sonata::column::ordered_member_names(&g))
            .unwrap_or_default();
        return Err(Error::PopulationNotFound {
            at: file_at,
            name: population.to_string(),
            available,
        });
    }
    let at = file_at.population(population);
    let group = file.group(&group_path).at(&at)?;
    if group.link_exists(schema::INDICES_GROUP) {
        return Err(Error::invalid(
            at.dataset(schema::INDICES_GROUP),
            "an index group already exists; refusing to overwrite it",
        ));
    }
    let sources = IndexColumn::open(&group, schema::SOURCE_NODE_ID, source_node_count, &at)?;
    let targets = IndexColumn::open(&group, schema::TARGET_NODE_ID, target_node_count, &at)?;
    if sources.len != targets.len {
        return Err(Error::invalid(
            at,
            format!(
                "'{}' has {} rows but '{}' has {}",
                schema::SOURCE_NODE_ID,
                sources.len,
                schema::TARGET_NODE_ID,
                targets.len
            ),
        ));
    }
    // Count (and validate) both columns before anything is written.
    let source_counts = sources.count_runs()?;
    let target_counts = targets.count_runs()?;
    let index_at = |dir: &str| at.dataset(&format!("{}/{dir}", schema::INDICES_GROUP));
    let node_ds = spelling.dataset_name();
    for (column, counts, dir) in [
        (&sources, source_counts, schema::SOURCE_TO_TARGET),
        (&targets, target_counts, schema::TARGET_TO_SOURCE),
    ] {
        let dir_at = index_at(dir);
        let g = create_untimed_group(&group, &format!("{}/{dir}", schema::INDICES_GROUP))
            .at(&dir_at)?;
        column.write_index(&g, counts, node_ds, &dir_at)?;
    }
    Ok(())
}

/// An id column being indexed: the checked reader of `sonata::IdColumn` plus the node count ids
/// must stay below.
pub(super) struct IndexColumn {
    pub(super) ids: IdColumn,
    pub(super) len: u64,
    pub(super) node_count: u64,
}

impl IndexColumn {
    pub(super) fn open(
        group: &hdf5::Group,
        name: &str,
        node_count: u64,
        pop_at: &Location,
    ) -> Result<Self> {
        let ids = IdColumn::open(group, name, pop_at)?;
        Ok(IndexColumn {
            len: ids.len(),
            ids,
            node_count,
        })
    }

    /// Calls `f(node, first_edge, end_edge)` for every maximal run of equal ids, in edge order.
    pub(super) fn for_each_run(&self, mut f: impl FnMut(u64, u64, u64)) -> Result<()> {
        let mut buf = vec![0u64; INDEX_READ_ROWS.min(self.len as usize)];
        let mut run: Option<(u64, u64)> = None; // (node, first edge)
        let mut pos = 0u64;
        while pos < self.len {
            let n = ((self.len - pos) as usize).min(buf.len());
            let chunk = &mut buf[..n];
            self.ids.read_range_into(pos, chunk)?;
            for (i, &id) in chunk.iter().enumerate() {
                let row = pos + i as u64;
                match run {
                    Some((node, _)) if node == id => {}
                    _ => {
                        if id >= self.node_count {
                            return Err(Error::invalid(
                                self.ids.location().clone(),
                                format!(
                                    "node id {id} at row {row} is not below the node count {}",
                                    self.node_count
                                ),
                            ));
                        }
                        if let Some((node, first)) = run {
                            f(node, first, row);
                        }
                        run = Some((id, row));
                    }
                }
            }
            pos += n as u64;
        }
        if let Some((node, first)) = run {
            f(node, first, self.len);
        }
        Ok(())
    }

    /// Pass 1: the number of runs of every node id.
    pub(super) fn count_runs(&self) -> Result<Vec<u64>> {
        let nodes = usize::try_from(self.node_count).ok();
        let mut counts = Vec::new();
        if nodes.is_none_or(|n| counts.try_reserve_exact(n).is_err()) {
            return Err(Error::InvalidArgument(format!(
                "cannot hold run counts for {} nodes in memory",
                self.node_count
            )));
        }
        counts.resize(self.node_count as usize, 0u64);
        self.for_each_run(|node, _, _| counts[node as usize] += 1)?;
        Ok(counts)
    }

    /// Writes `node_id_to_ranges` from the counts, then (pass 2) `range_to_edge_id`.
    pub(super) fn write_index(
        &self,
        group: &hdf5::Group,
        mut counts: Vec<u64>,
        node_ds_name: &str,
        at: &Location,
    ) -> Result<()> {
        // Counts become each node's first row in range_to_edge_id.
        let mut total = 0u64;
        for c in counts.iter_mut() {
            let n = *c;
            *c = total;
            total += n;
        }
        let ranges_total = total;

        let node_at = at.dataset(node_ds_name);
        let node_ds = create_2d(group, node_ds_name, counts.len()).at(&node_at)?;
        let mut rows: Vec<u64> = Vec::with_capacity(2 * INDEX_WRITE_ROWS.min(counts.len()));
        let mut start = 0usize;
        while start < counts.len() {
            let end = (start + INDEX_WRITE_ROWS).min(counts.len());
            rows.clear();
            for n in start..end {
                let next = counts.get(n + 1).copied().unwrap_or(ranges_total);
                rows.push(counts[n]);
                rows.push(next);
            }
            write_2d(&node_ds, start, &rows).at(&node_at)?;
            start = end;
        }

        let range_at = at.dataset(schema::RANGE_TO_EDGE_ID);
        let mut ranges: Vec<u64> = Vec::new();
        let slots = usize::try_from(ranges_total)
            .ok()
            .and_then(|r| r.checked_mul(2));
        if slots.is_none_or(|s| ranges.try_reserve_exact(s).is_err()) {
            return Err(Error::InvalidArgument(format!(
                "cannot hold {ranges_total} index ranges in memory"
            )));
        }
        ranges.resize(2 * ranges_total as usize, 0);
        // `counts` now serves as the next free row of each node.
        self.for_each_run(|node, first, end| {
            let slot = &mut counts[node as usize];
            let r = *slot as usize;
            ranges[2 * r] = first;
            ranges[2 * r + 1] = end;
            *slot += 1;
        })?;
        let range_ds =
            create_2d(group, schema::RANGE_TO_EDGE_ID, ranges_total as usize).at(&range_at)?;
        write_2d(&range_ds, 0, &ranges).at(&range_at)
    }
}

/// Creates a contiguous uint64 dataset of shape `(rows, 2)`.
pub(super) fn create_2d(
    group: &hdf5::Group,
    name: &str,
    rows: usize,
) -> hdf5::Result<hdf5::Dataset> {
    group
        .new_dataset::<u64>()
        .no_chunk()
        .shape((rows, 2))
        .create(name)
}

/// Writes `flat` (pairs, row-major) into rows `start ..` of a `(rows, 2)` dataset.
pub(super) fn write_2d(ds: &hdf5::Dataset, start: usize, flat: &[u64]) -> hdf5::Result<()> {
    if flat.is_empty() {
        return Ok(());
    }
    let rows = flat.len() / 2;
    let view = ArrayView2::from_shape((rows, 2), flat)
        .map_err(|e| hdf5::Error::from(format!("index buffer shape: {e}")))?;
    ds.as_writer()
        .write_slice(view, s![start..start + rows, ..])
}
