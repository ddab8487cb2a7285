//! Pass 2 of the unsorted strategy when its targets need several partitions: every edge's
//! `(target, source)` goes to the spill file of its partition in one streamed pass, then each file
//! is read back and grouped in memory in turn, so memory stays within the budget however large
//! the population. The files are removed as soon as they are read.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use super::unsorted::{Degrees, TargetGroup};
use super::*;
use crate::error::Error;

/// Bytes of the write buffer of each spill file.
const SPILL_BUFFER: usize = 1 << 20;

pub(super) fn spill_census<S: SourceId>(
    pass: &Pass<'_>,
    degrees: &Degrees,
    parts: &[(usize, usize)],
    builder: &mut TableBuilder,
) -> Result<()> {
    let Pass {
        pop,
        options,
        progress,
        at,
        ..
    } = *pass;
    let dir_parent = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("sonata-census-spill-")
        .tempdir_in(&dir_parent)
        .map_err(|source| Error::Io {
            path: dir_parent.clone(),
            source,
        })?;
    // Removed by the forced exit of a SIGINT / SIGTERM (else by `dir`'s drop).
    let _registered = crate::interrupt::register(dir.path());
    let io_err = |path: &std::path::Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Partition of each target.
    let mut part_of = vec![0u32; degrees.synapses.len()];
    for (p, &(a, b)) in parts.iter().enumerate() {
        part_of[a..b].fill(p as u32);
    }
    let paths: Vec<_> = (0..parts.len())
        .map(|p| dir.path().join(format!("part-{p}.bin")))
        .collect();
    let mut writers = Vec::with_capacity(parts.len());
    for path in &paths {
        let f = File::create(path).map_err(|e| io_err(path, e))?;
        writers.push(BufWriter::with_capacity(SPILL_BUFFER, f));
    }
    progress.phase(
        &format!(
            "{}: unsorted, spilling {} partitions",
            pop.name(),
            parts.len()
        ),
        pop.size(),
    );
    for_each_chunk_filtered::<()>(
        pop,
        options.chunk_len,
        None,
        options.edge_filter.as_deref(),
        |chunk| {
            for (&t, &s) in chunk.targets.iter().zip(&chunk.sources) {
                let p = part_of[t as usize] as usize;
                let record = [t, s];
                writers[p]
                    .write_all(bytemuck::cast_slice(&record))
                    .map_err(|e| io_err(&paths[p], e))?;
            }
            progress.inc(chunk.rows);
            Ok(ControlFlow::Continue(()))
        },
    )?;
    for (w, path) in writers.into_iter().zip(&paths) {
        w.into_inner()
            .map_err(|e| io_err(path, e.into_error()))?
            .sync_all()
            .ok();
    }
    progress.phase(
        &format!("{}: unsorted, counting partitions", pop.name()),
        pop.size(),
    );
    for (&(a, b), path) in parts.iter().zip(&paths) {
        let mut group = TargetGroup::<S>::new(&degrees.synapses, a, b);
        let f = File::open(path).map_err(|e| io_err(path, e))?;
        let mut reader = BufReader::with_capacity(SPILL_BUFFER, f);
        let mut buf = vec![0u64; 2 * 65536];
        let mut ts = Vec::with_capacity(65536);
        let mut ss = Vec::with_capacity(65536);
        loop {
            crate::interrupt::check()?;
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
            let n = read_full(&mut reader, bytes).map_err(|e| io_err(path, e))?;
            if n == 0 {
                break;
            }
            let records = &buf[..n / 8];
            ts.clear();
            ss.clear();
            for r in records.chunks_exact(2) {
                ts.push(r[0]);
                ss.push(r[1]);
            }
            group.scatter(&ts, &ss);
            progress.inc(ts.len() as u64);
        }
        builder.push(&group.count(at)?)?;
        std::fs::remove_file(path).ok();
    }
    Ok(())
}

/// Reads until `buf` is full or the end of the file; returns the bytes read (a multiple of 16
/// for files written by [`spill_census`]).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
