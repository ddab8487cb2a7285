//! Reading 1-D attribute columns of edge and node populations: how a stored type is read
//! ([`Class`]) and string columns over row ranges (variable- or fixed-length, ASCII or UTF-8).
//! Numeric columns go through [`super::bulk::read_ranges`].

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5_sys::h5t::{H5T_str_t, H5Tget_strpad};

use super::bulk::{plan_blocks, read_hyperslab_bytes};
use crate::error::{Error, H5Context, Location, Result};

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
    Ok(Some(Opened1d {
        len: shape[0] as u64,
        class: descriptor.as_ref().map_or(Class::Other, classify),
        descriptor,
        ds,
        at,
    }))
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

/// Reads the rows of `ranges` (sorted, non-overlapping) of the string column `ds`.
pub(crate) fn read_strings(
    ds: &hdf5::Dataset,
    at: &Location,
    class: Class,
    dtype: &str,
    ranges: &[(u64, u64)],
) -> Result<Vec<String>> {
    let total: u64 = ranges.iter().map(|&(a, b)| b - a).sum();
    let mut out: Vec<String> = Vec::with_capacity(total as usize);
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
            let mut bytes = vec![0u8; size * n];
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
