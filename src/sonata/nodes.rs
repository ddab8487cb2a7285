//! SONATA node files: populations, size, attributes, `@library` enumerations and
//! `dynamics_params`, read in bulk for a selection of node ids.
//!
//! ## Layout (sonata-format.md §1.4)
//! `/nodes/<population>/node_type_id` gives the population size (libsonata uses its length).
//! Attributes live in numeric groups (`0`, `1`, ...). Without `node_group_id` /
//! `node_group_index` (BBP files) node `i`'s attributes are row `i` of group `0`. With them
//! (bmtk, snap, libsonata tests) node `i`'s attribute `a` is
//! `<node_group_id[i]>/a[node_group_index[i]]`; libsonata refuses populations with several
//! groups, this reader follows the spec and gathers from every group.
//!
//! ## Selections
//! A node selection is a slice of node ids in any order, duplicates allowed; values come back in
//! that order (libsonata `Selection(gidvec)` semantics). The distinct rows are sorted, read with
//! merge-read-extract block reads ([`super::bulk`]), then gathered back into selection
//! order, so 10^6 cells cost a few block reads per column instead of one read per cell.
//!
//! Values are [`AttributeValues`]: integers widened to `i64` / `u64`, floats to `f64`, strings
//! (variable- or fixed-length) and `@library` columns resolved to `String`. Columns are opened
//! and read by the column type edge attributes also use (`sonata::column::Column`); node
//! messages name stored types as HDF5 describes them (`Unsigned(U4)`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::attributes::AttributeValues;
use super::column::{self, Column, DtypeNames};
use super::schema;
use crate::error::{Error, H5Context, Location, Result};

/// Name of the per-node type column whose length is the population size.
pub const NODE_TYPE_ID: &str = "node_type_id";
/// Per-node attribute group id (absent in BBP files).
pub const NODE_GROUP_ID: &str = "node_group_id";
/// Per-node row inside its attribute group (absent in BBP files).
pub const NODE_GROUP_INDEX: &str = "node_group_index";

/// An open SONATA node file (`/nodes/<population>/...`).
#[derive(Debug, Clone)]
pub struct NodeFile {
    path: PathBuf,
    file: hdf5::File,
}

impl NodeFile {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file cannot be read, [`Error::NotHdf5`] when it is not HDF5.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = super::open_hdf5_file(&path)?;
        Ok(NodeFile { path, file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of the node populations, sorted.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the file has no `/nodes` group.
    pub fn population_names(&self) -> Result<Vec<String>> {
        let at = Location::file(&self.path).dataset("/nodes");
        if !self.file.link_exists(schema::NODES_GROUP) {
            return Err(Error::invalid(
                at,
                "not a SONATA node file: no '/nodes' group",
            ));
        }
        let nodes = self.file.group(schema::NODES_GROUP).at(&at)?;
        let mut names: Vec<String> = column::ordered_member_names(&nodes)
            .at(&at)?
            .into_iter()
            .filter(|n| nodes.group(n).is_ok())
            .map(column::valid_utf8)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Opens the population `name`.
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`] when there is no such population; [`Error::InvalidData`]
    /// when `node_type_id` is missing or not a 1-D column.
    pub fn population(&self, name: &str) -> Result<NodePopulation> {
        let available = self.population_names()?;
        if !available.iter().any(|n| n == name) {
            return Err(Error::PopulationNotFound {
                at: Location::file(&self.path).dataset("/nodes"),
                name: name.to_string(),
                available,
            });
        }
        let at = Location::file(&self.path).population(name);
        let group = self
            .file
            .group(&format!("{}/{name}", schema::NODES_GROUP))
            .at(&at)?;
        let Some(types) = Column::open(
            &group,
            NODE_TYPE_ID,
            NODE_TYPE_ID,
            &at,
            DtypeNames::Descriptor,
        )?
        else {
            return Err(Error::invalid(
                at.dataset(NODE_TYPE_ID),
                "is missing: a node population needs it (its length is the population size)",
            ));
        };
        let size = types.len;
        // Whole-population work (metypes, distributions, dry run) holds at least one u64 per
        // cell: a size no machine can list (a declared but never written `node_type_id`) is
        // refused here rather than aborting an allocation later.
        if let Some(memory) = crate::memory::memory_bytes()
            && size.saturating_mul(8) > memory
        {
            return Err(Error::invalid(
                at.dataset(NODE_TYPE_ID),
                format!(
                    "has {size} rows: a list of every node id would not fit in this machine's \
                     memory (RAM + swap: {}); the file is probably corrupt",
                    crate::memory::memory_text()
                ),
            ));
        }
        let gid = Column::open(
            &group,
            NODE_GROUP_ID,
            NODE_GROUP_ID,
            &at,
            DtypeNames::Descriptor,
        )?;
        let gidx = Column::open(
            &group,
            NODE_GROUP_INDEX,
            NODE_GROUP_INDEX,
            &at,
            DtypeNames::Descriptor,
        )?;
        let mapping = match (gid, gidx) {
            (None, None) => Mapping::Implicit,
            (Some(gid), Some(gidx)) => {
                for c in [&gid, &gidx] {
                    c.check_group_mapping(size, "node")?;
                }
                Mapping::Explicit {
                    gid: Box::new(gid),
                    gidx: Box::new(gidx),
                }
            }
            (Some(c), None) | (None, Some(c)) => {
                return Err(Error::invalid(
                    at.clone(),
                    format!(
                        "has '{}' but not its companion: cannot map nodes to attribute rows",
                        c.path
                    ),
                ));
            }
        };
        let mut groups: Vec<(u64, String)> = column::ordered_member_names(&group)
            .at(&at)?
            .into_iter()
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .filter(|n| group.group(n).is_ok())
            .filter_map(|n| n.parse::<u64>().ok().map(|id| (id, n)))
            .collect();
        groups.sort();
        Ok(NodePopulation {
            name: name.to_string(),
            size,
            group,
            at,
            mapping,
            groups,
        })
    }
}

/// How nodes map to attribute rows.
#[derive(Debug, Clone)]
enum Mapping {
    /// Group `0`, row = node id.
    Implicit,
    /// `node_group_id` / `node_group_index`.
    Explicit { gid: Box<Column>, gidx: Box<Column> },
}

/// Which column family a read looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `<group>/<name>`, `@library` codes resolved.
    Attribute,
    /// `<group>/<name>` raw `@library` codes.
    Codes,
    /// `<group>/dynamics_params/<name>`.
    Dynamics,
}

/// One node population of a [`NodeFile`].
#[derive(Debug, Clone)]
pub struct NodePopulation {
    name: String,
    size: u64,
    group: hdf5::Group,
    at: Location,
    mapping: Mapping,
    groups: Vec<(u64, String)>,
}

impl NodePopulation {
    /// The population's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of nodes (length of `node_type_id`).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the population is, for messages.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// Names of the attribute groups, in numeric order.
    pub fn attribute_groups(&self) -> Vec<String> {
        self.groups.iter().map(|(_, n)| n.clone()).collect()
    }

    fn group_of(&self, name: &str) -> Result<hdf5::Group> {
        self.group
            .group(name)
            .map_err(|_| Error::invalid(self.at.dataset(name), "is not a group"))
    }

    fn names_in(&self, dynamics: bool) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        for (_, g) in &self.groups {
            let group = self.group_of(g)?;
            let (parent, path) = if dynamics {
                if !group.link_exists(schema::DYNAMICS_PARAMS_GROUP) {
                    continue;
                }
                let path = format!("{g}/{}", schema::DYNAMICS_PARAMS_GROUP);
                (
                    group
                        .group(schema::DYNAMICS_PARAMS_GROUP)
                        .map_err(|_| Error::invalid(self.at.dataset(&path), "is not a group"))?,
                    path,
                )
            } else {
                (group, g.clone())
            };
            for name in column::member_names(&parent, &self.at.dataset(&path))? {
                if name == schema::LIBRARY_GROUP || name == schema::DYNAMICS_PARAMS_GROUP {
                    continue;
                }
                // Only readable 1-D columns count; null-space datasets exist in test files.
                if Column::probe(&parent, &name).is_some() {
                    out.insert(name);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Names of the attributes: the union over groups, sorted, without `@library` and
    /// `dynamics_params`.
    ///
    /// # Errors
    /// [`Error::Hdf5`] when a group cannot be listed.
    pub fn attribute_names(&self) -> Result<Vec<String>> {
        self.names_in(false)
    }

    /// Names of the `dynamics_params` attributes: the union over groups, sorted.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute_names`].
    pub fn dynamics_attribute_names(&self) -> Result<Vec<String>> {
        self.names_in(true)
    }

    /// Whether attribute `name` exists in some group.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute_names`].
    pub fn has_attribute(&self, name: &str) -> Result<bool> {
        Ok(self.attribute_names()?.iter().any(|n| n == name))
    }

    /// Whether `dynamics_params/<name>` exists in some group.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute_names`].
    pub fn has_dynamics_attribute(&self, name: &str) -> Result<bool> {
        Ok(self.dynamics_attribute_names()?.iter().any(|n| n == name))
    }

    /// Values of attribute `name` for the nodes `ids`, in the order of `ids` (duplicates
    /// allowed). `@library` columns are resolved to their strings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when an id is not below the population size;
    /// [`Error::InvalidData`] naming the dataset when the attribute is missing in the group of a
    /// selected node, a column is too short, a code is outside its `@library` table, or groups
    /// store strings and numbers under one name; [`Error::Hdf5`] when a read fails.
    pub fn attribute(&self, name: &str, ids: &[u64]) -> Result<AttributeValues> {
        self.read(name, ids, Family::Attribute)
    }

    /// Values of `dynamics_params/<name>` for `ids`, in the order of `ids`.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute`].
    pub fn dynamics_attribute(&self, name: &str, ids: &[u64]) -> Result<AttributeValues> {
        self.read(name, ids, Family::Dynamics)
    }

    /// Raw codes of the `@library` attribute `name` for `ids`, in the order of `ids`.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute`], and [`Error::InvalidData`] when the column has no
    /// `@library` table or holds negative codes.
    pub fn enumeration(&self, name: &str, ids: &[u64]) -> Result<Vec<u64>> {
        match self.read(name, ids, Family::Codes)? {
            AttributeValues::UInt(v) => Ok(v),
            other => Err(Error::invalid(
                self.at.clone(),
                format!(
                    "attribute '{name}' gave {} values, not codes",
                    other.type_name()
                ),
            )),
        }
    }

    /// The `@library` table of attribute `name` in the first group that has one.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when no group has an `@library` table for `name`.
    pub fn enumeration_values(&self, name: &str) -> Result<Vec<String>> {
        for (_, g) in &self.groups {
            if let Some(found) = self.find(g, name, Family::Attribute)?
                && let Some(lib) = &found.library
            {
                return lib.read_library_table();
            }
        }
        Err(Error::invalid(
            self.at.clone(),
            format!("attribute '{name}' is not an enumeration (no @library table)"),
        ))
    }

    /// Strings of attribute `name` for `ids` (string and `@library` columns; numbers are an
    /// error), in the order of `ids`.
    ///
    /// # Errors
    /// As [`NodePopulation::attribute`], and [`Error::InvalidData`] when the column is numeric.
    pub fn strings(&self, name: &str, ids: &[u64]) -> Result<Vec<String>> {
        match self.attribute(name, ids)? {
            AttributeValues::Str(v) => Ok(v),
            other => Err(Error::invalid(
                self.at.dataset(name),
                format!("holds {} values but strings are needed", other.type_name()),
            )),
        }
    }

    /// Strings of attribute `name` for `ids` as codes into a table of distinct strings:
    /// `(codes, table)` with `table[codes[k]]` the value of node `ids[k]`.
    ///
    /// `@library` columns of the implicit layout come straight from their codes (no string per
    /// node is built: this is what makes me-type grouping of 10^7 cells cheap); other string
    /// columns are interned in first-seen order.
    ///
    /// # Errors
    /// As [`NodePopulation::strings`].
    pub fn interned(&self, name: &str, ids: &[u64]) -> Result<(Vec<u32>, Vec<String>)> {
        if matches!(self.mapping, Mapping::Implicit)
            && let Some(found) = self.find("0", name, Family::Attribute)?
            && let Some(lib) = &found.library
        {
            if let Some(&bad) = ids.iter().find(|&&id| id >= self.size) {
                return Err(Error::InvalidArgument(format!(
                    "{}: node id {bad} is out of range: the population has {}",
                    self.at,
                    crate::words::plural(self.size, "node")
                )));
            }
            let table = lib.read_library_table()?;
            let codes = match found.read_rows(ids, Family::Codes, name)? {
                AttributeValues::UInt(v) => v,
                _ => Vec::new(),
            };
            let mut out = Vec::with_capacity(codes.len());
            for (k, code) in codes.into_iter().enumerate() {
                match u32::try_from(code) {
                    Ok(c) if (c as usize) < table.len() => out.push(c),
                    _ => {
                        return Err(Error::invalid(
                            found.column.at.clone(),
                            format!(
                                "code {code} of node {} is out of range: '{}' has {} values",
                                ids[k],
                                lib.path,
                                table.len()
                            ),
                        ));
                    }
                }
            }
            return Ok((out, table));
        }
        let strings = self.strings(name, ids)?;
        let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut table = Vec::new();
        let mut codes = Vec::with_capacity(strings.len());
        for s in strings {
            let next = table.len() as u32;
            let code = *index.entry(s).or_insert_with_key(|k| {
                table.push(k.clone());
                next
            });
            codes.push(code);
        }
        Ok((codes, table))
    }

    fn find(&self, gname: &str, name: &str, family: Family) -> Result<Option<Found>> {
        if !column::plain_name(name) {
            return Ok(None);
        }
        let group = self.group_of(gname)?;
        if family == Family::Dynamics {
            if !group.link_exists(schema::DYNAMICS_PARAMS_GROUP) {
                return Ok(None);
            }
            let path = format!("{gname}/{}", schema::DYNAMICS_PARAMS_GROUP);
            let dynamics = group
                .group(schema::DYNAMICS_PARAMS_GROUP)
                .map_err(|_| Error::invalid(self.at.dataset(&path), "is not a group"))?;
            let column = Column::open(
                &dynamics,
                name,
                &format!("{path}/{name}"),
                &self.at,
                DtypeNames::Descriptor,
            )?;
            return Ok(column.map(|column| Found {
                column,
                library: None,
            }));
        }
        if name == schema::LIBRARY_GROUP || name == schema::DYNAMICS_PARAMS_GROUP {
            return Ok(None);
        }
        let Some(column) = Column::open(
            &group,
            name,
            &format!("{gname}/{name}"),
            &self.at,
            DtypeNames::Descriptor,
        )?
        else {
            return Ok(None);
        };
        let library = if group.link_exists(schema::LIBRARY_GROUP) {
            let path = format!("{gname}/{}", schema::LIBRARY_GROUP);
            let lib = group
                .group(schema::LIBRARY_GROUP)
                .map_err(|_| Error::invalid(self.at.dataset(&path), "is not a group"))?;
            Column::open(
                &lib,
                name,
                &format!("{path}/{name}"),
                &self.at,
                DtypeNames::Descriptor,
            )?
        } else {
            None
        };
        Ok(Some(Found { column, library }))
    }

    fn missing(&self, name: &str, family: Family, detail: &str) -> Error {
        let noun = match family {
            Family::Dynamics => "dynamics attribute",
            _ => "attribute",
        };
        Error::invalid(self.at.clone(), format!("no {noun} '{name}' {detail}"))
    }

    fn read(&self, name: &str, ids: &[u64], family: Family) -> Result<AttributeValues> {
        if let Some(&bad) = ids.iter().find(|&&id| id >= self.size) {
            return Err(Error::InvalidArgument(format!(
                "{}: node id {bad} is out of range: the population has {}",
                self.at,
                crate::words::plural(self.size, "node")
            )));
        }
        match &self.mapping {
            Mapping::Implicit => {
                let Some(found) = self.find("0", name, family)? else {
                    return Err(self.missing(name, family, "in group '0'"));
                };
                found.read_rows(ids, family, name)
            }
            Mapping::Explicit { gid, gidx } => {
                // Read the mapping for the distinct ids only, then bucket positions by group.
                let gids = gather_u64(gid, ids)?;
                let rows = gather_u64(gidx, ids)?;
                let mut by_group: Vec<(u64, Vec<usize>)> = Vec::new();
                for (pos, &g) in gids.iter().enumerate() {
                    match by_group.iter_mut().find(|(id, _)| *id == g) {
                        Some((_, v)) => v.push(pos),
                        None => by_group.push((g, vec![pos])),
                    }
                }
                if by_group.is_empty() {
                    // Empty selection: the kind comes from the first group with the column.
                    for (_, g) in &self.groups {
                        if let Some(found) = self.find(g, name, family)? {
                            return found.read_rows(&[], family, name);
                        }
                    }
                    return Err(self.missing(name, family, "in any group"));
                }
                let mut out: Option<AttributeValues> = None;
                for (g, positions) in by_group {
                    let Some((_, gname)) = self.groups.iter().find(|(id, _)| *id == g) else {
                        return Err(Error::invalid(
                            gid.at.clone(),
                            format!(
                                "node {} has group id {g} but there is no group '{g}'",
                                ids[positions[0]]
                            ),
                        ));
                    };
                    let Some(found) = self.find(gname, name, family)? else {
                        return Err(self.missing(
                            name,
                            family,
                            &format!(
                                "in group '{gname}', which node {} belongs to",
                                ids[positions[0]]
                            ),
                        ));
                    };
                    let group_rows: Vec<u64> = positions.iter().map(|&p| rows[p]).collect();
                    let values = found.read_rows(&group_rows, family, name)?;
                    out = Some(match out.take() {
                        None => {
                            let mut all = empty_like(&values, ids.len());
                            place(&mut all, values, &positions, &found.column)?;
                            all
                        }
                        Some(mut all) => {
                            place(&mut all, values, &positions, &found.column)?;
                            all
                        }
                    });
                }
                out.ok_or_else(|| self.missing(name, family, "in any group"))
            }
        }
    }
}

/// A vector of `n` default values of the kind of `like`.
fn empty_like(like: &AttributeValues, n: usize) -> AttributeValues {
    match like {
        AttributeValues::Int(_) => AttributeValues::Int(vec![0; n]),
        AttributeValues::UInt(_) => AttributeValues::UInt(vec![0; n]),
        AttributeValues::Float(_) => AttributeValues::Float(vec![0.0; n]),
        AttributeValues::Str(_) => AttributeValues::Str(vec![String::new(); n]),
    }
}

/// Writes `values[k]` to `out[positions[k]]`, widening numbers when groups differ.
fn place(
    out: &mut AttributeValues,
    values: AttributeValues,
    positions: &[usize],
    column: &Column,
) -> Result<()> {
    use AttributeValues as V;
    // Widen `out` first when this group's kind is wider (Float over Int over UInt).
    let widen_out = matches!(
        (&*out, &values),
        (V::Int(_) | V::UInt(_), V::Float(_)) | (V::UInt(_), V::Int(_))
    );
    if widen_out {
        *out = match std::mem::replace(out, V::UInt(Vec::new())) {
            V::UInt(v) if matches!(values, V::Int(_)) => {
                V::Int(v.into_iter().map(|x| x as i64).collect())
            }
            V::UInt(v) => V::Float(v.into_iter().map(|x| x as f64).collect()),
            V::Int(v) => V::Float(v.into_iter().map(|x| x as f64).collect()),
            other => other,
        };
    }
    match (out, values) {
        (V::Int(o), V::Int(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x),
        (V::UInt(o), V::UInt(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x),
        (V::Float(o), V::Float(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x),
        (V::Str(o), V::Str(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x),
        (V::Int(o), V::UInt(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x as i64),
        (V::Float(o), V::Int(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x as f64),
        (V::Float(o), V::UInt(v)) => positions.iter().zip(v).for_each(|(&p, x)| o[p] = x as f64),
        _ => {
            return Err(Error::invalid(
                column.at.clone(),
                "holds strings in one group but numbers in another",
            ));
        }
    }
    Ok(())
}

/// Reads `column` at `ids` as non-negative integers, in the order of `ids`.
fn gather_u64(column: &Column, ids: &[u64]) -> Result<Vec<u64>> {
    let values = column.read_rows(ids)?;
    let out: Option<Vec<u64>> = match values {
        AttributeValues::UInt(v) => Some(v),
        AttributeValues::Int(v) => v.into_iter().map(|x| u64::try_from(x).ok()).collect(),
        AttributeValues::Float(v) => v
            .into_iter()
            .map(|x| (x >= 0.0 && x.fract() == 0.0 && x < 1.8e19).then_some(x as u64))
            .collect(),
        AttributeValues::Str(_) => None,
    };
    out.ok_or_else(|| {
        Error::invalid(
            column.at.clone(),
            "must hold non-negative integers but holds other values",
        )
    })
}

/// One group's column of an attribute, and its `@library` table when it has one.
struct Found {
    column: Column,
    library: Option<Column>,
}

impl Found {
    fn read_rows(&self, rows: &[u64], family: Family, name: &str) -> Result<AttributeValues> {
        let values = self.column.read_rows(rows)?;
        match (&self.library, family) {
            (None, Family::Codes) => Err(Error::invalid(
                self.column.at.clone(),
                format!("attribute '{name}' is not an enumeration (it has no @library table)"),
            )),
            (None, _) => Ok(values),
            (Some(_), Family::Codes) => match values {
                AttributeValues::UInt(v) => Ok(AttributeValues::UInt(v)),
                AttributeValues::Int(v) => v
                    .into_iter()
                    .map(|x| u64::try_from(x).ok())
                    .collect::<Option<Vec<u64>>>()
                    .map(AttributeValues::UInt)
                    .ok_or_else(|| Error::invalid(self.column.at.clone(), "holds negative codes")),
                _ => Err(Error::invalid(
                    self.column.at.clone(),
                    "the codes of an @library attribute must be integers",
                )),
            },
            (Some(lib), _) => {
                let table = lib.read_library_table()?;
                let codes: Vec<i128> = match values {
                    AttributeValues::UInt(v) => v.into_iter().map(i128::from).collect(),
                    AttributeValues::Int(v) => v.into_iter().map(i128::from).collect(),
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
                let mut out = Vec::with_capacity(codes.len());
                for (k, code) in codes.into_iter().enumerate() {
                    let Some(s) = usize::try_from(code).ok().and_then(|c| table.get(c)) else {
                        return Err(Error::invalid(
                            self.column.at.clone(),
                            format!(
                                "code {code} at row {} is out of range: '{}' has {} values",
                                rows[k],
                                lib.path,
                                table.len()
                            ),
                        ));
                    };
                    out.push(s.clone());
                }
                Ok(AttributeValues::Str(out))
            }
        }
    }
}
