//! SONATA node sets (`node_sets.json`): parsing and evaluation against node populations.
//!
//! Semantics are libsonata's (`NodeSets(json).materialize(name, population)`), described in
//! `shared/spec/node-sets.md`:
//!
//! - the top level is an object of named sets; a set is *basic* (an object: the intersection of
//!   its clauses) or *compound* (a list of names: the union of those sets);
//! - clauses: `population` (string or list), `node_id` (id or list; ids beyond the population are
//!   dropped), attribute equality (an integer, a string, or a list of either: any of them),
//!   `{"$gt" | "$gte" | "$lt" | "$lte": number}` (the attribute read as `f64`; `@library`
//!   attributes compare their codes, as libsonata does) and `{"$regex": string}` (unanchored
//!   search, on string and `@library` attributes);
//! - the whole file is checked when it is parsed, as libsonata does in its constructor: a top
//!   level that is not an object, a set that is neither object nor list, compound members that
//!   are not strings or name no set, compounds that reach themselves or nest deeper than
//!   [`MAX_COMPOUND_DEPTH`], non-integral numbers in equality values, booleans and null, operator
//!   objects without exactly one key, unknown operators;
//! - an empty basic set `{}` is dropped (a reference to it is "missing"); an empty list clause
//!   matches nothing;
//! - what depends on the population is checked when a set is evaluated: a missing attribute
//!   ([`Selected::Skipped`] circuit-wide, as neurodamus skips such populations), a string against
//!   a numeric attribute, a number against a string or `@library` one, equality on a float
//!   attribute, a `$regex` that does not compile or targets a numeric attribute.
//!
//! Later files replace same-named entries of earlier ones ([`NodeSets::merged_with`]); compound
//! members are resolved by name at evaluation, so they see the replacements.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::attributes::AttributeValues;
use super::nodes::NodePopulation;
use crate::error::{Error, Location, Result};

/// How deep compounds may nest (libsonata's `MAX_COMPOUND_RECURSION`): a compound whose chain
/// of compound members is longer than this is an error.
pub const MAX_COMPOUND_DEPTH: usize = 10;

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compare {
    /// `$gt`
    Gt,
    /// `$gte`
    Gte,
    /// `$lt`
    Lt,
    /// `$lte`
    Lte,
}

impl Compare {
    fn holds(self, v: f64, bound: f64) -> bool {
        match self {
            Compare::Gt => v > bound,
            Compare::Gte => v >= bound,
            Compare::Lt => v < bound,
            Compare::Lte => v <= bound,
        }
    }
}

/// One clause of a basic node set.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// An empty list: matches nothing.
    Nothing,
    /// `population`: the population's name is one of these.
    Population(Vec<String>),
    /// `node_id`: these ids (those beyond the population are dropped).
    NodeIds(Vec<u64>),
    /// Integer equality on an attribute.
    Integers(String, Vec<i64>),
    /// String equality on a string or `@library` attribute.
    Strings(String, Vec<String>),
    /// Numeric comparison on an attribute.
    Compare(String, Compare, f64),
    /// Unanchored regular-expression search on a string or `@library` attribute.
    Regex(String, String),
}

/// One named node set.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeSet {
    /// An object: the intersection of its clauses.
    Basic(Vec<Clause>),
    /// A list: the union of the named sets.
    Compound(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    set: NodeSet,
    /// The file (or text label) the entry came from, for messages.
    source: PathBuf,
}

/// The parsed contents of one or more node-sets files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSets {
    entries: BTreeMap<String, Entry>,
}

/// The outcome of evaluating a node set on one population of a circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// The sorted node ids.
    Ids(Vec<u64>),
    /// The population lacks an attribute the set uses: left out, with this warning.
    Skipped(String),
}

/// Why an evaluation failed.
enum Failure {
    /// The population has no attribute of this name.
    Missing(String),
    /// Anything else.
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

type Eval<T> = std::result::Result<T, Failure>;

fn bad(source: &Path, reason: impl Into<String>) -> Error {
    Error::invalid(Location::file(source), reason)
}

impl NodeSets {
    /// Reads and parses the node-sets file `path`.
    ///
    /// # Errors
    /// [`Error::InputFile`] when it cannot be read; [`Error::InvalidData`] naming the file (and
    /// the node set) when it is not valid JSON or breaks the grammar (see the module docs).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::input_file(path, source))?;
        Self::parse(&text, path)
    }

    /// Parses `text`; messages name it `<node sets>`.
    ///
    /// # Errors
    /// As [`NodeSets::from_file`], without the I/O errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self> {
        Self::parse(text, Path::new("<node sets>"))
    }

    /// Parses `text` as the node-sets file `source` (used in messages).
    ///
    /// # Errors
    /// As [`NodeSets::from_file`], without the I/O errors.
    pub fn parse(text: &str, source: &Path) -> Result<Self> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| bad(source, format!("not valid JSON: {e}")))?;
        let Value::Object(map) = json else {
            return Err(bad(
                source,
                "the top level of a node-sets file must be an object",
            ));
        };
        let mut entries = BTreeMap::new();
        for (name, value) in &map {
            let at = |reason: String| bad(source, format!("node set '{name}': {reason}"));
            let set = match value {
                Value::Object(clauses) if clauses.is_empty() => continue,
                Value::Object(clauses) => NodeSet::Basic(
                    clauses
                        .iter()
                        .map(|(k, v)| parse_clause(k, v))
                        .collect::<std::result::Result<_, String>>()
                        .map_err(at)?,
                ),
                Value::Array(members) => NodeSet::Compound(
                    members
                        .iter()
                        .map(|m| {
                            m.as_str().map(str::to_string).ok_or_else(|| {
                                at(format!("compound members must be names (strings), got {m}"))
                            })
                        })
                        .collect::<Result<_>>()?,
                ),
                other => {
                    return Err(at(format!(
                        "must be an object (basic) or a list of names (compound), got {other}"
                    )));
                }
            };
            entries.insert(
                name.clone(),
                Entry {
                    set,
                    source: source.to_path_buf(),
                },
            );
        }
        let sets = NodeSets { entries };
        sets.check_compounds()?;
        Ok(sets)
    }

    /// These node sets with the entries of `other` laid over them: same-named entries of
    /// `other` replace these (a simulation's node sets over its circuit's).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when a replacement makes a compound reach itself or nest too deep.
    pub fn merged_with(&self, other: &NodeSets) -> Result<NodeSets> {
        let mut entries = self.entries.clone();
        for (k, v) in &other.entries {
            entries.insert(k.clone(), v.clone());
        }
        let sets = NodeSets { entries };
        sets.check_compounds()?;
        Ok(sets)
    }

    /// The node sets of a circuit: its `node_sets_file`, the simulation's laid over it (when
    /// the config was reached from a simulation config), then `extra` laid over both (same-named
    /// entries replace); with the files read, in that order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when there is no file at all (the message names the config
    /// and how to give one: `how`, e.g. `--node-sets FILE`); errors reading or parsing a file
    /// (a file the config names is named with the config).
    pub fn of_circuit(
        config: &super::config::CircuitConfig,
        extra: Option<&Path>,
        how: &str,
    ) -> Result<(NodeSets, Vec<PathBuf>)> {
        let mut files: Vec<PathBuf> = config.node_sets_file.iter().cloned().collect();
        if let Some(sim) = &config.simulation {
            files.extend(sim.node_sets_file.iter().cloned());
        }
        let mut sets: Option<NodeSets> = None;
        for f in &files {
            let next = NodeSets::from_file(f).map_err(|e| e.named_by(&config.path))?;
            sets = Some(match sets {
                Some(s) => s.merged_with(&next)?,
                None => next,
            });
        }
        if let Some(extra) = extra {
            let next = NodeSets::from_file(extra)?;
            sets = Some(match sets {
                Some(s) => s.merged_with(&next)?,
                None => next,
            });
            files.push(extra.to_path_buf());
        }
        match sets {
            Some(s) => Ok((s, files)),
            None => Err(Error::InvalidArgument(format!(
                "{}: the config names no node_sets_file: give one with {how}",
                config.path.display()
            ))),
        }
    }

    /// The names of the node sets, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// The node set `name`, when there is one.
    pub fn get(&self, name: &str) -> Option<&NodeSet> {
        self.entries.get(name).map(|e| &e.set)
    }

    /// Every compound's members exist, and no chain of compounds loops or is longer than
    /// [`MAX_COMPOUND_DEPTH`].
    fn check_compounds(&self) -> Result<()> {
        // Longest compound chain below each compound (0: only basic members), memoised.
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        for name in self.entries.keys() {
            self.compound_depth(name, &mut Vec::new(), &mut depth)?;
        }
        Ok(())
    }

    fn compound_depth<'a>(
        &'a self,
        name: &'a str,
        path: &mut Vec<&'a str>,
        memo: &mut BTreeMap<&'a str, usize>,
    ) -> Result<usize> {
        if let Some(&d) = memo.get(name) {
            return Ok(d);
        }
        let Some(entry) = self.entries.get(name) else {
            return Ok(0);
        };
        let NodeSet::Compound(members) = &entry.set else {
            return Ok(0);
        };
        if path.contains(&name) {
            return Err(bad(
                &entry.source,
                format!(
                    "node set '{name}': compound reaches itself ({} -> {name})",
                    path.join(" -> ")
                ),
            ));
        }
        path.push(name);
        let mut deepest = 0;
        for m in members {
            match self.entries.get(m) {
                None => {
                    return Err(bad(
                        &entry.source,
                        format!("node set '{name}': member '{m}' is not a node set (missing)"),
                    ));
                }
                Some(Entry {
                    set: NodeSet::Compound(_),
                    ..
                }) => {
                    deepest = deepest.max(1 + self.compound_depth(m, path, memo)?);
                }
                Some(_) => {}
            }
        }
        path.pop();
        if deepest > MAX_COMPOUND_DEPTH {
            return Err(bad(
                &entry.source,
                format!(
                    "node set '{name}': compounds nest {deepest} deep, more than the \
                     {MAX_COMPOUND_DEPTH} allowed"
                ),
            ));
        }
        memo.insert(name, deepest);
        Ok(deepest)
    }

    /// The sorted node ids of `population` in node set `name`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when there is no node set `name`; [`Error::InvalidData`]
    /// naming the population and the node set when the population lacks an attribute the set
    /// uses or a value does not fit the attribute's type (see the module docs); errors reading
    /// the node file.
    pub fn select(&self, name: &str, population: &NodePopulation) -> Result<Vec<u64>> {
        self.check_name(name)?;
        match self.eval(name, population) {
            Ok(ids) => Ok(ids),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Missing(attr)) => Err(Error::invalid(
                population.location().clone(),
                self.missing_text(name, &attr),
            )),
        }
    }

    /// Node set `name` evaluated on every population: `(population name, outcome)` in the order
    /// given. A population lacking an attribute the set uses is [`Selected::Skipped`] with a
    /// warning text (neurodamus's behaviour); other errors fail the whole call.
    ///
    /// # Errors
    /// As [`NodeSets::select`], except missing attributes.
    pub fn select_all(
        &self,
        name: &str,
        populations: &[NodePopulation],
    ) -> Result<Vec<(String, Selected)>> {
        self.check_name(name)?;
        let mut out = Vec::with_capacity(populations.len());
        for pop in populations {
            let outcome = match self.eval(name, pop) {
                Ok(ids) => Selected::Ids(ids),
                Err(Failure::Missing(attr)) => Selected::Skipped(format!(
                    "{}: {}: population skipped",
                    pop.location(),
                    self.missing_text(name, &attr)
                )),
                Err(Failure::Error(e)) => return Err(e),
            };
            out.push((pop.name().to_string(), outcome));
        }
        Ok(out)
    }

    fn check_name(&self, name: &str) -> Result<()> {
        if self.entries.contains_key(name) {
            return Ok(());
        }
        let names = self.names();
        Err(Error::InvalidArgument(format!(
            "no node set '{name}'{}",
            if names.is_empty() {
                " (the node sets are empty)".to_string()
            } else {
                format!(" (there are: {})", names.join(", "))
            }
        )))
    }

    fn missing_text(&self, name: &str, attr: &str) -> String {
        format!(
            "node set '{name}'{}: no attribute '{attr}'",
            self.source_of(name)
        )
    }

    fn source_of(&self, name: &str) -> String {
        self.entries
            .get(name)
            .map(|e| format!(" (of {})", e.source.display()))
            .unwrap_or_default()
    }

    /// Evaluates `name` (which exists and whose compounds were checked).
    fn eval(&self, name: &str, pop: &NodePopulation) -> Eval<Vec<u64>> {
        let Some(entry) = self.entries.get(name) else {
            return Err(Failure::Error(Error::InvalidArgument(format!(
                "no node set '{name}'"
            ))));
        };
        match &entry.set {
            NodeSet::Compound(members) => {
                let mut out = Vec::new();
                for m in members {
                    out = union(&out, &self.eval(m, pop)?);
                }
                Ok(out)
            }
            NodeSet::Basic(clauses) => {
                let mut out: Vec<u64> = (0..pop.size()).collect();
                let context = |e: Error| {
                    Failure::Error(Error::invalid(
                        pop.location().clone(),
                        format!("node set '{name}'{}: {e}", self.source_of(name)),
                    ))
                };
                // Every clause is evaluated (no short cut), as libsonata does: a missing
                // attribute is reported even when another clause already matches nothing.
                for clause in clauses {
                    let ids = match eval_clause(clause, pop) {
                        Ok(ids) => ids,
                        Err(Failure::Error(Error::InvalidArgument(reason))) => {
                            return Err(context(Error::InvalidArgument(reason)));
                        }
                        Err(other) => return Err(other),
                    };
                    out = intersection(&out, &ids);
                }
                Ok(out)
            }
        }
    }
}

/// Parses one clause `key: value` of a basic set; `Err` is the reason.
fn parse_clause(key: &str, value: &Value) -> std::result::Result<Clause, String> {
    let clause = match value {
        Value::Number(_) if key == "population" => {
            return Err("'population' must be a string or a list of strings".into());
        }
        Value::Number(n) if key == "node_id" => Clause::NodeIds(vec![node_id(n)?]),
        Value::Number(n) => Clause::Integers(key.into(), vec![integer(n)?]),
        Value::String(_) if key == "node_id" => {
            return Err("'node_id' must be an id or a list of ids".into());
        }
        Value::String(s) if key == "population" => Clause::Population(vec![s.clone()]),
        Value::String(s) => Clause::Strings(key.into(), vec![s.clone()]),
        Value::Array(list) => match list.first() {
            None => Clause::Nothing,
            Some(Value::Number(_)) => {
                if key == "population" {
                    return Err("'population' must be a string or a list of strings".into());
                }
                let values = list
                    .iter()
                    .map(|v| match v {
                        Value::Number(n) => integer(n),
                        other => Err(format!(
                            "'{key}': expected integer, got {other} (a list holds one type)"
                        )),
                    })
                    .collect::<std::result::Result<Vec<i64>, String>>()?;
                if key == "node_id" {
                    Clause::NodeIds(
                        values
                            .into_iter()
                            .map(|v| {
                                u64::try_from(v).map_err(|_| format!("'node_id': {v} is negative"))
                            })
                            .collect::<std::result::Result<_, String>>()?,
                    )
                } else {
                    Clause::Integers(key.into(), values)
                }
            }
            Some(Value::String(_)) => {
                if key == "node_id" {
                    return Err("'node_id' must be an id or a list of ids".into());
                }
                let values = list
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_string).ok_or_else(|| {
                            format!("'{key}': expected string, got {v} (a list holds one type)")
                        })
                    })
                    .collect::<std::result::Result<Vec<String>, String>>()?;
                if key == "population" {
                    Clause::Population(values)
                } else {
                    Clause::Strings(key.into(), values)
                }
            }
            Some(other) => {
                return Err(format!(
                    "'{key}': a list must hold integers or strings, got {other}"
                ));
            }
        },
        Value::Object(op) => {
            let mut items = op.iter();
            let (Some((op, operand)), None) = (items.next(), items.next()) else {
                return Err(format!(
                    "'{key}': an operator object must have exactly one key, it has {}",
                    op.len()
                ));
            };
            match operand {
                Value::Number(n) => {
                    let compare = match op.as_str() {
                        "$gt" => Compare::Gt,
                        "$gte" => Compare::Gte,
                        "$lt" => Compare::Lt,
                        "$lte" => Compare::Lte,
                        _ => {
                            return Err(format!(
                                "'{key}': unknown numeric operator '{op}' (there are $gt, \
                                 $gte, $lt, $lte)"
                            ));
                        }
                    };
                    let Some(bound) = n.as_f64() else {
                        return Err(format!("'{key}': {n} is not a number"));
                    };
                    Clause::Compare(key.into(), compare, bound)
                }
                Value::String(s) => {
                    if op != "$regex" {
                        return Err(format!(
                            "'{key}': unknown string operator '{op}' (there is $regex)"
                        ));
                    }
                    Clause::Regex(key.into(), s.clone())
                }
                other => {
                    return Err(format!(
                        "'{key}': unknown operator '{op}' with operand {other} (operators: $gt, \
                         $gte, $lt, $lte with a number, $regex with a string)"
                    ));
                }
            }
        }
        Value::Bool(_) | Value::Null => {
            return Err(format!(
                "'{key}': {value} is not a value a node set can match (integers, strings, lists \
                 of either, or an operator object)"
            ));
        }
    };
    Ok(clause)
}

/// An equality value: an integer (an integral float such as `2.0` counts, as in libsonata).
fn integer(n: &serde_json::Number) -> std::result::Result<i64, String> {
    if let Some(v) = n.as_i64() {
        return Ok(v);
    }
    if n.as_u64().is_some() {
        return Err(format!("value {n} is out of the int64 range"));
    }
    match n.as_f64() {
        Some(f) if f.fract() != 0.0 || !f.is_finite() => {
            Err(format!("expected integer, got float {n}"))
        }
        // i64::MAX as f64 rounds up to 2^63, which does not fit: `<` keeps it out.
        Some(f) if f >= -(2f64.powi(63)) && f < 2f64.powi(63) => Ok(f as i64),
        _ => Err(format!("value {n} is out of the int64 range")),
    }
}

/// A `node_id` value: a non-negative integer.
fn node_id(n: &serde_json::Number) -> std::result::Result<u64, String> {
    let v = integer(n)?;
    u64::try_from(v).map_err(|_| format!("'node_id': expected unsigned integer, got {n}"))
}

/// The kind of an attribute of `pop`, read from an empty selection.
fn kind_of(pop: &NodePopulation, attr: &str) -> Eval<AttributeValues> {
    if !pop.has_attribute(attr)? {
        return Err(Failure::Missing(attr.to_string()));
    }
    Ok(pop.attribute(attr, &[])?)
}

fn is_enumeration(pop: &NodePopulation, attr: &str) -> bool {
    pop.enumeration_values(attr).is_ok()
}

fn mismatch(reason: String) -> Failure {
    Failure::Error(Error::InvalidArgument(reason))
}

/// The sorted ids of `pop` the clause matches.
fn eval_clause(clause: &Clause, pop: &NodePopulation) -> Eval<Vec<u64>> {
    let all = || (0..pop.size()).collect::<Vec<u64>>();
    let positions = |keep: &mut dyn FnMut(usize) -> bool, n: usize| -> Vec<u64> {
        (0..n).filter(|&i| keep(i)).map(|i| i as u64).collect()
    };
    match clause {
        Clause::Nothing => Ok(Vec::new()),
        Clause::Population(names) => Ok(if names.iter().any(|n| n == pop.name()) {
            all()
        } else {
            Vec::new()
        }),
        Clause::NodeIds(ids) => {
            let mut ids: Vec<u64> = ids.iter().copied().filter(|&i| i < pop.size()).collect();
            ids.sort_unstable();
            ids.dedup();
            Ok(ids)
        }
        Clause::Integers(attr, values) => {
            let wanted = |v: i128| values.iter().any(|&w| i128::from(w) == v);
            match kind_of(pop, attr)? {
                AttributeValues::Str(_) => Err(mismatch(format!(
                    "attribute '{attr}' is {}: match it with strings, not integers",
                    if is_enumeration(pop, attr) {
                        "an @library enumeration"
                    } else {
                        "a string attribute"
                    }
                ))),
                AttributeValues::Float(_) => Err(mismatch(format!(
                    "attribute '{attr}' holds floats: exact comparison of floats is not \
                     supported (use $gt/$gte/$lt/$lte)"
                ))),
                _ => match pop.attribute(attr, &all())? {
                    AttributeValues::Int(v) => {
                        Ok(positions(&mut |i| wanted(i128::from(v[i])), v.len()))
                    }
                    AttributeValues::UInt(v) => {
                        Ok(positions(&mut |i| wanted(i128::from(v[i])), v.len()))
                    }
                    _ => Err(mismatch(format!("attribute '{attr}' changed type"))),
                },
            }
        }
        Clause::Strings(attr, values) => {
            let (codes, table) = strings_of(pop, attr, "matching strings")?;
            let hit: Vec<bool> = table.iter().map(|s| values.contains(s)).collect();
            Ok(positions(
                &mut |i| hit.get(codes[i] as usize).copied().unwrap_or(false),
                codes.len(),
            ))
        }
        Clause::Regex(attr, pattern) => {
            let (codes, table) = strings_of(pop, attr, "a $regex")?;
            let re = regex::Regex::new(pattern).map_err(|e| {
                mismatch(format!(
                    "'{attr}': invalid $regex '{pattern}': {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ))
            })?;
            let hit: Vec<bool> = table.iter().map(|s| re.is_match(s)).collect();
            Ok(positions(
                &mut |i| hit.get(codes[i] as usize).copied().unwrap_or(false),
                codes.len(),
            ))
        }
        Clause::Compare(attr, op, bound) => {
            let values: Vec<f64> = match kind_of(pop, attr)? {
                // libsonata reads an @library attribute's codes as numbers.
                AttributeValues::Str(_) if is_enumeration(pop, attr) => pop
                    .enumeration(attr, &all())?
                    .into_iter()
                    .map(|c| c as f64)
                    .collect(),
                AttributeValues::Str(_) => {
                    return Err(mismatch(format!(
                        "attribute '{attr}' holds strings: $gt/$gte/$lt/$lte need a numeric one"
                    )));
                }
                _ => match pop.attribute(attr, &all())? {
                    AttributeValues::Int(v) => v.into_iter().map(|x| x as f64).collect(),
                    AttributeValues::UInt(v) => v.into_iter().map(|x| x as f64).collect(),
                    AttributeValues::Float(v) => v,
                    AttributeValues::Str(_) => {
                        return Err(mismatch(format!("attribute '{attr}' changed type")));
                    }
                },
            };
            Ok(positions(
                &mut |i| op.holds(values[i], *bound),
                values.len(),
            ))
        }
    }
}

/// The values of a string or `@library` attribute as `(codes, table)`; a numeric attribute is
/// an error (`what` names what needed strings).
fn strings_of(pop: &NodePopulation, attr: &str, what: &str) -> Eval<(Vec<u32>, Vec<String>)> {
    match kind_of(pop, attr)? {
        AttributeValues::Str(_) => {
            let ids: Vec<u64> = (0..pop.size()).collect();
            Ok(pop.interned(attr, &ids)?)
        }
        other => Err(mismatch(format!(
            "attribute '{attr}' holds {} values: {what} needs a string or @library attribute",
            other.type_name()
        ))),
    }
}

/// The union of two sorted, distinct lists.
fn union(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The intersection of two sorted, distinct lists.
fn intersection(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}
