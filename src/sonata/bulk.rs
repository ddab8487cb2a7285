//! Bulk reads of 1-D datasets straight into caller-owned buffers.
//!
//! The `hdf5` crate's slice reads allocate a new array per call; streaming a 10^10-row column in
//! chunks wants one reused buffer instead. [`read_range_into`] selects one contiguous hyperslab in
//! the file and reads it into a slice with a single `H5Dread`, letting HDF5 convert the stored
//! integer type into the memory type (the conversion is exact for the widening cases used here;
//! narrowing is checked by the callers).

use hdf5::{Dataset, H5Type};
use hdf5_sys::h5d::H5Dread;
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
pub fn read_range_into<T: H5Type>(ds: &Dataset, start: u64, out: &mut [T]) -> hdf5::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mem_type = hdf5::Datatype::from_type::<T>()?;
    let file_type = ds.dtype()?;
    match file_type.conv_path(&mem_type) {
        Some(conv) if conv <= hdf5::Conversion::Soft => {}
        _ => {
            return Err(hdf5::Error::from(format!(
                "cannot convert the stored type to {}",
                std::any::type_name::<T>()
            )));
        }
    }
    let count = out.len() as u64;
    let space = ds.space()?;
    let shape = space.shape();
    if shape.len() != 1
        || start
            .checked_add(count)
            .is_none_or(|end| end > shape[0] as u64)
    {
        return Err(hdf5::Error::from(format!(
            "rows {start}..{} are outside a dataset of shape {shape:?}",
            start.saturating_add(count)
        )));
    }
    hdf5::sync::sync(|| {
        // SAFETY: the dataspaces are created and closed here; `out` holds exactly `count`
        // elements of the memory type passed to H5Dread.
        unsafe {
            let fspace: hid_t = hdf5_sys::h5d::H5Dget_space(ds.id());
            if fspace < 0 {
                return Err(hdf5::Error::from("H5Dget_space failed"));
            }
            let start_arr = [start];
            let count_arr = [count];
            let sel = H5Sselect_hyperslab(
                fspace,
                H5S_SELECT_SET,
                start_arr.as_ptr(),
                std::ptr::null(),
                count_arr.as_ptr(),
                std::ptr::null(),
            );
            if sel < 0 {
                H5Sclose(fspace);
                return Err(hdf5::Error::from("H5Sselect_hyperslab failed"));
            }
            let mspace = H5Screate_simple(1, count_arr.as_ptr(), std::ptr::null());
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
