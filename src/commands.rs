//! The commands of the tool, each a thin layer over the library.

use std::io::Write;
use std::time::Instant;

use sonata_census::census::output::{CensusWriter, check_output_path};
use sonata_census::census::{Backend, Census, CensusOptions, census_population};
use sonata_census::progress::Progress;
use sonata_census::{EdgeFile, Error, Result};

use crate::cli::{BackendArg, Cli, Command, CountArgs, DemoArgs};

/// How chatty the tool is on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Verbosity {
    quiet: bool,
    verbose: bool,
}

impl Verbosity {
    fn progress(&self, message: &str, total: u64, unit: &str) -> Progress {
        if self.quiet {
            Progress::hidden()
        } else {
            Progress::stderr(message, total, unit)
        }
    }
    fn info(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
    fn detail(&self, line: &str) {
        if self.verbose {
            eprintln!("{line}");
        }
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<()> {
    let v = Verbosity {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Info(args) => info(&args, v),
        Command::Count(args) => count(&args, v).map(|_| ()),
        Command::Generate(args) => generate(&args, v),
        Command::Demo(args) => demo(&args, v),
    }
}

fn backend(arg: BackendArg) -> Backend {
    match arg {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
    }
}

/// Says which engine runs and why (always, unless quiet: the choice is never silent).
fn announce_backend(b: Backend, v: Verbosity) {
    match b {
        Backend::Auto => v.info("backend: cpu (auto: this build has no GPU engine yet)"),
        Backend::Cpu => v.detail("backend: cpu (asked for)"),
        Backend::Gpu => {}
    }
}

fn count(args: &CountArgs, v: Verbosity) -> Result<Vec<Census>> {
    check_output_path(&args.output, args.force)?;
    if args.chunk_len == 0 {
        return Err(Error::InvalidArgument(
            "--chunk-len must be at least 1".into(),
        ));
    }
    let file = EdgeFile::open(&args.file)?;
    let names = if args.populations.is_empty() {
        let all = file.population_names()?;
        if all.is_empty() {
            return Err(Error::invalid(
                sonata_census::Location::file(&args.file).dataset("/edges"),
                "the file has no edge population",
            ));
        }
        all
    } else {
        let mut seen = Vec::new();
        for p in &args.populations {
            if !seen.contains(p) {
                seen.push(p.clone());
            }
        }
        seen
    };
    // Open every population first: a typo in the last name fails before hours of counting.
    let pops = names
        .iter()
        .map(|n| file.population(n))
        .collect::<Result<Vec<_>>>()?;
    let options = CensusOptions {
        nodes_count: args.nodes_count,
        chunk_len: args.chunk_len,
        memory_budget: args.memory_budget.saturating_mul(1 << 20).max(1 << 20),
        spill_dir: args.spill_dir.clone(),
        backend: backend(args.backend),
    };
    announce_backend(options.backend, v);
    let mut writer = CensusWriter::create(&args.output, args.force)?;
    let mut censuses = Vec::new();
    for pop in &pops {
        let started = Instant::now();
        let progress = v.progress(pop.name(), pop.size(), "edges");
        let census = census_population(pop, &options, &progress);
        progress.finish();
        let census = census?;
        writer.write(&census)?;
        v.info(&summary_line(&census, started.elapsed().as_secs_f64()));
        censuses.push(census);
    }
    let path = writer.finish()?;
    v.detail(&format!("wrote {}", path.display()));
    Ok(censuses)
}

fn summary_line(c: &Census, seconds: f64) -> String {
    let order = if c.sortedness.by_target_source {
        "sorted by (target, source)"
    } else if c.sortedness.by_target {
        "sorted by target"
    } else {
        "unsorted"
    };
    format!(
        "{}: {} edges, {} connections, {} targets ({}), {:.2} s",
        c.population,
        c.edge_count,
        c.connection_count(),
        c.n_targets,
        order,
        seconds
    )
}

fn info(args: &crate::cli::InfoArgs, v: Verbosity) -> Result<()> {
    let progress = v.progress("info", 0, "edges");
    let described = sonata_census::info::describe(&args.file, !args.no_scan, &progress);
    progress.finish();
    let described = described?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&described)
            .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        sonata_census::info::render_text(&described)
    };
    print_stdout(&text)
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn generate(_args: &crate::cli::GenerateArgs, _v: Verbosity) -> Result<()> {
    Err(Error::InvalidArgument("generate: not yet".into()))
}

fn demo(_args: &DemoArgs, _v: Verbosity) -> Result<()> {
    let _ = std::io::stdout().flush();
    Err(Error::InvalidArgument("demo: not yet".into()))
}
