//! The `sonata-census` command-line tool: parses arguments, runs a command, maps errors to exit
//! codes (2 for bad input or arguments, 1 for anything else). The work is in the library.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
