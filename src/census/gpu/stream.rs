//! Streaming of a population's id columns for the GPU engine:
//! [`crate::census::stream::for_each_chunk`] (a reader thread fills chunk k+1 while the caller
//! narrows and submits chunk k), adding up the time and bytes of the HDF5 reads.

use std::ops::ControlFlow;

use crate::census::stream::{Chunk, NsynsSource};
use crate::error::Result;
use crate::sonata::EdgePopulation;

/// Time and bytes of the HDF5 reads of one pass.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadStats {
    pub(crate) seconds: f64,
    pub(crate) bytes: u64,
}

/// Streams rows `0..pop.size()` in chunks of `chunk_len`, calling `f` on each in edge order;
/// `f` may stop early with `ControlFlow::Break`, whose value is returned. The reads of the
/// chunks handed to `f` are added to `stats`.
pub(crate) fn for_each_chunk<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    nsyns: Option<NsynsSource>,
    stats: &mut ReadStats,
    mut f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    crate::census::stream::for_each_chunk(pop, chunk_len, nsyns, |chunk| {
        stats.seconds += chunk.read_seconds;
        stats.bytes += 16 * chunk.sources.len() as u64;
        f(chunk)
    })
}
