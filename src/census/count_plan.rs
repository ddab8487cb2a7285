//! The plan of a count (the tool's `count` and the Python module's `count`): which populations
//! of an edge file or of a circuit config are counted, each with its number of targets, its
//! restriction to node sets and what is derived from it (efferent tables, pathway matrices).
//! Everything is opened, evaluated and checked here, before any counting, so that a bad option,
//! node set or attribute fails in one line with nothing written.
//!
//! The two callers differ only in how they spell their options in messages ([`Spelling`]): the
//! tool's flags (`--node-sets`) or Python's keywords (`node_sets`).

use std::path::Path;

use super::circuit::{CircuitNodeSets, NodeSetRestriction, circuit_populations, is_config_path};
use super::derived::Direction;
use super::derived::plan::{Derivation, PathwayInputs};
use super::filter::EdgeFilter;
use super::provenance::Restriction;
use crate::error::{Error, Result};
use crate::sonata::{ChosenPopulations, CircuitConfig, EdgeFile, EdgePopulation};

/// How the caller writes its options in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// The tool's flags: `--node-sets`, `-p NAME`.
    Flags,
    /// The Python module's keywords: `node_sets`, `populations=[...]`.
    Keywords,
}

impl Spelling {
    /// Option `name` (the flag's words, `-`-separated) as the caller writes it.
    pub fn option(self, name: &str) -> String {
        match self {
            Spelling::Flags => format!("--{name}"),
            Spelling::Keywords => name.replace('-', "_"),
        }
    }

    /// Option `name` given a file: `--node-sets FILE` or `node_sets=FILE`.
    pub fn with_file(self, name: &str) -> String {
        match self {
            Spelling::Flags => format!("--{name} FILE"),
            Spelling::Keywords => format!("{}=FILE", name.replace('-', "_")),
        }
    }

    /// How the caller names the populations `names` to count: `-p A -p B` or
    /// `populations=['A', 'B']`.
    pub fn populations(self, names: &[&str]) -> String {
        match self {
            Spelling::Flags => names
                .iter()
                .map(|n| format!("-p {n}"))
                .collect::<Vec<_>>()
                .join(" "),
            Spelling::Keywords => {
                let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                format!("populations=[{}]", quoted.join(", "))
            }
        }
    }
}

/// What a count is asked for.
#[derive(Debug, Clone, Copy)]
pub struct CountRequest<'a> {
    /// An edge file, or a circuit (or simulation) config ([`is_config_path`]).
    pub path: &'a Path,
    /// The populations asked for (none: every one).
    pub populations: &'a [String],
    /// The number of targets given (an edge file only).
    pub nodes_count: Option<u64>,
    /// The node sets to restrict to (a config only).
    pub restriction: &'a NodeSetRestriction,
    /// Which tables are written.
    pub direction: Direction,
    /// The node attributes of pathway matrices (a config only; none: no matrix).
    pub pathways: &'a [String],
    /// The output, when there is one: it must not be an edge file of the circuit.
    pub output: Option<&'a Path>,
}

/// One population to count.
#[derive(Debug)]
pub struct PopulationWork {
    /// The edge population.
    pub population: EdgePopulation,
    /// Its number of targets: the given one, or its target node population's size.
    pub nodes_count: Option<u64>,
    /// Its edge filter and record, when restricted to node sets.
    pub restricted: Option<(EdgeFilter, Restriction)>,
    /// What is derived from its connection table.
    pub derivation: Derivation,
}

impl PopulationWork {
    /// Writes `census` (this population's, its connection table in memory or `spilled`) as
    /// `count` writes it: the group with its record (the input, of the kind its restriction and
    /// direction make, the restriction, the direction), then the derived tables, the efferent
    /// transpose buffered in `memory_budget` bytes, or in `spill_above` when the table went to
    /// disk (its own bound). `merge` writes through here too, so that its file is `count`'s.
    /// Returns the per-source tables when written.
    ///
    /// # Errors
    /// As [`super::provenance::Provenance::of`], [`super::output::CensusWriter::write_with`]
    /// and [`Derivation::write`].
    pub fn write(
        &self,
        writer: &mut super::output::CensusWriter,
        census: &super::Census,
        spilled: Option<&super::SpilledConnections>,
        (memory_budget, spill_above): (u64, u64),
    ) -> Result<Option<super::derived::Efferent>> {
        let direction = self.derivation.direction;
        let record = super::output::Record {
            input: Some(super::provenance::Provenance::of(
                &self.population,
                super::provenance::TableKind::of(self.restricted.is_some(), direction),
            )?),
            restriction: self.restricted.as_ref().map(|(_, r)| r.clone()),
            direction,
        };
        writer.write_with(census, spilled, &record)?;
        let budget = if spilled.is_some() {
            spill_above
        } else {
            memory_budget
        };
        self.derivation
            .write(writer, &self.population, census, spilled, budget)
    }
}

/// The populations of a count, in order.
pub struct CountPlan {
    /// The populations to count.
    pub work: Vec<PopulationWork>,
    /// Whether the request named a config (the number of targets then comes from the node
    /// populations).
    pub config_mode: bool,
    /// An edge file's populations as chosen (to name the others when one fails).
    chosen: Option<ChosenPopulations>,
    spelling: Spelling,
}

impl CountPlan {
    /// Where the number of targets of its populations comes from: their node populations for a
    /// config, else the caller's node count.
    pub fn target_origin(&self) -> super::TargetOrigin {
        if self.config_mode {
            super::TargetOrigin::NodePopulation
        } else {
            super::TargetOrigin::NodeCount
        }
    }

    /// The census options of population `w` over the run's `options`: its number of targets
    /// (and where it comes from) and its node-set filter.
    pub fn options_for(
        &self,
        w: &PopulationWork,
        options: &super::CensusOptions,
    ) -> super::CensusOptions {
        super::CensusOptions {
            nodes_count: w.nodes_count,
            nodes_count_origin: self.target_origin(),
            edge_filter: w
                .restricted
                .as_ref()
                .map(|(filter, _)| std::sync::Arc::new(filter.clone())),
            ..options.clone()
        }
    }

    /// Plans `request`: checks the options against the input, opens the populations, evaluates
    /// the node sets, reads the pathway attributes and resolves the efferent tables' sizes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for options that do not apply to the input (node sets,
    /// pathways or `nodes_count` with the wrong kind of input, a node-sets file without a set)
    /// or an output that is an edge file of the circuit; the errors of
    /// [`circuit_populations`], [`CircuitNodeSets`], [`PathwayInputs::read`] and
    /// [`Derivation::plan`]; an edge file's broken population, with a note naming the others.
    pub fn new(request: &CountRequest<'_>, spelling: Spelling) -> Result<Self> {
        let opt = |name: &str| spelling.option(name);
        let path = request.path;
        let restriction = request.restriction;
        let config_mode = is_config_path(path);
        if !config_mode && (!restriction.is_empty() || restriction.node_sets_file.is_some()) {
            return Err(Error::InvalidArgument(format!(
                "{}, {} and {} need a circuit config (node sets are evaluated on the node files \
                 it names), not the edge file {}",
                opt("target-node-set"),
                opt("source-node-set"),
                opt("node-sets"),
                path.display()
            )));
        }
        if !config_mode && !request.pathways.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{} needs a circuit config (the node attributes are read from the node files it \
                 names), not the edge file {}",
                opt("pathways"),
                path.display()
            )));
        }
        if restriction.is_empty() && restriction.node_sets_file.is_some() {
            return Err(Error::InvalidArgument(format!(
                "{} is used with {} or {} (give one)",
                opt("node-sets"),
                opt("target-node-set"),
                opt("source-node-set")
            )));
        }
        if config_mode && request.nodes_count.is_some() {
            return Err(Error::InvalidArgument(format!(
                "{} does not apply to a circuit config ({}): each edge population is counted \
                 with the size of its target node population",
                opt("nodes-count"),
                path.display()
            )));
        }
        let (work, chosen) = if config_mode {
            (Self::circuit_work(request, spelling)?, None)
        } else {
            let file = EdgeFile::open(path)?;
            // Without named populations, a broken population stops the run (no output, as any
            // failure), and the error names the populations that can be counted.
            let mut c = file.choose_populations(request.populations)?;
            c.check(|good| spelling.populations(good))?;
            let work = c
                .opened
                .iter()
                .map(|p| {
                    Ok(PopulationWork {
                        population: p.clone(),
                        nodes_count: request.nodes_count,
                        restricted: None,
                        derivation: Derivation::plan(p, request.direction, None, None)?,
                    })
                })
                .collect::<Result<_>>()?;
            (work, Some(c))
        };
        Ok(CountPlan {
            work,
            config_mode,
            chosen,
            spelling,
        })
    }

    /// The populations of a circuit config, each with its node count, node-set restriction and
    /// derivation.
    fn circuit_work(request: &CountRequest<'_>, spelling: Spelling) -> Result<Vec<PopulationWork>> {
        let config = CircuitConfig::open(request.path)?;
        let pops = circuit_populations(&config, request.populations)?;
        let restriction = request.restriction;
        let sets = if restriction.is_empty() {
            None
        } else {
            Some(CircuitNodeSets::read(
                &config,
                restriction,
                &spelling.with_file("node-sets"),
            )?)
        };
        if let Some(output) = request.output
            && pops
                .iter()
                .any(|p| crate::outputs::same_file(p.population.file().path(), output))
        {
            return Err(Error::InvalidArgument(format!(
                "{}: the output is an edge file of the circuit (choose another {})",
                output.display(),
                spelling.option("output")
            )));
        }
        let mut work = Vec::with_capacity(pops.len());
        for p in pops {
            let restricted = match &sets {
                Some(sets) => Some(sets.restrict(&config, restriction, &p)?),
                None => None,
            };
            let pathways = if request.pathways.is_empty() {
                None
            } else {
                let filter = restricted.as_ref().map(|(f, _)| f);
                Some(PathwayInputs::read(&config, &p, request.pathways, filter)?)
            };
            let source_count = p.source.as_ref().map(|s| s.1);
            let derivation =
                Derivation::plan(&p.population, request.direction, source_count, pathways)?;
            work.push(PopulationWork {
                population: p.population,
                nodes_count: Some(p.n_targets),
                restricted,
                derivation,
            });
        }
        Ok(work)
    }

    /// `e`, an error counting population `population`, with a note naming the other populations
    /// of the edge file when the data is at fault and the caller did not name the populations.
    pub fn explain(&self, population: &str, e: Error) -> Error {
        if !matches!(e.innermost(), Error::InvalidData { .. }) {
            return e;
        }
        let spelling = self.spelling;
        match self
            .chosen
            .as_ref()
            .and_then(|c| c.leave_out_note(&[population], |good| spelling.populations(good)))
        {
            Some(note) => e.with_note(&note),
            None => e,
        }
    }
}
