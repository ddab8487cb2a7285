//! Double-buffered streaming of a population's id columns: a reader thread fills chunk k+1 while
//! the caller counts chunk k. Buffers are reused, so memory is bounded by a few chunks.

use std::ops::ControlFlow;
use std::sync::mpsc;

use crate::error::Result;
use crate::sonata::EdgePopulation;

/// Number of chunk buffers in flight (one being read, one being counted, one spare).
const BUFFERS: usize = 3;

/// Reads the per-edge synapse multiplicity (bmtk `nsyns`) for a range of edges.
pub type NsynsSource = Box<dyn FnMut(u64, &mut [u64]) -> Result<()> + Send>;

/// One chunk of edges.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Edge id of the first row.
    pub first_edge: u64,
    /// `source_node_id` of the rows.
    pub sources: Vec<u64>,
    /// `target_node_id` of the rows.
    pub targets: Vec<u64>,
    /// bmtk `nsyns` of the rows, when requested.
    pub nsyns: Option<Vec<u64>>,
}

/// Streams rows `0..pop.size()` in chunks of `chunk_len`, calling `f` on each in edge order.
///
/// `f` may stop the stream early with `ControlFlow::Break`. Returns the break value, if any.
///
/// # Errors
/// The first read error, or the first error returned by `f`.
pub fn for_each_chunk<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    mut nsyns: Option<NsynsSource>,
    mut f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    let total = pop.size();
    let chunk_len = chunk_len.max(1);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Chunk>>(BUFFERS);
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        for _ in 0..BUFFERS {
            // The receiver is alive: it is owned by the reader spawned just below.
            let _ = free_tx.send(Chunk::default());
        }
        scope.spawn(move || {
            let mut next = 0u64;
            while next < total {
                let Ok(mut chunk) = free_rx.recv() else {
                    return;
                };
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
                let failed = result.is_err();
                if full_tx.send(result.map(|()| chunk)).is_err() || failed {
                    return;
                }
                next += n as u64;
            }
        });
        let mut done = 0u64;
        while done < total {
            let chunk = match full_rx.recv() {
                Ok(chunk) => chunk?,
                // The reader stops only after sending an error, which is returned above.
                Err(_) => break,
            };
            done += chunk.sources.len() as u64;
            // SIGINT / SIGTERM: stop between chunks; callers' error paths drop their temp files.
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
