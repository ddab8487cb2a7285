//! `sonata-census info`: what an edge file holds — populations, node populations, edge counts
//! (and synapses, where bmtk `nsyns` makes a row stand for several), indices (and which
//! spelling), edge order, attribute groups and columns with their types.
//! Describing is also checking: a population whose ids, indices or attribute row counts are
//! broken is an error naming the dataset (the id and index rows are read unless `scan` is off).
//! [`describe`] fails on the first such population; [`describe_each`] describes every other one
//! and records the broken ones with their error, so that one bad population does not hide the
//! good ones.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::census::sortedness::{Sortedness, SortednessTracker};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sonata::attributes::{AttributeColumnInfo, AttributeKind, NsynsReader};
use crate::sonata::index::{EdgeIndex, IndexDirection, IndexSpelling};
use crate::sonata::{EdgeFile, EdgePopulation};

/// Description of an edge file.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// The file.
    pub file: PathBuf,
    /// Its edge populations, sorted by name (those that could be described).
    pub populations: Vec<PopulationInfo>,
    /// Populations that could not be described, sorted by name, with their error (only from
    /// [`describe_each`]; [`describe`] fails instead).
    pub broken_populations: Vec<BrokenPopulation>,
    /// The HDF5 library release that read the file (`2.2.0`): whether a damaged file crashes
    /// it depends on the release.
    pub hdf5_version: String,
}

/// A population that could not be described.
#[derive(Debug, Clone, Serialize)]
pub struct BrokenPopulation {
    /// Population name.
    pub name: String,
    /// The error, as the command-line tool prints it (file, population, dataset, what).
    pub error: String,
}

/// What [`describe_each`] found: the description, and the error of each broken population
/// (in the order of [`FileInfo::broken_populations`]).
#[derive(Debug)]
pub struct Described {
    /// The description (broken populations listed with their message).
    pub info: FileInfo,
    /// The errors of the broken populations.
    pub errors: Vec<Error>,
}

impl Described {
    /// The description when every population was described, else the error of the first broken
    /// one (when there are several, it says how many more and names them).
    ///
    /// # Errors
    /// As described.
    pub fn into_result(self) -> Result<FileInfo> {
        let mut errors = self.errors.into_iter();
        let Some(first) = errors.next() else {
            return Ok(self.info);
        };
        let others: Vec<String> = self
            .info
            .broken_populations
            .iter()
            .skip(1)
            .map(|b| format!("'{}'", b.name))
            .collect();
        if others.is_empty() {
            return Err(first);
        }
        Err(first.with_note(&format!(
            "and {}: {}",
            crate::words::plural(others.len() as u64, "more broken population"),
            others.join(", ")
        )))
    }
}

/// Description of one edge population.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationInfo {
    /// Population name.
    pub name: String,
    /// Source node population (`"unknown"` when the file does not record it).
    pub source_node_population: String,
    /// Target node population (`"unknown"` when the file does not record it).
    pub target_node_population: String,
    /// Number of edges (edge rows).
    pub edge_count: u64,
    /// bmtk `nsyns` (an edge row stands for `nsyns` synapses), when a group has the column.
    pub nsyns: Option<NsynsInfo>,
    /// Stored type of `source_node_id`.
    pub source_node_id_dtype: String,
    /// Stored type of `target_node_id`.
    pub target_node_id_dtype: String,
    /// `indices/target_to_source`, when present.
    pub target_index: Option<IndexInfo>,
    /// `indices/source_to_target`, when present.
    pub source_index: Option<IndexInfo>,
    /// Edge order found by scanning the id columns (`None` with `--no-scan`).
    pub sortedness: Option<Sortedness>,
    /// Attribute groups (`"0"`, `"1"`, ...).
    pub attribute_groups: Vec<String>,
    /// Whether `edge_group_id` / `edge_group_index` are present.
    pub explicit_groups: bool,
    /// Every attribute column of every group.
    pub attributes: Vec<AttributeColumnInfo>,
}

/// The bmtk `nsyns` columns of a population.
#[derive(Debug, Clone, Serialize)]
pub struct NsynsInfo {
    /// The columns, as `GROUP/nsyns`.
    pub columns: Vec<String>,
    /// Synapses: the sum of `nsyns` over every edge (edges of a group without the column count
    /// 1); `None` when not scanned.
    pub synapses: Option<u64>,
}

/// Description of one index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexInfo {
    /// Name of the per-node dataset (`node_id_to_ranges`, or bmtk's `node_id_to_range`).
    pub spelling: String,
    /// Rows of the per-node dataset (node count).
    pub nodes: u64,
    /// Rows of `range_to_edge_id`.
    pub ranges: u64,
}

fn index_info(pop: &EdgePopulation, dir: IndexDirection) -> Result<Option<IndexInfo>> {
    Ok(EdgeIndex::open(pop, dir)?.map(|ix| IndexInfo {
        spelling: match ix.spelling() {
            IndexSpelling::Sonata => IndexSpelling::Sonata.dataset_name().to_string(),
            IndexSpelling::Bmtk => IndexSpelling::Bmtk.dataset_name().to_string(),
        },
        nodes: ix.node_count(),
        ranges: ix.range_count(),
    }))
}

/// Describes `path`. With `scan`, streams each population's id columns once to find its order,
/// and checks the data it read: negative ids, every row of both indices, target ids within the
/// target index.
///
/// # Errors
/// Open/read errors and invalid populations (every population must have valid id columns;
/// without `edge_group_id`, attribute columns must have a row per edge).
pub fn describe(path: &Path, scan: bool, progress: &Progress) -> Result<FileInfo> {
    describe_each(path, scan, progress)?.into_result()
}

/// [`describe`], but a population that cannot be described (missing or broken id columns,
/// indices, attribute columns) does not stop the others: it goes to
/// [`FileInfo::broken_populations`] with its message and to [`Described::errors`]
/// ([`Described::into_result`] turns them back into one error).
///
/// # Errors
/// Errors of the file itself: it cannot be opened, is not HDF5, has no `/edges` group.
pub fn describe_each(path: &Path, scan: bool, progress: &Progress) -> Result<Described> {
    let file = EdgeFile::open(path)?;
    let mut populations = Vec::new();
    let mut broken_populations = Vec::new();
    let mut errors = Vec::new();
    for name in file.population_names()? {
        match describe_population(&file, &name, scan, progress) {
            Ok(p) => populations.push(p),
            // An interrupted run is not a broken population.
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => {
                broken_populations.push(BrokenPopulation {
                    name,
                    error: e.to_string(),
                });
                errors.push(e);
            }
        }
    }
    progress.finish();
    Ok(Described {
        info: FileInfo {
            file: path.to_path_buf(),
            populations,
            broken_populations,
            hdf5_version: hdf5_version(),
        },
        errors,
    })
}

fn describe_population(
    file: &EdgeFile,
    name: &str,
    scan: bool,
    progress: &Progress,
) -> Result<PopulationInfo> {
    let pop = file.population(name)?;
    let sortedness = if scan {
        progress.phase(&format!("{name}: scanning order"), pop.size());
        Some(scan_population(&pop, progress)?)
    } else {
        None
    };
    let layout = pop.group_layout()?;
    let explicit_groups = layout.edge_group_id.is_some() || layout.edge_group_index.is_some();
    let attributes = pop.attribute_columns()?;
    if !explicit_groups {
        check_implicit_rows(&pop, &attributes)?;
    }
    let nsyns = nsyns_info(&pop, &attributes, scan, progress)?;
    Ok(PopulationInfo {
        source_node_population: pop.source_population().unwrap_or("unknown").to_string(),
        target_node_population: pop.target_population().unwrap_or("unknown").to_string(),
        edge_count: pop.size(),
        nsyns,
        source_node_id_dtype: pop.source_ids().dtype().to_string(),
        target_node_id_dtype: pop.target_ids().dtype().to_string(),
        target_index: index_info(&pop, IndexDirection::TargetToSource)?,
        source_index: index_info(&pop, IndexDirection::SourceToTarget)?,
        sortedness,
        explicit_groups,
        attribute_groups: layout.groups,
        attributes,
        name: name.to_string(),
    })
}

/// Reads both id columns whole (negative ids are errors), finds the edge order, and checks the
/// indices: every row of both (inverted or out-of-bounds ranges are errors) and that no target
/// id reaches past the target index's node count.
fn scan_population(pop: &EdgePopulation, progress: &Progress) -> Result<Sortedness> {
    let mut tracker = SortednessTracker::default();
    let mut max_target: Option<u64> = None;
    let mut chunks = pop.id_chunks(crate::census::DEFAULT_CHUNK_LEN);
    while let Some(chunk) = chunks.next_chunk()? {
        tracker.feed(chunk.sources, chunk.targets);
        if let Some(&m) = chunk.targets.iter().max() {
            max_target = Some(max_target.map_or(m, |x| x.max(m)));
        }
        progress.inc(chunk.targets.len() as u64);
    }
    for direction in [
        IndexDirection::TargetToSource,
        IndexDirection::SourceToTarget,
    ] {
        let Some(index) = EdgeIndex::open(pop, direction)? else {
            continue;
        };
        if direction == IndexDirection::TargetToSource {
            // A node count no census could hold (a declared but never written dataset) is
            // refused before its rows are streamed.
            crate::census::limits::check_target_count(
                pop,
                index.node_count(),
                crate::census::TargetOrigin::TargetIndex,
            )?;
        }
        index.validate()?;
        if direction == IndexDirection::TargetToSource
            && let Some(max) = max_target
            && max >= index.node_count()
        {
            return Err(Error::invalid(
                pop.target_ids().location().clone(),
                format!(
                    "target node id {max} is beyond the {} of {}/{}",
                    crate::words::plural(index.node_count(), "node"),
                    direction.group_path(),
                    index.spelling().dataset_name()
                ),
            ));
        }
    }
    Ok(tracker.result())
}

/// The `nsyns` columns of `pop` and, with `scan`, their sum over every edge.
fn nsyns_info(
    pop: &EdgePopulation,
    attributes: &[AttributeColumnInfo],
    scan: bool,
    progress: &Progress,
) -> Result<Option<NsynsInfo>> {
    let columns: Vec<String> = attributes
        .iter()
        .filter(|c| c.kind == AttributeKind::Plain && c.name == crate::sonata::schema::NSYNS)
        .map(|c| format!("{}/{}", c.group, c.name))
        .collect();
    if columns.is_empty() {
        return Ok(None);
    }
    if !scan {
        return Ok(Some(NsynsInfo {
            columns,
            synapses: None,
        }));
    }
    let Some(mut reader) = NsynsReader::open(pop)? else {
        return Ok(None);
    };
    progress.phase(&format!("{}: summing nsyns", pop.name()), pop.size());
    let chunk = crate::census::DEFAULT_CHUNK_LEN as u64;
    let mut buffer = Vec::new();
    let mut total: u128 = 0;
    let mut first = 0u64;
    while first < pop.size() {
        let n = chunk.min(pop.size() - first);
        buffer.resize(n as usize, 0);
        reader.read_range_into(first, &mut buffer)?;
        total += buffer.iter().map(|&x| u128::from(x)).sum::<u128>();
        progress.inc(n);
        first += n;
    }
    let synapses = u64::try_from(total).map_err(|_| {
        Error::invalid(
            pop.location().clone(),
            format!("nsyns sums to {total}, more than 2^64 - 1"),
        )
    })?;
    Ok(Some(NsynsInfo {
        columns,
        synapses: Some(synapses),
    }))
}

/// Without `edge_group_id` / `edge_group_index`, row `i` of every attribute column is edge `i`:
/// a column shorter than the population is an error.
fn check_implicit_rows(pop: &EdgePopulation, columns: &[AttributeColumnInfo]) -> Result<()> {
    for c in columns {
        if c.rows < pop.size() {
            let path = match c.kind {
                AttributeKind::Dynamics => format!("{}/dynamics_params/{}", c.group, c.name),
                _ => format!("{}/{}", c.group, c.name),
            };
            return Err(Error::invalid(
                pop.location().dataset(&path),
                format!(
                    "has {} but the population has {}",
                    crate::words::plural(c.rows, "row"),
                    crate::words::plural(pop.size(), "edge")
                ),
            ));
        }
    }
    Ok(())
}

/// Renders `info` as the text the CLI prints.
pub fn render_text(info: &FileInfo) -> String {
    let mut s = String::new();
    let total = (info.populations.len() + info.broken_populations.len()) as u64;
    let broken = if info.broken_populations.is_empty() {
        String::new()
    } else {
        format!(" ({} broken)", info.broken_populations.len())
    };
    let _ = writeln!(
        s,
        "{}: {}{broken}",
        info.file.display(),
        crate::words::plural(total, "edge population"),
    );
    // Populations in name order, the broken ones in their place with their error.
    enum Entry<'a> {
        Good(&'a PopulationInfo),
        Broken(&'a BrokenPopulation),
    }
    let mut entries: Vec<(&str, Entry)> = info
        .populations
        .iter()
        .map(|p| (p.name.as_str(), Entry::Good(p)))
        .chain(
            info.broken_populations
                .iter()
                .map(|b| (b.name.as_str(), Entry::Broken(b))),
        )
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (_, entry) in entries {
        let p = match entry {
            Entry::Good(p) => p,
            Entry::Broken(b) => {
                // The error names the file and population the heading already gives.
                let prefix = format!("{}, population '{}'", info.file.display(), b.name);
                let what = b
                    .error
                    .strip_prefix(&prefix)
                    .and_then(|r| r.strip_prefix(", ").or_else(|| r.strip_prefix(": ")))
                    .unwrap_or(&b.error);
                let _ = writeln!(s, "\n{}", b.name);
                let _ = writeln!(s, "  error:        {what}");
                continue;
            }
        };
        let _ = writeln!(s, "\n{}", p.name);
        let _ = writeln!(
            s,
            "  nodes:        {} -> {}",
            p.source_node_population, p.target_node_population
        );
        let _ = writeln!(s, "  edges:        {}", p.edge_count);
        if let Some(n) = &p.nsyns {
            // bmtk: a row stands for nsyns synapses; the census tables count rows.
            let columns = n.columns.join(", ");
            let _ = match n.synapses {
                Some(v) => writeln!(
                    s,
                    "  synapses:     {v} (sum of bmtk nsyns in {columns}; the census tables count edge rows)"
                ),
                None => writeln!(
                    s,
                    "  synapses:     not summed (--no-scan); bmtk nsyns in {columns} (the census tables count edge rows)"
                ),
            };
        }
        let _ = writeln!(
            s,
            "  id dtypes:    source_node_id {}, target_node_id {}",
            p.source_node_id_dtype, p.target_node_id_dtype
        );
        for (label, ix) in [
            ("target index", &p.target_index),
            ("source index", &p.source_index),
        ] {
            match ix {
                Some(ix) => {
                    let _ = writeln!(
                        s,
                        "  {label}: {}, {} ({})",
                        crate::words::plural(ix.nodes, "node"),
                        crate::words::plural(ix.ranges, "range"),
                        ix.spelling
                    );
                }
                None => {
                    let _ = writeln!(s, "  {label}: absent");
                }
            }
        }
        let order = match p.sortedness {
            Some(Sortedness {
                by_target_source: true,
                ..
            }) => "sorted by (target, source)",
            Some(Sortedness {
                by_target: true, ..
            }) => "sorted by target",
            Some(_) => "unsorted",
            None => "not scanned",
        };
        let _ = writeln!(s, "  order:        {order}");
        let groups = if p.attribute_groups.is_empty() {
            "none".to_string()
        } else {
            p.attribute_groups.join(", ")
        };
        let explicit = if p.explicit_groups {
            " (edge_group_id / edge_group_index)"
        } else {
            ""
        };
        let _ = writeln!(s, "  groups:       {groups}{explicit}");
        for c in &p.attributes {
            let kind = match c.kind {
                crate::sonata::attributes::AttributeKind::Plain => "",
                crate::sonata::attributes::AttributeKind::Library => " [@library]",
                crate::sonata::attributes::AttributeKind::Dynamics => " [dynamics_params]",
            };
            let _ = writeln!(
                s,
                "    {}/{:<28} {:<24} {}{kind}",
                c.group,
                c.name,
                c.dtype,
                crate::words::plural(c.rows, "row")
            );
        }
    }
    let _ = writeln!(s, "\nread with HDF5 {}", info.hdf5_version);
    s
}

/// The release of the HDF5 library this build reads with, `major.minor.micro`.
pub fn hdf5_version() -> String {
    let (major, minor, micro) = hdf5::library_version();
    format!("{major}.{minor}.{micro}")
}
