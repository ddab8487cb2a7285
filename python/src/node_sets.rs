//! `sonata_census._native.NodeSets`: SONATA node sets ([`sonata_census::sonata::node_sets`]) in
//! Python, shaped like libsonata's `NodeSets` (constructor from JSON text, `from_file`, `update`,
//! `names`, `materialize`), with the differences its docstring gives: chiefly, `materialize`
//! takes the node file and the population's name and returns the ids as a numpy array.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use numpy::PyArray1;
use pyo3::prelude::*;
use sonata_census::sonata::NodeFile;
use sonata_census::sonata::node_sets::NodeSets as Sets;

use crate::detached;
use crate::errors::to_py;

/// SONATA node sets, as libsonata's ``NodeSets``.
///
/// ``NodeSets(text)`` parses the JSON text of a node-sets file; ``NodeSets.from_file(path)``
/// reads one. ``names`` is the set of node-set names (a property, as in libsonata; entries that
/// are empty objects are left out, as libsonata leaves them out). ``update(other)`` lays
/// ``other`` over these sets (same-named sets are replaced) and returns the set of replaced
/// names.
///
/// Unlike libsonata, ``materialize(name, nodes_file, population)`` takes the path of a SONATA
/// node file and the name of a population in it (not a libsonata ``NodePopulation``) and returns
/// the sorted node ids as a numpy ``uint64`` array (libsonata returns a ``Selection``, whose
/// ``flatten()`` gives the same ids). And ``update`` refuses (``ValueError``, the sets left as
/// they were) a result with a chain of more than 10 compounds, which libsonata, checking only
/// when parsing, accepts. ``toJSON`` and ``referenced_populations`` are not provided.
///
/// Errors carry the one-line messages of ``sonata-census nodes select``: ``ValueError`` for
/// invalid JSON, a node set breaking the grammar, an unknown node-set name or a set that does
/// not fit the population (libsonata raises ``SonataError`` or ``RuntimeError``);
/// ``FileNotFoundError`` for a missing file; ``KeyError`` for a population the node file lacks;
/// ``OSError`` for a file that is not HDF5.
#[pyclass(frozen, module = "sonata_census._native", name = "NodeSets")]
pub struct NodeSets {
    /// Replaced whole by `update`; a `materialize` running meanwhile (off the GIL, in another
    /// thread) keeps the sets it started with.
    inner: RwLock<Arc<Sets>>,
}

impl NodeSets {
    fn wrap(sets: Sets) -> Self {
        NodeSets {
            inner: RwLock::new(Arc::new(sets)),
        }
    }

    /// The current sets. Nothing panics while the lock is held (the sets are immutable, only
    /// the `Arc` is swapped), so a poisoned lock still holds valid sets.
    fn sets(&self) -> Arc<Sets> {
        Arc::clone(&self.inner.read().unwrap_or_else(|e| e.into_inner()))
    }
}

#[pymethods]
impl NodeSets {
    /// Parses the JSON text of a node-sets file.
    #[new]
    #[pyo3(signature = (text, /))]
    fn new(py: Python<'_>, text: &str) -> PyResult<Self> {
        detached::run_short(py, || Sets::from_str(text)).map(NodeSets::wrap)
    }

    /// Reads and parses the node-sets file ``path`` (``str`` or ``os.PathLike``).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        detached::run_short(py, || Sets::from_file(&path)).map(NodeSets::wrap)
    }

    /// The names of the node sets (a ``set`` of ``str``).
    #[getter]
    fn names(&self) -> BTreeSet<String> {
        self.sets()
            .names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// Lays the node sets of ``other`` over these: same-named sets are replaced by ``other``'s.
    /// Returns the names that were replaced (a ``set`` of ``str``), as libsonata does.
    fn update(&self, other: &Self) -> PyResult<BTreeSet<String>> {
        // `other`'s sets are taken first: `other` may be `self`.
        let other = other.sets();
        let mut this = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let merged = this.merged_with(&other).map_err(to_py)?;
        let replaced = other
            .names()
            .into_iter()
            .filter(|n| this.get(n).is_some())
            .map(str::to_string)
            .collect();
        *this = Arc::new(merged);
        Ok(replaced)
    }

    /// The sorted node ids (numpy ``uint64``) of population ``population`` of the SONATA node
    /// file ``nodes_file`` in node set ``name``.
    fn materialize<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        nodes_file: PathBuf,
        population: &str,
    ) -> PyResult<Bound<'py, PyArray1<u64>>> {
        let sets = self.sets();
        let ids = detached::run(py, || {
            let file = NodeFile::open(&nodes_file)?;
            let pop = file.population(population)?;
            sets.select(name, &pop)
        })?;
        Ok(PyArray1::from_vec(py, ids))
    }

    fn __contains__(&self, name: &str) -> bool {
        self.sets().get(name).is_some()
    }

    fn __len__(&self) -> usize {
        self.sets().names().len()
    }

    fn __repr__(&self) -> String {
        format!("NodeSets(names={:?})", self.sets().names())
    }
}
