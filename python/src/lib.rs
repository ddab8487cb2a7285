//! `sonata_census._native`: the native half of the Python package `sonata_census` (the
//! pure-Python half, `python/sonata_census/`, checks arguments and wraps these results in its
//! classes). Each function here runs the library off the GIL and hands its tables to numpy
//! without copies.
//!
//! - [`census`]: `count`, `count_shard` (one shard of a count, as a partial table file), `merge`
//!   (partial files into the table file), `read_tables`, `info`;
//! - [`detached`]: how library work runs (GIL released, Ctrl-C polled, panics caught);
//! - [`reader`]: `Reader`, the port of neurodamus's `SonataReader` under
//!   `sonata_census.neurodamus`;
//! - [`cells`]: neurodamus's cell readers (`split_round_robin`, `dry_run_distribution`,
//!   `_retrieve_unique_metypes`, `load_sonata`) under `sonata_census.neurodamus.cell_readers`;
//! - [`node_sets`]: `NodeSets`, SONATA node sets shaped like libsonata's;
//! - [`errors`]: the library's errors as Python exceptions.

mod cells;
mod census;
mod detached;
mod errors;
mod node_sets;
mod reader;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", sonata_census::VERSION)?;
    m.add("HDF5_VERSION", sonata_census::info::hdf5_version())?;
    m.add("HAS_GPU_ENGINE", cfg!(feature = "gpu"))?;
    m.add_function(wrap_pyfunction!(census::count, m)?)?;
    m.add_function(wrap_pyfunction!(census::count_shard, m)?)?;
    m.add_function(wrap_pyfunction!(census::merge, m)?)?;
    m.add_function(wrap_pyfunction!(census::read_tables, m)?)?;
    m.add_function(wrap_pyfunction!(census::info, m)?)?;
    m.add_class::<reader::Reader>()?;
    m.add_class::<node_sets::NodeSets>()?;
    m.add_function(wrap_pyfunction!(cells::split_round_robin, m)?)?;
    m.add_function(wrap_pyfunction!(cells::dry_run_distribution, m)?)?;
    m.add_function(wrap_pyfunction!(cells::retrieve_unique_metypes, m)?)?;
    m.add_function(wrap_pyfunction!(cells::load_sonata, m)?)?;
    Ok(())
}
