//! neurodamus 4.2.9's `io.cell_readers` for `sonata_census.neurodamus.cell_readers`:
//! `split_round_robin`, `dry_run_distribution`, `_retrieve_unique_metypes` and `load_sonata`
//! on the library's ports ([`sonata_census::neurodamus::cell_readers`]). Node populations are
//! named by file (a node file or a `circuit_config.json`) and population, as the tool's `nodes`
//! command takes them. Ids are `uint64` here; the Python functions give them neurodamus's
//! dtypes.

use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use sonata_census::neurodamus::{LoadOptions, Metypes};
use sonata_census::sonata::{CircuitConfig, NodeFile, NodePopulation};
use sonata_census::{Error, Result};

use crate::detached;

type U64Array<'py> = Bound<'py, PyArray1<u64>>;

/// The node population `population` of `path`: a node file, or a circuit config (`.json`).
fn open_population(path: &Path, population: &str) -> Result<NodePopulation> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        CircuitConfig::open(path)?.open_node_population(population)
    } else {
        NodeFile::open(path)?.population(population)
    }
}

/// `split_round_robin(all_gids, stride, stride_offset, total_cells)`: the gids this rank owns.
#[pyfunction]
#[pyo3(signature = (gids, stride, stride_offset, total_cells))]
pub fn split_round_robin<'py>(
    py: Python<'py>,
    gids: Option<PyReadonlyArray1<'py, u64>>,
    stride: u64,
    stride_offset: u64,
    total_cells: Option<u64>,
) -> PyResult<U64Array<'py>> {
    let gids = gids.map(|g| g.as_array().to_vec());
    let out = detached::run(py, || {
        sonata_census::neurodamus::split_round_robin(
            gids.as_deref(),
            stride,
            stride_offset,
            total_cells,
        )
    })?;
    Ok(PyArray1::from_vec(py, out))
}

/// `dry_run_distribution(bundles, stride, stride_offset)`: whole me-type bundles round robin.
#[pyfunction]
pub fn dry_run_distribution<'py>(
    py: Python<'py>,
    bundles: Vec<PyReadonlyArray1<'py, u64>>,
    stride: u64,
    stride_offset: u64,
) -> PyResult<U64Array<'py>> {
    let bundles: Vec<Vec<u64>> = bundles.iter().map(|b| b.as_array().to_vec()).collect();
    let out = detached::run(py, || {
        sonata_census::neurodamus::dry_run_distribution(&bundles, stride, stride_offset)
    })?;
    Ok(PyArray1::from_vec(py, out))
}

/// Me-types as Python lists: `[(metype, gids)]` (skipped ones left out) and `[(metype,
/// count)]` (all), first-seen order.
type MetypeLists<'py> = (Vec<(String, U64Array<'py>)>, Vec<(String, u64)>);

fn metype_lists(py: Python<'_>, m: Metypes) -> MetypeLists<'_> {
    (
        m.gids
            .into_iter()
            .map(|(k, g)| (k, PyArray1::from_vec(py, g)))
            .collect(),
        m.counts,
    )
}

/// `_retrieve_unique_metypes(node_reader, all_gids, skip_metypes)` on `population` of `path`.
#[pyfunction]
pub fn retrieve_unique_metypes<'py>(
    py: Python<'py>,
    path: PathBuf,
    population: String,
    gids: PyReadonlyArray1<'py, u64>,
    skip_metypes: Vec<String>,
) -> PyResult<MetypeLists<'py>> {
    let gids = gids.as_array().to_vec();
    let metypes = detached::run(py, || {
        let pop = open_population(&path, &population)?;
        let skip: Vec<&str> = skip_metypes.iter().map(String::as_str).collect();
        sonata_census::neurodamus::retrieve_unique_metypes(&pop, &gids, &skip)
    })?;
    Ok(metype_lists(py, metypes))
}

/// `load_sonata`: `(gids, cells_json, total_cells, metypes or None)`. The cells are the JSON
/// `sonata-census nodes load` prints (`[[gid, info], ...]` in insertion order): the library's
/// `CellInfo` serialised once instead of a Python object built field by field here.
#[pyfunction]
#[pyo3(signature = (path, population, gids, stride, stride_offset, dynamic_props, dry_run))]
#[allow(clippy::too_many_arguments)]
pub fn load_sonata<'py>(
    py: Python<'py>,
    path: PathBuf,
    population: String,
    gids: Option<PyReadonlyArray1<'py, u64>>,
    stride: u64,
    stride_offset: u64,
    dynamic_props: Vec<String>,
    dry_run: bool,
) -> PyResult<(U64Array<'py>, String, u64, Option<MetypeLists<'py>>)> {
    let gids = gids.map(|g| g.as_array().to_vec());
    let options = LoadOptions {
        stride,
        stride_offset,
        dynamic_props,
        dry_run,
    };
    let (loaded, cells) = detached::run(py, || {
        let pop = open_population(&path, &population)?;
        let loaded = sonata_census::neurodamus::load_sonata(&pop, gids.as_deref(), &options)?;
        let cells = serde_json::to_string(&loaded.cells)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialise the cells: {e}")))?;
        Ok((loaded, cells))
    })?;
    Ok((
        PyArray1::from_vec(py, loaded.gids),
        cells,
        loaded.total_cells,
        loaded.metypes.map(|m| metype_lists(py, m)),
    ))
}
