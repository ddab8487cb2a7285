//! `sonata-census info`: what an edge file holds — populations, node populations, edge counts,
//! indices (and which spelling), edge order, attribute groups and columns with their types.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::census::sortedness::{self, Sortedness};
use crate::error::Result;
use crate::progress::Progress;
use crate::sonata::attributes::AttributeColumnInfo;
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
    /// Number of edges.
    pub edge_count: u64,
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

/// Describes `path`. With `scan`, streams each population's id columns once to find its order.
///
/// # Errors
/// Open/read errors and invalid populations (every population must have valid id columns).
pub fn describe(path: &Path, scan: bool, progress: &Progress) -> Result<FileInfo> {
    let file = EdgeFile::open(path)?;
    let mut populations = Vec::new();
    for name in file.population_names()? {
        let pop = file.population(&name)?;
        let sortedness = if scan {
            progress.phase(&format!("{name}: scanning order"), pop.size());
            let s = sortedness::scan(&pop, crate::census::DEFAULT_CHUNK_LEN)?;
            progress.inc(pop.size());
            Some(s)
        } else {
            None
        };
        let layout = pop.group_layout()?;
        populations.push(PopulationInfo {
            source_node_population: pop.source_population().unwrap_or("unknown").to_string(),
            target_node_population: pop.target_population().unwrap_or("unknown").to_string(),
            edge_count: pop.size(),
            source_node_id_dtype: pop.source_ids().dtype().to_string(),
            target_node_id_dtype: pop.target_ids().dtype().to_string(),
            target_index: index_info(&pop, IndexDirection::TargetToSource)?,
            source_index: index_info(&pop, IndexDirection::SourceToTarget)?,
            sortedness,
            explicit_groups: layout.edge_group_id.is_some() || layout.edge_group_index.is_some(),
            attribute_groups: layout.groups,
            attributes: pop.attribute_columns()?,
            name,
        });
    }
    progress.finish();
    Ok(FileInfo {
        file: path.to_path_buf(),
        populations,
    })
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
