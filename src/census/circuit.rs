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

use crate::error::{Error, Location, Result};
use crate::sonata::config::CircuitConfig;
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
        out.push(CircuitPopulation {
            population,
            target_population: target,
            n_targets,
        });
    }
    Ok(out)
}
