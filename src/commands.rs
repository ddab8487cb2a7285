//! The commands of the tool, each a thin layer over the library.

use std::io::Write;
use std::time::Instant;

use sonata_census::census::{
    Backend, Census, CensusOptions, SPILL_CONNECTIONS_ABOVE, census_population_spilled,
};
use sonata_census::progress::Progress;
use sonata_census::{EdgeFile, Error, Result};

use std::path::Path;

use sonata_census::census::output::CensusWriter;
use sonata_census::generate::{
    self, AttributeSet, EdgeOrder, GenerateOptions, GenerateSummary, IdDtype, IndexSpelling,
};
use sonata_census::outputs::{
    check_output_path, check_space, create_output_folder, persist, temporary_beside,
};

use crate::cli::{
    AttributesArg, BackendArg, Cli, Command, CountArgs, DemoArgs, GenerateArgs, IdDtypeArg,
    IndexSpellingArg, OrderArg,
};

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
        Command::Nodes(args) => crate::nodes_cmd::run_nodes(&args),
        Command::DryRun(args) => crate::nodes_cmd::run_dry_run(&args, v.quiet),
        Command::Info(args) => info(&args, v),
        Command::Count(args) => {
            count(&args, v)?;
            // As `generate` and `report` (not in `count` itself: `demo`'s census may be a
            // temporary file, named only with -v).
            v.info(&format!("wrote {}", args.output.display()));
            Ok(())
        }
        Command::Generate(args) => generate(&args, v),
        Command::Demo(args) => demo(&args, v),
        Command::Query(args) => crate::query_cmd::run(&args),
        Command::Report(args) => report(&args, v),
    }
}

fn report(args: &crate::cli::ReportArgs, v: Verbosity) -> Result<()> {
    use sonata_census::report::{ReportOptions, write_report};
    let options = ReportOptions {
        populations: args.populations.clone(),
        force: args.force,
        width: args.size.0,
        height: args.size.1,
    };
    let summary = write_report(&args.tables, &args.output, &options)?;
    for p in &summary.populations {
        use sonata_census::words::plural;
        let line = format!(
            "{}: {}, {}, {} ({} without synapses)",
            p.population,
            plural(p.edges, "edge"),
            plural(p.connections, "connection"),
            plural(p.targets, "target"),
            p.targets_without_synapses
        );
        // bmtk nsyns: as count's summary line, both numbers, and what the tables count.
        if p.synapses_from == "nsyns" {
            v.info(&format!(
                "{line}; {}",
                nsyns_note(p.synapses.into(), p.edges)
            ));
        } else {
            v.info(&line);
        }
    }
    // Every file with -v; the page alone otherwise (it is the last file written).
    let shown = if v.verbose { summary.files.len() } else { 1 };
    for f in summary.files.iter().rev().take(shown).rev() {
        v.info(&format!("wrote {}", f.display()));
    }
    Ok(())
}

fn backend(arg: BackendArg) -> Backend {
    match arg {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
    }
}

fn count(args: &CountArgs, v: Verbosity) -> Result<Vec<Census>> {
    if same_file(&args.file, &args.output) {
        // With --force the finished census would be renamed over the edge file it counted.
        return Err(Error::InvalidArgument(format!(
            "{}: the output is the input edge file (choose another --output)",
            args.output.display()
        )));
    }
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
    // Without -p, a broken population stops the run (no output, as any failure), and the error
    // names the populations that can be counted.
    let mut pops = Vec::new();
    let mut broken: Vec<(String, Error)> = Vec::new();
    for n in &names {
        match file.population(n) {
            Ok(pop) => pops.push(pop),
            Err(e) => broken.push((n.clone(), e)),
        }
    }
    // What to do when the populations `bad` cannot be counted: name the others (only without
    // -p: a population the user named is not left out behind their back).
    let leave_out = |bad: &[&str]| -> Option<String> {
        let good: Vec<String> = pops
            .iter()
            .map(|p| p.name())
            .filter(|n| !bad.contains(n))
            .map(|n| format!("-p {n}"))
            .collect();
        if !args.populations.is_empty() || good.is_empty() {
            return None;
        }
        let bad: Vec<String> = bad.iter().map(|n| format!("'{n}'")).collect();
        Some(format!(
            "to leave {} out, name the others: {}",
            bad.join(", "),
            good.join(" ")
        ))
    };
    if !broken.is_empty() {
        let bad: Vec<&str> = broken.iter().map(|(n, _)| n.as_str()).collect();
        let note = leave_out(&bad);
        let (_, first) = broken.swap_remove(0);
        return Err(match note {
            Some(note) => first.with_note(&note),
            None => first,
        });
    }
    let options = CensusOptions {
        nodes_count: args.nodes_count,
        chunk_len: args.chunk_len,
        memory_budget: args.memory_budget.saturating_mul(1 << 20).max(1 << 20),
        spill_dir: args.spill_dir.clone(),
        backend: backend(args.backend),
        ..CensusOptions::default()
    };
    let options = engine_options_from_env(options)?;
    if let Some(dir) = &args.spill_dir {
        check_spill_dir(dir)?;
    }
    #[cfg(feature = "gpu")]
    if matches!(options.backend, Backend::Gpu) {
        warn_software_adapter(v, &options)?;
    }
    let mut writer = CensusWriter::create(&args.output, args.force)?;
    let mut censuses = Vec::new();
    let mut backend_once = sonata_census::census::BackendOnce::default();
    for pop in &pops {
        let started = Instant::now();
        let progress = v.progress(pop.name(), pop.size(), "edges");
        let mut notes = Vec::new();
        // The connection table of sorted input goes to disk as it is counted (flat memory).
        let census = census_population_spilled(
            pop,
            &options,
            &progress,
            &mut notes,
            SPILL_CONNECTIONS_ABOVE,
        );
        progress.finish();
        for n in notes.iter().filter(|n| backend_once.show(n)) {
            if n.detail {
                v.detail(&n.text);
            } else {
                v.info(&n.text);
            }
        }
        let (census, spilled) = census.map_err(|e| match e {
            Error::InvalidData { .. } => match leave_out(&[pop.name()]) {
                Some(note) => e.with_note(&note),
                None => e,
            },
            other => other,
        })?;
        writer.write_spilled(&census, spilled.as_ref())?;
        v.info(&summary_line(&census, started.elapsed().as_secs_f64()));
        censuses.push(census);
    }
    writer.finish()?;
    Ok(censuses)
}

/// The engine options the environment sets (the library reads none): under `auto`,
/// SONATA_CENSUS_GPU_MIN_EDGES; with the `testing` feature and a GPU backend, the GPU testing
/// hooks (`sonata_census::gpu::fault`). A malformed value is a usage error (exit 2).
pub(crate) fn engine_options_from_env(mut options: CensusOptions) -> Result<CensusOptions> {
    use sonata_census::census::{GPU_MIN_EDGES_ENV, parse_gpu_min_edges};
    if options.backend == Backend::Auto
        && let Some(v) = std::env::var_os(GPU_MIN_EDGES_ENV)
    {
        options.gpu_min_edges = match v.to_str() {
            Some(s) => parse_gpu_min_edges(s)?,
            None => parse_gpu_min_edges(&v.to_string_lossy())?,
        };
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
fn check_spill_dir(dir: &Path) -> Result<()> {
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

/// Whether `a` and `b` are the same existing file (same device and inode: links included).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn summary_line(c: &Census, seconds: f64) -> String {
    let order = if c.sortedness.by_target_source {
        "sorted by (target, source)"
    } else if c.sortedness.by_target {
        "sorted by target"
    } else {
        "unsorted"
    };
    use sonata_census::words::plural;
    let line = format!(
        "{}: {}, {}, {} ({}), {:.2} s",
        c.population,
        plural(c.edge_count, "edge"),
        plural(c.connection_count(), "connection"),
        plural(c.n_targets, "target"),
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

/// What `count` and `report` add to a population's line when bmtk `nsyns` makes an edge row
/// stand for several synapses: both numbers, and which one the tables count.
fn nsyns_note(synapses: u128, edge_rows: u64) -> String {
    format!("bmtk nsyns: {synapses} synapses (the tables count the {edge_rows} edge rows)")
}

fn info(args: &crate::cli::InfoArgs, v: Verbosity) -> Result<()> {
    let progress = v.progress("info", 0, "edges");
    let described = sonata_census::info::describe_each(&args.file, !args.no_scan, &progress);
    progress.finish();
    let described = described?;
    // A file whose every population is broken has nothing to describe: its error line alone.
    // Otherwise the good populations are described and the broken ones listed with their
    // error, then the run fails (exit 2) with one line naming them.
    if !described.info.populations.is_empty() || described.errors.is_empty() {
        let info = &described.info;
        let text = if args.json {
            let mut s = serde_json::to_string_pretty(info)
                .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s
        } else {
            sonata_census::info::render_text(info)
        };
        print_stdout(&text)?;
    }
    described.into_result().map(|_| ())
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn generate(args: &GenerateArgs, v: Verbosity) -> Result<()> {
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
            IdDtypeArg::U64 => IdDtype::U64,
            IdDtypeArg::I64 => IdDtype::I64,
        },
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
    let summary = generate_file(&args.output, &options, args.force, v)?;
    for p in &summary.populations {
        v.info(&format!(
            "{}: {} -> {}, {}, {}",
            p.name,
            p.source_population,
            p.target_population,
            sonata_census::words::plural(p.edges, "edge"),
            sonata_census::words::plural(p.connections, "connection")
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
fn generate_file(
    path: &Path,
    options: &GenerateOptions,
    force: bool,
    v: Verbosity,
) -> Result<GenerateSummary> {
    options.validate()?;
    check_output_path(path, force)?;
    // A file that cannot fit fails now with both sizes, not at its first write past the limit.
    check_space(path, options.estimated_file_size())?;
    let temp = temporary_beside(path)?;
    // The generator has no interrupt checks of its own: on SIGINT / SIGTERM the forced clean-up
    // of `interrupt` removes the registered temporary file.
    let registered = sonata_census::interrupt::register(&temp);
    let total = options.edges.saturating_mul(u64::from(options.populations));
    let progress = v.progress("generating", total, "edges");
    let summary = generate::generate(&temp, options, &|done| progress.set_position(done));
    progress.finish();
    let mut summary = summary.map_err(Error::writing)?;
    persist(temp, path, force)?;
    drop(registered);
    summary.path = path.to_path_buf();
    Ok(summary)
}

fn demo(args: &DemoArgs, v: Verbosity) -> Result<()> {
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
    let force = args.force || args.keep.is_none();
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
        sonata_census::words::plural(args.edges, "edge"),
        sonata_census::words::plural(args.nodes, "node"),
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
        force,
        memory_budget: 1024,
        spill_dir: None,
        chunk_len: sonata_census::census::DEFAULT_CHUNK_LEN,
    };
    let censuses = count(&count_args, v)?;
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
