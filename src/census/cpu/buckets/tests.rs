//! The bucketed strategy against a naive grouping.

use super::*;

/// The connections of `(target, source)` edges, naively: per target, sorted distinct sources
/// with their multiplicities.
/// `(target, synapses, connections)` per target, sources, counts.
type Naive = (Vec<(u64, u64, u64)>, Vec<u64>, Vec<u32>);

fn naive(edges: &[(u64, u64)]) -> Naive {
    let mut sorted = edges.to_vec();
    sorted.sort_unstable();
    let (mut runs, mut sources, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].0;
        let mut j = i;
        let mut conns = 0;
        while j < sorted.len() && sorted[j].0 == t {
            let mut k = j;
            while k < sorted.len() && sorted[k] == sorted[j] {
                k += 1;
            }
            sources.push(sorted[j].1);
            counts.push((k - j) as u32);
            conns += 1;
            j = k;
        }
        runs.push((t, (j - i) as u64, conns));
        i = j;
    }
    (runs, sources, counts)
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.max(1);
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Every bucket of a partition counted in order equals the naive census, for dense and
/// sparse targets, skewed in-degrees, several workers, and targets past the bound.
#[test]
fn buckets_equal_naive_grouping() {
    let at = Location::file("x");
    for (seed, n_edges, n_targets, bound, workers) in [
        (1u64, 0usize, 10u64, 10u64, 1usize),
        (2, 1, 1, 1, 1),
        (3, 5000, 300, 300, 2),
        (4, 70_000, 5000, 5000, 3),
        // Targets far beyond the bound: the last bucket is sparse.
        (5, 20_000, 1 << 31, 1000, 2),
        // Skewed: most edges on a few targets.
        (6, 50_000, 100_000, 100_000, 4),
        // Sources of up to 32 bits: a local target and a source do not share one u32 key.
        (8, 30_000, 2000, 2000, 2),
        // Sources of 20 bits: packed keys of several digits.
        (10, 40_000, 3000, 3000, 2),
        // Sources that pack in the first half only: the packed keys are widened midway.
        (12, 30_000, 4000, 4000, 2),
    ] {
        let mut next = xorshift(seed);
        let edges: Vec<(u64, u64)> = (0..n_edges)
            .map(|_| {
                let r = next();
                let t = if seed == 6 && !r.is_multiple_of(4) {
                    r % 7
                } else {
                    next() % n_targets
                };
                let source_range = [50, 1 << 20, 1 << 32][(seed % 3) as usize];
                (t, next() % source_range)
            })
            .collect();
        let mut edges = edges;
        if seed == 12 {
            let half = edges.len() / 2;
            for (i, e) in edges.iter_mut().enumerate() {
                e.1 = if i < half { e.1 % 50 } else { e.1 % (1 << 31) };
            }
        }
        let bucketing = Bucketing::new(n_edges as u64, bound);
        let (ts, ss): (Vec<u64>, Vec<u64>) = edges.iter().copied().unzip();
        let digits = SourceDigits::new(ss.iter().copied().max().unwrap_or(0));
        // Every way the pairs are kept: packed when they pack (widened at the first chunk
        // that does not), wide from the start.
        for packed in [true, false] {
            let mut pairs = if packed {
                Pairs::new(&bucketing, workers, 0)
            } else {
                Pairs::Wide(
                    (0..workers)
                        .map(|_| BucketSet::new(bucketing.len(), 0))
                        .collect(),
                )
            };
            for (tc, sc) in ts.chunks(777).zip(ss.chunks(777)) {
                pairs.partition(&bucketing, tc, sc, true, 0, true);
            }
            pairs.flush();
            // Packed exactly when every edge packs.
            let max_source = ss.iter().copied().max().unwrap_or(0);
            let max_target = ts.iter().copied().max().unwrap_or(0);
            let packable = bucketing
                .packed_source_bits()
                .is_some_and(|bits| max_source >> bits == 0)
                && max_target < bucketing.packed_target_end();
            assert_eq!(
                matches!(pairs, Pairs::Packed { .. }),
                packed && packable,
                "seed {seed}"
            );
            let mut merged = TargetRuns::default();
            let mut scratch = GroupScratch::default();
            for b in 0..bucketing.len() {
                let piece = pairs
                    .take(&bucketing, b)
                    .count(digits, &mut scratch, &at)
                    .unwrap();
                merged.runs.extend(piece.runs);
                merged.sources.extend(piece.sources);
                merged.counts.extend(piece.counts);
            }
            let (runs, sources, counts) = naive(&edges);
            assert_eq!(merged.runs, runs, "seed {seed}, packed {packed}");
            assert_eq!(merged.sources, sources, "seed {seed}, packed {packed}");
            assert_eq!(merged.counts, counts, "seed {seed}, packed {packed}");
        }
    }
}

#[test]
fn bucketing_covers_bound_and_clamps() {
    let b = Bucketing::new(1 << 20, 100_000);
    assert!(b.len() as u64 <= MAX_BUCKETS && b.len() >= 2);
    assert_eq!(b.bucket(0), 0);
    assert_eq!(b.bucket(99_999), b.len() - 1);
    assert_eq!(b.bucket(u64::from(u32::MAX)), b.len() - 1);
    let one = Bucketing::new(10, 1);
    assert_eq!(one.len(), 1);
}

/// A bucket of packed keys (`local target << layout_bits | source`) from `(local target,
/// source)` edges.
fn packed_keys(edges: &[(u64, u64)], layout_bits: u32) -> Vec<u32> {
    edges
        .iter()
        .map(|&(t, s)| ((t << layout_bits) | s) as u32)
        .collect()
}

/// The dense path equals the radix path (and the naive grouping) on seeded random buckets:
/// sizes around the group and line sizes, skewed targets and sources, every key in one
/// target, duplicates heavy and absent, keys split over several workers' parts, and a target
/// with more than `u16::MAX` synapses (of one source and of several), whose counters would
/// overflow.
#[test]
fn dense_bucket_equals_radix_bucket() {
    let at = Location::file("x");
    let target_bits = 8;
    let layout_bits = 32 - target_bits;
    let first_target = 5 << target_bits;
    let layout = PackedLayout {
        first_target,
        target_bits,
        source_bits: layout_bits,
    };
    let mut cases: Vec<(String, Vec<(u64, u64)>)> = Vec::new();
    for (seed, n) in [0usize, 1, 2, 15, 16, 17, 255, 256, 4095, 25_600, 70_000]
        .into_iter()
        .enumerate()
    {
        let mut rng = xorshift(seed as u64 + 100);
        let sources = [1u64, 7, 1000, 100_000, 1 << 22][seed % 5];
        let edges: Vec<(u64, u64)> = (0..n)
            .map(|_| {
                let t = match seed % 3 {
                    0 => rng() % 256,
                    1 => (rng() % 256).min(rng() % 256).min(rng() % 256), // skewed
                    _ => 17,                                              // one target
                };
                let s = if seed % 2 == 0 {
                    rng() % sources
                } else {
                    (rng() % sources).min(rng() % sources) // skewed sources
                };
                (t, s)
            })
            .collect();
        cases.push((format!("seed {seed}, {n} keys, sources < {sources}"), edges));
    }
    // Counters that would overflow u16: one target, one source, then several sources.
    cases.push(("u16 overflow, one source".into(), vec![(3, 9); 70_000]));
    cases.push((
        "u16 overflow, several sources".into(),
        (0..140_000u64)
            .map(|i| (200, i % 3))
            .chain([(1, 4)])
            .collect(),
    ));
    let mut scratch = GroupScratch::default();
    for (name, edges) in &cases {
        let keys = packed_keys(edges, layout_bits);
        let max_source = edges.iter().map(|e| e.1).max().unwrap_or(0);
        let digits = SourceDigits::new(max_source);
        assert!(dense_applies(keys.len(), layout, digits.bits()), "{name}");
        let third = keys.len() / 3;
        let parts = [&keys[..third], &keys[third..2 * third], &keys[2 * third..]];
        let dense =
            count_dense_bucket(&parts, layout, digits.bits(), &mut scratch.dense, &at).unwrap();
        let radix = count_packed_bucket(&parts, layout, digits, &mut scratch, &at).unwrap();
        assert_eq!(dense.runs, radix.runs, "{name}");
        assert_eq!(dense.sources, radix.sources, "{name}");
        assert_eq!(dense.counts, radix.counts, "{name}");
        let global: Vec<(u64, u64)> = edges.iter().map(|&(t, s)| (first_target + t, s)).collect();
        let (runs, sources, counts) = naive(&global);
        assert_eq!(dense.runs, runs, "{name}");
        assert_eq!(dense.sources, sources, "{name}");
        assert_eq!(dense.counts, counts, "{name}");
    }
}

#[test]
fn dense_applies_only_where_its_arrays_fit() {
    let layout = PackedLayout {
        first_target: 0,
        target_bits: 8,
        source_bits: 24,
    };
    assert!(dense_applies(1000, layout, 17));
    assert!(dense_applies(1000, layout, dense::DENSE_MAX_SOURCE_BITS));
    assert!(!dense_applies(
        1000,
        layout,
        dense::DENSE_MAX_SOURCE_BITS + 1
    ));
    // Targets too sparse for a counting sort over the bucket's span.
    let sparse = PackedLayout {
        first_target: 0,
        target_bits: 22,
        source_bits: 10,
    };
    assert!(!dense_applies(1000, sparse, 10));
    assert!(dense_applies(1 << 21, sparse, 10));
}
