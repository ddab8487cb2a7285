//! Command-line arguments shared by the commands (clap derive): the top-level [`Cli`] and its
//! [`Command`]s, and the flags several commands take, declared once here and flattened into each
//! (`-q` / `-v` in [`crate::console::Verbosity`], `--backend` in [`BackendFlag`], `--force` in
//! [`ForceFlag`]). Each command's own arguments live in its file, beside its `run`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use sonata_census::census::{Backend, CensusOptions};
use sonata_census::{Error, Result};

use crate::console::Verbosity;

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
    /// `-q` / `-v`, taken by every command.
    #[command(flatten)]
    pub verbosity: Verbosity,

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
    Nodes(crate::nodes::NodesArgs),

    /// Exact dry-run statistics of a circuit config: synapses and connections per me-type,
    /// synapse memory, per-rank memory of a round-robin distribution.
    DryRun(crate::dry_run::DryRunArgs),

    /// Describe an edge file: populations, node populations, edge counts, indices, order,
    /// attribute groups and columns with their types.
    #[command(after_help = crate::info::HELP)]
    Info(crate::info::InfoArgs),

    /// Count synapses and connections of edge populations and write the census tables (HDF5).
    #[command(after_help = crate::count::HELP)]
    Count(crate::count::CountArgs),

    /// Merge the partial table files of a sharded count (count --shard) into the table file one
    /// process would have written.
    #[command(after_help = crate::merge::HELP)]
    Merge(crate::merge::MergeArgs),

    /// Write a synthetic SONATA edge file with cortex-like statistics.
    #[command(after_help = crate::generate::HELP)]
    Generate(crate::generate::GenerateArgs),

    /// Generate a circuit in a temporary folder, count it, and print a summary.
    #[command(after_help = crate::demo::HELP)]
    Demo(crate::demo::DemoArgs),

    /// Plot census tables (PNG and SVG histograms per population) and write an HTML page and
    /// summary.json with their numbers.
    #[command(after_help = crate::report::HELP)]
    Report(crate::report::ReportArgs),

    /// neurodamus synapse reader answers as JSON on stdout: synapses per target, per connection,
    /// and the synapse parameter records of a gid.
    Query(crate::query::QueryArgs),
}

// Example lines of every command's help stay under 80 columns (clap would wrap them without a
// backslash) and are checked to parse by `tests::every_help_example_parses`.

/// `--backend` of the commands that count (`count`, `demo`, `dry-run`).
#[derive(Debug, Clone, Copy, Args)]
pub struct BackendFlag {
    /// Counting engine: auto picks a real GPU when there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, env = "SONATA_CENSUS_BACKEND")]
    pub backend: BackendArg,
}

/// `-f` / `--force` of the commands that write files. The text here is `count`'s and
/// `generate`'s; `report` and `demo` replace it with theirs (`mut_arg`), as their outputs differ.
#[derive(Debug, Clone, Copy, Args)]
pub struct ForceFlag {
    /// Replace the output file if it exists.
    #[arg(short, long)]
    pub force: bool,
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

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Self {
        match arg {
            BackendArg::Auto => Backend::Auto,
            BackendArg::Cpu => Backend::Cpu,
            BackendArg::Gpu => Backend::Gpu,
        }
    }
}

/// The engine options the environment sets (the library reads none): under `auto`,
/// SONATA_CENSUS_GPU_MIN_EDGES; with the `testing` feature and a GPU backend, the GPU testing
/// hooks (`sonata_census::gpu::fault`). A malformed value is a usage error (exit 2).
pub fn engine_options_from_env(mut options: CensusOptions) -> Result<CensusOptions> {
    use sonata_census::census::GPU_MIN_EDGES_ENV;
    if options.backend == Backend::Auto
        && let Some(v) = std::env::var_os(GPU_MIN_EDGES_ENV)
    {
        let v = v.to_string_lossy();
        options.gpu_min_edges = v.trim().parse().map_err(|_| {
            Error::InvalidArgument(format!("{GPU_MIN_EDGES_ENV}={v}: not a number of edges"))
        })?;
    }
    #[cfg(feature = "testing")]
    if options.backend != Backend::Cpu {
        use sonata_census::gpu::fault::{
            ALLOW_SOFTWARE_ENV, FAULT_ENV, GpuFaults, MEMORY_LIMIT_ENV,
        };
        let var = |name| std::env::var(name).ok();
        options.gpu_faults = GpuFaults::parse(
            var(FAULT_ENV).as_deref(),
            var(MEMORY_LIMIT_ENV).as_deref(),
            var(ALLOW_SOFTWARE_ENV).as_deref(),
        )?;
    }
    Ok(options)
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
