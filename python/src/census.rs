//! `count`, `count_shard`, `merge`, `read_tables` and `info` of `sonata_census._native`: the
//! census of an edge file (optionally written to a table file exactly as `sonata-census count
//! -o` writes it), one shard of it written as a partial table file (`count --shard i/N`), the
//! partial files merged into the table file (`merge`), a table file read back, and `info
//! --json`'s description.
//!
//! A census goes to Python as a dict whose tables are numpy arrays named as the datasets of the
//! table file; each array takes over the library's `Vec` (no copy). `sonata_census.Census` (in
//! Python) wraps the dict.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use sonata_census::census::circuit::NodeSetRestriction;
use sonata_census::census::count_plan::{CountPlan, CountRequest, Spelling};
use sonata_census::census::derived::plan::{Derivation, Derived};
use sonata_census::census::derived::{Direction, Efferent, PathwayMatrix, PathwayValues};
use sonata_census::census::merge::{MergeOptions, expand_parts};
use sonata_census::census::output::{CensusWriter, Record};
use sonata_census::census::provenance::{Provenance, Restriction, TableKind};
use sonata_census::census::reader::{CensusFile, ConnectionTable};
use sonata_census::census::shard::{Shard, ShardHeader};
use sonata_census::census::stored::{self, PopulationTables};
use sonata_census::census::{
    Backend, Census, CensusOptions, CountedBy, Note, NoteKind, SPILL_TABLE_BYTES_ABOVE,
};
use sonata_census::outputs::same_file;
use sonata_census::progress::Progress;
use sonata_census::{Error, Result};

use crate::detached;

/// The census of `populations` of the edge file `path` (every population when `None`), or of
/// the edge populations of the circuit config `path` (as the tool's `count CONFIG`), each
/// as a dict ([`census_dict`]); with `output`, the tables are also written to that file as the
/// tool's `count -o OUTPUT` writes them (byte for byte), replacing an existing file only with
/// `force`. Arguments are checked by the Python wrapper (types, ranges); the library checks
/// the rest.
#[pyfunction]
#[pyo3(signature = (path, populations, nodes_count, backend, memory_budget_mib, spill_dir, output, force, target_node_set, source_node_set, node_sets, direction, pathways))]
#[allow(
    clippy::too_many_arguments,
    reason = "the keywords of sonata_census.count"
)]
pub fn count<'py>(
    py: Python<'py>,
    path: PathBuf,
    populations: Option<Vec<String>>,
    nodes_count: Option<u64>,
    backend: &str,
    memory_budget_mib: Option<u64>,
    spill_dir: Option<PathBuf>,
    output: Option<PathBuf>,
    force: bool,
    target_node_set: Option<String>,
    source_node_set: Option<String>,
    node_sets: Option<PathBuf>,
    direction: &str,
    pathways: Option<Vec<String>>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let options = census_options(nodes_count, backend, memory_budget_mib, spill_dir)?;
    let direction: Direction = direction.parse().map_err(crate::errors::to_py)?;
    let restriction = NodeSetRestriction {
        target_node_set,
        source_node_set,
        node_sets_file: node_sets,
    };
    let counted = detached::run(py, || {
        count_file(
            &path,
            populations.as_deref(),
            &options,
            &restriction,
            (direction, pathways.as_deref()),
            output.as_deref(),
            force,
        )
    })?;
    counted
        .into_iter()
        .map(|c| {
            let d = census_dict(py, c.census, &c.notes, direction)?;
            let kind = TableKind::of(c.restriction.is_some(), direction);
            set_restriction(&d, c.restriction.as_ref(), kind)?;
            set_derived(py, &d, direction, c.derived)?;
            Ok(d)
        })
        .collect()
}

/// The options of a count from `count`'s keywords (shared with `count_shard`): the engine, and
/// the memory budget in MiB as the tool's `--memory-budget` (at least one).
fn census_options(
    nodes_count: Option<u64>,
    backend: &str,
    memory_budget_mib: Option<u64>,
    spill_dir: Option<PathBuf>,
) -> PyResult<CensusOptions> {
    let backend: Backend = backend.parse().map_err(crate::errors::to_py)?;
    Ok(CensusOptions {
        nodes_count,
        memory_budget: memory_budget_mib
            .map_or(sonata_census::census::DEFAULT_MEMORY_BUDGET, |m| {
                m.saturating_mul(1 << 20).max(1 << 20)
            }),
        spill_dir,
        backend,
        ..CensusOptions::default()
    })
}

/// One census of `count`, with what the dict adds to the tables.
struct Counted {
    census: Census,
    notes: Vec<Note>,
    restriction: Option<Restriction>,
    derived: Derived,
}

/// What `count` does without the GIL: the tool's `count` (the same checks in the same order,
/// so that the same mistakes fail before any counting), keeping every census in memory.
fn count_file(
    path: &Path,
    populations: Option<&[String]>,
    options: &CensusOptions,
    restriction: &NodeSetRestriction,
    (direction, pathways): (Direction, Option<&[String]>),
    output: Option<&Path>,
    force: bool,
) -> Result<Vec<Counted>> {
    if let Some(output) = output {
        check_output(path, output, force)?;
    }
    // A circuit config (as the tool's `count CONFIG`): every edge population of the circuit,
    // each with the size of its target node population. Without `populations`, a broken
    // population of an edge file stops the run, and the error names the others (a population
    // the caller named is not left out behind their back).
    let plan = CountPlan::new(
        &CountRequest {
            path,
            populations: populations.unwrap_or_default(),
            nodes_count: options.nodes_count,
            restriction,
            direction,
            pathways: pathways.unwrap_or_default(),
            output,
        },
        Spelling::Keywords,
    )?;
    if let Some(dir) = &options.spill_dir {
        check_spill_dir(dir)?;
    }
    // Created before counting, as the tool does: an output folder that cannot be written fails
    // now, not after hours.
    let mut writer = match output {
        Some(output) => Some(CensusWriter::create(output, force)?),
        None => None,
    };
    let mut censuses = Vec::new();
    let mut warning = software_adapter_warning(options)?;
    for w in &plan.work {
        let pop = &w.population;
        let options = &plan.options_for(w, options);
        let mut notes: Vec<Note> = warning.take().into_iter().collect();
        // In memory (never the spilled table): the caller gets the arrays. The file is the
        // same bytes either way (CensusWriter::write_spilled).
        let census = sonata_census::census::census_population_noted(
            pop,
            options,
            &Progress::hidden(),
            &mut notes,
        )
        .map_err(|e| plan.explain(pop.name(), e))?;
        let restriction = w.restricted.as_ref().map(|(_, r)| r.clone());
        let derived = w.derivation.compute(pop, &census, options.memory_budget)?;
        if let Some(writer) = writer.as_mut() {
            let record = Record {
                input: Some(Provenance::of(
                    pop,
                    TableKind::of(restriction.is_some(), direction),
                )?),
                restriction: restriction.clone(),
                direction,
            };
            writer.write_with(&census, None, &record)?;
            Derivation::write_computed(writer, pop.name(), &derived)?;
        }
        censuses.push(Counted {
            census,
            notes,
            restriction,
            derived,
        });
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(censuses)
}

/// `output` must not be the input `path` and must be free (or `force`): checked before the plan,
/// as the tool does.
fn check_output(path: &Path, output: &Path, force: bool) -> Result<()> {
    if same_file(path, output) {
        // With force the finished census would be renamed over the edge file it counted.
        return Err(Error::InvalidArgument(format!(
            "{}: the output is the input edge file (choose another output)",
            output.display()
        )));
    }
    sonata_census::outputs::check_output_path(output, force)
}

/// Shard `shard = (i, n)` of `count`'s census (the same keywords, `output` required), written as
/// the partial table file the tool's `count --shard i/N -o OUTPUT` writes, byte for byte, at
/// the shard's path (`{rank}` in `output` replaced by `i`, else `OUTPUT.shard-i-of-N.h5`).
/// Returns that path and the notes `count` would give as warnings. `direction`, `pathways`
/// and the node sets are recorded in the file, for `merge`.
#[pyfunction]
#[pyo3(signature = (path, populations, nodes_count, backend, memory_budget_mib, spill_dir, output, force, target_node_set, source_node_set, node_sets, direction, pathways, shard))]
#[allow(
    clippy::too_many_arguments,
    reason = "the keywords of sonata_census.count"
)]
pub fn count_shard(
    py: Python<'_>,
    path: PathBuf,
    populations: Option<Vec<String>>,
    nodes_count: Option<u64>,
    backend: &str,
    memory_budget_mib: Option<u64>,
    spill_dir: Option<PathBuf>,
    output: PathBuf,
    force: bool,
    target_node_set: Option<String>,
    source_node_set: Option<String>,
    node_sets: Option<PathBuf>,
    direction: &str,
    pathways: Option<Vec<String>>,
    shard: (u64, u64),
) -> PyResult<(OsString, Vec<String>)> {
    let shard = Shard::new(shard.0, shard.1).map_err(crate::errors::to_py)?;
    let options = census_options(nodes_count, backend, memory_budget_mib, spill_dir)?;
    let direction: Direction = direction.parse().map_err(crate::errors::to_py)?;
    let restriction = NodeSetRestriction {
        target_node_set,
        source_node_set,
        node_sets_file: node_sets,
    };
    let (written, notes) = detached::run(py, || {
        shard_file(
            &path,
            populations.as_deref(),
            &options,
            &restriction,
            (direction, pathways.as_deref()),
            (&output, force),
            shard,
        )
    })?;
    let notes = shown_notes(&notes).into_iter().map(String::from).collect();
    Ok((written.into_os_string(), notes))
}

/// What `count_shard` does without the GIL: the tool's `count --shard` (its checks in
/// `count_file`'s order), each population's shard written to the partial file as it is
/// counted (its connection table through the disk past
/// [`SPILL_TABLE_BYTES_ABOVE`], as the tool's: nothing of it goes back to Python). No derived
/// table is written: `merge` computes them. Returns the file written and the notes.
fn shard_file(
    path: &Path,
    populations: Option<&[String]>,
    options: &CensusOptions,
    restriction: &NodeSetRestriction,
    (direction, pathways): (Direction, Option<&[String]>),
    (output, force): (&Path, bool),
    shard: Shard,
) -> Result<(PathBuf, Vec<Note>)> {
    let output = shard.output_path(output);
    check_output(path, &output, force)?;
    let request = CountRequest {
        path,
        populations: populations.unwrap_or_default(),
        nodes_count: options.nodes_count,
        restriction,
        direction,
        pathways: pathways.unwrap_or_default(),
        output: Some(&output),
    };
    let plan = CountPlan::new(&request, Spelling::Keywords)?;
    // The request as `merge` plans the count again from it (paths made absolute).
    let header = ShardHeader::new(shard, &request)?;
    if let Some(dir) = &options.spill_dir {
        check_spill_dir(dir)?;
    }
    let mut writer = CensusWriter::create(&output, force)?;
    writer.write_shard_header(&header)?;
    let mut notes: Vec<Note> = software_adapter_warning(options)?.into_iter().collect();
    for w in &plan.work {
        let options = plan.options_for(w, options);
        let counted = sonata_census::census::shard::count_shard(
            w,
            shard,
            &options,
            &Progress::hidden(),
            &mut notes,
            Some(SPILL_TABLE_BYTES_ABOVE),
        )
        .map_err(|e| plan.explain(w.population.name(), e))?;
        writer.write_partial(&counted)?;
    }
    writer.finish()?;
    Ok((output, notes))
}

/// The partial table files `parts` (paths, or glob patterns the library expands as the tool's
/// `merge` does) merged into `output` as `sonata-census merge PARTS -o OUTPUT` writes it
/// (replacing an existing file only with `force`; the merged connection table spills to
/// `spill_dir` when large). Returns the merged populations read back from `output`, each as a
/// dict ([`census_dict`], `backend` None), in the order merged.
#[pyfunction]
#[pyo3(signature = (parts, output, force, spill_dir))]
pub fn merge(
    py: Python<'_>,
    parts: Vec<PathBuf>,
    output: PathBuf,
    force: bool,
    spill_dir: Option<PathBuf>,
) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let tables = detached::run(py, || {
        let parts = expand_parts(&parts)?;
        if let Some(dir) = &spill_dir {
            check_spill_dir(dir)?;
        }
        let options = MergeOptions {
            force,
            spill_dir,
            spelling: Spelling::Keywords,
            ..MergeOptions::default()
        };
        let merged = sonata_census::census::merge::merge(&parts, &output, &options, &|_, _| {
            Progress::hidden()
        })?;
        // Read back rather than handed over: a merged connection table that went to disk is
        // not in `merged`, and the file is what the caller asked for.
        let names: Vec<String> = merged.into_iter().map(|m| m.census.population).collect();
        read_stored(&output, Some(names))
    })?;
    stored_dicts(py, tables)
}

/// The restriction keys of a census dict: `table_kind` (`"full"`, `"restricted"` or
/// `"efferent"`: [`TableKind`]), and for a restricted census `target_node_set`,
/// `source_node_set` (None when not given) and `population_edges` (every edge of the
/// population; `edges` counts those counted).
fn set_restriction(
    d: &Bound<'_, PyDict>,
    r: Option<&Restriction>,
    kind: TableKind,
) -> PyResult<()> {
    d.set_item("table_kind", kind.as_str())?;
    d.set_item("target_node_set", r.and_then(|r| r.target_node_set.clone()))?;
    d.set_item("source_node_set", r.and_then(|r| r.source_node_set.clone()))?;
    d.set_item("population_edges", r.map(|r| r.population_edge_count))?;
    Ok(())
}

/// `backend="gpu"` takes software adapters too, which are many times slower than the CPU
/// engine: the tool's warning, given with the first census (it becomes a `RuntimeWarning`).
/// The shared context is opened here, as the census would open it.
#[cfg(feature = "gpu")]
fn software_adapter_warning(options: &CensusOptions) -> Result<Option<Note>> {
    use sonata_census::gpu::{AdapterChoice, SharedContext, shared_context};
    if options.backend != Backend::Gpu {
        return Ok(None);
    }
    Ok(match shared_context(AdapterChoice::Any)? {
        SharedContext::Ready(ctx) if ctx.is_software() => Some(Note {
            detail: false,
            kind: NoteKind::Other,
            text: format!(
                "the only GPU adapter is a software one ({}), which runs on the CPU and is many \
                 times slower than backend=\"cpu\"",
                ctx.describe()
            ),
        }),
        _ => None,
    })
}

/// Without the GPU engine there is no adapter to warn about.
#[cfg(not(feature = "gpu"))]
fn software_adapter_warning(_options: &CensusOptions) -> Result<Option<Note>> {
    Ok(None)
}

/// `spill_dir` must be a folder the run can create its spill folders in: checked before any
/// counting, with a line that names the keyword.
fn check_spill_dir(dir: &Path) -> Result<()> {
    let fail = |source: std::io::Error| Error::Io {
        path: format!("spill_dir {}", dir.display()).into(),
        source,
    };
    match std::fs::metadata(dir) {
        Err(e) => return Err(fail(e)),
        Ok(m) if !m.is_dir() => {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a folder",
            )));
        }
        Ok(_) => {}
    }
    sonata_census::outputs::probe_writable(dir).map_err(fail)
}

/// Every census population of the table file `path` (those named, in that order, when
/// `populations` is given), each as a dict ([`census_dict`], `backend` None: files do not
/// record the engine).
#[pyfunction]
#[pyo3(signature = (path, populations))]
pub fn read_tables<'py>(
    py: Python<'py>,
    path: PathBuf,
    populations: Option<Vec<String>>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let tables = detached::run(py, || read_stored(&path, populations))?;
    stored_dicts(py, tables)
}

/// One census population read from a table file: its tables, its pathway matrices and its kind.
type StoredPopulation = (PopulationTables, Vec<PathwayMatrix>, TableKind);

/// What `read_tables` (and `merge`, for the file it wrote) reads without the GIL: every census
/// population of the table file `path`, or those named in that order.
fn read_stored(path: &Path, populations: Option<Vec<String>>) -> Result<Vec<StoredPopulation>> {
    let file = CensusFile::open(path)?;
    let names = populations.unwrap_or_else(|| file.populations().to_vec());
    names
        .iter()
        .map(|n| {
            let t = stored::read(&file, path, n, ConnectionTable::Read)?;
            let pathways = stored::pathways(&file, path, n)?;
            // Files of earlier versions record no kind: what their tables say.
            let kind = match file.provenance(n)? {
                Some(p) => p.kind,
                None => TableKind::of(t.restriction.is_some(), t.direction),
            };
            Ok((t, pathways, kind))
        })
        .collect()
}

/// The populations [`read_stored`] read, as census dicts.
fn stored_dicts(py: Python<'_>, tables: Vec<StoredPopulation>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    tables
        .into_iter()
        .map(|(t, pathways, kind)| {
            let d = census_dict(py, t.census, &[], t.direction)?;
            set_restriction(&d, t.restriction.as_ref(), kind)?;
            let derived = Derived {
                efferent: t.efferent,
                pathways,
            };
            set_derived(py, &d, t.direction, derived)?;
            Ok(d)
        })
        .collect()
}

/// `sonata-census info FILE --json` (with `--no-scan` when `scan` is false), as JSON text: the
/// description of every population that could be described, the others listed in
/// `broken_populations` with their error. Fails, as the tool, when the file cannot be described
/// at all or every population is broken.
#[pyfunction]
#[pyo3(signature = (path, scan))]
pub fn info(py: Python<'_>, path: PathBuf, scan: bool) -> PyResult<String> {
    detached::run(py, || {
        let described = sonata_census::info::describe_each(&path, scan, &Progress::hidden())?;
        if described.info.populations.is_empty() && !described.errors.is_empty() {
            return described.into_result().map(|_| String::new());
        }
        serde_json::to_string(&described.info)
            .map_err(|e| Error::InvalidArgument(format!("cannot render JSON: {e}")))
    })
}

/// A census as the dict `sonata_census.Census` is made from: its counts, its order
/// (`sorted_by_target_source`, `sorted_by_target` or `unsorted`, the file attributes' words),
/// the engine (`cpu`, `gpu: ADAPTER`, or None), the tables as numpy arrays (moved, not copied),
/// and `notes`, the lines the tool would print on stderr other than its `backend:` line
/// (warnings of a GPU that failed, ...).
fn census_dict<'py>(
    py: Python<'py>,
    c: Census,
    notes: &[Note],
    direction: Direction,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("edges", c.edge_count)?;
    // Efferent-only: no per-target tables (as in the file); the connections are the
    // histogram's.
    let afferent = direction.afferent();
    let connections = if afferent {
        c.connection_count()
    } else {
        c.synapses_per_connection.iter().sum()
    };
    d.set_item("connections", connections)?;
    d.set_item("n_targets", afferent.then_some(c.n_targets))?;
    let order = if c.sortedness.by_target_source {
        "sorted_by_target_source"
    } else if c.sortedness.by_target {
        "sorted_by_target"
    } else {
        "unsorted"
    };
    d.set_item("order", order)?;
    d.set_item(
        "backend",
        match &c.backend {
            CountedBy::Unrecorded => None,
            other => Some(other.to_string()),
        },
    )?;
    d.set_item("notes", shown_notes(notes))?;
    d.set_item("population", c.population)?;
    d.set_item("source_population", c.source_population)?;
    d.set_item("target_population", c.target_population)?;
    let per_target = |v: Vec<u64>| afferent.then(|| PyArray1::from_vec(py, v));
    d.set_item("target_synapse_count", per_target(c.target_synapse_count))?;
    d.set_item(
        "target_connection_count",
        per_target(c.target_connection_count),
    )?;
    d.set_item("target_offsets", per_target(c.target_offsets))?;
    d.set_item("source_node_id", per_target(c.source_node_id))?;
    d.set_item(
        "synapse_count",
        afferent.then(|| PyArray1::from_vec(py, c.synapse_count)),
    )?;
    d.set_item(
        "synapses_per_connection",
        PyArray1::from_vec(py, c.synapses_per_connection),
    )?;
    d.set_item(
        "target_nsyns_total",
        c.target_nsyns_total
            .filter(|_| afferent)
            .map(|v| PyArray1::from_vec(py, v)),
    )?;
    Ok(d)
}

/// The notes Python is given (as `RuntimeWarning`s): the lines the tool prints on stderr at its
/// default verbosity, less its `backend:` line.
fn shown_notes(notes: &[Note]) -> Vec<&str> {
    notes
        .iter()
        .filter(|n| !n.detail && !n.is_backend())
        .map(|n| n.text.as_str())
        .collect()
}

/// The derived keys of a census dict: `direction`, `efferent` (a dict of the efferent tables,
/// or None) and `pathways` (`{attribute: dict of its matrices}`, empty when none).
fn set_derived(
    py: Python<'_>,
    d: &Bound<'_, PyDict>,
    direction: Direction,
    derived: Derived,
) -> PyResult<()> {
    d.set_item("direction", direction.as_str())?;
    d.set_item(
        "efferent",
        derived.efferent.map(|e| efferent_dict(py, e)).transpose()?,
    )?;
    let pathways = PyDict::new(py);
    for m in derived.pathways {
        let name = m.attribute.clone();
        pathways.set_item(name, pathway_dict(py, m)?)?;
    }
    d.set_item("pathways", pathways)
}

/// The efferent tables as a dict of numpy arrays named as their datasets (`connections/`
/// omitted), with `n_sources` and `n_sources_origin`.
fn efferent_dict(py: Python<'_>, e: Efferent) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("n_sources", e.n_sources)?;
    d.set_item("n_sources_origin", e.n_sources_origin)?;
    d.set_item(
        "source_synapse_count",
        PyArray1::from_vec(py, e.source_synapse_count),
    )?;
    d.set_item(
        "source_connection_count",
        PyArray1::from_vec(py, e.source_connection_count),
    )?;
    d.set_item("source_offsets", PyArray1::from_vec(py, e.source_offsets))?;
    d.set_item("target_node_id", PyArray1::from_vec(py, e.target_node_id))?;
    d.set_item("synapse_count", PyArray1::from_vec(py, e.synapse_count))?;
    Ok(d)
}

/// One attribute's pathway matrices as a dict: the values (a list of str, or an int64 array),
/// the node counts, and the `S x T` matrices as 2-D uint64 arrays.
fn pathway_dict(py: Python<'_>, m: PathwayMatrix) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let (s, t) = (m.source_values.len(), m.target_values.len());
    let values = |v: PathwayValues| -> PyResult<Bound<'_, PyAny>> {
        Ok(match v {
            PathwayValues::Strings(v) => v.into_pyobject(py)?.into_any(),
            PathwayValues::Integers(v) => PyArray1::from_vec(py, v).into_any(),
        })
    };
    let matrix = |v: Vec<u64>| -> PyResult<Bound<'_, PyArray2<u64>>> {
        PyArray1::from_vec(py, v).reshape([s, t])
    };
    d.set_item("source_values", values(m.source_values)?)?;
    d.set_item("target_values", values(m.target_values)?)?;
    d.set_item(
        "source_node_count",
        PyArray1::from_vec(py, m.source_node_count),
    )?;
    d.set_item(
        "target_node_count",
        PyArray1::from_vec(py, m.target_node_count),
    )?;
    d.set_item("synapses", matrix(m.synapses)?)?;
    d.set_item("connections", matrix(m.connections)?)?;
    d.set_item("pair_count", matrix(m.pair_count)?)?;
    Ok(d)
}
