//! Synthetic SONATA edge files for tests, benchmarks and demos.
//!
//! [`generate`] writes one HDF5 file with one or more edge populations laid out as SONATA says
//! (`/edges/<population>/source_node_id`, `target_node_id`, attribute groups, `indices/`), with
//! cortex-like shapes:
//! - the in-degree (synapses per target) varies: target weights are lognormal (σ = 0.5) and about
//!   2% of the targets get weight zero, so they receive no edges at all; the synapses are shared
//!   out in proportion to the weights with cumulative rounding, so the total is **exactly**
//!   [`GenerateOptions::edges`];
//! - the synapses of a target are grouped into connections of `1 + Poisson(3.5)` synapses (mean
//!   4.5), each from a distinct source drawn without replacement from `0..source_nodes`; when a
//!   target has more synapses than that allows, its connections take the rest evenly;
//! - rows are ordered as [`EdgeOrder`] says. For one seed the three orders hold the same multiset
//!   of `(source, target)` rows; only their order (and therefore the attribute values) differs.
//!
//! # Determinism
//! Every random stream is a [`rand::rngs::StdRng`] (ChaCha12) seeded from
//! [`GenerateOptions::seed`] (plus `i` for population `i`) and a stream number through a
//! splitmix64 mix. The same options give byte-identical datasets with the same version of this
//! crate and of `rand` (whose `StdRng` algorithm may change between major versions).
//! Attribute values are drawn per chunk of [`CHUNK_ROWS`] rows, per group and per column from
//! their own seeded generator, so they can be computed in parallel and stay deterministic.
//!
//! # Memory
//! [`EdgeOrder::Sorted`] streams: rows are produced target by target into one chunk buffer of
//! [`CHUNK_ROWS`] rows that is written into pre-sized contiguous datasets, so the memory is the
//! chunk plus the connections of one target (a file of 10^9 edges needs no more than one of
//! 10^6). [`EdgeOrder::TargetSorted`] additionally holds the rows of the current target (to
//! shuffle them). [`EdgeOrder::Shuffled`] holds every row in memory to permute it: 8 bytes per
//! edge when both node counts fit in u32 (ids packed into one u64), 16 bytes otherwise.
//! With `groups > 1` a first pass over the edge ids counts the rows of each group (no memory).
//! [`write_indices`] needs 8 bytes per node plus 16 bytes per index range.

use std::path::{Path, PathBuf};

use hdf5::H5Type;
use hdf5::types::VarLenUnicode;
use ndarray::{ArrayView2, s};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};
use rayon::prelude::*;

use crate::error::{Error, H5Context, Location, Result};
use crate::sonata::IdColumn;
use crate::sonata::schema;

/// Rows per write: the id columns and every attribute column are written in slices of this many
/// rows (8 MiB per u64 column).
pub const CHUNK_ROWS: usize = 1 << 20;

/// Fraction of targets that receive no edges at all.
pub const EMPTY_TARGET_FRACTION: f64 = 0.02;

/// σ of the lognormal target weights (the spread of the in-degree).
const IN_DEGREE_SIGMA: f64 = 0.5;

/// Synapses per connection are `1 + Poisson(EXTRA_SYNAPSES_MEAN)`.
const EXTRA_SYNAPSES_MEAN: f64 = 3.5;

/// Percentage of source nodes that are inhibitory (their synapses get inhibitory parameters).
const INHIBITORY_PERCENT: u64 = 15;

// Random stream numbers (one seeded generator per purpose).
const STREAM_WEIGHTS: u64 = 1;
const STREAM_STRUCTURE: u64 = 2;
const STREAM_ORDER: u64 = 3;
const STREAM_ATTRIBUTES: u64 = 4;
const STREAM_GROUPS: u64 = 5;

/// Order of the rows of a generated population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeOrder {
    /// By `(target, source)` ascending, the synapses of a connection contiguous (BBP files).
    #[default]
    Sorted,
    /// By target ascending; the rows of one target in random order, so sources are not sorted
    /// and the synapses of a connection are not necessarily contiguous (bmtk-like files).
    TargetSorted,
    /// A random permutation of all rows (held in memory while generating).
    Shuffled,
}

/// Storage type of `source_node_id` and `target_node_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeneratedIdDtype {
    /// `uint64`, as the SONATA specification says.
    #[default]
    U64,
    /// `int64`, as some real test files (snap, neurodamus) have.
    I64,
}

/// Which attribute columns are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeSet {
    /// Only the id columns (and the index): no attribute group, no `edge_type_id`.
    None,
    /// BBP chemical synapse columns in group `0` and an int64 `edge_type_id` of zeros.
    #[default]
    Bbp,
    /// bmtk columns: `nsyns` (uint16, >= 1), `syn_weight` (float64) in every group, `delay`
    /// (float64) in group `0`, and a uint32 `edge_type_id` (100 + the row's group).
    Bmtk,
}

pub use crate::sonata::index::IndexSpelling;

/// What [`generate`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of target nodes (target ids are `0..nodes`).
    pub nodes: u64,
    /// Number of source nodes; `None` means `nodes`, in the same node population. A different
    /// count makes the sources a separate population named `Virtual`.
    pub source_nodes: Option<u64>,
    /// Number of edges (rows) of each population, exactly.
    pub edges: u64,
    /// Seed of every random choice (population `i` uses `seed + i`).
    pub seed: u64,
    /// Row order.
    pub order: EdgeOrder,
    /// Storage type of the id columns.
    pub id_dtype: GeneratedIdDtype,
    /// Number of attribute groups (>= 1). With more than one, `edge_group_id` and
    /// `edge_group_index` are written and every row is assigned a group pseudo-randomly.
    pub groups: u32,
    /// Attribute columns.
    pub attributes: AttributeSet,
    /// Whether to write `indices/` (as libsonata's `write_indices`).
    pub write_index: bool,
    /// Spelling of the per-node index dataset.
    pub index_spelling: IndexSpelling,
    /// Number of edge populations (>= 1), each with `edges` rows.
    pub populations: u32,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            nodes: 1000,
            source_nodes: None,
            edges: 100_000,
            seed: 1,
            order: EdgeOrder::Sorted,
            id_dtype: GeneratedIdDtype::U64,
            groups: 1,
            attributes: AttributeSet::Bbp,
            write_index: true,
            index_spelling: IndexSpelling::Sonata,
            populations: 1,
        }
    }
}

impl GenerateOptions {
    /// The number of source nodes (`source_nodes`, else `nodes`).
    pub fn source_node_count(&self) -> u64 {
        self.source_nodes.unwrap_or(self.nodes)
    }

    /// Whether the sources are a separate node population (`Virtual`).
    pub fn has_virtual_sources(&self) -> bool {
        self.source_nodes.is_some_and(|n| n != self.nodes)
    }

    /// An estimate of the size in bytes of the file [`generate`] writes, from the options alone
    /// (no work), meant to be at or a little above the real size: the id, `edge_type_id` and
    /// group columns exactly; the attribute columns with group `0`'s (the widest) share of rows
    /// taken a little above its expected `1 / groups`; both indices' per-node tables exactly and
    /// their edge ranges as one per run of equal node ids (one per target, and in sorted order
    /// one per connection, at most one per 4 synapses; one per edge otherwise); and 1 MiB of
    /// HDF5 metadata. Saturates at `u64::MAX`. The CLI compares it with the free space of the
    /// output folder.
    pub fn estimated_file_size(&self) -> u64 {
        let e = self.edges;
        // source_node_id, target_node_id (8 bytes each, u64 or i64), edge_type_id, and
        // edge_group_id (uint16) + edge_group_index (uint32) with several groups.
        let ids_per_row: u64 =
            16 + match self.attributes {
                AttributeSet::None => 0,
                AttributeSet::Bbp => 8,
                AttributeSet::Bmtk => 4,
            } + if self.groups > 1 { 2 + 4 } else { 0 };
        // Bytes per row of group 0's columns and of the other groups' (see BBP_FULL ...).
        let (full, subset): (u64, u64) = match self.attributes {
            AttributeSet::None => (0, 0),
            AttributeSet::Bbp => (8 * 4 + 5 * 4, 4 + 4),
            AttributeSet::Bmtk => (2 + 8 + 8, 2 + 8),
        };
        // Rows go to groups by a uniform hash of the edge id: group 0 holds about e / groups.
        let g = u64::from(self.groups.max(1));
        let full_rows = if g == 1 {
            e
        } else {
            e.min(e / g + e / (8 * g) + 4096)
        };
        let attributes = full_rows
            .saturating_mul(full)
            .saturating_add((e - full_rows).saturating_mul(subset));
        let mut per_population = e.saturating_mul(ids_per_row).saturating_add(attributes);
        if self.write_index {
            let nodes = self.nodes.saturating_add(self.source_node_count());
            let target_runs = match self.order {
                EdgeOrder::Shuffled => e,
                EdgeOrder::Sorted | EdgeOrder::TargetSorted => e.min(self.nodes),
            };
            let source_runs = match self.order {
                // One run per connection; connections have 1 + Poisson(3.5) synapses.
                EdgeOrder::Sorted => e.div_ceil(4),
                EdgeOrder::TargetSorted | EdgeOrder::Shuffled => e,
            };
            per_population = per_population
                .saturating_add(nodes.saturating_mul(16))
                .saturating_add(target_runs.saturating_add(source_runs).saturating_mul(16));
        }
        per_population
            .saturating_mul(u64::from(self.populations))
            .saturating_add(1 << 20)
    }

    /// Checks the options; [`generate`] calls this first.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `groups` or `populations` is 0, `groups` exceeds 65536
    /// (`edge_group_id` is uint16), `groups > 1` comes without attributes, edges are asked for
    /// without target or source nodes, or int64 ids cannot hold the node ids.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if self.groups == 0 {
            return bad("the number of attribute groups must be at least 1".into());
        }
        if self.groups > u32::from(u16::MAX) + 1 {
            return bad(format!(
                "at most {} attribute groups are possible (edge_group_id is uint16), not {}",
                u32::from(u16::MAX) + 1,
                self.groups
            ));
        }
        if self.groups > 1 && self.attributes == AttributeSet::None {
            return bad("several attribute groups need an attribute set (bbp or bmtk)".into());
        }
        if self.populations == 0 {
            return bad("the number of populations must be at least 1".into());
        }
        if self.edges > 0 && self.nodes == 0 {
            return bad(format!(
                "cannot place {} without a target node (nodes must be at least 1)",
                crate::words::plural(self.edges, "edge")
            ));
        }
        if self.edges > 0 && self.source_node_count() == 0 {
            return bad(format!(
                "cannot place {} without a source node (source_nodes must be at least 1)",
                crate::words::plural(self.edges, "edge")
            ));
        }
        if self.id_dtype == GeneratedIdDtype::I64 {
            let limit = i64::MAX as u64 + 1;
            if self.nodes > limit || self.source_node_count() > limit {
                return bad("node counts above 2^63 do not fit int64 ids".into());
            }
        }
        if usize::try_from(self.edges).is_err() {
            return bad(format!(
                "{} edges do not fit this platform's address space",
                self.edges
            ));
        }
        Ok(())
    }
}

/// One population written by [`generate`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedPopulation {
    /// The population's name (`/edges/<name>`).
    pub name: String,
    /// The source node population (`node_population` of `source_node_id`).
    pub source_population: String,
    /// The target node population (`node_population` of `target_node_id`).
    pub target_population: String,
    /// Number of edges (rows, synapses).
    pub edges: u64,
    /// Number of connections (distinct `(source, target)` pairs).
    pub connections: u64,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GenerateSummary {
    /// The file written.
    pub path: PathBuf,
    /// Its populations, in the order written.
    pub populations: Vec<GeneratedPopulation>,
}

/// Writes a synthetic SONATA edge file to `path` (created or truncated; the caller does any
/// temporary-file-and-rename).
///
/// `progress` is called after every written chunk with the number of edges written so far, over
/// all populations. Layout, shapes, determinism and memory are described in the
/// [module documentation](self).
///
/// # Errors
/// [`Error::InvalidArgument`] for invalid options (see [`GenerateOptions::validate`]) or when the
/// shuffled order cannot hold the rows in memory; [`Error::Io`] when the file cannot be created;
/// [`Error::Hdf5`] when HDF5 fails.
pub fn generate(
    path: &Path,
    opts: &GenerateOptions,
    progress: &dyn Fn(u64),
) -> Result<GenerateSummary> {
    opts.validate()?;
    // Let the OS report a missing folder or a permission problem in its own words.
    std::fs::File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let at = Location::file(path);
    let file = hdf5::File::create(path).at(&at)?;

    let source_population = if opts.has_virtual_sources() {
        "Virtual"
    } else {
        "All"
    };
    let mut populations = Vec::with_capacity(opts.populations as usize);
    let mut written = 0u64;
    for i in 0..opts.populations {
        let name = if opts.populations == 1 {
            format!("{source_population}__All__chemical")
        } else {
            format!("{source_population}__All__chemical_{i}")
        };
        let seed = opts.seed.wrapping_add(u64::from(i));
        let connections = write_population(
            &file,
            &name,
            source_population,
            opts,
            seed,
            &at.population(&name),
            &mut |n| progress(written + n),
        )?;
        written += opts.edges;
        if opts.write_index {
            write_indices(
                &file,
                &name,
                opts.source_node_count(),
                opts.nodes,
                opts.index_spelling,
            )?;
        }
        populations.push(GeneratedPopulation {
            name,
            source_population: source_population.to_string(),
            target_population: "All".to_string(),
            edges: opts.edges,
            connections,
        });
    }
    file.flush().at(&at)?;
    drop(file);
    Ok(GenerateSummary {
        path: path.to_path_buf(),
        populations,
    })
}

/// Writes one population; returns its number of connections.
fn write_population(
    file: &hdf5::File,
    name: &str,
    source_population: &str,
    opts: &GenerateOptions,
    seed: u64,
    at: &Location,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let writer = PopulationWriter::create(file, name, source_population, opts, seed, at)?;
    let mut sink = RowSink::new(writer, progress);
    let source_nodes = opts.source_node_count();
    let mut degrees = InDegrees::new(opts.nodes, opts.edges, seed);
    let mut structure = ConnectionSampler::new(source_nodes, seed);
    let mut order_rng = StdRng::seed_from_u64(stream_seed(seed, STREAM_ORDER, 0, 0));
    let mut connections = 0u64;

    match opts.order {
        EdgeOrder::Sorted => {
            for target in 0..opts.nodes {
                let synapses = degrees.next_target();
                structure.sample(synapses);
                connections += structure.sources.len() as u64;
                for (&source, &size) in structure.sources.iter().zip(&structure.sizes) {
                    sink.push_run(source, target, size)?;
                }
            }
        }
        EdgeOrder::TargetSorted => {
            let mut rows: Vec<u64> = Vec::new();
            for target in 0..opts.nodes {
                let synapses = degrees.next_target();
                structure.sample(synapses);
                connections += structure.sources.len() as u64;
                rows.clear();
                for (&source, &size) in structure.sources.iter().zip(&structure.sizes) {
                    rows.extend(std::iter::repeat_n(source, size as usize));
                }
                rows.shuffle(&mut order_rng);
                sink.push_target_rows(target, &rows)?;
            }
        }
        EdgeOrder::Shuffled => {
            let packed = opts.nodes <= 1 << 32 && source_nodes <= 1 << 32;
            let mut store =
                RowStore::with_capacity(opts.edges as usize, packed).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "cannot hold {} edges in memory to shuffle them; use a sorted order",
                        opts.edges
                    ))
                })?;
            for target in 0..opts.nodes {
                let synapses = degrees.next_target();
                structure.sample(synapses);
                connections += structure.sources.len() as u64;
                for (&source, &size) in structure.sources.iter().zip(&structure.sizes) {
                    store.push_run(source, target, size);
                }
            }
            store.shuffle(&mut order_rng);
            store.drain_into(&mut sink)?;
        }
    }
    sink.finish()?;
    Ok(connections)
}

// ------------------------------------------------------------------------------------------------
// Random streams

/// splitmix64's finalizer: a bijective 64-bit mix.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of random stream `stream`, sub-streams `a` and `b`, of a population seeded `seed`.
fn stream_seed(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    mix(mix(mix(seed) ^ stream) ^ mix(a).wrapping_add(b.rotate_left(32)))
}

/// The attribute group of edge `edge` among `groups` (pseudo-random, uniform, stateless).
fn group_of(group_seed: u64, edge: u64, groups: u32) -> u32 {
    (((mix(group_seed ^ edge) >> 32) * u64::from(groups)) >> 32) as u32
}

/// Whether source node `source` is inhibitory (a property of the node, the same in every file).
fn is_inhibitory(source: u64) -> bool {
    mix(source ^ 0x5EED_1A7E) % 100 < INHIBITORY_PERCENT
}

// ------------------------------------------------------------------------------------------------
// Shapes

/// Synapse counts per target, in target order, summing exactly to the edge count.
///
/// Weights are regenerated from their seed in a second pass instead of being stored, so memory
/// does not grow with the node count.
struct InDegrees {
    rng: StdRng,
    nodes: u64,
    edges: u64,
    next: u64,
    total: f64,
    uniform: bool,
    cumulative: f64,
    assigned: u64,
}

impl InDegrees {
    fn new(nodes: u64, edges: u64, seed: u64) -> Self {
        let seed = stream_seed(seed, STREAM_WEIGHTS, 0, 0);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut total = 0.0;
        for _ in 0..nodes {
            total += Self::weight(&mut rng);
        }
        // All weights zero (tiny node counts): share evenly instead.
        let uniform = total <= 0.0;
        InDegrees {
            rng: StdRng::seed_from_u64(seed),
            nodes,
            edges,
            next: 0,
            total: if uniform { nodes as f64 } else { total },
            uniform,
            cumulative: 0.0,
            assigned: 0,
        }
    }

    fn weight(rng: &mut StdRng) -> f64 {
        let empty = rng.random::<f64>() < EMPTY_TARGET_FRACTION;
        let z: f64 = StandardNormal.sample(rng);
        if empty {
            0.0
        } else {
            (IN_DEGREE_SIGMA * z).exp()
        }
    }

    /// The synapse count of the next target.
    fn next_target(&mut self) -> u64 {
        let w = Self::weight(&mut self.rng);
        self.cumulative += if self.uniform { 1.0 } else { w };
        self.next += 1;
        let upto = if self.next >= self.nodes {
            self.edges
        } else {
            let share = (self.edges as f64 * (self.cumulative / self.total)).floor() as u64;
            share.clamp(self.assigned, self.edges)
        };
        let n = upto - self.assigned;
        self.assigned = upto;
        n
    }
}

/// Splits a target's synapses into connections from distinct sources.
struct ConnectionSampler {
    rng: StdRng,
    poisson: Option<Poisson<f64>>,
    source_nodes: u64,
    /// Sources of the connections, ascending.
    sources: Vec<u64>,
    /// Synapses of each connection (>= 1), parallel to `sources`.
    sizes: Vec<u64>,
}

impl ConnectionSampler {
    fn new(source_nodes: u64, seed: u64) -> Self {
        ConnectionSampler {
            rng: StdRng::seed_from_u64(stream_seed(seed, STREAM_STRUCTURE, 0, 0)),
            poisson: Poisson::new(EXTRA_SYNAPSES_MEAN).ok(),
            source_nodes,
            sources: Vec::new(),
            sizes: Vec::new(),
        }
    }

    fn sample(&mut self, synapses: u64) {
        self.sizes.clear();
        self.sources.clear();
        if synapses == 0 || self.source_nodes == 0 {
            return;
        }
        let mut sum = 0u64;
        while sum < synapses && (self.sizes.len() as u64) < self.source_nodes {
            let extra = match &self.poisson {
                Some(p) => p.sample(&mut self.rng) as u64,
                None => 3,
            };
            let size = (1 + extra).min(synapses - sum);
            self.sizes.push(size);
            sum += size;
        }
        let k = self.sizes.len();
        if sum < synapses {
            // Every source is used: the remaining synapses go evenly to the connections.
            let rest = synapses - sum;
            let (each, extra) = (rest / k as u64, (rest % k as u64) as usize);
            for (i, size) in self.sizes.iter_mut().enumerate() {
                *size += each + u64::from(i < extra);
            }
        } else if k > 1 {
            // The last connection was trimmed to fit; do not always give it the highest source.
            let j = self.rng.random_range(0..k);
            self.sizes.swap(j, k - 1);
        }
        sample_distinct_sorted(&mut self.rng, self.source_nodes, k, &mut self.sources);
    }
}

/// Draws `k` distinct values of `0..n` (k <= n), ascending, into `out`.
fn sample_distinct_sorted(rng: &mut StdRng, n: u64, k: usize, out: &mut Vec<u64>) {
    out.clear();
    let k64 = k as u64;
    if k == 0 {
        return;
    }
    if k64 >= n {
        out.extend(0..n);
    } else if k64.saturating_mul(4) >= n {
        // Dense: selection sampling (Knuth's algorithm S), one pass over n <= 4k values.
        let mut needed = k64;
        for i in 0..n {
            if needed == 0 {
                break;
            }
            if rng.random_range(0..n - i) < needed {
                out.push(i);
                needed -= 1;
            }
        }
    } else {
        // Sparse: draw, sort, drop duplicates, top up (few duplicates since k < n/4).
        while out.len() < k {
            while out.len() < k {
                out.push(rng.random_range(0..n));
            }
            out.sort_unstable();
            out.dedup();
        }
    }
}

/// All rows of a shuffled population, held in memory.
enum RowStore {
    /// `target << 32 | source` when both fit in u32.
    Packed(Vec<u64>),
    /// `[source, target]`.
    Wide(Vec<[u64; 2]>),
}

impl RowStore {
    fn with_capacity(rows: usize, packed: bool) -> Option<Self> {
        if packed {
            let mut v = Vec::new();
            v.try_reserve_exact(rows).ok()?;
            Some(RowStore::Packed(v))
        } else {
            let mut v = Vec::new();
            v.try_reserve_exact(rows).ok()?;
            Some(RowStore::Wide(v))
        }
    }

    fn push_run(&mut self, source: u64, target: u64, count: u64) {
        match self {
            RowStore::Packed(v) => {
                v.extend(std::iter::repeat_n(target << 32 | source, count as usize))
            }
            RowStore::Wide(v) => v.extend(std::iter::repeat_n([source, target], count as usize)),
        }
    }

    fn shuffle(&mut self, rng: &mut StdRng) {
        match self {
            RowStore::Packed(v) => v.shuffle(rng),
            RowStore::Wide(v) => v.shuffle(rng),
        }
    }

    fn drain_into(self, sink: &mut RowSink<'_>) -> Result<()> {
        match self {
            RowStore::Packed(v) => {
                for chunk in v.chunks(CHUNK_ROWS) {
                    for &row in chunk {
                        sink.push(row & 0xFFFF_FFFF, row >> 32)?;
                    }
                }
            }
            RowStore::Wide(v) => {
                for &[source, target] in &v {
                    sink.push(source, target)?;
                }
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Writing

/// Collects rows into chunks of [`CHUNK_ROWS`] and hands each full chunk to the writer.
struct RowSink<'p> {
    writer: PopulationWriter,
    sources: Vec<u64>,
    targets: Vec<u64>,
    next_row: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<'p> RowSink<'p> {
    fn new(writer: PopulationWriter, progress: &'p mut dyn FnMut(u64)) -> Self {
        let rows = CHUNK_ROWS.min(writer.edges as usize);
        RowSink {
            writer,
            sources: Vec::with_capacity(rows),
            targets: Vec::with_capacity(rows),
            next_row: 0,
            progress,
        }
    }

    fn push(&mut self, source: u64, target: u64) -> Result<()> {
        self.sources.push(source);
        self.targets.push(target);
        if self.sources.len() == CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn push_run(&mut self, source: u64, target: u64, count: u64) -> Result<()> {
        let mut left = count;
        while left > 0 {
            let n = ((CHUNK_ROWS - self.sources.len()) as u64).min(left) as usize;
            self.sources.extend(std::iter::repeat_n(source, n));
            self.targets.extend(std::iter::repeat_n(target, n));
            left -= n as u64;
            if self.sources.len() == CHUNK_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn push_target_rows(&mut self, target: u64, sources: &[u64]) -> Result<()> {
        let mut rest = sources;
        while !rest.is_empty() {
            let n = (CHUNK_ROWS - self.sources.len()).min(rest.len());
            self.sources.extend_from_slice(&rest[..n]);
            self.targets.extend(std::iter::repeat_n(target, n));
            rest = &rest[n..];
            if self.sources.len() == CHUNK_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.sources.is_empty() {
            return Ok(());
        }
        self.writer
            .write_chunk(self.next_row, &self.sources, &self.targets)?;
        self.next_row += self.sources.len() as u64;
        self.sources.clear();
        self.targets.clear();
        (self.progress)(self.next_row);
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if self.next_row != self.writer.edges {
            // Cannot happen: the in-degrees sum to the edge count by construction.
            return Err(Error::invalid(
                self.writer.at.clone(),
                format!(
                    "generated {} rows instead of {}",
                    self.next_row, self.writer.edges
                ),
            ));
        }
        (self.progress)(self.next_row);
        Ok(())
    }
}

/// Value of one attribute row from the row's "source is inhibitory" flag.
type ValueFn<T> = fn(&mut StdRng, bool) -> T;

/// How an attribute column is stored and drawn.
#[derive(Clone, Copy)]
enum ColumnKind {
    F32(ValueFn<f32>),
    F64(ValueFn<f64>),
    U32(ValueFn<u32>),
    U16(ValueFn<u16>),
}

/// One attribute column of a group.
#[derive(Clone, Copy)]
struct ColumnSpec {
    name: &'static str,
    kind: ColumnKind,
}

/// One chunk of one attribute column.
enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32(Vec<u32>),
    U16(Vec<u16>),
}

impl ColumnKind {
    fn create(self, group: &hdf5::Group, name: &str, rows: usize) -> hdf5::Result<hdf5::Dataset> {
        match self {
            ColumnKind::F32(_) => create_1d::<f32>(group, name, rows),
            ColumnKind::F64(_) => create_1d::<f64>(group, name, rows),
            ColumnKind::U32(_) => create_1d::<u32>(group, name, rows),
            ColumnKind::U16(_) => create_1d::<u16>(group, name, rows),
        }
    }

    fn draw(self, rng: &mut StdRng, inhibitory: &[bool]) -> Values {
        fn fill<T>(rng: &mut StdRng, inhibitory: &[bool], f: ValueFn<T>) -> Vec<T> {
            inhibitory.iter().map(|&inh| f(rng, inh)).collect()
        }
        match self {
            ColumnKind::F32(f) => Values::F32(fill(rng, inhibitory, f)),
            ColumnKind::F64(f) => Values::F64(fill(rng, inhibitory, f)),
            ColumnKind::U32(f) => Values::U32(fill(rng, inhibitory, f)),
            ColumnKind::U16(f) => Values::U16(fill(rng, inhibitory, f)),
        }
    }
}

impl Values {
    fn write(&self, ds: &hdf5::Dataset, start: usize) -> hdf5::Result<()> {
        match self {
            Values::F32(v) => write_rows(ds, start, v),
            Values::F64(v) => write_rows(ds, start, v),
            Values::U32(v) => write_rows(ds, start, v),
            Values::U16(v) => write_rows(ds, start, v),
        }
    }
}

fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    mean + sd * z
}

fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    median * (sigma * z).exp()
}

// BBP chemical synapse parameters: excitatory / inhibitory values after the SSCx model's
// typical magnitudes (nS, ms, probability), with some spread.
fn bbp_conductance(rng: &mut StdRng, inh: bool) -> f32 {
    lognormal(rng, if inh { 1.5 } else { 0.8 }, 0.5) as f32
}
fn bbp_decay_time(rng: &mut StdRng, inh: bool) -> f32 {
    let mean = if inh { 8.3 } else { 1.74 };
    normal(rng, mean, 0.1 * mean).max(0.1) as f32
}
fn bbp_depression_time(rng: &mut StdRng, inh: bool) -> f32 {
    normal(rng, if inh { 700.0 } else { 671.0 }, 120.0).max(1.0) as f32
}
fn bbp_facilitation_time(rng: &mut StdRng, inh: bool) -> f32 {
    normal(rng, if inh { 21.0 } else { 17.0 }, 5.0).max(0.0) as f32
}
fn bbp_u_syn(rng: &mut StdRng, inh: bool) -> f32 {
    let (mean, sd) = if inh { (0.25, 0.05) } else { (0.5, 0.1) };
    normal(rng, mean, sd).clamp(0.01, 1.0) as f32
}
fn bbp_delay(rng: &mut StdRng, _inh: bool) -> f32 {
    let e: f64 = Exp1.sample(rng);
    (0.1 + e) as f32
}
fn bbp_section_pos(rng: &mut StdRng, _inh: bool) -> f32 {
    rng.random::<f32>()
}
fn bbp_segment_offset(rng: &mut StdRng, _inh: bool) -> f32 {
    3.0 * rng.random::<f32>()
}
fn bbp_syn_type_id(rng: &mut StdRng, inh: bool) -> u32 {
    if inh {
        rng.random_range(0..10)
    } else {
        100 + rng.random_range(0..20)
    }
}
fn bbp_n_rrp_vesicles(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(1..=3)
}
fn bbp_section_id(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(0..250)
}
fn bbp_section_type(rng: &mut StdRng, inh: bool) -> u32 {
    // soma = 1, basal = 3, apical = 4 (axo-axonic synapses are left out).
    let soma = if inh { 20 } else { 2 };
    match rng.random_range(0..100) {
        r if r < soma => 1,
        r if r < 60 => 3,
        _ => 4,
    }
}
fn bbp_segment_id(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(0..40)
}

// bmtk columns.
fn bmtk_nsyns(rng: &mut StdRng, _inh: bool) -> u16 {
    rng.random_range(1..=8)
}
fn bmtk_syn_weight(rng: &mut StdRng, inh: bool) -> f64 {
    lognormal(rng, if inh { 4e-4 } else { 2e-4 }, 0.5)
}
fn bmtk_delay(rng: &mut StdRng, _inh: bool) -> f64 {
    let e: f64 = Exp1.sample(rng);
    1.0 + e
}

const fn col(name: &'static str, kind: ColumnKind) -> ColumnSpec {
    ColumnSpec { name, kind }
}

const BBP_FULL: &[ColumnSpec] = &[
    col("conductance", ColumnKind::F32(bbp_conductance)),
    col("decay_time", ColumnKind::F32(bbp_decay_time)),
    col("depression_time", ColumnKind::F32(bbp_depression_time)),
    col("facilitation_time", ColumnKind::F32(bbp_facilitation_time)),
    col("u_syn", ColumnKind::F32(bbp_u_syn)),
    col("delay", ColumnKind::F32(bbp_delay)),
    col("afferent_section_pos", ColumnKind::F32(bbp_section_pos)),
    col(
        "afferent_segment_offset",
        ColumnKind::F32(bbp_segment_offset),
    ),
    col("syn_type_id", ColumnKind::U32(bbp_syn_type_id)),
    col("n_rrp_vesicles", ColumnKind::U32(bbp_n_rrp_vesicles)),
    col("afferent_section_id", ColumnKind::U32(bbp_section_id)),
    col("afferent_section_type", ColumnKind::U32(bbp_section_type)),
    col("afferent_segment_id", ColumnKind::U32(bbp_segment_id)),
];

const BBP_SUBSET: &[ColumnSpec] = &[
    col("conductance", ColumnKind::F32(bbp_conductance)),
    col("syn_type_id", ColumnKind::U32(bbp_syn_type_id)),
];

const BMTK_FULL: &[ColumnSpec] = &[
    col(schema::NSYNS, ColumnKind::U16(bmtk_nsyns)),
    col("syn_weight", ColumnKind::F64(bmtk_syn_weight)),
    col("delay", ColumnKind::F64(bmtk_delay)),
];

const BMTK_SUBSET: &[ColumnSpec] = &[
    col(schema::NSYNS, ColumnKind::U16(bmtk_nsyns)),
    col("syn_weight", ColumnKind::F64(bmtk_syn_weight)),
];

/// The columns of attribute group `group`.
fn group_columns(attributes: AttributeSet, group: u32) -> &'static [ColumnSpec] {
    match (attributes, group) {
        (AttributeSet::None, _) => &[],
        (AttributeSet::Bbp, 0) => BBP_FULL,
        (AttributeSet::Bbp, _) => BBP_SUBSET,
        (AttributeSet::Bmtk, 0) => BMTK_FULL,
        (AttributeSet::Bmtk, _) => BMTK_SUBSET,
    }
}

/// An attribute group being written: its columns and the rows written so far.
struct GroupWriter {
    columns: Vec<(ColumnSpec, hdf5::Dataset)>,
    written: u64,
    name: String,
}

/// The datasets of one population and the state needed to fill them chunk by chunk.
struct PopulationWriter {
    at: Location,
    edges: u64,
    seed: u64,
    id_dtype: GeneratedIdDtype,
    attributes: AttributeSet,
    group_count: u32,
    group_seed: u64,
    source: hdf5::Dataset,
    target: hdf5::Dataset,
    edge_type: Option<hdf5::Dataset>,
    group_id: Option<hdf5::Dataset>,
    group_index: Option<hdf5::Dataset>,
    groups: Vec<GroupWriter>,
}

impl PopulationWriter {
    fn create(
        file: &hdf5::File,
        name: &str,
        source_population: &str,
        opts: &GenerateOptions,
        seed: u64,
        at: &Location,
    ) -> Result<Self> {
        let edges = opts.edges as usize;
        let group = file
            .create_group(&format!("{}/{name}", schema::EDGES_GROUP))
            .at(at)?;
        let id_dataset = |col: &str, population: &str| -> Result<hdf5::Dataset> {
            let col_at = at.dataset(col);
            let ds = match opts.id_dtype {
                GeneratedIdDtype::U64 => create_1d::<u64>(&group, col, edges),
                GeneratedIdDtype::I64 => create_1d::<i64>(&group, col, edges),
            }
            .at(&col_at)?;
            write_string_attr(&ds, schema::NODE_POPULATION_ATTR, population).at(&col_at)?;
            Ok(ds)
        };
        let source = id_dataset(schema::SOURCE_NODE_ID, source_population)?;
        let target = id_dataset(schema::TARGET_NODE_ID, "All")?;

        let edge_type = match opts.attributes {
            AttributeSet::None => None,
            AttributeSet::Bbp => Some(create_1d::<i64>(&group, schema::EDGE_TYPE_ID, edges)),
            AttributeSet::Bmtk => Some(create_1d::<u32>(&group, schema::EDGE_TYPE_ID, edges)),
        }
        .transpose()
        .at(&at.dataset(schema::EDGE_TYPE_ID))?;

        let group_seed = stream_seed(seed, STREAM_GROUPS, 0, 0);
        let (group_id, group_index) = if opts.groups > 1 {
            (
                Some(
                    create_1d::<u16>(&group, schema::EDGE_GROUP_ID, edges)
                        .at(&at.dataset(schema::EDGE_GROUP_ID))?,
                ),
                Some(
                    create_1d::<u32>(&group, schema::EDGE_GROUP_INDEX, edges)
                        .at(&at.dataset(schema::EDGE_GROUP_INDEX))?,
                ),
            )
        } else {
            (None, None)
        };

        let mut groups = Vec::new();
        if opts.attributes != AttributeSet::None {
            let rows = group_sizes(opts.edges, opts.groups, group_seed);
            for (k, &n) in rows.iter().enumerate() {
                let gname = k.to_string();
                let g = group.create_group(&gname).at(&at.dataset(&gname))?;
                let mut columns = Vec::new();
                for &spec in group_columns(opts.attributes, k as u32) {
                    let path = format!("{gname}/{}", spec.name);
                    let ds = spec
                        .kind
                        .create(&g, spec.name, n as usize)
                        .at(&at.dataset(&path))?;
                    columns.push((spec, ds));
                }
                groups.push(GroupWriter {
                    columns,
                    written: 0,
                    name: gname,
                });
            }
        }

        Ok(PopulationWriter {
            at: at.clone(),
            edges: opts.edges,
            seed,
            id_dtype: opts.id_dtype,
            attributes: opts.attributes,
            group_count: opts.groups,
            group_seed,
            source,
            target,
            edge_type,
            group_id,
            group_index,
            groups,
        })
    }

    /// Writes rows `first .. first + sources.len()` of every column.
    fn write_chunk(&mut self, first: u64, sources: &[u64], targets: &[u64]) -> Result<()> {
        let start = first as usize;
        let n = sources.len();
        let at = &self.at;
        match self.id_dtype {
            GeneratedIdDtype::U64 => {
                write_rows(&self.source, start, sources).at(&at.dataset(schema::SOURCE_NODE_ID))?;
                write_rows(&self.target, start, targets).at(&at.dataset(schema::TARGET_NODE_ID))?;
            }
            GeneratedIdDtype::I64 => {
                // Ids are below 2^63 (checked by validate), so the bit patterns are equal.
                let s: &[i64] = bytemuck::cast_slice(sources);
                let t: &[i64] = bytemuck::cast_slice(targets);
                write_rows(&self.source, start, s).at(&at.dataset(schema::SOURCE_NODE_ID))?;
                write_rows(&self.target, start, t).at(&at.dataset(schema::TARGET_NODE_ID))?;
            }
        }

        // Group of every row, and the rows of each group in edge order.
        let k = self.group_count;
        let row_groups: Vec<u32> = if k > 1 {
            (0..n as u64)
                .map(|r| group_of(self.group_seed, first + r, k))
                .collect()
        } else {
            Vec::new()
        };

        if let Some(ds) = &self.edge_type {
            let et_at = at.dataset(schema::EDGE_TYPE_ID);
            match self.attributes {
                AttributeSet::Bmtk => {
                    let v: Vec<u32> = if k > 1 {
                        row_groups.iter().map(|&g| 100 + g).collect()
                    } else {
                        vec![100; n]
                    };
                    write_rows(ds, start, &v).at(&et_at)?;
                }
                _ => write_rows(ds, start, &vec![0i64; n]).at(&et_at)?,
            }
        }

        if let (Some(gid), Some(gidx)) = (&self.group_id, &self.group_index) {
            let ids: Vec<u16> = row_groups.iter().map(|&g| g as u16).collect();
            let mut next: Vec<u64> = self.groups.iter().map(|g| g.written).collect();
            let mut index = Vec::with_capacity(n);
            for &g in &row_groups {
                let slot = &mut next[g as usize];
                // edge_group_index is uint32; a group cannot exceed 2^32 rows there.
                index.push(u32::try_from(*slot).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "attribute group {g} would exceed 2^32 rows, which uint32 \
                         edge_group_index cannot address; use more groups"
                    ))
                })?);
                *slot += 1;
            }
            write_rows(gid, start, &ids).at(&at.dataset(schema::EDGE_GROUP_ID))?;
            write_rows(gidx, start, &index).at(&at.dataset(schema::EDGE_GROUP_INDEX))?;
        }

        let chunk_no = first / CHUNK_ROWS as u64;
        // The "source is inhibitory" flag of the rows of each group, in edge order.
        let mut flags: Vec<Vec<bool>> = vec![Vec::new(); self.groups.len()];
        if k > 1 {
            for (&s, &g) in sources.iter().zip(&row_groups) {
                if let Some(f) = flags.get_mut(g as usize) {
                    f.push(is_inhibitory(s));
                }
            }
        } else if let Some(f) = flags.first_mut() {
            f.extend(sources.iter().map(|&s| is_inhibitory(s)));
        }
        for ((gi, group), inhibitory) in self.groups.iter_mut().enumerate().zip(flags) {
            if inhibitory.is_empty() {
                continue;
            }
            let seed = self.seed;
            let values: Vec<Values> = group
                .columns
                .par_iter()
                .enumerate()
                .map(|(j, (spec, _))| {
                    let mut rng = StdRng::seed_from_u64(stream_seed(
                        seed,
                        STREAM_ATTRIBUTES,
                        chunk_no,
                        (gi as u64) << 32 | j as u64,
                    ));
                    spec.kind.draw(&mut rng, &inhibitory)
                })
                .collect();
            let offset = group.written as usize;
            for ((spec, ds), v) in group.columns.iter().zip(&values) {
                v.write(ds, offset)
                    .at(&at.dataset(&format!("{}/{}", group.name, spec.name)))?;
            }
            group.written += inhibitory.len() as u64;
        }
        Ok(())
    }
}

/// Rows per attribute group: all rows in group 0 for one group, else counted over the edge ids.
fn group_sizes(edges: u64, groups: u32, group_seed: u64) -> Vec<u64> {
    if groups <= 1 {
        return vec![edges];
    }
    let step = CHUNK_ROWS as u64;
    let chunks = edges.div_ceil(step);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut counts = vec![0u64; groups as usize];
            for e in c * step..((c + 1) * step).min(edges) {
                counts[group_of(group_seed, e, groups) as usize] += 1;
            }
            counts
        })
        .reduce(
            || vec![0u64; groups as usize],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// Creates a contiguous (not chunked) 1-D dataset of `rows` elements.
fn create_1d<T: H5Type>(
    group: &hdf5::Group,
    name: &str,
    rows: usize,
) -> hdf5::Result<hdf5::Dataset> {
    group.new_dataset::<T>().no_chunk().shape(rows).create(name)
}

/// Writes `data` into rows `start .. start + data.len()` of the 1-D dataset `ds`.
fn write_rows<T: H5Type>(ds: &hdf5::Dataset, start: usize, data: &[T]) -> hdf5::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    ds.as_writer().write_slice(data, start..start + data.len())
}

/// Writes a scalar variable-length UTF-8 string attribute (as h5py writes `str` values).
fn write_string_attr(obj: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let value: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("invalid string attribute: {e}")))?;
    obj.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&value)
}

// ------------------------------------------------------------------------------------------------
// Indices

/// Rows read per step while indexing.
const INDEX_READ_ROWS: usize = 1 << 20;
/// Rows of `node_id_to_ranges` written per step.
const INDEX_WRITE_ROWS: usize = 1 << 19;

/// Writes `indices/source_to_target` and `indices/target_to_source` of `/edges/<population>`,
/// as libsonata's `write_indices(path, population, source_node_count, target_node_count)` does.
///
/// For each id column, maximal runs of consecutive equal node ids (in edge order) become edge
/// ranges `[first, end)` in `range_to_edge_id`, ordered by node id and, within a node, by edge
/// order; row `n` of `node_id_to_ranges` (`node_id_to_range` with [`IndexSpelling::Bmtk`]) is
/// `[a, b)`, the rows of `range_to_edge_id` for node `n`, for every `n` in `0..count` (`[x, x]`
/// for a node without edges). All datasets are uint64 of shape `(rows, 2)`, contiguous.
///
/// The id columns are read from `file` (any integer type, so files written elsewhere can be
/// indexed) twice: once to count the runs of each node, once to place them. Memory: 8 bytes per
/// node and 16 bytes per range; time: linear in edges plus nodes.
///
/// Unlike libsonata, which silently leaves edges with a node id `>= count` out of the index,
/// such ids are an error here, as are negative ids.
///
/// # Errors
/// [`Error::PopulationNotFound`] when `/edges/<population>` does not exist;
/// [`Error::InvalidData`] when an `indices` group already exists, an id column is missing or not
/// an integer column, the columns differ in length, or an id is negative or not below its node
/// count (nothing is written then); [`Error::InvalidArgument`] when the counts cannot be held in
/// memory; [`Error::Hdf5`] when HDF5 fails.
pub fn write_indices(
    file: &hdf5::File,
    population: &str,
    source_node_count: u64,
    target_node_count: u64,
    spelling: IndexSpelling,
) -> Result<()> {
    let file_at = Location::file(file.filename());
    let group_path = format!("{}/{population}", schema::EDGES_GROUP);
    if !file.link_exists(schema::EDGES_GROUP) || !file.link_exists(&group_path) {
        let available = file
            .group(schema::EDGES_GROUP)
            .and_then(|g| crate::sonata::column::ordered_member_names(&g))
            .unwrap_or_default();
        return Err(Error::PopulationNotFound {
            at: file_at,
            name: population.to_string(),
            available,
        });
    }
    let at = file_at.population(population);
    let group = file.group(&group_path).at(&at)?;
    if group.link_exists(schema::INDICES_GROUP) {
        return Err(Error::invalid(
            at.dataset(schema::INDICES_GROUP),
            "an index group already exists; refusing to overwrite it",
        ));
    }
    let sources = IndexColumn::open(&group, schema::SOURCE_NODE_ID, source_node_count, &at)?;
    let targets = IndexColumn::open(&group, schema::TARGET_NODE_ID, target_node_count, &at)?;
    if sources.len != targets.len {
        return Err(Error::invalid(
            at,
            format!(
                "'{}' has {} rows but '{}' has {}",
                schema::SOURCE_NODE_ID,
                sources.len,
                schema::TARGET_NODE_ID,
                targets.len
            ),
        ));
    }
    // Count (and validate) both columns before anything is written.
    let source_counts = sources.count_runs()?;
    let target_counts = targets.count_runs()?;
    let index_at = |dir: &str| at.dataset(&format!("{}/{dir}", schema::INDICES_GROUP));
    let node_ds = spelling.dataset_name();
    for (column, counts, dir) in [
        (&sources, source_counts, schema::SOURCE_TO_TARGET),
        (&targets, target_counts, schema::TARGET_TO_SOURCE),
    ] {
        let dir_at = index_at(dir);
        let g = group
            .create_group(&format!("{}/{dir}", schema::INDICES_GROUP))
            .at(&dir_at)?;
        column.write_index(&g, counts, node_ds, &dir_at)?;
    }
    Ok(())
}

/// An id column being indexed: the checked reader of `sonata::IdColumn` plus the node count ids
/// must stay below.
struct IndexColumn {
    ids: IdColumn,
    len: u64,
    node_count: u64,
}

impl IndexColumn {
    fn open(group: &hdf5::Group, name: &str, node_count: u64, pop_at: &Location) -> Result<Self> {
        let ids = IdColumn::open(group, name, pop_at)?;
        Ok(IndexColumn {
            len: ids.len(),
            ids,
            node_count,
        })
    }

    /// Calls `f(node, first_edge, end_edge)` for every maximal run of equal ids, in edge order.
    fn for_each_run(&self, mut f: impl FnMut(u64, u64, u64)) -> Result<()> {
        let mut buf = vec![0u64; INDEX_READ_ROWS.min(self.len as usize)];
        let mut run: Option<(u64, u64)> = None; // (node, first edge)
        let mut pos = 0u64;
        while pos < self.len {
            let n = ((self.len - pos) as usize).min(buf.len());
            let chunk = &mut buf[..n];
            self.ids.read_range_into(pos, chunk)?;
            for (i, &id) in chunk.iter().enumerate() {
                let row = pos + i as u64;
                match run {
                    Some((node, _)) if node == id => {}
                    _ => {
                        if id >= self.node_count {
                            return Err(Error::invalid(
                                self.ids.location().clone(),
                                format!(
                                    "node id {id} at row {row} is not below the node count {}",
                                    self.node_count
                                ),
                            ));
                        }
                        if let Some((node, first)) = run {
                            f(node, first, row);
                        }
                        run = Some((id, row));
                    }
                }
            }
            pos += n as u64;
        }
        if let Some((node, first)) = run {
            f(node, first, self.len);
        }
        Ok(())
    }

    /// Pass 1: the number of runs of every node id.
    fn count_runs(&self) -> Result<Vec<u64>> {
        let nodes = usize::try_from(self.node_count).ok();
        let mut counts = Vec::new();
        if nodes.is_none_or(|n| counts.try_reserve_exact(n).is_err()) {
            return Err(Error::InvalidArgument(format!(
                "cannot hold run counts for {} nodes in memory",
                self.node_count
            )));
        }
        counts.resize(self.node_count as usize, 0u64);
        self.for_each_run(|node, _, _| counts[node as usize] += 1)?;
        Ok(counts)
    }

    /// Writes `node_id_to_ranges` from the counts, then (pass 2) `range_to_edge_id`.
    fn write_index(
        &self,
        group: &hdf5::Group,
        mut counts: Vec<u64>,
        node_ds_name: &str,
        at: &Location,
    ) -> Result<()> {
        // Counts become each node's first row in range_to_edge_id.
        let mut total = 0u64;
        for c in counts.iter_mut() {
            let n = *c;
            *c = total;
            total += n;
        }
        let ranges_total = total;

        let node_at = at.dataset(node_ds_name);
        let node_ds = create_2d(group, node_ds_name, counts.len()).at(&node_at)?;
        let mut rows: Vec<u64> = Vec::with_capacity(2 * INDEX_WRITE_ROWS.min(counts.len()));
        let mut start = 0usize;
        while start < counts.len() {
            let end = (start + INDEX_WRITE_ROWS).min(counts.len());
            rows.clear();
            for n in start..end {
                let next = counts.get(n + 1).copied().unwrap_or(ranges_total);
                rows.push(counts[n]);
                rows.push(next);
            }
            write_2d(&node_ds, start, &rows).at(&node_at)?;
            start = end;
        }

        let range_at = at.dataset(schema::RANGE_TO_EDGE_ID);
        let mut ranges: Vec<u64> = Vec::new();
        let slots = usize::try_from(ranges_total)
            .ok()
            .and_then(|r| r.checked_mul(2));
        if slots.is_none_or(|s| ranges.try_reserve_exact(s).is_err()) {
            return Err(Error::InvalidArgument(format!(
                "cannot hold {ranges_total} index ranges in memory"
            )));
        }
        ranges.resize(2 * ranges_total as usize, 0);
        // `counts` now serves as the next free row of each node.
        self.for_each_run(|node, first, end| {
            let slot = &mut counts[node as usize];
            let r = *slot as usize;
            ranges[2 * r] = first;
            ranges[2 * r + 1] = end;
            *slot += 1;
        })?;
        let range_ds =
            create_2d(group, schema::RANGE_TO_EDGE_ID, ranges_total as usize).at(&range_at)?;
        write_2d(&range_ds, 0, &ranges).at(&range_at)
    }
}

/// Creates a contiguous uint64 dataset of shape `(rows, 2)`.
fn create_2d(group: &hdf5::Group, name: &str, rows: usize) -> hdf5::Result<hdf5::Dataset> {
    group
        .new_dataset::<u64>()
        .no_chunk()
        .shape((rows, 2))
        .create(name)
}

/// Writes `flat` (pairs, row-major) into rows `start ..` of a `(rows, 2)` dataset.
fn write_2d(ds: &hdf5::Dataset, start: usize, flat: &[u64]) -> hdf5::Result<()> {
    if flat.is_empty() {
        return Ok(());
    }
    let rows = flat.len() / 2;
    let view = ArrayView2::from_shape((rows, 2), flat)
        .map_err(|e| hdf5::Error::from(format!("index buffer shape: {e}")))?;
    ds.as_writer()
        .write_slice(view, s![start..start + rows, ..])
}
