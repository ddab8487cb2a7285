//! `sonata-census info`: what an edge file holds — populations, node populations, edge counts
//! (and synapses, where bmtk `nsyns` makes a row stand for several), indices (and which
//! spelling), edge order, attribute groups and columns with their types.
//! Describing is also checking: a file whose ids, indices or attribute row counts are broken is
//! an error naming the dataset, not a description (the id and index rows are read unless
//! `scan` is off).

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
    /// Its edge populations, sorted by name.
    pub populations: Vec<PopulationInfo>,
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
    let file = EdgeFile::open(path)?;
    let mut populations = Vec::new();
    for name in file.population_names()? {
        let pop = file.population(&name)?;
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
        populations.push(PopulationInfo {
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
            name,
        });
    }
    progress.finish();
    Ok(FileInfo {
        file: path.to_path_buf(),
        populations,
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
                "the target index (indices/target_to_source)",
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
                    "target node id {max} is beyond the {} nodes of {}/{}",
                    index.node_count(),
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
                    "has {} rows but the population has {} edges",
                    c.rows,
                    pop.size()
                ),
            ));
        }
    }
    Ok(())
}

/// Renders `info` as the text the CLI prints.
pub fn render_text(info: &FileInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} edge population(s)",
        info.file.display(),
        info.populations.len()
    );
    for p in &info.populations {
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
                        "  {label}: {} nodes, {} ranges ({})",
                        ix.nodes, ix.ranges, ix.spelling
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
                "    {}/{:<28} {:<24} {} rows{kind}",
                c.group, c.name, c.dtype, c.rows
            );
        }
    }
    s
}
