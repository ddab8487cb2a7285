//! neurodamus `io.cell_readers` parity: SONATA node files, circuit configs, how neurodamus
//! spreads cells over ranks, `load_sonata`, and exact dry-run statistics.
//!
//! - [`nodes`]: node files and populations; attributes, `@library`, `dynamics_params`, read in
//!   bulk for a selection of node ids;
//! - [`config`]: `circuit_config.json` (networks, manifest, relative paths);
//! - [`distribution`]: `split_round_robin`, `dry_run_distribution`, `_retrieve_unique_metypes`;
//! - [`load`]: `load_sonata`, normal and dry-run paths;
//! - [`dry_run`]: the exact synapse and connection totals per me-type that neurodamus's dry run
//!   only estimates, and the memory they imply.
//!
//! Gids are 0-based node ids within one population (neurodamus ≥ 4.0). The behaviour followed
//! is neurodamus 4.2.9 (`shared/spec/neurodamus-io.md` §1.1, §3, §5); the deliberate differences
//! are listed in [`load`] and in the README.

pub mod config;
pub mod distribution;
pub mod dry_run;
pub mod load;
pub mod nodes;

pub use config::CircuitConfig;
pub use distribution::{
    Metypes, dry_run_distribution, group_metypes, retrieve_unique_metypes, split_round_robin,
};
pub use load::{CellInfo, LoadOptions, LoadedCells, load_sonata};
pub use nodes::{NodeFile, NodePopulation};
