//! `sonata-census generate`: its arguments, and the run that writes a synthetic edge file (the
//! library's [`sonata_census::generate`]) through a temporary file renamed when complete. `demo`
//! generates its circuit the same way ([`generate_file`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use sonata_census::generate::{
    self, AttributeSet, DEFAULT_ID_CHUNK_ROWS, EdgeOrder, GenerateOptions, GenerateSummary,
    GeneratedIdDtype, IdStorage, IndexSpelling, MAX_ID_CHUNK_ROWS,
};
use sonata_census::ids::{parse_count, parse_count_u32};
use sonata_census::outputs::{check_output_path, check_space, create_hdf5_beside, persist};
use sonata_census::words::plural;
use sonata_census::{Error, Result};

use crate::args::ForceFlag;
use crate::console::Verbosity;

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
Counts are whole numbers: 10000000, 1e7 and 10_000_000 are the same.

Examples:
  sonata-census generate circuit.h5 --nodes 100000 --edges 1e7
  sonata-census generate shuffled.h5 --nodes 1000 --edges 100000 \\
      --order shuffled --id-dtype i64 --no-index
  sonata-census generate bmtk.h5 --nodes 1000 --edges 1e5 --attributes bmtk \\
      --index-spelling bmtk --populations 2
  sonata-census generate compressed.h5 --nodes 1e5 --edges 1e7 \\
      --id-storage shuffle-deflate --chunk-rows 65536";

/// Edge order of a generated file.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OrderArg {
    /// By target, then source.
    Sorted,
    /// By target; sources in random order within a target.
    TargetSorted,
    /// Random order.
    Shuffled,
}

/// Storage type of generated node ids.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IdDtypeArg {
    /// uint64 (SONATA, BBP).
    U64,
    /// int64 (seen in snap and neurodamus test files).
    I64,
}

/// Layout of generated id columns.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IdStorageArg {
    /// One contiguous block per column (HDF5's default).
    Contiguous,
    /// Chunks of --chunk-rows rows, not compressed.
    Chunked,
    /// Chunks compressed with deflate level 4 (h5py's compression="gzip").
    Deflate,
    /// Chunks byte-shuffled, then deflated (h5py's shuffle=True, compression="gzip").
    ShuffleDeflate,
}

/// Attribute columns of generated files.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AttributesArg {
    /// BBP chemical synapse columns in group 0.
    Bbp,
    /// bmtk columns: nsyns and syn_weight.
    Bmtk,
    /// No attribute group.
    None,
}

/// Spelling of the per-node index dataset.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IndexSpellingArg {
    /// node_id_to_ranges (SONATA, libsonata, BBP).
    Sonata,
    /// node_id_to_range (bmtk, Allen).
    Bmtk,
}

/// Arguments of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output SONATA edge file.
    pub output: PathBuf,
    /// Number of target nodes.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub nodes: u64,
    /// Number of edges (synapses) per population.
    #[arg(long, value_name = "E", value_parser = parse_count)]
    pub edges: u64,
    /// Number of source nodes (a separate "Virtual" source population); default: same as --nodes.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub source_nodes: Option<u64>,
    /// Random seed (same seed, same file).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Edge order in the file.
    #[arg(long, value_enum, default_value_t = OrderArg::Sorted)]
    pub order: OrderArg,
    /// Storage type of the id columns.
    #[arg(long, value_enum, default_value_t = IdDtypeArg::U64)]
    pub id_dtype: IdDtypeArg,
    /// Layout of source_node_id and target_node_id (the other columns stay contiguous).
    #[arg(long, value_enum, default_value_t = IdStorageArg::Contiguous)]
    pub id_storage: IdStorageArg,
    /// Rows per chunk of chunked id columns (--id-storage chunked, deflate, shuffle-deflate);
    /// default 65536.
    #[arg(long, value_name = "N", value_parser = parse_chunk_rows)]
    pub chunk_rows: Option<u64>,
    /// Number of attribute groups (more than 1 writes edge_group_id / edge_group_index).
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = parse_count_u32)]
    pub groups: u32,
    /// Attribute columns.
    #[arg(long, value_enum, default_value_t = AttributesArg::Bbp)]
    pub attributes: AttributesArg,
    /// Do not write indices/.
    #[arg(long)]
    pub no_index: bool,
    /// Spelling of the index's per-node dataset.
    #[arg(long, value_enum, default_value_t = IndexSpellingArg::Sonata)]
    pub index_spelling: IndexSpellingArg,
    /// Number of edge populations.
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = parse_count_u32)]
    pub populations: u32,
    // `--force`.
    #[command(flatten)]
    pub force: ForceFlag,
}

/// Runs `generate`.
pub fn run(args: &GenerateArgs, v: Verbosity) -> Result<()> {
    let rows = args.chunk_rows.unwrap_or(DEFAULT_ID_CHUNK_ROWS);
    let id_storage = match args.id_storage {
        IdStorageArg::Contiguous if args.chunk_rows.is_some() => {
            return Err(Error::InvalidArgument(
                "--chunk-rows applies to chunked id columns: add --id-storage chunked, deflate \
                 or shuffle-deflate"
                    .into(),
            ));
        }
        IdStorageArg::Contiguous => IdStorage::Contiguous,
        IdStorageArg::Chunked => IdStorage::Chunked { rows },
        IdStorageArg::Deflate => IdStorage::Deflate { rows },
        IdStorageArg::ShuffleDeflate => IdStorage::ShuffleDeflate { rows },
    };
    let options = GenerateOptions {
        nodes: args.nodes,
        source_nodes: args.source_nodes,
        edges: args.edges,
        seed: args.seed,
        order: match args.order {
            OrderArg::Sorted => EdgeOrder::Sorted,
            OrderArg::TargetSorted => EdgeOrder::TargetSorted,
            OrderArg::Shuffled => EdgeOrder::Shuffled,
        },
        id_dtype: match args.id_dtype {
            IdDtypeArg::U64 => GeneratedIdDtype::U64,
            IdDtypeArg::I64 => GeneratedIdDtype::I64,
        },
        id_storage,
        groups: args.groups,
        attributes: match args.attributes {
            AttributesArg::Bbp => AttributeSet::Bbp,
            AttributesArg::Bmtk => AttributeSet::Bmtk,
            AttributesArg::None => AttributeSet::None,
        },
        write_index: !args.no_index,
        index_spelling: match args.index_spelling {
            IndexSpellingArg::Sonata => IndexSpelling::Sonata,
            IndexSpellingArg::Bmtk => IndexSpelling::Bmtk,
        },
        populations: args.populations,
    };
    let started = Instant::now();
    let summary = generate_file(&args.output, &options, args.force.force, v)?;
    for p in &summary.populations {
        v.info(&format!(
            "{}: {} -> {}, {}, {}",
            p.name,
            p.source_population,
            p.target_population,
            plural(p.edges, "edge"),
            plural(p.connections, "connection")
        ));
    }
    v.info(&format!(
        "wrote {} in {:.2} s",
        summary.path.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Generates into a temporary file next to `path`, renamed when complete.
pub fn generate_file(
    path: &Path,
    options: &GenerateOptions,
    force: bool,
    v: Verbosity,
) -> Result<GenerateSummary> {
    check_node_flags(options)?;
    options.validate()?;
    check_output_path(path, force)?;
    // A file that cannot fit fails now with both sizes, not at its first write past the limit.
    check_space(path, options.estimated_file_size())?;
    // HDF5 creates the temporary file itself: a file it truncated would be flushed to disk
    // while it is closed on ext4 (see `create_beside`): 0.6 s of a 1e8-edge circuit's 5 s.
    let (file, temp) = create_hdf5_beside(path)?;
    // The generator has no interrupt checks of its own: on SIGINT / SIGTERM the forced clean-up
    // of `interrupt` removes the registered temporary file.
    let registered = sonata_census::interrupt::register(&temp);
    let total = options.edges.saturating_mul(u64::from(options.populations));
    let progress = v.progress("generating", total, "edges");
    let summary =
        generate::generate_into(file, &temp, options, &|done| progress.set_position(done));
    progress.finish();
    let mut summary = summary.map_err(Error::writing)?;
    persist(temp, path, force)?;
    drop(registered);
    summary.path = path.to_path_buf();
    Ok(summary)
}

/// Edges without nodes to place them on, said with the flag to change (`--nodes`,
/// `--source-nodes`): the library's own check names the option fields, not this tool's flags.
fn check_node_flags(options: &GenerateOptions) -> Result<()> {
    if options.edges == 0 {
        return Ok(());
    }
    let missing = if options.nodes == 0 {
        "a target node (--nodes"
    } else if options.source_nodes == Some(0) {
        "a source node (--source-nodes"
    } else {
        return Ok(());
    };
    Err(Error::InvalidArgument(format!(
        "cannot place {} without {missing} must be at least 1)",
        plural(options.edges, "edge")
    )))
}

/// `--chunk-rows`: a count (`65536`, `64k`, `1e5`) from 1 to HDF5's largest chunk of u64 ids,
/// refused by clap, which then names the flag.
fn parse_chunk_rows(text: &str) -> std::result::Result<u64, String> {
    let rows = parse_count(text)?;
    if rows == 0 || rows > MAX_ID_CHUNK_ROWS {
        return Err(format!(
            "chunks have 1 to {MAX_ID_CHUNK_ROWS} rows (HDF5 chunks hold under 4 GiB), not {rows}"
        ));
    }
    Ok(rows)
}
