//! Bulk reads of 1-D datasets straight into caller-owned buffers.
//!
//! The `hdf5` crate's slice reads allocate a new array per call; streaming a 10^10-row column in
//! chunks wants one reused buffer instead. [`read_range_into`] selects one contiguous hyperslab in
//! the file and reads it into a slice with a single `H5Dread`, letting HDF5 convert the stored
//! integer type into the memory type (the conversion is exact for the widening cases used here;
//! narrowing is checked by the callers).

use hdf5::{Dataset, H5Type};
use hdf5_sys::h5d::{H5Dget_space, H5Dread};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_SELECT_SET, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

/// Gap (in bytes) below which two wanted ranges are read as one block and split in memory.
///
/// libsonata found that page-sized merge-read-extract beats irregular hyperslabs (libsonata #364).
pub const MERGE_GAP_BYTES: u64 = 4 << 20;

/// Reads rows `start .. start + out.len()` of the 1-D dataset `ds` into `out`.
///
/// # Errors
/// Returns the HDF5 error when the range is outside the dataset or the type cannot be converted.
pub fn read_range_into<T: H5Type + bytemuck::Pod>(
    ds: &Dataset,
    start: u64,
    out: &mut [T],
) -> hdf5::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mem_type = hdf5::Datatype::from_type::<T>()?;
    check_conversion::<T>(ds, &mem_type)?;
    read_hyperslab_bytes(
        ds,
        &mem_type,
        &[start],
        &[out.len() as u64],
        bytemuck::cast_slice_mut(out),
    )
}

/// Largest block of a numeric column read at once by [`read_ranges`] (8 MiB of 8-byte values).
pub const NUMERIC_MAX_BLOCK_ROWS: u64 = 1 << 20;

/// Reads the rows of `ranges` (sorted, non-overlapping) of the 1-D dataset `ds`, concatenated,
/// converted to `T`: nearby ranges share one block read ([`MERGE_GAP_BYTES`] of 8-byte values),
/// and a block that is exactly one wanted range is read straight into the output.
///
/// # Errors
/// The HDF5 error of a read (rows outside the dataset, type not convertible).
pub fn read_ranges<T: H5Type + bytemuck::Pod + Default>(
    ds: &Dataset,
    ranges: &[(u64, u64)],
) -> hdf5::Result<Vec<T>> {
    let total: u64 = ranges.iter().map(|&(a, b)| b.saturating_sub(a)).sum();
    // The rows come from the file: reserve fallibly (an error, not an abort).
    let mut out: Vec<T> = Vec::new();
    usize::try_from(total)
        .ok()
        .and_then(|n| out.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            hdf5::Error::from(format!("a read of {total} rows does not fit in memory"))
        })?;
    let mut buffer: Vec<T> = Vec::new();
    for block in plan_blocks(ranges, MERGE_GAP_BYTES / 8, NUMERIC_MAX_BLOCK_ROWS) {
        let n = (block.end - block.start) as usize;
        if block.parts.len() == 1 {
            let filled = out.len();
            out.resize(filled + n, T::default());
            read_range_into(ds, block.start, &mut out[filled..])?;
            continue;
        }
        buffer.resize(n, T::default());
        read_range_into(ds, block.start, &mut buffer)?;
        for &(a, b) in &block.parts {
            out.extend_from_slice(&buffer[(a - block.start) as usize..(b - block.start) as usize]);
        }
    }
    Ok(out)
}

/// One contiguous read `[start, end)` and the wanted parts inside it (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadBlock {
    /// First row read.
    pub(crate) start: u64,
    /// One past the last row read.
    pub(crate) end: u64,
    /// Wanted `[a, b)` row ranges, all inside `[start, end)`, ascending.
    pub(crate) parts: Vec<(u64, u64)>,
}

/// Plans merge-read-extract reads (libsonata `sortAndMerge` with a gap and a block cap).
///
/// `ranges` must be sorted and non-overlapping (empty ones are skipped). Ranges separated by
/// fewer than `gap` rows share a block; no block is longer than `max_rows` rows (longer ranges are
/// split over several blocks), so the caller's buffer stays bounded.
pub(crate) fn plan_blocks(ranges: &[(u64, u64)], gap: u64, max_rows: u64) -> Vec<ReadBlock> {
    let max_rows = max_rows.max(1);
    let mut blocks: Vec<ReadBlock> = Vec::new();
    for &(a, b) in ranges {
        let mut a = a;
        while a < b {
            if let Some(last) = blocks.last_mut() {
                let limit = last.start.saturating_add(max_rows);
                if a >= last.start && a.saturating_sub(last.end) < gap && a < limit {
                    let piece_end = b.min(limit);
                    last.end = last.end.max(piece_end);
                    last.parts.push((a, piece_end));
                    a = piece_end;
                    continue;
                }
            }
            let piece_end = b.min(a.saturating_add(max_rows));
            blocks.push(ReadBlock {
                start: a,
                end: piece_end,
                parts: vec![(a, piece_end)],
            });
            a = piece_end;
        }
    }
    blocks
}

/// Reads rows `start .. start + out.len() / 2` of the 2-D `(n, 2)` dataset `ds` into `out`
/// (row-major), with one hyperslab and one `H5Dread`, converting to `T`.
///
/// # Errors
/// The HDF5 error when `out.len()` is odd, the rows are outside the dataset, the dataset is not
/// `(n, 2)`, or the stored type cannot be converted to `T`.
pub(crate) fn read_rows_2d_into<T: H5Type + bytemuck::Pod>(
    ds: &Dataset,
    start: u64,
    out: &mut [T],
) -> hdf5::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    if !out.len().is_multiple_of(2) {
        return Err(hdf5::Error::from(
            "a buffer of (n, 2) rows must have an even length",
        ));
    }
    let mem_type = hdf5::Datatype::from_type::<T>()?;
    check_conversion::<T>(ds, &mem_type)?;
    let rows = (out.len() / 2) as u64;
    read_hyperslab_bytes(
        ds,
        &mem_type,
        &[start, 0],
        &[rows, 2],
        bytemuck::cast_slice_mut(out),
    )
}

/// Fails unless HDF5 can convert `ds`'s stored type into `mem_type` (hard or soft conversion).
pub(crate) fn check_conversion<T>(ds: &Dataset, mem_type: &hdf5::Datatype) -> hdf5::Result<()> {
    match ds.dtype()?.conv_path(mem_type) {
        Some(conv) if conv <= hdf5::Conversion::Soft => Ok(()),
        _ => Err(hdf5::Error::from(format!(
            "cannot convert the stored type to {}",
            std::any::type_name::<T>()
        ))),
    }
}

/// Reads the hyperslab `start`/`count` of `ds` into `out` as `mem_type` with one `H5Dread`.
///
/// `mem_type` must be a fixed-size type (numbers, fixed-length strings, the dataset's own type
/// when that is fixed-size): variable-length data would leave HDF5-owned pointers in `out`.
///
/// # Errors
/// The HDF5 error when the hyperslab is outside the dataset, `out` has the wrong size, or the
/// read fails.
pub(crate) fn read_hyperslab_bytes(
    ds: &Dataset,
    mem_type: &hdf5::Datatype,
    start: &[u64],
    count: &[u64],
    out: &mut [u8],
) -> hdf5::Result<()> {
    let elements = count.iter().try_fold(1u64, |acc, &c| acc.checked_mul(c));
    let Some(elements) = elements else {
        return Err(hdf5::Error::from("hyperslab is too large"));
    };
    if elements == 0 {
        return Ok(());
    }
    if elements.checked_mul(mem_type.size() as u64) != Some(out.len() as u64) {
        return Err(hdf5::Error::from(
            "buffer size does not match the hyperslab",
        ));
    }
    let shape = ds.shape();
    let inside = shape.len() == start.len()
        && start.len() == count.len()
        && start
            .iter()
            .zip(count)
            .zip(&shape)
            .all(|((&s, &c), &n)| s.checked_add(c).is_some_and(|end| end <= n as u64));
    if !inside {
        return Err(hdf5::Error::from(format!(
            "hyperslab start {start:?} count {count:?} is outside a dataset of shape {shape:?}"
        )));
    }
    let rank = start.len() as std::ffi::c_int;
    hdf5::sync::sync(|| {
        // SAFETY: the dataspaces are created and closed here; `out` holds exactly
        // `elements * sizeof(mem_type)` bytes, checked above, and `mem_type` is fixed-size.
        unsafe {
            let fspace: hid_t = H5Dget_space(ds.id());
            if fspace < 0 {
                return Err(hdf5::Error::from("H5Dget_space failed"));
            }
            let sel = H5Sselect_hyperslab(
                fspace,
                H5S_SELECT_SET,
                start.as_ptr(),
                std::ptr::null(),
                count.as_ptr(),
                std::ptr::null(),
            );
            if sel < 0 {
                H5Sclose(fspace);
                return Err(hdf5::Error::from("H5Sselect_hyperslab failed"));
            }
            let mspace = H5Screate_simple(rank, count.as_ptr(), std::ptr::null());
            if mspace < 0 {
                H5Sclose(fspace);
                return Err(hdf5::Error::from("H5Screate_simple failed"));
            }
            let status = H5Dread(
                ds.id(),
                mem_type.id(),
                mspace,
                fspace,
                H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            );
            H5Sclose(mspace);
            H5Sclose(fspace);
            if status < 0 {
                return Err(hdf5::Error::query().unwrap_or_else(|_| "H5Dread failed".into()));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(start: u64, end: u64, parts: &[(u64, u64)]) -> ReadBlock {
        ReadBlock {
            start,
            end,
            parts: parts.to_vec(),
        }
    }

    #[test]
    fn plan_blocks_merges_close_ranges() {
        let blocks = plan_blocks(&[(0, 2), (5, 6), (100, 101)], 10, 1000);
        assert_eq!(
            blocks,
            vec![
                block(0, 6, &[(0, 2), (5, 6)]),
                block(100, 101, &[(100, 101)])
            ]
        );
    }

    #[test]
    fn plan_blocks_gap_is_exclusive() {
        // A gap of exactly `gap` rows starts a new block (libsonata: last + gap <= next.start).
        let blocks = plan_blocks(&[(0, 2), (12, 13)], 10, 1000);
        assert_eq!(blocks.len(), 2);
        let blocks = plan_blocks(&[(0, 2), (11, 13)], 10, 1000);
        assert_eq!(blocks, vec![block(0, 13, &[(0, 2), (11, 13)])]);
    }

    #[test]
    fn plan_blocks_caps_block_length() {
        let blocks = plan_blocks(&[(0, 25)], 10, 10);
        assert_eq!(
            blocks,
            vec![
                block(0, 10, &[(0, 10)]),
                block(10, 20, &[(10, 20)]),
                block(20, 25, &[(20, 25)])
            ]
        );
        let blocks = plan_blocks(&[(0, 4), (6, 15), (16, 17)], 10, 10);
        assert_eq!(
            blocks,
            vec![
                block(0, 10, &[(0, 4), (6, 10)]),
                block(10, 17, &[(10, 15), (16, 17)])
            ]
        );
        assert!(blocks.iter().all(|b| b.end - b.start <= 10));
    }

    #[test]
    fn plan_blocks_skips_empty() {
        assert!(plan_blocks(&[(3, 3), (5, 5)], 10, 10).is_empty());
        assert!(plan_blocks(&[], 10, 10).is_empty());
    }
}
