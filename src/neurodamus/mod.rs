//! neurodamus 4.2.9's `io.synapse_reader`, reproduced: the `SynapseParameters` record layouts
//! ([`synapse_params`]) and `SonataReader` with its subclasses ([`synapse_reader`]).
//!
//! Gids are raw 0-based SONATA node ids of one population, as in neurodamus ≥ 4.0. Where
//! neurodamus is wrong (files not grouped by target, stale caches), this module is right and the
//! README's "neurodamus parity" section lists each difference.
//!
//! ```no_run
//! use sonata_census::neurodamus::{ReaderOptions, SonataReader};
//!
//! let mut reader = SonataReader::open("edges.h5", Some("All__All__chemical"), ReaderOptions {
//!     extracellular_calcium: Some(1.2),
//!     ..ReaderOptions::default()
//! })?;
//! let counts = reader.get_counts(&[0, 1, 2])?;          // [(target, synapses)]
//! let conns = reader.get_conn_counts(&[0, 1, 2])?;      // [(target, {source: synapses})]
//! let params = reader.get_synapse_parameters(0)?;        // record table of gid 0
//! let delays = params.f64_column("delay");
//! # let _ = (counts, conns, delays);
//! # Ok::<(), sonata_census::Error>(())
//! ```

pub mod synapse_params;
pub mod synapse_reader;

pub use synapse_params::{
    Column, DataColumn, FieldRole, FieldSpec, FieldType, GidData, LoadField, ParameterSet,
    SynapseParameters, Value, constrained_hill, patch_delay,
};
pub use synapse_reader::{
    PRELOAD_CHUNK_SIZE, READER_VARIANTS, ReaderOptions, ReaderVariant, SonataReader,
};
