//! `sonata-census merge`: the partial table files of a sharded count (`count --shard i/N`) into
//! the table file one process would have written; the merge itself is the library's
//! ([`sonata_census::census::merge`]).

use std::path::PathBuf;

use clap::Args;

use sonata_census::Result;
use sonata_census::census::merge::{MergeOptions, expand_parts, merge};

use crate::args::ForceFlag;
use crate::console::Verbosity;

/// What `--help` shows after the options (examples are checked by `args`'s tests).
pub const HELP: &str = "\
The partial files record the count they are shards of (its input, populations, node sets,
direction and pathway attributes): merge checks that they are every shard of one count, once,
counted from the input as it is now, then reads that input again to write the tables that are
not additive across shards (connections per target, the histogram, efferent tables, pathway
matrices). The output is byte-identical to `count` run in one process on the same input.
A quoted glob pattern ('parts/census.*.h5') is expanded by merge itself.

Under a launcher, each rank takes its shard from the launcher's variables:
  mpirun -np 64 sonata-census count circuit_config.json --shard auto -o parts/census.{rank}.h5
  srun sonata-census count circuit_config.json --shard auto -o census.h5

Examples:
  sonata-census count circuit_config.json --shard 2/4 -o census.h5
  sonata-census merge census.shard-*-of-4.h5 -o census.h5
  sonata-census merge parts/census.*.h5 -o census.h5 --force";

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial table files written by `count --shard` (any order), or a quoted glob
    /// pattern that merge expands itself ('census.shard-*-of-64.h5').
    #[arg(required = true, value_name = "PART.h5")]
    pub parts: Vec<PathBuf>,
    /// Output file for the merged census tables (HDF5).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,
    // `--force`.
    #[command(flatten)]
    pub force: ForceFlag,
    /// Folder for the merged connection table's spill files (default: the system temporary
    /// folder).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
}

/// Runs `merge`.
pub fn run(args: &MergeArgs, v: Verbosity) -> Result<()> {
    let parts = expand_parts(&args.parts)?;
    if let Some(dir) = &args.spill_dir {
        crate::count::check_spill_dir(dir)?;
    }
    let options = MergeOptions {
        force: args.force.force,
        spill_dir: args.spill_dir.clone(),
        ..MergeOptions::default()
    };
    v.detail(&format!(
        "merging {}",
        sonata_census::words::plural(parts.len() as u64, "partial file")
    ));
    let merged = merge(&parts, &args.output, &options, &|name, total| {
        v.progress(name, total, "targets")
    })?;
    for m in &merged {
        v.info(&crate::count::summary_line(
            &m.census,
            m.restriction.as_ref(),
            (m.direction, m.n_sources),
            m.seconds,
        ));
    }
    v.info(&format!("wrote {}", args.output.display()));
    Ok(())
}
