//! The one reader behind [`EdgePopulation::attribute`], [`EdgePopulation::enumeration`] and
//! [`EdgePopulation::dynamics_attribute`]: finds a name's column in each group of a selection
//! (plain, `@library` or `dynamics_params`), reads each group's rows, resolves `@library` codes,
//! widens numbers across groups and places every value at its selection position.

use super::groups::{
    Mapping, edge_at, numeric_groups, open_group, place, row_ranges, scatter, subgroup,
};
use super::{AttributeValues, OutKind, out_kind, schema};
use crate::error::{Error, Result};
use crate::selection::Selection;
use crate::sonata::EdgePopulation;
use crate::sonata::column::{Column, DtypeNames, plain_name};

/// Which column family a read looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// `<group>/<name>`.
    Attribute,
    /// `<group>/dynamics_params/<name>`.
    Dynamics,
}

impl Family {
    fn noun(self) -> &'static str {
        match self {
            Family::Attribute => "attribute",
            Family::Dynamics => "dynamics attribute",
        }
    }
}

/// What a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Values; `@library` codes resolved to strings.
    Values,
    /// Raw `@library` codes (the column must have a library).
    Codes,
}

/// One group's column of an attribute, and its `@library` column when it has one.
pub(super) struct Found {
    pub(super) column: Column,
    pub(super) library: Option<Column>,
}

impl Found {
    fn out_kind(&self, mode: Mode, name: &str) -> Result<OutKind> {
        match (mode, &self.library) {
            (Mode::Values, Some(_)) => Ok(OutKind::Str),
            (Mode::Values, None) => out_kind(&self.column),
            (Mode::Codes, Some(_)) => Ok(OutKind::UInt),
            (Mode::Codes, None) => Err(Error::invalid(
                self.column.at.clone(),
                format!("attribute '{name}' is not an enumeration (it has no @library table)"),
            )),
        }
    }

    /// Reads the rows of `ranges` in this group.
    fn read(&self, ranges: &[(u64, u64)], mode: Mode) -> Result<AttributeValues> {
        let Some(library) = &self.library else {
            return self.column.read_ranges(ranges);
        };
        if mode == Mode::Codes {
            return Ok(AttributeValues::UInt(
                self.column.read_integral_ranges(ranges)?,
            ));
        }
        let table = library.read_library_table()?;
        let strings = match self.column.read_ranges(ranges)? {
            AttributeValues::Int(codes) => self.resolve(&codes, ranges, library, &table)?,
            AttributeValues::UInt(codes) => self.resolve(&codes, ranges, library, &table)?,
            _ => {
                return Err(Error::invalid(
                    self.column.at.clone(),
                    format!(
                        "holds {} but the codes of an @library attribute must be integers",
                        self.column.dtype
                    ),
                ));
            }
        };
        Ok(AttributeValues::Str(strings))
    }

    /// Maps `codes` (the rows of `ranges`) to `table`; the first out-of-range code, in row
    /// order, is an error.
    fn resolve<C: Copy + Into<i128>>(
        &self,
        codes: &[C],
        ranges: &[(u64, u64)],
        library: &Column,
        table: &[String],
    ) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(codes.len());
        let rows = ranges.iter().flat_map(|&(a, b)| a..b);
        for (&code, row) in codes.iter().zip(rows) {
            let code: i128 = code.into();
            let value = usize::try_from(code).ok().and_then(|c| table.get(c));
            let Some(value) = value else {
                return Err(Error::invalid(
                    self.column.at.clone(),
                    format!(
                        "code {code} at row {row} is out of range: '{}' has {} values",
                        library.path,
                        table.len()
                    ),
                ));
            };
            out.push(value.clone());
        }
        Ok(out)
    }
}

/// Looks up `name` of `family` in group `gname`; `Ok(None)` when the group has no such column.
pub(super) fn find(
    pop: &EdgePopulation,
    gname: &str,
    name: &str,
    family: Family,
) -> Result<Option<Found>> {
    if !plain_name(name) {
        return Ok(None);
    }
    let group = open_group(pop, gname)?;
    let at = pop.location();
    match family {
        Family::Attribute => {
            if name == schema::LIBRARY_GROUP || name == schema::DYNAMICS_PARAMS_GROUP {
                return Ok(None);
            }
            let Some(column) = Column::open(
                &group,
                name,
                &format!("{gname}/{name}"),
                at,
                DtypeNames::Sonata,
            )?
            else {
                return Ok(None);
            };
            let library = match subgroup(pop, &group, gname, schema::LIBRARY_GROUP)? {
                Some(lib) => Column::open(
                    &lib,
                    name,
                    &format!("{gname}/{}/{name}", schema::LIBRARY_GROUP),
                    at,
                    DtypeNames::Sonata,
                )?,
                None => None,
            };
            Ok(Some(Found { column, library }))
        }
        Family::Dynamics => {
            let Some(dynamics) = subgroup(pop, &group, gname, schema::DYNAMICS_PARAMS_GROUP)?
            else {
                return Ok(None);
            };
            let path = format!("{gname}/{}/{name}", schema::DYNAMICS_PARAMS_GROUP);
            Ok(
                Column::open(&dynamics, name, &path, at, DtypeNames::Sonata)?.map(|column| Found {
                    column,
                    library: None,
                }),
            )
        }
    }
}

pub(super) fn missing(pop: &EdgePopulation, name: &str, family: Family, detail: String) -> Error {
    Error::invalid(
        pop.location().clone(),
        format!("no {} '{name}' {detail}", family.noun()),
    )
}

fn check_selection(pop: &EdgePopulation, selection: &Selection) -> Result<()> {
    let end = selection.ranges().last().map_or(0, |&(_, end)| end);
    if end > pop.size() {
        return Err(Error::InvalidArgument(format!(
            "{}: the selection reaches edge {} but the population has {}",
            pop.location(),
            end - 1,
            crate::words::plural(pop.size(), "edge")
        )));
    }
    Ok(())
}

/// Widest kind of a set of kinds, or an error when strings meet numbers.
fn unify(kinds: &[(OutKind, &Column)], name: &str) -> Result<OutKind> {
    let strings = kinds.iter().find(|(k, _)| *k == OutKind::Str);
    let numbers = kinds.iter().find(|(k, _)| *k != OutKind::Str);
    if let (Some((_, s)), Some((_, n))) = (strings, numbers) {
        return Err(Error::invalid(
            s.at.clone(),
            format!(
                "attribute '{name}' holds strings in '{}' but numbers in '{}'",
                s.path, n.path
            ),
        ));
    }
    let has = |k: OutKind| kinds.iter().any(|(x, _)| *x == k);
    Ok(if strings.is_some() {
        OutKind::Str
    } else if has(OutKind::Float) {
        OutKind::Float
    } else if has(OutKind::Int) {
        OutKind::Int
    } else {
        OutKind::UInt
    })
}

/// Converts `values` to `kind` (widening only; see [`unify`]).
fn convert(values: AttributeValues, kind: OutKind, column: &Column) -> Result<AttributeValues> {
    use AttributeValues as V;
    Ok(match (values, kind) {
        (v, k) if v.kind() == k => v,
        (V::Int(v), OutKind::Float) => V::Float(v.into_iter().map(|x| x as f64).collect()),
        (V::UInt(v), OutKind::Float) => V::Float(v.into_iter().map(|x| x as f64).collect()),
        (V::UInt(v), OutKind::Int) => {
            let mut out = Vec::with_capacity(v.len());
            for x in v {
                out.push(i64::try_from(x).map_err(|_| {
                    Error::invalid(
                        column.at.clone(),
                        format!("value {x} does not fit the signed values of the other groups"),
                    )
                })?);
            }
            V::Int(out)
        }
        (v, k) => {
            return Err(Error::invalid(
                column.at.clone(),
                format!("cannot convert {} values to {}", v.type_name(), k.name()),
            ));
        }
    })
}

/// Writes `values` (one per distinct row of `pairs`) to their selection positions in `out`.
fn scatter_values(out: &mut AttributeValues, values: AttributeValues, pairs: &[(u64, usize)]) {
    use AttributeValues as V;
    match (out, values) {
        (V::Int(o), V::Int(v)) => scatter(o, &v, pairs),
        (V::UInt(o), V::UInt(v)) => scatter(o, &v, pairs),
        (V::Float(o), V::Float(v)) => scatter(o, &v, pairs),
        (V::Str(o), V::Str(v)) => scatter(o, &v, pairs),
        // `convert` made the kinds equal.
        _ => {}
    }
}

/// The shared reader behind `attribute`, `enumeration` and `dynamics_attribute`.
pub(super) fn read_values(
    pop: &EdgePopulation,
    name: &str,
    selection: &Selection,
    family: Family,
    mode: Mode,
) -> Result<AttributeValues> {
    check_selection(pop, selection)?;
    let groups = numeric_groups(pop)?;
    match Mapping::of(pop)? {
        Mapping::Implicit => {
            let group = "0";
            if !groups.iter().any(|(_, g)| g == group) {
                return Err(missing(
                    pop,
                    name,
                    family,
                    "(the population has no group '0')".into(),
                ));
            }
            let Some(found) = find(pop, group, name, family)? else {
                return Err(missing(pop, name, family, "in group '0'".into()));
            };
            found.out_kind(mode, name)?;
            if let Some(&(_, end)) = selection.ranges().last() {
                found.column.check_row(end - 1, || {
                    format!("the selection reaches edge {}; row = edge id", end - 1)
                })?;
            }
            found.read(selection.ranges(), mode)
        }
        Mapping::Explicit { gid, gidx } => {
            let mut placements = place(selection, &gid, &gidx, &groups)?;
            if placements.is_empty() {
                // Empty selection: the kind comes from the first group having the column.
                for (_, g) in &groups {
                    if let Some(found) = find(pop, g, name, family)? {
                        return Ok(found.out_kind(mode, name)?.empty());
                    }
                }
                return Err(missing(pop, name, family, "in any group".into()));
            }
            placements.sort_by_key(|p| p.id);
            let mut founds = Vec::with_capacity(placements.len());
            for p in &placements {
                let Some(found) = find(pop, &p.name, name, family)? else {
                    let edge = p
                        .pairs
                        .first()
                        .map_or(0, |&(_, pos)| edge_at(selection, pos));
                    return Err(missing(
                        pop,
                        name,
                        family,
                        format!("in group '{}', which edge {edge} belongs to", p.name),
                    ));
                };
                founds.push(found);
            }
            let mut kinds = Vec::with_capacity(founds.len());
            for f in &founds {
                kinds.push((f.out_kind(mode, name)?, &f.column));
            }
            let kind = unify(&kinds, name)?;
            let mut out = kind.filled(selection.flat_size() as usize);
            let mut ranges = Vec::new();
            for (p, found) in placements.iter_mut().zip(&founds) {
                p.pairs.sort_unstable();
                if let Some(&(row, pos)) = p.pairs.last() {
                    found.column.check_row(row, || {
                        format!(
                            "edge {} has edge_group_index {row} in group '{}'",
                            edge_at(selection, pos),
                            p.name
                        )
                    })?;
                }
                row_ranges(&p.pairs, &mut ranges);
                let values = convert(found.read(&ranges, mode)?, kind, &found.column)?;
                scatter_values(&mut out, values, &p.pairs);
            }
            Ok(out)
        }
    }
}
