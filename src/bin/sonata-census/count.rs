//! `sonata-census count`: its arguments, and the run that opens the populations, counts each
//! with the library's census engines and writes the census tables (one HDF5 file).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};

use sonata_census::census::circuit::NodeSetRestriction;
use sonata_census::census::count_plan::{CountPlan, CountRequest, Spelling};
use sonata_census::census::derived::Direction;
use sonata_census::census::output::CensusWriter;
use sonata_census::census::provenance::Restriction;
use sonata_census::census::shard::{Shard, ShardHeader, ShardSpec, count_shard};
use sonata_census::census::{
    Backend, Census, CensusOptions, SPILL_TABLE_BYTES_ABOVE, census_population_spilled,
};
use sonata_census::ids::{parse_count, parse_count_usize};
use sonata_census::outputs::{check_output_path, same_file};
use sonata_census::{Error, Result};

use crate::args::{BackendFlag, ForceFlag, engine_options_from_env};
use crate::console::{Verbosity, nsyns_note};

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
Output layout (one group per edge population):
  /<pop>/target_synapse_count          uint64 [n_targets]
  /<pop>/target_connection_count       uint64 [n_targets]
  /<pop>/connections/target_offsets    uint64 [n_targets + 1]
  /<pop>/connections/source_node_id    uint64 [n_connections]  (ascending within a target)
  /<pop>/connections/synapse_count     uint32 [n_connections]
  /<pop>/synapses_per_connection       uint64 [k + 1]          (entry i: connections with i synapses)
  /<pop>/target_nsyns_total            uint64 [n_targets]      (bmtk files with an nsyns column)
With --direction efferent or both (efferent alone writes no per-target tables):
  /<pop>/efferent/source_synapse_count        uint64 [n_sources]
  /<pop>/efferent/source_connection_count     uint64 [n_sources]
  /<pop>/efferent/connections/source_offsets  uint64 [n_sources + 1]
  /<pop>/efferent/connections/target_node_id  uint64 [n_connections]  (ascending within a source)
  /<pop>/efferent/connections/synapse_count   uint32 [n_connections]
With --pathways ATTR (S source values, T target values of the node attribute ATTR):
  /<pop>/pathways/<ATTR>/source_values, target_values          [S], [T]
  /<pop>/pathways/<ATTR>/source_node_count, target_node_count  uint64 [S], [T]
  /<pop>/pathways/<ATTR>/synapses, connections, pair_count     uint64 [S, T]
  connection probability = connections / pair_count, where pair_count = n_i * n_j less the
  nodes of both values when a population connects to itself (no autapses); synapses count
  edge rows.
n_targets is --nodes-count, else the length of the target index, else the largest target id + 1.
n_sources is the source node population's size (circuit config), else the length of the source
index, else the largest source id + 1.
FILE may be a circuit config (or a simulation config, whose network is followed): a name
ending in .json or a file starting with '{'. Then every edge population of networks.edges
(or those named with -p) is counted, in config order, with n_targets the size of its target
node population in the circuit's node files (this can differ from counting the edge file).

With --shard i/N the file is a partial census of one shard's edges, for `sonata-census merge`
(see its --help); a sharded count merged equals the count of one process, byte for byte.

With --target-node-set / --source-node-set (a circuit config only) only the edges between
the node sets are counted; the group's table_kind is \"restricted\", edge_count counts the
edges counted, population_edge_count every edge, and target_node_set, source_node_set and
node_sets_file name the sets.

Examples:
  sonata-census count edges.h5 --output census.h5
  sonata-census count edges.h5 -p All__All__chemical --nodes-count 211712 \\
      -o census.h5 --force
  sonata-census count circuit_config.json -o census.h5
  sonata-census count circuit_config.json --target-node-set Layer5 \\
      --source-node-set Excitatory -o l5_from_exc.h5
  sonata-census count circuit_config.json --direction both \\
      --pathways mtype,layer -o pathways.h5
  sonata-census count circuit_config.json --shard 0/4 -o census.h5";

/// Arguments of `count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    /// SONATA edge file (HDF5), or circuit/simulation config (JSON).
    pub file: PathBuf,
    /// Edge population to count (repeat for several); default: every population in the file
    /// (or in the circuit).
    #[arg(short, long = "population", value_name = "NAME")]
    pub populations: Vec<String>,
    /// Output file for the census tables (HDF5).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,
    /// Number of target nodes (length of the per-target tables); default: the target index's
    /// length, else the largest target id + 1. Not with a circuit config.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub nodes_count: Option<u64>,
    // `--backend`.
    #[command(flatten)]
    pub backend: BackendFlag,
    // `--force`.
    #[command(flatten)]
    pub force: ForceFlag,
    /// Memory for grouping unsorted edges by target, in MiB: when 4 bytes per edge fit (8 when
    /// a source does not fit the bits its target leaves), the edges are read once and grouped
    /// in memory; else they are read twice, and spill to disk in partitions when even their
    /// sources (4 bytes per edge, 8 for ids of 2^32 or more) do not fit.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = parse_count)]
    pub memory_budget: u64,
    /// Folder for spill files of unsorted populations larger than --memory-budget.
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Rows per streamed chunk.
    #[arg(long, value_name = "ROWS", default_value_t = crate_chunk_len(), hide = true,
          value_parser = parse_count_usize)]
    pub chunk_len: usize,
    /// Count only the edges whose target is in node set NAME, evaluated on each edge
    /// population's target node population (FILE must be a circuit config). The tables keep
    /// their length; targets outside the set have none.
    #[arg(long, value_name = "NAME", help_heading = "Node sets")]
    pub target_node_set: Option<String>,
    /// Count only the edges whose source is in node set NAME, evaluated on each edge
    /// population's source node population (FILE must be a circuit config).
    #[arg(long, value_name = "NAME", help_heading = "Node sets")]
    pub source_node_set: Option<String>,
    /// A node-sets file laid over the circuit's node_sets_file (same-named sets replace);
    /// needed when the circuit names none.
    #[arg(long, value_name = "FILE", help_heading = "Node sets")]
    pub node_sets: Option<PathBuf>,
    /// Which tables to write: per target (afferent, the default), per source (efferent, under
    /// /<pop>/efferent/, without the per-target tables), or both.
    #[arg(long, value_enum, value_name = "DIRECTION", default_value_t = DirectionFlag::Afferent,
          help_heading = "Derived tables")]
    pub direction: DirectionFlag,
    /// Pathway matrices by node attribute ATTR (mtype, layer, synapse_class...: string,
    /// @library or integer) of the source and target nodes: synapses, connections and possible
    /// pairs per (source value, target value), under /<pop>/pathways/ATTR/. Comma-separated or
    /// repeated; FILE must be a circuit config.
    #[arg(
        long,
        value_name = "ATTR",
        value_delimiter = ',',
        help_heading = "Derived tables"
    )]
    pub pathways: Vec<String>,
    /// Count shard i of N (0-based) and write a partial table file for `merge`: shard k counts
    /// the edge rows [k*E/N, (k+1)*E/N) of every population. `auto` takes i and N from the
    /// launcher (OMPI_COMM_WORLD_RANK/SIZE, then PMI_RANK/SIZE, then SLURM_PROCID/NTASKS). The
    /// file is OUT with {rank} replaced by i, else OUT.shard-i-of-N.h5.
    #[arg(long, value_name = "i/N|auto", help_heading = "Sharding")]
    pub shard: Option<ShardSpec>,
}

/// `--direction`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionFlag {
    /// Per-target tables (today's output).
    Afferent,
    /// Per-source tables only.
    Efferent,
    /// Both.
    Both,
}

impl From<DirectionFlag> for Direction {
    fn from(d: DirectionFlag) -> Self {
        match d {
            DirectionFlag::Afferent => Direction::Afferent,
            DirectionFlag::Efferent => Direction::Efferent,
            DirectionFlag::Both => Direction::Both,
        }
    }
}

const fn crate_chunk_len() -> usize {
    sonata_census::census::DEFAULT_CHUNK_LEN
}

/// Runs `count`.
pub fn run(args: &CountArgs, v: Verbosity) -> Result<()> {
    let (_, output) = count(args, v)?;
    // As `generate` and `report` (not in `count` itself: `demo`'s census may be a temporary
    // file, named only with -v).
    v.info(&format!("wrote {}", output.display()));
    Ok(())
}

/// The shard `--shard` asks for: as given, or from the launcher's variables.
fn shard_of(spec: Option<ShardSpec>) -> Result<Option<Shard>> {
    match spec {
        None => Ok(None),
        Some(ShardSpec::Given(shard)) => Ok(Some(shard)),
        Some(ShardSpec::Auto) => Shard::from_launcher(|name| std::env::var(name).ok()).map(Some),
    }
}

/// Counts the populations of `args` and writes their tables; returns the censuses (`demo`
/// summarises them) and the file written (a shard's partial file with `--shard`).
pub fn count(args: &CountArgs, v: Verbosity) -> Result<(Vec<Census>, PathBuf)> {
    let shard = shard_of(args.shard)?;
    let output = match shard {
        Some(shard) => {
            // What was given must be a file path too: `-o /dev/null` or a FIFO would otherwise
            // become a file `/dev/null.shard-0-of-4` beside it.
            check_output_path(&args.output, true)?;
            shard.output_path(&args.output)
        }
        None => args.output.clone(),
    };
    if same_file(&args.file, &output) {
        // With --force the finished census would be renamed over the edge file it counted.
        return Err(Error::InvalidArgument(format!(
            "{}: the output is the input edge file (choose another --output)",
            output.display()
        )));
    }
    check_output_path(&output, args.force.force)?;
    if args.chunk_len == 0 {
        return Err(Error::InvalidArgument(
            "--chunk-len must be at least 1".into(),
        ));
    }
    let restriction = NodeSetRestriction {
        target_node_set: args.target_node_set.clone(),
        source_node_set: args.source_node_set.clone(),
        node_sets_file: args.node_sets.clone(),
    };
    let direction = Direction::from(args.direction);
    let request = CountRequest {
        path: &args.file,
        populations: &args.populations,
        nodes_count: args.nodes_count,
        restriction: &restriction,
        direction,
        pathways: &args.pathways,
        output: Some(&output),
    };
    // The populations, each with its node count when a circuit's node file gives it, its
    // restriction to node sets and its derived tables (all evaluated before any counting).
    let plan = CountPlan::new(&request, Spelling::Flags)?;
    let shard_header = shard
        .map(|shard| ShardHeader::new(shard, &request))
        .transpose()?;
    // (Each population's node count, its origin and its filter: `plan.options_for`.)
    let options = CensusOptions {
        chunk_len: args.chunk_len,
        memory_budget: args.memory_budget.saturating_mul(1 << 20).max(1 << 20),
        spill_dir: args.spill_dir.clone(),
        backend: args.backend.backend.into(),
        ..CensusOptions::default()
    };
    #[allow(unused_mut, reason = "set only with the GPU engine")]
    let mut options = engine_options_from_env(options)?;
    // A rank of a sharded run counts on its own GPU of the node: its local rank's.
    #[cfg(feature = "gpu")]
    if shard.is_some()
        && let Some((rank, name)) =
            sonata_census::census::shard::local_rank(|name| std::env::var(name).ok())?
    {
        options.gpu_device = Some(rank);
        v.detail(&format!("gpu device: {rank} of the node's GPUs ({name})"));
    }
    if let Some(dir) = &args.spill_dir {
        check_spill_dir(dir)?;
    }
    #[cfg(feature = "gpu")]
    if matches!(options.backend, Backend::Gpu) {
        warn_software_adapter(v, &options)?;
    }
    let mut writer = CensusWriter::create(&output, args.force.force)?;
    if let Some(header) = &shard_header {
        writer.write_shard_header(header)?;
    }
    let mut censuses = Vec::new();
    let mut backend_once = sonata_census::census::BackendOnce::default();
    for w in &plan.work {
        let pop = &w.population;
        let options = plan.options_for(w, &options);
        let started = Instant::now();
        if let Some(shard) = shard {
            let range = shard.edge_range(pop.size());
            let progress = v.progress(pop.name(), range.end - range.start, "edges");
            let mut notes = Vec::new();
            let counted = count_shard(
                w,
                shard,
                &options,
                &progress,
                &mut notes,
                Some(SPILL_TABLE_BYTES_ABOVE),
            );
            progress.finish();
            show_notes(v, &notes, &mut backend_once);
            let counted = counted.map_err(|e| plan.explain(pop.name(), e))?;
            writer.write_partial(&counted)?;
            let line = summary_line(
                &counted.census,
                None,
                (Direction::Afferent, None),
                started.elapsed().as_secs_f64(),
            );
            // `POP: shard i/N, edges a..b: ...`
            let (name, rest) = line.split_at(pop.name().len());
            v.info(&format!(
                "{name}: shard {}/{}, edges {}..{}{rest}",
                shard.index, shard.count, range.start, range.end
            ));
            censuses.push(counted.census);
            continue;
        }
        let progress = v.progress(pop.name(), pop.size(), "edges");
        let mut notes = Vec::new();
        // The connection table of sorted input goes to disk as it is counted (flat memory).
        let census = census_population_spilled(
            pop,
            &options,
            &progress,
            &mut notes,
            SPILL_TABLE_BYTES_ABOVE,
        );
        progress.finish();
        show_notes(v, &notes, &mut backend_once);
        let (census, spilled) = census.map_err(|e| plan.explain(pop.name(), e))?;
        let efferent = w.write(
            &mut writer,
            &census,
            spilled.as_ref(),
            (options.memory_budget, SPILL_TABLE_BYTES_ABOVE),
        )?;
        v.info(&summary_line(
            &census,
            w.restricted.as_ref().map(|(_, r)| r),
            (direction, efferent.as_ref().map(|e| e.n_sources)),
            started.elapsed().as_secs_f64(),
        ));
        censuses.push(census);
    }
    writer.finish()?;
    Ok((censuses, output))
}

/// Prints a population's notes (the `backend:` line once).
fn show_notes(
    v: Verbosity,
    notes: &[sonata_census::census::Note],
    once: &mut sonata_census::census::BackendOnce,
) {
    for n in notes.iter().filter(|n| once.show(n)) {
        if n.detail {
            v.detail(&n.text);
        } else {
            v.info(&n.text);
        }
    }
}

/// `--backend gpu` takes software adapters too (CI tests the shaders on lavapipe), which are
/// many times slower than the CPU engine: say so once, before the work starts, not after it.
/// The shared context opens here with the run's testing hooks, as the census would open it.
#[cfg(feature = "gpu")]
fn warn_software_adapter(v: Verbosity, options: &CensusOptions) -> Result<()> {
    use sonata_census::gpu::{AdapterChoice, SharedContext};
    #[cfg(feature = "testing")]
    let shared = sonata_census::gpu::shared_context_with(AdapterChoice::Any, &options.gpu_faults);
    #[cfg(not(feature = "testing"))]
    let shared = {
        let _ = options;
        sonata_census::gpu::shared_context(AdapterChoice::Any)
    };
    if let SharedContext::Ready(ctx) = shared?
        && ctx.is_software()
    {
        v.info(&format!(
            "warning: the only GPU adapter is a software one ({}), which runs on the CPU and is \
             many times slower than --backend cpu",
            ctx.describe()
        ));
    }
    Ok(())
}

/// `--spill-dir` must be a folder the run can create its spill folders in: checked before any
/// counting, with one line that names the option (exit 1, as a missing output folder).
pub(crate) fn check_spill_dir(dir: &Path) -> Result<()> {
    let fail = |source: std::io::Error| Error::Io {
        path: format!("--spill-dir {}", dir.display()).into(),
        source,
    };
    match std::fs::metadata(dir) {
        Err(e) => return Err(fail(e)),
        Ok(m) if !m.is_dir() => return Err(fail(std::io::Error::other("not a folder"))),
        Ok(_) => {}
    }
    sonata_census::outputs::probe_writable(dir).map_err(fail)
}

/// `POP: N edges, N connections, N targets[, N sources] (ORDER), T s`: the targets for
/// afferent tables, the sources for efferent ones.
pub(crate) fn summary_line(
    c: &Census,
    restricted: Option<&Restriction>,
    (direction, n_sources): (Direction, Option<u64>),
    seconds: f64,
) -> String {
    let order = if c.sortedness.by_target_source {
        "sorted by (target, source)"
    } else if c.sortedness.by_target {
        "sorted by target"
    } else {
        "unsorted"
    };
    use sonata_census::words::plural;
    let edges = match restricted {
        Some(r) => format!(
            "{} of {} ({})",
            plural(c.edge_count, "edge"),
            r.population_edge_count,
            r.describe()
        ),
        None => plural(c.edge_count, "edge"),
    };
    let mut sides = Vec::new();
    if direction.afferent() {
        sides.push(plural(c.n_targets, "target"));
    }
    if let Some(n) = n_sources {
        sides.push(plural(n, "source"));
    }
    let line = format!(
        "{}: {}, {}, {} ({}), {:.2} s",
        c.population,
        edges,
        plural(c.connection_count(), "connection"),
        sides.join(", "),
        order,
        seconds
    );
    // bmtk nsyns: a row stands for several synapses; the tables above count rows.
    match &c.target_nsyns_total {
        Some(n) => format!(
            "{line}; {}",
            nsyns_note(n.iter().map(|&x| u128::from(x)).sum(), c.edge_count)
        ),
        None => line,
    }
}
