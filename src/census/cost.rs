//! The cost model `auto` chooses an engine with once a real GPU is found: the expected seconds of
//! the CPU and GPU engines for a population of a given size and order, from rates measured on
//! real hardware (BENCHMARKS.md), and a sample of the target column that tells the order.
//!
//! The constants are measurements, not guesses: the GPU's (read, upload, kernels, readback,
//! start-up) come from the NVIDIA H200 host of BENCHMARKS.md's GPU section (issue 3), the CPU
//! engine's per-core counting costs from the 2-core VM's profiles of this engine (issue 13).
//! Other GPUs get the H200's figures: no other GPU has been measured. The GPU is chosen only
//! when its estimate is below [`GPU_MARGIN`] of the CPU's, so a near tie stays on the CPU, whose
//! result needs no device.

use crate::error::Result;
use crate::sonata::EdgePopulation;

/// How the edges of a population look ordered from a sample of its target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampledOrder {
    /// Targets never decrease in the sample and sources ascend within each target.
    SortedByTargetSource,
    /// Targets never decrease in the sample; sources do not ascend within a target.
    SortedByTarget,
    /// Targets decrease somewhere in the sample.
    Unsorted,
}

impl std::fmt::Display for SampledOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SampledOrder::SortedByTargetSource => "sorted by (target, source)",
            SampledOrder::SortedByTarget => "sorted by target",
            SampledOrder::Unsorted => "unsorted",
        })
    }
}

/// Windows of the sample and rows per window: 16 × 1024 rows, a few hundred KiB read.
const SAMPLE_WINDOWS: u64 = 16;
const SAMPLE_ROWS: u64 = 1024;

/// Samples [`SAMPLE_WINDOWS`] windows spread over the population (first and last rows
/// included) and says how its edges look ordered.
///
/// # Errors
/// Read errors of the id columns.
pub fn sample_order(pop: &EdgePopulation) -> Result<SampledOrder> {
    let n = pop.size();
    let rows = SAMPLE_ROWS.min(n);
    let mut tracker = super::sortedness::SortednessTracker::default();
    let (mut targets, mut sources) = (vec![0u64; rows as usize], vec![0u64; rows as usize]);
    for w in 0..SAMPLE_WINDOWS {
        if rows == 0 {
            break;
        }
        let start = (n - rows) * w / (SAMPLE_WINDOWS - 1).max(1);
        pop.target_ids().read_range_into(start, &mut targets)?;
        pop.source_ids().read_range_into(start, &mut sources)?;
        // The windows in file order, as if they followed one another.
        if !tracker.feed(&sources, &targets) {
            break;
        }
    }
    let order = tracker.result();
    Ok(match (order.by_target, order.by_target_source) {
        (false, _) => SampledOrder::Unsorted,
        (true, false) => SampledOrder::SortedByTarget,
        (true, true) => SampledOrder::SortedByTargetSource,
    })
}

/// Expected seconds of each engine for one population.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The CPU engine on `cores` threads.
    pub cpu_s: f64,
    /// The GPU engine (start-up included).
    pub gpu_s: f64,
    /// Edges the estimate is for.
    pub edges: u64,
    /// Their order, as sampled.
    pub order: SampledOrder,
    /// Threads of the CPU engine.
    pub cores: usize,
}

/// The GPU is chosen only when its estimate is below this share of the CPU's.
pub const GPU_MARGIN: f64 = 0.9;

/// Bytes per edge of the two id columns as stored (u64: BBP and generated files).
const ID_BYTES_PER_EDGE: f64 = 16.0;
/// Bytes per edge uploaded to the GPU (both columns narrowed to u32).
const UPLOAD_BYTES_PER_EDGE: f64 = 8.0;
/// Connections per edge of BBP-like circuits (≈ 4.5 synapses per connection), and the bytes of
/// a connection read back (u64 source + u32 count).
const CONNECTIONS_PER_EDGE: f64 = 1.0 / 4.5;
const READBACK_BYTES_PER_CONNECTION: f64 = 12.0;

/// H200 host (BENCHMARKS.md, GPU section): HDF5 read 4.9 GB/s (one thread), upload 6.2 GB/s,
/// readback 0.57 GB/s, device start-up and pipelines ≈ 0.3 s.
const GPU_READ_BYTES_PER_S: f64 = 4.9e9;
const GPU_UPLOAD_BYTES_PER_S: f64 = 6.2e9;
const GPU_READBACK_BYTES_PER_S: f64 = 0.57e9;
const GPU_STARTUP_S: f64 = 0.3;
/// H200 kernels per edge: (target, source)-sorted 0.0021 s and shuffled 0.0287 s per 1e8 edges;
/// target-sorted 0.0228 s per 1e8; shuffled input is read in more than one pass beyond the
/// device's buffers (1e9 shuffled: 4 passes over the file), counted as one extra read.
const GPU_KERNEL_S_PER_EDGE_SORTED: f64 = 2.1e-11;
const GPU_KERNEL_S_PER_EDGE_TARGET_SORTED: f64 = 2.3e-10;
const GPU_KERNEL_S_PER_EDGE_UNSORTED: f64 = 2.9e-10;

/// CPU engine, 2-core VM profiles (issue 13): the read of both columns from the page cache at
/// 8 GB/s per thread (at most 4 threads of memory bandwidth counted), and counting costs in
/// core-seconds per edge: sorted run-length encoding 1.0e-8, target-sorted (each run's sources
/// sorted) 2.5e-8, unsorted (bucketed radix grouping of packed keys) 2.4e-8 (3.0e-8 before the
/// keys were packed: the census's CPU time on shuffled 1e7 went from 0.32 to 0.25 s).
const CPU_READ_BYTES_PER_S_PER_THREAD: f64 = 8e9;
const CPU_READ_THREADS_MAX: f64 = 4.0;
const CPU_CORE_S_PER_EDGE_SORTED: f64 = 1.0e-8;
const CPU_CORE_S_PER_EDGE_TARGET_SORTED: f64 = 2.5e-8;
const CPU_CORE_S_PER_EDGE_UNSORTED: f64 = 2.4e-8;
/// Unsorted input whose packed keys exceed the memory budget goes through spill files
/// (two-pass, partitioned strategy): 31.6 s for 1e9 shuffled edges on the 16-core H200 host,
/// bound by file passes more than by cores, so counted per edge whatever the threads.
const CPU_S_PER_EDGE_PARTITIONED: f64 = 3.2e-8;

impl Estimate {
    /// The estimate for `edges` edges ordered as `order`, the CPU engine on `cores` threads;
    /// `in_memory`: unsorted input fits the memory budget (else the CPU engine spills).
    pub fn new(edges: u64, order: SampledOrder, cores: usize, in_memory: bool) -> Self {
        let e = edges as f64;
        let threads = cores.max(1) as f64;
        let read_cpu = e * ID_BYTES_PER_EDGE
            / (CPU_READ_BYTES_PER_S_PER_THREAD * threads.min(CPU_READ_THREADS_MAX));
        let count_cpu = e * match order {
            SampledOrder::SortedByTargetSource => CPU_CORE_S_PER_EDGE_SORTED,
            SampledOrder::SortedByTarget => CPU_CORE_S_PER_EDGE_TARGET_SORTED,
            SampledOrder::Unsorted => CPU_CORE_S_PER_EDGE_UNSORTED,
        } / threads;
        // The sorted pass counts while it reads; the unsorted one reads, then groups.
        let cpu_s = match order {
            SampledOrder::Unsorted if !in_memory => e * CPU_S_PER_EDGE_PARTITIONED,
            SampledOrder::Unsorted => read_cpu + count_cpu,
            _ => read_cpu.max(count_cpu),
        };
        let (kernels, reads) = match order {
            SampledOrder::SortedByTargetSource => (GPU_KERNEL_S_PER_EDGE_SORTED, 1.0),
            SampledOrder::SortedByTarget => (GPU_KERNEL_S_PER_EDGE_TARGET_SORTED, 1.0),
            SampledOrder::Unsorted => (GPU_KERNEL_S_PER_EDGE_UNSORTED, 2.0),
        };
        let gpu_s = GPU_STARTUP_S
            + reads * e * ID_BYTES_PER_EDGE / GPU_READ_BYTES_PER_S
            + e * UPLOAD_BYTES_PER_EDGE / GPU_UPLOAD_BYTES_PER_S
            + e * kernels
            + e * CONNECTIONS_PER_EDGE * READBACK_BYTES_PER_CONNECTION / GPU_READBACK_BYTES_PER_S;
        Estimate {
            cpu_s,
            gpu_s,
            edges,
            order,
            cores,
        }
    }

    /// Whether the GPU is expected to win by more than the margin.
    pub fn prefers_gpu(&self) -> bool {
        self.gpu_s < GPU_MARGIN * self.cpu_s
    }
}

impl std::fmt::Display for Estimate {
    /// The `-v` line's words: both estimates, and what they are for.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "estimate for {} edges {} (sampled): cpu ≈ {:.2} s on {} threads, gpu ≈ {:.2} s \
             (rates measured on an NVIDIA H200 host and a 2-core VM, BENCHMARKS.md)",
            self.edges, self.order, self.cpu_s, self.cores, self.gpu_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The choices the measurements behind the constants call for: on the 16-core H200 host the
    /// CPU engine was faster for sorted input at 1e8 and 1e9 edges and for target-sorted input
    /// at 1e8, so `auto` must not take the GPU there.
    #[test]
    fn sorted_input_stays_on_a_many_core_cpu() {
        for edges in [100_000_000, 1_000_000_000] {
            for order in [
                SampledOrder::SortedByTargetSource,
                SampledOrder::SortedByTarget,
            ] {
                let e = Estimate::new(edges, order, 16, true);
                assert!(!e.prefers_gpu(), "{e}");
            }
        }
    }

    /// On the same host the GPU was 2.1× faster than the CPU engine for 1e9 shuffled edges,
    /// which the CPU engine counted through spill files (they exceed the default budget).
    #[test]
    fn spilled_shuffled_input_goes_to_the_gpu() {
        let e = Estimate::new(1_000_000_000, SampledOrder::Unsorted, 16, false);
        assert!(e.prefers_gpu(), "{e}");
        let e = Estimate::new(100_000_000, SampledOrder::Unsorted, 16, true);
        assert!(!e.prefers_gpu(), "{e}");
    }

    #[test]
    fn estimates_grow_with_edges_and_shrink_with_cores() {
        let small = Estimate::new(1_000_000, SampledOrder::Unsorted, 4, true);
        let large = Estimate::new(1_000_000_000, SampledOrder::Unsorted, 4, true);
        assert!(large.cpu_s > small.cpu_s && large.gpu_s > small.gpu_s);
        let many = Estimate::new(1_000_000_000, SampledOrder::Unsorted, 32, true);
        assert!(many.cpu_s < large.cpu_s);
        assert_eq!(many.gpu_s, large.gpu_s);
    }

    /// The sample tells the three orders of generated circuits apart.
    #[test]
    fn sampled_orders_of_generated_circuits() {
        use crate::generate::{AttributeSet, EdgeOrder, GenerateOptions, generate};
        let dir = tempfile::tempdir().unwrap();
        for (order, want) in [
            (EdgeOrder::Sorted, SampledOrder::SortedByTargetSource),
            (EdgeOrder::TargetSorted, SampledOrder::SortedByTarget),
            (EdgeOrder::Shuffled, SampledOrder::Unsorted),
        ] {
            let path = dir.path().join(format!("{order:?}.h5"));
            let options = GenerateOptions {
                nodes: 500,
                edges: 50_000,
                order,
                attributes: AttributeSet::None,
                ..GenerateOptions::default()
            };
            generate(&path, &options, &|_| {}).unwrap();
            let file = crate::EdgeFile::open(&path).unwrap();
            let pop = file.population("All__All__chemical").unwrap();
            assert_eq!(sample_order(&pop).unwrap(), want, "{order:?}");
        }
    }

    #[test]
    fn a_tie_stays_on_the_cpu() {
        let mut e = Estimate::new(1, SampledOrder::Unsorted, 1, true);
        e.cpu_s = 1.0;
        e.gpu_s = 0.95;
        assert!(!e.prefers_gpu());
        e.gpu_s = 0.5;
        assert!(e.prefers_gpu());
    }
}
