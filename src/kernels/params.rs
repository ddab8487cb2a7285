//! Uniform parameter structs of the compute shaders, and the constants the shaders share with
//! the host, defined once here.
//!
//! Every WGSL file in `shaders/` repeats the constants it uses as `const NAME: u32 = ...;` (WGSL
//! has no includes). The test `shader_constants_match_rust` in `tests/gpu_kernels.rs` parses
//! every shader with naga and checks each repeated constant against [`SHARED_CONSTANTS`], so the
//! two can never drift apart. Every struct here must be kept in sync with the struct of the same
//! name in its shader (named in each doc comment); all are 16 bytes, `#[repr(C)]` and
//! [`bytemuck::Pod`], and are bound as uniforms with a dynamic offset.

use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup of every kernel.
pub const WG_SIZE: u32 = 256;
/// Consecutive entries each invocation of `target_counts` scans (one atomic per run in them).
pub const TC_PER_THREAD: u32 = 16;
/// Elements one workgroup of `segment_sort` holds in workgroup memory (a power of two).
/// Segments longer than this are "long" and are merged through `segment_merge`.
pub const SORT_TILE: u32 = 2048;
/// Consecutive elements each invocation of `prefix_sum` and `connection_counts` handles.
pub const SCAN_PER_THREAD: u32 = 8;
/// Elements per workgroup block of `prefix_sum` and `connection_counts`.
pub const SCAN_BLOCK: u32 = WG_SIZE * SCAN_PER_THREAD;
/// Histogram bins of `synapses_per_connection` privatised in workgroup memory.
pub const HIST_LOCAL_BINS: u32 = 256;
/// Bins of the resident synapses-per-connection histogram; connections with more synapses are
/// counted by the host (they are rare and the host sees every connection anyway).
pub const HIST_BINS: u32 = 1 << 16;
/// `target_counts` mode: every entry is one edge (weight 1).
pub const MODE_EDGES: u32 = 0;
/// `target_counts` mode: entry `i` is a segment of `offsets[i + 1] - offsets[i]` edges.
pub const MODE_SEGMENTS: u32 = 1;
/// `segment_sort` mode: fully sort each block by (segment, source).
pub const MODE_SORT: u32 = 0;
/// `segment_sort` mode: finish one bitonic stage of a long segment (the steps below
/// [`SORT_TILE`]), after `segment_merge` did the steps at or above it.
pub const MODE_MERGE: u32 = 1;
/// Padding key of workgroup sorts (greater than or equal to every real key).
pub const NONE: u32 = u32::MAX;

/// Workgroup memory `segment_sort_wide` declares (segment, low and high word per tile element,
/// plus two words): adapters with less get no wide kernels, and populations with sources of
/// 2^32 and more are then handed to the CPU engine.
pub const WIDE_WORKGROUP_BYTES: u32 = 3 * 4 * SORT_TILE + 8;

/// Every constant the shaders repeat, by its WGSL name, for the naga drift test.
pub const SHARED_CONSTANTS: &[(&str, u32)] = &[
    ("WG_SIZE", WG_SIZE),
    ("TC_PER_THREAD", TC_PER_THREAD),
    ("SORT_TILE", SORT_TILE),
    ("SCAN_PER_THREAD", SCAN_PER_THREAD),
    ("SCAN_BLOCK", SCAN_BLOCK),
    ("HIST_LOCAL_BINS", HIST_LOCAL_BINS),
    ("MODE_EDGES", MODE_EDGES),
    ("MODE_SEGMENTS", MODE_SEGMENTS),
    ("MODE_SORT", MODE_SORT),
    ("MODE_MERGE", MODE_MERGE),
    ("NONE", NONE),
];

/// Parameters of `shaders/target_counts.wgsl` (keep in sync with `TargetCountsParams` there).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct TargetCountsParams {
    /// Entries of `targets`.
    pub n: u32,
    /// [`MODE_EDGES`] or [`MODE_SEGMENTS`].
    pub mode: u32,
    /// Length of `counts`; larger targets are ignored (the host validates ids first).
    pub n_counts: u32,
    /// Padding to 16 bytes.
    pub _pad: u32,
}

/// Parameters of `shaders/sources_by_target.wgsl` (keep in sync with `SourcesByTargetParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct SourcesByTargetParams {
    /// Edges in the chunk.
    pub n: u32,
    /// First target of the partition.
    pub t0: u32,
    /// One past the last target of the partition.
    pub t1: u32,
    /// Padding to 16 bytes.
    pub _pad: u32,
}

/// Parameters of `shaders/segment_sort.wgsl` (keep in sync with `SegmentSortParams` there).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct SegmentSortParams {
    /// First entry of `blocks` to process.
    pub first_block: u32,
    /// Entries of `blocks` to process.
    pub n_blocks: u32,
    /// [`MODE_SORT`] or [`MODE_MERGE`].
    pub mode: u32,
    /// Number of segments (`seg_offsets` has `m + 1` entries).
    pub m: u32,
}

/// Parameters of `shaders/segment_merge.wgsl` (keep in sync with `SegmentMergeParams` there).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct SegmentMergeParams {
    /// Bitonic stage: sorted runs of `k / 2` are merged into runs of `k`.
    pub k: u32,
    /// Comparator distance of this step (`k / 2` is the flip step).
    pub j: u32,
    /// Long segments taking part (a prefix of the table, whose padded sizes are at least `k`).
    pub n_segs: u32,
    /// Comparators of those segments (`comp_offset` of entry `n_segs`).
    pub n_comparators: u32,
}

/// Parameters of `shaders/prefix_sum.wgsl` (keep in sync with `PrefixSumParams` there).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PrefixSumParams {
    /// Elements of `data`.
    pub n: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 3],
}

/// Parameters of `shaders/connection_counts.wgsl` (keep in sync with `ConnectionCountsParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct ConnectionCountsParams {
    /// Elements (edges) of the batch.
    pub n: u32,
    /// Segments of the batch.
    pub m: u32,
    /// Where the batch's per-segment connection counts go in `seg_conn`.
    pub seg_base: u32,
    /// Padding to 16 bytes.
    pub _pad: u32,
}

/// Parameters of `shaders/synapses_per_connection.wgsl` (keep in sync with
/// `SynapsesPerConnectionParams` there).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct SynapsesPerConnectionParams {
    /// Length of `bins`; larger counts are left to the host.
    pub n_bins: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 3],
}
