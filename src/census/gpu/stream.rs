//! Streaming of a population's id columns for the GPU engine:
//! [`crate::census::stream::for_each_chunk`] (a reader thread fills chunk k+1 while the caller
//! narrows and submits chunk k), adding up the time and bytes of the HDF5 reads.

use std::ops::ControlFlow;

use crate::census::filter::EdgeFilter;
use crate::census::stream::{Chunk, NsynsSource};
use crate::error::Result;
use crate::sonata::EdgePopulation;

/// Time and bytes of the HDF5 reads of one pass.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadStats {
    pub(crate) seconds: f64,
    pub(crate) bytes: u64,
}

/// Streams rows `0..pop.size()` in chunks of `chunk_len`, calling `f` on each in edge order
/// (only the edges `filter` keeps, when given); `f` may stop early with `ControlFlow::Break`,
/// whose value is returned. The reads of the chunks handed to `f` are added to `stats`.
pub(crate) fn for_each_chunk<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    nsyns: Option<NsynsSource>,
    filter: Option<&EdgeFilter>,
    stats: &mut ReadStats,
    mut f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    crate::census::stream::for_each_chunk_filtered(pop, chunk_len, nsyns, filter, |chunk| {
        stats.seconds += chunk.read_seconds;
        // Both id columns of every row read, those the filter dropped included.
        stats.bytes += 16 * chunk.rows;
        f(chunk)
    })
}
