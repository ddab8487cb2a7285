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
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sonata-census: {err}");
            if err.is_input_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
