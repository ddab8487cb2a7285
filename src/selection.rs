//! Edge selections: sorted, merged, half-open ranges of edge ids (libsonata `Selection`).

/// A set of edge ids as half-open ranges `[start, end)`.
///
/// Selections built by [`Selection::from_ranges`] and [`Selection::from_values`] are canonical:
/// ranges sorted, non-empty, and touching or overlapping ranges merged — what libsonata's
/// `afferent_edges` returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    ranges: Vec<(u64, u64)>,
}

impl Selection {
    /// The empty selection.
    pub fn empty() -> Self {
        Selection::default()
    }

    /// All edges `0..n`.
    pub fn all(n: u64) -> Self {
        Selection::from_ranges(vec![(0, n)])
    }

    /// Canonical selection from any ranges: empty and inverted ranges dropped, sorted, merged.
    pub fn from_ranges(mut ranges: Vec<(u64, u64)>) -> Self {
        ranges.retain(|&(a, b)| a < b);
        sort_and_merge(&mut ranges);
        Selection { ranges }
    }

    /// Canonical selection from edge ids (any order, duplicates allowed).
    ///
    /// `u64::MAX` is dropped: no half-open range holds it, and no population has 2^64 rows.
    pub fn from_values(values: &[u64]) -> Self {
        let mut v = values.to_vec();
        v.sort_unstable();
        v.dedup();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for x in v {
            let Some(end) = x.checked_add(1) else {
                continue;
            };
            match ranges.last_mut() {
                Some(last) if last.1 == x => last.1 = end,
                _ => ranges.push((x, end)),
            }
        }
        Selection { ranges }
    }

    /// The ranges.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Number of edge ids selected.
    pub fn flat_size(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| b - a).sum()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// All selected edge ids, ascending.
    pub fn flatten(&self) -> Vec<u64> {
        self.ranges.iter().flat_map(|&(a, b)| a..b).collect()
    }
}

/// Sorts ranges by start and merges those that overlap or touch (libsonata `sortAndMerge`, gap 1).
pub(crate) fn sort_and_merge(ranges: &mut Vec<(u64, u64)>) {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(a, b) in ranges.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *ranges = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_ranges_sorts_merges_and_drops_empty() {
        let s = Selection::from_ranges(vec![(4, 6), (0, 2), (2, 3), (7, 7), (9, 8), (5, 8)]);
        assert_eq!(s.ranges(), &[(0, 3), (4, 8)]);
        assert_eq!(s.flat_size(), 7);
        assert_eq!(s.flatten(), vec![0, 1, 2, 4, 5, 6, 7]);
    }

    #[test]
    fn from_values_dedups_and_merges_runs() {
        let s = Selection::from_values(&[5, 1, 2, 2, 3, 9, 5]);
        assert_eq!(s.ranges(), &[(1, 4), (5, 6), (9, 10)]);
        assert!(Selection::from_values(&[]).is_empty());
    }
}
