//! Attribute columns of edge populations: groups, `@library` enumerations, strings,
//! `dynamics_params`, and the bmtk `nsyns` column.
//!
//! ## Where an edge's attributes are (spec §1.1 "Group semantics", gotcha 5)
//! - **Implicit layout** (BBP): no `edge_group_id` / `edge_group_index` datasets; every edge's
//!   attributes are in group `0`, at row = edge id. Reads are contiguous merge-read-extract block
//!   reads of the selection's ranges.
//! - **Explicit layout** (bmtk / Allen / libsonata tests): edge `i`'s attribute `a` is
//!   `<edge_group_id[i]>/a[edge_group_index[i]]`. Both columns are read for the selection (any
//!   integer dtype, or floats holding integral values as in Allen's `edge_index_example.h5`),
//!   then each group's rows are sorted, read with block reads and scattered back to selection
//!   order. libsonata refuses multi-group populations and ignores `edge_group_index`; this reader
//!   follows the spec instead, which gives the same values on every file libsonata accepts whose
//!   `edge_group_index` is the identity.
//!
//! ## Value types
//! [`AttributeValues`] widens what is stored: signed integers to `i64`, unsigned to `u64`, floats
//! to `f64`, strings (variable- or fixed-length, ASCII or UTF-8; invalid UTF-8 replaced) to
//! `String`. Columns with a `<group>/@library/<name>` table hold integer codes and are resolved
//! to strings by [`EdgePopulation::attribute`]; [`EdgePopulation::enumeration`] gives the raw
//! codes. HDF5-native `ENUM` datasets (and booleans) are returned as their integer values
//! (`Int` or `UInt` by the enum's base type), not as member names; they are not
//! enumerations in the `@library` sense. When the groups of a selection store one attribute with
//! different numeric types, values are widened to the widest kind (`Float` over `Int` over
//! `UInt`); strings mixed with numbers are an error.
//!
//! Null-space and scalar datasets (present in libsonata's test files) are skipped by the
//! listings and reported as [`Error::InvalidData`] when read by name.
//!
//! ## Files
//! - this file: the value and listing types and the [`EdgePopulation`] methods;
//! - `groups`: the attribute groups and how edges map to them (`edge_group_id` /
//!   `edge_group_index`), bucketing a selection by group and scattering values back;
//! - `read`: the one reader behind `attribute`, `enumeration` and `dynamics_attribute`
//!   (`@library` resolution, widening across groups);
//! - `nsyns`: [`NsynsReader`], the bmtk `nsyns` column streamed in edge order for the census.
//!
//! Columns themselves are opened and read by the column type node populations also use
//! (`sonata::column::Column`).

mod groups;
mod nsyns;
mod read;

use std::collections::BTreeSet;

use serde::Serialize;

use super::column::{self, Class, Column, DtypeNames, plain_name};
use super::schema;
use crate::error::{Error, Result};
use crate::selection::Selection;
use crate::sonata::EdgePopulation;

use groups::{numeric_groups, open_group, subgroup};
pub use nsyns::NsynsReader;
use read::{Family, Mode, find, missing, read_values};

/// Values of one attribute, in selection order.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValues {
    /// Signed integers (any stored signed width, and signed HDF5 enums), widened to `i64`.
    Int(Vec<i64>),
    /// Unsigned integers (any stored unsigned width, booleans, unsigned HDF5 enums).
    UInt(Vec<u64>),
    /// Floating-point numbers, widened to `f64`.
    Float(Vec<f64>),
    /// Strings, and `@library` columns resolved to their strings.
    Str(Vec<String>),
}

impl AttributeValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            AttributeValues::Int(v) => v.len(),
            AttributeValues::UInt(v) => v.len(),
            AttributeValues::Float(v) => v.len(),
            AttributeValues::Str(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `"int"`, `"uint"`, `"float"` or `"string"`.
    pub fn type_name(&self) -> &'static str {
        self.kind().name()
    }

    fn kind(&self) -> OutKind {
        match self {
            AttributeValues::Int(_) => OutKind::Int,
            AttributeValues::UInt(_) => OutKind::UInt,
            AttributeValues::Float(_) => OutKind::Float,
            AttributeValues::Str(_) => OutKind::Str,
        }
    }
}

/// What an attribute column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    /// A plain column `<group>/<name>`.
    Plain,
    /// A column of codes into `<group>/@library/<name>`.
    Library,
    /// A per-edge parameter override `<group>/dynamics_params/<name>`.
    Dynamics,
}

/// One attribute column of one group, as listed by [`EdgePopulation::attribute_columns`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeColumnInfo {
    /// The group (`"0"`, `"1"`, ...).
    pub group: String,
    /// The column's name (without `dynamics_params/` for dynamics columns).
    pub name: String,
    /// Stored type: `"int8"` .. `"uint64"`, `"float32"`, `"float64"`, `"string"`, `"bool"`,
    /// `"enum(int32)"` for HDF5 enums, `"enum(uint32)->@library"` for `@library` code columns.
    pub dtype: String,
    /// Number of rows.
    pub rows: u64,
    /// Plain, `@library` or `dynamics_params`.
    pub kind: AttributeKind,
}

/// How edges map to rows of attribute groups (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupLayout {
    /// The attribute groups, in numeric order.
    pub groups: Vec<String>,
    /// Stored type of `edge_group_id`, `None` when absent.
    pub edge_group_id: Option<String>,
    /// Stored type of `edge_group_index`, `None` when absent.
    pub edge_group_index: Option<String>,
}

impl GroupLayout {
    /// Whether the layout is implicit (no `edge_group_id` / `edge_group_index`: group `0`,
    /// row = edge id). A layout with only one of the two is neither, and attribute reads reject it.
    pub fn is_implicit(&self) -> bool {
        self.edge_group_id.is_none() && self.edge_group_index.is_none()
    }
}

/// Kind of values a read produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutKind {
    Int,
    UInt,
    Float,
    Str,
}

impl OutKind {
    fn name(self) -> &'static str {
        match self {
            OutKind::Int => "int",
            OutKind::UInt => "uint",
            OutKind::Float => "float",
            OutKind::Str => "string",
        }
    }

    fn empty(self) -> AttributeValues {
        match self {
            OutKind::Int => AttributeValues::Int(Vec::new()),
            OutKind::UInt => AttributeValues::UInt(Vec::new()),
            OutKind::Float => AttributeValues::Float(Vec::new()),
            OutKind::Str => AttributeValues::Str(Vec::new()),
        }
    }

    fn filled(self, n: usize) -> AttributeValues {
        match self {
            OutKind::Int => AttributeValues::Int(vec![0; n]),
            OutKind::UInt => AttributeValues::UInt(vec![0; n]),
            OutKind::Float => AttributeValues::Float(vec![0.0; n]),
            OutKind::Str => AttributeValues::Str(vec![String::new(); n]),
        }
    }
}

/// The kind of values `column` reads as; an error for a type no attribute read handles.
fn out_kind(column: &Column) -> Result<OutKind> {
    match column.class {
        Class::Int => Ok(OutKind::Int),
        Class::UInt => Ok(OutKind::UInt),
        Class::Float => Ok(OutKind::Float),
        Class::VarStr { .. } | Class::FixedStr { .. } => Ok(OutKind::Str),
        Class::Other => Err(column.unreadable()),
    }
}

/// Lists `(name, dtype, rows, kind)` of the columns of one group.
fn group_columns(pop: &EdgePopulation, gname: &str) -> Result<Vec<AttributeColumnInfo>> {
    let group = open_group(pop, gname)?;
    let at = pop.location().dataset(gname);
    let mut names = column::member_names(&group, &at)?;
    names.sort();
    let library = subgroup(pop, &group, gname, schema::LIBRARY_GROUP)?;
    let mut out = Vec::new();
    for name in &names {
        if name == schema::LIBRARY_GROUP || name == schema::DYNAMICS_PARAMS_GROUP {
            continue;
        }
        let Some(probed) = Column::probe(&group, name) else {
            continue;
        };
        let (dtype, rows) = (probed.dtype(), probed.rows);
        let has_library = library
            .as_ref()
            .is_some_and(|lib| Column::probe(lib, name).is_some());
        let (dtype, kind) = if has_library {
            (format!("enum({dtype})->@library"), AttributeKind::Library)
        } else {
            (dtype, AttributeKind::Plain)
        };
        out.push(AttributeColumnInfo {
            group: gname.to_string(),
            name: name.clone(),
            dtype,
            rows,
            kind,
        });
    }
    if let Some(dynamics) = subgroup(pop, &group, gname, schema::DYNAMICS_PARAMS_GROUP)? {
        let at = pop
            .location()
            .dataset(&format!("{gname}/{}", schema::DYNAMICS_PARAMS_GROUP));
        let mut names = column::member_names(&dynamics, &at)?;
        names.sort();
        for name in names {
            let Some(probed) = Column::probe(&dynamics, &name) else {
                continue;
            };
            let (dtype, rows) = (probed.dtype(), probed.rows);
            out.push(AttributeColumnInfo {
                group: gname.to_string(),
                name,
                dtype,
                rows,
                kind: AttributeKind::Dynamics,
            });
        }
    }
    Ok(out)
}

impl EdgePopulation {
    /// Names of the attribute groups (`"0"`, `"1"`, ...: numeric subgroups), in numeric order.
    ///
    /// # Errors
    /// [`Error::Hdf5`] when the population group cannot be listed.
    pub fn attribute_groups(&self) -> Result<Vec<String>> {
        Ok(numeric_groups(self)?.into_iter().map(|(_, n)| n).collect())
    }

    /// Every 1-D column of every group, `dynamics_params/*` included, in group order then by
    /// name (plain and `@library` columns first, then dynamics). Null-space, scalar and
    /// multi-dimensional datasets are skipped.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `@library` or `dynamics_params` is not a group;
    /// [`Error::Hdf5`] when a group cannot be listed.
    pub fn attribute_columns(&self) -> Result<Vec<AttributeColumnInfo>> {
        let mut out = Vec::new();
        for (_, g) in numeric_groups(self)? {
            out.extend(group_columns(self, &g)?);
        }
        Ok(out)
    }

    /// Names of the attributes: the union over groups, sorted, without `@library` and
    /// `dynamics_params` (see [`EdgePopulation::dynamics_attribute_names`]).
    ///
    /// # Errors
    /// As [`EdgePopulation::attribute_columns`].
    pub fn attribute_names(&self) -> Result<Vec<String>> {
        let names: BTreeSet<String> = self
            .attribute_columns()?
            .into_iter()
            .filter(|c| c.kind != AttributeKind::Dynamics)
            .map(|c| c.name)
            .collect();
        Ok(names.into_iter().collect())
    }

    /// Names of the `dynamics_params` attributes: the union over groups, sorted.
    ///
    /// # Errors
    /// As [`EdgePopulation::attribute_columns`].
    pub fn dynamics_attribute_names(&self) -> Result<Vec<String>> {
        let names: BTreeSet<String> = self
            .attribute_columns()?
            .into_iter()
            .filter(|c| c.kind == AttributeKind::Dynamics)
            .map(|c| c.name)
            .collect();
        Ok(names.into_iter().collect())
    }

    /// Whether some group has a readable 1-D column `name` (not `@library`/`dynamics_params`).
    ///
    /// # Errors
    /// [`Error::Hdf5`] when the population group cannot be listed.
    pub fn has_attribute(&self, name: &str) -> Result<bool> {
        if !plain_name(name)
            || name == schema::LIBRARY_GROUP
            || name == schema::DYNAMICS_PARAMS_GROUP
        {
            return Ok(false);
        }
        for (_, g) in numeric_groups(self)? {
            let group = open_group(self, &g)?;
            if Column::probe(&group, name).is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Values of attribute `name` for the edges of `selection`, in selection order.
    ///
    /// `@library` columns are resolved to their strings; numbers are widened (see
    /// [`AttributeValues`]). Works with the implicit and the explicit group layout.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the selection reaches past the population's edges;
    /// [`Error::InvalidData`] naming file, population and dataset when the attribute is missing
    /// in the group of a selected edge (the message names the group), the column is shorter than
    /// needed (both lengths named), `edge_group_id` names no group, `edge_group_index` is past
    /// the column, a code is outside its `@library` table, a dataset is not a 1-D column, or the
    /// groups store strings and numbers under one name; [`Error::Hdf5`] when a read fails.
    pub fn attribute(&self, name: &str, selection: &Selection) -> Result<AttributeValues> {
        read_values(self, name, selection, Family::Attribute, Mode::Values)
    }

    /// Raw codes of the `@library` attribute `name` for `selection`, in selection order.
    ///
    /// # Errors
    /// As [`EdgePopulation::attribute`], and [`Error::InvalidData`] when the column of a selected
    /// edge's group has no `@library` table or holds a negative code.
    pub fn enumeration(&self, name: &str, selection: &Selection) -> Result<Vec<u64>> {
        match read_values(self, name, selection, Family::Attribute, Mode::Codes)? {
            AttributeValues::UInt(codes) => Ok(codes),
            other => Err(Error::invalid(
                self.location().clone(),
                format!(
                    "attribute '{name}' gave {} values instead of codes",
                    other.type_name()
                ),
            )),
        }
    }

    /// The `@library` table of attribute `name` (code `i` stands for element `i`).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when no group has the attribute, when it has no `@library` table, or
    /// when two groups have different tables for it.
    pub fn enumeration_values(&self, name: &str) -> Result<Vec<String>> {
        let mut table: Option<(String, Vec<String>)> = None;
        let mut plain_in: Option<String> = None;
        for (_, g) in numeric_groups(self)? {
            let Some(found) = find(self, &g, name, Family::Attribute)? else {
                continue;
            };
            let Some(library) = &found.library else {
                plain_in.get_or_insert(g);
                continue;
            };
            let values = library.read_library_table()?;
            match &table {
                None => table = Some((library.path.clone(), values)),
                Some((path, first)) if *first != values => {
                    return Err(Error::invalid(
                        library.at.clone(),
                        format!("differs from '{path}': attribute '{name}' has two enumerations"),
                    ));
                }
                Some(_) => {}
            }
        }
        match (table, plain_in) {
            (Some((_, values)), _) => Ok(values),
            (None, Some(g)) => Err(Error::invalid(
                self.location().dataset(&format!("{g}/{name}")),
                format!("attribute '{name}' is not an enumeration (it has no @library table)"),
            )),
            (None, None) => Err(missing(
                self,
                name,
                Family::Attribute,
                "in any group".into(),
            )),
        }
    }

    /// Values of `dynamics_params/<name>` for `selection`, in selection order.
    ///
    /// # Errors
    /// As [`EdgePopulation::attribute`].
    pub fn dynamics_attribute(&self, name: &str, selection: &Selection) -> Result<AttributeValues> {
        read_values(self, name, selection, Family::Dynamics, Mode::Values)
    }

    /// The attribute groups and how edges map to them.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `edge_group_id` / `edge_group_index` exist but are not 1-D
    /// datasets; [`Error::Hdf5`] when the population cannot be listed.
    pub fn group_layout(&self) -> Result<GroupLayout> {
        let at = self.location();
        let dtype = |name: &str| -> Result<Option<String>> {
            Ok(Column::open(self.group(), name, name, at, DtypeNames::Sonata)?.map(|c| c.dtype))
        };
        Ok(GroupLayout {
            groups: self.attribute_groups()?,
            edge_group_id: dtype(schema::EDGE_GROUP_ID)?,
            edge_group_index: dtype(schema::EDGE_GROUP_INDEX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_len_and_kind() {
        assert_eq!(OutKind::UInt.name(), "uint");
        let v = AttributeValues::Int(vec![1, 2]);
        assert_eq!(v.len(), 2);
        assert_eq!(v.type_name(), "int");
        assert!(OutKind::Str.empty().is_empty());
    }
}
