//! The `sonata-census` command-line tool: parses arguments, runs a command, maps errors to exit
//! codes (2 for bad input or arguments, 1 for anything else). The work is in the library.

mod cli;
mod commands;
mod nodes_cmd;
mod query_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

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
    let matches = cli::Cli::command()
        .long_version(long_version())
        .get_matches();
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The commands that write (`count`, `generate`, `demo`, `report`) stop cleanly on SIGINT /
    // SIGTERM (no `.partial` file or folder, spill or temporary folder left, exit 130 / 143); the
    // other commands keep the default disposition (they write no files).
    if matches!(
        cli.command,
        cli::Command::Count(_)
            | cli::Command::Generate(_)
            | cli::Command::Demo(_)
            | cli::Command::Report(_)
    ) && let Err(err) = sonata_census::interrupt::install()
    {
        eprintln!("sonata-census: {err}");
        return ExitCode::from(1);
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let (sonata_census::Error::Interrupted, Some(code)) =
                (&err, sonata_census::interrupt::exit_code())
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
                sonata_census::error::printable_line(&err.to_string())
            );
            if err.is_input_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
