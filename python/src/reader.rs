//! `sonata_census._native.Reader`: the library's port of neurodamus 4.2.9's `SonataReader`
//! ([`sonata_census::neurodamus::SonataReader`]) for `sonata_census.neurodamus`, which keeps
//! neurodamus's caches. The counting calls' dicts are built here, with numpy scalars as keys and
//! values exactly as neurodamus's `dict(zip(...))` over numpy arrays gives them (a dry run makes
//! thousands of calls of a hundred gids, each thousands of entries: a Python loop over them
//! cost more than reading them); `get_conn_counts_arrays` hands arrays over instead.
//!
//! Every call runs off the GIL ([`detached::run`]): a batch of many gids, or the census a batch
//! covering half of a large population triggers, can take seconds.
//!
//! The synapse parameter records come back as one numpy array per field (`int32`, `int64` or
//! `float64`, in record order), which the Python class assembles into neurodamus's `recarray`
//! with one assignment per field; the loaded properties (`get_property`) as numpy arrays or
//! Python ints (neurodamus's scalars).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use numpy::{PY_ARRAY_API, PyArray1, PyArrayDescr, PyArrayDescrMethods, PyReadonlyArray1};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyList, PyTuple};
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

/// numpy scalars (`numpy.uint64`, `numpy.int64`), the keys and values of neurodamus's dicts
/// (what iterating its numpy arrays gives).
struct Scalars<'py> {
    py: Python<'py>,
    uint64: Bound<'py, PyArrayDescr>,
    int64: Bound<'py, PyArrayDescr>,
    /// `numpy.int64` scalars of the counts below 256, made at their first use.
    small_counts: Vec<std::cell::OnceCell<Bound<'py, PyAny>>>,
}

impl<'py> Scalars<'py> {
    fn new(py: Python<'py>) -> Self {
        Scalars {
            py,
            uint64: numpy::dtype::<u64>(py),
            int64: numpy::dtype::<i64>(py),
            small_counts: (0..256).map(|_| std::cell::OnceCell::new()).collect(),
        }
    }

    fn uint64(&self, value: u64) -> PyResult<Bound<'py, PyAny>> {
        self.scalar(&self.uint64, (&raw const value).cast())
    }

    /// A count as `numpy.int64`: the common small ones (synapses of a connection) made once per
    /// [`Scalars`] and shared.
    fn count(&self, value: u64) -> PyResult<Bound<'py, PyAny>> {
        match self.shared_count(value)? {
            Some(shared) => Ok(shared.clone()),
            None => self.int64(value),
        }
    }

    /// The shared `numpy.int64` of a count below 256 (`None` for larger ones).
    fn shared_count(&self, value: u64) -> PyResult<Option<&Bound<'py, PyAny>>> {
        let Some(cell) = usize::try_from(value)
            .ok()
            .and_then(|i| self.small_counts.get(i))
        else {
            return Ok(None);
        };
        if cell.get().is_none() {
            let _ = cell.set(self.int64(value)?);
        }
        Ok(cell.get())
    }

    /// Counts saturate at `i64::MAX` (as [`as_i64`]).
    fn int64(&self, value: u64) -> PyResult<Bound<'py, PyAny>> {
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        self.scalar(&self.int64, (&raw const value).cast())
    }

    fn scalar(
        &self,
        descr: &Bound<'py, PyArrayDescr>,
        data: *const std::ffi::c_void,
    ) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: `data` points to a live value of the type `descr` describes (8 bytes, read
        // and copied by numpy before this returns); `PyArray_Scalar` borrows `descr` (no
        // reference is stolen) and needs no base object for numeric types; the GIL is held
        // (`self.py`). A null result is numpy's error, raised by `from_owned_ptr_or_err`.
        unsafe {
            let ptr = PY_ARRAY_API.PyArray_Scalar(
                self.py,
                data.cast_mut(),
                descr.as_dtype_ptr(),
                std::ptr::null_mut(),
            );
            Bound::from_owned_ptr_or_err(self.py, ptr)
        }
    }
}

/// Source scalars of one answer, shared by the dicts that hold them when the answer is large
/// and its ids small enough to index a table ([`SharedScalars::for_answer`]).
struct SharedScalars<'py> {
    table: Vec<Option<Bound<'py, PyAny>>>,
}

impl<'py> SharedScalars<'py> {
    /// Entries below which an answer's scalars are made one per entry (a table costs more).
    const MIN_ENTRIES: usize = 1 << 14;
    /// Largest id a table holds (beyond it, one scalar per entry).
    const MAX_ID: u64 = 1 << 24;

    fn for_answer(values: &[u64]) -> Self {
        let max = values.iter().copied().max().unwrap_or(0);
        let table = if values.len() >= Self::MIN_ENTRIES && max < Self::MAX_ID {
            vec![None; max as usize + 1]
        } else {
            Vec::new()
        };
        SharedScalars { table }
    }

    /// The shared scalar of `value`, made at its first use; `None` when this answer shares none.
    fn shared(
        &mut self,
        scalars: &Scalars<'py>,
        value: u64,
    ) -> PyResult<Option<&Bound<'py, PyAny>>> {
        let Some(slot) = usize::try_from(value)
            .ok()
            .and_then(|i| self.table.get_mut(i))
        else {
            return Ok(None);
        };
        if slot.is_none() {
            *slot = Some(scalars.uint64(value)?);
        }
        Ok(slot.as_ref())
    }
}

/// Counts as neurodamus returns them (`np.unique`'s int64 counts).
fn as_i64(values: impl Iterator<Item = u64>) -> Vec<i64> {
    values
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
        .collect()
}

/// Batches of at most this many targets answered from census tables are short work
/// ([`detached::run_short`]): a few milliseconds at most.
const SHORT_TABLE_BATCH: usize = 10_000;

impl Reader {
    /// Runs a counting call of `n` targets: inline when census tables answer it and the batch is
    /// small ([`SHORT_TABLE_BATCH`]), else on a worker thread that lets Ctrl-C through (an edge
    /// file's batch may start a census of the whole population).
    fn run_counting<T: Send>(
        &self,
        py: Python<'_>,
        n: usize,
        work: impl FnOnce() -> sonata_census::Result<T> + Send,
    ) -> PyResult<T> {
        let short = n <= SHORT_TABLE_BATCH
            && locked(&self.inner)
                .map_err(crate::errors::to_py)?
                .census_tables()
                .is_some();
        if short {
            detached::run_short(py, work)
        } else {
            detached::run(py, work)
        }
    }
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

    /// `get_counts(ids)`'s dict: the targets of `ids` with edges (ascending, numpy `uint64`
    /// keys, `int64` counts), then every element of `tgids` (the caller's own objects) not yet
    /// a key, with 0: neurodamus's `dict(zip(...))` and `setdefault` loop, built here.
    fn counts_dict<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
        tgids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let ids = ids.as_array().to_vec();
        self.counts_dict_of(py, ids, tgids)
    }

    /// `counts_dict` for a list or tuple of Python ints in `[0, 2^64)` (what the ids of most
    /// calls are), read here without the numpy conversion; `None` when `tgids` is anything else
    /// (the caller then converts and checks it, raising what neurodamus raises).
    fn counts_dict_of_ints<'py>(
        &self,
        py: Python<'py>,
        tgids: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let items: Vec<Bound<'py, PyAny>> = if let Ok(list) = tgids.cast::<PyList>() {
            list.iter().collect()
        } else if let Ok(tuple) = tgids.cast::<PyTuple>() {
            tuple.iter().collect()
        } else {
            return Ok(None);
        };
        let mut ids = Vec::with_capacity(items.len());
        for item in &items {
            // Exactly int (not bool, not a numpy scalar): what `_ids` accepts as it is.
            match item.extract::<u64>() {
                Ok(id) if item.is_exact_instance_of::<PyInt>() => ids.push(id),
                _ => return Ok(None),
            }
        }
        self.counts_dict_of(py, ids, tgids).map(Some)
    }

    /// `conn_count_dicts`' sibling for `get_counts`: the dict for `ids`, which are the values of
    /// the elements of `tgids` in order when their lengths agree.
    fn counts_dict_of<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<u64>,
        tgids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let found = self.run_counting(py, ids.len(), || {
            let mut reader = locked(&self.inner)?;
            let counts = reader.get_counts(&ids)?;
            Ok(counts
                .into_iter()
                .filter(|&(_, n)| n > 0)
                .collect::<Vec<_>>())
        })?;
        let scalars = Scalars::new(py);
        let dict = PyDict::new(py);
        for &(t, n) in &found {
            dict.set_item(scalars.uint64(t)?, scalars.count(n)?)?;
        }
        // `setdefault(gid, 0)` for each gid. When `tgids` lines up with `ids` (its elements
        // in order, as `_ids` made them), a gid found above is already a key (equal value,
        // equal hash): skipping it spares comparing a numpy scalar key with the caller's
        // object, most of the loop's cost.
        let found: HashSet<u64> = found.iter().map(|&(t, _)| t).collect();
        let aligned = tgids.len().is_ok_and(|n| n == ids.len());
        let zero = 0i64.into_pyobject(py)?;
        for (i, gid) in tgids.try_iter()?.enumerate() {
            if aligned && ids.get(i).is_some_and(|id| found.contains(id)) {
                continue;
            }
            dict.set_default(gid?, &zero)?;
        }
        Ok(dict)
    }

    /// `{target: {source: synapses}}` for the targets of `ids` with edges (targets as Python
    /// ints; inner dicts with numpy `uint64` keys and `int64` counts, sources ascending): the entries of `get_conn_counts`' cache, built here
    /// rather than in Python (a hundred targets have thousands of entries).
    fn conn_count_dicts<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let ids = ids.as_array().to_vec();
        let rows = self.run_counting(py, ids.len(), || {
            locked(&self.inner)?.get_conn_counts_arrays(&ids)
        })?;
        let scalars = Scalars::new(py);
        // Large answers repeat sources and small counts: one immutable scalar object per value
        // serves every dict (numpy scalars are values; creating one per entry was most of the
        // time of an all-gids call).
        let mut sources = SharedScalars::for_answer(&rows.sources);
        let out = PyDict::new(py);
        for (i, &t) in ids.iter().enumerate() {
            let mut per_source = rows.of(i).peekable();
            if per_source.peek().is_none() {
                continue;
            }
            let inner = PyDict::new(py);
            for (s, n) in per_source {
                // Borrowed where shared: no reference count taken and dropped per entry.
                let (count_owned, source_owned);
                let count = match scalars.shared_count(n)? {
                    Some(shared) => shared,
                    None => {
                        count_owned = scalars.int64(n)?;
                        &count_owned
                    }
                };
                let source = match sources.shared(&scalars, s)? {
                    Some(shared) => shared,
                    None => {
                        source_owned = scalars.uint64(s)?;
                        &source_owned
                    }
                };
                inner.set_item(source, count)?;
            }
            // The cache's keys: Python ints (unseen by callers, whose own gid objects key the
            // answers), so that looking up the caller's ints compares ints, not numpy scalars.
            out.set_item(t, inner)?;
        }
        Ok(out)
    }

    /// Answers `counts` / `conn_counts` from the census table file `path` from now on
    /// (`SonataReader.use_census_tables`: refused when the tables are not a full census of this
    /// very input).
    fn use_census_tables(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        detached::run(py, || locked(&self.inner)?.use_census_tables(&path))
    }

    /// `get_conn_counts_arrays(ids)`: offsets (`len(ids) + 1`), sources and synapses (int64) of
    /// each id's connections, aligned with `ids` (duplicates kept, ids without edges empty).
    fn conn_counts_arrays<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<(U64Array<'py>, U64Array<'py>, I64Array<'py>)> {
        let ids = ids.as_array().to_vec();
        let rows = detached::run(py, || locked(&self.inner)?.get_conn_counts_arrays(&ids))?;
        Ok((
            PyArray1::from_vec(py, rows.offsets),
            PyArray1::from_vec(py, rows.sources),
            PyArray1::from_vec(py, as_i64(rows.synapses.into_iter())),
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
