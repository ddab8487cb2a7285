//! The `nodes` and `dry-run` commands: neurodamus cell readers and exact dry-run statistics on
//! the command line. JSON goes to stdout; the work is in `sonata_census::cells`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use sonata_census::cells::dry_run::{DryRunStats, dry_run_stats};
use sonata_census::cells::{
    CircuitConfig, LoadOptions, NodeFile, NodePopulation, dry_run_distribution, load_sonata,
    retrieve_unique_metypes, split_round_robin,
};
use sonata_census::census::{Backend, CensusOptions, DEFAULT_CHUNK_LEN, DEFAULT_MEMORY_BUDGET};
use sonata_census::ids::{parse_count, parse_id_list};
use sonata_census::progress::Progress;
use sonata_census::words::plural;
use sonata_census::{Error, Result};

use crate::cli::BackendArg;
use crate::commands::print_stdout;

const NODES_HELP: &str = "\
Examples:
  sonata-census nodes distribute nodes.h5 --population All --stride 4 --offset 1
  sonata-census nodes distribute nodes.h5 --stride 4 --offset 1 --by-metype
  sonata-census nodes metypes nodes.h5 --population All --gids 0,5,9
  sonata-census nodes load circuit_config.json -p All --stride 2 --offset 0 \\
      --dynamic-props layer,@dynamics:AIS_scaler
  sonata-census nodes load nodes.h5 --gids 0,1,2 --dry-run

FILE is a SONATA node file, a circuit_config.json naming the population, or a
simulation config (its \"network\" is followed). --population may be left out when
there is exactly one node population. Gids are 0-based node ids of the population
(neurodamus >= 4.0), below its size: comma-separated or @PATH (one id per line).";

const DISTRIBUTE_HELP: &str = "\
Examples:
  # The gids of rank 1 of 4 (neurodamus split_round_robin)
  sonata-census nodes distribute nodes.h5 --population All --stride 4 --offset 1
  # Whole me-type bundles, as neurodamus's dry run distributes them
  sonata-census nodes distribute nodes.h5 --stride 4 --offset 1 --by-metype
  # Only among the cells of a file (one gid per line)
  sonata-census nodes distribute circuit_config.json -p All --gids @gids.txt \\
      --stride 2 --offset 1";

const METYPES_HELP: &str = "\
Examples:
  sonata-census nodes metypes nodes.h5
  sonata-census nodes metypes circuit_config.json --population All --gids 0,5,9";

const LOAD_HELP: &str = "\
Examples:
  sonata-census nodes load nodes.h5 --population All --gids 0,1,2
  sonata-census nodes load circuit_config.json -p All --stride 2 --offset 0 \\
      --dynamic-props layer,@dynamics:AIS_scaler
  sonata-census nodes load simulation_config.json -p All --dry-run --stride 4";

const DRY_RUN_HELP: &str = "\
CONFIG is a circuit config, or a simulation config: its \"network\" (default
circuit_config.json next to it) names the circuit config. Its \"node_set\" is not
applied yet: every cell of the circuit is counted (a note on stderr says so).

Examples:
  sonata-census dry-run circuit_config.json
  sonata-census dry-run circuit_config.json --ranks 64 --json
  sonata-census dry-run simulation_config.json --ranks 1e3 --backend cpu";

/// Arguments of `nodes`.
#[derive(Debug, Args)]
#[command(after_help = NODES_HELP)]
pub struct NodesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: NodesCommand,
}

/// Subcommands of `nodes`.
#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// The gids one rank gets: split_round_robin (stride before sort), or with --by-metype
    /// dry_run_distribution over whole me-type bundles (not sorted). JSON list.
    #[command(after_help = DISTRIBUTE_HELP)]
    Distribute(DistributeArgs),
    /// The me-types of the cells: {"metypes": {"m-e": [gids]}, "counts": {"m-e": n}}.
    #[command(after_help = METYPES_HELP)]
    Metypes(SelectArgs),
    /// neurodamus load_sonata: {"total_cells", "gids", "cells": {"<gid>": {...}}}.
    #[command(after_help = LOAD_HELP)]
    Load(LoadArgs),
}

/// The node population and the cells asked for.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// SONATA node file, or circuit_config.json.
    pub file: PathBuf,
    /// Node population (may be left out when there is exactly one).
    #[arg(short, long)]
    pub population: Option<String>,
    /// Gids (0-based node ids, below the population size): comma-separated (`0,5,9`) or
    /// `@PATH` (one id per line); default: every cell.
    // Hyphen values reach parse_id_list, which says "'-1' is negative" in one line.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub gids: Option<String>,
}

/// Arguments of `nodes distribute`.
#[derive(Debug, Args)]
pub struct DistributeArgs {
    /// The population and cells.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Number of ranks.
    #[arg(long, default_value_t = 1, value_parser = parse_count)]
    pub stride: u64,
    /// This rank.
    #[arg(long, default_value_t = 0, value_parser = parse_count)]
    pub offset: u64,
    /// Distribute whole me-type bundles (the dry run's distribution).
    #[arg(long)]
    pub by_metype: bool,
}

/// Arguments of `nodes load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The population and cells.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Number of ranks.
    #[arg(long, default_value_t = 1, value_parser = parse_count)]
    pub stride: u64,
    /// This rank.
    #[arg(long, default_value_t = 0, value_parser = parse_count)]
    pub offset: u64,
    /// Comma-separated extra properties: attribute names, `@dynamics:<name>` for
    /// dynamics_params.
    #[arg(long, value_name = "LIST")]
    pub dynamic_props: Option<String>,
    /// The dry-run path: me-type bundles, info of the first 100 cells of every me-type.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `dry-run`.
#[derive(Debug, Args)]
#[command(after_help = DRY_RUN_HELP)]
pub struct DryRunArgs {
    /// circuit_config.json, or a simulation config naming one in "network".
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// Number of ranks of the per-rank memory table.
    #[arg(long, default_value_t = 1, value_parser = parse_count)]
    pub ranks: u64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Counting engine: auto picks a real GPU when there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, env = "SONATA_CENSUS_BACKEND")]
    pub backend: BackendArg,
}

/// Runs `nodes`.
pub fn run_nodes(args: &NodesArgs) -> Result<()> {
    match &args.command {
        NodesCommand::Distribute(a) => distribute(a),
        NodesCommand::Metypes(a) => metypes(a),
        NodesCommand::Load(a) => load(a),
    }
}

/// The node population asked for; without `-p`, the only one of the file or config.
fn open_population(path: &Path, population: Option<&str>) -> Result<NodePopulation> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let config = CircuitConfig::open(path)?;
        let name = match population {
            Some(name) => name.to_string(),
            None => only_one(
                path,
                "config",
                config
                    .node_populations()?
                    .into_iter()
                    .map(|p| p.name)
                    .collect(),
            )?,
        };
        config.open_node_population(&name)
    } else {
        let file = NodeFile::open(path)?;
        let name = match population {
            Some(name) => name.to_string(),
            None => only_one(path, "file", file.population_names()?)?,
        };
        file.population(&name)
    }
}

/// The one population of `names`, or an error listing them.
fn only_one(path: &Path, what: &str, mut names: Vec<String>) -> Result<String> {
    if names.len() == 1 {
        return Ok(names.remove(0));
    }
    Err(Error::InvalidArgument(format!(
        "{}: the {what} has {} node populations ({}): name one with --population",
        path.display(),
        names.len(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

/// The `--gids` list, every id checked against the population's size (the library's
/// `split_round_robin`, like neurodamus's, takes any id; the command line refuses them all
/// alike).
fn parse_gids(list: &Option<String>, pop: &NodePopulation) -> Result<Option<Vec<u64>>> {
    let Some(list) = list else {
        return Ok(None);
    };
    let gids = parse_id_list(list, "--gids")?;
    if let Some(&bad) = gids.iter().find(|&&g| g >= pop.size()) {
        return Err(Error::InvalidArgument(format!(
            "{}: node id {bad} is out of range: the population has {}",
            pop.location(),
            sonata_census::words::plural(pop.size(), "node")
        )));
    }
    Ok(Some(gids))
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))
}

fn distribute(a: &DistributeArgs) -> Result<()> {
    let pop = open_population(&a.select.file, a.select.population.as_deref())?;
    let gids = parse_gids(&a.select.gids, &pop)?;
    let out = if a.by_metype {
        let all: Vec<u64>;
        let gids = match &gids {
            Some(g) => g.as_slice(),
            None => {
                all = (0..pop.size()).collect();
                &all
            }
        };
        let metypes = retrieve_unique_metypes(&pop, gids, &[])?;
        dry_run_distribution(&metypes.bundles(), a.stride, a.offset)?
    } else {
        split_round_robin(gids.as_deref(), a.stride, a.offset, Some(pop.size()))?
    };
    print_stdout(&format!("{}\n", json(&out)?))
}

/// `{"k": v, ...}` in the given order (serde_json's map would sort the keys).
fn ordered_object(entries: impl Iterator<Item = (String, String)>) -> Result<String> {
    let mut s = String::from("{");
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&json(&k)?);
        s.push(':');
        s.push_str(&v);
    }
    s.push('}');
    Ok(s)
}

fn metypes(a: &SelectArgs) -> Result<()> {
    let pop = open_population(&a.file, a.population.as_deref())?;
    let gids = parse_gids(&a.gids, &pop)?.unwrap_or_else(|| (0..pop.size()).collect());
    let m = retrieve_unique_metypes(&pop, &gids, &[])?;
    let gids_obj = ordered_object(
        m.gids
            .iter()
            .map(|(k, g)| Ok((k.clone(), json(g)?)))
            .collect::<Result<Vec<_>>>()?
            .into_iter(),
    )?;
    let counts_obj = ordered_object(m.counts.iter().map(|(k, c)| (k.clone(), c.to_string())))?;
    print_stdout(&format!(
        "{{\"metypes\":{gids_obj},\"counts\":{counts_obj}}}\n"
    ))
}

fn load(a: &LoadArgs) -> Result<()> {
    let pop = open_population(&a.select.file, a.select.population.as_deref())?;
    let gids = parse_gids(&a.select.gids, &pop)?;
    let options = LoadOptions {
        stride: a.stride,
        stride_offset: a.offset,
        dynamic_props: a
            .dynamic_props
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        dry_run: a.dry_run,
    };
    let loaded = load_sonata(&pop, gids.as_deref(), &options)?;
    // Streamed: 10^6 cells make half a gigabyte of JSON, not worth holding twice in memory.
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout);
    let written = write_loaded(&mut out, &loaded).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes the `nodes load` JSON object, cells keyed by gid in load order.
fn write_loaded(
    out: &mut impl Write,
    loaded: &sonata_census::cells::LoadedCells,
) -> std::io::Result<()> {
    write!(out, "{{\"total_cells\":{},\"gids\":", loaded.total_cells)?;
    serde_json::to_writer(&mut *out, &loaded.gids)?;
    out.write_all(b",\"cells\":{")?;
    for (i, (gid, info)) in loaded.cells.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\"{gid}\":")?;
        serde_json::to_writer(&mut *out, info)?;
    }
    out.write_all(b"}")?;
    if let Some(m) = &loaded.metypes {
        out.write_all(b",\"metype_counts\":{")?;
        for (i, (k, c)) in m.counts.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, k)?;
            write!(out, ":{c}")?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"}\n")
}

/// Runs `dry-run`; `quiet` silences the backend notes on stderr.
pub fn run_dry_run(args: &DryRunArgs, quiet: bool) -> Result<()> {
    let config = CircuitConfig::open(&args.config)?;
    let options = CensusOptions {
        nodes_count: None,
        chunk_len: DEFAULT_CHUNK_LEN,
        memory_budget: DEFAULT_MEMORY_BUDGET,
        spill_dir: None,
        backend: match args.backend {
            BackendArg::Auto => Backend::Auto,
            BackendArg::Cpu => Backend::Cpu,
            BackendArg::Gpu => Backend::Gpu,
        },
        ..CensusOptions::default()
    };
    let options = crate::commands::engine_options_from_env(options)?;
    let stats = dry_run_stats(&config, args.ranks, &options, &Progress::hidden())?;
    if !quiet {
        for n in &stats.notes {
            eprintln!("{n}");
        }
    }
    if args.json {
        let mut s = serde_json::to_string_pretty(&stats)
            .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))?;
        s.push('\n');
        print_stdout(&s)
    } else {
        print_stdout(&render(&stats))
    }
}

/// The text tables of `dry-run`.
fn render(s: &DryRunStats) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    match &s.simulation_config {
        Some(sim) => {
            let _ = writeln!(
                t,
                "{} (the network of {sim}): exact dry-run statistics",
                s.config
            );
        }
        None => {
            let _ = writeln!(t, "{}: exact dry-run statistics", s.config);
        }
    }
    for p in &s.populations {
        let _ = writeln!(
            t,
            "\n{} ({} -> {}, {}, {} KB/synapse)",
            p.edge_population,
            p.source_population,
            p.target_population,
            p.connection_type,
            p.synapse_kb
        );
        let _ = writeln!(
            t,
            "  {}, {}, {}, {:.3} MiB",
            plural(p.synapses, "synapse"),
            plural(p.connections, "connection"),
            plural(p.target_cells, "target cell"),
            p.synapse_memory_mib
        );
        if let Some(n) = &p.note {
            let _ = writeln!(t, "  note: {n}");
        }
        if !p.metypes.is_empty() {
            let _ = writeln!(
                t,
                "  {:<32} {:>8} {:>12} {:>12} {:>10} {:>10} {:>10}",
                "me-type", "cells", "synapses", "connections", "syn/cell", "conn/cell", "MiB"
            );
            for m in &p.metypes {
                let _ = writeln!(
                    t,
                    "  {:<32} {:>8} {:>12} {:>12} {:>10.2} {:>10.2} {:>10.3}",
                    m.metype,
                    m.cells,
                    m.synapses,
                    m.connections,
                    m.synapses_per_cell,
                    m.connections_per_cell,
                    m.synapse_memory_mib
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "\ntotal: {}, {}, {:.3} MiB of synapses",
        plural(s.total_synapses, "synapse"),
        plural(s.total_connections, "connection"),
        s.total_synapse_memory_mib
    );
    let _ = writeln!(
        t,
        "\nper rank ({})      round robin (cells, MiB)    me-type bundles (cells, MiB)",
        plural(s.ranks, "rank")
    );
    for (a, b) in s.ranks_round_robin.iter().zip(&s.ranks_metype_bundles) {
        let _ = writeln!(
            t,
            "  rank {:<6} {:>12} {:>12.3}    {:>12} {:>12.3}",
            a.rank, a.cells, a.synapse_memory_mib, b.cells, b.synapse_memory_mib
        );
    }
    t
}
