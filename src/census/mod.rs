//! The census: per-target synapse and connection counts of an edge population.
//!
//! A [`Census`] holds, for one edge population:
//! - `target_synapse_count[t]`: edges (synapses) whose target is `t`;
//! - `target_connection_count[t]`: distinct sources of `t`;
//! - the connection table in CSR form: the connections of target `t` are rows
//!   `target_offsets[t] .. target_offsets[t + 1]` of `source_node_id` (ascending within a target)
//!   and `synapse_count`;
//! - `synapses_per_connection[i]`: connections with exactly `i` synapses;
//! - for bmtk files with an `nsyns` column, `target_nsyns_total[t]`: the sum of `nsyns` over the
//!   edges of `t` (one bmtk row can stand for several synapses).
//!
//! [`census_population`] picks the engine ([`Backend`]) and the number of targets
//! ([`TargetSpace`]), then runs the engine, and it alone decides when a population goes back to
//! the CPU. The engines: [`cpu`], the reference every other engine equals bit for bit, and
//! [`gpu`] (feature `gpu`), which counts on any wgpu adapter through the device layer
//! [`crate::gpu`] and says when a population must be handed to the CPU
//! ([`gpu::GpuOutcome::HandToCpu`]). What both share (the tables before metadata, the errors
//! both word identically) is in [`tables`].

pub mod circuit;
pub mod cost;
pub mod count_plan;
pub mod cpu;
pub mod derived;
pub mod filter;
#[cfg(feature = "gpu")]
pub mod gpu;
pub(crate) mod huge_pages;
pub mod limits;
pub mod lookup;
pub mod merge;
pub mod output;
pub mod provenance;
pub mod reader;
pub mod schema;
pub mod shard;
pub mod sortedness;
pub mod stored;
pub mod stream;
pub mod tables;

use std::path::PathBuf;
#[cfg(feature = "gpu")]
use std::sync::Arc;

pub use sortedness::Sortedness;
pub use stream::SpilledConnections;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sonata::EdgePopulation;
use crate::sonata::attributes::NsynsReader;
use crate::sonata::index::{EdgeIndex, IndexDirection};

/// Default rows per streamed chunk (4 MiB of u64 ids for both columns). Measured on 1e7 sorted
/// edges: 2^18 was faster than 2^16 (per-chunk overhead) and 2^20 (page faults of larger
/// buffers), see BENCHMARKS.md.
pub const DEFAULT_CHUNK_LEN: usize = 1 << 18;

/// Bytes of tables that `count` keeps in memory before it moves the connection table to spill
/// files ([`census_population_spilled`]): the connection table (12 B per connection) and the
/// per-target synapse and connection counts (16 B per target) together. 32 MiB: a sorted census
/// of 10^7 edges over 10^5 targets (2.3 M connections) stays in memory, larger ones spill, and
/// peak memory stays the same for 10^8 edges as for 10^10. Measured on the 2-core VM: spilling
/// 10^7 sorted edges' table cost 0.02 s of CPU time of 0.10 (written, read back and deleted),
/// which this threshold saves at 1e7; 2^18 connections kept peak RSS at 29 MB, this one at
/// 52 MB (issue 13's bound is 64 MB).
pub const SPILL_TABLE_BYTES_ABOVE: u64 = 32 << 20;

/// Under `auto`, populations of fewer edges are counted on the CPU without looking for a GPU:
/// finding an adapter and building the pipelines (0.04–0.07 s on a lavapipe-only machine, more
/// with a real driver) costs more than a GPU could save on them. On the H200 host of
/// BENCHMARKS.md the 16-core CPU engine was still faster at 10^8 edges. A caller changes it with
/// [`CensusOptions::gpu_min_edges`] (the binary reads [`GPU_MIN_EDGES_ENV`]).
pub const DEFAULT_GPU_MIN_EDGES: u64 = 1 << 24;

/// Environment variable from which the binary takes [`CensusOptions::gpu_min_edges`]
/// (`0` considers every population); the `auto` note names it.
pub const GPU_MIN_EDGES_ENV: &str = "SONATA_CENSUS_GPU_MIN_EDGES";

/// Default memory for grouping unsorted edges by target before spilling to disk.
pub const DEFAULT_MEMORY_BUDGET: u64 = 1 << 30;

/// Which engine counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// A real GPU for populations of at least [`CensusOptions::gpu_min_edges`] edges when one is
    /// present, else the CPU engine (the note says why).
    #[default]
    Auto,
    /// The CPU engine.
    Cpu,
    /// The GPU engine (any adapter, software ones included).
    Gpu,
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            other => Err(Error::InvalidArgument(format!(
                "unknown backend '{other}' (expected auto, cpu or gpu)"
            ))),
        }
    }
}

/// Options of a census run.
#[derive(Debug, Clone)]
pub struct CensusOptions {
    /// The number of target nodes (`--nodes-count`); `None` takes it from the target index, or
    /// else from the largest target id + 1.
    pub nodes_count: Option<u64>,
    /// Who gave `nodes_count`, for messages: [`TargetOrigin::NodeCount`] (the caller, the
    /// default) or [`TargetOrigin::NodePopulation`] (a circuit's node file,
    /// [`circuit::circuit_populations`]).
    pub nodes_count_origin: TargetOrigin,
    /// Rows per streamed chunk.
    pub chunk_len: usize,
    /// Memory for grouping unsorted edges by target; beyond it, partitions spill to disk.
    pub memory_budget: u64,
    /// Folder for spill files (default: the system temporary folder).
    pub spill_dir: Option<PathBuf>,
    /// Engine.
    pub backend: Backend,
    /// Count only the edges this filter keeps (a census restricted to node sets); `None`
    /// counts every edge.
    pub edge_filter: Option<std::sync::Arc<filter::EdgeFilter>>,
    /// Under [`Backend::Auto`], populations of fewer edges are counted on the CPU without looking
    /// for a GPU (default [`DEFAULT_GPU_MIN_EDGES`]).
    pub gpu_min_edges: u64,
    /// Knobs of the GPU engine (tests and benchmarks; the defaults suit real runs).
    #[cfg(feature = "gpu")]
    pub gpu_tuning: gpu::GpuTuning,
    /// The GPU context to count on; `None` opens (once per process) and shares
    /// [`crate::gpu::shared_context`]. A caller that manages its own device (a Python module, a
    /// sharded run) passes it here.
    #[cfg(feature = "gpu")]
    pub gpu_context: Option<Arc<crate::gpu::GpuContext>>,
    /// Which of the machine's GPUs the shared context opens ([`crate::gpu::shared_context_on`]):
    /// a rank of a sharded run takes its local rank; `None`, the first.
    #[cfg(feature = "gpu")]
    pub gpu_device: Option<usize>,
    /// The testing hooks the shared context opens with (feature `testing`).
    #[cfg(feature = "testing")]
    pub gpu_faults: crate::gpu::fault::GpuFaults,
}

impl Default for CensusOptions {
    fn default() -> Self {
        CensusOptions {
            nodes_count: None,
            nodes_count_origin: TargetOrigin::NodeCount,
            chunk_len: DEFAULT_CHUNK_LEN,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            spill_dir: None,
            backend: Backend::Auto,
            edge_filter: None,
            gpu_min_edges: DEFAULT_GPU_MIN_EDGES,
            #[cfg(feature = "gpu")]
            gpu_tuning: gpu::GpuTuning::default(),
            #[cfg(feature = "gpu")]
            gpu_context: None,
            #[cfg(feature = "gpu")]
            gpu_device: None,
            #[cfg(feature = "testing")]
            gpu_faults: crate::gpu::fault::GpuFaults::default(),
        }
    }
}

/// How many targets the tables have, and who said so.
#[derive(Debug, Clone)]
pub struct TargetSpace {
    /// Fixed number of targets, or `None` for "largest target id + 1".
    pub n_targets: Option<u64>,
    /// Where the number comes from, for messages.
    pub origin: TargetOrigin,
}

/// Where the number of targets of a census comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOrigin {
    /// The caller gave it ([`CensusOptions::nodes_count`]).
    NodeCount,
    /// The rows of the population's target index.
    TargetIndex,
    /// The largest target id + 1.
    LargestTargetId,
    /// The size of the target node population in the circuit's node files (`count` of a
    /// circuit config).
    NodePopulation,
}

impl std::fmt::Display for TargetOrigin {
    /// The words of messages; a tool names its own option for the caller's count ([`crate::error::Setting::NodeCount`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetOrigin::NodeCount => "the node count",
            TargetOrigin::TargetIndex => "the target index (indices/target_to_source)",
            TargetOrigin::LargestTargetId => "the largest target id",
            TargetOrigin::NodePopulation => {
                "the size of the target node population in the circuit's node files"
            }
        })
    }
}

impl TargetSpace {
    /// `--nodes-count` when given, else the rows of `indices/target_to_source/node_id_to_ranges`
    /// (or bmtk's `node_id_to_range`) when present, else unknown.
    ///
    /// # Errors
    /// A malformed target index (its per-node dataset is checked row by row); a node count
    /// whose tables cannot fit in memory ([`limits::check_target_count`]).
    pub fn resolve(pop: &EdgePopulation, nodes_count: Option<u64>) -> Result<Self> {
        Self::resolve_from(pop, nodes_count, TargetOrigin::NodeCount)
    }

    /// As [`TargetSpace::resolve`], `nodes_count` (when given) coming from `origin`.
    ///
    /// # Errors
    /// As [`TargetSpace::resolve`].
    pub fn resolve_from(
        pop: &EdgePopulation,
        nodes_count: Option<u64>,
        origin: TargetOrigin,
    ) -> Result<Self> {
        if let Some(n) = nodes_count {
            limits::check_target_count(pop, n, origin)?;
            return Ok(TargetSpace {
                n_targets: Some(n),
                origin,
            });
        }
        if let Some(index) = EdgeIndex::open(pop, IndexDirection::TargetToSource)? {
            let origin = TargetOrigin::TargetIndex;
            // Its length becomes the node count: it must fit in memory, and a corrupt per-node
            // dataset is refused.
            limits::check_target_count(pop, index.node_count(), origin)?;
            index.validate_nodes()?;
            return Ok(TargetSpace {
                n_targets: Some(index.node_count()),
                origin,
            });
        }
        Ok(TargetSpace {
            n_targets: None,
            origin: TargetOrigin::LargestTargetId,
        })
    }
}

/// The census of one edge population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Edge population name.
    pub population: String,
    /// Source node population, when the file records it.
    pub source_population: Option<String>,
    /// Target node population, when the file records it.
    pub target_population: Option<String>,
    /// Number of edges.
    pub edge_count: u64,
    /// Number of targets (length of the per-target tables).
    pub n_targets: u64,
    /// Order of the edges in the file.
    pub sortedness: Sortedness,
    /// Synapses (edges) per target.
    pub target_synapse_count: Vec<u64>,
    /// Connections (distinct sources) per target.
    pub target_connection_count: Vec<u64>,
    /// CSR offsets into the connection table, `n_targets + 1` entries.
    pub target_offsets: Vec<u64>,
    /// Source of each connection, ascending within a target.
    pub source_node_id: Vec<u64>,
    /// Synapses of each connection.
    pub synapse_count: Vec<u32>,
    /// Entry `i`: connections with exactly `i` synapses.
    pub synapses_per_connection: Vec<u64>,
    /// Per-target sum of the bmtk `nsyns` column, when the population has one.
    pub target_nsyns_total: Option<Vec<u64>>,
    /// The engine that counted.
    pub backend: CountedBy,
}

/// The engine that counted a census.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CountedBy {
    /// The CPU engine.
    Cpu,
    /// The GPU engine, on the adapter named.
    Gpu {
        /// The adapter's name.
        adapter: String,
    },
    /// Not recorded (a census read back from a file: files do not record the engine).
    #[default]
    Unrecorded,
}

impl std::fmt::Display for CountedBy {
    /// `cpu`, `gpu: ` followed by the adapter name, or nothing (dry-run's JSON records it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountedBy::Cpu => f.write_str("cpu"),
            CountedBy::Gpu { adapter } => write!(f, "gpu: {adapter}"),
            CountedBy::Unrecorded => Ok(()),
        }
    }
}

impl Census {
    /// The census of `pop` from an engine's tables.
    pub(crate) fn from_tables(
        pop: &EdgePopulation,
        n_targets: u64,
        sortedness: Sortedness,
        t: tables::Tables,
        target_nsyns_total: Option<Vec<u64>>,
        backend: CountedBy,
    ) -> Self {
        Census {
            population: pop.name().to_string(),
            source_population: pop.source_population().map(str::to_string),
            target_population: pop.target_population().map(str::to_string),
            edge_count: pop.size(),
            n_targets,
            sortedness,
            target_synapse_count: t.target_synapse_count,
            target_connection_count: t.target_connection_count,
            target_offsets: t.target_offsets,
            source_node_id: t.source_node_id,
            synapse_count: t.synapse_count,
            synapses_per_connection: t.synapses_per_connection,
            target_nsyns_total,
            backend,
        }
    }

    /// Number of connections (also when the table itself was spilled to disk by
    /// [`census_population_spilled`]).
    pub fn connection_count(&self) -> u64 {
        self.target_offsets.last().copied().unwrap_or(0)
    }

    /// The connections of target `t` as `(source, synapses)`; none when the table was spilled to
    /// disk by [`census_population_spilled`].
    pub fn connections_of(&self, t: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        let (a, b) = match (
            self.target_offsets.get(t as usize),
            self.target_offsets.get(t as usize + 1),
        ) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        let sources = self.source_node_id.get(a..b).unwrap_or(&[]);
        let counts = self.synapse_count.get(a..b).unwrap_or(&[]);
        sources.iter().copied().zip(counts.iter().copied())
    }
}

/// Runs the census of `pop` with the engine `options.backend` asks for.
///
/// # Errors
/// Read errors, invalid data (a target id at or beyond the node count, negative ids, a
/// connection of more than 2^32 - 1 synapses), [`Error::BackendUnavailable`] for `gpu` when there
/// is no adapter, the device fails, or the build has no GPU engine (feature `gpu`), and
/// spill-file I/O errors.
pub fn census_population(
    pop: &EdgePopulation,
    options: &CensusOptions,
    progress: &Progress,
) -> Result<Census> {
    census_population_noted(pop, options, progress, &mut Vec::new())
}

/// A line for the log from [`census_population_noted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Shown only with `-v`.
    pub detail: bool,
    /// What the line is about.
    pub kind: NoteKind,
    /// The line.
    pub text: String,
}

/// What a [`Note`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Which engine counts the population, and why (the `backend:` line).
    Backend,
    /// Anything else: notices, CPU fallbacks, the engine's strategy and timings.
    Other,
}

/// Shows the `backend:` note of a run once, and again only when the choice changes from one
/// population to the next (under `auto` a large population may go to the GPU and a small one
/// to the CPU); every other note is shown. `count` and `dry-run` both use it.
#[derive(Debug, Default)]
pub struct BackendOnce {
    last: Option<String>,
}

impl BackendOnce {
    /// Whether `note` is to be shown.
    pub fn show(&mut self, note: &Note) -> bool {
        if !note.is_backend() {
            return true;
        }
        if self.last.as_deref() == Some(note.text.as_str()) {
            return false;
        }
        self.last = Some(note.text.clone());
        true
    }
}

impl Note {
    /// Whether this is the note that says which engine counts a population.
    pub fn is_backend(&self) -> bool {
        self.kind == NoteKind::Backend
    }

    // Every plain note comes from the GPU path (notices, fallbacks).
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    pub(crate) fn info(text: impl Into<String>) -> Self {
        Note {
            detail: false,
            kind: NoteKind::Other,
            text: text.into(),
        }
    }
    pub(crate) fn detail(text: impl Into<String>) -> Self {
        Note {
            detail: true,
            kind: NoteKind::Other,
            text: text.into(),
        }
    }
    /// The `backend:` line: always shown under `auto`, only with `-v` for an engine asked for.
    pub(crate) fn backend(detail: bool, text: impl Into<String>) -> Self {
        Note {
            detail,
            kind: NoteKind::Backend,
            text: text.into(),
        }
    }
}

/// [`census_population`], and what is worth logging about it in `notes`: the engine chosen and
/// why, CPU fallbacks, and for GPU runs the `gpu:` and `gpu timings:` lines.
///
/// # Errors
/// As [`census_population`].
pub fn census_population_noted(
    pop: &EdgePopulation,
    options: &CensusOptions,
    progress: &Progress,
    notes: &mut Vec<Note>,
) -> Result<Census> {
    census_population_inner(pop, options, progress, notes, None).map(|(census, _)| census)
}

/// [`census_population_noted`] for a census that goes straight to a file: when the CPU engine's
/// tables (12 B per connection and 16 B per target) grow past `spill_above_bytes` (`count` uses
/// [`SPILL_TABLE_BYTES_ABOVE`]), the connection table goes to temporary files (in
/// `options.spill_dir`) as it is found, so memory stays flat however many connections there
/// are. The census then has empty `source_node_id` / `synapse_count` (its `target_offsets` and
/// every other table are complete) and the table is returned as [`SpilledConnections`], which
/// [`output::CensusWriter::write_spilled`] copies into the output. Otherwise the census is
/// complete and `None` is returned.
///
/// # Errors
/// As [`census_population`], and I/O errors of the spill files.
pub fn census_population_spilled(
    pop: &EdgePopulation,
    options: &CensusOptions,
    progress: &Progress,
    notes: &mut Vec<Note>,
    spill_above_bytes: u64,
) -> Result<(Census, Option<SpilledConnections>)> {
    census_population_inner(pop, options, progress, notes, Some(spill_above_bytes))
}

fn census_population_inner(
    pop: &EdgePopulation,
    options: &CensusOptions,
    progress: &Progress,
    notes: &mut Vec<Note>,
    spill: Option<u64>,
) -> Result<(Census, Option<SpilledConnections>)> {
    let (mut census, spilled) = census_by_engine(pop, options, progress, notes, spill)?;
    if options.edge_filter.is_some() {
        // A restricted census counts the edges its filter kept (the population's total is
        // recorded beside it by the writer).
        census.edge_count = census.target_synapse_count.iter().sum();
    }
    Ok((census, spilled))
}

/// The engine `options.backend` asks for (or `auto` picks) counts `pop`.
fn census_by_engine(
    pop: &EdgePopulation,
    options: &CensusOptions,
    progress: &Progress,
    notes: &mut Vec<Note>,
    spill: Option<u64>,
) -> Result<(Census, Option<SpilledConnections>)> {
    let space = TargetSpace::resolve_from(pop, options.nodes_count, options.nodes_count_origin)?;
    // Tables that cannot fit in memory are an error, not an allocation abort (limits.rs).
    let limited;
    let pop = if space.n_targets.is_some() {
        pop
    } else {
        limited = limits::limit_target_ids(pop);
        &limited
    };
    let nsyns = || -> Result<Option<stream::NsynsSource>> {
        Ok(NsynsReader::open(pop)?.map(|mut reader| {
            Box::new(move |first: u64, out: &mut [u64]| reader.read_range_into(first, out))
                as stream::NsynsSource
        }))
    };
    let cpu = |notes: &mut Vec<Note>| {
        cpu::census_spilled(pop, options, &space, nsyns, progress, spill, notes)
    };
    match options.backend {
        Backend::Cpu => {
            notes.push(Note::backend(true, "backend: cpu (asked for)"));
            cpu(notes)
        }
        Backend::Auto if pop.size() < options.gpu_min_edges => {
            // The same line for every small population, so that `count` says it once.
            notes.push(Note::backend(
                false,
                format!(
                    "backend: cpu (auto: populations of fewer than {} ({GPU_MIN_EDGES_ENV}) are \
                 counted on the CPU)",
                    crate::words::plural(options.gpu_min_edges, "edge")
                ),
            ));
            cpu(notes)
        }
        #[cfg(not(feature = "gpu"))]
        Backend::Gpu => Err(Error::BackendUnavailable {
            backend: "gpu".into(),
            reason: NO_GPU_ENGINE.into(),
        }),
        #[cfg(not(feature = "gpu"))]
        Backend::Auto => {
            notes.push(Note::backend(
                false,
                format!("backend: cpu (auto: {NO_GPU_ENGINE})"),
            ));
            cpu(notes)
        }
        #[cfg(feature = "gpu")]
        Backend::Gpu => {
            use crate::gpu::{AdapterChoice, SharedContext};
            let ctx = match gpu_context(options, AdapterChoice::Any)? {
                SharedContext::Ready(ctx) => ctx,
                SharedContext::Unavailable(why) => {
                    return Err(Error::BackendUnavailable {
                        backend: "gpu".into(),
                        reason: why,
                    });
                }
            };
            notes.push(Note::backend(
                true,
                format!("backend: gpu ({})", ctx.describe()),
            ));
            let (census, t) = census_on_gpu(pop, options, &space, nsyns, progress, &ctx)?;
            gpu_notes(pop, &t, notes);
            Ok((census, None))
        }
        #[cfg(feature = "gpu")]
        Backend::Auto => {
            use crate::gpu::{AdapterChoice, SharedContext};
            match gpu_context(options, AdapterChoice::Auto) {
                Ok(SharedContext::Ready(ctx))
                    if !ctx.is_software() && !gpu_expected_faster(pop, options, notes)? =>
                {
                    notes.push(Note::backend(
                        false,
                        format!(
                            "backend: cpu (auto: the CPU engine is expected to be faster than {} \
                             for this population; -v shows the estimate)",
                            ctx.adapter_info().name
                        ),
                    ));
                    cpu(notes)
                }
                Ok(SharedContext::Ready(ctx)) => {
                    notes.push(Note::backend(
                        false,
                        format!("backend: gpu (auto: {})", ctx.describe()),
                    ));
                    match census_on_gpu(pop, options, &space, nsyns, progress, &ctx) {
                        Ok((census, t)) => {
                            gpu_notes(pop, &t, notes);
                            Ok((census, None))
                        }
                        Err(Error::BackendUnavailable { reason, .. }) => {
                            notes.push(Note::info(format!(
                                "warning: the GPU failed: {reason}; counting {} again on the CPU",
                                pop.name()
                            )));
                            cpu(notes)
                        }
                        Err(e) => Err(e),
                    }
                }
                Ok(SharedContext::Unavailable(why)) => {
                    notes.push(Note::backend(false, format!("backend: cpu (auto: {why})")));
                    cpu(notes)
                }
                Err(e) => {
                    notes.push(Note::backend(false, format!("backend: cpu (auto: {e})")));
                    cpu(notes)
                }
            }
        }
    }
}

/// Whether the cost model ([`cost`]) expects the GPU engine to beat the CPU engine on `pop`
/// (its order sampled from the file); the estimate goes to `notes` (a `-v` line).
#[cfg(feature = "gpu")]
fn gpu_expected_faster(
    pop: &EdgePopulation,
    options: &CensusOptions,
    notes: &mut Vec<Note>,
) -> Result<bool> {
    let order = cost::sample_order(pop)?;
    let in_memory = pop.size().saturating_mul(cpu::PACKED_KEY_BYTES) <= options.memory_budget;
    let estimate = cost::Estimate::new(pop.size(), order, rayon::current_num_threads(), in_memory);
    notes.push(Note::detail(format!("auto: {}: {estimate}", pop.name())));
    Ok(estimate.prefers_gpu())
}

/// Why a build without the `gpu` feature counts on the CPU.
#[cfg(not(feature = "gpu"))]
const NO_GPU_ENGINE: &str = "this build has no GPU engine (built without the `gpu` feature)";

/// The caller's context, or the process-wide one for `choice` (opened with the testing hooks of
/// `options` under the `testing` feature).
#[cfg(feature = "gpu")]
fn gpu_context(
    options: &CensusOptions,
    choice: crate::gpu::AdapterChoice,
) -> Result<crate::gpu::SharedContext> {
    if let Some(ctx) = &options.gpu_context {
        return Ok(crate::gpu::SharedContext::Ready(Arc::clone(ctx)));
    }
    #[cfg(feature = "testing")]
    return crate::gpu::shared_context_with_device(choice, options.gpu_device, &options.gpu_faults);
    #[cfg(not(feature = "testing"))]
    crate::gpu::shared_context_on(choice, options.gpu_device)
}

/// The `notice:`, `gpu:` and `gpu timings:` lines of a GPU run.
#[cfg(feature = "gpu")]
fn gpu_notes(pop: &EdgePopulation, t: &gpu::GpuTimings, notes: &mut Vec<Note>) {
    for n in &t.notices {
        notes.push(Note::info(format!("notice: {}: {n}", pop.name())));
    }
    notes.push(Note::detail(format!("gpu: {t}")));
    notes.push(Note::detail(format!("gpu timings: {}", t.to_kv())));
}

/// Census of `pop` on the GPU context `ctx` (with `options.gpu_tuning`), in the target space
/// `space`; when the GPU engine hands the population to the CPU ([`gpu::GpuOutcome::HandToCpu`]:
/// target ids wider than 32 bits, tables larger than the device's buffers), the CPU engine counts it and
/// the timings say so (strategy [`gpu::GpuStrategy::CpuFallback`], the reason in `notices`).
/// `nsyns` opens the bmtk `nsyns` column when the population has one (once per attempt).
///
/// # Errors
/// As the CPU engine for bad input; [`Error::BackendUnavailable`] when the device fails.
#[cfg(feature = "gpu")]
pub fn census_on_gpu(
    pop: &EdgePopulation,
    options: &CensusOptions,
    space: &TargetSpace,
    nsyns: impl Fn() -> Result<Option<stream::NsynsSource>>,
    progress: &Progress,
    ctx: &crate::gpu::GpuContext,
) -> Result<(Census, gpu::GpuTimings)> {
    let started = std::time::Instant::now();
    let (outcome, mut timings) = gpu::census(pop, options, space, &nsyns, progress, ctx)?;
    let census = match outcome {
        gpu::GpuOutcome::Counted(census) => *census,
        gpu::GpuOutcome::HandToCpu { reason } => {
            timings.notices.push(reason);
            timings.strategy = gpu::GpuStrategy::CpuFallback;
            let census = cpu::census(pop, options, space, nsyns, progress)?;
            // The whole census, the CPU's part included, as before the engines were apart.
            timings.total_s = started.elapsed().as_secs_f64();
            census
        }
    };
    Ok((census, timings))
}
