//! SONATA `circuit_config.json`: node and edge networks, their files and populations, with
//! `manifest` variables substituted and relative paths resolved (sonata-format.md §1.5).
//!
//! Rules (libsonata's):
//! - `manifest` maps `$NAME` to a path; a value may use earlier-defined or later-defined
//!   variables (resolved recursively, cycles are an error); a relative value is relative to the
//!   config file's folder (`"./"` is that folder).
//! - In `nodes_file`, `edges_file`, `node_types_file` and `edge_types_file`, every `$NAME`
//!   that starts a path component is replaced; a path that is still relative is joined to the
//!   config file's folder.
//! - `populations` is optional (Allen configs omit it): [`CircuitConfig::node_populations`] and
//!   [`CircuitConfig::edge_populations`] then open the file and list its populations.

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
    /// The `populations` object sorted by name (serde_json maps are sorted): name and its
    /// `type` (when given).
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

/// A parsed `circuit_config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitConfig {
    /// The config file.
    pub path: PathBuf,
    /// The manifest, with every value resolved to an absolute-or-config-relative path.
    pub manifest: BTreeMap<String, PathBuf>,
    /// `networks.nodes`.
    pub nodes: Vec<NetworkEntry>,
    /// `networks.edges`.
    pub edges: Vec<NetworkEntry>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::invalid(Location::file(path), reason)
}

/// Lexically normalises `p` (drops `.`, folds `name/..`), without touching the file system.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_name =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_name {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl CircuitConfig {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file cannot be read; [`Error::InvalidData`] naming the file when it
    /// is not JSON, `networks` entries lack their file key, a manifest variable is unknown or
    /// cyclic, or a value has the wrong JSON type.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::input_file(path, source))?;
        Self::parse(&text, path)
    }

    /// Parses `text` as the config at `path` (relative paths resolve against its folder).
    ///
    /// # Errors
    /// As [`CircuitConfig::open`], without the I/O errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| bad(path, format!("not a valid JSON circuit config: {e}")))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
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
        let mut manifest = BTreeMap::new();
        for k in raw.keys() {
            let value = expand(k, &raw, &mut Vec::new(), path)?;
            manifest.insert(k.clone(), normalise(&base.join(value)));
        }
        let mut config = CircuitConfig {
            path: path.to_path_buf(),
            manifest,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let networks = json.get("networks");
        for (key, file_key, types_key) in [
            ("nodes", "nodes_file", "node_types_file"),
            ("edges", "edges_file", "edge_types_file"),
        ] {
            let Some(list) = networks.and_then(|n| n.get(key)) else {
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
        Ok(config)
    }

    /// The config file's folder, against which relative paths resolve.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Substitutes manifest variables in `value` and makes it relative to the config's folder.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when `value` uses a variable the manifest does not define.
    pub fn resolve(&self, value: &str) -> Result<PathBuf> {
        let mut out = PathBuf::new();
        for (i, part) in value.split('/').enumerate() {
            if part.starts_with('$') {
                let Some(v) = self.manifest.get(part) else {
                    return Err(bad(
                        &self.path,
                        format!("'{value}' uses '{part}', which the manifest does not define"),
                    ));
                };
                out.push(v);
            } else if i == 0 && part.is_empty() {
                out.push("/");
            } else {
                out.push(part);
            }
        }
        Ok(normalise(&self.base_dir().join(out)))
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
                    // A missing file names the config that points to it.
                    let names = if nodes {
                        NodeFile::open(&e.file)
                            .map_err(|err| err.named_by(&self.path))?
                            .population_names()?
                    } else {
                        EdgeFile::open(&e.file)
                            .map_err(|err| err.named_by(&self.path))?
                            .population_names()?
                    };
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

    /// Every node population: entries in config order, populations of an entry by name (files
    /// without `populations` are opened and their populations listed).
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
    /// Entries listing their populations are searched first; files of entries without
    /// `populations` are opened only when that fails.
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
        let all = self.node_populations()?;
        if let Some(p) = all.iter().find(|p| p.name == name) {
            return Ok(p.clone());
        }
        Err(Error::PopulationNotFound {
            at: Location::file(&self.path).dataset("networks.nodes"),
            name: name.to_string(),
            available: all.into_iter().map(|p| p.name).collect(),
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

/// The value of manifest variable `key` with its own variables expanded.
fn expand(
    key: &str,
    raw: &BTreeMap<String, String>,
    stack: &mut Vec<String>,
    path: &Path,
) -> Result<PathBuf> {
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
    let mut out = PathBuf::new();
    for (i, part) in value.split('/').enumerate() {
        if part.starts_with('$') {
            out.push(expand(part, raw, stack, path)?);
        } else if i == 0 && part.is_empty() {
            out.push("/");
        } else {
            out.push(part);
        }
    }
    stack.pop();
    Ok(out)
}
