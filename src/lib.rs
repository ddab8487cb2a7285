//! # sonata-census
//!
//! Counts every synapse and every connection of a SONATA circuit.
//!
//! ## Overview
//! In pipeline order:
//! - [`sonata::EdgeFile`] opens an edge file; [`sonata::EdgePopulation`] is one population;
//! - [`sonata::IdChunks`] streams its `source_node_id` / `target_node_id` columns in bounded chunks;
//! - [`census::census_population`] picks the engine and counts them into a [`census::Census`]:
//!   [`census::cpu`] (the CPU engine, which is the specification for every other engine) or, with
//!   the `gpu` feature, [`census::gpu`] (the GPU engine, the same tables bit for bit) on the
//!   device layer [`gpu`] (wgpu context, recorder, readback, one host module per kernel of
//!   [`kernels`]);
//! - [`census::output`] writes census tables to an HDF5 file (layout in the README).
//!
//! Around them: [`sonata::index`] resolves node ids to edge [`selection::Selection`]s as libsonata
//! does, [`sonata::attributes`] reads attribute columns, [`generate`] writes synthetic circuits and
//! [`info`] describes a file, and [`report`] draws a census table file as plots and a page;
//! [`outputs`] holds the rules every written file follows (checks, temporary names, modes).
#![deny(missing_docs)]

pub mod cells;
pub mod census;
pub mod error;
pub mod generate;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod ids;
pub mod info;
pub mod interrupt;
pub mod kernels;
pub mod neurodamus;
pub mod outputs;
pub mod progress;
pub mod report;
pub mod selection;
pub mod sonata;
pub mod words;

pub use census::Census;
pub use error::{Error, Location, Result};
pub use selection::Selection;
pub use sonata::{EdgeFile, EdgePopulation};

/// This crate's version, recorded in output files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
