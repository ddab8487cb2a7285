//! The `sonata-census` command-line tool: parses arguments, runs a command, maps errors to exit
//! codes (2 for bad input or arguments, 1 for anything else). The work is in the library.

mod cli;
mod commands;
mod nodes_cmd;
mod query_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" when probing
    // for an adapter in a session without one (CI, cron, ssh); point it at the temporary folder.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: nothing else runs yet; no other thread reads the environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    let cli = cli::Cli::parse();
    // `count`, `generate` and `demo` stop cleanly on SIGINT / SIGTERM (no `.partial` or spill
    // file left, exit 130 / 143); the other commands keep the default disposition (they write
    // no temporary files).
    if matches!(
        cli.command,
        cli::Command::Count(_) | cli::Command::Generate(_) | cli::Command::Demo(_)
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
