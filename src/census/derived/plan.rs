//! What a count derives from each population's connection table besides the afferent tables
//! (`count --direction` and `--pathways`; `sonata_census.count(direction=, pathways=)`), planned
//! before any counting so that a bad attribute or index fails first, then computed once the
//! census is counted. The tool and the Python module both go through [`Derivation`], so their
//! files are the same bytes.
//!
//! Memory: the node values of the pathway attributes (4 bytes per node per side and attribute)
//! are read at planning; the efferent transpose needs the per-source tables (32 bytes per
//! source) and one buffer bounded by the caller's budget.

use super::efferent::{SourceSpace, transpose_in_memory};
use super::pathways::{NodeValues, compute_many};
use super::{ConnectionRows, Direction, Efferent, PathwayMatrix};
use crate::census::circuit::CircuitPopulation;
use crate::census::filter::{EdgeFilter, NodeMask};
use crate::census::output::CensusWriter;
use crate::census::{Census, SpilledConnections};
use crate::error::{Error, Result};
use crate::sonata::EdgePopulation;
use crate::sonata::config::CircuitConfig;

/// The node values of the pathway attributes of one edge population, read before counting.
#[derive(Debug, Clone)]
pub struct PathwayInputs {
    /// `(attribute, source node values, target node values)`, in the order asked.
    pub attributes: Vec<(String, NodeValues, NodeValues)>,
    /// The edge population connects a node population to itself (autapses are not possible
    /// pairs: see [`super::pathways`]).
    pub same_population: bool,
}

impl PathwayInputs {
    /// Reads `attributes` of the source and target node populations of circuit population
    /// `cp`, for the nodes of the node sets of `filter` when the census is restricted.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no attribute, or one named twice; [`Error::InvalidData`]
    /// naming the edge population when its source node population is not in the circuit, and
    /// naming the node population for a missing or floating-point attribute; read errors.
    pub fn read(
        config: &CircuitConfig,
        cp: &CircuitPopulation,
        attributes: &[String],
        filter: Option<&EdgeFilter>,
    ) -> Result<Self> {
        if attributes.is_empty() {
            return Err(Error::InvalidArgument(
                "pathways: name at least one node attribute".into(),
            ));
        }
        for (k, a) in attributes.iter().enumerate() {
            if attributes[..k].contains(a) {
                return Err(Error::InvalidArgument(format!(
                    "pathways: node attribute '{a}' is named twice"
                )));
            }
        }
        let Some((source, _)) = &cp.source else {
            return Err(Error::invalid(
                cp.population.location().clone(),
                format!(
                    "the source node population ({}) is not in the circuit {}: pathway \
                     matrices need the source nodes' attributes",
                    cp.population
                        .source_population()
                        .unwrap_or("not named by the file"),
                    config.path.display()
                ),
            ));
        };
        let same_population = *source == cp.target_population;
        let target_nodes = config.open_node_population(&cp.target_population)?;
        let source_nodes = if same_population {
            target_nodes.clone()
        } else {
            config.open_node_population(source)?
        };
        let ids = |mask: Option<&NodeMask>| mask.map(NodeMask::ids);
        let target_ids = ids(filter.and_then(|f| f.targets.as_ref()));
        let source_ids = ids(filter.and_then(|f| f.sources.as_ref()));
        let mut out = Vec::with_capacity(attributes.len());
        for a in attributes {
            let targets = NodeValues::read(&target_nodes, a, target_ids.as_deref())?;
            // One read when both sides are the same nodes.
            let sources = if same_population && source_ids == target_ids {
                targets.clone()
            } else {
                NodeValues::read(&source_nodes, a, source_ids.as_deref())?
            };
            out.push((a.clone(), sources, targets));
        }
        Ok(PathwayInputs {
            attributes: out,
            same_population,
        })
    }

    /// The matrices of every attribute, in one pass over `rows`.
    ///
    /// # Errors
    /// As [`compute_many`].
    pub fn compute(&self, rows: &ConnectionRows<'_>) -> Result<Vec<PathwayMatrix>> {
        let attributes: Vec<(&str, &NodeValues, &NodeValues)> = self
            .attributes
            .iter()
            .map(|(a, s, t)| (a.as_str(), s, t))
            .collect();
        compute_many(rows, &attributes, self.same_population)
    }
}

/// What one population's count derives: its direction (and, for efferent tables, the size of
/// the source space) and its pathway inputs.
#[derive(Debug, Clone)]
pub struct Derivation {
    /// Which tables are written.
    pub direction: Direction,
    /// How many sources the efferent tables have (resolved when they are asked for).
    pub source_space: Option<SourceSpace>,
    /// The pathway attributes' node values, when asked for.
    pub pathways: Option<PathwayInputs>,
}

/// The derived tables of one population, computed in memory.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// The efferent tables (with their connection table), when asked for.
    pub efferent: Option<Efferent>,
    /// The pathway matrices, in the order of the attributes asked.
    pub pathways: Vec<PathwayMatrix>,
}

impl Derivation {
    /// Plans the derived tables of `pop`: `source_count` is the size of its source node
    /// population when a circuit gives it (else the source index, else the largest source).
    ///
    /// # Errors
    /// As [`SourceSpace::resolve`].
    pub fn plan(
        pop: &EdgePopulation,
        direction: Direction,
        source_count: Option<u64>,
        pathways: Option<PathwayInputs>,
    ) -> Result<Self> {
        let source_space = if direction.efferent() {
            Some(SourceSpace::resolve(pop, source_count)?)
        } else {
            None
        };
        Ok(Derivation {
            direction,
            source_space,
            pathways,
        })
    }

    /// Whether anything besides the afferent tables is derived.
    pub fn is_empty(&self) -> bool {
        self.source_space.is_none() && self.pathways.is_none()
    }

    /// Writes the efferent tables and pathway matrices of `census` (whose group `writer` has
    /// written) from its connection table, in memory or `spilled`: the efferent connection
    /// table is streamed into the file through a buffer of `memory_budget` bytes.
    ///
    /// Returns the per-source tables (without their connection table) when written.
    ///
    /// # Errors
    /// As [`CensusWriter::write_efferent`] and [`CensusWriter::write_pathways`].
    pub fn write(
        &self,
        writer: &mut CensusWriter,
        pop: &EdgePopulation,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        memory_budget: u64,
    ) -> Result<Option<Efferent>> {
        if self.is_empty() {
            return Ok(None);
        }
        let rows = ConnectionRows::new(census, spilled)?.with_location(pop.location().clone());
        let efferent = match &self.source_space {
            Some(space) => {
                Some(writer.write_efferent(&census.population, &rows, space, memory_budget)?)
            }
            None => None,
        };
        if let Some(p) = &self.pathways {
            let matrices = p.compute(&rows)?;
            writer.write_pathways(&census.population, &matrices)?;
        }
        Ok(efferent)
    }

    /// The efferent tables and pathway matrices of `census` (its connection table in memory),
    /// held in memory: what the Python module returns.
    ///
    /// # Errors
    /// As [`transpose_in_memory`] and [`PathwayInputs::compute`].
    pub fn compute(
        &self,
        pop: &EdgePopulation,
        census: &Census,
        memory_budget: u64,
    ) -> Result<Derived> {
        if self.is_empty() {
            return Ok(Derived::default());
        }
        let rows = ConnectionRows::new(census, None)?.with_location(pop.location().clone());
        let efferent = match &self.source_space {
            Some(space) => Some(transpose_in_memory(&rows, space, memory_budget)?),
            None => None,
        };
        let pathways = match &self.pathways {
            Some(p) => p.compute(&rows)?,
            None => Vec::new(),
        };
        Ok(Derived { efferent, pathways })
    }

    /// Writes tables computed by [`Derivation::compute`] (byte-identical to
    /// [`Derivation::write`]).
    ///
    /// # Errors
    /// As [`CensusWriter::write_efferent_tables`] and [`CensusWriter::write_pathways`].
    pub fn write_computed(
        writer: &mut CensusWriter,
        population: &str,
        derived: &Derived,
    ) -> Result<()> {
        if let Some(e) = &derived.efferent {
            writer.write_efferent_tables(population, e)?;
        }
        if !derived.pathways.is_empty() {
            writer.write_pathways(population, &derived.pathways)?;
        }
        Ok(())
    }
}
