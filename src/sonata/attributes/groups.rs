//! The attribute groups of an edge population and how edges map to their rows: the numeric
//! groups, the implicit (group `0`, row = edge id) or explicit (`edge_group_id` /
//! `edge_group_index`) mapping, a selection bucketed by group, and values scattered back to
//! selection order.

use super::schema;
use crate::error::{Error, H5Context, Result};
use crate::selection::Selection;
use crate::sonata::EdgePopulation;
use crate::sonata::column::{self, Column, DtypeNames};

/// Numeric attribute groups of a population: `(id, name)`, in numeric order.
pub(super) fn numeric_groups(pop: &EdgePopulation) -> Result<Vec<(u64, String)>> {
    let names = column::ordered_member_names(pop.group()).at(pop.location())?;
    let mut groups: Vec<(u64, String)> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|n| n.parse::<u64>().ok().map(|id| (id, n)))
        .filter(|(_, n)| pop.group().group(n).is_ok())
        .collect();
    groups.sort();
    Ok(groups)
}

pub(super) fn open_group(pop: &EdgePopulation, path: &str) -> Result<hdf5::Group> {
    let at = pop.location().dataset(path);
    pop.group()
        .group(path)
        .map_err(|_| Error::invalid(at, "is not a group"))
}

/// Opens the optional subgroup `name` of `group` (`@library`, `dynamics_params`).
pub(super) fn subgroup(
    pop: &EdgePopulation,
    group: &hdf5::Group,
    gname: &str,
    name: &str,
) -> Result<Option<hdf5::Group>> {
    if !group.link_exists(name) {
        return Ok(None);
    }
    let at = pop.location().dataset(&format!("{gname}/{name}"));
    group
        .group(name)
        .map(Some)
        .map_err(|_| Error::invalid(at, "is not a group"))
}

/// The per-edge group mapping.
pub(super) enum Mapping {
    /// Group `0`, row = edge id.
    Implicit,
    /// `edge_group_id` / `edge_group_index`.
    Explicit { gid: Box<Column>, gidx: Box<Column> },
}

impl Mapping {
    pub(super) fn of(pop: &EdgePopulation) -> Result<Mapping> {
        let at = pop.location();
        let gid = Column::open(
            pop.group(),
            schema::EDGE_GROUP_ID,
            schema::EDGE_GROUP_ID,
            at,
            DtypeNames::Sonata,
        )?;
        let gidx = Column::open(
            pop.group(),
            schema::EDGE_GROUP_INDEX,
            schema::EDGE_GROUP_INDEX,
            at,
            DtypeNames::Sonata,
        )?;
        match (gid, gidx) {
            (None, None) => Ok(Mapping::Implicit),
            (Some(gid), Some(gidx)) => {
                for c in [&gid, &gidx] {
                    c.check_group_mapping(pop.all_rows(), "edge")?;
                }
                Ok(Mapping::Explicit {
                    gid: Box::new(gid),
                    gidx: Box::new(gidx),
                })
            }
            (Some(c), None) | (None, Some(c)) => {
                let missing = if c.path == schema::EDGE_GROUP_ID {
                    schema::EDGE_GROUP_INDEX
                } else {
                    schema::EDGE_GROUP_ID
                };
                Err(Error::invalid(
                    at.clone(),
                    format!(
                        "has '{}' but no '{missing}': cannot map edges to attribute rows",
                        c.path
                    ),
                ))
            }
        }
    }
}

/// The edges of a selection that live in one group: `(row, position in selection)`.
pub(super) struct Placement {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) pairs: Vec<(u64, usize)>,
}

/// Edge id at position `pos` of a selection (for messages).
pub(super) fn edge_at(selection: &Selection, pos: usize) -> u64 {
    let mut pos = pos as u64;
    for &(a, b) in selection.ranges() {
        if pos < b - a {
            return a + pos;
        }
        pos -= b - a;
    }
    u64::MAX
}

/// Reads `edge_group_id` / `edge_group_index` for `selection` and buckets the edges by group.
pub(super) fn place(
    selection: &Selection,
    gid: &Column,
    gidx: &Column,
    groups: &[(u64, String)],
) -> Result<Vec<Placement>> {
    let ids = gid.read_integral_ranges(selection.ranges())?;
    let rows = gidx.read_integral_ranges(selection.ranges())?;
    let mut placements: Vec<Placement> = Vec::new();
    let mut last: Option<(u64, usize)> = None;
    for (pos, (&id, &row)) in ids.iter().zip(&rows).enumerate() {
        let slot = match last {
            Some((last_id, slot)) if last_id == id => slot,
            _ => {
                let slot = match placements.iter().position(|p| p.id == id) {
                    Some(slot) => slot,
                    None => {
                        let Some((_, name)) = groups.iter().find(|(g, _)| *g == id) else {
                            let names: Vec<&str> = groups.iter().map(|(_, n)| n.as_str()).collect();
                            return Err(Error::invalid(
                                gid.at.clone(),
                                format!(
                                    "edge {} has edge_group_id {id} but there is no group '{id}' (groups: {})",
                                    edge_at(selection, pos),
                                    if names.is_empty() {
                                        "none".to_string()
                                    } else {
                                        names.join(", ")
                                    }
                                ),
                            ));
                        };
                        placements.push(Placement {
                            id,
                            name: name.clone(),
                            pairs: Vec::new(),
                        });
                        placements.len() - 1
                    }
                };
                last = Some((id, slot));
                slot
            }
        };
        placements[slot].pairs.push((row, pos));
    }
    Ok(placements)
}

/// Canonical ranges of the distinct rows of `pairs` (sorted by row).
pub(super) fn row_ranges(pairs: &[(u64, usize)], out: &mut Vec<(u64, u64)>) {
    out.clear();
    for &(row, _) in pairs {
        match out.last_mut() {
            Some(last) if row < last.1 => {}
            Some(last) if row == last.1 => last.1 += 1,
            _ => out.push((row, row + 1)),
        }
    }
}

/// `out[pos] = values[k]` where `k` counts distinct rows of `pairs` (sorted by row).
pub(super) fn scatter<T: Clone>(out: &mut [T], values: &[T], pairs: &[(u64, usize)]) {
    let mut k = 0usize;
    let mut prev: Option<u64> = None;
    for &(row, pos) in pairs {
        if prev.is_some_and(|p| p != row) {
            k += 1;
        }
        prev = Some(row);
        out[pos] = values[k].clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ranges_of_sorted_pairs_dedup() {
        let pairs = vec![(1, 5), (2, 0), (2, 3), (3, 1), (7, 2), (9, 4), (10, 6)];
        let mut ranges = Vec::new();
        row_ranges(&pairs, &mut ranges);
        assert_eq!(ranges, vec![(1, 4), (7, 8), (9, 11)]);
    }

    #[test]
    fn scatter_repeats_duplicate_rows() {
        let pairs = vec![(1, 2), (1, 0), (4, 1), (6, 3)];
        let mut out = vec![0u64; 4];
        scatter(&mut out, &[10, 40, 60], &pairs);
        assert_eq!(out, vec![10, 40, 10, 60]);
    }

    #[test]
    fn edge_at_walks_ranges() {
        let s = Selection::from_ranges(vec![(3, 5), (10, 12)]);
        assert_eq!(edge_at(&s, 0), 3);
        assert_eq!(edge_at(&s, 1), 4);
        assert_eq!(edge_at(&s, 2), 10);
        assert_eq!(edge_at(&s, 3), 11);
    }
}
