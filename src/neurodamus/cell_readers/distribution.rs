//! How neurodamus spreads cells over ranks: `split_round_robin`, `dry_run_distribution` and
//! `_retrieve_unique_metypes` (neurodamus-io.md §1.1), with their exact semantics.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::sonata::nodes::NodePopulation;

/// neurodamus `split_round_robin(all_gids, stride, stride_offset, total_cells)`.
///
/// - With `gids`: when `stride > 1`, takes `gids[stride_offset::stride]` **in the given order**
///   and sorts the result; when `stride <= 1` the offset is ignored and all gids come back
///   sorted. The input is not changed. An offset past the end gives an empty result.
/// - Without `gids`: `arange(stride_offset, total_cells, stride)` (neurodamus makes these
///   `uint32`); here the offset is honoured even for stride 1, as in neurodamus.
///
/// # Errors
/// [`Error::InvalidArgument`] without `gids` when `total_cells` is `None` or 0 (neurodamus's
/// `AssertionError`) or when `stride` is 0 (numpy's `arange` fails on a zero step).
pub fn split_round_robin(
    gids: Option<&[u64]>,
    stride: u64,
    stride_offset: u64,
    total_cells: Option<u64>,
) -> Result<Vec<u64>> {
    match gids {
        Some(gids) => {
            let mut out: Vec<u64> = if stride > 1 {
                gids.iter()
                    .skip(usize::try_from(stride_offset).unwrap_or(usize::MAX))
                    .step_by(usize::try_from(stride).unwrap_or(usize::MAX))
                    .copied()
                    .collect()
            } else {
                gids.to_vec()
            };
            out.sort_unstable();
            Ok(out)
        }
        None => {
            let total = match total_cells {
                Some(t) if t > 0 => t,
                _ => {
                    return Err(Error::InvalidArgument(
                        "split_round_robin: total_cells required without gids".into(),
                    ));
                }
            };
            if stride == 0 {
                return Err(Error::InvalidArgument(
                    "split_round_robin: the stride must be at least 1".into(),
                ));
            }
            let step = usize::try_from(stride).unwrap_or(usize::MAX);
            Ok((stride_offset..total).step_by(step).collect())
        }
    }
}

/// neurodamus `dry_run_distribution(gid_metype_bundle, stride, stride_offset)`.
///
/// Round robin over **whole me-type bundles**: stride 1 concatenates every bundle (offset
/// ignored); otherwise bundles `offset, offset + stride, ...` are concatenated. The result keeps
/// bundle order and is **not sorted**.
///
/// # Errors
/// [`Error::InvalidArgument`] when `stride` is 0 and the bundle list is not empty (Python's
/// slice step cannot be zero).
pub fn dry_run_distribution(
    bundles: &[Vec<u64>],
    stride: u64,
    stride_offset: u64,
) -> Result<Vec<u64>> {
    if bundles.is_empty() {
        return Ok(Vec::new());
    }
    if stride == 0 {
        return Err(Error::InvalidArgument(
            "dry_run_distribution: the stride must be at least 1".into(),
        ));
    }
    if stride == 1 {
        return Ok(bundles.concat());
    }
    let skip = usize::try_from(stride_offset).unwrap_or(usize::MAX);
    let step = usize::try_from(stride).unwrap_or(usize::MAX);
    Ok(bundles
        .iter()
        .skip(skip)
        .step_by(step)
        .flat_map(|b| b.iter().copied())
        .collect())
}

/// The me-types of a set of cells (`_retrieve_unique_metypes`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metypes {
    /// `"{mtype}-{etype}"` → its gids in input order, me-types in first-seen order, skipped
    /// me-types left out.
    pub gids: Vec<(String, Vec<u64>)>,
    /// `"{mtype}-{etype}"` → number of cells, first-seen order, **skipped me-types included**.
    pub counts: Vec<(String, u64)>,
}

impl Metypes {
    /// The gid bundles in me-type order (the input of [`dry_run_distribution`]).
    pub fn bundles(&self) -> Vec<Vec<u64>> {
        self.gids.iter().map(|(_, g)| g.clone()).collect()
    }

    /// The count of `metype` (0 when absent).
    pub fn count(&self, metype: &str) -> u64 {
        self.counts
            .iter()
            .find(|(m, _)| m == metype)
            .map_or(0, |(_, c)| *c)
    }
}

/// Groups cells by me-type from their `(mtype, etype)` strings: the pure part of
/// `_retrieve_unique_metypes`, usable without a file.
///
/// `mtypes[k]` and `etypes[k]` belong to `gids[k]`; the key is `"{mtype}-{etype}"` (the etype,
/// not the emodel, despite neurodamus's docstring).
///
/// # Errors
/// [`Error::InvalidArgument`] when the three slices have different lengths.
pub fn group_metypes<S: AsRef<str>>(
    gids: &[u64],
    mtypes: &[S],
    etypes: &[S],
    skip_metypes: &[&str],
) -> Result<Metypes> {
    if mtypes.len() != gids.len() || etypes.len() != gids.len() {
        return Err(Error::InvalidArgument(format!(
            "group_metypes: {} gids but {} mtypes and {} etypes",
            gids.len(),
            mtypes.len(),
            etypes.len()
        )));
    }
    let keys: Vec<String> = mtypes
        .iter()
        .zip(etypes)
        .map(|(m, e)| format!("{}-{}", m.as_ref(), e.as_ref()))
        .collect();
    Ok(group_keys(
        gids,
        keys.iter().map(String::as_str),
        skip_metypes,
    ))
}

fn group_keys<'a>(
    gids: &[u64],
    keys: impl Iterator<Item = &'a str>,
    skip_metypes: &[&str],
) -> Metypes {
    let mut slot: HashMap<&str, usize> = HashMap::new();
    let mut out = Metypes::default();
    let mut gid_slot: Vec<Option<usize>> = Vec::new();
    for (&gid, key) in gids.iter().zip(keys) {
        let next = out.counts.len();
        let i = *slot.entry(key).or_insert_with(|| {
            out.counts.push((key.to_string(), 0));
            next
        });
        out.counts[i].1 += 1;
        if i == gid_slot.len() {
            if skip_metypes.contains(&key) {
                gid_slot.push(None);
            } else {
                gid_slot.push(Some(out.gids.len()));
                out.gids.push((key.to_string(), Vec::new()));
            }
        }
        if let Some(g) = gid_slot[i] {
            out.gids[g].1.push(gid);
        }
    }
    out
}

/// neurodamus `_retrieve_unique_metypes(node_reader, all_gids, skip_metypes)`: reads `mtype`
/// and `etype` of `gids` and groups them (see [`Metypes`]).
///
/// Both columns are read as codes into their tables (no string per cell for `@library`
/// columns), so 10^7 cells take a second, not minutes.
///
/// # Errors
/// Read errors of `mtype` / `etype` (missing columns included: neurodamus does not catch a
/// missing `etype` here) and ids out of range.
pub fn retrieve_unique_metypes(
    pop: &NodePopulation,
    gids: &[u64],
    skip_metypes: &[&str],
) -> Result<Metypes> {
    let (etype_codes, etypes) = pop.interned("etype", gids)?;
    let (mtype_codes, mtypes) = pop.interned("mtype", gids)?;
    // One key string per distinct (mtype, etype) pair, in first-seen order.
    let mut pair_key: HashMap<(u32, u32), usize> = HashMap::new();
    let mut keys: Vec<String> = Vec::new();
    let mut per_cell: Vec<usize> = Vec::with_capacity(gids.len());
    for (&m, &e) in mtype_codes.iter().zip(&etype_codes) {
        let next = keys.len();
        let k = *pair_key.entry((m, e)).or_insert_with(|| {
            keys.push(format!("{}-{}", mtypes[m as usize], etypes[e as usize]));
            next
        });
        per_cell.push(k);
    }
    // Two different pairs cannot give one key unless strings contain '-'; group_keys merges
    // them by string as neurodamus does.
    Ok(group_keys(
        gids,
        per_cell.iter().map(|&k| keys[k].as_str()),
        skip_metypes,
    ))
}
