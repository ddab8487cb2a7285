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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::error::{Error, Location, Result};

/// Largest file scanned (64 MiB: read whole, a few tens of milliseconds). SONATA files keep
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
    let mut data = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SCANNED_BYTES)
        .read_to_end(&mut data)
        .ok()?;
    first_hanging_collection(&data)
}

/// The offset of the first `GCOL` collection in `data` whose object walk would not advance.
///
/// The search is `memchr`'s vectorised substring search: a byte-by-byte search took 15 ms of a
/// 0.23 s census of a 50 MB compressed file (whose bytes hold many `G`s).
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
    use super::first_hanging_collection;

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
