//! Command-line arguments (clap derive). The commands themselves live in `commands.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sonata_census::ids::{parse_count, parse_count_u32, parse_count_usize};

const EXAMPLES: &str = "\
Examples:
  # Generate a 1e6-edge circuit, then count it
  sonata-census generate circuit.h5 --nodes 10000 --edges 1000000
  sonata-census count circuit.h5 --output census.h5

  # What is in a file: populations, node populations, edge counts, index, order, attributes
  sonata-census info edges.h5
  sonata-census info edges.h5 --json

  # Count two populations of a file on the CPU, replacing an earlier output
  sonata-census count edges.h5 -p NodeA__NodeB__chemical \\
      -p NodeB__NodeA__chemical --output census.h5 --backend cpu --force

  # Try it all on a circuit the tool makes itself
  sonata-census demo

  # Plots and a page of the census tables (open report/index.html)
  sonata-census report census.h5 --output report

  # neurodamus's readers, answering as JSON
  sonata-census query conn-counts edges.h5 -p All__All__chemical --targets 0,1,2
  sonata-census nodes metypes nodes.h5 --population All
  sonata-census dry-run circuit_config.json --ranks 64

Exit codes: 0 success; 2 bad input or arguments (input files missing, not HDF5, truncated or
malformed, unknown population, bad id lists, existing output without --force); 1 failure of the
environment (output folder missing or not writable, I/O, GPU). Errors are one line on stderr:
  sonata-census: FILE[, population 'NAME'][, dataset 'PATH']: what is wrong
A failed run leaves no output file and an existing output untouched.";

/// Counts every synapse and every connection of SONATA edge populations.
///
/// The census of a population gives, for every target node, its synapse count and its
/// connection count (distinct sources), the table of every (target, source) connection with its
/// synapse count, and the histogram of synapses per connection. It streams the id columns in
/// bounded memory, sorted or not.
#[derive(Debug, Parser)]
#[command(name = "sonata-census", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// Print nothing but errors (no progress bars, no summary on stderr).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail on stderr (backend choice, timings, strategy).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// neurodamus cell readers on SONATA nodes: round-robin and me-type distribution,
    /// me-types, load_sonata (JSON on stdout).
    #[command(subcommand_required = true)]
    Nodes(crate::nodes_cmd::NodesArgs),

    /// Exact dry-run statistics of a circuit config: synapses and connections per me-type,
    /// synapse memory, per-rank memory of a round-robin distribution.
    DryRun(crate::nodes_cmd::DryRunArgs),

    /// Describe an edge file: populations, node populations, edge counts, indices, order,
    /// attribute groups and columns with their types.
    #[command(after_help = INFO_HELP)]
    Info(InfoArgs),

    /// Count synapses and connections of edge populations and write the census tables (HDF5).
    #[command(after_help = COUNT_HELP)]
    Count(CountArgs),

    /// Write a synthetic SONATA edge file with cortex-like statistics.
    #[command(after_help = GENERATE_HELP)]
    Generate(GenerateArgs),

    /// Generate a circuit in a temporary folder, count it, and print a summary.
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),

    /// Plot census tables (PNG and SVG histograms per population) and write an HTML page and
    /// summary.json with their numbers.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),

    /// neurodamus synapse reader answers as JSON on stdout: synapses per target, per connection,
    /// and the synapse parameter records of a gid.
    Query(crate::query_cmd::QueryArgs),
}

// Example lines stay under 80 columns (clap would wrap them without a backslash) and are
// checked to parse by `tests::every_help_example_parses`.

const INFO_HELP: &str = "\
Examples:
  sonata-census info edges.h5
  sonata-census info edges.h5 --json
  sonata-census info huge_edges.h5 --no-scan";

const GENERATE_HELP: &str = "\
Counts are whole numbers: 10000000, 1e7 and 10_000_000 are the same.

Examples:
  sonata-census generate circuit.h5 --nodes 100000 --edges 1e7
  sonata-census generate shuffled.h5 --nodes 1000 --edges 100000 \\
      --order shuffled --id-dtype i64 --no-index
  sonata-census generate bmtk.h5 --nodes 1000 --edges 1e5 --attributes bmtk \\
      --index-spelling bmtk --populations 2";

const DEMO_HELP: &str = "\
Examples:
  sonata-census demo
  sonata-census demo --edges 1e7 --nodes 1e5 --backend cpu
  sonata-census demo --keep demo_files";

const COUNT_HELP: &str = "\
Output layout (one group per edge population):
  /<pop>/target_synapse_count          uint64 [n_targets]
  /<pop>/target_connection_count       uint64 [n_targets]
  /<pop>/connections/target_offsets    uint64 [n_targets + 1]
  /<pop>/connections/source_node_id    uint64 [n_connections]  (ascending within a target)
  /<pop>/connections/synapse_count     uint32 [n_connections]
  /<pop>/synapses_per_connection       uint64 [k + 1]          (entry i: connections with i synapses)
  /<pop>/target_nsyns_total            uint64 [n_targets]      (bmtk files with an nsyns column)
n_targets is --nodes-count, else the length of the target index, else the largest target id + 1.

Examples:
  sonata-census count edges.h5 --output census.h5
  sonata-census count edges.h5 -p All__All__chemical --nodes-count 211712 \\
      -o census.h5 --force";

const REPORT_HELP: &str = "\
Writes into DIR (created when missing):
  index.html                                   summary numbers and plots of every population
  summary.json                                 the same numbers
  <pop>/synapses_per_target.{png,svg}          in-degree distribution
  <pop>/connections_per_target.{png,svg}       distinct sources per target
  <pop>/synapses_per_connection.{png,svg}      the stored synapses-per-connection histogram
Bins and axes are logarithmic where the values span two decades or more. Targets without
synapses are in no bar; the plots and the page give their number.

Examples:
  sonata-census count edges.h5 -o census.h5
  sonata-census report census.h5 --output report
  sonata-census report census.h5 -p All__All__chemical -o report \\
      --size 1600x1000 --force";

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Census table file (written by `sonata-census count`).
    pub tables: PathBuf,
    /// Folder for the report (created when missing; its parent folder must exist).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Population to report (repeat for several); default: every population in the file.
    #[arg(short, long = "population", value_name = "NAME")]
    pub populations: Vec<String>,
    /// Replace existing report files.
    #[arg(short, long)]
    pub force: bool,
    /// Size of each plot in pixels, WIDTHxHEIGHT, from 480x300 to 8192x8192.
    #[arg(long, value_name = "WxH", default_value = "960x600", value_parser = parse_size)]
    pub size: (u32, u32),
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 960x600, not '{s}'"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("expected WIDTHxHEIGHT, e.g. 960x600, not '{s}'"))
    };
    Ok((n(w)?, n(h)?))
}

/// Arguments of `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// SONATA edge file (HDF5).
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Skip reading the id columns and index rows (edge order, negative ids, target ids
    /// against the index, index ranges): only metadata is read, fast on huge files.
    #[arg(long)]
    pub no_scan: bool,
}

/// Arguments of `count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    /// SONATA edge file (HDF5).
    pub file: PathBuf,
    /// Edge population to count (repeat for several); default: every population in the file.
    #[arg(short, long = "population", value_name = "NAME")]
    pub populations: Vec<String>,
    /// Output file for the census tables (HDF5).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,
    /// Number of target nodes (length of the per-target tables); default: the target index's
    /// length, else the largest target id + 1.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub nodes_count: Option<u64>,
    /// Counting engine: auto picks a real GPU when there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, env = "SONATA_CENSUS_BACKEND")]
    pub backend: BackendArg,
    /// Replace the output file if it exists.
    #[arg(short, long)]
    pub force: bool,
    /// Memory for grouping unsorted edges by target, in MiB; beyond it, edges spill to disk.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = parse_count)]
    pub memory_budget: u64,
    /// Folder for spill files of unsorted populations larger than --memory-budget.
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Rows per streamed chunk.
    #[arg(long, value_name = "ROWS", default_value_t = crate_chunk_len(), hide = true,
          value_parser = parse_count_usize)]
    pub chunk_len: usize,
}

const fn crate_chunk_len() -> usize {
    sonata_census::census::DEFAULT_CHUNK_LEN
}

/// Counting engine.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BackendArg {
    /// A real GPU when present, else the CPU.
    Auto,
    /// The CPU engine.
    Cpu,
    /// The GPU engine (software adapters included).
    Gpu,
}

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
    /// Replace the output file if it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
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
    /// Replace demo_circuit.h5 and demo_census.h5 in the --keep folder if they exist.
    #[arg(short, long)]
    pub force: bool,
    /// Counting engine.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, env = "SONATA_CENSUS_BACKEND")]
    pub backend: BackendArg,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every command path (`["nodes", "load"]`, ...), parents included.
    fn command_paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            command_paths(sub, &path, out);
        }
    }

    /// The example command lines of a help text, continuation lines joined, with each physical
    /// line: lines starting with `sonata-census ` (its own error lines start with
    /// `sonata-census:`).
    fn examples(help: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let mut lines = help.lines();
        while let Some(line) = lines.next() {
            if !line.trim_start().starts_with("sonata-census ") {
                continue;
            }
            let mut physical = vec![line.to_string()];
            let mut joined = line.trim().to_string();
            while joined.ends_with('\\') {
                joined.pop();
                let Some(next) = lines.next() else { break };
                physical.push(next.to_string());
                joined.push(' ');
                joined.push_str(next.trim());
            }
            out.push((joined, physical));
        }
        out
    }

    fn help_of(path: &[String]) -> String {
        let mut args = vec!["sonata-census".to_string()];
        args.extend(path.iter().cloned());
        args.push("--help".into());
        let err = Cli::try_parse_from(&args).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp, "{args:?}");
        err.render().to_string()
    }

    /// README: "`--help` on every command has examples". Each one must be copy-pasteable: it
    /// parses, its lines are short enough that clap never wraps them (a wrapped line has no
    /// backslash), and no quoting is needed.
    #[test]
    fn every_help_example_parses() {
        let mut paths = vec![Vec::new()];
        command_paths(&Cli::command(), &[], &mut paths);
        assert!(paths.len() > 12, "{paths:?}");
        for path in &paths {
            let help = help_of(path);
            let found = examples(&help);
            let own = found
                .iter()
                .filter(|(line, _)| {
                    line.split_whitespace()
                        .skip(1)
                        .take(path.len())
                        .eq(path.iter().map(String::as_str))
                })
                .count();
            assert!(
                own > 0,
                "`{}` --help has no example of itself:\n{help}",
                path.join(" ")
            );
            for (line, physical) in &found {
                for l in physical {
                    assert!(l.chars().count() <= 80, "too long for a terminal: {l:?}");
                }
                assert!(
                    !line.contains(['"', '\'', '#', '|', '>']),
                    "needs a shell to read: {line}"
                );
                let words: Vec<&str> = line.split_whitespace().collect();
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("`{line}` (from {path:?} --help) does not parse:\n{e}");
                }
            }
        }
    }

    #[test]
    fn counts_accept_exact_integer_spellings() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let Command::Generate(g) = parse(&[
            "sonata-census",
            "generate",
            "o.h5",
            "--nodes",
            "1e3",
            "--edges",
            "10_000_000",
            "--source-nodes",
            "2.5e3",
            "--populations",
            "2e0",
        ])
        .unwrap()
        .command
        else {
            panic!("not generate")
        };
        assert_eq!(
            (g.nodes, g.edges, g.source_nodes, g.populations),
            (1000, 10_000_000, Some(2500), 2)
        );
        let Command::Count(c) = parse(&[
            "sonata-census",
            "count",
            "e.h5",
            "-o",
            "c.h5",
            "--nodes-count",
            "1e6",
            "--memory-budget",
            "2_048",
        ])
        .unwrap()
        .command
        else {
            panic!("not count")
        };
        assert_eq!((c.nodes_count, c.memory_budget), (Some(1_000_000), 2048));
        let Command::DryRun(d) = parse(&["sonata-census", "dry-run", "c.json", "--ranks", "1e3"])
            .unwrap()
            .command
        else {
            panic!("not dry-run")
        };
        assert_eq!(d.ranks, 1000);
        for (args, why) in [
            (
                &["generate", "o.h5", "--nodes", "1", "--edges", "1.5e0"][..],
                "not a whole number",
            ),
            (
                &["generate", "o.h5", "--nodes", "1e-3", "--edges", "1"][..],
                "not a whole number",
            ),
            (&["demo", "--edges", "1e20"][..], "too large"),
            (
                &[
                    "generate", "o.h5", "--nodes", "1", "--edges", "1", "--groups", "5e9",
                ][..],
                "at most 4294967295",
            ),
            (
                &["nodes", "distribute", "n.h5", "--stride", "x"][..],
                "'x' is not a whole number such as",
            ),
        ] {
            let mut all = vec!["sonata-census"];
            all.extend_from_slice(args);
            let err = parse(&all).unwrap_err().to_string();
            assert!(err.contains(why), "{args:?}: {err}");
        }
    }
}
