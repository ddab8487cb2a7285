//! Reads of 1-D integer id columns straight from the file, past HDF5's global lock.
//!
//! HDF5 (through the `hdf5` crate) runs every call behind one process-wide lock, so a column read
//! through it runs on one thread however many cores there are. A [`DirectColumn`] is what one
//! HDF5 lookup ([`probe`]) learns about a dataset whose bytes can be found without HDF5 — where
//! they lie in the file and how they are encoded — so that reads become `pread`s from several
//! threads and compressed chunks are decoded in parallel:
//! - contiguous storage without filters: the range is split into pieces of about
//!   [`PIECE_BYTES`] read in parallel;
//! - chunked storage whose filters are only deflate and shuffle: the chunks overlapping the range
//!   are looked up once under HDF5's lock (and remembered), then read and decoded in parallel
//!   ([`chunked`]).
//!
//! The threads are a rayon pool of this module's own ([`try_for_each_parallel`]), as many as the
//! global pool has: a caller that blocks global workers while it waits for reads (the census's
//! chunk loop on a worker, `par_iter` over populations) must not wait for jobs queued behind
//! itself.
//!
//! Values come out as HDF5 gives them when an unsigned column is read as u64, or a signed one as
//! i64 (sign-extended, as its bit pattern): the caller checks signs, as it does after HDF5 reads.
//!
//! Everything else stays with HDF5: [`probe`] says `None` for any dataset it does not fully
//! understand, and a read answers [`Fallback`] at the first surprise (a chunk never written, a
//! stream that does not decode to a chunk's size, an I/O error, rows out of range), so that the
//! caller reads the range through HDF5 and damaged files keep HDF5's own error messages.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use hdf5_sys::h5::HADDR_UNDEF;
use hdf5_sys::h5d::{
    H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS, H5D_layout_t, H5Dget_create_plist, H5Dget_offset,
    H5Dget_space, H5Dget_type,
};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5Fget_access_plist, H5Fget_intent, H5Fget_vfd_handle};
use hdf5_sys::h5i::{H5Idec_ref, H5Iget_file_id, hid_t};
use hdf5_sys::h5p::{
    H5Pget_chunk, H5Pget_chunk_opts, H5Pget_driver, H5Pget_external_count, H5Pget_filter2,
    H5Pget_layout, H5Pget_nfilters,
};
use hdf5_sys::h5s::{H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims};
use hdf5_sys::h5t::{
    H5T_class_t, H5T_order_t, H5T_sign_t, H5Tget_class, H5Tget_offset, H5Tget_order,
    H5Tget_precision, H5Tget_sign, H5Tget_size,
};
use hdf5_sys::h5z::{H5Z_FILTER_DEFLATE, H5Z_FILTER_SHUFFLE};
use std::sync::OnceLock;

use rayon::prelude::*;

mod chunked;
#[cfg(test)]
mod tests;

use chunked::{Chunked, Filter};

/// Bytes per parallel piece of a contiguous read (and the least work per task of a chunked one):
/// large enough that a `pread` costs far more than handing it to a thread.
const PIECE_BYTES: usize = 1 << 20;

/// Rows compared between the fast path and HDF5 when a column is probed.
const SELF_CHECK_ROWS: u64 = 4096;

/// Largest decoded chunk of a filtered column read here: a read of a few rows decodes a whole
/// chunk, and every thread keeps one chunk's buffers.
const MAX_FILTERED_CHUNK_BYTES: u64 = 64 << 20;

/// Why a read did not happen here: the caller reads the range through HDF5 instead, which gives
/// the values or HDF5's own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Rows outside the column.
    OutOfRange,
    /// A chunk that has no storage (never written: HDF5 gives fill values).
    Unallocated,
    /// A chunk's address or size that is not usable (outside the file, failed lookup).
    BadChunk,
    /// A chunk whose stored bytes do not decode to exactly one chunk.
    Decode,
    /// The operating system failed the read.
    Io,
}

/// One stored integer type: size in bytes (1, 2, 4 or 8), little-endian, and whether signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elem {
    pub(crate) size: usize,
    pub(crate) signed: bool,
}

/// A 1-D integer column whose bytes are read straight from its file (see the module docs).
#[derive(Debug)]
pub(crate) struct DirectColumn {
    file: Arc<File>,
    len: u64,
    elem: Elem,
    storage: Storage,
}

#[derive(Debug)]
enum Storage {
    /// No rows: nothing to read (a non-empty read is out of range).
    Empty,
    /// One block of `len * size` bytes at this absolute file offset.
    Contiguous { offset: u64 },
    /// Chunks of `rows` rows, maybe filtered.
    Chunked(Chunked),
}

/// What a column's dataset looks like, as far as probing it tells.
struct Layout {
    len: u64,
    elem: Elem,
    storage: ProbedStorage,
}

enum ProbedStorage {
    Contiguous { offset: u64 },
    Chunked { rows: u64, filters: Vec<Filter> },
}

/// Probes `ds` (a dataset of the file at `path`): `Some` when its reads can be served by the fast
/// path, which is then checked against HDF5 on the first rows. See [`probe_file`], which edge
/// files use to share one descriptor among their columns.
#[cfg(test)]
pub(crate) fn probe(ds: &hdf5::Dataset, path: &std::path::Path) -> Option<DirectColumn> {
    let file = File::open(path).ok()?;
    probe_file(ds, Arc::new(file))
}

/// Probes `ds`, a dataset of the HDF5 file that `file` should be (opened by the OS; edge files
/// share one descriptor among their columns): `Some` when its reads can be served here.
///
/// `Some` only when all of these hold: the host is little-endian; the file is open read-only
/// through HDF5's default (`sec2`) driver and `file` is that very file (same device and inode
/// as HDF5's descriptor); the dataset is 1-D; its type is a little-endian integer of 1, 2, 4 or
/// 8 bytes using all of its bits; it has no external storage; and it is either contiguous,
/// unfiltered and stored inside the file, or chunked with only deflate and shuffle filters
/// (partial edge chunks filtered too). Finally the first [`SELF_CHECK_ROWS`] rows (at most one
/// chunk) read here must equal HDF5's.
pub(crate) fn probe_file(ds: &hdf5::Dataset, file: Arc<File>) -> Option<DirectColumn> {
    if cfg!(target_endian = "big") {
        // Values are stored little-endian and handed out as native u64 without swapping.
        return None;
    }
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let file_len = meta.len();
    if !same_file_as_hdf5(ds, &meta) {
        return None;
    }
    let layout = probe_layout(ds, file_len)?;
    // Chunk addresses are absolute in HDF5 2.2 (the bundled one) but relative to the end of the
    // user block in 1.10.8 (Debian 12's; the test `user_blocks_are_part_of_addresses`): try both when
    // there is a user block, and keep the one whose reads agree with HDF5's. Contiguous offsets
    // are absolute in both.
    let bases = match layout.storage {
        ProbedStorage::Chunked { .. } if layout.len > 0 => {
            let userblock = ds.file().map_or(0, |f| f.userblock());
            if userblock > 0 {
                vec![0, userblock]
            } else {
                vec![0]
            }
        }
        _ => vec![0],
    };
    bases.into_iter().find_map(|base| {
        let storage = match &layout.storage {
            _ if layout.len == 0 => Storage::Empty,
            ProbedStorage::Contiguous { offset } => Storage::Contiguous { offset: *offset },
            ProbedStorage::Chunked { rows, filters } => Storage::Chunked(Chunked::new(
                ds.clone(),
                chunked::Geometry {
                    rows: *rows,
                    len: layout.len,
                    elem: layout.elem,
                    base,
                    file_len,
                },
                filters.clone(),
            )),
        };
        let column = DirectColumn {
            file: Arc::clone(&file),
            len: layout.len,
            elem: layout.elem,
            storage,
        };
        column.agrees_with_hdf5(ds).then_some(column)
    })
}

/// Owns one HDF5 identifier and releases it when dropped; only created, used and dropped under
/// HDF5's lock.
struct Owned(hid_t);

impl Owned {
    /// `None` for a failed call (negative id).
    fn new(id: hid_t) -> Option<Self> {
        (id >= 0).then_some(Owned(id))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a valid identifier this guard owns one reference of, and guards
        // live only inside `hdf5::sync::sync` closures (HDF5's lock is held).
        unsafe {
            H5Idec_ref(self.0);
        }
    }
}

/// Whether HDF5 has the dataset's file open read-only through the `sec2` driver, as the file
/// whose metadata is `meta` (the same device and inode). A file open for writing may have data
/// in HDF5's caches that is not on disk yet, and another driver (family, core, split) puts
/// HDF5's addresses elsewhere than in this one file.
fn same_file_as_hdf5(ds: &hdf5::Dataset, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let sec2 = *hdf5::globals::H5FD_SEC2;
    let fd = hdf5::sync::sync(|| {
        // SAFETY: every identifier is checked before use and released by its guard before the
        // lock is; the VFD handle of the sec2 driver is a pointer to its `int` file descriptor,
        // read once here while the file is open (the dataset keeps it open).
        unsafe {
            let file = Owned::new(H5Iget_file_id(ds.id()))?;
            let mut intent = 0;
            if H5Fget_intent(file.0, &raw mut intent) < 0 || intent != H5F_ACC_RDONLY {
                return None;
            }
            let fapl = Owned::new(H5Fget_access_plist(file.0))?;
            if H5Pget_driver(fapl.0) != sec2 {
                return None;
            }
            let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
            if H5Fget_vfd_handle(file.0, fapl.0, &raw mut handle) < 0 || handle.is_null() {
                return None;
            }
            Some(*handle.cast::<std::ffi::c_int>())
        }
    });
    let Some(fd) = fd.filter(|&fd| fd >= 0) else {
        return false;
    };
    // SAFETY: `fd` is HDF5's open descriptor of the file, which stays open while `ds` lives;
    // it is only borrowed for this one `fstat`.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    // The widths of `st_dev` and `st_ino` differ between platforms (u64 on Linux).
    #[allow(clippy::unnecessary_cast)]
    rustix::fs::fstat(borrowed)
        .is_ok_and(|st| st.st_dev as u64 == meta.dev() && st.st_ino as u64 == meta.ino())
}

/// Learns the dataset's shape, type and storage from HDF5; `None` for anything the fast path
/// does not serve.
fn probe_layout(ds: &hdf5::Dataset, file_len: u64) -> Option<Layout> {
    hdf5::sync::sync(|| {
        // SAFETY: identifiers are checked before use and released by their guards inside this
        // closure (HDF5's lock is held); every out-pointer points to a local of the right type
        // and size (one dimension, at most `cd_values.len()` filter values).
        unsafe {
            let space = Owned::new(H5Dget_space(ds.id()))?;
            if H5Sget_simple_extent_ndims(space.0) != 1 {
                return None;
            }
            let mut dims = [0u64; 1];
            if H5Sget_simple_extent_dims(space.0, dims.as_mut_ptr(), std::ptr::null_mut()) != 1 {
                return None;
            }
            let len = dims[0];

            let dtype = Owned::new(H5Dget_type(ds.id()))?;
            if H5Tget_class(dtype.0) != H5T_class_t::H5T_INTEGER
                || H5Tget_order(dtype.0) != H5T_order_t::H5T_ORDER_LE
            {
                return None;
            }
            let size = H5Tget_size(dtype.0);
            // A type with padding bits (precision below its size, or an offset) is converted
            // bit by bit by HDF5.
            if !matches!(size, 1 | 2 | 4 | 8)
                || H5Tget_precision(dtype.0) != size * 8
                || H5Tget_offset(dtype.0) != 0
            {
                return None;
            }
            let signed = match H5Tget_sign(dtype.0) {
                H5T_sign_t::H5T_SGN_NONE => false,
                H5T_sign_t::H5T_SGN_2 => true,
                _ => return None,
            };
            let elem = Elem { size, signed };
            let bytes = len.checked_mul(size as u64)?;

            let dcpl = Owned::new(H5Dget_create_plist(ds.id()))?;
            if H5Pget_external_count(dcpl.0) != 0 {
                return None;
            }
            let nfilters = H5Pget_nfilters(dcpl.0);
            if nfilters < 0 {
                return None;
            }
            let storage = match H5Pget_layout(dcpl.0) {
                H5D_layout_t::H5D_CONTIGUOUS => {
                    if nfilters != 0 {
                        return None;
                    }
                    let offset = H5Dget_offset(ds.id());
                    if len > 0
                        && (offset == HADDR_UNDEF
                            || offset.checked_add(bytes).is_none_or(|end| end > file_len))
                    {
                        return None;
                    }
                    ProbedStorage::Contiguous { offset }
                }
                H5D_layout_t::H5D_CHUNKED => {
                    let mut chunk = [0u64; 1];
                    if H5Pget_chunk(dcpl.0, 1, chunk.as_mut_ptr()) != 1 || chunk[0] == 0 {
                        return None;
                    }
                    let mut filters = Vec::new();
                    for index in 0..nfilters as std::ffi::c_uint {
                        let mut flags = 0;
                        let mut cd_values = [0 as std::ffi::c_uint; 8];
                        let mut cd_nelmts = cd_values.len();
                        let id = H5Pget_filter2(
                            dcpl.0,
                            index,
                            &raw mut flags,
                            &raw mut cd_nelmts,
                            cd_values.as_mut_ptr(),
                            0,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                        );
                        filters.push(match id {
                            H5Z_FILTER_DEFLATE => Filter::Deflate,
                            // HDF5 records the element size at creation (its `set_local`).
                            H5Z_FILTER_SHUFFLE if cd_nelmts >= 1 => Filter::Shuffle {
                                elem: cd_values[0] as usize,
                            },
                            _ => return None,
                        });
                    }
                    if !filters.is_empty() {
                        // Edge chunks stored unfiltered whatever their filter mask says.
                        let mut opts = 0;
                        if H5Pget_chunk_opts(dcpl.0, &raw mut opts) < 0
                            || opts & H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS != 0
                            || chunk[0].checked_mul(size as u64)? > MAX_FILTERED_CHUNK_BYTES
                        {
                            return None;
                        }
                    }
                    ProbedStorage::Chunked {
                        rows: chunk[0],
                        filters,
                    }
                }
                // Compact (data in the object header), virtual, or unknown.
                _ => return None,
            };
            Some(Layout { len, elem, storage })
        }
    })
}

impl DirectColumn {
    /// Number of rows.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Whether the column's stored values are signed.
    #[cfg(test)]
    pub(crate) fn elem(&self) -> Elem {
        self.elem
    }

    /// Rows per chunk and filters (in pipeline order) of a chunked column; `None` otherwise.
    #[cfg(test)]
    pub(crate) fn chunking(&self) -> Option<(u64, &[Filter])> {
        match &self.storage {
            Storage::Chunked(c) => Some((c.rows_per_chunk(), c.filters())),
            _ => None,
        }
    }

    /// Whether the column is one contiguous block (each read is one `pread`, so that reading
    /// scattered ranges one by one costs little more than their bytes).
    pub(crate) fn is_contiguous(&self) -> bool {
        matches!(self.storage, Storage::Contiguous { .. })
    }

    /// Reads rows `start .. start + out.len()` into `out`: u64 values for an unsigned column, the
    /// bit patterns of the sign-extended i64 values for a signed one.
    ///
    /// # Errors
    /// [`Fallback`] when the rows cannot be read here; `out` may then hold anything, and the
    /// caller reads them through HDF5.
    pub(crate) fn read_into(&self, start: u64, out: &mut [u64]) -> Result<(), Fallback> {
        if out.is_empty() {
            return Ok(());
        }
        let end = start
            .checked_add(out.len() as u64)
            .filter(|&end| end <= self.len)
            .ok_or(Fallback::OutOfRange)?;
        match &self.storage {
            Storage::Empty => Err(Fallback::OutOfRange),
            Storage::Contiguous { offset } => {
                // Inside the file: checked when probed (offset + len * size <= file size).
                let at = offset + start * self.elem.size as u64;
                read_rows_parallel(&self.file, at, self.elem, out)
            }
            Storage::Chunked(chunks) => chunks.read(&self.file, start, end, out),
        }
    }

    /// Whether the first rows (of a chunked column: of its first chunk) read here equal HDF5's
    /// read of them. One chunk is enough to check the meaning of chunk addresses; a later chunk
    /// that is damaged or missing is found, and left to HDF5, when it is read.
    fn agrees_with_hdf5(&self, ds: &hdf5::Dataset) -> bool {
        let rows = match &self.storage {
            Storage::Chunked(c) => c.rows_per_chunk(),
            _ => self.len,
        };
        let n = self.len.min(rows).min(SELF_CHECK_ROWS) as usize;
        let mut direct = vec![0u64; n];
        let mut reference = vec![0u64; n];
        if self.read_into(0, &mut direct).is_err() {
            return false;
        }
        let read = if self.elem.signed {
            let signed: &mut [i64] = bytemuck::cast_slice_mut(&mut reference);
            crate::sonata::bulk::read_range_into(ds, 0, signed)
        } else {
            crate::sonata::bulk::read_range_into(ds, 0, &mut reference)
        };
        read.is_ok() && direct == reference
    }
}

/// Reads `out.len()` values of `elem` stored from byte `at` of `file`, in parallel pieces of
/// about [`PIECE_BYTES`] (one piece on the calling thread).
fn read_rows_parallel(file: &File, at: u64, elem: Elem, out: &mut [u64]) -> Result<(), Fallback> {
    let piece_rows = (PIECE_BYTES / elem.size).max(1);
    let pieces: Vec<(usize, &mut [u64])> = out.chunks_mut(piece_rows).enumerate().collect();
    try_for_each_parallel(pieces, 1, |(i, piece)| {
        let skip = (i * piece_rows * elem.size) as u64;
        read_rows(file, at + skip, elem, piece)
    })
}

/// Runs `f` on every task, in parallel on this module's pool (at least `min_len` tasks per job),
/// or on the calling thread when there is one task, or a pool of one thread or none; stops at
/// the first error.
///
/// The pool is not rayon's global one: a thread that waits here must not depend on global
/// workers, which may all be blocked waiting for this very read (see the module docs). Its
/// workers run nothing but these tasks, which never wait for anything but the disk.
pub(super) fn try_for_each_parallel<T: Send>(
    tasks: Vec<T>,
    min_len: usize,
    f: impl Fn(T) -> Result<(), Fallback> + Sync + Send,
) -> Result<(), Fallback> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            // As many as the global pool (RAYON_NUM_THREADS, else one per core).
            .num_threads(rayon::current_num_threads())
            .thread_name(|i| format!("sonata-direct-{i}"))
            .build()
            .ok()
    });
    match pool {
        // One thread gains nothing over the calling thread but a hand-over.
        Some(pool) if tasks.len() > 1 && pool.current_num_threads() > 1 => {
            pool.install(|| tasks.into_par_iter().with_min_len(min_len).try_for_each(f))
        }
        _ => tasks.into_iter().try_for_each(f),
    }
}

/// Reads `out.len()` values of `elem` stored from byte `at` of `file`, widening them to u64.
fn read_rows(file: &File, at: u64, elem: Elem, out: &mut [u64]) -> Result<(), Fallback> {
    if elem.size == 8 {
        // Stored little-endian, as u64 is in memory here (checked when probed).
        return file
            .read_exact_at(bytemuck::cast_slice_mut(out), at)
            .map_err(|_| Fallback::Io);
    }
    chunked::with_scratch(|scratch| {
        scratch.clear();
        scratch.resize(out.len() * elem.size, 0);
        file.read_exact_at(scratch, at).map_err(|_| Fallback::Io)?;
        widen(scratch, elem, out);
        Ok(())
    })
}

/// Widens the little-endian values of `elem` in `src` to u64 (sign-extended when signed), as
/// many as `out` holds (`src` holds at least that many).
fn widen(src: &[u8], elem: Elem, out: &mut [u64]) {
    macro_rules! widen_as {
        ($n:literal, $t:ty, $wide:ty) => {{
            let (values, _) = src.as_chunks::<$n>();
            for (o, v) in out.iter_mut().zip(values) {
                // Through the wide signed type first for signed values: sign extension.
                *o = <$wide>::from(<$t>::from_le_bytes(*v)) as u64;
            }
        }};
    }
    match (elem.size, elem.signed) {
        (1, false) => widen_as!(1, u8, u64),
        (1, true) => widen_as!(1, i8, i64),
        (2, false) => widen_as!(2, u16, u64),
        (2, true) => widen_as!(2, i16, i64),
        (4, false) => widen_as!(4, u32, u64),
        (4, true) => widen_as!(4, i32, i64),
        (_, false) => widen_as!(8, u64, u64),
        (_, true) => widen_as!(8, i64, i64),
    }
}
