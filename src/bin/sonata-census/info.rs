//! `sonata-census info`: its arguments, and the run that describes an edge file (the library's
//! [`sonata_census::info`]) as text or JSON on stdout.

use std::path::PathBuf;

use clap::Args;
use sonata_census::Result;

use crate::console::{Verbosity, pretty_json, print_stdout};

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
Examples:
  sonata-census info edges.h5
  sonata-census info edges.h5 --json
  sonata-census info huge_edges.h5 --no-scan";

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

/// Runs `info`.
pub fn run(args: &InfoArgs, v: Verbosity) -> Result<()> {
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
            pretty_json(info)?
        } else {
            sonata_census::info::render_text(info)
        };
        print_stdout(&text)?;
    }
    described.into_result().map(|_| ())
}
