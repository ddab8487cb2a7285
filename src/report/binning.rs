//! Histogram bins for the report's plots: integer bins, linear or log-spaced.
//!
//! Every value plotted is a non-negative integer count (synapses or connections per target,
//! synapses per connection). Bins are half-open integer ranges `[lo, hi)`. Zero never goes into a
//! bin: it cannot be placed on a log axis, and merging it with small positive values would hide
//! it. Zeros are counted apart ([`Bins::zeros`]) and the plot and the summary state them.
//!
//! Binning rule: when the positive values span at least two decades (`max ≥ 100 · min`) the bins
//! are log-spaced (about [`BINS_PER_DECADE`] per decade, widened to whole integers at the low
//! end, so no bin is empty for lack of an integer inside it); otherwise they are linear, of a
//! "nice" width (1, 2 or 5 × 10^k) giving at most [`MAX_LINEAR_BINS`] bins. A table of
//! frequencies (entry `k` = items of value `k`) of at most [`MAX_LINEAR_BINS`] positive values is
//! plotted one bar per value, as stored.

/// A spread of at least this factor between the largest and the smallest positive value makes the
/// bins (and the axis) logarithmic.
pub const LOG_SPAN: u64 = 100;

/// Log-spaced bins per decade.
pub const BINS_PER_DECADE: f64 = 12.0;

/// Most linear bins.
pub const MAX_LINEAR_BINS: u64 = 60;

/// How bins are spaced, and so how the value axis is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// Equal widths, linear axis.
    Linear,
    /// Widths growing geometrically, log axis.
    Log,
}

/// A histogram of non-negative integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bins {
    /// Bin edges, strictly increasing: bin `i` holds the values in `[edges[i], edges[i + 1])`.
    /// Empty when there is no positive value.
    pub edges: Vec<u64>,
    /// Items per bin (`edges.len() - 1` entries).
    pub counts: Vec<u64>,
    /// Spacing of the edges.
    pub spacing: Spacing,
    /// Items of value 0 (in no bin).
    pub zeros: u64,
}

impl Bins {
    /// Items in bins plus zeros.
    pub fn total(&self) -> u64 {
        self.zeros + self.counts.iter().sum::<u64>()
    }

    /// Whether no positive value exists (nothing to draw as bars).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether bar heights are densities (count ÷ values in the bin) rather than counts: so for
    /// log-spaced bins, whose widths differ, so that a wider bin does not look like a bump.
    pub fn per_value(&self) -> bool {
        self.spacing == Spacing::Log
    }

    /// Bar height of each bin: its count, or for log-spaced bins its count divided by the number
    /// of integers it holds (the mean number of items per value in the bin).
    pub fn heights(&self) -> Vec<f64> {
        self.iter()
            .map(|(lo, hi, c)| {
                if self.per_value() {
                    c as f64 / (hi - lo) as f64
                } else {
                    c as f64
                }
            })
            .collect()
    }

    /// `(smallest, largest)` non-zero bar height, or `None` when every bin is empty.
    pub fn height_range(&self) -> Option<(f64, f64)> {
        let mut it = self.heights().into_iter().filter(|&h| h > 0.0);
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), h| (lo.min(h), hi.max(h))))
    }

    /// Whether the bar heights span at least [`LOG_SPAN`] (so a log count axis shows them
    /// better).
    pub fn heights_span_decades(&self) -> bool {
        self.height_range()
            .is_some_and(|(lo, hi)| hi >= LOG_SPAN as f64 * lo)
    }

    /// Iterates `(lo, hi, count)` for each bin, `hi` exclusive.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.edges
            .windows(2)
            .zip(&self.counts)
            .map(|(w, &c)| (w[0], w[1], c))
    }
}

/// Edges covering `[min, max]` (both ≥ 1, `min ≤ max`), with their spacing.
pub fn choose_edges(min: u64, max: u64) -> (Vec<u64>, Spacing) {
    debug_assert!(min >= 1 && min <= max);
    if max / min >= LOG_SPAN {
        (log_edges(min, max), Spacing::Log)
    } else {
        (linear_edges(min, max), Spacing::Linear)
    }
}

/// Log-spaced integer edges from `min` to past `max`: `min · 10^(i / BINS_PER_DECADE)` rounded,
/// each at least one above the previous.
fn log_edges(min: u64, max: u64) -> Vec<u64> {
    let mut edges = vec![min];
    let mut i = 1.0;
    while let Some(&last) = edges.last() {
        if last > max {
            break;
        }
        let ideal = (min as f64 * 10f64.powf(i / BINS_PER_DECADE)).round();
        // Saturates at u64::MAX for huge values; `last + 1` keeps edges strictly increasing.
        let next = (ideal as u64).max(last.saturating_add(1));
        if next == last {
            break; // u64::MAX reached
        }
        edges.push(next);
        i += 1.0;
    }
    edges
}

/// Linear edges of a nice width (1, 2 or 5 × 10^k), starting at a multiple of the width.
fn linear_edges(min: u64, max: u64) -> Vec<u64> {
    let width = nice_width((max - min).div_ceil(MAX_LINEAR_BINS).max(1));
    let start = min / width * width;
    let mut edges = vec![start];
    while let Some(&last) = edges.last() {
        if last > max {
            break;
        }
        match last.checked_add(width) {
            Some(next) => edges.push(next),
            None => {
                if last < u64::MAX {
                    edges.push(u64::MAX);
                }
                break;
            }
        }
    }
    edges
}

/// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `raw`.
fn nice_width(raw: u64) -> u64 {
    let mut decade = 1u64;
    loop {
        for m in [1, 2, 5] {
            let w = decade.saturating_mul(m);
            if w >= raw {
                return w;
            }
        }
        if decade > u64::MAX / 10 {
            return u64::MAX;
        }
        decade *= 10;
    }
}

/// Index of the bin holding `v` (at least `edges[0]`). The last bin also takes `v ==
/// edges[last]`, which happens only when the last edge saturated at `u64::MAX`.
fn bin_of(edges: &[u64], v: u64) -> usize {
    (edges.partition_point(|&e| e <= v) - 1).min(edges.len() - 2)
}

/// Bins a list of values (one per item, e.g. synapses of each target).
pub fn bin_values(values: &[u64]) -> Bins {
    let zeros = values.iter().filter(|&&v| v == 0).count() as u64;
    let positive = values.iter().copied().filter(|&v| v > 0);
    let (min, max) = match positive.clone().fold(None, |acc: Option<(u64, u64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    }) {
        Some(r) => r,
        None => return empty(zeros),
    };
    let (edges, spacing) = choose_edges(min, max);
    let mut counts = vec![0u64; edges.len() - 1];
    for v in positive {
        counts[bin_of(&edges, v)] += 1;
    }
    Bins {
        edges,
        counts,
        spacing,
        zeros,
    }
}

/// Bins a frequency table: `freq[k]` items have value `k`. With at most [`MAX_LINEAR_BINS`]
/// positive values (up to the last non-zero entry) every value gets its own bar, as stored.
pub fn bin_frequencies(freq: &[u64]) -> Bins {
    let zeros = freq.first().copied().unwrap_or(0);
    let nonzero = |k: &usize| freq[*k] > 0;
    let (Some(min), Some(max)) = (
        (1..freq.len()).find(nonzero),
        (1..freq.len()).rev().find(nonzero),
    ) else {
        return empty(zeros);
    };
    let (min, max) = (min as u64, max as u64);
    let (edges, spacing) = if max <= MAX_LINEAR_BINS {
        ((1..=max + 1).collect(), Spacing::Linear)
    } else {
        choose_edges(min, max)
    };
    let mut counts = vec![0u64; edges.len() - 1];
    for (k, &n) in freq.iter().enumerate().skip(1) {
        if n > 0 {
            counts[bin_of(&edges, k as u64)] += n;
        }
    }
    Bins {
        edges,
        counts,
        spacing,
        zeros,
    }
}

fn empty(zeros: u64) -> Bins {
    Bins {
        edges: Vec::new(),
        counts: Vec::new(),
        spacing: Spacing::Linear,
        zeros,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the invariants every binning must keep, against a direct count.
    fn check(values: &[u64], bins: &Bins) {
        assert!(bins.edges.windows(2).all(|w| w[0] < w[1]), "{bins:?}");
        assert_eq!(bins.counts.len(), bins.edges.len().saturating_sub(1));
        assert_eq!(bins.total(), values.len() as u64);
        assert_eq!(
            bins.zeros,
            values.iter().filter(|&&v| v == 0).count() as u64
        );
        for (lo, hi, c) in bins.iter() {
            let direct = values.iter().filter(|&&v| v >= lo && v < hi).count() as u64;
            assert_eq!(c, direct, "bin [{lo}, {hi})");
        }
        if let (Some(&first), Some(&last)) = (bins.edges.first(), bins.edges.last()) {
            let pos: Vec<u64> = values.iter().copied().filter(|&v| v > 0).collect();
            assert!(first <= *pos.iter().min().unwrap());
            assert!(last > *pos.iter().max().unwrap());
        }
    }

    #[test]
    fn narrow_data_gets_linear_unit_bins() {
        let values = [3, 4, 4, 5, 9, 0, 0];
        let b = bin_values(&values);
        check(&values, &b);
        assert_eq!(b.spacing, Spacing::Linear);
        assert_eq!(b.edges, (3..=10).collect::<Vec<_>>());
        assert_eq!(b.counts, vec![1, 2, 1, 0, 0, 0, 1]);
        assert_eq!(b.zeros, 2);
    }

    #[test]
    fn wider_linear_data_gets_nice_widths_and_at_most_60_bins() {
        let values: Vec<u64> = (500..=4000).step_by(7).collect();
        let b = bin_values(&values);
        check(&values, &b);
        assert_eq!(b.spacing, Spacing::Linear);
        let w = b.edges[1] - b.edges[0];
        assert_eq!(w, 100, "3500 / 60 = 58.3 rounds up to the nice width 100");
        assert_eq!(b.edges[0], 500);
        assert!(b.counts.len() as u64 <= MAX_LINEAR_BINS);
        assert!(b.edges.windows(2).all(|e| e[1] - e[0] == w));
    }

    #[test]
    fn data_spanning_decades_gets_log_bins() {
        let values: Vec<u64> = (0..4000).map(|i| 1 + i * i).collect();
        let b = bin_values(&values);
        check(&values, &b);
        assert_eq!(b.spacing, Spacing::Log);
        // Widths grow; at the low end they are whole integers (1, 2, …), never zero.
        let widths: Vec<u64> = b.edges.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(widths[0], 1);
        assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
        // About BINS_PER_DECADE bins per decade: 1 .. 1.6e7 is 7.2 decades.
        let n = b.counts.len() as f64;
        assert!((75.0..=95.0).contains(&n), "{n} bins");
    }

    #[test]
    fn exactly_two_decades_switches_to_log() {
        assert_eq!(choose_edges(1, 99).1, Spacing::Linear);
        assert_eq!(choose_edges(1, 100).1, Spacing::Log);
        assert_eq!(choose_edges(10, 999).1, Spacing::Linear);
        assert_eq!(choose_edges(10, 1000).1, Spacing::Log);
    }

    #[test]
    fn all_zeros_or_nothing_gives_no_bins() {
        let b = bin_values(&[0, 0, 0]);
        assert!(b.is_empty());
        assert_eq!(b.zeros, 3);
        assert_eq!(b.total(), 3);
        let b = bin_values(&[]);
        assert!(b.is_empty());
        assert_eq!(b.total(), 0);
        assert_eq!(b.height_range(), None);
        assert!(!b.heights_span_decades());
    }

    #[test]
    fn one_value_gives_one_bin() {
        let b = bin_values(&[7]);
        check(&[7], &b);
        assert_eq!(b.edges, vec![7, 8]);
        assert_eq!(b.counts, vec![1]);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let values = [1, u64::MAX - 1, u64::MAX];
        let b = bin_values(&values);
        assert_eq!(b.spacing, Spacing::Log);
        assert_eq!(b.counts.iter().sum::<u64>(), 3);
        assert!(b.edges.windows(2).all(|w| w[0] < w[1]));
        // u64::MAX itself cannot be below an exclusive edge: it lands in the last bin.
        assert_eq!(*b.counts.last().unwrap(), 2);
        let values = [u64::MAX - 5, u64::MAX];
        let b = bin_values(&values);
        assert_eq!(b.spacing, Spacing::Linear);
        assert_eq!(b.counts.iter().sum::<u64>(), 2);
    }

    #[test]
    fn frequency_table_is_plotted_as_stored_when_short() {
        let freq = [0, 10, 0, 5, 1];
        let b = bin_frequencies(&freq);
        assert_eq!(b.edges, vec![1, 2, 3, 4, 5]);
        assert_eq!(b.counts, vec![10, 0, 5, 1]);
        assert_eq!(b.zeros, 0);
        assert_eq!(b.spacing, Spacing::Linear);
    }

    #[test]
    fn long_frequency_table_is_binned_like_its_values() {
        let mut freq = vec![0u64; 5001];
        let mut values = Vec::new();
        for k in [1usize, 2, 2, 3, 70, 800, 5000, 5000] {
            freq[k] += 1;
            values.push(k as u64);
        }
        let b = bin_frequencies(&freq);
        assert_eq!(b.spacing, Spacing::Log);
        assert_eq!(b, bin_values(&values));
        check(&values, &b);
        assert_eq!(bin_frequencies(&[]), bin_values(&[]));
        assert_eq!(bin_frequencies(&[4]).zeros, 4);
    }

    #[test]
    fn height_span_decides_the_count_axis() {
        let b = Bins {
            edges: vec![1, 2, 3, 4],
            counts: vec![1, 0, 100],
            spacing: Spacing::Linear,
            zeros: 0,
        };
        assert_eq!(b.heights(), vec![1.0, 0.0, 100.0]);
        assert_eq!(b.height_range(), Some((1.0, 100.0)));
        assert!(b.heights_span_decades());
        let b = Bins {
            counts: vec![2, 0, 100],
            ..b
        };
        assert!(!b.heights_span_decades());
    }

    #[test]
    fn log_bins_are_drawn_as_densities() {
        // Bins [1, 2), [2, 4), [4, 10): 3 items in the last are 0.5 per value.
        let b = Bins {
            edges: vec![1, 2, 4, 10],
            counts: vec![5, 4, 3],
            spacing: Spacing::Log,
            zeros: 1,
        };
        assert!(b.per_value());
        assert_eq!(b.heights(), vec![5.0, 2.0, 0.5]);
        assert_eq!(b.height_range(), Some((0.5, 5.0)));
        // A smooth power law stays smooth: no bump where bins start holding several integers.
        let values: Vec<u64> = (1..=100_000u64)
            .flat_map(|k| std::iter::repeat_n(k, (1_000_000 / (k * k)) as usize))
            .collect();
        let b = bin_values(&values);
        assert_eq!(b.spacing, Spacing::Log);
        let h = b.heights();
        let nonzero: Vec<f64> = h.iter().copied().take_while(|&x| x > 0.0).collect();
        assert!(nonzero.len() > 30, "{h:?}");
        assert!(
            nonzero.windows(2).all(|w| w[1] <= w[0]),
            "densities of a decreasing law must decrease: {nonzero:?}"
        );
    }
}
