//! `sonata_census._native.NodeSets`: SONATA node sets ([`sonata_census::sonata::node_sets`]) in
//! Python, shaped like libsonata's `NodeSets` (constructor from JSON text, `from_file`, `update`,
//! `names`, `materialize`), with the one difference its docstring gives: `materialize` takes the
//! node file and the population's name and returns the ids as a numpy array.

use std::collections::BTreeSet;
use std::path::PathBuf;

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
#[pyclass(module = "sonata_census._native", name = "NodeSets")]
pub struct NodeSets {
    inner: Sets,
}

#[pymethods]
impl NodeSets {
    /// Parses the JSON text of a node-sets file.
    #[new]
    #[pyo3(signature = (text, /))]
    fn new(py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = detached::run_short(py, || Sets::from_str(text))?;
        Ok(NodeSets { inner })
    }

    /// Reads and parses the node-sets file ``path`` (``str`` or ``os.PathLike``).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = detached::run_short(py, || Sets::from_file(&path))?;
        Ok(NodeSets { inner })
    }

    /// The names of the node sets (a ``set`` of ``str``).
    #[getter]
    fn names(&self) -> BTreeSet<String> {
        self.inner.names().into_iter().map(str::to_string).collect()
    }

    /// Lays the node sets of ``other`` over these: same-named sets are replaced by ``other``'s.
    /// Returns the names that were replaced (a ``set`` of ``str``), as libsonata does.
    fn update(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<BTreeSet<String>> {
        // Cloned first: `other` may be `slf` itself, which cannot be borrowed twice.
        let other = other.borrow().inner.clone();
        let mut this = slf.borrow_mut();
        let replaced = other
            .names()
            .into_iter()
            .filter(|n| this.inner.get(n).is_some())
            .map(str::to_string)
            .collect();
        this.inner = this.inner.merged_with(&other).map_err(to_py)?;
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
        let sets = &self.inner;
        let ids = detached::run(py, || {
            let file = NodeFile::open(&nodes_file)?;
            let pop = file.population(population)?;
            sets.select(name, &pop)
        })?;
        Ok(PyArray1::from_vec(py, ids))
    }

    fn __contains__(&self, name: &str) -> bool {
        self.inner.get(name).is_some()
    }

    fn __len__(&self) -> usize {
        self.inner.names().len()
    }

    fn __repr__(&self) -> String {
        format!("NodeSets(names={:?})", self.inner.names())
    }
}
