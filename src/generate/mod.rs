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
//! crate and of `rand` (whose `StdRng` algorithm may change between major versions), and, as no
//! object modification times are recorded, byte-identical files.
//! Attribute values are drawn per chunk of [`CHUNK_ROWS`] rows, per group and per column from
//! their own seeded generator, so they can be computed in parallel and stay deterministic.
//!
//! # Memory
//! [`EdgeOrder::Sorted`] streams: rows are produced target by target into one chunk buffer of
//! [`CHUNK_ROWS`] rows that is written into pre-sized datasets (contiguous; the id columns chunked
//! and compressed when [`IdStorage`] says so), so the memory is the
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
use crate::outputs::create_untimed_group;
use crate::sonata::IdColumn;
use crate::sonata::schema;

// The parts of the generator, in the order a population is made: random streams and shapes,
// attribute columns, the writer, the indices. They share this module's options and constants.
mod attributes;
mod indices;
mod shapes;
mod writer;

pub use indices::write_indices;
#[allow(clippy::wildcard_imports)]
use {attributes::*, shapes::*, writer::*};

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

/// How `source_node_id` and `target_node_id` are stored (the other columns are always
/// contiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdStorage {
    /// One contiguous block each, unfiltered.
    #[default]
    Contiguous,
    /// Chunks of this many rows, unfiltered.
    Chunked {
        /// Rows per chunk.
        rows: u64,
    },
    /// Chunks of this many rows compressed with deflate at [`DEFLATE_LEVEL`] (h5py's
    /// `compression="gzip"`).
    Deflate {
        /// Rows per chunk.
        rows: u64,
    },
    /// Chunks of this many rows, byte-shuffled then deflated (h5py's `shuffle=True,
    /// compression="gzip"`).
    ShuffleDeflate {
        /// Rows per chunk.
        rows: u64,
    },
}

/// Rows per chunk of chunked id columns unless asked otherwise (512 KiB of 8-byte ids).
pub const DEFAULT_ID_CHUNK_ROWS: u64 = 65_536;

/// The deflate level of compressed id columns: h5py's default for `compression="gzip"`.
pub const DEFLATE_LEVEL: u8 = 4;

impl IdStorage {
    /// Rows per chunk; `None` for contiguous storage.
    pub fn chunk_rows(self) -> Option<u64> {
        match self {
            IdStorage::Contiguous => None,
            IdStorage::Chunked { rows }
            | IdStorage::Deflate { rows }
            | IdStorage::ShuffleDeflate { rows } => Some(rows),
        }
    }

    /// Whether the chunks are compressed (deflate).
    pub fn is_compressed(self) -> bool {
        matches!(
            self,
            IdStorage::Deflate { .. } | IdStorage::ShuffleDeflate { .. }
        )
    }
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
    /// Layout and compression of the id columns. A population without edges keeps contiguous
    /// columns (HDF5 has no chunk of zero rows), and chunks are at most one population long.
    pub id_storage: IdStorage,
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
            id_storage: IdStorage::Contiguous,
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
        // Chunked id columns store their last chunk whole (compressed ones take less, but the
        // estimate does not guess how much).
        if let Some(rows) = self.id_storage.chunk_rows()
            && e > 0
        {
            let rows = rows.clamp(1, e);
            let padding = e.div_ceil(rows).saturating_mul(rows) - e;
            per_population = per_population.saturating_add(padding.saturating_mul(16));
        }
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
    /// without target or source nodes, int64 ids cannot hold the node ids, chunks of id columns
    /// have 0 or more than [`MAX_ID_CHUNK_ROWS`] rows, or compressed id columns are asked of an
    /// HDF5 library without deflate.
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
        if let Some(rows) = self.id_storage.chunk_rows() {
            // HDF5 keeps a chunk's size in 32 bits.
            if rows == 0 || rows > MAX_ID_CHUNK_ROWS {
                return bad(format!(
                    "chunks of id columns must have 1 to {MAX_ID_CHUNK_ROWS} rows, not {rows}"
                ));
            }
            if self.id_storage.is_compressed() && !hdf5::filters::deflate_available() {
                return bad(
                    "the HDF5 library this was built with has no deflate filter: compressed id \
                     columns cannot be written"
                        .into(),
                );
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

/// Most rows per chunk of an id column: HDF5 keeps chunk sizes below 4 GiB (of 8-byte ids).
pub const MAX_ID_CHUNK_ROWS: u64 = (1 << 29) - 1;

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
    // Without object times, as every output: a seed gives byte-identical files.
    let file = crate::outputs::untimed_file_options()
        .create(path)
        .at(&Location::file(path))?;
    generate_into(file, path, opts, progress)
}

/// Writes a synthetic SONATA edge file into `file`, an empty HDF5 file open for writing at
/// `path` (named in messages and in the summary), and closes it: as [`generate`], for a caller
/// that creates the file itself (as `generate` does through
/// [`crate::outputs::create_hdf5_beside`]).
///
/// # Errors
/// As [`generate`], but for creating the file.
pub fn generate_into(
    file: hdf5::File,
    path: &Path,
    opts: &GenerateOptions,
    progress: &dyn Fn(u64),
) -> Result<GenerateSummary> {
    opts.validate()?;
    let at = Location::file(path);

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
