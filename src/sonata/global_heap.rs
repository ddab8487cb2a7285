//! A guard run before HDF5 reads variable-length strings: checks the file's global heap
//! collections, where those strings live, for the damage that makes HDF5 hang.
//!
//! HDF5 (1.10 to 2.2 at least) decodes a global heap collection (`H5HG__cache_heap_deserialize`)
//! by walking its objects; an object with index 0 (free space) and size 0 before the end of the
//! collection makes the walk stand still: the read never returns. One flipped byte in a
//! collection does that, and any string attribute (`node_population`) or string column
//! (`@library` tables) read from it hangs the process. Which collection a string lives in is only
//! known to HDF5, so the guard checks every collection of the file: it finds them by their
//! signature (`GCOL`) and walks them the way HDF5 does. A file is scanned once per process (the
//! answer is cached by path, size and modification time), and only files up to
//! [`MAX_SCANNED_BYTES`]: variable-length strings in larger files are read unchecked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::error::{Error, Location, Result};

/// Largest file scanned (64 MiB, read a block at a time: a few milliseconds). SONATA files keep
/// their strings in small node files and in attributes; large edge files are not scanned.
pub const MAX_SCANNED_BYTES: u64 = 64 << 20;

/// Bytes of a collection header before its first object (signature, version, reserved, size),
/// and of an object header (index, references, reserved, size), with 8-byte lengths.
const HEADER: usize = 16;
const OBJECT_HEADER: usize = 16;

type Key = (PathBuf, u64, Option<SystemTime>);

fn cache() -> &'static Mutex<HashMap<Key, Option<u64>>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<Key, Option<u64>>>> =
        std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Errors when the file of `at` holds a global heap collection HDF5 would hang on; call before
/// reading variable-length strings from it.
///
/// # Errors
/// [`Error::InvalidData`] naming the collection's offset.
pub(crate) fn check(at: &Location) -> Result<()> {
    let Some(bad) = scan_cached(&at.file) else {
        return Ok(());
    };
    Err(Error::invalid(
        at.clone(),
        format!(
            "the global heap collection at byte {bad}, where variable-length strings are kept, \
             is damaged (an object of size 0): its strings cannot be read"
        ),
    ))
}

fn scan_cached(path: &Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_SCANNED_BYTES {
        return None;
    }
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(answer) = cache().lock().ok()?.get(&key) {
        return *answer;
    }
    let answer = scan(path);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, answer);
    }
    answer
}

/// The offset of the first collection of the file at `path` HDF5 would hang on.
fn scan(path: &Path) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len().min(MAX_SCANNED_BYTES);
    first_hanging_collection_in(&file, len, SCAN_BLOCK)
}

/// Bytes read at a time by [`scan`]: the file is searched block by block in one reused buffer
/// (reading a 50 MB file whole into a growing vector took 40 ms of page faults and copies, a
/// fifth of a census of its compressed columns).
const SCAN_BLOCK: usize = 4 << 20;

/// The offset of the first collection in the first `len` bytes of `file` that HDF5's walk would
/// not get through, read `block` bytes at a time: each collection found is read on its own and
/// walked as HDF5 would. The search is `memchr`'s vectorised substring search (a byte-by-byte
/// one took 15 ms of a 0.23 s census of a 50 MB compressed file, whose bytes hold many `G`s).
fn first_hanging_collection_in(file: &std::fs::File, len: u64, block: usize) -> Option<u64> {
    const SIGNATURE: &[u8; 4] = b"GCOL";
    // Each block is read with the signature's length - 1 bytes of the next, so that a signature
    // across two blocks is found (in the first of them only).
    let overlap = SIGNATURE.len() - 1;
    let mut buf = vec![0u8; block + overlap];
    let mut pos = 0u64;
    while pos < len {
        let want = usize::try_from(len - pos).map_or(buf.len(), |rest| rest.min(buf.len()));
        let got = read_full_at(file, &mut buf[..want], pos)?;
        let last = pos + got as u64 >= len;
        for at in memchr::memmem::find_iter(&buf[..got], SIGNATURE) {
            if at >= block && !last {
                break; // found again at the start of the next block
            }
            let offset = pos + at as u64;
            if collection_hangs(file, offset, len) {
                return Some(offset);
            }
        }
        if last {
            break;
        }
        pos += block as u64;
    }
    None
}

/// Whether the collection at `offset` of `file` (of `len` bytes scanned) would hang HDF5's walk:
/// its bytes read on their own, then [`hangs`], with the same end of file.
fn collection_hangs(file: &std::fs::File, offset: u64, len: u64) -> bool {
    let mut header = [0u8; HEADER];
    if read_full_at(file, &mut header, offset) != Some(HEADER) || header[4] != 1 {
        return false; // HDF5 refuses other versions (or the header runs off the end)
    }
    let Some(size) = u64_at(&header, 8) else {
        return false;
    };
    // Past the end of the scanned bytes: HDF5 cannot read it either.
    let Some(size) = usize::try_from(size)
        .ok()
        .filter(|&s| offset.checked_add(s as u64).is_some_and(|end| end <= len))
    else {
        return false;
    };
    let mut data = vec![0u8; size.max(HEADER)];
    if read_full_at(file, &mut data, offset) != Some(data.len()) {
        return false;
    }
    data.truncate(size);
    hangs(&data, 0)
}

/// Reads into `buf` from `offset` until it is full or the file ends; the bytes read, `None` on
/// an I/O error.
fn read_full_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> Option<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(n)
}

/// The offset of the first `GCOL` collection in `data` whose object walk would not advance: the
/// scan of bytes in memory, which the file scan ([`scan`]) is tested against.
#[cfg(test)]
pub(crate) fn first_hanging_collection(data: &[u8]) -> Option<u64> {
    memchr::memmem::find_iter(data, b"GCOL")
        .find(|&at| hangs(data, at))
        .map(|at| at as u64)
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// Whether HDF5's walk of the collection at `at` would stand still (as
/// `H5HG__cache_heap_deserialize` does, with the file's usual 8-byte lengths).
fn hangs(data: &[u8], at: usize) -> bool {
    if data.get(at + 4) != Some(&1) {
        return false; // HDF5 refuses other versions
    }
    let Some(size) = u64_at(data, at + 8) else {
        return false;
    };
    let Some(end) = usize::try_from(size)
        .ok()
        .and_then(|s| at.checked_add(s))
        .filter(|&e| e <= data.len())
    else {
        return false; // HDF5 cannot read past the end of the file
    };
    let mut p = at + HEADER;
    while p < end {
        if p + OBJECT_HEADER > end {
            return false; // free space at the tail
        }
        let idx = u16::from_le_bytes([data[p], data[p + 1]]);
        let Some(obj_size) = u64_at(data, p + 8) else {
            return false;
        };
        let need = if idx > 0 {
            obj_size.saturating_add(7) / 8 * 8 + OBJECT_HEADER as u64
        } else {
            obj_size
        };
        if need == 0 {
            return true;
        }
        match usize::try_from(need).ok().and_then(|n| p.checked_add(n)) {
            Some(next) if next <= end => p = next,
            _ => return false, // HDF5 reports running off the end
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{first_hanging_collection, first_hanging_collection_in};

    fn collection(objects: &[(u16, u64)], size: u64) -> Vec<u8> {
        let mut v = b"GCOL\x01\0\0\0".to_vec();
        v.extend_from_slice(&size.to_le_bytes());
        for &(idx, len) in objects {
            v.extend_from_slice(&idx.to_le_bytes());
            v.extend_from_slice(&[1, 0, 0, 0, 0, 0]);
            v.extend_from_slice(&len.to_le_bytes());
            if idx > 0 {
                v.extend(std::iter::repeat_n(b'x', len.div_ceil(8) as usize * 8));
            }
        }
        v.resize(size as usize, 0);
        v
    }

    #[test]
    fn a_free_object_of_size_0_inside_a_collection_is_found() {
        let mut file = vec![0u8; 100];
        let good = collection(&[(1, 5), (2, 7), (0, 4096 - 16 - 24 - 24)], 4096);
        assert_eq!(first_hanging_collection(&good), None);
        file.extend(good);
        assert_eq!(first_hanging_collection(&file), None);
        let bad = collection(&[(1, 5), (0, 0), (2, 7)], 4096);
        file.extend(&bad);
        assert_eq!(first_hanging_collection(&file), Some(100 + 4096));
    }

    /// The block-by-block scan of a file finds what the scan of its bytes in memory finds,
    /// with collections and signatures across block boundaries and blocks of every small size.
    #[test]
    fn the_streamed_scan_equals_the_scan_in_memory() {
        use std::io::Write;
        let good = collection(&[(1, 5), (2, 7), (0, 4096 - 16 - 24 - 24)], 4096);
        let bad = collection(&[(1, 5), (0, 0), (2, 7)], 4096);
        let mut truncated = collection(&[(1, 5), (0, 0)], 4096);
        truncated.truncate(3000);
        let layouts: [Vec<&[u8]>; 4] = [
            vec![&[0u8; 100], &good, &bad],
            vec![&[7u8; 33], &good, &[1u8; 5], &good],
            vec![&bad],
            vec![&[0u8; 10], &good, &truncated],
        ];
        let dir = tempfile::tempdir().unwrap();
        for (i, parts) in layouts.iter().enumerate() {
            let bytes: Vec<u8> = parts.concat();
            let path = dir.path().join(format!("f{i}.bin"));
            std::fs::File::create(&path)
                .unwrap()
                .write_all(&bytes)
                .unwrap();
            let file = std::fs::File::open(&path).unwrap();
            let want = first_hanging_collection(&bytes);
            for block in [1, 2, 3, 4, 5, 7, 64, 100, 4095, 4096, 4097, 1 << 20] {
                let got = first_hanging_collection_in(&file, bytes.len() as u64, block);
                assert_eq!(got, want, "layout {i}, blocks of {block}");
            }
            // A scan of fewer bytes than the file: collections past them are not walked.
            let short = bytes.len() as u64 / 2;
            assert_eq!(
                first_hanging_collection_in(&file, short, 4096),
                first_hanging_collection(&bytes[..short as usize]),
                "layout {i}, first half"
            );
        }
    }

    #[test]
    fn collections_hdf5_refuses_are_left_to_hdf5() {
        // Past the end of the file, another version, a size that runs off: HDF5 errors cleanly.
        let mut c = collection(&[(1, 5), (0, 0)], 4096);
        c.truncate(1000);
        assert_eq!(first_hanging_collection(&c), None);
        let mut c = collection(&[(1, 5), (0, 0)], 4096);
        c[4] = 2;
        assert_eq!(first_hanging_collection(&c), None);
    }
}
