//! `sonata_census._native.Reader`: the library's port of neurodamus 4.2.9's `SonataReader`
//! ([`sonata_census::neurodamus::SonataReader`]) for `sonata_census.neurodamus`, which builds
//! neurodamus's dicts from the arrays returned here (numpy scalars as keys and values, exactly
//! as neurodamus's `dict(zip(...))` over numpy arrays gives them) and keeps neurodamus's
//! caches.
//!
//! Every call runs off the GIL ([`detached::run`]): a batch of many gids, or the census a batch
//! covering half of a large population triggers, can take seconds.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use sonata_census::neurodamus::{ReaderOptions, ReaderVariant, SonataReader};

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
}
