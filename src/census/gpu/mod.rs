//! The streamed GPU census: the same tables as [`crate::census::cpu`], bit for bit.
//!
//! # Data path
//! A reader thread reads chunk k+1 from HDF5 while the host narrows chunk k (u64 → u32, checked,
//! several threads writing disjoint parts of a mapped staging buffer) and the GPU counts chunk
//! k-1. Two staging buffers (`MAP_WRITE | COPY_SRC`) alternate; each is copied into the device
//! buffers and mapped again once the GPU is done with it. Counters and results stay on the GPU:
//! per-target synapse counters and the synapses-per-connection histogram are resident; the
//! connections (source, synapses) and per-segment connection counts of every batch are appended
//! to resident arenas that are read back only when they could fill up (rarely) and at the end.
//!
//! # Readback
//! Each readback is one mapped transfer ([`readback::Readback::read_tables`]): every table of it
//! (the arenas' sources, synapse counts and per-segment counts; or the per-target counters and
//! the histogram) is copied once into one kept `MAP_READ` buffer, the buffer is mapped once, and
//! the words are consumed in place. Before, each table went through its own 64 MiB pieces, each
//! piece a submit, a wait, a map and a host copy into a fresh vector, so a large arena cost
//! dozens of round trips and one more pass over memory; the readback ran at 0.57 GB/s on the
//! H200 host. The counters are added into their u64 totals straight from the mapping, and the
//! last arena flush is assembled on this thread from the mapping (the assembler worker is
//! joined first), so the final tables are copied only into the census itself. A flush while
//! counting (an arena that could fill) still hands copies to the worker, so that counting goes
//! on while it assembles. A copy into a mapped buffer is not a storage binding: lavapipe's
//! 128 MiB binding limit does not bound it; `max_buffer_size` does (2 GiB there), and a read
//! beyond it falls back to pieces (the engine's arenas and counters stay far below).
//!
//! # Sources of 2^32 and more
//! Without `SHADER_INT64`: a population whose sources do not fit in 32 bits is counted by the
//! `_wide` kernels, which take every source as two u32 words (low and high, two buffers) and
//! compare them as pairs (`sources_by_target_wide`, `segment_sort_wide`, `segment_merge_wide`,
//! `connection_counts_wide`). The choice is per population and sticky: the sorted pass turns
//! wide at the first chunk with such a source (the narrow batches already in the arenas are
//! flushed, so that every arena is all narrow or all wide), the unsorted passes when pass 1 saw
//! one. Populations with 32-bit sources run the narrow kernels exactly as before. Targets must
//! still fit in 32 bits: they index the resident per-target counters, and a target space of 2^32
//! or more (tables of tens of GiB on either engine) is handed back to the CPU engine.
//!
//! # Strategies (as the CPU engine)
//! - **Sorted by target**: one pass. The host finds the runs of equal targets ("segments") while
//!   narrowing and uploads only the sources plus the segment table. Per chunk the GPU counts
//!   synapses per target (`target_counts`, one atomic per segment), sorts each segment
//!   (`segment_sort` in workgroup memory; `segment_merge` for segments longer than a workgroup
//!   tile) and run-length encodes it (`connection_counts`, `prefix_sum`), then histograms the
//!   connections (`synapses_per_connection`). A target whose edges cross a chunk boundary gets a
//!   partial connection list from each chunk; the host merges those sorted lists exactly (adding
//!   the synapse counts in u64) and corrects the histogram for them.
//! - **Unsorted**: found at the first decreasing target, then pass 1 counts in-degrees on the GPU
//!   (`target_counts`, global atomics), targets are cut into contiguous partitions whose edges fit
//!   a GPU batch (and the memory budget), and for each partition pass 2 groups the sources by
//!   target on the GPU (`sources_by_target`, a counting-sort scatter), then sorts and encodes the
//!   segments as above. No kernel waits on another workgroup.
//!
//! # Exactness
//! Every count is an integer computed without loss: u32 counters on the GPU are flushed into u64
//! on the host before they could reach 2^32; connection counts of one batch are below 2^32 by
//! construction and merged in u64 (a connection of more than 2^32 - 1 synapses is the CPU
//! engine's error). The order of the output is fixed by sorting, never by scheduling. Target ids
//! that do not fit in 32 bits, sources of 2^32 and more on an adapter without the workgroup
//! memory of the wide kernels, or tables larger than a GPU buffer, make the engine hand the
//! population back ([`GpuOutcome::HandToCpu`]); [`crate::census`] then counts it on the CPU and
//! logs why (see [`GpuTimings::notices`]). This engine never calls the CPU engine itself.
//!
//! # Files
//! This file holds the entry point ([`census()`]) and its outcome; `engine.rs` the engine's state
//! and common steps, `sorted.rs` and `unsorted.rs` its passes, `staging.rs` the staging ring,
//! `narrowing.rs` the host-side narrowing and scan, `counters.rs` the resident counters,
//! `assembly.rs` the arenas and the host assembly of the connection table, `timings.rs` what a
//! run reports, `stream.rs` the reader thread. The device layer it drives (context, recorder,
//! readback, one host module per kernel) is [`crate::gpu`].

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use wgpu::WriteOnly;

mod assembly;
mod counters;
mod engine;
mod narrowing;
mod sorted;
mod staging;
mod stream;
mod timings;
mod unsorted;

use assembly::*;
use counters::*;
use engine::*;
use narrowing::*;
use staging::*;
use stream::{ReadStats, for_each_chunk};
use timings::*;
pub use timings::{GpuStrategy, GpuTimings};

use crate::census::stream::{Chunk, NsynsSource};
use crate::census::tables::{Tables, target_beyond, too_many_synapses};
use crate::census::{Census, CensusOptions, CountedBy, DEFAULT_CHUNK_LEN, Sortedness, TargetSpace};
use crate::error::{Error, Location, Result};
use crate::gpu::connections::{self, Arenas, BatchBuffers};
use crate::gpu::readback::{self, MapWait};
use crate::gpu::{
    GpuContext, GrowBuffer, Recorder, STORAGE_USAGE, sources_by_target, sources_by_target_wide,
    target_counts, unavailable,
};
use crate::kernels::layout::SegmentLayout;
use crate::kernels::params::{
    HIST_BINS, MODE_EDGES, MODE_SEGMENTS, SORT_TILE, SourcesByTargetParams, TargetCountsParams,
};
use crate::progress::Progress;
use crate::sonata::EdgePopulation;

/// Knobs of the GPU engine, for tests and benchmarks (the defaults suit real runs).
#[derive(Debug, Clone, Default)]
pub struct GpuTuning {
    /// Rows per chunk (default: the caller's `chunk_len`, or
    /// [`GpuContext::preferred_chunk_len`] when the caller kept the default).
    pub chunk_len: Option<usize>,
    /// Capacity of the connection arenas in connections (default: up to 64 Mi).
    pub arena_len: Option<usize>,
    /// Edges counted between flushes of the u32 GPU counters into u64 (default 2^32 - 1).
    pub counter_flush_edges: Option<u64>,
}

/// What the GPU engine made of a population.
#[derive(Debug)]
pub enum GpuOutcome {
    /// The census, with the same tables as the CPU engine.
    Counted(Box<Census>),
    /// The population cannot be counted on this device (target ids wider than 32 bits, tables
    /// larger than a GPU buffer): the CPU engine is to count it, and `reason` is the notice for
    /// the log.
    /// The caller ([`crate::census`]) decides; this engine never runs the CPU engine itself.
    HandToCpu {
        /// Why, for the log (one line).
        reason: String,
    },
}

/// Census of a population on the GPU with `options.gpu_tuning`, the same tables as the CPU
/// engine, or [`GpuOutcome::HandToCpu`] when the target ids do not fit in 32 bits or the tables
/// do not fit the device.
///
/// `nsyns` opens the bmtk `nsyns` column when the population has one. The timings are those of
/// the attempt (`total_s` included) either way.
///
/// # Errors
/// As the CPU engine for bad input (a target id at or beyond the node count, read errors);
/// [`Error::BackendUnavailable`] when the device fails (lost, out of memory, validation), naming
/// the file and the population.
pub fn census(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<NsynsSource>>,
    progress: &Progress,
    ctx: &GpuContext,
) -> Result<(GpuOutcome, GpuTimings)> {
    let started = Instant::now();
    let mut timings = GpuTimings {
        adapter: ctx.describe(),
        context_s: ctx.opened_s(),
        edges: pop.size(),
        ..Default::default()
    };
    let result =
        Engine::new(ctx, pop, options, space, &options.gpu_tuning).and_then(|mut engine| {
            let r = engine.run(&nsyns, progress);
            engine.finish_timings(&mut timings);
            r
        });
    // A device error names the population it was counting (the message is one line).
    let outcome = result.map_err(|e| match e {
        Error::BackendUnavailable { backend, reason } => Error::BackendUnavailable {
            backend,
            reason: format!(
                "{}, population '{}': {reason}",
                pop.target_ids().location().file.display(),
                pop.name()
            ),
        },
        other => other,
    })?;
    timings.total_s = started.elapsed().as_secs_f64();
    Ok((outcome, timings))
}

/// Why a pass stopped early.
enum Stop {
    Unsorted,
    Cpu(String),
}

fn too_wide(column: &str, id: u64, row: u64) -> String {
    format!(
        "{column} id {id} at row {row} does not fit in 32 bits, which the GPU kernels need for \
         targets (they index per-target counters); the CPU engine counts this population"
    )
}

fn no_wide_kernels(id: u64, row: u64) -> String {
    format!(
        "source node id {id} at row {row} needs the GPU kernels for sources of 2^32 and more, \
         which this adapter lacks (workgroup memory); the CPU engine counts this population"
    )
}

#[cfg(test)]
mod tests {
    use super::unsorted::partitions;
    use super::*;

    #[test]
    fn staging_chunk_cap_is_the_longest_chunk_that_fits() {
        for bytes in [4096u64, 65_536, 524_288, 1 << 20, 128 << 20] {
            let n = staging_chunk_cap(bytes);
            assert!(wide_staging_bytes(n) <= bytes, "{bytes}");
            assert!(wide_staging_bytes(n + 1) > bytes, "{bytes}");
            assert!(4 * sorted_staging_words(n) as u64 <= bytes, "{bytes}");
        }
        // No overflow on adapters without a real limit.
        assert!(staging_chunk_cap(u64::MAX) >= 1 << 30);
    }

    #[test]
    fn merge_adds_equal_sources() {
        let a = [(1u64, 2u64), (4, 1), (9, 3)];
        let got = merge(&a, &[0, 4, 9, 10], &[5, 1, 1, 2]);
        assert_eq!(got, vec![(0, 5), (1, 2), (4, 2), (9, 4), (10, 2)]);
        assert_eq!(merge(&[], &[3], &[1]), vec![(3, 1)]);
        assert_eq!(merge(&a, &[], &[]), a.to_vec());
        // Sources beyond 2^32 (wide arenas) merge by their whole value.
        let w = [(1u64 << 32, 1u64), (3 << 32 | 7, 2)];
        assert_eq!(
            merge(&w, &[7, 3 << 32 | 7, 5 << 32], &[1, 1, 4]),
            vec![(7, 1), (1 << 32, 1), (3 << 32 | 7, 3), (5 << 32, 4)]
        );
    }

    #[test]
    fn partitions_respect_budget_span_and_cover_all_targets() {
        assert_eq!(
            partitions(&[3, 3, 3, 3], 6, 100),
            vec![(0, 2, 6), (2, 4, 6)]
        );
        assert_eq!(partitions(&[10, 1, 1], 4, 100), vec![(0, 1, 10), (1, 3, 2)]);
        assert_eq!(partitions(&[0, 0, 0, 1], 4, 2), vec![(0, 2, 0), (2, 4, 1)]);
        assert_eq!(partitions(&[], 4, 2), vec![(0, 0, 0)]);
    }

    #[test]
    fn parts_cover_rows() {
        for n in [1usize, 5, 1 << 16, (1 << 18) + 3] {
            let p = parts(n, 4);
            assert_eq!(p.first().map(|x| x.0), Some(0));
            assert_eq!(p.last().map(|x| x.1), Some(n));
            assert!(p.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }

    #[test]
    fn sorted_scan_finds_segments_and_order() {
        let targets = [3u64, 3, 5, 5, 5, 9];
        let sources = [1u64, 0, 2, 2, 7, 1 << 33];
        let mut out = [0u8; 24];
        let r = scan_sorted_part(
            &targets,
            &sources,
            0,
            Some((3, 0)),
            None,
            WriteOnly::from_mut(&mut out[..]),
        );
        assert!(!r.unsorted);
        assert!(!r.by_target_source);
        assert_eq!(r.starts, vec![0, 2, 5]);
        assert_eq!(r.wide_source, Some(5));
        let words: Vec<u32> = out
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(words, vec![1, 0, 2, 2, 7, 0]);
        let r = scan_sorted_part(
            &targets,
            &sources,
            0,
            Some((4, 0)),
            None,
            WriteOnly::from_mut(&mut out[..]),
        );
        assert!(r.unsorted);
    }
}
