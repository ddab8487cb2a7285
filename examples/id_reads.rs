//! Times reading both id columns of every population of edge files, past HDF5's lock
//! (`sonata::direct`, what the census uses when a column allows it) and through HDF5 alone, in
//! the census's chunks, and checks that both read the same ids.
//!
//! ```sh
//! cargo build --release --example id_reads
//! target/release/examples/id_reads circuit.h5 [more.h5 ...] [--repeat N]
//! ```
//!
//! The first pass of each file only warms the page cache; the times are the best of `N` (default
//! 3) passes, so they measure reading and decoding, not the disk.

use std::time::Instant;

use sonata_census::sonata::IdColumn;
use sonata_census::{EdgeFile, Result};

/// Rows per read, as the census reads (`census::DEFAULT_CHUNK_LEN`).
const CHUNK: usize = sonata_census::census::DEFAULT_CHUNK_LEN;

fn main() -> Result<()> {
    let mut paths = Vec::new();
    let mut repeat = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(repeat);
        } else {
            paths.push(arg);
        }
    }
    if paths.is_empty() {
        eprintln!("usage: id_reads FILE.h5 [FILE.h5 ...] [--repeat N]");
        std::process::exit(2);
    }
    println!("rayon threads: {}", rayon::current_num_threads());
    for path in &paths {
        let file = EdgeFile::open(path)?;
        for name in file.population_names()? {
            let pop = file.population(&name)?;
            let columns = [pop.source_ids().clone(), pop.target_ids().clone()];
            let direct = columns.iter().all(IdColumn::reads_directly);
            let through_hdf5 = columns.clone().map(|c| c.without_direct_reads());
            let bytes: u64 = columns
                .iter()
                .map(|c| {
                    let (sonata_census::sonata::IdDtype::Unsigned(s)
                    | sonata_census::sonata::IdDtype::Signed(s)) = c.dtype();
                    c.len() * s as u64
                })
                .sum();
            // Warm the page cache.
            time_reads(&through_hdf5)?;
            let (fast, fast_sum) = best_of(repeat, &columns)?;
            let (slow, slow_sum) = best_of(repeat, &through_hdf5)?;
            assert_eq!(fast_sum, slow_sum, "the two reads differ");
            println!(
                "{path} {name}: {} rows x 2 columns, {:.0} MB stored as {}; direct reads {}: \
                 {fast:.3} s ({:.2} GB/s of u64); HDF5: {slow:.3} s ({:.2} GB/s); x{:.2}",
                pop.size(),
                bytes as f64 / 1e6,
                pop.source_ids().dtype(),
                if direct { "on" } else { "off (HDF5)" },
                (pop.size() * 16) as f64 / fast / 1e9,
                (pop.size() * 16) as f64 / slow / 1e9,
                slow / fast
            );
        }
    }
    Ok(())
}

/// The best time of `n` passes over `columns`, and the checksum of the ids read.
fn best_of(n: usize, columns: &[IdColumn; 2]) -> Result<(f64, u64)> {
    let mut best = f64::INFINITY;
    let mut sum = 0;
    for _ in 0..n.max(1) {
        let started = Instant::now();
        sum = time_reads(columns)?;
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok((best, sum))
}

/// Reads both columns in chunks of [`CHUNK`] rows, as the census's reader does; returns a
/// checksum (sum of ids times row parity), so the reads cannot be skipped.
fn time_reads(columns: &[IdColumn; 2]) -> Result<u64> {
    let len = columns[0].len();
    let mut buffers = [vec![0u64; CHUNK], vec![0u64; CHUNK]];
    let mut sum = 0u64;
    let mut next = 0;
    while next < len {
        let n = ((len - next) as usize).min(CHUNK);
        for (column, buffer) in columns.iter().zip(&mut buffers) {
            column.read_range_into(next, &mut buffer[..n])?;
            sum = buffer[..n]
                .iter()
                .fold(sum, |s, &v| s.wrapping_mul(31).wrapping_add(v));
        }
        next += n as u64;
    }
    Ok(sum)
}
