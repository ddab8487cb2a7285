//! Counting a circuit: the edge populations of a SONATA circuit config (or of the circuit a
//! simulation config's `network` names), each with the size of its target node population.
//!
//! `count CIRCUIT_CONFIG.json` takes every edge population of `networks.edges` (or those
//! asked), in config order, and counts each with `n_targets` = the number of nodes of the node
//! population its `target_node_id` names (`node_population` attribute), read from the
//! circuit's node files. This can differ from counting the edge file alone, whose `n_targets`
//! comes from the target index or the largest target id + 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::filter::{EdgeFilter, NodeMask};
use super::provenance::Restriction;
use crate::error::{Error, Location, Result};
use crate::sonata::config::CircuitConfig;
use crate::sonata::node_sets::NodeSets;
use crate::sonata::{EdgeFile, EdgePopulation};

/// One edge population of a circuit, opened, with the size of its target node population.
#[derive(Debug, Clone)]
pub struct CircuitPopulation {
    /// The edge population (its own edge file).
    pub population: EdgePopulation,
    /// Its target node population's name.
    pub target_population: String,
    /// That node population's number of nodes: the census's `n_targets`.
    pub n_targets: u64,
    /// The source node population's name and number of nodes (the efferent tables' length),
    /// when the edge population names one the circuit has.
    pub source: Option<(String, u64)>,
}

/// Whether `path` is taken as a circuit (or simulation) config rather than an edge file: its
/// name ends in `.json` (any case), or it is a regular file whose first non-blank byte is `{`
/// (a JSON object; an HDF5 file never starts so).
pub fn is_config_path(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return true;
    }
    // Only a regular file is read (a FIFO would block; the edge-file path refuses it).
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 64];
    let Ok(n) = f.read(&mut head) else {
        return false;
    };
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Opens the edge populations of `config` to count: those `asked` (each once, in the order
/// asked), or every one in config order; each with its target node population's size.
///
/// Everything is opened and checked before any counting.
///
/// # Errors
/// [`Error::InputFile`] naming the config for a missing edge or node file;
/// [`Error::InvalidData`] for two edge populations of one name in different files, or an edge
/// population that records no target node population; [`Error::PopulationNotFound`] for an
/// asked name the circuit lacks, or a target node population the circuit's node files lack;
/// any error opening a population (a broken population stops the run).
pub fn circuit_populations(
    config: &CircuitConfig,
    asked: &[String],
) -> Result<Vec<CircuitPopulation>> {
    let refs = config.edge_populations()?;
    // One name, one file: a second population of the same name is ambiguous.
    let mut files: BTreeMap<&str, &PathBuf> = BTreeMap::new();
    for r in &refs {
        if let Some(first) = files.get(r.name.as_str()) {
            return Err(Error::invalid(
                Location::file(&config.path).dataset("networks.edges"),
                format!(
                    "two edge populations are named '{}': in {} and in {}",
                    r.name,
                    first.display(),
                    r.file.display()
                ),
            ));
        }
        files.insert(&r.name, &r.file);
    }
    let chosen: Vec<(&str, &PathBuf)> = if asked.is_empty() {
        refs.iter().map(|r| (r.name.as_str(), &r.file)).collect()
    } else {
        let mut out: Vec<(&str, &PathBuf)> = Vec::new();
        for n in asked {
            if out.iter().any(|(m, _)| m == n) {
                continue;
            }
            match files.get_key_value(n.as_str()) {
                Some((name, file)) => out.push((name, file)),
                None => {
                    return Err(Error::PopulationNotFound {
                        at: Location::file(&config.path).dataset("networks.edges"),
                        name: n.clone(),
                        available: refs.iter().map(|r| r.name.clone()).collect(),
                    });
                }
            }
        }
        out
    };
    if chosen.is_empty() {
        return Err(Error::invalid(
            Location::file(&config.path).dataset("networks.edges"),
            "the circuit has no edge population",
        ));
    }
    let mut opened: BTreeMap<&PathBuf, EdgeFile> = BTreeMap::new();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for (name, file) in chosen {
        if !opened.contains_key(file) {
            let f = EdgeFile::open(file).map_err(|e| e.named_by(&config.path))?;
            opened.insert(file, f);
        }
        let population = opened[file].population(name)?;
        let Some(target) = population.target_population().map(str::to_string) else {
            return Err(Error::invalid(
                population.location().clone(),
                format!(
                    "target_node_id has no node_population attribute: the target node \
                     population (whose size is the number of targets) is unknown (count the \
                     edge file itself instead of {})",
                    config.path.display()
                ),
            ));
        };
        let n_targets = match sizes.get(&target) {
            Some(&n) => n,
            None => {
                let n = config.open_node_population(&target)?.size();
                sizes.insert(target.clone(), n);
                n
            }
        };
        // The source node population may be outside this circuit (a projection from another
        // one): then the efferent tables are sized otherwise.
        let source = match population.source_population().map(str::to_string) {
            Some(name) if config.node_population(&name).is_ok() => {
                let n = match sizes.get(&name) {
                    Some(&n) => n,
                    None => {
                        let n = config.open_node_population(&name)?.size();
                        sizes.insert(name.clone(), n);
                        n
                    }
                };
                Some((name, n))
            }
            _ => None,
        };
        out.push(CircuitPopulation {
            population,
            target_population: target,
            n_targets,
            source,
        });
    }
    Ok(out)
}

/// The node sets a circuit census is restricted to (`count --target-node-set NAME
/// [--source-node-set NAME] [--node-sets FILE]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSetRestriction {
    /// Count only edges whose target is in this node set (of the target node population).
    pub target_node_set: Option<String>,
    /// Count only edges whose source is in this node set (of the source node population).
    pub source_node_set: Option<String>,
    /// A node-sets file laid over the circuit's (same-named sets replace); the only one when
    /// the circuit names none.
    pub node_sets_file: Option<PathBuf>,
}

impl NodeSetRestriction {
    /// Whether it restricts nothing (no node set named).
    pub fn is_empty(&self) -> bool {
        self.target_node_set.is_none() && self.source_node_set.is_none()
    }
}

/// The node sets of a circuit, read once for every population of a census.
#[derive(Debug, Clone)]
pub struct CircuitNodeSets {
    /// The sets, every file laid over the one before.
    pub sets: NodeSets,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

impl CircuitNodeSets {
    /// Reads the node sets `restriction` needs: the circuit's (and simulation's), then its
    /// `node_sets_file`. `how` names the way to give a file in the caller's words (e.g.
    /// `--node-sets FILE`), for the message when there is none.
    ///
    /// # Errors
    /// As [`NodeSets::of_circuit`].
    pub fn read(
        config: &CircuitConfig,
        restriction: &NodeSetRestriction,
        how: &str,
    ) -> Result<Self> {
        let (sets, files) =
            NodeSets::of_circuit(config, restriction.node_sets_file.as_deref(), how)?;
        Ok(CircuitNodeSets { sets, files })
    }

    /// The edge filter and the record of `restriction` for the circuit population `cp`: the
    /// target set evaluated on its target node population, the source set on its source node
    /// population.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a node set that does not exist; [`Error::InvalidData`]
    /// naming the node population when it lacks an attribute a set uses (an error here, unlike
    /// `nodes select` across a circuit), or when the source node population is not in the
    /// circuit; errors reading the node files.
    pub fn restrict(
        &self,
        config: &CircuitConfig,
        restriction: &NodeSetRestriction,
        cp: &CircuitPopulation,
    ) -> Result<(EdgeFilter, Restriction)> {
        let mut filter = EdgeFilter::default();
        if let Some(name) = &restriction.target_node_set {
            let nodes = config.open_node_population(&cp.target_population)?;
            let ids = self.sets.select(name, &nodes)?;
            filter.targets = Some(NodeMask::from_ids(&ids, nodes.size()));
        }
        if let Some(name) = &restriction.source_node_set {
            let Some((source, _)) = &cp.source else {
                return Err(Error::invalid(
                    cp.population.location().clone(),
                    format!(
                        "the source node population ({}) is not in the circuit {}: the source \
                         node set '{name}' cannot be evaluated",
                        cp.population
                            .source_population()
                            .unwrap_or("not named by the file"),
                        config.path.display()
                    ),
                ));
            };
            let nodes = config.open_node_population(source)?;
            let ids = self.sets.select(name, &nodes)?;
            filter.sources = Some(NodeMask::from_ids(&ids, nodes.size()));
        }
        let record = Restriction {
            target_node_set: restriction.target_node_set.clone(),
            source_node_set: restriction.source_node_set.clone(),
            node_sets_files: self
                .files
                .iter()
                .map(|f| {
                    f.file_name()
                        .unwrap_or(f.as_os_str())
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            population_edge_count: cp.population.size(),
        };
        Ok((filter, record))
    }
}
