//! `sonata-census dry-run`: its arguments, and the run that prints the exact dry-run statistics
//! of a circuit config (the library's [`sonata_census::neurodamus::dry_run`]) as tables or JSON.

use std::path::PathBuf;

use clap::Args;
use sonata_census::census::{CensusOptions, DEFAULT_CHUNK_LEN, DEFAULT_MEMORY_BUDGET};
use sonata_census::ids::parse_count;
use sonata_census::neurodamus::dry_run::{DryRunStats, dry_run_stats};
use sonata_census::progress::Progress;
use sonata_census::sonata::CircuitConfig;
use sonata_census::words::plural;
use sonata_census::{Error, Result};

use crate::args::BackendFlag;
use crate::console::{Verbosity, pretty_json, print_stdout};

/// What `--help` shows after the options (examples are checked by `args`'s tests).
const HELP: &str = "\
CONFIG is a circuit config, or a simulation config: its \"network\" (default
circuit_config.json next to it) names the circuit config. Its \"node_set\" picks
the cells: only their afferent synapses count (the sets are the circuit's
node_sets_file with the simulation's laid over it).

Examples:
  sonata-census dry-run circuit_config.json
  sonata-census dry-run circuit_config.json --ranks 64 --json
  sonata-census dry-run simulation_config.json --ranks 1e3 --backend cpu";

/// Arguments of `dry-run`.
#[derive(Debug, Args)]
#[command(after_help = HELP)]
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
    // `--backend`.
    #[command(flatten)]
    pub backend: BackendFlag,
}

/// Runs `dry-run`; `-q` silences the backend notes on stderr.
pub fn run(args: &DryRunArgs, v: Verbosity) -> Result<()> {
    let config = CircuitConfig::open(&args.config)?;
    let options = CensusOptions {
        nodes_count: None,
        chunk_len: DEFAULT_CHUNK_LEN,
        memory_budget: DEFAULT_MEMORY_BUDGET,
        spill_dir: None,
        backend: args.backend.backend.into(),
        ..CensusOptions::default()
    };
    let options = crate::args::engine_options_from_env(options)?;
    if args.ranks == 0 {
        return Err(Error::InvalidArgument("--ranks must be at least 1".into()));
    }
    let stats = dry_run_stats(&config, args.ranks, &options, &Progress::hidden())?;
    for n in &stats.notes {
        v.info(n);
    }
    if args.json {
        print_stdout(&pretty_json(&stats)?)
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
