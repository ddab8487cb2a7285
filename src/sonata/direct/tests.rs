//! The fast path against HDF5's own reads, on datasets written here: every integer type, every
//! storage it serves, awkward chunkings; and the datasets it must leave to HDF5.

use std::path::{Path, PathBuf};

use hdf5::H5Type;
use hdf5_sys::h5d::{H5D_layout_t, H5Dclose, H5Dcreate2, H5Dwrite};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{
    H5P_DEFAULT, H5Pclose, H5Pcreate, H5Pset_chunk, H5Pset_deflate, H5Pset_external, H5Pset_layout,
    H5Pset_shuffle,
};
use hdf5_sys::h5s::{H5S_ALL, H5Sclose, H5Screate_simple};
use hdf5_sys::h5t::{H5Tclose, H5Tcopy, H5Tset_precision};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// How a test dataset is stored.
#[derive(Debug, Clone, Copy)]
enum Store {
    Contiguous,
    Chunked(usize),
    Deflate(usize),
    ShuffleDeflate(usize),
}

impl Store {
    fn chunk(self) -> Option<usize> {
        match self {
            Store::Contiguous => None,
            Store::Chunked(c) | Store::Deflate(c) | Store::ShuffleDeflate(c) => Some(c),
        }
    }
}

/// Writes `data` as dataset `x` of a new file `name` in `dir`, stored as `store`; resizable
/// when a chunk is longer than the data (HDF5 wants fixed dimensions of at least one chunk).
fn write<T: H5Type>(dir: &Path, name: &str, data: &[T], store: Store) -> PathBuf {
    let path = dir.join(name);
    let file = hdf5::File::create(&path).unwrap();
    write_into(&file, "x", data, store);
    path
}

fn write_into<T: H5Type>(file: &hdf5::File, name: &str, data: &[T], store: Store) {
    let mut builder = file.new_dataset::<T>();
    match store {
        Store::Contiguous => {
            builder = builder.no_chunk();
        }
        Store::Chunked(c) => builder = builder.chunk(c),
        Store::Deflate(c) => builder = builder.chunk(c).deflate(4),
        Store::ShuffleDeflate(c) => builder = builder.chunk(c).shuffle().deflate(4),
    }
    let n = data.len();
    let ds = if store.chunk().is_some_and(|c| c > n) {
        builder.shape(n..).create(name).unwrap()
    } else {
        builder.shape(n).create(name).unwrap()
    };
    if n > 0 {
        ds.as_writer().write_slice(data, 0..n).unwrap();
    }
}

/// Opens dataset `x` of `path` read-only and probes it.
fn open(path: &Path) -> (hdf5::File, hdf5::Dataset, Option<DirectColumn>) {
    let file = hdf5::File::open(path).unwrap();
    let ds = file.dataset("x").unwrap();
    let direct = probe(&ds, path);
    (file, ds, direct)
}

/// HDF5's read of rows `start..start + n` as the id reader does it: u64, or i64 bit patterns.
fn hdf5_read(ds: &hdf5::Dataset, signed: bool, start: u64, n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    if signed {
        let s: &mut [i64] = bytemuck::cast_slice_mut(&mut out);
        crate::sonata::bulk::read_range_into(ds, start, s).unwrap();
    } else {
        crate::sonata::bulk::read_range_into(ds, start, &mut out).unwrap();
    }
    out
}

/// Ranges worth reading of a column of `len` rows in chunks of `chunk` rows: the whole, single
/// rows at both ends and around chunk boundaries, ranges across boundaries, random ones.
fn ranges(len: u64, chunk: Option<u64>, rng: &mut StdRng) -> Vec<(u64, u64)> {
    let mut r = vec![(0, len)];
    if len == 0 {
        return r;
    }
    r.extend([
        (0, 1),
        (len - 1, len),
        (len / 2, len / 2 + 1),
        (0, len.min(3)),
    ]);
    if let Some(c) = chunk {
        for k in [1, 2, len / c / 2, len / c] {
            let b = k * c;
            for (a, e) in [
                (b.saturating_sub(1), b + 1),
                (b.saturating_sub(3), b + 2 * c + 5),
            ] {
                r.push((a.min(len - 1), e.min(len)));
            }
            r.push((b.min(len - 1), (b + 1).min(len)));
        }
    }
    for _ in 0..40 {
        let a = rng.random_range(0..len);
        let n = match rng.random_range(0..3) {
            0 => rng.random_range(1..=len - a).min(5),
            1 => rng.random_range(1..=len - a).min(3000),
            _ => rng.random_range(1..=len - a),
        };
        r.push((a, a + n));
    }
    r.retain(|&(a, b)| a < b);
    r
}

/// Checks every [`ranges`] read of `path`'s dataset against HDF5; the column must be probed.
fn check_against_hdf5(path: &Path, store: Store, seed: u64) {
    let (_file, ds, direct) = open(path);
    let direct = direct.unwrap_or_else(|| panic!("{path:?} ({store:?}) was not probed"));
    assert_eq!(
        direct.chunking().map(|(rows, _)| rows as usize),
        store.chunk()
    );
    let signed = direct.elem().signed;
    let mut rng = StdRng::seed_from_u64(seed);
    for (a, b) in ranges(direct.len(), store.chunk().map(|c| c as u64), &mut rng) {
        let mut got = vec![0u64; (b - a) as usize];
        direct.read_into(a, &mut got).unwrap();
        assert!(
            got == hdf5_read(&ds, signed, a, got.len()),
            "{store:?}: rows {a}..{b} differ from HDF5's"
        );
    }
}

/// `len` values: runs of small ids (as sorted id columns have, so chunks compress) and random bit
/// patterns (negative ones for signed types when `negatives`).
macro_rules! values {
    ($t:ty, $len:expr, $negatives:expr, $seed:expr) => {{
        let mut rng = StdRng::seed_from_u64($seed);
        (0..$len)
            .map(|i: usize| {
                let v: $t = if rng.random_bool(0.5) {
                    (i / 7 % 100) as $t
                } else {
                    rng.random::<u64>() as $t
                };
                #[allow(unused_comparisons)]
                if !$negatives && v < (0 as $t) {
                    v.wrapping_neg().max(0 as $t)
                } else {
                    v
                }
            })
            .collect::<Vec<$t>>()
    }};
}

/// Every storage with awkward lengths, for one type.
macro_rules! every_storage {
    ($t:ty, $negatives:expr) => {{
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(usize, Store)] = &[
            (10_007, Store::Contiguous),
            (10_007, Store::Chunked(1000)),
            (10_007, Store::Deflate(1000)),
            (10_007, Store::ShuffleDeflate(1000)),
            // Chunks that divide the length, one-row chunks, a length below one chunk.
            (12_000, Store::ShuffleDeflate(4000)),
            (1_500, Store::Chunked(1)),
            (1_500, Store::ShuffleDeflate(1)),
            (700, Store::Deflate(1000)),
            (700, Store::ShuffleDeflate(1000)),
            (1, Store::ShuffleDeflate(1000)),
            // Pieces beyond PIECE_BYTES, read in parallel.
            (400_000, Store::Contiguous),
            (400_000, Store::Chunked(65_536)),
            (400_000, Store::ShuffleDeflate(65_536)),
        ];
        for (i, &(len, store)) in cases.iter().enumerate() {
            let data = values!($t, len, $negatives, i as u64);
            let name = format!("{}_{i}.h5", stringify!($t));
            let path = write(dir.path(), &name, &data, store);
            check_against_hdf5(&path, store, i as u64);
        }
    }};
}

#[test]
fn unsigned_columns_read_as_hdf5_reads_them() {
    every_storage!(u8, false);
    every_storage!(u16, false);
    every_storage!(u32, false);
    every_storage!(u64, false);
}

#[test]
fn signed_columns_read_as_hdf5_reads_them() {
    every_storage!(i8, true);
    every_storage!(i16, true);
    every_storage!(i32, true);
    every_storage!(i64, true);
}

#[test]
fn signed_columns_without_negatives_read_as_hdf5_reads_them() {
    every_storage!(i8, false);
    every_storage!(i32, false);
    every_storage!(i64, false);
}

#[test]
fn values_are_widened_and_sign_extended() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.h5", &[-1i16, 2, i16::MIN], Store::Contiguous);
    let (_f, _ds, direct) = open(&path);
    let mut out = [0u64; 3];
    direct.unwrap().read_into(0, &mut out).unwrap();
    assert_eq!(out, [u64::MAX, 2, i64::from(i16::MIN) as u64]);
    let path = write(dir.path(), "b.h5", &[u32::MAX, 7], Store::ShuffleDeflate(2));
    let (_f, _ds, direct) = open(&path);
    let mut out = [0u64; 2];
    direct.unwrap().read_into(0, &mut out).unwrap();
    assert_eq!(out, [u64::from(u32::MAX), 7]);
}

#[test]
fn pipelines_record_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.h5", &[1u32; 100], Store::ShuffleDeflate(10));
    let (_f, _ds, direct) = open(&path);
    let direct = direct.unwrap();
    assert_eq!(
        direct.chunking().unwrap().1,
        &[Filter::Shuffle { elem: 4 }, Filter::Deflate]
    );
    // Deflate before shuffle (allowed by HDF5, refused by the hdf5 crate's builder): decoding
    // unshuffles the compressed bytes first.
    let data = values!(u64, 5000, false, 3);
    let path = dir.path().join("b.h5");
    let file = hdf5::File::create(&path).unwrap();
    raw_dataset(
        &file,
        "x",
        *hdf5::globals::H5T_NATIVE_UINT64,
        &data,
        |dcpl| unsafe {
            H5Pset_chunk(dcpl, 1, [700u64].as_ptr());
            H5Pset_deflate(dcpl, 4);
            H5Pset_shuffle(dcpl);
        },
    );
    drop(file);
    let (_f, _ds, direct) = open(&path);
    assert_eq!(
        direct.unwrap().chunking().unwrap().1,
        &[Filter::Deflate, Filter::Shuffle { elem: 8 }]
    );
    check_against_hdf5(&path, Store::ShuffleDeflate(700), 3);
}

#[test]
fn empty_columns_are_probed_and_refuse_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (i, store) in [
        Store::Contiguous,
        Store::Chunked(10),
        Store::ShuffleDeflate(10),
    ]
    .into_iter()
    .enumerate()
    {
        let path = write(dir.path(), &format!("{i}.h5"), &[] as &[u64], store);
        let (_f, _ds, direct) = open(&path);
        let direct = direct.unwrap_or_else(|| panic!("{store:?}"));
        assert_eq!(direct.len(), 0);
        direct.read_into(0, &mut []).unwrap();
        assert_eq!(direct.read_into(0, &mut [0]), Err(Fallback::OutOfRange));
    }
}

#[test]
fn rows_past_the_end_are_left_to_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    for (i, store) in [Store::Contiguous, Store::Deflate(10)]
        .into_iter()
        .enumerate()
    {
        let path = write(dir.path(), &format!("{i}.h5"), &[5u64; 25], store);
        let (_f, _ds, direct) = open(&path);
        let direct = direct.unwrap();
        assert_eq!(direct.read_into(20, &mut [0; 6]), Err(Fallback::OutOfRange));
        assert_eq!(
            direct.read_into(u64::MAX, &mut [0; 2]),
            Err(Fallback::OutOfRange)
        );
        let mut out = [0; 5];
        direct.read_into(20, &mut out).unwrap();
        assert_eq!(out, [5; 5]);
    }
}

#[test]
fn user_blocks_are_part_of_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let data = values!(u64, 20_000, false, 9);
    for (i, store) in [
        Store::Contiguous,
        Store::Chunked(3000),
        Store::ShuffleDeflate(3000),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("{i}.h5"));
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.userblock(4096))
            .create(&path)
            .unwrap();
        write_into(&file, "x", &data, store);
        drop(file);
        check_against_hdf5(&path, store, i as u64);
    }
}

/// Creates dataset `name` with HDF5's own calls: `dtype` (also the memory type of `data`, so
/// `data` must have its size) and a creation property list set up by `dcpl`.
fn raw_dataset<T: bytemuck::Pod>(
    file: &hdf5::File,
    name: &str,
    dtype: hid_t,
    data: &[T],
    dcpl: impl FnOnce(hid_t),
) {
    let cname = std::ffi::CString::new(name).unwrap();
    hdf5::sync::sync(|| unsafe {
        let space = H5Screate_simple(1, [data.len() as u64].as_ptr(), std::ptr::null());
        let plist = H5Pcreate(*hdf5::globals::H5P_DATASET_CREATE);
        dcpl(plist);
        let ds = H5Dcreate2(
            file.id(),
            cname.as_ptr(),
            dtype,
            space,
            H5P_DEFAULT,
            plist,
            H5P_DEFAULT,
        );
        assert!(ds >= 0, "H5Dcreate2 {name}");
        let written = H5Dwrite(
            ds,
            dtype,
            H5S_ALL,
            H5S_ALL,
            H5P_DEFAULT,
            data.as_ptr().cast(),
        );
        assert!(written >= 0, "H5Dwrite {name}");
        H5Dclose(ds);
        H5Pclose(plist);
        H5Sclose(space);
    });
}

#[test]
fn other_storage_is_left_to_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("others.h5");
    let file = hdf5::File::create(&path).unwrap();
    let data: Vec<u32> = (0..1000).collect();
    // Big-endian: HDF5 swaps the bytes.
    raw_dataset(
        &file,
        "big_endian",
        *hdf5::globals::H5T_STD_U32BE,
        &data,
        |_| {},
    );
    // Fewer bits than bytes.
    let narrow = hdf5::sync::sync(|| unsafe {
        let t = H5Tcopy(*hdf5::globals::H5T_STD_U32LE);
        H5Tset_precision(t, 20);
        t
    });
    raw_dataset(&file, "precision", narrow, &data, |_| {});
    hdf5::sync::sync(|| unsafe { H5Tclose(narrow) });
    // Compact: the data lives in the object header.
    raw_dataset(
        &file,
        "compact",
        *hdf5::globals::H5T_NATIVE_UINT32,
        &data[..100],
        |dcpl| unsafe {
            H5Pset_layout(dcpl, H5D_layout_t::H5D_COMPACT);
        },
    );
    // External storage: the data lives in another file.
    let external = std::ffi::CString::new(dir.path().join("ext.bin").to_str().unwrap()).unwrap();
    raw_dataset(
        &file,
        "external",
        *hdf5::globals::H5T_NATIVE_UINT32,
        &data,
        |dcpl| unsafe {
            H5Pset_external(dcpl, external.as_ptr(), 0, 4000);
        },
    );
    file.new_dataset::<u32>()
        .chunk(100)
        .fletcher32()
        .shape(1000)
        .create("fletcher32")
        .unwrap()
        .write(&data)
        .unwrap();
    file.new_dataset::<u32>()
        .chunk(100)
        .shuffle()
        .deflate(4)
        .fletcher32()
        .shape(1000)
        .create("deflate_fletcher32")
        .unwrap()
        .write(&data)
        .unwrap();
    file.new_dataset::<u32>()
        .chunk(100)
        .scale_offset(hdf5::filters::ScaleOffset::Integer(0))
        .shape(1000)
        .create("scale_offset")
        .unwrap()
        .write(&data)
        .unwrap();
    let floats: Vec<f64> = data.iter().map(|&v| f64::from(v)).collect();
    file.new_dataset::<f64>()
        .no_chunk()
        .shape(1000)
        .create("float")
        .unwrap()
        .write(&floats)
        .unwrap();
    file.new_dataset::<u64>()
        .no_chunk()
        .shape((10, 2))
        .create("two_d")
        .unwrap()
        .write(&ndarray::Array2::<u64>::zeros((10, 2)))
        .unwrap();
    // Declared but never written: no storage.
    file.new_dataset::<u64>()
        .no_chunk()
        .shape(100)
        .create("unwritten")
        .unwrap();
    file.new_dataset::<u64>()
        .shape(100)
        .create("plain")
        .unwrap()
        .write(&vec![3u64; 100])
        .unwrap();
    // Open for writing: HDF5 may hold data not on disk yet.
    assert!(probe(&file.dataset("plain").unwrap(), &path).is_none());
    drop(file);

    let file = hdf5::File::open(&path).unwrap();
    for name in [
        "big_endian",
        "precision",
        "compact",
        "external",
        "fletcher32",
        "deflate_fletcher32",
        "scale_offset",
        "float",
        "two_d",
        "unwritten",
    ] {
        let ds = file.dataset(name).unwrap();
        assert!(probe(&ds, &path).is_none(), "{name} was probed");
    }
    assert!(probe(&file.dataset("plain").unwrap(), &path).is_some());
    // Another file than HDF5's (here: a copy of it) is not read.
    let copy = dir.path().join("copy.h5");
    std::fs::copy(&path, &copy).unwrap();
    assert!(probe(&file.dataset("plain").unwrap(), &copy).is_none());
}

#[test]
fn unwritten_chunks_are_left_to_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holes.h5");
    let file = hdf5::File::create(&path).unwrap();
    for (name, store) in [
        ("plain", Store::Chunked(100)),
        ("deflate", Store::Deflate(100)),
    ] {
        let ds = builder_for(&file, store).shape(1000).create(name).unwrap();
        // Chunks 0, 2..9 written; chunk 1 never.
        let w = ds.as_writer();
        w.write_slice(&vec![7u64; 100], 0..100).unwrap();
        w.write_slice(&(200..1000).collect::<Vec<u64>>(), 200..1000)
            .unwrap();
        // The same holes in a column whose first chunk is missing: the check on the first rows
        // fails, and the column is left to HDF5.
        let ds = builder_for(&file, store)
            .shape(1000)
            .create(format!("{name}_first").as_str())
            .unwrap();
        ds.as_writer()
            .write_slice(&vec![7u64; 900], 100..1000)
            .unwrap();
    }
    drop(file);
    let file = hdf5::File::open(&path).unwrap();
    for name in ["plain", "deflate"] {
        let ds = file.dataset(name).unwrap();
        let direct = probe(&ds, &path).unwrap();
        for (a, b) in [(0, 100), (200, 1000), (150, 160), (99, 101), (0, 1000)] {
            let mut got = vec![0u64; b - a];
            let fast = direct.read_into(a as u64, &mut got);
            let expected = hdf5_read(&ds, false, a as u64, b - a);
            let touches_hole = a < 200 && b > 100;
            if touches_hole {
                assert_eq!(fast, Err(Fallback::Unallocated), "{name} {a}..{b}");
                // The caller's fallback: HDF5 gives the fill value.
                assert!(expected.contains(&0));
            } else {
                assert_eq!(fast, Ok(()), "{name} {a}..{b}");
                assert_eq!(got, expected, "{name} {a}..{b}");
            }
        }
        let first = file.dataset(&format!("{name}_first")).unwrap();
        assert!(probe(&first, &path).is_none(), "{name}_first was probed");
    }
}

fn builder_for(file: &hdf5::File, store: Store) -> hdf5::DatasetBuilderEmpty {
    let builder = file.new_dataset::<u64>().chunk(100);
    match store {
        Store::Deflate(_) => builder.deflate(4),
        _ => builder,
    }
}

#[test]
fn damaged_chunks_are_left_to_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let data = values!(u64, 5000, false, 5);
    let path = write(dir.path(), "a.h5", &data, Store::ShuffleDeflate(1000));
    let (file, ds, direct) = open(&path);
    let direct = direct.unwrap();
    // Find chunk 2 and overwrite the middle of its stream.
    let mut mask = 0;
    let mut addr = 0;
    let mut size = 0;
    hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5d::H5Dget_chunk_info_by_coord(
            ds.id(),
            [2000u64].as_ptr(),
            &raw mut mask,
            &raw mut addr,
            &raw mut size,
        )
    });
    drop((ds, file, direct));
    let bytes = std::fs::read(&path).unwrap();
    let mut damaged = bytes.clone();
    for b in &mut damaged[(addr + size / 2) as usize..(addr + size / 2 + 16) as usize] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &damaged).unwrap();
    let (_file, ds, direct) = open(&path);
    let direct = direct.unwrap();
    let mut out = vec![0u64; 1000];
    assert_eq!(direct.read_into(2000, &mut out), Err(Fallback::Decode));
    assert!(crate::sonata::bulk::read_range_into(&ds, 2000, &mut out).is_err());
    direct.read_into(0, &mut out).unwrap();
    assert_eq!(out, data[..1000]);
}

#[test]
fn unshuffle_is_hdf5s() {
    // 3 elements of 4 bytes, then 2 bytes that are not a whole element.
    let shuffled = [1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12, 13, 14];
    let mut out = Vec::new();
    chunked_unshuffle(&shuffled, 4, &mut out);
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // One element, or 1-byte elements: left as they are.
    chunked_unshuffle(&[1, 2, 3, 4, 5], 4, &mut out);
    assert_eq!(out, [1, 2, 3, 4, 5]);
    chunked_unshuffle(&[3, 1, 2], 1, &mut out);
    assert_eq!(out, [3, 1, 2]);
}

fn chunked_unshuffle(src: &[u8], elem: usize, out: &mut Vec<u8>) {
    chunked::unshuffle(src, elem, out);
}

#[test]
fn reads_finish_while_every_global_worker_waits_for_them() {
    // Each of rayon's global workers waits (not as rayon work: a thread join) for a read that
    // needs several threads, as the census's chunk loop waits for its reader thread when the
    // census runs on a worker. Reads queued on the global pool would never run.
    let dir = tempfile::tempdir().unwrap();
    let data = values!(u64, 1 << 20, false, 11);
    let contiguous = write(dir.path(), "a.h5", &data, Store::Contiguous);
    let compressed = write(dir.path(), "b.h5", &data, Store::ShuffleDeflate(1 << 14));
    let columns: Vec<_> = [contiguous, compressed]
        .iter()
        .map(|path| {
            let (file, _ds, direct) = open(path);
            (file, direct.unwrap())
        })
        .collect();
    let workers = rayon::current_num_threads();
    let barrier = &std::sync::Barrier::new(workers);
    let (columns, data) = (&columns, &data);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let sums = rayon::broadcast(|_| {
                // Every worker is here before any read starts.
                barrier.wait();
                std::thread::scope(|reader| {
                    reader
                        .spawn(|| {
                            columns
                                .iter()
                                .map(|(_, direct)| {
                                    let mut out = vec![0u64; data.len()];
                                    direct.read_into(0, &mut out).unwrap();
                                    out.iter().fold(0u64, |a, &v| a.wrapping_add(v))
                                })
                                .collect::<Vec<_>>()
                        })
                        .join()
                        .unwrap()
                })
            });
            done.send(sums).unwrap();
        });
        let sums = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("reads blocked behind the global pool's waiting workers");
        let want = data.iter().fold(0u64, |a, &v| a.wrapping_add(v));
        assert!(sums.iter().flatten().all(|&s| s == want));
    });
}
