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

use std::collections::BTreeSet;

use hdf5::H5Type;
use hdf5::types::TypeDescriptor;
use serde::Serialize;

use super::bulk::plan_blocks;
use super::bulk::{MERGE_GAP_BYTES, NUMERIC_MAX_BLOCK_ROWS, read_range_into, read_ranges};
use super::column::{self, Class, plain_name};
use super::schema;
use crate::error::{Error, H5Context, Location, Result};
use crate::selection::Selection;
use crate::sonata::EdgePopulation;

/// Numeric rows closer than this share one block read (4 MiB of 8-byte values).
const NUMERIC_GAP_ROWS: u64 = MERGE_GAP_BYTES / 8;

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

/// The dtype names of [`AttributeColumnInfo::dtype`].
fn dtype_name(descriptor: &TypeDescriptor) -> String {
    match descriptor {
        TypeDescriptor::Integer(s) => format!("int{}", *s as usize * 8),
        TypeDescriptor::Unsigned(s) => format!("uint{}", *s as usize * 8),
        TypeDescriptor::Float(s) => format!("float{}", *s as usize * 8),
        TypeDescriptor::Boolean => "bool".into(),
        TypeDescriptor::Enum(e) => format!("enum({})", dtype_name(&e.base_type())),
        TypeDescriptor::VarLenAscii
        | TypeDescriptor::VarLenUnicode
        | TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_) => "string".into(),
        TypeDescriptor::Compound(_) => "compound".into(),
        TypeDescriptor::FixedArray(..) => "array".into(),
        TypeDescriptor::VarLenArray(_) => "vlen array".into(),
        TypeDescriptor::Reference(_) => "reference".into(),
    }
}

/// A 1-D dataset of an edge population, left in the file.
#[derive(Debug, Clone)]
struct Column {
    ds: hdf5::Dataset,
    at: Location,
    /// Path relative to the population (`0/conductance`), for messages.
    path: String,
    len: u64,
    class: Class,
    dtype: String,
}

impl Column {
    /// Opens `parent/name`; `Ok(None)` when there is no such link.
    ///
    /// Errors when the link is not a dataset or the dataset is not 1-D.
    fn open(
        parent: &hdf5::Group,
        name: &str,
        path: &str,
        pop_at: &Location,
    ) -> Result<Option<Column>> {
        Ok(
            column::open_1d(parent, name, path, pop_at)?.map(|c| Column {
                dtype: c
                    .descriptor
                    .as_ref()
                    .map_or_else(|| "unsupported".to_string(), dtype_name),
                len: c.len,
                ds: c.ds,
                at: c.at,
                path: path.to_string(),
                class: c.class,
            }),
        )
    }

    /// `(dtype, rows)` of `parent/name` when it is a 1-D dataset; `None` otherwise (no error).
    fn probe(parent: &hdf5::Group, name: &str) -> Option<(String, u64)> {
        if !plain_name(name) || !parent.link_exists(name) {
            return None;
        }
        let ds = parent.dataset(name).ok()?;
        let space = ds.space().ok()?;
        let shape = space.shape();
        if space.is_null() || shape.len() != 1 {
            return None;
        }
        let dtype = match ds.dtype().and_then(|t| t.to_descriptor()) {
            Ok(d) => dtype_name(&d),
            Err(_) => "unsupported".to_string(),
        };
        Some((dtype, shape[0] as u64))
    }

    fn is_integral(&self) -> bool {
        matches!(self.class, Class::Int | Class::UInt | Class::Float)
    }

    fn out_kind(&self) -> Result<OutKind> {
        match self.class {
            Class::Int => Ok(OutKind::Int),
            Class::UInt => Ok(OutKind::UInt),
            Class::Float => Ok(OutKind::Float),
            Class::VarStr { .. } | Class::FixedStr { .. } => Ok(OutKind::Str),
            Class::Other => Err(Error::invalid(
                self.at.clone(),
                format!("holds {}, which cannot be read as an attribute", self.dtype),
            )),
        }
    }

    /// Errors unless `row` exists.
    fn check_row(&self, row: u64, why: impl FnOnce() -> String) -> Result<()> {
        if row >= self.len {
            return Err(Error::invalid(
                self.at.clone(),
                format!(
                    "has {} but row {row} is needed ({})",
                    crate::words::plural(self.len, "row"),
                    why()
                ),
            ));
        }
        Ok(())
    }

    /// Reads the rows of `ranges` (sorted, non-overlapping), concatenated.
    fn read_ranges(&self, ranges: &[(u64, u64)]) -> Result<AttributeValues> {
        match self.out_kind()? {
            OutKind::Int => self.read_numeric::<i64>(ranges).map(AttributeValues::Int),
            OutKind::UInt => self.read_numeric::<u64>(ranges).map(AttributeValues::UInt),
            OutKind::Float => self.read_numeric::<f64>(ranges).map(AttributeValues::Float),
            OutKind::Str => self.read_strings(ranges).map(AttributeValues::Str),
        }
    }

    fn read_numeric<T: H5Type + bytemuck::Pod + Default>(
        &self,
        ranges: &[(u64, u64)],
    ) -> Result<Vec<T>> {
        read_ranges(&self.ds, ranges).at(&self.at)
    }

    fn read_strings(&self, ranges: &[(u64, u64)]) -> Result<Vec<String>> {
        column::read_strings(&self.ds, &self.at, self.class, &self.dtype, ranges)
    }

    /// Reads rows `start .. start + out.len()` as non-negative integers.
    ///
    /// Integers of any width, and floats holding integral values, are accepted.
    fn read_integral_range_into(&self, start: u64, out: &mut [u64]) -> Result<()> {
        match self.class {
            Class::UInt => read_range_into(&self.ds, start, out).at(&self.at),
            Class::Int => {
                let signed: &mut [i64] = bytemuck::cast_slice_mut(out);
                read_range_into(&self.ds, start, signed).at(&self.at)?;
                match signed.iter().position(|&v| v < 0) {
                    Some(pos) => Err(Error::invalid(
                        self.at.clone(),
                        format!(
                            "negative value {} at row {}",
                            signed[pos],
                            start + pos as u64
                        ),
                    )),
                    None => Ok(()),
                }
            }
            Class::Float => {
                let floats: &mut [f64] = bytemuck::cast_slice_mut(out);
                read_range_into(&self.ds, start, floats).at(&self.at)?;
                for (pos, slot) in out.iter_mut().enumerate() {
                    let v = f64::from_bits(*slot);
                    // 2^64 is exactly representable; anything below it converts exactly.
                    if !(v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0) {
                        return Err(Error::invalid(
                            self.at.clone(),
                            format!(
                                "value {v} at row {} is not a non-negative integer",
                                start + pos as u64
                            ),
                        ));
                    }
                    *slot = v as u64;
                }
                Ok(())
            }
            _ => Err(Error::invalid(
                self.at.clone(),
                format!("holds {} but integers are needed", self.dtype),
            )),
        }
    }

    /// Reads the rows of `ranges` (sorted, non-overlapping) as non-negative integers into `out`
    /// (cleared first), using `buffer` for block reads.
    fn read_integral_ranges_into(
        &self,
        ranges: &[(u64, u64)],
        out: &mut Vec<u64>,
        buffer: &mut Vec<u64>,
    ) -> Result<()> {
        out.clear();
        for block in plan_blocks(ranges, NUMERIC_GAP_ROWS, NUMERIC_MAX_BLOCK_ROWS) {
            let n = (block.end - block.start) as usize;
            if block.parts.len() == 1 {
                let filled = out.len();
                out.resize(filled + n, 0);
                self.read_integral_range_into(block.start, &mut out[filled..])?;
                continue;
            }
            buffer.resize(n, 0);
            self.read_integral_range_into(block.start, buffer)?;
            for &(a, b) in &block.parts {
                out.extend_from_slice(
                    &buffer[(a - block.start) as usize..(b - block.start) as usize],
                );
            }
        }
        Ok(())
    }

    fn read_integral_ranges(&self, ranges: &[(u64, u64)]) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        column::reserve(&mut out, flat_len(ranges), &self.at)?;
        self.read_integral_ranges_into(ranges, &mut out, &mut Vec::new())?;
        Ok(out)
    }
}

fn flat_len(ranges: &[(u64, u64)]) -> u64 {
    ranges
        .iter()
        .fold(0u64, |n, &(a, b)| n.saturating_add(b.saturating_sub(a)))
}

/// Numeric attribute groups of a population: `(id, name)`, in numeric order.
fn numeric_groups(pop: &EdgePopulation) -> Result<Vec<(u64, String)>> {
    let names = crate::sonata::column::ordered_member_names(pop.group()).at(pop.location())?;
    let mut groups: Vec<(u64, String)> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|n| n.parse::<u64>().ok().map(|id| (id, n)))
        .filter(|(_, n)| pop.group().group(n).is_ok())
        .collect();
    groups.sort();
    Ok(groups)
}

fn open_group(pop: &EdgePopulation, path: &str) -> Result<hdf5::Group> {
    let at = pop.location().dataset(path);
    pop.group()
        .group(path)
        .map_err(|_| Error::invalid(at, "is not a group"))
}

/// Opens the optional subgroup `name` of `group` (`@library`, `dynamics_params`).
fn subgroup(
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
enum Mapping {
    /// Group `0`, row = edge id.
    Implicit,
    /// `edge_group_id` / `edge_group_index`.
    Explicit { gid: Box<Column>, gidx: Box<Column> },
}

impl Mapping {
    fn of(pop: &EdgePopulation) -> Result<Mapping> {
        let at = pop.location();
        let gid = Column::open(
            pop.group(),
            schema::EDGE_GROUP_ID,
            schema::EDGE_GROUP_ID,
            at,
        )?;
        let gidx = Column::open(
            pop.group(),
            schema::EDGE_GROUP_INDEX,
            schema::EDGE_GROUP_INDEX,
            at,
        )?;
        match (gid, gidx) {
            (None, None) => Ok(Mapping::Implicit),
            (Some(gid), Some(gidx)) => {
                for c in [&gid, &gidx] {
                    if !c.is_integral() {
                        return Err(Error::invalid(
                            c.at.clone(),
                            format!("must hold integers but holds {}", c.dtype),
                        ));
                    }
                    if c.len != pop.size() {
                        return Err(Error::invalid(
                            c.at.clone(),
                            format!(
                                "has {} but the population has {}",
                                crate::words::plural(c.len, "row"),
                                crate::words::plural(pop.size(), "edge")
                            ),
                        ));
                    }
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
struct Placement {
    id: u64,
    name: String,
    pairs: Vec<(u64, usize)>,
}

/// Edge id at position `pos` of a selection (for messages).
fn edge_at(selection: &Selection, pos: usize) -> u64 {
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
fn place(
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
fn row_ranges(pairs: &[(u64, usize)], out: &mut Vec<(u64, u64)>) {
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
fn scatter<T: Clone>(out: &mut [T], values: &[T], pairs: &[(u64, usize)]) {
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

/// Which column family a read looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
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
enum Mode {
    /// Values; `@library` codes resolved to strings.
    Values,
    /// Raw `@library` codes (the column must have a library).
    Codes,
}

/// One group's column of an attribute, and its `@library` column when it has one.
struct Found {
    column: Column,
    library: Option<Column>,
}

impl Found {
    fn out_kind(&self, mode: Mode, name: &str) -> Result<OutKind> {
        match (mode, &self.library) {
            (Mode::Values, Some(_)) => Ok(OutKind::Str),
            (Mode::Values, None) => self.column.out_kind(),
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
        let table = read_library(library)?;
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

/// Reads a whole `@library` table.
fn read_library(library: &Column) -> Result<Vec<String>> {
    match library.read_ranges(&[(0, library.len)])? {
        AttributeValues::Str(values) => Ok(values),
        _ => Err(Error::invalid(
            library.at.clone(),
            format!(
                "an @library table must hold strings but holds {}",
                library.dtype
            ),
        )),
    }
}

/// Looks up `name` of `family` in group `gname`; `Ok(None)` when the group has no such column.
fn find(pop: &EdgePopulation, gname: &str, name: &str, family: Family) -> Result<Option<Found>> {
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
            let Some(column) = Column::open(&group, name, &format!("{gname}/{name}"), at)? else {
                return Ok(None);
            };
            let library = match subgroup(pop, &group, gname, schema::LIBRARY_GROUP)? {
                Some(lib) => Column::open(
                    &lib,
                    name,
                    &format!("{gname}/{}/{name}", schema::LIBRARY_GROUP),
                    at,
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
                Column::open(&dynamics, name, &path, at)?.map(|column| Found {
                    column,
                    library: None,
                }),
            )
        }
    }
}

fn missing(pop: &EdgePopulation, name: &str, family: Family, detail: String) -> Error {
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
fn read_values(
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
        let Some((dtype, rows)) = Column::probe(&group, name) else {
            continue;
        };
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
            let Some((dtype, rows)) = Column::probe(&dynamics, &name) else {
                continue;
            };
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
            let values = read_library(library)?;
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
            Ok(Column::open(self.group(), name, name, at)?.map(|c| c.dtype))
        };
        Ok(GroupLayout {
            groups: self.attribute_groups()?,
            edge_group_id: dtype(schema::EDGE_GROUP_ID)?,
            edge_group_index: dtype(schema::EDGE_GROUP_INDEX)?,
        })
    }
}

/// Streams the bmtk `nsyns` column aligned with edge ids (one edge row may stand for several
/// synapses, spec §1.1).
///
/// Edges whose group has no `nsyns` column count as 1 synapse (bmtk's meaning of a row). Buffers
/// are kept between calls, so streaming a population allocates only once per chunk size.
#[derive(Debug)]
pub struct NsynsReader {
    at: Location,
    size: u64,
    source: NsynsSource,
    ids: Vec<u64>,
    rows: Vec<u64>,
    pairs: Vec<(u64, usize)>,
    ranges: Vec<(u64, u64)>,
    values: Vec<u64>,
    buffer: Vec<u64>,
}

#[derive(Debug)]
enum NsynsSource {
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
        let mut columns = Vec::new();
        for (id, g) in numeric_groups(pop)? {
            let group = open_group(pop, &g)?;
            let path = format!("{g}/{}", schema::NSYNS);
            let column = Column::open(&group, schema::NSYNS, &path, pop.location())?;
            if let Some(c) = column.as_ref().filter(|c| !c.is_integral()) {
                return Err(Error::invalid(
                    c.at.clone(),
                    format!("holds {} but a synapse count must be a number", c.dtype),
                ));
            }
            columns.push((id, g, column));
        }
        if columns.iter().all(|(_, _, c)| c.is_none()) {
            return Ok(None);
        }
        let source = match Mapping::of(pop)? {
            Mapping::Implicit => NsynsSource::Implicit(
                columns
                    .into_iter()
                    .find(|(_, g, _)| g == "0")
                    .and_then(|(_, _, c)| c),
            ),
            Mapping::Explicit { gid, gidx } => NsynsSource::Explicit {
                gid,
                gidx,
                groups: columns,
            },
        };
        Ok(Some(NsynsReader {
            at: pop.location().clone(),
            size: pop.size(),
            source,
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
        match &self.source {
            NsynsSource::Implicit(None) => {
                out.fill(1);
                Ok(())
            }
            NsynsSource::Implicit(Some(column)) => {
                column.check_row(end - 1, || {
                    format!("edge {} needs it; row = edge id", end - 1)
                })?;
                column.read_integral_range_into(first_edge, out)
            }
            NsynsSource::Explicit { gid, gidx, groups } => {
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

    #[test]
    fn dtype_names() {
        use hdf5::types::{FloatSize, IntSize};
        assert_eq!(dtype_name(&TypeDescriptor::Unsigned(IntSize::U4)), "uint32");
        assert_eq!(dtype_name(&TypeDescriptor::Integer(IntSize::U1)), "int8");
        assert_eq!(dtype_name(&TypeDescriptor::Float(FloatSize::U4)), "float32");
        assert_eq!(dtype_name(&TypeDescriptor::VarLenUnicode), "string");
        assert_eq!(dtype_name(&TypeDescriptor::FixedAscii(4)), "string");
    }

    #[test]
    fn values_len_and_kind() {
        assert_eq!(OutKind::UInt.name(), "uint");
        let v = AttributeValues::Int(vec![1, 2]);
        assert_eq!(v.len(), 2);
        assert_eq!(v.type_name(), "int");
        assert!(OutKind::Str.empty().is_empty());
    }
}
