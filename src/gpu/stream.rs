//! Streaming of a population's id columns for the GPU engine: as
//! [`crate::census::stream::for_each_chunk`] (a reader thread fills chunk k+1 while the caller
//! narrows and submits chunk k), and it also times the HDF5 reads.

use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::Instant;

use crate::census::stream::{Chunk, NsynsSource};
use crate::error::Result;
use crate::sonata::EdgePopulation;

/// Chunk buffers in flight (one being read, one being narrowed, one spare).
const BUFFERS: usize = 3;

/// Time and bytes of the HDF5 reads of one pass.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadStats {
    pub(crate) seconds: f64,
    pub(crate) bytes: u64,
}

/// Streams rows `0..pop.size()` in chunks of `chunk_len`, calling `f` on each in edge order;
/// `f` may stop early with `ControlFlow::Break`, whose value is returned.
pub(crate) fn for_each_chunk<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    mut nsyns: Option<NsynsSource>,
    stats: &mut ReadStats,
    mut f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    let total = pop.size();
    let chunk_len = chunk_len.max(1);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<(Chunk, f64)>>(BUFFERS);
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        for _ in 0..BUFFERS {
            // The receiver is alive: the reader spawned below owns it.
            let _ = free_tx.send(Chunk::default());
        }
        scope.spawn(move || {
            let mut next = 0u64;
            while next < total {
                let Ok(mut chunk) = free_rx.recv() else {
                    return;
                };
                let started = Instant::now();
                let n = ((total - next) as usize).min(chunk_len);
                chunk.first_edge = next;
                chunk.sources.resize(n, 0);
                chunk.targets.resize(n, 0);
                let mut result = pop
                    .source_ids()
                    .read_range_into(next, &mut chunk.sources)
                    .and_then(|()| pop.target_ids().read_range_into(next, &mut chunk.targets));
                if let (Ok(()), Some(read)) = (&result, nsyns.as_mut()) {
                    let buf = chunk.nsyns.get_or_insert_with(Vec::new);
                    buf.resize(n, 0);
                    result = read(next, buf);
                }
                let seconds = started.elapsed().as_secs_f64();
                let failed = result.is_err();
                if full_tx.send(result.map(|()| (chunk, seconds))).is_err() || failed {
                    return;
                }
                next += n as u64;
            }
        });
        let mut done = 0u64;
        while done < total {
            let (chunk, seconds) = match full_rx.recv() {
                Ok(r) => r?,
                // The reader stops early only after sending an error, returned above.
                Err(_) => break,
            };
            stats.seconds += seconds;
            stats.bytes += 16 * chunk.sources.len() as u64;
            done += chunk.sources.len() as u64;
            crate::interrupt::check()?;
            match f(&chunk)? {
                ControlFlow::Continue(()) => {
                    let _ = free_tx.send(chunk);
                }
                ControlFlow::Break(b) => return Ok(Some(b)),
            }
        }
        Ok(None)
    })
}
