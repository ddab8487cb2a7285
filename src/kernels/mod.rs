//! The compute kernels of the GPU census engine: WGSL shaders (in `shaders/`, bundled here), their
//! parameter structs and shared constants ([`params`]), the host-side plan of a segmented sort
//! ([`layout`]), and a CPU twin of every shader ([`cpu`]).
//!
//! A shader, its CPU twin and its host side share one name: `shaders/segment_sort.wgsl` ↔
//! [`cpu::segment_sort()`] ↔ `gpu::segment_sort`. The twins mirror the shaders step for step,
//! serially, with the same constants; `tests/gpu_kernels.rs` checks that every shader gives
//! exactly what its twin gives.
//!
//! How the kernels make a census of one batch of edges (a chunk of a file sorted by target, or
//! one target partition of an unsorted file, grouped by `sources_by_target`):
//! 1. `target_counts`: synapses per target (resident counters);
//! 2. `segment_sort` (+ `segment_merge` for segments longer than [`params::SORT_TILE`]): each
//!    target's sources sorted in place;
//! 3. `connection_counts` (with `prefix_sum`): run-length encoding into connections
//!    (source, synapses) and connections per segment, appended to resident arenas;
//! 4. `synapses_per_connection`: the histogram of synapses per connection (resident).
//!
//! Sources of 2^32 and more: `sources_by_target_wide`, `segment_sort_wide`,
//! `segment_merge_wide` and `connection_counts_wide` (its `count_heads` and `scatter_heads`) do
//! steps 2-3 on sources split into a low and a high u32 word (two buffers), compared as pairs,
//! so no kernel needs `SHADER_INT64`; the census uses them only for populations that need them.

pub mod cpu;
pub mod layout;
pub mod params;

/// One WGSL shader of the engine.
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    /// The file name without `.wgsl`, which is also the name of its CPU twin.
    pub name: &'static str,
    /// The WGSL source.
    pub source: &'static str,
    /// Its entry points.
    pub entry_points: &'static [&'static str],
}

/// `shaders/common/workgroup_scan.wgsl`: the workgroup exclusive scan that `prefix_sum` and
/// `connection_counts` share. WGSL has no include, so the shaders that call it get it appended to
/// their source here, at build time: one copy to maintain, and the validation test
/// (`tests/gpu_kernels.rs`) checks the composed sources the device compiles.
pub const WORKGROUP_SCAN: &str = include_str!("../../shaders/common/workgroup_scan.wgsl");

/// `shaders/target_counts.wgsl`.
pub const TARGET_COUNTS: Shader = Shader {
    name: "target_counts",
    source: include_str!("../../shaders/target_counts.wgsl"),
    entry_points: &["main"],
};

/// `shaders/sources_by_target.wgsl`.
pub const SOURCES_BY_TARGET: Shader = Shader {
    name: "sources_by_target",
    source: include_str!("../../shaders/sources_by_target.wgsl"),
    entry_points: &["main"],
};

/// `shaders/segment_sort.wgsl`.
pub const SEGMENT_SORT: Shader = Shader {
    name: "segment_sort",
    source: include_str!("../../shaders/segment_sort.wgsl"),
    entry_points: &["main"],
};

/// `shaders/segment_merge.wgsl`.
pub const SEGMENT_MERGE: Shader = Shader {
    name: "segment_merge",
    source: include_str!("../../shaders/segment_merge.wgsl"),
    entry_points: &["main"],
};

/// `shaders/prefix_sum.wgsl`, with [`WORKGROUP_SCAN`] appended.
pub const PREFIX_SUM: Shader = Shader {
    name: "prefix_sum",
    source: concat!(
        include_str!("../../shaders/prefix_sum.wgsl"),
        include_str!("../../shaders/common/workgroup_scan.wgsl")
    ),
    entry_points: &["scan_blocks", "add_offsets"],
};

/// `shaders/connection_counts.wgsl`, with [`WORKGROUP_SCAN`] appended.
pub const CONNECTION_COUNTS: Shader = Shader {
    name: "connection_counts",
    source: concat!(
        include_str!("../../shaders/connection_counts.wgsl"),
        include_str!("../../shaders/common/workgroup_scan.wgsl")
    ),
    entry_points: &["count_heads", "scatter_heads", "finish", "advance"],
};

/// `shaders/synapses_per_connection.wgsl`.
pub const SYNAPSES_PER_CONNECTION: Shader = Shader {
    name: "synapses_per_connection",
    source: include_str!("../../shaders/synapses_per_connection.wgsl"),
    entry_points: &["main"],
};

/// `shaders/sources_by_target_wide.wgsl`: [`SOURCES_BY_TARGET`] for sources of two u32 words.
pub const SOURCES_BY_TARGET_WIDE: Shader = Shader {
    name: "sources_by_target_wide",
    source: include_str!("../../shaders/sources_by_target_wide.wgsl"),
    entry_points: &["main"],
};

/// `shaders/segment_sort_wide.wgsl`: [`SEGMENT_SORT`] for sources of two u32 words.
pub const SEGMENT_SORT_WIDE: Shader = Shader {
    name: "segment_sort_wide",
    source: include_str!("../../shaders/segment_sort_wide.wgsl"),
    entry_points: &["main"],
};

/// `shaders/segment_merge_wide.wgsl`: [`SEGMENT_MERGE`] for sources of two u32 words.
pub const SEGMENT_MERGE_WIDE: Shader = Shader {
    name: "segment_merge_wide",
    source: include_str!("../../shaders/segment_merge_wide.wgsl"),
    entry_points: &["main"],
};

/// `shaders/connection_counts_wide.wgsl`, with [`WORKGROUP_SCAN`] appended: the entry points of
/// [`CONNECTION_COUNTS`] that read sources, for sources of two u32 words.
pub const CONNECTION_COUNTS_WIDE: Shader = Shader {
    name: "connection_counts_wide",
    source: concat!(
        include_str!("../../shaders/connection_counts_wide.wgsl"),
        include_str!("../../shaders/common/workgroup_scan.wgsl")
    ),
    entry_points: &["count_heads", "scatter_heads"],
};

/// Every shader, sorted by name.
pub const SHADERS: &[Shader] = &[
    CONNECTION_COUNTS,
    CONNECTION_COUNTS_WIDE,
    PREFIX_SUM,
    SEGMENT_MERGE,
    SEGMENT_MERGE_WIDE,
    SEGMENT_SORT,
    SEGMENT_SORT_WIDE,
    SOURCES_BY_TARGET,
    SOURCES_BY_TARGET_WIDE,
    SYNAPSES_PER_CONNECTION,
    TARGET_COUNTS,
];

/// The connections of one batch whose sources are wider than 32 bits (the `_wide` kernels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WideBatchConnections {
    /// Source of each connection, segment after segment, ascending within a segment.
    pub sources: Vec<u64>,
    /// Synapses of each connection.
    pub counts: Vec<u32>,
    /// Connections of each segment.
    pub per_segment: Vec<u32>,
}

/// The connections of one batch of segments, as the per-batch pipeline makes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchConnections {
    /// Source of each connection, segment after segment, ascending within a segment.
    pub sources: Vec<u32>,
    /// Synapses of each connection.
    pub counts: Vec<u32>,
    /// Connections of each segment.
    pub per_segment: Vec<u32>,
}
