//! `sonata_census._native.Reader`: the library's port of neurodamus 4.2.9's `SonataReader`
//! ([`sonata_census::neurodamus::SonataReader`]) for `sonata_census.neurodamus`, which builds
//! neurodamus's dicts from the arrays returned here (numpy scalars as keys and values, exactly
//! as neurodamus's `dict(zip(...))` over numpy arrays gives them) and keeps neurodamus's
//! caches.
//!
//! Every call runs off the GIL ([`detached::run`]): a batch of many gids, or the census a batch
//! covering half of a large population triggers, can take seconds.
//!
//! The synapse parameter records come back as one numpy array per field (`int32`, `int64` or
//! `float64`, in record order), which the Python class assembles into neurodamus's `recarray`
//! with one assignment per field; the loaded properties (`get_property`) as numpy arrays or
//! Python ints (neurodamus's scalars).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sonata_census::neurodamus::{
    Column, DataColumn, PRELOAD_CHUNK_SIZE, ReaderOptions, ReaderVariant, SonataReader,
};
use sonata_census::progress::Progress;
use sonata_census::sonata::attributes::AttributeValues;

use crate::detached;

/// One reader on one edge population. Python threads share it through the lock (the library's
/// reader keeps caches and is not for concurrent use).
#[pyclass(frozen, module = "sonata_census._native")]
pub struct Reader {
    inner: Mutex<SonataReader>,
    /// The edge population's name (kept out of the lock: it never changes).
    #[pyo3(get)]
    population: String,
}

/// The reader behind `inner`. A poisoned lock means an earlier call panicked half-way: its
/// caches cannot be trusted.
fn locked(inner: &Mutex<SonataReader>) -> sonata_census::Result<MutexGuard<'_, SonataReader>> {
    inner.lock().map_err(|_| {
        sonata_census::Error::InvalidArgument(
            "this reader failed in an earlier call (an internal error): open a new one".into(),
        )
    })
}

/// Integer arrays as returned by the counting methods.
type U64Array<'py> = Bound<'py, PyArray1<u64>>;
type I64Array<'py> = Bound<'py, PyArray1<i64>>;

/// Counts as neurodamus returns them (`np.unique`'s int64 counts).
fn as_i64(values: impl Iterator<Item = u64>) -> Vec<i64> {
    values
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
        .collect()
}

#[pymethods]
impl Reader {
    /// Opens `population` of `path` (the only one when None) as the reader class `variant`
    /// (`sonata`, `gap-junction`, ... : `ReaderVariant::from_name`).
    #[new]
    #[pyo3(signature = (path, population, variant, extracellular_calcium, dt))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        population: Option<String>,
        variant: &str,
        extracellular_calcium: Option<f64>,
        dt: f64,
    ) -> PyResult<Self> {
        let variant = ReaderVariant::from_name(variant).map_err(crate::errors::to_py)?;
        let options = ReaderOptions {
            variant,
            extracellular_calcium,
            dt,
        };
        let reader = detached::run(py, || {
            SonataReader::open(&path, population.as_deref(), options)
        })?;
        Ok(Reader {
            population: reader.population().name().to_string(),
            inner: Mutex::new(reader),
        })
    }

    /// `has_property(name)`: `synapse_index`, or an attribute of the population.
    fn has_property(&self, name: &str) -> PyResult<bool> {
        Ok(locked(&self.inner)
            .map_err(crate::errors::to_py)?
            .has_property(name))
    }

    /// The part of `get_counts(ids)` found in the file: the targets with edges (the edges'
    /// `target_node_id` values, ascending) and their synapses.
    fn counts<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<(U64Array<'py>, I64Array<'py>)> {
        let ids = ids.as_array().to_vec();
        let found = detached::run(py, || {
            let mut reader = locked(&self.inner)?;
            let counts = reader.get_counts(&ids)?;
            // The ids without edges come last with 0; the caller adds them with its own keys.
            Ok(counts
                .into_iter()
                .filter(|&(_, n)| n > 0)
                .collect::<Vec<_>>())
        })?;
        let targets = found.iter().map(|&(t, _)| t).collect();
        let counts = as_i64(found.iter().map(|&(_, n)| n));
        Ok((
            PyArray1::from_vec(py, targets),
            PyArray1::from_vec(py, counts),
        ))
    }

    /// `get_conn_counts(ids)` for targets with edges, as CSR arrays: the targets (in the order
    /// of `ids`, duplicates collapsed), offsets (`len + 1`), and for each target's rows
    /// `offsets[i]:offsets[i + 1]` the sources (ascending) and their synapses.
    fn conn_counts<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<(U64Array<'py>, U64Array<'py>, U64Array<'py>, I64Array<'py>)> {
        let ids = ids.as_array().to_vec();
        let per_target = detached::run(py, || {
            let mut reader = locked(&self.inner)?;
            reader.get_conn_counts(&ids)
        })?;
        let mut targets = Vec::new();
        let mut offsets = vec![0u64];
        let mut sources = Vec::new();
        let mut counts = Vec::new();
        for (t, per_source) in per_target.into_iter().filter(|(_, m)| !m.is_empty()) {
            targets.push(t);
            for (s, n) in per_source {
                sources.push(s);
                counts.push(n);
            }
            offsets.push(sources.len() as u64);
        }
        Ok((
            PyArray1::from_vec(py, targets),
            PyArray1::from_vec(py, offsets),
            PyArray1::from_vec(py, sources),
            PyArray1::from_vec(py, as_i64(counts.into_iter())),
        ))
    }

    /// `configure_override`'s effect: the helper's `NeededAttributes` (extra `float64` fields)
    /// and `UHillScaleVariables`; an empty list keeps the earlier setting (neurodamus's sticky
    /// override).
    fn configure_override(
        &self,
        needed_attributes: Vec<String>,
        uhill_scale_variables: Vec<String>,
    ) -> PyResult<()> {
        locked(&self.inner)
            .map_err(crate::errors::to_py)?
            .configure_override(&needed_attributes, &uhill_scale_variables);
        Ok(())
    }

    /// The override's extra fields, in the order they are appended to the records (by name).
    fn extra_fields(&self) -> PyResult<Vec<String>> {
        Ok(locked(&self.inner)
            .map_err(crate::errors::to_py)?
            .extra_fields())
    }

    /// `{attribute: stored type}` (`"float32"`, `"int64"`, ...: the library's names) of the
    /// population's attributes, first group holding each; the Python class gives loaded
    /// properties libsonata's dtypes with it.
    fn attribute_dtypes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let columns = detached::run(py, || {
            let reader = locked(&self.inner)?;
            reader.population().attribute_columns()
        })?;
        let out = PyDict::new(py);
        for c in columns {
            if !out.contains(&c.name)? {
                out.set_item(&c.name, &c.dtype)?;
            }
        }
        Ok(out)
    }

    /// The record table of `gid` as `[(field, column)]` in record order (see the module
    /// documentation).
    fn synapse_parameters<'py>(
        &self,
        py: Python<'py>,
        gid: u64,
    ) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let table = detached::run(py, || {
            let mut reader = locked(&self.inner)?;
            let table = reader.get_synapse_parameters(gid)?;
            Ok(table
                .columns()
                .map(|(name, column)| (name.to_string(), column.clone()))
                .collect::<Vec<_>>())
        })?;
        Ok(table
            .into_iter()
            .map(|(name, column)| {
                let array = match column {
                    Column::I32(a) => PyArray1::from_owned_array(py, a).into_any(),
                    Column::I64(a) => PyArray1::from_owned_array(py, a).into_any(),
                    Column::F64(a) => PyArray1::from_owned_array(py, a).into_any(),
                };
                (name, array)
            })
            .collect())
    }

    /// `get_property(gid, name)`: a loaded field of a loaded gid, as a numpy array (`int64`,
    /// `uint64` or `float64`; the caller casts to the stored type) or an int (a scalar: -1 for an
    /// absent optional attribute, minimal mode's constants). `KeyError` as neurodamus's
    /// `self._data[gid][name]`: the gid when it was never loaded, the name when the gid has no
    /// edges (`EMPTY_DATA`) or the field was not loaded.
    fn get_property<'py>(&self, py: Python<'py>, gid: u64, name: &str) -> PyResult<Py<PyAny>> {
        let reader = locked(&self.inner).map_err(crate::errors::to_py)?;
        let found = reader
            .get_property(gid, name)
            .map_err(|_| PyKeyError::new_err(gid))?;
        let Some(values) = found else {
            return Err(PyKeyError::new_err(name.to_string()));
        };
        Ok(match values {
            DataColumn::Scalar(v) => v.into_pyobject(py)?.into_any().unbind(),
            DataColumn::Values(AttributeValues::Int(v)) => {
                PyArray1::from_slice(py, v).into_any().unbind()
            }
            DataColumn::Values(AttributeValues::UInt(v)) => {
                PyArray1::from_slice(py, v).into_any().unbind()
            }
            DataColumn::Values(AttributeValues::Float(v)) => {
                PyArray1::from_slice(py, v).into_any().unbind()
            }
            DataColumn::Values(AttributeValues::Str(v)) => v.clone().into_pyobject(py)?.unbind(),
        })
    }

    /// `preload_data(gids, minimal_mode)`: nothing unless `minimal_mode` and at least
    /// [`PRELOAD_CHUNK_SIZE`] gids (neurodamus's rule), else the gids in chunks of that size.
    /// Ctrl-C is noticed between chunks: the library's reads of one chunk do not poll the flag,
    /// so the chunks are handed over here one at a time.
    fn preload_data(
        &self,
        py: Python<'_>,
        gids: PyReadonlyArray1<'_, u64>,
        minimal_mode: bool,
    ) -> PyResult<()> {
        let gids = gids.as_array().to_vec();
        if !minimal_mode || gids.len() < PRELOAD_CHUNK_SIZE {
            return Ok(());
        }
        detached::run(py, || {
            let mut reader = locked(&self.inner)?;
            let progress = Progress::hidden();
            let mut start = 0;
            while start < gids.len() {
                sonata_census::interrupt::check()?;
                let end = (start + PRELOAD_CHUNK_SIZE).min(gids.len());
                // The library preloads nothing for fewer gids than a chunk: the last, shorter
                // chunk goes with the gids before it, which are loaded already and skipped, so
                // that the gids read together are exactly neurodamus's chunk.
                let window = end.saturating_sub(PRELOAD_CHUNK_SIZE);
                reader.preload_data(&gids[window..end], true, &progress)?;
                start = end;
            }
            Ok(())
        })
    }
}
