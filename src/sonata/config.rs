//! SONATA `circuit_config.json`: node and edge networks, their files and populations, with
//! `manifest` variables substituted and relative paths resolved (sonata-format.md §1.5); and the
//! step from a simulation config to the circuit config its `network` key names.
//!
//! Rules (libsonata's `config.cpp`):
//! - `manifest` maps `$NAME` to a path. A value may use other variables (resolved recursively,
//!   cycles are an error). Values are text: they are substituted first, and the path that
//!   results is resolved **once**, against the config file's folder (`"."` and `"./"` are that
//!   folder; an absolute value stays absolute).
//! - In `nodes_file`, `edges_file`, `node_types_file`, `edge_types_file` and a simulation
//!   config's `network`, every path component that is a `$NAME` is replaced by its text; a path
//!   that is still relative is joined to the config file's folder and normalised lexically.
//! - `populations` is optional (Allen configs omit it): [`CircuitConfig::node_populations`] and
//!   [`CircuitConfig::edge_populations`] then open the file and list its populations.
//!   Populations of an entry keep the config file's order.
//! - A file without `networks` is not a circuit config. When it has `network` or `run` it is a
//!   simulation config: [`CircuitConfig::open`] follows `network` (default
//!   `circuit_config.json`, as libsonata's `SimulationConfig`) relative to the simulation
//!   config's folder, as neurodamus does, and records the simulation config and its `node_set`
//!   in [`CircuitConfig::simulation`].

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Location, Result};
use crate::sonata::EdgeFile;

use super::nodes::NodeFile;

/// One entry of `networks.nodes` or `networks.edges`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkEntry {
    /// `nodes_file` / `edges_file`, resolved.
    pub file: PathBuf,
    /// `node_types_file` / `edge_types_file`, resolved (`None` when absent or null).
    pub types_file: Option<PathBuf>,
    /// The `populations` object in the config file's order: name and its `type` (when given).
    /// `None` when the entry has no `populations`.
    pub populations: Option<Vec<(String, Option<String>)>>,
}

/// A population named by a circuit config, with its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopulationRef {
    /// Population name.
    pub name: String,
    /// The HDF5 file holding it.
    pub file: PathBuf,
    /// Its `type` in the config (`biophysical`, `virtual`, `chemical`, ...), when given.
    pub kind: Option<String>,
}

/// The simulation config a circuit config was reached from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationSource {
    /// The simulation config file.
    pub path: PathBuf,
    /// Its `node_set` (the cells the simulation instantiates), when given.
    pub node_set: Option<String>,
    /// Its `node_sets_file` (laid over the circuit's), resolved against the simulation config's
    /// folder with its manifest, when given.
    pub node_sets_file: Option<PathBuf>,
}

/// A parsed `circuit_config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitConfig {
    /// The config file.
    pub path: PathBuf,
    /// The manifest, every value substituted and resolved against the config's folder.
    pub manifest: BTreeMap<String, PathBuf>,
    /// `networks.nodes`.
    pub nodes: Vec<NetworkEntry>,
    /// `networks.edges`.
    pub edges: Vec<NetworkEntry>,
    /// `node_sets_file`, resolved, when given.
    pub node_sets_file: Option<PathBuf>,
    /// The simulation config that named this circuit config in its `network`, when
    /// [`CircuitConfig::open`] was given one.
    pub simulation: Option<SimulationSource>,
    /// The manifest's values as text, variables substituted, not yet resolved: what `$NAME`
    /// stands for in paths (resolving happens once, on the whole path).
    texts: BTreeMap<String, String>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::invalid(Location::file(path), reason)
}

/// Lexically normalises `p` (drops `.`, folds `name/..`, `/..` is `/`), without touching the
/// file system (libsonata's `lexically_normal`).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The folder of the config file `path`, against which its relative paths resolve.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads `path` and parses it as a JSON object.
fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::input_file(path, source))?;
    parse_json(&text, path)
}

fn parse_json(text: &str, path: &Path) -> Result<Value> {
    let json: Value = serde_json::from_str(text)
        .map_err(|e| bad(path, format!("not a valid JSON circuit config: {e}")))?;
    if !json.is_object() {
        return Err(bad(
            path,
            "not a SONATA config: the top level is not a JSON object",
        ));
    }
    Ok(json)
}

/// A simulation config: no `networks`, and `network` or `run` (mandatory in one).
fn is_simulation(json: &Value) -> bool {
    json.get("networks").is_none() && (json.get("network").is_some() || json.get("run").is_some())
}

/// The manifest of the config at `path` as text, every variable's own variables substituted.
fn manifest_texts(json: &Value, path: &Path) -> Result<BTreeMap<String, String>> {
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    if let Some(m) = json.get("manifest") {
        let Some(m) = m.as_object() else {
            return Err(bad(path, "'manifest' must be an object"));
        };
        for (k, v) in m {
            if !k.starts_with('$') {
                return Err(bad(
                    path,
                    format!("manifest variable '{k}' must start with '$'"),
                ));
            }
            let Some(v) = v.as_str() else {
                return Err(bad(
                    path,
                    format!("manifest variable '{k}' must be a string"),
                ));
            };
            raw.insert(k.clone(), v.to_string());
        }
    }
    raw.keys()
        .map(|k| Ok((k.clone(), expand(k, &raw, &mut Vec::new(), path)?)))
        .collect()
}

/// `value` with every path component that is a `$NAME` replaced by its text.
fn substitute(value: &str, texts: &BTreeMap<String, String>, path: &Path) -> Result<String> {
    let parts: Result<Vec<&str>> = value
        .split('/')
        .map(|part| {
            if part.starts_with('$') {
                texts.get(part).map(String::as_str).ok_or_else(|| {
                    bad(
                        path,
                        format!("'{value}' uses '{part}', which the manifest does not define"),
                    )
                })
            } else {
                Ok(part)
            }
        })
        .collect();
    Ok(parts?.join("/"))
}

impl CircuitConfig {
    /// Reads and parses the circuit config `path`; given a simulation config (no `networks`,
    /// but `network` or `run`), reads the circuit config its `network` names instead.
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file (or the circuit config a simulation config names,
    /// then naming the simulation config) cannot be read; [`Error::InvalidData`] naming the
    /// file when it is not a JSON object, has no `networks` (and is no simulation config),
    /// `networks` names no file, entries lack their file key, a manifest variable is unknown or
    /// cyclic, or a value has the wrong JSON type.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = read_json(path)?;
        if !is_simulation(&json) {
            return Self::from_json(&json, path);
        }
        let texts = manifest_texts(&json, path)?;
        let network = match json.get("network") {
            None => "circuit_config.json",
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            Some(_) => {
                return Err(bad(path, "'network' must be the path of a circuit config"));
            }
        };
        let circuit = normalise(&folder_of(path).join(substitute(network, &texts, path)?));
        let circuit_json = read_json(&circuit).map_err(|e| e.named_by(path))?;
        if circuit_json.get("networks").is_none() {
            return Err(bad(
                &circuit,
                format!(
                    "has no 'networks': not a circuit config (named by 'network' of {})",
                    path.display()
                ),
            ));
        }
        let mut config = Self::from_json(&circuit_json, &circuit)?;
        let node_sets_file = match json.get("node_sets_file") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(normalise(
                &folder_of(path).join(substitute(s, &texts, path)?),
            )),
            Some(_) => {
                return Err(bad(path, "'node_sets_file' must be the path of a file"));
            }
        };
        config.simulation = Some(SimulationSource {
            node_sets_file,
            path: path.to_path_buf(),
            node_set: json
                .get("node_set")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
        Ok(config)
    }

    /// Parses `text` as the circuit config at `path` (relative paths resolve against its
    /// folder). A simulation config is refused here: [`CircuitConfig::open`] follows it.
    ///
    /// # Errors
    /// As [`CircuitConfig::open`], without the I/O errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        Self::from_json(&parse_json(text, path)?, path)
    }

    fn from_json(json: &Value, path: &Path) -> Result<Self> {
        let texts = manifest_texts(json, path)?;
        let base = folder_of(path);
        let manifest = texts
            .iter()
            .map(|(k, v)| (k.clone(), normalise(&base.join(v))))
            .collect();
        let mut config = CircuitConfig {
            path: path.to_path_buf(),
            manifest,
            nodes: Vec::new(),
            edges: Vec::new(),
            node_sets_file: None,
            simulation: None,
            texts,
        };
        config.node_sets_file = match json.get("node_sets_file") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(config.resolve(s)?),
            Some(_) => {
                return Err(bad(path, "'node_sets_file' must be the path of a file"));
            }
        };
        let Some(networks) = json.get("networks") else {
            let why = if is_simulation(json) {
                "is a simulation config: open it with CircuitConfig::open to follow its 'network'"
            } else {
                "has no 'networks': not a circuit config (a circuit config lists its node and \
                 edge files in 'networks'; a simulation config names its circuit config in \
                 'network')"
            };
            return Err(bad(path, why));
        };
        if !networks.is_object() {
            return Err(bad(path, "'networks' must be an object"));
        }
        for (key, file_key, types_key) in [
            ("nodes", "nodes_file", "node_types_file"),
            ("edges", "edges_file", "edge_types_file"),
        ] {
            let Some(list) = networks.get(key) else {
                continue;
            };
            let Some(list) = list.as_array() else {
                return Err(bad(path, format!("'networks.{key}' must be a list")));
            };
            let mut entries = Vec::with_capacity(list.len());
            for (i, entry) in list.iter().enumerate() {
                let file = match entry.get(file_key).and_then(Value::as_str) {
                    Some(f) => config.resolve(f)?,
                    None => {
                        return Err(bad(
                            path,
                            format!("'networks.{key}[{i}]' has no string '{file_key}'"),
                        ));
                    }
                };
                let types_file = match entry.get(types_key).and_then(Value::as_str) {
                    Some(f) if !f.is_empty() => Some(config.resolve(f)?),
                    _ => None,
                };
                let populations = match entry.get("populations") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(pops)) => Some(
                        pops.iter()
                            .map(|(name, p)| {
                                (
                                    name.clone(),
                                    p.get("type").and_then(Value::as_str).map(str::to_string),
                                )
                            })
                            .collect(),
                    ),
                    Some(_) => {
                        return Err(bad(
                            path,
                            format!("'networks.{key}[{i}].populations' must be an object"),
                        ));
                    }
                };
                entries.push(NetworkEntry {
                    file,
                    types_file,
                    populations,
                });
            }
            if key == "nodes" {
                config.nodes = entries;
            } else {
                config.edges = entries;
            }
        }
        if config.nodes.is_empty() && config.edges.is_empty() {
            return Err(bad(
                path,
                "'networks' lists no node or edge file: nothing to read",
            ));
        }
        Ok(config)
    }

    /// The config file's folder, against which relative paths resolve.
    pub fn base_dir(&self) -> PathBuf {
        folder_of(&self.path)
    }

    /// Substitutes manifest variables in `value` and resolves the result once against the
    /// config's folder (an absolute result stays as it is).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `value` uses a variable the manifest does not define.
    pub fn resolve(&self, value: &str) -> Result<PathBuf> {
        let text = substitute(value, &self.texts, &self.path)?;
        Ok(normalise(&self.base_dir().join(text)))
    }

    /// The population names of the file of an entry without `populations`.
    fn listed(&self, e: &NetworkEntry, nodes: bool) -> Result<Vec<String>> {
        // A missing file names the config that points to it.
        if nodes {
            NodeFile::open(&e.file)
                .map_err(|err| err.named_by(&self.path))?
                .population_names()
        } else {
            EdgeFile::open(&e.file)
                .map_err(|err| err.named_by(&self.path))?
                .population_names()
        }
    }

    fn populations(&self, nodes: bool) -> Result<Vec<PopulationRef>> {
        let entries = if nodes { &self.nodes } else { &self.edges };
        let mut out = Vec::new();
        for e in entries {
            match &e.populations {
                Some(pops) => out.extend(pops.iter().map(|(name, kind)| PopulationRef {
                    name: name.clone(),
                    file: e.file.clone(),
                    kind: kind.clone(),
                })),
                None => {
                    let names = self.listed(e, nodes)?;
                    out.extend(names.into_iter().map(|name| PopulationRef {
                        name,
                        file: e.file.clone(),
                        kind: None,
                    }));
                }
            }
        }
        Ok(out)
    }

    /// Every node population: entries in config order, populations of an entry in the config
    /// file's order (files without `populations` are opened and their populations listed, by
    /// name).
    ///
    /// # Errors
    /// Errors opening a node file that must be listed.
    pub fn node_populations(&self) -> Result<Vec<PopulationRef>> {
        self.populations(true)
    }

    /// Every edge population, in config order (as [`CircuitConfig::node_populations`]).
    ///
    /// # Errors
    /// Errors opening an edge file that must be listed.
    pub fn edge_populations(&self) -> Result<Vec<PopulationRef>> {
        self.populations(false)
    }

    /// The node population `name`.
    ///
    /// Entries listing their populations are searched first; then the files of entries without
    /// `populations` are opened in config order, until one holds it (so a missing file after
    /// it does not matter).
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`] naming the config when no node network holds it; errors
    /// opening a node file that must be listed.
    pub fn node_population(&self, name: &str) -> Result<PopulationRef> {
        // Entries that name their populations first: no file needs opening for them.
        for e in &self.nodes {
            if let Some(pops) = &e.populations
                && let Some((_, kind)) = pops.iter().find(|(n, _)| n == name)
            {
                return Ok(PopulationRef {
                    name: name.to_string(),
                    file: e.file.clone(),
                    kind: kind.clone(),
                });
            }
        }
        for e in self.nodes.iter().filter(|e| e.populations.is_none()) {
            if self.listed(e, true)?.iter().any(|n| n == name) {
                return Ok(PopulationRef {
                    name: name.to_string(),
                    file: e.file.clone(),
                    kind: None,
                });
            }
        }
        Err(Error::PopulationNotFound {
            at: Location::file(&self.path).dataset("networks.nodes"),
            name: name.to_string(),
            available: self
                .node_populations()?
                .into_iter()
                .map(|p| p.name)
                .collect(),
        })
    }

    /// Opens the node population `name` from the file the config gives for it.
    ///
    /// # Errors
    /// As [`CircuitConfig::node_population`]; [`Error::InputFile`] naming this config when the
    /// node file is missing or unreadable; errors of [`NodeFile::open`] and
    /// [`NodeFile::population`].
    pub fn open_node_population(&self, name: &str) -> Result<super::nodes::NodePopulation> {
        let r = self.node_population(name)?;
        NodeFile::open(&r.file)
            .map_err(|e| e.named_by(&self.path))?
            .population(name)
    }
}

/// The text of manifest variable `key` with its own variables substituted (not resolved: a
/// path is resolved once, when it is used).
fn expand(
    key: &str,
    raw: &BTreeMap<String, String>,
    stack: &mut Vec<String>,
    path: &Path,
) -> Result<String> {
    if stack.iter().any(|k| k == key) {
        return Err(bad(
            path,
            format!(
                "manifest variables form a cycle: {} -> {key}",
                stack.join(" -> ")
            ),
        ));
    }
    let Some(value) = raw.get(key) else {
        return Err(bad(
            path,
            format!("manifest variable '{key}' is not defined"),
        ));
    };
    stack.push(key.to_string());
    let parts = value
        .split('/')
        .map(|part| {
            if part.starts_with('$') {
                expand(part, raw, stack, path)
            } else {
                Ok(part.to_string())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    stack.pop();
    Ok(parts.join("/"))
}
