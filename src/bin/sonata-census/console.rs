//! What the tool prints and how much: the `-q` / `-v` flags ([`Verbosity`], flattened into every
//! command), progress bars, the lines on stderr, and stdout that tolerates a closed pipe.

use std::io::Write;

use clap::Args;
use sonata_census::progress::Progress;
use sonata_census::{Error, Result};

/// How chatty the tool is on stderr: `-q` / `-v`, global flags of every command.
#[derive(Debug, Clone, Copy, Args)]
pub struct Verbosity {
    /// Print nothing but errors (no progress bars, no summary on stderr).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail on stderr (backend choice, timings, strategy).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Verbosity {
    /// A progress bar on stderr, or a hidden one under `-q`.
    pub fn progress(&self, message: &str, total: u64, unit: &str) -> Progress {
        if self.quiet {
            Progress::hidden()
        } else {
            Progress::stderr(message, total, unit)
        }
    }

    /// A line on stderr unless `-q`.
    pub fn info(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A line on stderr with `-v` only.
    pub fn detail(&self, line: &str) {
        if self.verbose {
            eprintln!("{line}");
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// `value` as pretty JSON with a closing newline (`info --json`, `dry-run --json`).
pub fn pretty_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// What `count` and `report` add to a population's line when bmtk `nsyns` makes an edge row
/// stand for several synapses: both numbers, and which one the tables count.
pub fn nsyns_note(synapses: u128, edge_rows: u64) -> String {
    format!("bmtk nsyns: {synapses} synapses (the tables count the {edge_rows} edge rows)")
}
