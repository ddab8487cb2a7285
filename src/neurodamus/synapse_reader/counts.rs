//! The counting calls of [`SonataReader`] (neurodamus's dry run): `get_counts`,
//! `get_conn_counts` and their array form, answered through the index, from a census counted
//! once ([`SonataReader::count_with_census`], or automatically for a batch covering half of a
//! large population), or from a census table file ([`SonataReader::use_census_tables`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::AUTO_CENSUS_MIN_EDGES;
use super::SonataReader;
use crate::census::lookup::{ConnectionRows, TableLookup};
use crate::census::{Census, CensusOptions, census_population};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::selection::Selection;
use crate::sonata::index::IndexDirection;

impl SonataReader {
    /// Counts the whole population once with the census engine (`options.backend`: the GPU
    /// engine when `auto` finds one, else the CPU engine; one streamed pass, sorted or not) and
    /// answers every later [`SonataReader::get_counts`] and [`SonataReader::get_conn_counts`]
    /// from it, without reading the file again. Worth it when the batches together cover much of
    /// the population; for a few hundred targets the index lookup reads far less. The answers
    /// are the same as through the index, except for a file whose index disagrees with its
    /// target ids (the census then fails, naming the id beyond the index, or follows the data).
    ///
    /// # Errors
    /// As [`census_population`].
    pub fn count_with_census(
        &mut self,
        options: &CensusOptions,
        progress: &Progress,
    ) -> Result<()> {
        let census = census_population(&self.pop, options, progress)?;
        self.census = Some(census);
        Ok(())
    }

    /// Runs the census engine once (GPU when `auto` finds one) when a batch's edges cover at
    /// least half of a population of [`AUTO_CENSUS_MIN_EDGES`] edges or more: one streamed pass
    /// over the id columns then answers this and every later batch, instead of sorting the
    /// batch's (target, source) pairs. A census refused by the data (an index that disagrees with
    /// the target ids) keeps the index path, whose answers are neurodamus's for such files.
    fn census_for_large_batch(&mut self, selection: &Selection) -> Result<()> {
        let size = self.pop.size();
        if self.census.is_some()
            || self.census_refused
            || size < AUTO_CENSUS_MIN_EDGES
            || selection.flat_size().saturating_mul(2) < size
        {
            return Ok(());
        }
        match census_population(&self.pop, &CensusOptions::default(), &Progress::hidden()) {
            Ok(census) => self.census = Some(census),
            Err(e) if matches!(e.innermost(), Error::InvalidData { .. }) => {
                self.census_refused = true
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Answers every later [`SonataReader::get_counts`] and [`SonataReader::get_conn_counts`]
    /// from the census table file `path` (written by `count` from this population), reading only
    /// the rows of the targets asked about and never the edge file's id columns. The answers are
    /// those of the edge file.
    ///
    /// # Errors
    /// As [`TableLookup::open`] (not a census table file, no such population, not a full census,
    /// no record of its input) and [`TableLookup::check_input`] (tables of another input).
    pub fn use_census_tables(&mut self, path: &Path) -> Result<()> {
        let tables = TableLookup::open(path, self.pop.name())?;
        tables.check_input(&self.pop)?;
        self.tables = Some(tables);
        Ok(())
    }

    /// The census table file answering the counts, if any.
    pub fn census_tables(&self) -> Option<&TableLookup> {
        self.tables.as_ref()
    }

    /// Whether counts are answered from a census (after [`SonataReader::count_with_census`], or
    /// automatically after a batch covering half of a large population).
    pub fn uses_census(&self) -> bool {
        self.census.is_some()
    }

    /// `get_counts(tgids)`: synapses per target, keyed by the edges' `target_node_id` values
    /// (ascending), then every requested id without edges with 0 in request order. Duplicates
    /// collapse; ids beyond the target index have no edges.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the population has no `indices/target_to_source` or the index
    /// is malformed (not after [`SonataReader::count_with_census`], which needs no index); read
    /// errors.
    pub fn get_counts(&mut self, tgids: &[u64]) -> Result<Vec<(u64, u64)>> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        if let Some(tables) = &self.tables {
            let mut found: Vec<u64> = tgids
                .iter()
                .copied()
                .filter(|&t| tables.synapses(t) > 0)
                .collect();
            found.sort_unstable();
            found.dedup();
            out.extend(found.into_iter().map(|t| (t, tables.synapses(t))));
            append_absent(&mut out, tgids);
            return Ok(out);
        }
        // A census answers without the index: a file without one is counted after
        // `count_with_census` (only the lookup path needs `indices/target_to_source`).
        let selection = if self.census.is_none() {
            let selection = self.lookup(IndexDirection::TargetToSource, tgids)?;
            self.census_for_large_batch(&selection)?;
            Some(selection)
        } else {
            None
        };
        if let Some(census) = &self.census {
            let mut found: Vec<u64> = tgids
                .iter()
                .copied()
                .filter(|&t| census_synapses(census, t) > 0)
                .collect();
            found.sort_unstable();
            found.dedup();
            out.extend(found.into_iter().map(|t| (t, census_synapses(census, t))));
        } else if let Some(selection) = &selection {
            let mut targets = self.pop.target_ids().read_selection(selection)?;
            targets.sort_unstable();
            for t in targets {
                match out.last_mut() {
                    Some((last, n)) if *last == t => *n += 1,
                    _ => out.push((t, 1)),
                }
            }
        }
        append_absent(&mut out, tgids);
        Ok(out)
    }

    /// `get_conn_counts(tgids)`: for each requested target (request order, duplicates collapsed)
    /// the synapses of each source (ascending), empty for targets without edges. Results are
    /// cached per target value; ids without edges are looked up again each time, as in
    /// neurodamus.
    ///
    /// # Errors
    /// As [`SonataReader::get_counts`].
    pub fn get_conn_counts(&mut self, tgids: &[u64]) -> Result<Vec<(u64, BTreeMap<u64, u64>)>> {
        if let Some(tables) = &self.tables {
            let mut seen = HashSet::new();
            let unique: Vec<u64> = tgids.iter().copied().filter(|t| seen.insert(*t)).collect();
            let rows = tables.connections(&unique)?;
            return Ok(unique
                .iter()
                .enumerate()
                .map(|(i, &t)| (t, rows.of(i).collect()))
                .collect());
        }
        if self.census.is_none() && !self.census_refused {
            let selection = self.lookup(IndexDirection::TargetToSource, tgids)?;
            self.census_for_large_batch(&selection)?;
        }
        if let Some(census) = &self.census {
            let mut seen = HashSet::new();
            return Ok(tgids
                .iter()
                .filter(|t| seen.insert(**t))
                .map(|&t| {
                    // Targets beyond the census have no edges (as beyond the index).
                    let per_source = if t < census.n_targets {
                        census
                            .connections_of(t)
                            .map(|(s, n)| (s, u64::from(n)))
                            .collect()
                    } else {
                        BTreeMap::new()
                    };
                    (t, per_source)
                })
                .collect());
        }
        let mut missing: Vec<u64> = tgids
            .iter()
            .copied()
            .filter(|t| !self.counts.contains_key(t))
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            let selection = self.lookup(IndexDirection::TargetToSource, &missing)?;
            let targets = self.pop.target_ids().read_selection(&selection)?;
            let sources = self.pop.source_ids().read_selection(&selection)?;
            let mut pairs: Vec<(u64, u64)> = targets.into_iter().zip(sources).collect();
            pairs.sort_unstable();
            let mut i = 0;
            while i < pairs.len() {
                let t = pairs[i].0;
                let mut per_source = BTreeMap::new();
                while i < pairs.len() && pairs[i].0 == t {
                    *per_source.entry(pairs[i].1).or_insert(0) += 1;
                    i += 1;
                }
                self.counts.insert(t, per_source);
            }
        }
        let mut seen = HashSet::new();
        Ok(tgids
            .iter()
            .filter(|t| seen.insert(**t))
            .map(|t| (*t, self.counts.get(t).cloned().unwrap_or_default()))
            .collect())
    }

    /// `get_conn_counts(tgids)` as arrays, for bulk use: the connections of each of `tgids` in
    /// order (duplicates kept; ids without edges have none), without building maps. Answered
    /// from the census table file or the census when there is one, else through the index.
    ///
    /// # Errors
    /// As [`SonataReader::get_conn_counts`].
    pub fn get_conn_counts_arrays(&mut self, tgids: &[u64]) -> Result<ConnectionRows> {
        if let Some(tables) = &self.tables {
            return tables.connections(tgids);
        }
        let mut unique = tgids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if self.census.is_none() && !self.census_refused {
            let selection = self.lookup(IndexDirection::TargetToSource, &unique)?;
            self.census_for_large_batch(&selection)?;
            if self.census.is_none() {
                return self.conn_rows_through_index(&selection, tgids);
            }
        }
        if let Some(census) = &self.census {
            // Straight from the census's connection table (no maps: an all-gids batch has
            // millions of connections).
            let mut rows = ConnectionRows::default();
            rows.offsets.push(0);
            for &t in tgids {
                for (s, n) in census.connections_of(t) {
                    rows.sources.push(s);
                    rows.synapses.push(u64::from(n));
                }
                rows.offsets.push(rows.sources.len() as u64);
            }
            return Ok(rows);
        }
        // The data refused a census: the cached maps.
        let answers: Vec<(u64, BTreeMap<u64, u64>)> = self.get_conn_counts(&unique)?;
        let mut rows = ConnectionRows::default();
        rows.offsets.push(0);
        for t in tgids {
            if let Ok(i) = unique.binary_search(t) {
                for (&s, &n) in &answers[i].1 {
                    rows.sources.push(s);
                    rows.synapses.push(n);
                }
            }
            rows.offsets.push(rows.sources.len() as u64);
        }
        Ok(rows)
    }

    /// The connections of the edges of `selection` (those of the distinct `tgids`), aligned
    /// with `tgids`: (target, source) pairs sorted and run-length encoded,
    /// without the maps of [`SonataReader::get_conn_counts`].
    fn conn_rows_through_index(
        &self,
        selection: &Selection,
        tgids: &[u64],
    ) -> Result<ConnectionRows> {
        let targets = self.pop.target_ids().read_selection(selection)?;
        let sources = self.pop.source_ids().read_selection(selection)?;
        let mut pairs: Vec<(u64, u64)> = targets.into_iter().zip(sources).collect();
        pairs.sort_unstable();
        // Per distinct target: its rows in `runs` (source, synapses).
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut spans: Vec<(u64, usize, usize)> = Vec::new();
        for &(t, s) in &pairs {
            match (spans.last_mut(), runs.last_mut()) {
                (Some(span), Some(run)) if span.0 == t && run.0 == s => run.1 += 1,
                (Some(span), _) if span.0 == t => {
                    runs.push((s, 1));
                    span.2 = runs.len();
                }
                _ => {
                    runs.push((s, 1));
                    spans.push((t, runs.len() - 1, runs.len()));
                }
            }
        }
        let mut rows = ConnectionRows::default();
        rows.offsets.push(0);
        for t in tgids {
            if let Ok(i) = spans.binary_search_by_key(t, |sp| sp.0) {
                let (_, a, b) = spans[i];
                for &(s, n) in &runs[a..b] {
                    rows.sources.push(s);
                    rows.synapses.push(n);
                }
            }
            rows.offsets.push(rows.sources.len() as u64);
        }
        Ok(rows)
    }
}

/// Synapses of target `t` in `census` (0 beyond its targets).
fn census_synapses(census: &Census, t: u64) -> u64 {
    usize::try_from(t)
        .ok()
        .and_then(|i| census.target_synapse_count.get(i))
        .copied()
        .unwrap_or(0)
}

/// Appends `(gid, 0)` for every id of `tgids` not in `out` yet, in request order (neurodamus's
/// `get_counts` lists the ids without edges after those found).
fn append_absent(out: &mut Vec<(u64, u64)>, tgids: &[u64]) {
    let mut present: HashSet<u64> = out.iter().map(|&(t, _)| t).collect();
    for &gid in tgids {
        if present.insert(gid) {
            out.push((gid, 0));
        }
    }
}
