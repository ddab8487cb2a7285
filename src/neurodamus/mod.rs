//! neurodamus 4.2.9's readers, reproduced:
//! - `io.synapse_reader`: the `SynapseParameters` record layouts ([`synapse_params`]) and
//!   `SonataReader` with its subclasses ([`synapse_reader`]);
//! - `io.cell_readers` ([`cell_readers`]): how neurodamus spreads cells over ranks and
//!   `load_sonata`;
//! - [`dry_run`]: the exact synapse and connection totals per me-type that neurodamus's dry run
//!   only estimates, and the memory they imply.
//!
//! The SONATA files they read (node files, circuit configs) are opened by [`crate::sonata`].
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

pub mod cell_readers;
pub mod dry_run;
pub mod synapse_params;
pub mod synapse_reader;

pub use cell_readers::{
    CellInfo, LoadOptions, LoadedCells, Metypes, dry_run_distribution, group_metypes, load_sonata,
    retrieve_unique_metypes, split_round_robin,
};

pub use synapse_params::{
    Column, DataColumn, FieldRole, FieldSpec, FieldType, GidData, LoadField, ParameterSet,
    SynapseParameters, Value, constrained_hill, patch_delay,
};
pub use synapse_reader::{
    PRELOAD_CHUNK_SIZE, READER_VARIANTS, ReaderOptions, ReaderVariant, SonataReader,
};
