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
//! - [`census::output`] writes census tables to an HDF5 file whose names [`census::schema`]
//!   declares (layout in the README); [`census::reader`] is the one reader of such files.
//!
//! The library is configured by its caller ([`census::CensusOptions`] carries the engine, its
//! limits, the GPU threshold and tuning, and optionally a GPU context the caller opened); it reads
//! no environment variable and names no command-line flag ([`error::Setting`] says which setting
//! an error is about). The `sonata-census` tool (`src/bin/sonata-census/`) reads the command
//! line and the environment and passes the values in.
//!
//! Around them: [`sonata::index`] resolves node ids to edge [`selection::Selection`]s as libsonata
//! does, [`sonata::attributes`] reads attribute columns, [`generate`] writes synthetic circuits and
//! [`info`] describes a file, and [`report`] draws a census table file as plots and a page;
//! [`sonata::nodes`] and [`sonata::config`] read node files and circuit configs, on which
//! [`neurodamus`] reproduces neurodamus's cell and synapse readers and its dry run;
//! [`outputs`] holds the rules every written file follows (checks, temporary names, modes);
//! [`memory`] reads this machine's memory, the bound tables are checked against.
//!
//! ## Cargo features
//! - `static-hdf5`: HDF5 2.2 built from source and linked statically (else the system's HDF5);
//! - `gpu`: the GPU engine (wgpu);
//! - `report`: the `report` module, plots (plotters) and the page of a census table file;
//! - `progress`: [`progress::Progress`] draws bars (indicatif); without it, it draws nothing;
//! - `signals`: `interrupt::install`, SIGINT / SIGTERM handling (signal-hook);
//! - `cli`: the `sonata-census` tool (clap), with `progress` and `signals`;
//! - `testing`: the fault-injection hooks of the tests (not public API).
//!
//! All but `testing` are on by default. `cargo build --lib --no-default-features` builds the
//! census library alone, with none of wgpu, plotters, clap, indicatif or signal-hook.
#![deny(missing_docs)]

pub mod census;
pub mod error;
pub mod generate;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod ids;
pub mod info;
pub mod interrupt;
pub mod kernels;
pub mod memory;
pub mod neurodamus;
pub mod outputs;
pub mod progress;
#[cfg(feature = "report")]
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
