//! The summary numbers of a census population (what `summary.json` and `index.html` show).
//!
//! Definitions: the mean over targets divides by every target, those without synapses included;
//! the median is the middle value of the sorted values (the mean of the two middle values for an
//! even count); a statistic of no values (a population without targets or without connections)
//! is `None` (`null` in JSON, "–" in HTML), never NaN.

use serde::Serialize;

use crate::Census;
use crate::census::derived::{Direction, Efferent, PathwayMatrix};
use crate::census::provenance::Restriction;
use crate::census::reader::nsyns_total;
use crate::census::schema::UNKNOWN_POPULATION;

/// Mean, median, smallest and largest of a list of counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Distribution {
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Median (mean of the two middle values for an even count).
    pub median: Option<f64>,
    /// Smallest value.
    pub min: Option<u64>,
    /// Largest value.
    pub max: Option<u64>,
}

impl Distribution {
    /// Of a list of values.
    pub fn of_values(values: &[u64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Distribution::none();
        }
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        let mut sorted = values.to_vec();
        let (below, &mut upper, _) = sorted.select_nth_unstable(n / 2);
        let median = if n % 2 == 1 {
            upper as f64
        } else {
            // The lower middle value is the largest of the lower half.
            let lower = below.iter().copied().max().unwrap_or(upper);
            (lower as f64 + upper as f64) / 2.0
        };
        Distribution {
            mean: Some(sum as f64 / n as f64),
            median: Some(median),
            min: values.iter().copied().min(),
            max: values.iter().copied().max(),
        }
    }

    /// Of a frequency table: `freq[k]` items have value `k`.
    pub fn of_frequencies(freq: &[u64]) -> Self {
        let n: u128 = freq.iter().map(|&c| u128::from(c)).sum();
        if n == 0 {
            return Distribution::none();
        }
        let sum: u128 = freq
            .iter()
            .enumerate()
            .map(|(k, &c)| k as u128 * u128::from(c))
            .sum();
        let at_rank = |rank: u128| -> u64 {
            let mut seen = 0u128;
            for (k, &c) in freq.iter().enumerate() {
                seen += u128::from(c);
                if seen > rank {
                    return k as u64;
                }
            }
            (freq.len() - 1) as u64
        };
        let median = if n % 2 == 1 {
            at_rank(n / 2) as f64
        } else {
            (at_rank(n / 2 - 1) as f64 + at_rank(n / 2) as f64) / 2.0
        };
        Distribution {
            mean: Some(sum as f64 / n as f64),
            median: Some(median),
            min: freq.iter().position(|&c| c > 0).map(|k| k as u64),
            max: freq.iter().rposition(|&c| c > 0).map(|k| k as u64),
        }
    }

    fn none() -> Self {
        Distribution {
            mean: None,
            median: None,
            min: None,
            max: None,
        }
    }
}

/// Relative paths (from the report folder) of one plot's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlotFiles {
    /// Bitmap.
    pub png: String,
    /// Vector.
    pub svg: String,
}

/// Relative paths of one heatmap's files, and its size (which grows with the matrix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeatmapFiles {
    /// Bitmap.
    pub png: String,
    /// Vector.
    pub svg: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The plots of one population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PopulationPlots {
    /// In-degree distribution: synapses per target; `None` (`null`) for an efferent-only
    /// census, which has no per-target tables.
    pub synapses_per_target: Option<PlotFiles>,
    /// Connections (distinct sources) per target; `None` for an efferent-only census.
    pub connections_per_target: Option<PlotFiles>,
    /// Out-degree distribution: synapses per source; `None` without efferent tables.
    pub synapses_per_source: Option<PlotFiles>,
    /// Connections (distinct targets) per source; `None` without efferent tables.
    pub connections_per_source: Option<PlotFiles>,
    /// Synapses per connection, from the stored histogram.
    pub synapses_per_connection: PlotFiles,
    /// Synapses (sum of bmtk `nsyns`) per target; `None` (`null`) without `nsyns`.
    pub nsyns_per_target: Option<PlotFiles>,
}

/// Summary numbers of one census population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationSummary {
    /// Edge population.
    pub population: String,
    /// Source node population ("unknown" when the edge file did not record it).
    pub source_node_population: String,
    /// Target node population ("unknown" when the edge file did not record it).
    pub target_node_population: String,
    /// Edge rows. Every other count of this summary but `synapses` and `nsyns_per_target`
    /// counts edge rows: a row is one synapse, except in bmtk files with `nsyns`.
    pub edges: u64,
    /// Synapses: the sum of bmtk `nsyns` when the census has it (`synapses_from` = `"nsyns"`),
    /// else the edge rows (`"edge rows"`).
    pub synapses: u64,
    /// What `synapses` counts: `"nsyns"` or `"edge rows"`.
    pub synapses_from: String,
    /// Connections: distinct (source, target) pairs.
    pub connections: u64,
    /// Which tables the census holds: `afferent`, `efferent` or `both`. The per-target
    /// numbers below are `None` (`null`) for `efferent`, the per-source ones (`efferent`) for
    /// `afferent`.
    pub direction: String,
    /// How the census was restricted to node sets; `None` for a census of every edge.
    pub restriction: Option<RestrictionSummary>,
    /// Targets (length of the per-target tables, those without synapses included).
    pub targets: Option<u64>,
    /// Targets with at least one synapse.
    pub targets_with_synapses: Option<u64>,
    /// Targets without any synapse.
    pub targets_without_synapses: Option<u64>,
    /// Edge rows (synapses, except with `nsyns`) per target, over every target.
    pub synapses_per_target: Option<Distribution>,
    /// Synapses (sum of bmtk `nsyns`) per target, over every target; `None` without `nsyns`.
    pub nsyns_per_target: Option<Distribution>,
    /// Connections per target, over every target.
    pub connections_per_target: Option<Distribution>,
    /// The per-source numbers; `None` without efferent tables.
    pub efferent: Option<EfferentSummary>,
    /// One entry per pathway attribute, in the file's order.
    pub pathways: Vec<PathwaySummary>,
    /// Edge rows (synapses, except with `nsyns`) per connection, over every connection.
    pub synapses_per_connection: Distribution,
    /// Edges never decrease in target id.
    pub sorted_by_target: bool,
    /// Sorted by target, then source.
    pub sorted_by_target_source: bool,
    /// The order in words: "sorted by (target, source)", "sorted by target" or "unsorted".
    pub order: String,
    /// The plot files.
    pub plots: PopulationPlots,
}

impl PopulationSummary {
    /// Whether the counts come from a bmtk census with `nsyns` (edge rows are then not synapses).
    pub fn has_nsyns(&self) -> bool {
        self.nsyns_per_target.is_some()
    }

    /// Computes the numbers of a population's tables: `t` carries the afferent tables when
    /// `direction` has them (else only its attributes and `synapses_per_connection` are
    /// meaningful), `efferent` the efferent ones; the pathway summaries are given.
    pub fn of(
        t: &Census,
        direction: Direction,
        restriction: Option<&Restriction>,
        efferent: Option<&Efferent>,
        pathways: Vec<PathwaySummary>,
        plots: PopulationPlots,
    ) -> Self {
        let afferent = direction.afferent();
        let with = t.target_synapse_count.iter().filter(|&&c| c > 0).count() as u64;
        let efferent = efferent.map(EfferentSummary::of);
        // Without the per-target tables the connections are counted by source.
        let connections = match (&efferent, afferent) {
            (Some(e), false) => e.connections,
            _ => t.connection_count(),
        };
        let order = if t.sortedness.by_target_source {
            "sorted by (target, source)"
        } else if t.sortedness.by_target {
            "sorted by target"
        } else {
            "unsorted"
        };
        let name = |p: &Option<String>| p.clone().unwrap_or_else(|| UNKNOWN_POPULATION.to_string());
        PopulationSummary {
            population: t.population.clone(),
            source_node_population: name(&t.source_population),
            target_node_population: name(&t.target_population),
            edges: t.edge_count,
            synapses: if t.target_nsyns_total.is_some() {
                nsyns_total(t)
            } else {
                t.edge_count
            },
            synapses_from: if t.target_nsyns_total.is_some() {
                "nsyns"
            } else {
                "edge rows"
            }
            .to_string(),
            connections,
            direction: direction.as_str().to_string(),
            restriction: restriction.map(|r| RestrictionSummary::of(r, t.edge_count)),
            targets: afferent.then_some(t.n_targets),
            targets_with_synapses: afferent.then_some(with),
            targets_without_synapses: afferent.then(|| t.n_targets.saturating_sub(with)),
            synapses_per_target: afferent.then(|| Distribution::of_values(&t.target_synapse_count)),
            nsyns_per_target: t.target_nsyns_total.as_deref().map(Distribution::of_values),
            connections_per_target: afferent
                .then(|| Distribution::of_values(&t.target_connection_count)),
            efferent,
            pathways,
            synapses_per_connection: Distribution::of_frequencies(&t.synapses_per_connection),
            sorted_by_target: t.sortedness.by_target,
            sorted_by_target_source: t.sortedness.by_target_source,
            order: order.to_string(),
            plots,
        }
    }
}

/// How a census was restricted to node sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictionSummary {
    /// The node set the targets were restricted to.
    pub target_node_set: Option<String>,
    /// The node set the sources were restricted to.
    pub source_node_set: Option<String>,
    /// The names of the node-sets files the sets came from.
    pub node_sets_files: Vec<String>,
    /// Every edge of the population.
    pub population_edge_count: u64,
    /// The edges counted (between the node sets): the census's `edges`.
    pub edges_counted: u64,
    /// In words: `target node set 'A', source node set 'B'`.
    pub description: String,
}

impl RestrictionSummary {
    /// Of a restriction record and the census's edge count.
    pub fn of(r: &Restriction, edges_counted: u64) -> Self {
        RestrictionSummary {
            target_node_set: r.target_node_set.clone(),
            source_node_set: r.source_node_set.clone(),
            node_sets_files: r.node_sets_files.clone(),
            population_edge_count: r.population_edge_count,
            edges_counted,
            description: r.describe(),
        }
    }
}

/// The per-source numbers of a census with efferent tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EfferentSummary {
    /// Sources (length of the per-source tables, those without synapses included).
    pub sources: u64,
    /// Where the number of sources comes from, in words (as recorded).
    pub n_sources_origin: String,
    /// Sources with at least one synapse (edge row).
    pub sources_with_synapses: u64,
    /// Sources without any.
    pub sources_without_synapses: u64,
    /// Connections: the sum of connections per source.
    pub connections: u64,
    /// Edge rows (synapses, except with `nsyns`) per source, over every source.
    pub synapses_per_source: Distribution,
    /// Connections (distinct targets) per source, over every source.
    pub connections_per_source: Distribution,
}

impl EfferentSummary {
    /// Of the efferent tables.
    pub fn of(e: &Efferent) -> Self {
        let with = e.source_synapse_count.iter().filter(|&&c| c > 0).count() as u64;
        let sources = e.source_synapse_count.len() as u64;
        let connections: u128 = e
            .source_connection_count
            .iter()
            .map(|&c| u128::from(c))
            .sum();
        EfferentSummary {
            sources,
            n_sources_origin: e.n_sources_origin.clone(),
            sources_with_synapses: with,
            sources_without_synapses: sources - with,
            connections: u64::try_from(connections).unwrap_or(u64::MAX),
            synapses_per_source: Distribution::of_values(&e.source_synapse_count),
            connections_per_source: Distribution::of_values(&e.source_connection_count),
        }
    }
}

/// The heatmaps of one pathway attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathwayPlots {
    /// Synapses per (source value, target value).
    pub synapses: HeatmapFiles,
    /// Connections per pair of values.
    pub connections: HeatmapFiles,
    /// Connection probability (connections ÷ possible connections).
    pub probability: HeatmapFiles,
    /// Mean synapses per connection.
    pub synapses_per_connection: HeatmapFiles,
}

/// The totals of one pathway attribute's matrices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathwaySummary {
    /// The node attribute.
    pub attribute: String,
    /// Values of the source nodes (rows).
    pub source_values: u64,
    /// Values of the target nodes (columns).
    pub target_values: u64,
    /// Source nodes counted (the sum over values).
    pub source_nodes: u64,
    /// Target nodes counted.
    pub target_nodes: u64,
    /// Synapses (edge rows): the sum of the matrix.
    pub synapses: u64,
    /// Connections: the sum of the matrix.
    pub connections: u64,
    /// Possible connections: the sum of the matrix.
    pub pair_count: u64,
    /// `connections / pair_count`; `None` without a possible pair.
    pub connection_probability: Option<f64>,
    /// `synapses / connections`; `None` without a connection.
    pub synapses_per_connection: Option<f64>,
    /// The heatmaps.
    pub plots: PathwayPlots,
}

impl PathwaySummary {
    /// Of a pathway matrix and its heatmaps' files. Sums that do not fit 64 bits saturate (they
    /// cannot: each is at most the edges, or the pairs of nodes, of the census).
    pub fn of(m: &PathwayMatrix, plots: PathwayPlots) -> Self {
        let sum = |v: &[u64]| -> u64 {
            u64::try_from(v.iter().map(|&x| u128::from(x)).sum::<u128>()).unwrap_or(u64::MAX)
        };
        let (synapses, connections, pair_count) =
            (sum(&m.synapses), sum(&m.connections), sum(&m.pair_count));
        PathwaySummary {
            attribute: m.attribute.clone(),
            source_values: m.source_values.len() as u64,
            target_values: m.target_values.len() as u64,
            source_nodes: sum(&m.source_node_count),
            target_nodes: sum(&m.target_node_count),
            synapses,
            connections,
            pair_count,
            connection_probability: (pair_count > 0)
                .then(|| connections as f64 / pair_count as f64),
            synapses_per_connection: (connections > 0)
                .then(|| synapses as f64 / connections as f64),
            plots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let d = Distribution::of_values(&[5, 1, 3]);
        assert_eq!(d.median, Some(3.0));
        assert_eq!(d.mean, Some(3.0));
        assert_eq!((d.min, d.max), (Some(1), Some(5)));
        let d = Distribution::of_values(&[10, 1, 4, 3]);
        assert_eq!(d.median, Some(3.5));
        assert_eq!(d.mean, Some(4.5));
        let d = Distribution::of_values(&[7]);
        assert_eq!(
            (d.mean, d.median, d.min, d.max),
            (Some(7.0), Some(7.0), Some(7), Some(7))
        );
    }

    #[test]
    fn no_values_gives_none_not_nan() {
        let d = Distribution::of_values(&[]);
        assert_eq!(d, Distribution::none());
        let d = Distribution::of_frequencies(&[]);
        assert_eq!(d, Distribution::none());
        let d = Distribution::of_frequencies(&[0, 0]);
        assert_eq!(d, Distribution::none());
    }

    #[test]
    fn frequencies_agree_with_the_values_they_count() {
        let freq = [0u64, 3, 0, 2, 1, 0, 0, 4];
        let mut values = Vec::new();
        for (k, &c) in freq.iter().enumerate() {
            values.extend(std::iter::repeat_n(k as u64, c as usize));
        }
        assert_eq!(
            Distribution::of_frequencies(&freq),
            Distribution::of_values(&values)
        );
        let odd = [0u64, 1, 1, 1];
        assert_eq!(Distribution::of_frequencies(&odd).median, Some(2.0));
    }

    fn files(stem: &str) -> HeatmapFiles {
        HeatmapFiles {
            png: format!("{stem}.png"),
            svg: format!("{stem}.svg"),
            width: 960,
            height: 600,
        }
    }

    #[test]
    fn pathway_totals_and_ratios() {
        use crate::census::derived::PathwayValues;
        let m = PathwayMatrix {
            attribute: "layer".into(),
            source_values: PathwayValues::Integers(vec![1, 2]),
            target_values: PathwayValues::Strings(vec!["a".into()]),
            source_node_count: vec![3, 4],
            target_node_count: vec![5],
            synapses: vec![6, 0],
            connections: vec![3, 0],
            pair_count: vec![15, 20],
        };
        let plots = PathwayPlots {
            synapses: files("s"),
            connections: files("c"),
            probability: files("p"),
            synapses_per_connection: files("spc"),
        };
        let p = PathwaySummary::of(&m, plots.clone());
        assert_eq!((p.source_values, p.target_values), (2, 1));
        assert_eq!((p.source_nodes, p.target_nodes), (7, 5));
        assert_eq!((p.synapses, p.connections, p.pair_count), (6, 3, 35));
        assert_eq!(p.connection_probability, Some(3.0 / 35.0));
        assert_eq!(p.synapses_per_connection, Some(2.0));
        let empty = PathwayMatrix {
            synapses: vec![0, 0],
            connections: vec![0, 0],
            pair_count: vec![0, 0],
            ..m
        };
        let p = PathwaySummary::of(&empty, plots);
        assert_eq!(p.connection_probability, None);
        assert_eq!(p.synapses_per_connection, None);
    }

    #[test]
    fn efferent_numbers() {
        let e = Efferent {
            n_sources: 4,
            n_sources_origin: "test".into(),
            source_synapse_count: vec![0, 5, 1, 0],
            source_connection_count: vec![0, 2, 1, 0],
            source_offsets: vec![0, 0, 2, 3, 3],
            target_node_id: Vec::new(),
            synapse_count: Vec::new(),
        };
        let s = EfferentSummary::of(&e);
        assert_eq!(
            (
                s.sources,
                s.sources_with_synapses,
                s.sources_without_synapses
            ),
            (4, 2, 2)
        );
        assert_eq!(s.connections, 3);
        assert_eq!(s.synapses_per_source.max, Some(5));
        assert_eq!(s.connections_per_source.median, Some(0.5));
    }
}
