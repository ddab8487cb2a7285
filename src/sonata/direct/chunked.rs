//! Chunked id columns: where each chunk lies (asked of HDF5 once, remembered), and the decoding
//! of stored chunks (deflate, shuffle) on the module's threads.
//!
//! Chunk `k` holds rows `k * rows .. (k + 1) * rows` and is always stored whole, the last one
//! too. Its filter mask says which filters of the pipeline were skipped when it was written (bit
//! `i` set: filter `i` skipped); decoding undoes the others in reverse pipeline order.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use hdf5_sys::h5::HADDR_UNDEF;
use hdf5_sys::h5d::H5Dget_chunk_info_by_coord;
use libdeflater::{DecompressionError, Decompressor};

use super::{Elem, Fallback, PIECE_BYTES, read_rows, try_for_each_parallel, widen};

/// Chunks whose locations are remembered (16 bytes each): beyond this many chunks in a column,
/// each read asks HDF5 again.
const MAX_CACHED_CHUNKS: u64 = 1 << 20;

/// Scratch buffers above this size are freed after use rather than kept by their thread.
const MAX_KEPT_SCRATCH: usize = 8 << 20;

/// One filter of a chunked column's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// zlib (`H5Z_FILTER_DEFLATE`).
    Deflate,
    /// Byte shuffle of elements of `elem` bytes (`H5Z_FILTER_SHUFFLE`).
    Shuffle { elem: usize },
}

/// Where one chunk is stored: absolute file offset, stored size and filter mask. `addr == 0`
/// marks a chunk not looked up yet (offset 0 holds the superblock or a user block, never a chunk).
#[derive(Debug, Clone, Copy, Default)]
struct ChunkLoc {
    addr: u64,
    size: u32,
    mask: u32,
}

/// The shape of a chunked column and where its chunk addresses count from.
pub(crate) struct Geometry {
    /// Rows per chunk.
    pub(crate) rows: u64,
    /// Rows of the column.
    pub(crate) len: u64,
    pub(crate) elem: Elem,
    /// Added to the addresses HDF5 gives (the user block's size where they are relative to it).
    pub(crate) base: u64,
    /// Size of the file: no chunk lies beyond.
    pub(crate) file_len: u64,
}

/// A chunked column: its chunking, filters, and the locations of the chunks seen so far.
pub(crate) struct Chunked {
    /// For chunk lookups (HDF5 keeps the chunk index).
    dataset: hdf5::Dataset,
    rows: u64,
    chunks: u64,
    elem: Elem,
    /// In pipeline order (the order they were applied when writing).
    filters: Vec<Filter>,
    base: u64,
    file_len: u64,
    /// Indexed by chunk number; allocated at the first read, and only for columns of at most
    /// [`MAX_CACHED_CHUNKS`] chunks.
    cache: Mutex<Vec<ChunkLoc>>,
}

impl std::fmt::Debug for Chunked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunked")
            .field("rows", &self.rows)
            .field("chunks", &self.chunks)
            .field("filters", &self.filters)
            .finish_non_exhaustive()
    }
}

/// Per-thread buffers of the decoder, kept between chunks.
#[derive(Default)]
struct Scratch {
    read: Vec<u8>,
    work: Vec<u8>,
    inflate: Option<Decompressor>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's byte scratch buffer (a fresh one if it is already in use).
pub(super) fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    with_decoder(|s| f(&mut s.read))
}

fn with_decoder<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let result = f(&mut scratch);
            let Scratch { read, work, .. } = &mut *scratch;
            for buf in [read, work] {
                if buf.capacity() > MAX_KEPT_SCRATCH {
                    *buf = Vec::new();
                }
            }
            result
        }
        // Only if a decode on this thread were interrupted by another: never the case today,
        // but a fresh buffer is always correct.
        Err(_) => f(&mut Scratch::default()),
    })
}

impl Chunked {
    /// `geometry.rows` is at least 1 (probe).
    pub(super) fn new(dataset: hdf5::Dataset, geometry: Geometry, filters: Vec<Filter>) -> Self {
        let Geometry {
            rows,
            len,
            elem,
            base,
            file_len,
        } = geometry;
        Chunked {
            dataset,
            rows,
            chunks: len.div_ceil(rows),
            elem,
            filters,
            base,
            file_len,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// Rows per chunk.
    pub(super) fn rows_per_chunk(&self) -> u64 {
        self.rows
    }

    #[cfg(test)]
    pub(super) fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Bytes of one decoded chunk.
    fn chunk_bytes(&self) -> usize {
        // At most MAX_FILTERED_CHUNK_BYTES for filtered columns (probe); unfiltered chunks are
        // never decoded whole.
        self.rows as usize * self.elem.size
    }

    /// Reads rows `start..end` (inside the column, `end > start`) into `out`.
    pub(super) fn read(
        &self,
        file: &File,
        start: u64,
        end: u64,
        out: &mut [u64],
    ) -> Result<(), Fallback> {
        let first = start / self.rows;
        let last = (end - 1) / self.rows;
        let locations = self.locate(first, last)?;
        // One task per chunk: the rows it gives and where they go.
        let mut tasks = Vec::with_capacity(locations.len());
        let mut rest = out;
        let mut row = start;
        for (k, loc) in (first..=last).zip(locations) {
            let chunk_start = k * self.rows;
            let chunk_end = chunk_start.saturating_add(self.rows).min(end);
            let (head, tail) = rest.split_at_mut((chunk_end - row) as usize);
            tasks.push((loc, row - chunk_start, head));
            rest = tail;
            row = chunk_end;
        }
        // Several small chunks per job: a job costs more than reading a few rows.
        let per_job = (PIECE_BYTES / self.chunk_bytes().max(1)).max(1);
        try_for_each_parallel(tasks, per_job, |(loc, skip, out)| {
            self.read_chunk(file, loc, skip, out)
        })
    }

    /// The locations of chunks `first..=last`, from the cache or from HDF5 (under its lock, on
    /// the calling thread: a caller that holds the lock already is not blocked by its own
    /// workers). The cache and HDF5's lock are never held together.
    fn locate(&self, first: u64, last: u64) -> Result<Vec<ChunkLoc>, Fallback> {
        let n = (last - first + 1) as usize;
        let cacheable = self.chunks <= MAX_CACHED_CHUNKS;
        let mut found = vec![ChunkLoc::default(); n];
        if cacheable
            && let Ok(cache) = self.cache.lock()
            && let Some(cached) = cache.get(first as usize..=last as usize)
        {
            found.copy_from_slice(cached);
        }
        if found.iter().all(|loc| loc.addr != 0) {
            return Ok(found);
        }
        hdf5::sync::sync(|| {
            for (k, loc) in (first..).zip(found.iter_mut()) {
                if loc.addr == 0 {
                    *loc = self.lookup(k)?;
                }
            }
            Ok(())
        })?;
        if cacheable && let Ok(mut cache) = self.cache.lock() {
            if cache.is_empty() && cache.try_reserve_exact(self.chunks as usize).is_ok() {
                cache.resize(self.chunks as usize, ChunkLoc::default());
            }
            if let Some(slots) = cache.get_mut(first as usize..=last as usize) {
                slots.copy_from_slice(&found);
            }
        }
        Ok(found)
    }

    /// Asks HDF5 where chunk `k` is (HDF5's lock is held by the caller).
    fn lookup(&self, k: u64) -> Result<ChunkLoc, Fallback> {
        let offset = [k * self.rows];
        let mut mask: std::ffi::c_uint = 0;
        let mut addr = HADDR_UNDEF;
        let mut size = 0u64;
        // SAFETY: the dataset is open, `offset` has one coordinate (the dataset is 1-D) and the
        // out-pointers point to locals of the types HDF5 writes; HDF5's lock is held (`locate`).
        let status = unsafe {
            H5Dget_chunk_info_by_coord(
                self.dataset.id(),
                offset.as_ptr(),
                &raw mut mask,
                &raw mut addr,
                &raw mut size,
            )
        };
        if status < 0 {
            return Err(Fallback::BadChunk);
        }
        if addr == HADDR_UNDEF {
            return Err(Fallback::Unallocated);
        }
        let size = u32::try_from(size).map_err(|_| Fallback::BadChunk)?;
        let addr = addr.checked_add(self.base).ok_or(Fallback::BadChunk)?;
        if addr == 0 || size == 0 || addr.saturating_add(u64::from(size)) > self.file_len {
            return Err(Fallback::BadChunk);
        }
        Ok(ChunkLoc { addr, size, mask })
    }

    /// Whether filter `i` of the pipeline was applied to a chunk with filter mask `mask`.
    fn applied(mask: u32, i: usize) -> bool {
        i >= 32 || mask & (1 << i) == 0
    }

    /// Reads `out.len()` rows of the chunk at `loc`, from its row `skip`.
    fn read_chunk(
        &self,
        file: &File,
        loc: ChunkLoc,
        skip: u64,
        out: &mut [u64],
    ) -> Result<(), Fallback> {
        let chunk_bytes = self.chunk_bytes();
        let active = (0..self.filters.len()).any(|i| Self::applied(loc.mask, i));
        if !active {
            // Stored as is: read only the rows wanted.
            if loc.size as usize != chunk_bytes {
                return Err(Fallback::Decode);
            }
            return read_rows(
                file,
                loc.addr + skip * self.elem.size as u64,
                self.elem,
                out,
            );
        }
        // Deflate alone over a whole chunk of 8-byte values (h5py's `compression="gzip"` on u64
        // ids): inflated straight into `out`, sparing a copy of every decoded byte.
        let only_deflate = (0..self.filters.len())
            .filter(|&i| Self::applied(loc.mask, i))
            .all(|i| matches!(self.filters[i], Filter::Deflate));
        let in_place =
            only_deflate && skip == 0 && out.len() as u64 == self.rows && self.elem.size == 8;
        with_decoder(|scratch| {
            let Scratch {
                read,
                work,
                inflate,
            } = scratch;
            read.clear();
            read.resize(loc.size as usize, 0);
            file.read_exact_at(read, loc.addr)
                .map_err(|_| Fallback::Io)?;
            if in_place {
                let decoder = inflate.get_or_insert_with(Decompressor::new);
                return inflate_exact(decoder, read, bytemuck::cast_slice_mut(out));
            }
            // Undo the applied filters, last applied first; `read` holds the current bytes.
            let mut steps = (0..self.filters.len())
                .rev()
                .filter(|&i| Self::applied(loc.mask, i))
                .peekable();
            while let Some(i) = steps.next() {
                let last = steps.peek().is_none();
                match self.filters[i] {
                    Filter::Shuffle { elem } => {
                        if last && elem == self.elem.size && read.len() == chunk_bytes {
                            // The common final step: unshuffle just the rows wanted, into `out`.
                            gather_unshuffled(read, self.elem, self.rows as usize, skip, out);
                            return Ok(());
                        }
                        unshuffle(read, elem, work);
                    }
                    Filter::Deflate => {
                        // Only shuffles (which keep the size) may follow: then the stream must
                        // decode to exactly one chunk; otherwise to anything reasonable.
                        let rest_keeps_size = self.filters[..i]
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| Self::applied(loc.mask, j))
                            .all(|(_, f)| matches!(f, Filter::Shuffle { .. }));
                        let limit = if rest_keeps_size {
                            chunk_bytes
                        } else {
                            2 * chunk_bytes + 4096
                        };
                        let decoder = inflate.get_or_insert_with(Decompressor::new);
                        inflate_into(decoder, read, work, limit)?;
                    }
                }
                std::mem::swap(read, work);
            }
            if read.len() != chunk_bytes {
                return Err(Fallback::Decode);
            }
            let from = skip as usize * self.elem.size;
            widen(&read[from..], self.elem, out);
            Ok(())
        })
    }
}

/// Decodes the zlib stream `input` into `out` (replacing its contents), refusing output beyond
/// `limit` bytes and streams that are damaged or end early. Bytes after the stream's end are
/// ignored, as HDF5's deflate filter does.
fn inflate_into(
    decoder: &mut Decompressor,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), Fallback> {
    // (`out` keeps its length from the last chunk, so only what it lacks is zeroed.)
    out.resize(limit, 0);
    let produced = decoder
        .zlib_decompress(input, out)
        .map_err(|_: DecompressionError| Fallback::Decode)?;
    out.truncate(produced);
    Ok(())
}

/// Decodes the zlib stream `input` into exactly `out`: a stream that decodes to fewer or more
/// bytes, or is damaged, is refused.
fn inflate_exact(decoder: &mut Decompressor, input: &[u8], out: &mut [u8]) -> Result<(), Fallback> {
    match decoder.zlib_decompress(input, out) {
        Ok(produced) if produced == out.len() => Ok(()),
        _ => Err(Fallback::Decode),
    }
}

/// Undoes HDF5's shuffle of elements of `elem` bytes: `src` holds byte 0 of every element, then
/// byte 1 of every element, ...; the bytes after the last whole element were not shuffled.
/// Exactly as HDF5's filter: nothing to undo for 1-byte elements or fewer than 2 elements.
pub(super) fn unshuffle(src: &[u8], elem: usize, dst: &mut Vec<u8>) {
    dst.clear();
    let n = if elem > 1 { src.len() / elem } else { 0 };
    if n <= 1 {
        dst.extend_from_slice(src);
        return;
    }
    dst.resize(src.len(), 0);
    let whole = n * elem;
    for (b, plane) in src[..whole].chunks_exact(n).enumerate() {
        for (i, &byte) in plane.iter().enumerate() {
            dst[i * elem + b] = byte;
        }
    }
    dst[whole..].copy_from_slice(&src[whole..]);
}

/// Rows `skip .. skip + out.len()` of a shuffled chunk of `rows` elements of `elem` (`src` holds
/// exactly `rows * elem.size` bytes), unshuffled and widened into `out`.
fn gather_unshuffled(src: &[u8], elem: Elem, rows: usize, skip: u64, out: &mut [u64]) {
    let skip = skip as usize;
    if elem.size == 1 || rows <= 1 {
        // HDF5 leaves such chunks as they are.
        widen(&src[skip * elem.size..], elem, out);
        return;
    }
    let n = out.len();
    macro_rules! gather_as {
        ($n:literal, $t:ty, $wide:ty) => {{
            // Byte b of row i is at b * rows + i: one slice of the wanted rows per byte plane.
            let planes: [&[u8]; $n] = std::array::from_fn(|b| &src[b * rows + skip..][..n]);
            for (i, o) in out.iter_mut().enumerate() {
                let bytes: [u8; $n] = std::array::from_fn(|b| planes[b][i]);
                *o = <$wide>::from(<$t>::from_le_bytes(bytes)) as u64;
            }
        }};
    }
    match (elem.size, elem.signed) {
        (2, false) => gather_as!(2, u16, u64),
        (2, true) => gather_as!(2, i16, i64),
        (4, false) => gather_as!(4, u32, u64),
        (4, true) => gather_as!(4, i32, i64),
        (_, false) => gather_as!(8, u64, u64),
        (_, true) => gather_as!(8, i64, i64),
    }
}

#[cfg(test)]
mod inflate_tests {
    use libdeflater::{CompressionLvl, Compressor};

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut c = Compressor::new(CompressionLvl::new(4).unwrap());
        let mut out = vec![0; c.zlib_compress_bound(data.len())];
        let n = c.zlib_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn streams_decode_as_hdf5s_filter_decodes_them() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let stream = zlib(&data);
        let mut d = Decompressor::new();
        let mut out = Vec::new();
        inflate_into(&mut d, &stream, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
        // A larger limit: the stream's own length.
        inflate_into(&mut d, &stream, &mut out, 2 * data.len()).unwrap();
        assert_eq!(out, data);
        // Bytes after the stream's end are ignored, as HDF5 ignores them.
        let mut trailing = stream.clone();
        trailing.extend_from_slice(&[7; 32]);
        inflate_into(&mut d, &trailing, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
        let mut exact = vec![0u8; data.len()];
        inflate_exact(&mut d, &trailing, &mut exact).unwrap();
        assert_eq!(exact, data);
        // Refused: more output than allowed, a stream cut short, a damaged checksum, a stream
        // shorter than the chunk.
        assert_eq!(
            inflate_into(&mut d, &stream, &mut out, data.len() - 1),
            Err(Fallback::Decode)
        );
        assert_eq!(
            inflate_into(&mut d, &stream[..stream.len() - 9], &mut out, data.len()),
            Err(Fallback::Decode)
        );
        let mut bad_sum = stream.clone();
        let last = bad_sum.len() - 1;
        bad_sum[last] ^= 1;
        assert_eq!(
            inflate_into(&mut d, &bad_sum, &mut out, data.len()),
            Err(Fallback::Decode)
        );
        let mut longer = vec![0u8; data.len() + 8];
        assert_eq!(
            inflate_exact(&mut d, &stream, &mut longer),
            Err(Fallback::Decode)
        );
        // An empty chunk's stream.
        inflate_into(&mut d, &zlib(&[]), &mut out, 0).unwrap();
        assert!(out.is_empty());
    }
}
