//! The one column type of edge and node populations: a 1-D dataset opened and classified
//! ([`Column`], [`Class`]), read over row ranges or at rows in any order, as
//! [`AttributeValues`] or as non-negative integers (group mappings, `nsyns`); and the helpers
//! every reader of a population shares (member listings in name order, valid UTF-8, fallible
//! reservations, refusing columns that declare more rows than the file stores).
//!
//! Edge attributes ([`super::attributes`]) and node attributes ([`super::nodes`]) differ in where
//! a value is (groups, `@library`, `dynamics_params`), not in how a column is read: that is here.
//! Numeric columns go through [`super::bulk::read_ranges`]; string columns are read in blocks
//! (variable- or fixed-length, ASCII or UTF-8).

use hdf5::H5Type;
use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5_sys::h5t::{H5T_str_t, H5Tget_strpad};

use super::attributes::AttributeValues;
use super::bulk::{
    MERGE_GAP_BYTES, NUMERIC_MAX_BLOCK_ROWS, plan_blocks, read_hyperslab_bytes, read_range_into,
    read_ranges,
};
use crate::error::{Error, H5Context, Location, Result};

/// Numeric rows closer than this share one block read (4 MiB of 8-byte values).
const NUMERIC_GAP_ROWS: u64 = MERGE_GAP_BYTES / 8;

/// String rows closer than this share one block read (each row read becomes a `String`).
const STRING_GAP_ROWS: u64 = 4096;
/// Largest string block read at once.
const STRING_MAX_BLOCK_ROWS: u64 = 1 << 16;

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Read as `i64` (signed integers, signed enums).
    Int,
    /// Read as `u64` (unsigned integers, unsigned enums, booleans).
    UInt,
    /// Read as `f64`.
    Float,
    /// Variable-length strings.
    VarStr { utf8: bool },
    /// Fixed-length strings of `size` bytes.
    FixedStr { size: usize },
    /// Anything else (compound, arrays, references...): listed, not readable.
    Other,
}

/// A 1-D dataset of a population, opened and classified: what the edge attribute columns and
/// the node columns hold of it.
pub(crate) struct Opened1d {
    pub(crate) ds: hdf5::Dataset,
    pub(crate) at: Location,
    pub(crate) len: u64,
    pub(crate) class: Class,
    /// The stored type, `None` when HDF5 cannot describe it.
    pub(crate) descriptor: Option<TypeDescriptor>,
}

/// `s` as valid UTF-8: invalid bytes replaced by U+FFFD.
///
/// The `hdf5` crate builds `String`s from the bytes HDF5 gives (object names, variable-length
/// strings) without checking them; a damaged file turns those into invalid UTF-8, which would be
/// printed raw. Every name and string read from a file goes through here first.
pub(crate) fn valid_utf8(s: String) -> String {
    if std::str::from_utf8(s.as_bytes()).is_ok() {
        s
    } else {
        String::from_utf8_lossy(s.as_bytes()).into_owned()
    }
}

/// The names of the members of `group` in name order. `hdf5::Group::member_names` lists them
/// in HDF5's "native" order, which is the order of creation for compact groups in HDF5 2.x (it
/// was name order with 1.10): every listing that users see, or that decides an output's
/// order, goes through here so that it does not depend on the library's release.
pub(crate) fn ordered_member_names(group: &hdf5::Group) -> hdf5::Result<Vec<String>> {
    group.member_names_by(hdf5::IndexType::Name, hdf5::IterationOrder::Increasing)
}

/// The names of the members of `group` in name order ([`ordered_member_names`]), as valid
/// UTF-8 ([`valid_utf8`]).
pub(crate) fn member_names(group: &hdf5::Group, at: &Location) -> Result<Vec<String>> {
    Ok(ordered_member_names(group)
        .at(at)?
        .into_iter()
        .map(valid_utf8)
        .collect())
}

/// Whether `name` is a plain member name (not empty, no `/`, not `.`).
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && !name.contains('/')
}

/// Opens `parent/name` (`path`, relative to the population, names it in messages); `Ok(None)`
/// when there is no such link.
///
/// # Errors
/// [`Error::InvalidData`] when the link is not a dataset or the dataset is not 1-D.
pub(crate) fn open_1d(
    parent: &hdf5::Group,
    name: &str,
    path: &str,
    pop_at: &Location,
) -> Result<Option<Opened1d>> {
    if !plain_name(name) || !parent.link_exists(name) {
        return Ok(None);
    }
    let at = pop_at.dataset(path);
    let ds = parent
        .dataset(name)
        .map_err(|_| Error::invalid(at.clone(), "is not a dataset"))?;
    let space = ds.space().at(&at)?;
    if space.is_null() {
        return Err(Error::invalid(
            at,
            "has a null dataspace (no values), not a 1-D column",
        ));
    }
    let shape = space.shape();
    if shape.len() != 1 {
        return Err(Error::invalid(
            at,
            format!("must be a 1-D column but has shape {shape:?}"),
        ));
    }
    let descriptor = ds.dtype().and_then(|t| t.to_descriptor()).ok();
    let class = descriptor.as_ref().map_or(Class::Other, classify);
    let len = shape[0] as u64;
    check_stored_rows(&ds, len, class, &at)?;
    Ok(Some(Opened1d {
        len,
        class,
        descriptor,
        ds,
        at,
    }))
}

/// Refuses a column that declares more rows than the file stores, before anything is sized by
/// its length: a dataspace damaged into 10^12 rows, or a dataset declared but never (or only
/// partly) written, would otherwise be read as fill values for hours, or allocated at once and
/// abort. The id columns have the same check (`edges::check_storage`).
///
/// - contiguous and compact data: the stored bytes must cover every row, and contiguous data must
///   lie inside the file (its address is checked against the file size);
/// - chunked data: the allocated chunks must cover every row (compressed or not: a chunk never
///   written reads as fill values), and their bytes must fit in the file;
/// - virtual datasets are not checked (their data is in other files).
///
/// Variable-length strings (and types this crate does not read) count one byte per row: their
/// stored size per row depends on the file's address size.
pub(crate) fn check_stored_rows(
    ds: &hdf5::Dataset,
    len: u64,
    class: Class,
    at: &Location,
) -> Result<()> {
    use hdf5::dataset::Layout;
    if len == 0 {
        return Ok(());
    }
    let layout = ds.layout();
    if layout == Layout::Virtual {
        return Ok(());
    }
    let row_bytes = match class {
        Class::Int | Class::UInt | Class::Float | Class::FixedStr { .. } => {
            ds.dtype().map_or(1, |t| t.size() as u64).max(1)
        }
        Class::VarStr { .. } | Class::Other => 1,
    };
    let needed = len.saturating_mul(row_bytes);
    let stored = ds.storage_size();
    let file_size = ds.file().map_or(u64::MAX, |f| f.size());
    let refuse = |what: String| {
        Err(Error::invalid(
            at.clone(),
            format!(
                "declares {len} rows ({needed} bytes) but {what}: the data was never written or \
                 the file is damaged or incomplete"
            ),
        ))
    };
    if stored > file_size {
        return refuse(format!(
            "claims {stored} bytes of storage in a file of {file_size} bytes"
        ));
    }
    match layout {
        Layout::Chunked => {
            let chunk_rows = ds.chunk().and_then(|c| c.first().copied()).unwrap_or(0) as u64;
            let chunks = ds.num_chunks().unwrap_or(0) as u64;
            if chunks.saturating_mul(chunk_rows) < len {
                return refuse(format!(
                    "the file stores {chunks} chunks of {chunk_rows} rows"
                ));
            }
        }
        _ => {
            if stored < needed {
                return refuse(format!("the file stores {stored} bytes of them"));
            }
            if let Some(offset) = ds.offset()
                && offset.saturating_add(needed) > file_size
            {
                return refuse(format!(
                    "they would lie at bytes {offset}..{} of a file of {file_size} bytes",
                    offset.saturating_add(needed)
                ));
            }
        }
    }
    Ok(())
}

/// How values of the stored type `descriptor` are read.
pub(crate) fn classify(descriptor: &TypeDescriptor) -> Class {
    match descriptor {
        TypeDescriptor::Integer(_) => Class::Int,
        TypeDescriptor::Unsigned(_) | TypeDescriptor::Boolean => Class::UInt,
        TypeDescriptor::Enum(e) if e.signed => Class::Int,
        TypeDescriptor::Enum(_) => Class::UInt,
        TypeDescriptor::Float(_) => Class::Float,
        TypeDescriptor::VarLenUnicode => Class::VarStr { utf8: true },
        TypeDescriptor::VarLenAscii => Class::VarStr { utf8: false },
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => {
            Class::FixedStr { size: *n }
        }
        _ => Class::Other,
    }
}

/// Reserves room for `n` more values in `v`, or says that they do not fit in memory: for
/// buffers sized by what a file declares.
pub(crate) fn reserve<T>(v: &mut Vec<T>, n: u64, at: &Location) -> Result<()> {
    usize::try_from(n)
        .ok()
        .and_then(|n| v.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            Error::invalid(
                at.clone(),
                format!(
                    "a read of {n} values of {} bytes does not fit in memory",
                    std::mem::size_of::<T>()
                ),
            )
        })
}

/// Reads the rows of `ranges` (sorted, non-overlapping) of the string column `ds`.
pub(crate) fn read_strings(
    ds: &hdf5::Dataset,
    at: &Location,
    class: Class,
    dtype: &str,
    ranges: &[(u64, u64)],
) -> Result<Vec<String>> {
    let total: u64 = ranges.iter().map(|&(a, b)| b.saturating_sub(a)).sum();
    // The rows come from the file (a column's length, index ranges): reserve fallibly, so that
    // a length no machine can hold is an error, not an abort.
    let mut out: Vec<String> = Vec::new();
    reserve(&mut out, total, at)?;
    for block in plan_blocks(ranges, STRING_GAP_ROWS, STRING_MAX_BLOCK_ROWS) {
        let mut strings = read_string_block(ds, at, class, dtype, block.start, block.end)?;
        if block.parts.len() == 1 {
            out.append(&mut strings);
            continue;
        }
        for &(a, b) in &block.parts {
            let (a, b) = ((a - block.start) as usize, (b - block.start) as usize);
            out.extend(strings[a..b].iter_mut().map(std::mem::take));
        }
    }
    Ok(out)
}

fn read_string_block(
    ds: &hdf5::Dataset,
    at: &Location,
    class: Class,
    dtype: &str,
    start: u64,
    end: u64,
) -> Result<Vec<String>> {
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let range = start as usize..end as usize;
    if let Class::VarStr { .. } = class {
        // HDF5 may hang on a damaged global heap, where these strings are.
        super::global_heap::check(at)?;
    }
    match class {
        Class::VarStr { utf8: true } => {
            let values = ds.read_slice_1d::<VarLenUnicode, _>(range).at(at)?;
            Ok(values.iter().map(|s| lossy(s.as_bytes())).collect())
        }
        Class::VarStr { utf8: false } => {
            let values = ds.read_slice_1d::<VarLenAscii, _>(range).at(at)?;
            Ok(values.iter().map(|s| lossy(s.as_bytes())).collect())
        }
        Class::FixedStr { size } => {
            let n = (end - start) as usize;
            if size == 0 {
                return Ok(vec![String::new(); n]);
            }
            let file_type = ds.dtype().at(at)?;
            // SAFETY: H5Tget_strpad only reads the type, which is valid while `file_type`
            // lives; a failure returns a negative value that is not SPACEPAD.
            let space_padded = hdf5::sync::sync(|| unsafe { H5Tget_strpad(file_type.id()) })
                == H5T_str_t::H5T_STR_SPACEPAD;
            let mut bytes: Vec<u8> = Vec::new();
            reserve(&mut bytes, (size as u64).saturating_mul(n as u64), at)?;
            bytes.resize(size * n, 0);
            read_hyperslab_bytes(ds, &file_type, &[start], &[n as u64], &mut bytes).at(at)?;
            Ok(bytes
                .chunks_exact(size)
                .map(|raw| {
                    let raw = raw.split(|&b| b == 0).next().unwrap_or(&[]);
                    let s = lossy(raw);
                    if space_padded {
                        s.trim_end_matches(' ').to_string()
                    } else {
                        s
                    }
                })
                .collect())
        }
        _ => Err(Error::invalid(
            at.clone(),
            format!("holds {}, not strings", dtype),
        )),
    }
}

/// How a column's stored type is named in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DtypeNames {
    /// SONATA's names (`uint32`, `float64`, `string`, [`dtype_name`]): edge attribute columns,
    /// whose names `info` and the attribute listings also show.
    Sonata,
    /// HDF5's description of the type (`Unsigned(U4)`): node columns, whose messages have always
    /// named types this way (kept so that messages do not change).
    Descriptor,
}

/// The SONATA name of a stored type, as [`AttributeColumnInfo::dtype`] lists it.
///
/// [`AttributeColumnInfo::dtype`]: super::attributes::AttributeColumnInfo::dtype
pub(crate) fn dtype_name(descriptor: &TypeDescriptor) -> String {
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

/// A 1-D dataset of an edge or node population, left in the file: the attribute columns, the
/// group mappings (`edge_group_id`, `node_group_index`...), `@library` tables and `nsyns`.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) ds: hdf5::Dataset,
    pub(crate) at: Location,
    /// Path relative to the population (`0/conductance`), for messages.
    pub(crate) path: String,
    pub(crate) len: u64,
    pub(crate) class: Class,
    /// The stored type's name in messages ([`DtypeNames`]).
    pub(crate) dtype: String,
}

/// A 1-D dataset found by [`Column::probe`]: enough to list it, nothing read.
pub(crate) struct Probed {
    ds: hdf5::Dataset,
    /// Number of rows.
    pub(crate) rows: u64,
}

impl Probed {
    /// The SONATA name of the stored type ([`dtype_name`]); `"unsupported"` when HDF5 cannot
    /// describe it.
    pub(crate) fn dtype(&self) -> String {
        match self.ds.dtype().and_then(|t| t.to_descriptor()) {
            Ok(d) => dtype_name(&d),
            Err(_) => "unsupported".to_string(),
        }
    }
}

impl Column {
    /// Opens `parent/name` (`path`, relative to the population, names it in messages; `names`
    /// says how its type is named); `Ok(None)` when there is no such link.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the link is not a dataset or the dataset is not 1-D (see
    /// [`open_1d`]).
    pub(crate) fn open(
        parent: &hdf5::Group,
        name: &str,
        path: &str,
        pop_at: &Location,
        names: DtypeNames,
    ) -> Result<Option<Column>> {
        Ok(open_1d(parent, name, path, pop_at)?.map(|c| Column {
            dtype: match (&c.descriptor, names) {
                (None, _) => "unsupported".to_string(),
                (Some(d), DtypeNames::Sonata) => dtype_name(d),
                (Some(d), DtypeNames::Descriptor) => format!("{d:?}"),
            },
            len: c.len,
            ds: c.ds,
            at: c.at,
            path: path.to_string(),
            class: c.class,
        }))
    }

    /// `parent/name` when it is a 1-D dataset; `None` otherwise (no error): what the listings
    /// count as a column (null-space and scalar datasets exist in libsonata's test files).
    pub(crate) fn probe(parent: &hdf5::Group, name: &str) -> Option<Probed> {
        if !plain_name(name) || !parent.link_exists(name) {
            return None;
        }
        let ds = parent.dataset(name).ok()?;
        let space = ds.space().ok()?;
        let shape = space.shape();
        if space.is_null() || shape.len() != 1 {
            return None;
        }
        Some(Probed {
            rows: shape[0] as u64,
            ds,
        })
    }

    /// Whether the column holds numbers (integers, booleans, enums or floats).
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self.class, Class::Int | Class::UInt | Class::Float)
    }

    /// Checks a `*_group_id` / `*_group_index` column: integers, one row per edge or node of a
    /// population of `rows` (`unit`: "edge" or "node", for the message).
    pub(crate) fn check_group_mapping(&self, rows: u64, unit: &str) -> Result<()> {
        if !self.is_numeric() {
            return Err(Error::invalid(
                self.at.clone(),
                format!("must hold integers but holds {}", self.dtype),
            ));
        }
        if self.len != rows {
            return Err(Error::invalid(
                self.at.clone(),
                format!(
                    "has {} but the population has {}",
                    crate::words::plural(self.len, "row"),
                    crate::words::plural(rows, unit)
                ),
            ));
        }
        Ok(())
    }

    /// This column read whole as an `@library` table (its strings).
    ///
    /// # Errors
    /// Read errors; [`Error::InvalidData`] when it does not hold strings.
    pub(crate) fn read_library_table(&self) -> Result<Vec<String>> {
        match self.read_ranges(&[(0, self.len)])? {
            AttributeValues::Str(values) => Ok(values),
            _ => Err(Error::invalid(
                self.at.clone(),
                format!(
                    "an @library table must hold strings but holds {}",
                    self.dtype
                ),
            )),
        }
    }

    /// Errors unless `row` exists; `why` says which edge needs it.
    pub(crate) fn check_row(&self, row: u64, why: impl FnOnce() -> String) -> Result<()> {
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

    /// Values at `rows` (any order, duplicates allowed), in the order of `rows`: the distinct
    /// rows are read in ascending order with block reads, then gathered back.
    pub(crate) fn read_rows(&self, rows: &[u64]) -> Result<AttributeValues> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.len) {
            return Err(Error::invalid(
                self.at.clone(),
                format!(
                    "has {} but row {bad} is needed",
                    crate::words::plural(self.len, "row")
                ),
            ));
        }
        let ascending = rows.windows(2).all(|w| w[0] < w[1]);
        if ascending {
            // Common case (sorted gidvec): the wanted rows are the read order.
            return self.read_ranges(&ranges_of(rows));
        }
        let mut distinct = rows.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let values = self.read_ranges(&ranges_of(&distinct))?;
        let index: Vec<usize> = rows
            .iter()
            .map(|r| distinct.partition_point(|d| d < r))
            .collect();
        Ok(match values {
            AttributeValues::Int(v) => AttributeValues::Int(index.iter().map(|&i| v[i]).collect()),
            AttributeValues::UInt(v) => {
                AttributeValues::UInt(index.iter().map(|&i| v[i]).collect())
            }
            AttributeValues::Float(v) => {
                AttributeValues::Float(index.iter().map(|&i| v[i]).collect())
            }
            AttributeValues::Str(v) => {
                AttributeValues::Str(index.iter().map(|&i| v[i].clone()).collect())
            }
        })
    }

    /// Reads the rows of `ranges` (sorted, non-overlapping), concatenated.
    pub(crate) fn read_ranges(&self, ranges: &[(u64, u64)]) -> Result<AttributeValues> {
        match self.class {
            Class::Int => self.read_numeric::<i64>(ranges).map(AttributeValues::Int),
            Class::UInt => self.read_numeric::<u64>(ranges).map(AttributeValues::UInt),
            Class::Float => self.read_numeric::<f64>(ranges).map(AttributeValues::Float),
            Class::VarStr { .. } | Class::FixedStr { .. } => {
                read_strings(&self.ds, &self.at, self.class, &self.dtype, ranges)
                    .map(AttributeValues::Str)
            }
            Class::Other => Err(self.unreadable()),
        }
    }

    /// The error for a column of a type no attribute read handles ([`Class::Other`]).
    pub(crate) fn unreadable(&self) -> Error {
        Error::invalid(
            self.at.clone(),
            format!("holds {}, which cannot be read as an attribute", self.dtype),
        )
    }

    fn read_numeric<T: H5Type + bytemuck::Pod + Default>(
        &self,
        ranges: &[(u64, u64)],
    ) -> Result<Vec<T>> {
        read_ranges(&self.ds, ranges).at(&self.at)
    }

    /// Reads rows `start .. start + out.len()` as non-negative integers.
    ///
    /// Integers of any width, and floats holding integral values, are accepted.
    pub(crate) fn read_integral_range_into(&self, start: u64, out: &mut [u64]) -> Result<()> {
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
    pub(crate) fn read_integral_ranges_into(
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

    /// The rows of `ranges` (sorted, non-overlapping) as non-negative integers.
    pub(crate) fn read_integral_ranges(&self, ranges: &[(u64, u64)]) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        reserve(&mut out, flat_len(ranges), &self.at)?;
        self.read_integral_ranges_into(ranges, &mut out, &mut Vec::new())?;
        Ok(out)
    }
}

/// Number of rows of `ranges`, saturating.
fn flat_len(ranges: &[(u64, u64)]) -> u64 {
    ranges
        .iter()
        .fold(0u64, |n, &(a, b)| n.saturating_add(b.saturating_sub(a)))
}

/// Ranges `[a, b)` of strictly ascending `rows`.
fn ranges_of(rows: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &r in rows {
        match out.last_mut() {
            Some(last) if last.1 == r => last.1 = r + 1,
            _ => out.push((r, r + 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ranges_of_ascending_rows_merge_neighbours() {
        assert_eq!(
            ranges_of(&[1, 2, 3, 7, 9, 10]),
            vec![(1, 4), (7, 8), (9, 11)]
        );
        assert!(ranges_of(&[]).is_empty());
    }
}
