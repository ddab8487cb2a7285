//! neurodamus `io.cell_readers` parity: how neurodamus spreads cells over ranks and
//! `load_sonata`, normal and dry-run paths.
//!
//! - [`distribution`]: `split_round_robin`, `dry_run_distribution`, `_retrieve_unique_metypes`;
//! - [`load`]: `load_sonata`, normal and dry-run paths.
//!
//! The node files and circuit configs these read are SONATA, not neurodamus, and live in
//! [`crate::sonata::nodes`] and [`crate::sonata::config`]; the exact dry-run statistics built
//! on them are [`super::dry_run`].
//!
//! Gids are 0-based node ids within one population (neurodamus ≥ 4.0). The behaviour followed
//! is neurodamus 4.2.9 (`shared/spec/neurodamus-io.md` §1.1, §3, §5); the deliberate differences
//! are listed in [`load`] and in the README.

pub mod distribution;
pub mod load;

pub use distribution::{
    Metypes, dry_run_distribution, group_metypes, retrieve_unique_metypes, split_round_robin,
};
pub use load::{CellInfo, LoadOptions, LoadedCells, load_sonata};
