//! `sonata-census nodes`: its arguments and subcommands, neurodamus's cell readers on the
//! command line (round-robin and me-type distribution, me-types, `load_sonata`). JSON goes to
//! stdout; the work is in `sonata_census::cells`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use sonata_census::ids::{parse_count, parse_id_list};
use sonata_census::neurodamus::cell_readers::{
    LoadOptions, dry_run_distribution, load_sonata, retrieve_unique_metypes, split_round_robin,
};
use sonata_census::sonata::node_sets::{NodeSets, Selected};
use sonata_census::sonata::{CircuitConfig, NodeFile, NodePopulation};
use sonata_census::words::plural;
use sonata_census::{Error, Result};

use crate::console::{Verbosity, print_stdout};

const NODES_HELP: &str = "\
Examples:
  sonata-census nodes distribute nodes.h5 --population All --stride 4 --offset 1
  sonata-census nodes distribute nodes.h5 --stride 4 --offset 1 --by-metype
  sonata-census nodes metypes nodes.h5 --population All --gids 0,5,9
  sonata-census nodes load circuit_config.json -p All --stride 2 --offset 0 \\
      --dynamic-props layer,@dynamics:AIS_scaler
  sonata-census nodes load nodes.h5 --gids 0,1,2 --dry-run
  sonata-census nodes select circuit_config.json Layer23

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

const SELECT_HELP: &str = "\
Examples:
  # Node set Layer23 of the circuit's node_sets_file, in every node population
  sonata-census nodes select circuit_config.json Layer23
  # One population; the sets of x.json replace same-named ones
  sonata-census nodes select circuit_config.json L5E -p All --node-sets x.json
  # A node file needs the node-sets file
  sonata-census nodes select nodes.h5 Layer23 --node-sets node_sets.json

Prints {\"<population>\": [sorted node ids], ...}. A population that lacks an
attribute the set uses is left out with a warning on stderr (an error with -p;
-q silences the warning).
With a simulation config, its node_sets_file is laid over the circuit's.";

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
    /// The node ids of a node set, per node population: {"<population>": [ids]}.
    #[command(after_help = SELECT_HELP)]
    Select(NodeSetArgs),
}

/// Arguments of `nodes select`.
#[derive(Debug, Args)]
pub struct NodeSetArgs {
    /// circuit_config.json (or simulation config), or a SONATA node file.
    pub file: PathBuf,
    /// The node set.
    pub name: String,
    /// A node-sets file: laid over the config's node_sets_file (same-named sets replace);
    /// required with a node file.
    #[arg(long, value_name = "FILE")]
    pub node_sets: Option<PathBuf>,
    /// Only this node population (a missing attribute is then an error).
    #[arg(short, long)]
    pub population: Option<String>,
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

/// Runs `nodes`.
pub fn run(args: &NodesArgs, v: Verbosity) -> Result<()> {
    match &args.command {
        NodesCommand::Distribute(a) => distribute(a),
        NodesCommand::Metypes(a) => metypes(a),
        NodesCommand::Load(a) => load(a),
        NodesCommand::Select(a) => select(a, v),
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
            plural(pop.size(), "node")
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

/// `nodes select`: the node sets (config's, simulation's, then `--node-sets`) and the
/// populations, then one evaluation per population.
fn select(a: &NodeSetArgs, v: Verbosity) -> Result<()> {
    let is_json = a
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let (sets, populations) = if is_json {
        let config = CircuitConfig::open(&a.file)?;
        let (sets, _) = NodeSets::of_circuit(&config, a.node_sets.as_deref(), "--node-sets FILE")?;
        let pops = match &a.population {
            Some(p) => vec![config.open_node_population(p)?],
            None => config
                .node_populations()?
                .iter()
                .map(|p| config.open_node_population(&p.name))
                .collect::<Result<Vec<_>>>()?,
        };
        (sets, pops)
    } else {
        let extra = a.node_sets.as_ref().map(NodeSets::from_file).transpose()?;
        let Some(sets) = extra else {
            return Err(Error::InvalidArgument(format!(
                "{}: a node file has no node sets: give the node-sets file with --node-sets FILE",
                a.file.display()
            )));
        };
        let file = NodeFile::open(&a.file)?;
        let pops = match &a.population {
            Some(p) => vec![file.population(p)?],
            None => file
                .population_names()?
                .iter()
                .map(|p| file.population(p))
                .collect::<Result<Vec<_>>>()?,
        };
        (sets, pops)
    };
    let mut entries = Vec::new();
    if a.population.is_some() {
        for pop in &populations {
            entries.push((pop.name().to_string(), json(&sets.select(&a.name, pop)?)?));
        }
    } else {
        for (name, outcome) in sets.select_all(&a.name, &populations)? {
            match outcome {
                Selected::Ids(ids) => entries.push((name, json(&ids)?)),
                Selected::Skipped(warning) => v.info(&format!("warning: {warning}")),
            }
        }
    }
    print_stdout(&format!("{}\n", ordered_object(entries.into_iter())?))
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
    loaded: &sonata_census::neurodamus::cell_readers::LoadedCells,
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
