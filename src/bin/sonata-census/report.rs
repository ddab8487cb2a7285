//! `sonata-census report`: its arguments, and the run that draws a census table file as plots,
//! a page and `summary.json` (the library's [`sonata_census::report`]) and says what it wrote.

use std::path::PathBuf;

use clap::Args;
use sonata_census::Result;
use sonata_census::report::{ReportOptions, write_report};
use sonata_census::words::plural;

use crate::args::ForceFlag;
use crate::console::{Verbosity, nsyns_note};

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
Writes into DIR (created when missing):
  index.html                                   summary numbers and plots of every population
  summary.json                                 the same numbers
  <pop>/synapses_per_target.{png,svg}          in-degree distribution
  <pop>/connections_per_target.{png,svg}       distinct sources per target
  <pop>/synapses_per_connection.{png,svg}      the stored synapses-per-connection histogram
Bins and axes are logarithmic where the values span two decades or more. Targets without
synapses are in no bar; the plots and the page give their number.

Examples:
  sonata-census count edges.h5 -o census.h5
  sonata-census report census.h5 --output report
  sonata-census report census.h5 -p All__All__chemical -o report \\
      --size 1600x1000 --force";

/// Arguments of `report`.
#[derive(Debug, Args)]
#[command(mut_arg("force", |a| a.help("Replace existing report files")))]
pub struct ReportArgs {
    /// Census table file (written by `sonata-census count`).
    pub tables: PathBuf,
    /// Folder for the report (created when missing; its parent folder must exist).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Population to report (repeat for several); default: every population in the file.
    #[arg(short, long = "population", value_name = "NAME")]
    pub populations: Vec<String>,
    // `--force`.
    #[command(flatten)]
    pub force: ForceFlag,
    /// Size of each plot in pixels, WIDTHxHEIGHT, from 480x300 to 8192x8192.
    #[arg(long, value_name = "WxH", default_value = "960x600", value_parser = parse_size)]
    pub size: (u32, u32),
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 960x600, not '{s}'"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("expected WIDTHxHEIGHT, e.g. 960x600, not '{s}'"))
    };
    Ok((n(w)?, n(h)?))
}

/// Runs `report`.
pub fn run(args: &ReportArgs, v: Verbosity) -> Result<()> {
    let options = ReportOptions {
        populations: args.populations.clone(),
        force: args.force.force,
        width: args.size.0,
        height: args.size.1,
    };
    let summary = write_report(&args.tables, &args.output, &options)?;
    for p in &summary.populations {
        // An efferent-only census has no per-target tables: its sources instead.
        let ends = match (p.targets, p.targets_without_synapses, &p.efferent) {
            (Some(n), Some(without), _) => {
                format!("{} ({without} without synapses)", plural(n, "target"))
            }
            (_, _, Some(e)) => format!(
                "{} ({} without synapses)",
                plural(e.sources, "source"),
                e.sources_without_synapses
            ),
            _ => String::new(),
        };
        let line = format!(
            "{}: {}, {}, {ends}",
            p.population,
            plural(p.edges, "edge"),
            plural(p.connections, "connection"),
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
