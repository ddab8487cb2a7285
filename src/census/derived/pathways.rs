//! Pathway matrices: connections grouped by a node attribute of their source and target.
//!
//! This file owns the per-node values of an attribute ([`NodeValues`]: a code per node into the
//! attribute's values) and the matrices ([`compute`], [`compute_many`]), computed in one pass
//! over a census's connection table (in memory or spilled, [`super::ConnectionRows`]).
//!
//! For source value `i` and target value `j` (`S` source values, `T` target values, row-major):
//! - `synapses[i][j]`: the synapses, i.e. edge rows, from source nodes of value `i` to target
//!   nodes of value `j` (the sum of the connections' synapse counts; bmtk's `nsyns`
//!   multiplicity is not included);
//! - `connections[i][j]`: the connections (distinct (source, target) pairs) among them;
//! - `pair_count[i][j] = n_i * n_j - d_ij`: the possible connections, where `n_i` counts the
//!   source nodes of value `i`, `n_j` the target nodes of value `j` (of the node sets, when the
//!   census is restricted), and `d_ij`, only when the edge population connects a node
//!   population to itself, the nodes counted on both sides with source value `i` and target
//!   value `j` (a node does not connect to itself);
//! - the connection probability is `connections[i][j] / pair_count[i][j]`.
//!
//! Values keep the attribute's order: an `@library` attribute's enumeration order, else
//! ascending (strings by bytes, integers as `i64`); only values some counted node has are kept.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{ConnectionRows, PathwayMatrix, PathwayValues};
use crate::error::{Error, Result};
use crate::sonata::attributes::AttributeValues;
use crate::sonata::nodes::NodePopulation;

/// The code of a node outside the selection: it is not counted.
pub const NOT_COUNTED: u32 = u32::MAX;

/// Node ids read per block of attribute values: bounds the memory of the read (values as
/// strings or `i64`) whatever the population's size.
const NODE_BLOCK: usize = 1 << 20;

/// Matrices up to this many cells (all attributes together) are accumulated in parallel, one
/// copy per worker; larger ones (integer attributes of many values) sequentially, one copy.
const PARALLEL_CELLS: usize = 1 << 16;

/// Rows per parallel work item.
const PARALLEL_ROWS: usize = 1 << 15;

/// The values of a node attribute over one node population: `codes[node]` indexes `values`
/// ([`NOT_COUNTED`] for nodes outside the selection), `node_count[v]` counts the nodes counted
/// with value `v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeValues {
    /// The values some counted node has, in the attribute's order.
    pub values: PathwayValues,
    /// Per node id: its value's index, or [`NOT_COUNTED`].
    pub codes: Vec<u32>,
    /// Per value: the nodes counted with it.
    pub node_count: Vec<u64>,
}

/// Interning of values while reading: a code per distinct value, in first-seen order.
struct Interner<K> {
    index: HashMap<K, u32>,
    values: Vec<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Interner<K> {
    fn new() -> Self {
        Interner {
            index: HashMap::new(),
            values: Vec::new(),
        }
    }

    fn code(&mut self, value: &K) -> u32 {
        if let Some(&c) = self.index.get(value) {
            return c;
        }
        let c = self.values.len() as u32;
        self.index.insert(value.clone(), c);
        self.values.push(value.clone());
        c
    }
}

impl NodeValues {
    /// Reads attribute `attribute` of `pop` for the nodes `selected` (sorted node ids of a node
    /// set; `None`: every node), in blocks of ids. String and `@library` attributes give
    /// [`PathwayValues::Strings`], integer attributes [`PathwayValues::Integers`].
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the population and attribute when the attribute is
    /// missing, holds floating-point values, or an unsigned value above `i64::MAX`;
    /// [`Error::InvalidArgument`] for a selected id beyond the population; read errors.
    pub fn read(
        pop: &NodePopulation,
        attribute: &str,
        selected: Option<&[u64]>,
    ) -> Result<NodeValues> {
        let size = pop.size();
        let unsupported = |what: &str| {
            Error::invalid(
                pop.location().clone(),
                format!(
                    "attribute '{attribute}' {what}: pathways group nodes by string, @library or integer attributes"
                ),
            )
        };
        // The kind of the column, from an empty read (also: a missing attribute's error).
        let kind = pop.attribute(attribute, &[])?;
        // 4 B per node: a corrupt size is an error, not an allocation abort.
        if size > crate::census::limits::max_targets() {
            return Err(Error::invalid(
                pop.location().clone(),
                format!(
                    "{size} nodes do not fit in this machine's memory (RAM + swap: {})",
                    crate::memory::memory_text()
                ),
            ));
        }
        let mut codes = vec![NOT_COUNTED; usize::try_from(size).unwrap_or(usize::MAX)];
        let values = match kind {
            AttributeValues::Float(_) => return Err(unsupported("holds floating-point values")),
            AttributeValues::Str(_) => {
                let mut interner: Interner<String> = Interner::new();
                for_each_id_block(selected, size, |block| {
                    let (block_codes, table) = pop.interned(attribute, block)?;
                    // Only the values some selected node has (an @library table lists every
                    // value of the population).
                    let mut global: Vec<Option<u32>> = vec![None; table.len()];
                    for (&id, &c) in block.iter().zip(&block_codes) {
                        let code = match global.get_mut(c as usize) {
                            Some(Some(g)) => *g,
                            Some(slot) => *slot.insert(interner.code(&table[c as usize])),
                            None => {
                                return Err(Error::invalid(
                                    pop.location().clone(),
                                    format!(
                                        "attribute '{attribute}': node {id} has value index {c} \
                                         of a table of {} values",
                                        table.len()
                                    ),
                                ));
                            }
                        };
                        codes[id as usize] = code;
                    }
                    Ok(())
                })?;
                // An @library attribute keeps its enumeration order; other strings ascend.
                let order: HashMap<String, usize> = pop
                    .enumeration_values(attribute)
                    .map(|table| {
                        table
                            .into_iter()
                            .enumerate()
                            .map(|(k, v)| (v, k))
                            .rev()
                            .collect()
                    })
                    .unwrap_or_default();
                let mut sorted: Vec<(Option<usize>, String, u32)> = interner
                    .values
                    .into_iter()
                    .enumerate()
                    .map(|(c, v)| (order.get(&v).copied(), v, c as u32))
                    .collect();
                // Values outside the enumeration (mixed groups) after those in it.
                sorted.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
                let remap = remapping(sorted.iter().map(|x| x.2), sorted.len());
                remap_codes(&mut codes, &remap);
                PathwayValues::Strings(sorted.into_iter().map(|x| x.1).collect())
            }
            AttributeValues::Int(_) | AttributeValues::UInt(_) => {
                let mut interner: Interner<i64> = Interner::new();
                for_each_id_block(selected, size, |block| {
                    let values: Vec<i64> = match pop.attribute(attribute, block)? {
                        AttributeValues::Int(v) => v,
                        AttributeValues::UInt(v) => {
                            let mut out = Vec::with_capacity(v.len());
                            for x in v {
                                out.push(i64::try_from(x).map_err(|_| {
                                    unsupported(&format!(
                                        "holds {x}, above the int64 values pathways record"
                                    ))
                                })?);
                            }
                            out
                        }
                        other => {
                            return Err(unsupported(&format!(
                                "holds {} values in some groups and integers in others",
                                other.type_name()
                            )));
                        }
                    };
                    for (&id, v) in block.iter().zip(&values) {
                        codes[id as usize] = interner.code(v);
                    }
                    Ok(())
                })?;
                let mut sorted: Vec<(i64, u32)> = interner
                    .values
                    .into_iter()
                    .enumerate()
                    .map(|(c, v)| (v, c as u32))
                    .collect();
                sorted.sort_unstable();
                let remap = remapping(sorted.iter().map(|x| x.1), sorted.len());
                remap_codes(&mut codes, &remap);
                PathwayValues::Integers(sorted.into_iter().map(|x| x.0).collect())
            }
        };
        let mut node_count = vec![0u64; values.len()];
        for &c in &codes {
            if c != NOT_COUNTED {
                node_count[c as usize] += 1;
            }
        }
        Ok(NodeValues {
            values,
            codes,
            node_count,
        })
    }
}

/// Calls `f` on consecutive blocks of at most [`NODE_BLOCK`] ids of `selected` (every id below
/// `size` when `None`, made a block at a time), checking for interruption between blocks.
fn for_each_id_block(
    selected: Option<&[u64]>,
    size: u64,
    mut f: impl FnMut(&[u64]) -> Result<()>,
) -> Result<()> {
    match selected {
        Some(ids) => {
            for block in ids.chunks(NODE_BLOCK) {
                crate::interrupt::check()?;
                f(block)?;
            }
        }
        None => {
            let mut block = Vec::with_capacity(NODE_BLOCK.min(size as usize));
            let mut first = 0u64;
            while first < size {
                crate::interrupt::check()?;
                let end = size.min(first + NODE_BLOCK as u64);
                block.clear();
                block.extend(first..end);
                f(&block)?;
                first = end;
            }
        }
    }
    Ok(())
}

/// `remap[old] = new` from the old codes listed in their new order.
fn remapping(old_in_new_order: impl Iterator<Item = u32>, len: usize) -> Vec<u32> {
    let mut remap = vec![NOT_COUNTED; len];
    for (new, old) in old_in_new_order.enumerate() {
        remap[old as usize] = new as u32;
    }
    remap
}

fn remap_codes(codes: &mut [u32], remap: &[u32]) {
    for c in codes.iter_mut() {
        if *c != NOT_COUNTED {
            *c = remap[*c as usize];
        }
    }
}

/// The pathway matrix of one attribute from `rows`: see the module documentation.
/// `same_population`: the edge population connects a node population to itself (the
/// diagonal correction of `pair_count`).
///
/// # Errors
/// As [`compute_many`].
pub fn compute(
    rows: &ConnectionRows<'_>,
    attribute: &str,
    sources: &NodeValues,
    targets: &NodeValues,
    same_population: bool,
) -> Result<PathwayMatrix> {
    let mut out = compute_many(rows, &[(attribute, sources, targets)], same_population)?;
    out.pop()
        .ok_or_else(|| Error::InvalidArgument("no pathway matrix was computed".into()))
}

/// The pathway matrices of several attributes `(attribute, source values, target values)`, in
/// one pass over `rows`. A row whose source or target is [`NOT_COUNTED`] is skipped.
///
/// # Errors
/// [`Error::InvalidData`] naming the population when a node id of the table is beyond its node
/// values; [`Error::InvalidArgument`] when `same_population` but the two sides' node values
/// differ in length, or an attribute name contains `/`; read errors of spill files;
/// [`Error::Interrupted`].
pub fn compute_many(
    rows: &ConnectionRows<'_>,
    attributes: &[(&str, &NodeValues, &NodeValues)],
    same_population: bool,
) -> Result<Vec<PathwayMatrix>> {
    for (attr, s, t) in attributes {
        if attr.contains('/') {
            return Err(Error::InvalidArgument(format!(
                "node attribute '{attr}' cannot name a pathway group: it contains '/'"
            )));
        }
        if same_population && s.codes.len() != t.codes.len() {
            return Err(Error::InvalidArgument(format!(
                "attribute '{attr}': the source and target node values cover {} and {} nodes, \
                 but the edge population connects one node population to itself",
                s.codes.len(),
                t.codes.len()
            )));
        }
    }
    // The cells of every matrix, one after another (row-major each), as (synapses, connections).
    let shape: Vec<(usize, usize)> = attributes
        .iter()
        .map(|(_, s, t)| (s.values.len(), t.values.len()))
        .collect();
    let mut base = Vec::with_capacity(shape.len());
    let mut cells = 0usize;
    for &(s, t) in &shape {
        base.push(cells);
        cells += s * t;
    }
    if cells >= NOT_COUNTED as usize {
        return Err(Error::InvalidArgument(format!(
            "pathway matrices of {cells} cells do not fit in memory (attributes of too many values)"
        )));
    }
    // Each node's codes of every attribute side by side, so that a row costs one random access
    // per side however many attributes there are (the accumulation is bound by those accesses):
    // sources as the first cell of their matrix row, targets as their column.
    let k = attributes.len();
    let sources_packed = pack(
        &(0..k)
            .map(|a| (attributes[a].1, shape[a].1, base[a]))
            .collect::<Vec<_>>(),
    );
    let targets_packed = pack(&attributes.iter().map(|a| (a.2, 1, 0)).collect::<Vec<_>>());
    let packed = (sources_packed.as_slice(), targets_packed.as_slice());
    let mut acc = vec![[0u64; 2]; cells];
    if rows.in_memory() && cells <= PARALLEL_CELLS {
        accumulate_by_target(rows, attributes, packed, &mut acc)?;
    } else {
        accumulate_by_block(rows, attributes, packed, &mut acc)?;
    }
    let mut out = Vec::with_capacity(attributes.len());
    for (k, (attr, sv, tv)) in attributes.iter().enumerate() {
        let (n_s, n_t) = shape[k];
        let matrix = &acc[base[k]..base[k] + n_s * n_t];
        let syn: Vec<u64> = matrix.iter().map(|c| c[0]).collect();
        let conn: Vec<u64> = matrix.iter().map(|c| c[1]).collect();
        let mut pair_count = Vec::with_capacity(n_s * n_t);
        for &ni in &sv.node_count {
            for &nj in &tv.node_count {
                pair_count.push(ni.saturating_mul(nj));
            }
        }
        if same_population {
            for (&cs, &ct) in sv.codes.iter().zip(&tv.codes) {
                if cs != NOT_COUNTED && ct != NOT_COUNTED {
                    pair_count[cs as usize * n_t + ct as usize] -= 1;
                }
            }
        }
        out.push(PathwayMatrix {
            attribute: (*attr).to_string(),
            source_values: sv.values.clone(),
            target_values: tv.values.clone(),
            source_node_count: sv.node_count.clone(),
            target_node_count: tv.node_count.clone(),
            synapses: syn,
            connections: conn,
            pair_count,
        });
    }
    Ok(out)
}

/// Adds one connection of `synapses` to the cells of every attribute: `row` holds the source's
/// packed codes (its matrix rows), `column` the target's ([`pack`]).
#[inline]
fn add_connection(acc: &mut [[u64; 2]], row: &[u32], column: &[u32], synapses: u32) {
    for (&r, &c) in row.iter().zip(column) {
        if r == NOT_COUNTED || c == NOT_COUNTED {
            continue;
        }
        let cell = &mut acc[(r + c) as usize];
        cell[0] += u64::from(synapses);
        cell[1] += 1;
    }
}

/// [`compute_many`]'s accumulation through [`ConnectionRows::for_each_block`] (spilled tables,
/// and matrices too large for a copy per worker): node ids are checked once per block, then
/// the rows are accumulated, in parallel chunks when the cells are few.
///
/// # Errors
/// [`Error::InvalidData`] for a node id beyond the node values read; read errors of spill
/// files; [`Error::Interrupted`].
fn accumulate_by_block(
    rows: &ConnectionRows<'_>,
    attributes: &[(&str, &NodeValues, &NodeValues)],
    (sources_packed, targets_packed): (&[u32], &[u32]),
    acc: &mut [[u64; 2]],
) -> Result<()> {
    let at = rows.location();
    let k = attributes.len();
    let cells = acc.len();
    let accumulate = |acc: &mut [[u64; 2]], targets: &[u64], sources: &[u64], counts: &[u32]| {
        for ((&t, &s), &n) in targets.iter().zip(sources).zip(counts) {
            let (so, to) = (s as usize * k, t as usize * k);
            add_connection(
                acc,
                &sources_packed[so..so + k],
                &targets_packed[to..to + k],
                n,
            );
        }
    };
    rows.for_each_block(|block| {
        let max_source = block.sources.iter().copied().max().unwrap_or(0);
        let max_target = block.targets.last().copied().unwrap_or(0);
        for (attr, sv, tv) in attributes {
            for (side, max, len) in [
                ("source", max_source, sv.codes.len()),
                ("target", max_target, tv.codes.len()),
            ] {
                if !block.sources.is_empty() && max >= len as u64 {
                    return Err(Error::invalid(
                        at.clone(),
                        format!(
                            "{side} node id {max} is beyond the {len} nodes whose '{attr}' was read"
                        ),
                    ));
                }
            }
        }
        if cells <= PARALLEL_CELLS && block.sources.len() > PARALLEL_ROWS {
            let partial = block
                .targets
                .par_chunks(PARALLEL_ROWS)
                .zip(block.sources.par_chunks(PARALLEL_ROWS))
                .zip(block.counts.par_chunks(PARALLEL_ROWS))
                .fold(
                    || vec![[0u64; 2]; cells],
                    |mut local, ((t, s), n)| {
                        accumulate(&mut local, t, s, n);
                        local
                    },
                )
                .reduce(
                    || vec![[0u64; 2]; cells],
                    |mut a, b| {
                        add_cells(&mut a, &b);
                        a
                    },
                );
            add_cells(acc, &partial);
        } else {
            accumulate(acc, block.targets, block.sources, block.counts);
        }
        Ok(())
    })
}

/// [`compute_many`]'s accumulation over a table in memory: ranges of targets of about
/// [`PARALLEL_ROWS`] rows each, in parallel, each walking its targets' rows through the offsets
/// (no per-row target column is made), one copy of the cells per worker.
///
/// # Errors
/// [`Error::InvalidData`] for a node id beyond the node values read; [`Error::Interrupted`].
fn accumulate_by_target(
    rows: &ConnectionRows<'_>,
    attributes: &[(&str, &NodeValues, &NodeValues)],
    (sources_packed, targets_packed): (&[u32], &[u32]),
    acc: &mut [[u64; 2]],
) -> Result<()> {
    let census = rows.census();
    let (offsets, sources, counts) = (
        &census.target_offsets,
        &census.source_node_id,
        &census.synapse_count,
    );
    let k = attributes.len();
    let cells = acc.len();
    // Every node id must be below every attribute's node count (they may differ in length).
    let source_nodes = attributes
        .iter()
        .map(|a| a.1.codes.len())
        .min()
        .unwrap_or(0);
    let target_nodes = attributes
        .iter()
        .map(|a| a.2.codes.len())
        .min()
        .unwrap_or(0);
    let beyond = |side: &str, id: u64, len: usize| {
        Error::invalid(
            rows.location(),
            format!("{side} node id {id} is beyond the {len} nodes whose values were read"),
        )
    };
    // The last target with rows bounds the target ids.
    let n_targets = offsets.len().saturating_sub(1);
    if let Some(last) = (0..n_targets).rev().find(|&t| offsets[t + 1] > offsets[t])
        && last >= target_nodes
    {
        return Err(beyond("target", last as u64, target_nodes));
    }
    // Target ranges of about PARALLEL_ROWS rows.
    let mut ranges = Vec::new();
    let mut start = 0usize;
    for t in 0..n_targets {
        if offsets[t + 1] - offsets[start] >= PARALLEL_ROWS as u64 {
            ranges.push(start..t + 1);
            start = t + 1;
        }
    }
    if start < n_targets {
        ranges.push(start..n_targets);
    }
    let interrupted = std::sync::atomic::AtomicBool::new(false);
    let (partial, max_source) = ranges
        .par_iter()
        .fold(
            || (vec![[0u64; 2]; cells], 0u64),
            |(mut local, mut max_source), range| {
                if interrupted.load(std::sync::atomic::Ordering::Relaxed)
                    || crate::interrupt::check().is_err()
                {
                    interrupted.store(true, std::sync::atomic::Ordering::Relaxed);
                    return (local, max_source);
                }
                for t in range.clone() {
                    let column = &targets_packed[t * k..t * k + k];
                    let (a, b) = (offsets[t] as usize, offsets[t + 1] as usize);
                    for (&s, &n) in sources[a..b].iter().zip(&counts[a..b]) {
                        max_source = max_source.max(s);
                        let Some(row) = sources_packed.get(s as usize * k..s as usize * k + k)
                        else {
                            continue; // reported below (max_source)
                        };
                        add_connection(&mut local, row, column, n);
                    }
                }
                (local, max_source)
            },
        )
        .reduce(
            || (vec![[0u64; 2]; cells], 0u64),
            |(mut a, ma), (b, mb)| {
                add_cells(&mut a, &b);
                (a, ma.max(mb))
            },
        );
    crate::interrupt::check()?;
    if !sources.is_empty() && max_source >= source_nodes as u64 {
        return Err(beyond("source", max_source, source_nodes));
    }
    add_cells(acc, &partial);
    Ok(())
}

fn add_cells(a: &mut [[u64; 2]], b: &[[u64; 2]]) {
    for (x, y) in a.iter_mut().zip(b) {
        x[0] += y[0];
        x[1] += y[1];
    }
}

/// Each node's codes of every attribute side by side: for attribute `a` given as
/// `(values, scale, offset)`, entry `node * k + a` is `offset + code * scale` ([`NOT_COUNTED`]
/// for nodes not counted).
fn pack(sides: &[(&NodeValues, usize, usize)]) -> Vec<u32> {
    let k = sides.len();
    let nodes = sides.iter().map(|s| s.0.codes.len()).max().unwrap_or(0);
    let mut packed = vec![NOT_COUNTED; nodes * k];
    for (a, &(values, scale, offset)) in sides.iter().enumerate() {
        for (node, &c) in values.codes.iter().enumerate() {
            if c != NOT_COUNTED {
                packed[node * k + a] = (offset + c as usize * scale) as u32;
            }
        }
    }
    packed
}
