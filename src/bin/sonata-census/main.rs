//! The `sonata-census` command-line tool: parses arguments, runs a command, maps errors to exit
//! codes (2 for bad input or arguments, 1 for anything else) and prints them with the advice
//! that names the tool's flags (the library's messages name none). The work is in the library.
//!
//! One file per command, owning its clap arguments and its `run`: [`count`], [`generate`],
//! [`merge`], [`demo`], [`report`], [`info`], [`dry_run`], [`nodes`], [`query`]; the flags several commands
//! share are declared once in [`args`], and what is printed (and how much) in [`console`].

mod args;
mod console;
mod count;
mod demo;
mod dry_run;
mod generate;
mod info;
mod merge;
mod nodes;
mod query;
mod report;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use sonata_census::error::Setting;
use sonata_census::{Error, Result};

use args::{Cli, Command};

/// Testing hook of the signal tests: with `SONATA_CENSUS_TEST_IGNORE_INTERRUPT=1` the main thread
/// does not stop on a signal, as one stuck in a long HDF5 call would not, so that the tests reach
/// the forced clean-up whatever the speed of the machine
/// ([`sonata_census::interrupt::ignore_for_tests`]).
const IGNORE_INTERRUPT_ENV: &str = "SONATA_CENSUS_TEST_IGNORE_INTERRUPT";

/// `--version`: the tool's version and the HDF5 library it reads with (its fixes of crashes on
/// damaged files depend on the release).
fn long_version() -> &'static str {
    let how = if cfg!(feature = "static-hdf5") {
        "built in"
    } else {
        "system library"
    };
    let text = format!(
        "{} (HDF5 {}, {how})",
        env!("CARGO_PKG_VERSION"),
        sonata_census::info::hdf5_version()
    );
    // Once per process, for clap's 'static strings.
    Box::leak(text.into_boxed_str())
}

fn main() -> ExitCode {
    // Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" when probing
    // for an adapter in a session without one (CI, cron, ssh); point it at the temporary folder.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: nothing else runs yet; no other thread reads the environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    let matches = Cli::command().long_version(long_version()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The commands that write (`count`, `merge`, `generate`, `demo`, `report`) stop cleanly on SIGINT /
    // SIGTERM (no `.partial` file or folder, spill or temporary folder left, exit 130 / 143); the
    // other commands keep the default disposition (they write no files).
    if matches!(
        cli.command,
        Command::Count(_)
            | Command::Merge(_)
            | Command::Generate(_)
            | Command::Demo(_)
            | Command::Report(_)
    ) {
        if std::env::var(IGNORE_INTERRUPT_ENV).as_deref() == Ok("1") {
            sonata_census::interrupt::ignore_for_tests();
        }
        if let Err(err) = sonata_census::interrupt::install() {
            eprintln!("sonata-census: {err}");
            return ExitCode::from(1);
        }
    }
    let result = rank_threads(&cli).and_then(|()| run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let (Error::Interrupted, Some(code)) = (&err, sonata_census::interrupt::exit_code())
            {
                eprintln!(
                    "sonata-census: interrupted by {}; no output written",
                    sonata_census::interrupt::signal_name()
                );
                return ExitCode::from(code);
            }
            // Names in messages come from files: one line, valid UTF-8, whatever they hold.
            eprintln!(
                "sonata-census: {}",
                sonata_census::error::printable_line(&message(&err))
            );
            if err.is_input_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// A Slurm task's CPUs (`SLURM_CPUS_PER_TASK`) are the threads of the commands that count and
/// merge, unless `RAYON_NUM_THREADS` says otherwise: ranks sharing a node then do not each start
/// a thread per core of the node.
fn rank_threads(cli: &Cli) -> Result<()> {
    if !matches!(cli.command, Command::Count(_) | Command::Merge(_))
        || std::env::var_os("RAYON_NUM_THREADS").is_some()
    {
        return Ok(());
    }
    let Some(threads) =
        sonata_census::census::shard::cpus_per_task(|name| std::env::var(name).ok())?
    else {
        return Ok(());
    };
    // Fails only when a pool was built already, which nothing does before this point.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    cli.verbosity.detail(&format!(
        "threads: {threads} ({})",
        sonata_census::census::shard::CPUS_PER_TASK_VARIABLE
    ));
    Ok(())
}

/// Runs the command line.
fn run(cli: Cli) -> Result<()> {
    let v = cli.verbosity;
    match cli.command {
        Command::Nodes(args) => nodes::run(&args, v),
        Command::DryRun(args) => dry_run::run(&args, v),
        Command::Info(args) => info::run(&args, v),
        Command::Count(args) => count::run(&args, v),
        Command::Merge(args) => merge::run(&args, v),
        Command::Generate(args) => generate::run(&args, v),
        Command::Demo(args) => demo::run(&args, v),
        Command::Query(args) => query::run(&args),
        Command::Report(args) => report::run(&args, v),
    }
}

/// The message of `err` with the advice that names this tool's flags: the library says what is
/// wrong, the tool says which of its flags changes it.
fn message(err: &Error) -> String {
    match err {
        Error::OutputExists { .. } => format!("{err} (pass --force to replace it)"),
        // A note goes after the advice of the error it notes.
        Error::Noted { error, note } => format!("{} ({note})", message(error)),
        Error::About {
            error,
            setting: Setting::NodeCount,
        } => format!("{} (node count from --nodes-count)", message(error)),
        Error::About {
            error,
            setting: Setting::ReaderVariant { fitting },
        } => {
            let flags: Vec<String> = fitting.iter().map(|v| format!("--reader {v}")).collect();
            format!("{} ({})", message(error), flags.join(" or "))
        }
        _ => err.to_string(),
    }
}
