//! `sonata-census demo`: its arguments, and the run that generates a circuit in a temporary
//! (or kept) folder, counts it as `count` does and prints a summary of the census.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use sonata_census::census::Census;
use sonata_census::generate::{EdgeOrder, GenerateOptions};
use sonata_census::ids::parse_count;
use sonata_census::outputs::{check_output_path, create_output_folder};
use sonata_census::words::plural;
use sonata_census::{Error, Result};

use crate::args::{BackendFlag, ForceFlag};
use crate::console::{Verbosity, print_stdout};
use crate::count::{CountArgs, count};
use crate::generate::generate_file;

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
Examples:
  sonata-census demo
  sonata-census demo --edges 1e7 --nodes 1e5 --backend cpu
  sonata-census demo --keep demo_files";

/// Arguments of `demo`.
#[derive(Debug, Args)]
#[command(mut_arg("force", |a| {
    a.help("Replace demo_circuit.h5 and demo_census.h5 in the --keep folder if they exist")
}))]
pub struct DemoArgs {
    /// Edges of the generated circuit.
    #[arg(long, default_value_t = 1_000_000, value_name = "E", value_parser = parse_count)]
    pub edges: u64,
    /// Target nodes of the generated circuit.
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = parse_count)]
    pub nodes: u64,
    /// Keep the generated files (demo_circuit.h5, demo_census.h5) in this folder instead of a
    /// temporary one; the folder is created if missing (its parent must exist).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    // `--force`.
    #[command(flatten)]
    pub force: ForceFlag,
    // `--backend`.
    #[command(flatten)]
    pub backend: BackendFlag,
}

/// Runs `demo`.
pub fn run(args: &DemoArgs, v: Verbosity) -> Result<()> {
    use sonata_census::interrupt::{register, register_created_folder};
    // Without --keep, a temporary folder removed on every way out, a signal included (declared
    // in this order so that the folder is removed before it is unregistered).
    let _temp_registered;
    let temp_dir;
    // With --keep DIR: a folder the demo created is removed again when the demo fails.
    let mut created = None;
    let dir = match &args.keep {
        Some(d) => {
            if create_output_folder(d)? {
                created = Some(register_created_folder(d));
            }
            d.clone()
        }
        None => {
            temp_dir = tempfile::tempdir().map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            _temp_registered = register(temp_dir.path());
            temp_dir.path().to_path_buf()
        }
    };
    let circuit = dir.join("demo_circuit.h5");
    let census_path = dir.join("demo_census.h5");
    // Files of a temporary folder are the demo's own; in a kept folder they are the user's.
    let force = args.force.force || args.keep.is_none();
    let result = demo_in(args, v, &circuit, &census_path, force, created.is_some());
    if result.is_err() && created.is_some() {
        // The demo's own folder: its files go, then the folder (only if nothing else is there).
        let _ = std::fs::remove_file(&circuit);
        let _ = std::fs::remove_file(&census_path);
        let _ = std::fs::remove_dir(&dir);
    }
    result
}

/// The demo's work, writing `circuit` and `census_path` (replacing them only with `force`);
/// `own_folder`: their folder was created by this demo.
fn demo_in(
    args: &DemoArgs,
    v: Verbosity,
    circuit: &Path,
    census_path: &Path,
    force: bool,
    own_folder: bool,
) -> Result<()> {
    // Both outputs are checked before any work: a second demo into a kept folder stops here.
    check_output_path(circuit, force)?;
    check_output_path(census_path, force)?;
    let options = GenerateOptions {
        nodes: args.nodes,
        edges: args.edges,
        order: EdgeOrder::Sorted,
        ..GenerateOptions::default()
    };
    v.info(&format!(
        "demo: generating a circuit of {} onto {} in {}",
        plural(args.edges, "edge"),
        plural(args.nodes, "node"),
        circuit.parent().unwrap_or(Path::new(".")).display()
    ));
    let started = Instant::now();
    generate_file(circuit, &options, force, v)?;
    // In a folder the demo created, a signal while counting takes the finished circuit too.
    let _circuit_registered = own_folder.then(|| sonata_census::interrupt::register(circuit));
    v.info(&format!(
        "demo: generated in {:.2} s; counting",
        started.elapsed().as_secs_f64()
    ));
    let count_args = CountArgs {
        file: circuit.to_path_buf(),
        populations: Vec::new(),
        output: census_path.to_path_buf(),
        nodes_count: None,
        backend: args.backend,
        force: ForceFlag { force },
        memory_budget: 1024,
        spill_dir: None,
        chunk_len: sonata_census::census::DEFAULT_CHUNK_LEN,
        target_node_set: None,
        source_node_set: None,
        node_sets: None,
        direction: crate::count::DirectionFlag::Afferent,
        pathways: Vec::new(),
        shard: None,
    };
    let (censuses, _) = count(&count_args, v)?;
    let mut text = String::new();
    for c in &censuses {
        text.push_str(&census_summary(c));
    }
    if args.keep.is_some() {
        text.push_str(&format!(
            "\nfiles kept: {} (circuit), {} (census tables)\n",
            circuit.display(),
            census_path.display()
        ));
    }
    print_stdout(&text)
}

/// A short statistical summary of a census, for people.
fn census_summary(c: &Census) -> String {
    let n = c.n_targets.max(1) as f64;
    let mut in_degree: Vec<u64> = c.target_synapse_count.clone();
    in_degree.sort_unstable();
    let median = in_degree.get(in_degree.len() / 2).copied().unwrap_or(0);
    let max = in_degree.last().copied().unwrap_or(0);
    let empty = c.target_synapse_count.iter().filter(|&&x| x == 0).count();
    let conns = c.connection_count();
    let mean_spc = if conns > 0 {
        c.edge_count as f64 / conns as f64
    } else {
        0.0
    };
    let mut s = format!(
        "\n{} ({} -> {})\n",
        c.population,
        c.source_population.as_deref().unwrap_or("unknown"),
        c.target_population.as_deref().unwrap_or("unknown")
    );
    s.push_str(&format!("  synapses:                {}\n", c.edge_count));
    s.push_str(&format!("  connections:             {conns}\n"));
    s.push_str(&format!(
        "  targets:                 {} ({} without synapses)\n",
        c.n_targets, empty
    ));
    s.push_str(&format!(
        "  synapses per target:     mean {:.1}, median {median}, max {max}\n",
        c.edge_count as f64 / n
    ));
    s.push_str(&format!("  synapses per connection: mean {mean_spc:.2}\n"));
    s.push_str("  connections with k synapses:\n");
    let total = conns.max(1) as f64;
    for (k, &count) in c.synapses_per_connection.iter().enumerate().skip(1) {
        if count == 0 {
            continue;
        }
        let bar = "#".repeat(((count as f64 / total) * 50.0).round() as usize);
        s.push_str(&format!("    {k:>4}: {count:>10}  {bar}\n"));
    }
    s
}
