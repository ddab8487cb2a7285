//! The summary numbers of a census population (what `summary.json` and `index.html` show).
//!
//! Definitions: the mean over targets divides by every target, those without synapses included;
//! the median is the middle value of the sorted values (the mean of the two middle values for an
//! even count); a statistic of no values (a population without targets or without connections)
//! is `None` (`null` in JSON, "–" in HTML), never NaN.

use serde::Serialize;

use crate::Census;
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

/// The plots of one population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PopulationPlots {
    /// In-degree distribution: synapses per target.
    pub synapses_per_target: PlotFiles,
    /// Connections (distinct sources) per target.
    pub connections_per_target: PlotFiles,
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
    /// Targets (length of the per-target tables, those without synapses included).
    pub targets: u64,
    /// Targets with at least one synapse.
    pub targets_with_synapses: u64,
    /// Targets without any synapse.
    pub targets_without_synapses: u64,
    /// Edge rows (synapses, except with `nsyns`) per target, over every target.
    pub synapses_per_target: Distribution,
    /// Synapses (sum of bmtk `nsyns`) per target, over every target; `None` without `nsyns`.
    pub nsyns_per_target: Option<Distribution>,
    /// Connections per target, over every target.
    pub connections_per_target: Distribution,
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

    /// Computes the numbers of a population's tables.
    pub fn of(t: &Census, plots: PopulationPlots) -> Self {
        let with = t.target_synapse_count.iter().filter(|&&c| c > 0).count() as u64;
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
            connections: t.connection_count(),
            targets: t.n_targets,
            targets_with_synapses: with,
            targets_without_synapses: t.n_targets - with,
            synapses_per_target: Distribution::of_values(&t.target_synapse_count),
            nsyns_per_target: t.target_nsyns_total.as_deref().map(Distribution::of_values),
            connections_per_target: Distribution::of_values(&t.target_connection_count),
            synapses_per_connection: Distribution::of_frequencies(&t.synapses_per_connection),
            sorted_by_target: t.sortedness.by_target,
            sorted_by_target_source: t.sortedness.by_target_source,
            order: order.to_string(),
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
}
