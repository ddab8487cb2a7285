//! Exact dry-run statistics: what neurodamus's dry run estimates, counted exactly.
//!
//! neurodamus samples 100 of every 5000 cells per me-type, counts their synapses with
//! `get_conn_counts` and extrapolates (neurodamus-io.md §3). Here every edge population of a
//! circuit config is counted whole with the census ([`crate::census`]; the GPU engine when
//! `auto` finds one), and the per-target counts are summed per me-type of the target node
//! population ([`retrieve_unique_metypes`] over all its cells). Memory uses neurodamus's
//! `SynapseMemoryUsage`: 1.9 KB per chemical synapse, 2.0 KB per gap junction (config
//! population `type` `electrical`), MiB = KB / 1024 as neurodamus prints them.
//!
//! Per rank: the synapse memory of each rank's cells under neurodamus's round-robin split
//! (`split_round_robin(all cells, N, rank)`, cell by cell) and under the dry-run split
//! (`dry_run_distribution` of whole me-type bundles).

use serde::Serialize;

use crate::census::{CensusOptions, census_population_noted};
use crate::error::Result;
use crate::progress::Progress;
use crate::sonata::EdgeFile;
use crate::sonata::config::CircuitConfig;
use crate::sonata::node_sets::{NodeSets, Selected};
use crate::sonata::nodes::{NodeFile, NodePopulation};

use super::cell_readers::distribution::{
    Metypes, dry_run_distribution, retrieve_unique_metypes, split_round_robin,
};

/// KB per chemical synapse (neurodamus `SynapseMemoryUsage`, `ConnectionTypes.Synaptic`).
pub const CHEMICAL_SYNAPSE_KB: f64 = 1.9;
/// KB per gap junction (neurodamus `SynapseMemoryUsage`, `ConnectionTypes.GapJunction`).
pub const GAP_JUNCTION_KB: f64 = 2.0;

/// Exact totals of one me-type of the target population of one edge population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetypeStats {
    /// `"{mtype}-{etype}"`.
    pub metype: String,
    /// Cells of this me-type.
    pub cells: u64,
    /// Afferent synapses of these cells in this edge population.
    pub synapses: u64,
    /// Afferent connections (distinct sources per cell).
    pub connections: u64,
    /// `synapses / cells` (neurodamus's `metype_cell_syn_average`, exact).
    pub synapses_per_cell: f64,
    /// `connections / cells`.
    pub connections_per_cell: f64,
    /// `synapses × KB per synapse / 1024`.
    pub synapse_memory_mib: f64,
}

/// Exact totals of one edge population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgePopulationStats {
    /// The edge population.
    pub edge_population: String,
    /// Its file.
    pub edges_file: String,
    /// `"Synaptic"` or `"GapJunction"` (from the config population `type`).
    pub connection_type: String,
    /// KB per synapse used for memory.
    pub synapse_kb: f64,
    /// Source node population (`"unknown"` when the file does not say).
    pub source_population: String,
    /// Target node population.
    pub target_population: String,
    /// Cells of the target population.
    pub target_cells: u64,
    /// Synapses (edges).
    pub synapses: u64,
    /// Connections (distinct (source, target) pairs).
    pub connections: u64,
    /// `synapses × synapse_kb / 1024`.
    pub synapse_memory_mib: f64,
    /// The census engine that counted.
    pub backend: String,
    /// Per me-type totals, first-seen order; empty when the target population is not in the
    /// config's node networks or has no `mtype` / `etype` (see `note`).
    pub metypes: Vec<MetypeStats>,
    /// Why `metypes` is empty, when it is.
    pub note: Option<String>,
}

/// Synapse memory of one rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankStats {
    /// The rank.
    pub rank: u64,
    /// Cells of every node population on this rank.
    pub cells: u64,
    /// Afferent synapses of those cells, all edge populations.
    pub synapses: u64,
    /// Their memory in MiB.
    pub synapse_memory_mib: f64,
}

/// The result of [`dry_run_stats`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DryRunStats {
    /// The circuit config.
    pub config: String,
    /// The simulation config whose `network` named the circuit config, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulation_config: Option<String>,
    /// Number of ranks of the per-rank tables.
    pub ranks: u64,
    /// Every edge population of the config, in config order.
    pub populations: Vec<EdgePopulationStats>,
    /// Synapses of all populations.
    pub total_synapses: u64,
    /// Connections of all populations.
    pub total_connections: u64,
    /// Synapse memory of all populations, MiB.
    pub total_synapse_memory_mib: f64,
    /// Per rank, cell-by-cell round robin (`split_round_robin`), as normal runs distribute.
    pub ranks_round_robin: Vec<RankStats>,
    /// Per rank, whole me-type bundles round robin (`dry_run_distribution`), as the dry run
    /// distributes.
    pub ranks_metype_bundles: Vec<RankStats>,
    /// Lines worth logging (engine choice, fallbacks).
    pub notes: Vec<String>,
}

/// Per target population: size, me-types (if readable) and per-cell synapse memory (KB).
struct TargetAcc {
    name: String,
    size: u64,
    /// The cells instantiated: the simulation's node_set, else every cell (sorted).
    cells: Vec<u64>,
    metypes: Option<Metypes>,
    synapses: Vec<u64>,
    memory_kb: Vec<f64>,
}

/// Counts every edge population of `config` exactly and sums per me-type and per rank.
///
/// # Errors
/// Config, node and edge file errors, census errors (a target id at or beyond the target
/// population's size included), `ranks` of 0.
pub fn dry_run_stats(
    config: &CircuitConfig,
    ranks: u64,
    options: &CensusOptions,
    progress: &Progress,
) -> Result<DryRunStats> {
    if ranks == 0 {
        return Err(crate::Error::InvalidArgument(
            "the number of ranks must be at least 1".into(),
        ));
    }
    let node_pops = config.node_populations()?;
    let edge_refs = config.edge_populations()?;
    if edge_refs.is_empty() {
        return Err(crate::Error::invalid(
            crate::Location::file(&config.path).dataset("networks.edges"),
            "names no edge population: a dry run has no synapses to count",
        ));
    }
    let mut targets: Vec<TargetAcc> = Vec::new();
    let mut populations = Vec::new();
    let mut notes = Vec::new();
    // The simulation's node_set: only its cells are instantiated, so only their afferent
    // synapses count (every cell of the circuit without one).
    let node_set = simulation_node_sets(config)?;
    let mut backend_once = crate::census::BackendOnce::default();
    for edge_ref in edge_refs {
        let file = EdgeFile::open(&edge_ref.file).map_err(|e| e.named_by(&config.path))?;
        let pop = file.population(&edge_ref.name)?;
        let (connection_type, kb) = match edge_ref.kind.as_deref() {
            Some("electrical") => ("GapJunction", GAP_JUNCTION_KB),
            _ => ("Synaptic", CHEMICAL_SYNAPSE_KB),
        };
        let target_name = pop.target_population().map(str::to_string);
        let node_ref = target_name
            .as_ref()
            .and_then(|t| node_pops.iter().find(|p| &p.name == t));
        // The target population's size fixes the census's target space when known.
        let mut slot: Option<usize> = None;
        let mut note = None;
        if let Some(node_ref) = node_ref {
            match targets.iter().position(|t| t.name == node_ref.name) {
                Some(i) => slot = Some(i),
                None => {
                    let nodes = NodeFile::open(&node_ref.file)
                        .map_err(|e| e.named_by(&config.path))?
                        .population(&node_ref.name)?;
                    let cells: Vec<u64> = match &node_set {
                        None => (0..nodes.size()).collect(),
                        Some((name, sets)) => {
                            let (chosen, line) = node_set_cells(name, sets, &nodes)?;
                            notes.push(line);
                            chosen
                        }
                    };
                    let metypes = match retrieve_unique_metypes(&nodes, &cells, &[]) {
                        Ok(m) => Some(m),
                        Err(e) => {
                            note = Some(format!("no me-types: {e}"));
                            None
                        }
                    };
                    targets.push(TargetAcc {
                        name: node_ref.name.clone(),
                        size: nodes.size(),
                        cells,
                        metypes,
                        synapses: vec![0; nodes.size() as usize],
                        memory_kb: vec![0.0; nodes.size() as usize],
                    });
                    slot = Some(targets.len() - 1);
                }
            }
        } else {
            note = Some(match &target_name {
                Some(t) => format!("target population '{t}' is not in the config's node networks"),
                None => "the edge file does not name its target population".to_string(),
            });
        }
        let mut census_options = options.clone();
        if let Some(i) = slot {
            census_options.nodes_count = Some(targets[i].size);
        }
        let mut census_notes = Vec::new();
        let census = census_population_noted(&pop, &census_options, progress, &mut census_notes)?;
        for n in census_notes.into_iter().filter(|n| !n.detail) {
            // The backend line once, and again when the choice changes (as `count`).
            if !backend_once.show(&n) {
                continue;
            }
            if n.is_backend() {
                notes.push(n.text);
            } else {
                notes.push(format!("{}: {}", edge_ref.name, n.text));
            }
        }
        let mut synapses = census.edge_count;
        let mut connections = census.connection_count();
        let mut metypes = Vec::new();
        if let Some(i) = slot {
            let acc = &mut targets[i];
            if node_set.is_some() {
                // Afferent synapses of the instantiated cells only.
                let sum = |v: &[u64]| -> u64 {
                    acc.cells
                        .iter()
                        .map(|&g| v.get(g as usize).copied().unwrap_or(0))
                        .sum()
                };
                synapses = sum(&census.target_synapse_count);
                connections = sum(&census.target_connection_count);
            }
            for &t in &acc.cells {
                let t = t as usize;
                let s = census.target_synapse_count.get(t).copied().unwrap_or(0);
                if let (Some(a), Some(m)) = (acc.synapses.get_mut(t), acc.memory_kb.get_mut(t)) {
                    *a += s;
                    *m += s as f64 * kb;
                }
            }
            if let Some(m) = &acc.metypes {
                for (metype, gids) in &m.gids {
                    let sum = |v: &[u64]| -> u64 {
                        gids.iter()
                            .map(|&g| v.get(g as usize).copied().unwrap_or(0))
                            .sum()
                    };
                    let s = sum(&census.target_synapse_count);
                    let c = sum(&census.target_connection_count);
                    let cells = gids.len() as u64;
                    metypes.push(MetypeStats {
                        metype: metype.clone(),
                        cells,
                        synapses: s,
                        connections: c,
                        synapses_per_cell: s as f64 / cells.max(1) as f64,
                        connections_per_cell: c as f64 / cells.max(1) as f64,
                        synapse_memory_mib: s as f64 * kb / 1024.0,
                    });
                }
            } else if note.is_none() {
                note = Some("the target population's me-types could not be read".into());
            }
        }
        populations.push(EdgePopulationStats {
            edge_population: edge_ref.name.clone(),
            edges_file: edge_ref.file.display().to_string(),
            connection_type: connection_type.into(),
            synapse_kb: kb,
            source_population: census
                .source_population
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            target_population: target_name.unwrap_or_else(|| "unknown".into()),
            target_cells: slot.map_or(census.n_targets, |i| targets[i].cells.len() as u64),
            synapses,
            connections,
            synapse_memory_mib: synapses as f64 * kb / 1024.0,
            backend: census.backend.to_string(),
            metypes,
            note,
        });
    }
    let ranks_round_robin = per_rank(&targets, ranks, |acc, r| round_robin(acc, ranks, r));
    let ranks_metype_bundles = per_rank(&targets, ranks, |acc, r| match &acc.metypes {
        Some(m) => dry_run_distribution(&m.bundles(), ranks, r).unwrap_or_default(),
        // Without me-types every cell is its own bundle: the round robin again.
        None => round_robin(acc, ranks, r),
    });
    Ok(DryRunStats {
        config: config.path.display().to_string(),
        simulation_config: config
            .simulation
            .as_ref()
            .map(|s| s.path.display().to_string()),
        ranks,
        total_synapses: populations.iter().map(|p| p.synapses).sum(),
        total_connections: populations.iter().map(|p| p.connections).sum(),
        total_synapse_memory_mib: sum_mib(populations.iter().map(|p| p.synapse_memory_mib)),
        populations,
        ranks_round_robin,
        ranks_metype_bundles,
        notes,
    })
}

/// neurodamus's cell-by-cell round robin of the instantiated cells of `acc` for rank `r`.
fn round_robin(acc: &TargetAcc, ranks: u64, r: u64) -> Vec<u64> {
    if acc.cells.len() as u64 == acc.size {
        split_round_robin(None, ranks, r, Some(acc.size)).unwrap_or_default()
    } else {
        split_round_robin(Some(&acc.cells), ranks, r, None).unwrap_or_default()
    }
}

/// The simulation's `node_set` with the node sets it is evaluated in: the circuit's
/// `node_sets_file` overlaid by the simulation's (same-named sets replace), as `nodes select`
/// does. `None` when there is no simulation config or it names no `node_set`.
///
/// # Errors
/// A `node_set` while neither config names a node-sets file, or one the files lack
/// ([`crate::Error::InvalidArgument`]); errors reading the node-sets files (naming the config).
fn simulation_node_sets(config: &CircuitConfig) -> Result<Option<(String, NodeSets)>> {
    let Some(sim) = &config.simulation else {
        return Ok(None);
    };
    let Some(name) = &sim.node_set else {
        return Ok(None);
    };
    let mut sets: Option<NodeSets> = None;
    for (file, named_by) in config
        .node_sets_file
        .iter()
        .map(|f| (f, &config.path))
        .chain(sim.node_sets_file.iter().map(|f| (f, &sim.path)))
    {
        let next = NodeSets::from_file(file).map_err(|e| e.named_by(named_by))?;
        sets = Some(match sets {
            Some(s) => s.merged_with(&next)?,
            None => next,
        });
    }
    let Some(sets) = sets else {
        return Err(crate::Error::InvalidArgument(format!(
            "{}: node_set '{name}' needs a node_sets_file, and neither it nor {} names one",
            sim.path.display(),
            config.path.display()
        )));
    };
    if sets.get(name).is_none() {
        // The error of `select` (which lists the sets), naming the simulation config.
        let e = sets
            .select_all(name, &[])
            .err()
            .map_or_else(|| format!("no node set '{name}'"), |e| e.to_string());
        return Err(crate::Error::InvalidArgument(format!(
            "{}: node_set: {e}",
            sim.path.display()
        )));
    }
    Ok(Some((name.clone(), sets)))
}

/// The cells of `nodes` in node set `name` (none when the population lacks an attribute the
/// set uses, as neurodamus skips it), with the line for the notes.
///
/// # Errors
/// Errors evaluating the node set other than a missing attribute.
fn node_set_cells(
    name: &str,
    sets: &NodeSets,
    nodes: &NodePopulation,
) -> Result<(Vec<u64>, String)> {
    let outcome = sets
        .select_all(name, std::slice::from_ref(nodes))?
        .pop()
        .map(|(_, o)| o);
    Ok(match outcome {
        Some(Selected::Ids(ids)) => {
            let line = format!(
                "node_set '{name}': {} of {} cells of population '{}'",
                ids.len(),
                nodes.size(),
                nodes.name()
            );
            (ids, line)
        }
        Some(Selected::Skipped(warning)) => (Vec::new(), format!("warning: {warning}")),
        None => (
            Vec::new(),
            format!("node_set '{name}': no cells of '{}'", nodes.name()),
        ),
    })
}

/// The sum of non-negative amounts, `0.0` for none (`Iterator::sum` of `f64` starts at `-0.0`,
/// which prints as `-0.000` and `-0.0` in JSON).
fn sum_mib(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |a, b| a + b)
}

fn per_rank(
    targets: &[TargetAcc],
    ranks: u64,
    cells_of: impl Fn(&TargetAcc, u64) -> Vec<u64>,
) -> Vec<RankStats> {
    (0..ranks)
        .map(|r| {
            let mut stats = RankStats {
                rank: r,
                cells: 0,
                synapses: 0,
                synapse_memory_mib: 0.0,
            };
            let mut kb = 0.0;
            for acc in targets {
                for g in cells_of(acc, r) {
                    stats.cells += 1;
                    stats.synapses += acc.synapses.get(g as usize).copied().unwrap_or(0);
                    kb += acc.memory_kb.get(g as usize).copied().unwrap_or(0.0);
                }
            }
            stats.synapse_memory_mib = kb / 1024.0;
            stats
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_of_nothing_are_positive_zero() {
        let none = sum_mib(std::iter::empty());
        assert!(none == 0.0 && none.is_sign_positive(), "{none}");
        assert_eq!(format!("{none:.3}"), "0.000");
        assert_eq!(sum_mib([0.5, 0.25].into_iter()), 0.75);
    }
}
