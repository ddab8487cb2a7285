//! Reading SONATA files: edge files (populations, id columns, indices, attributes), node files
//! and circuit configs.
//!
//! Overview, in the order a census uses them:
//! - [`EdgeFile`] opens an HDF5 file and lists its edge populations;
//! - [`EdgePopulation`] holds one population's metadata and its two id columns ([`IdColumn`]),
//!   read with `pread` past HDF5's global lock when their storage allows (`direct`);
//! - [`IdChunks`] streams `(source_node_id, target_node_id)` in bounded chunks into reused buffers;
//! - [`index`] resolves node ids to edge [`Selection`](crate::selection::Selection)s through
//!   `indices/`, as libsonata does;
//! - [`attributes`] reads attribute columns (groups, `@library`, strings, `dynamics_params`).
//!
//! Next to them, [`nodes`] reads node files ([`NodeFile`], [`NodePopulation`]) and [`config`]
//! reads `circuit_config.json` ([`CircuitConfig`]); edge and node attribute columns are read
//! through one column type (`column`).
//!
//! The format is described in `shared/spec/sonata-format.md`; real files are messy (int64 ids,
//! missing `node_population`, bmtk index spelling, several attribute groups) and all of that is
//! accepted here.

pub mod attributes;
pub mod bulk;
pub(crate) mod column;
pub mod config;
pub(crate) mod direct;
mod edges;
pub(crate) mod global_heap;
pub mod index;
pub mod node_sets;
pub mod nodes;
pub mod schema;

pub use config::CircuitConfig;

pub(crate) use edges::open_hdf5 as open_hdf5_file;
pub use edges::{
    ChosenPopulations, EdgeFile, EdgePopulation, IdChunk, IdChunks, IdColumn, IdDtype,
};
pub use nodes::{NodeFile, NodePopulation};
