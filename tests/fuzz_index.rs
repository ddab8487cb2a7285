//! Property tests (proptest) of index resolution and selection merging against naive references.
//!
//! - `EdgeIndex::resolve` / `validate` on arbitrary, often malformed, in-memory index tables
//!   (`EdgeIndex::in_memory`, thousands of cases without HDF5) and arbitrary query ids: either an
//!   `InvalidData` error, exactly when a row the query reaches is malformed, or exactly libsonata's
//!   answer, computed row by row into a set;
//! - the same through real HDF5 files (`afferent_edges`, `efferent_edges`, `connecting_edges`,
//!   both spellings, uint64 and int64 tables), on fewer cases;
//! - `Selection::from_ranges`, `from_values`, `flatten`, `flat_size` and `intersect` against
//!   `BTreeSet` computations.
//!
//! Each property runs a bounded number of cases by default (the whole file takes a few seconds);
//! `PROPTEST_CASES=N` runs N cases of every property instead. See README "Tests".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

#[path = "common/props.rs"]
mod props;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use props::config;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use sonata_census::sonata::index::{
    EdgeIndex, INDEX_MAX_BLOCK_ROWS, INDEX_MERGE_GAP_ROWS, intersect,
};
use sonata_census::{EdgeFile, Error, Selection};

// ---------------------------------------------------------------------------------------------
// Index tables

/// An index (both tables), its edge count, the storage type and query ids.
#[derive(Debug, Clone)]
struct IndexCase {
    nodes: Vec<[u64; 2]>,
    ranges: Vec<[u64; 2]>,
    edge_count: u64,
    signed: bool,
    queries: Vec<u64>,
}

/// A row before it is fitted to a table: a kind and two raw values. Kept independent of the
/// table sizes (no `prop_flat_map`) so that shrinking works element by element: kinds shrink
/// towards 0 (well formed), values towards 0.
type RawRow = (u8, u64, u64);

fn raw_row() -> impl Strategy<Value = RawRow> {
    (0u8..12, any::<u64>(), any::<u64>())
}

/// The row `[a, b)` a raw row stands for in a table pointing into `0..len`: mostly well formed
/// (possibly empty), sometimes inverted or past the end, sometimes huge (negative as int64).
fn fit(&(kind, x, y): &RawRow, len: u64) -> [u64; 2] {
    match kind {
        0..=7 => {
            let (a, b) = (x % (len + 1), y % (len + 1));
            [a.min(b), a.max(b)]
        }
        8 | 9 => [x % (len + 3), y % (len + 3)],
        10 => [x, y % (len + 1)],
        _ => [x % (len + 1), y],
    }
}

fn index_case() -> impl Strategy<Value = IndexCase> {
    let query = prop_oneof![
        10 => 0u64..28,
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ];
    (
        proptest::collection::vec(raw_row(), 0..24),
        proptest::collection::vec(raw_row(), 0..24),
        0u64..64,
        any::<bool>(),
        proptest::collection::vec(query, 0..12),
    )
        .prop_map(|(nodes, ranges, edge_count, signed, queries)| IndexCase {
            nodes: nodes.iter().map(|r| fit(r, ranges.len() as u64)).collect(),
            ranges: ranges.iter().map(|r| fit(r, edge_count)).collect(),
            edge_count,
            signed,
            queries,
        })
}

/// Whether row `[a, b)` is malformed for a table whose rows point into `0..limit`.
fn malformed(r: [u64; 2], limit: u64, signed: bool) -> bool {
    let negative = signed && ((r[0] as i64) < 0 || (r[1] as i64) < 0);
    negative || r[0] > r[1] || r[1] > limit
}

/// libsonata's `resolve`, the obvious way: query ids deduplicated, ids past the index dropped,
/// every row reached expanded into a set of edge ids. `Err(())` when a reached row is malformed
/// (libsonata would drop or misread it; this crate reports it).
fn naive_resolve(c: &IndexCase, queries: &[u64]) -> Result<BTreeSet<u64>, ()> {
    let n_ranges = c.ranges.len() as u64;
    let mut rows = BTreeSet::new();
    for &q in queries.iter().collect::<BTreeSet<_>>() {
        let Some(&r) = c.nodes.get(q as usize).filter(|_| q < c.nodes.len() as u64) else {
            continue;
        };
        if malformed(r, n_ranges, c.signed) {
            return Err(());
        }
        rows.extend(r[0]..r[1]);
    }
    let mut edges = BTreeSet::new();
    for row in rows {
        let r = c.ranges[row as usize];
        if malformed(r, c.edge_count, c.signed) {
            return Err(());
        }
        edges.extend(r[0]..r[1]);
    }
    Ok(edges)
}

/// A selection is canonical: non-empty ranges, ascending, neither overlapping nor touching.
fn assert_canonical(s: &Selection) -> Result<(), TestCaseError> {
    for &(a, b) in s.ranges() {
        prop_assert!(a < b, "empty range in {:?}", s.ranges());
    }
    for w in s.ranges().windows(2) {
        prop_assert!(w[0].1 < w[1].0, "unmerged ranges in {:?}", s.ranges());
    }
    Ok(())
}

fn as_set(s: &Selection) -> BTreeSet<u64> {
    s.flatten().into_iter().collect()
}

fn check_invalid_data(e: &Error) -> Result<(), TestCaseError> {
    prop_assert!(matches!(e, Error::InvalidData { .. }), "{e:?}");
    let msg = e.to_string();
    prop_assert!(
        msg.contains("node_id_to_range") || msg.contains("range_to_edge_id"),
        "the error names the dataset: {msg}"
    );
    Ok(())
}

/// Checks one in-memory case; returns whether the query resolved (true) or failed as it must.
fn check_resolve(c: &IndexCase, gap: u64, max_block: u64) -> Result<bool, TestCaseError> {
    let want = naive_resolve(c, &c.queries);
    let index = EdgeIndex::in_memory(&c.nodes, &c.ranges, c.signed, c.edge_count, gap, max_block);
    let real = EdgeIndex::in_memory(
        &c.nodes,
        &c.ranges,
        c.signed,
        c.edge_count,
        INDEX_MERGE_GAP_ROWS,
        INDEX_MAX_BLOCK_ROWS,
    );
    for (what, index) in [("small blocks", &index), ("libsonata blocks", &real)] {
        match (index.resolve(&c.queries), &want) {
            (Ok(got), Ok(want)) => {
                assert_canonical(&got)?;
                prop_assert_eq!(&as_set(&got), want, "{}", what);
                prop_assert_eq!(got.flat_size(), want.len() as u64);
            }
            (Err(e), Err(())) => check_invalid_data(&e)?,
            (got, want) => prop_assert!(false, "{what}: got {got:?}, want {want:?}"),
        }
    }
    let all_valid = c
        .nodes
        .iter()
        .all(|&r| !malformed(r, c.ranges.len() as u64, c.signed))
        && c.ranges
            .iter()
            .all(|&r| !malformed(r, c.edge_count, c.signed));
    match index.validate() {
        Ok(()) => prop_assert!(all_valid, "validate accepted a malformed index"),
        Err(e) => {
            prop_assert!(!all_valid, "validate rejected a valid index: {e}");
            check_invalid_data(&e)?;
        }
    }
    if all_valid {
        // Every node at once: the union of all ranges.
        let every: Vec<u64> = (0..c.nodes.len() as u64).collect();
        let want = naive_resolve(c, &every).unwrap_or_default();
        let got = index.resolve(&every).map(|s| as_set(&s));
        prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(want));
    }
    Ok(want.is_ok())
}

/// In-memory index: `resolve` is the libsonata answer or an error exactly when a reached row is
/// malformed, whatever the block planning; `validate` fails exactly when some row is malformed,
/// and a valid index never fails to resolve. Both outcomes must be frequent, or the strategy has
/// degenerated.
#[test]
fn resolve_matches_the_naive_reference() {
    let config = config(4000);
    let cases = config.cases as usize;
    let (resolved, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config);
    let strategy = (index_case(), 0u64..6, 0u64..8);
    let result = runner.run(&strategy, |(c, gap, max_block)| {
        let counter = if check_resolve(&c, gap, max_block)? {
            &resolved
        } else {
            &failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (resolved, failed) = (resolved.into_inner(), failed.into_inner());
    eprintln!("{cases} cases: {resolved} resolved, {failed} malformed");
    assert!(
        resolved >= cases / 5 && failed >= cases / 10,
        "{resolved} / {failed}"
    );
}

// ---------------------------------------------------------------------------------------------
// The same through HDF5 files

fn write_rows(g: &hdf5::Group, name: &str, r: &[[u64; 2]], signed: bool) {
    let flat: Vec<u64> = r.concat();
    if signed {
        let v: Vec<i64> = flat.iter().map(|&x| x as i64).collect();
        let a = ndarray::Array2::from_shape_vec((r.len(), 2), v).unwrap();
        g.new_dataset_builder().with_data(&a).create(name).unwrap();
    } else {
        let a = ndarray::Array2::from_shape_vec((r.len(), 2), flat).unwrap();
        g.new_dataset_builder().with_data(&a).create(name).unwrap();
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// `afferent_edges`, `efferent_edges` and `connecting_edges` read from real files (both
    /// spellings of the per-node dataset, uint64 or int64 tables) agree with the naive reference
    /// and with the in-memory index.
    #[test]
    fn file_indices_match_the_naive_reference(
        target in index_case(),
        source in index_case(),
        bmtk in any::<bool>(),
    ) {
        // One population: both indices must describe the same edge count.
        let edge_count = target.edge_count;
        let source = IndexCase { edge_count, ..source };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.h5");
        {
            let file = hdf5::File::create(&path).unwrap();
            let g = file.create_group("edges/pop").unwrap();
            let ids = vec![0u64; edge_count as usize];
            g.new_dataset_builder().with_data(&ids).create("source_node_id").unwrap();
            g.new_dataset_builder().with_data(&ids).create("target_node_id").unwrap();
            for (dir, c) in [("target_to_source", &target), ("source_to_target", &source)] {
                let ig = g.create_group(&format!("indices/{dir}")).unwrap();
                let nodes_name = if bmtk { "node_id_to_range" } else { "node_id_to_ranges" };
                write_rows(&ig, nodes_name, &c.nodes, c.signed);
                write_rows(&ig, "range_to_edge_id", &c.ranges, c.signed);
            }
        }
        let file = EdgeFile::open(&path).unwrap();
        let pop = file.population("pop").unwrap();
        let afferent = pop.afferent_edges(&target.queries);
        let efferent = pop.efferent_edges(&source.queries);
        for (got, c) in [(&afferent, &target), (&efferent, &source)] {
            match (got, naive_resolve(c, &c.queries)) {
                (Ok(got), Ok(want)) => {
                    assert_canonical(got)?;
                    prop_assert_eq!(as_set(got), want);
                    let memory = EdgeIndex::in_memory(&c.nodes, &c.ranges, c.signed, edge_count, 4, 4);
                    prop_assert_eq!(Ok(got.clone()), memory.resolve(&c.queries).map_err(|e| e.to_string()));
                }
                (Err(e), Err(())) => check_invalid_data(e)?,
                (got, want) => prop_assert!(false, "got {got:?}, want {want:?}"),
            }
        }
        let connecting = pop.connecting_edges(&source.queries, &target.queries);
        match (afferent, efferent, connecting) {
            (Ok(a), Ok(e), Ok(c)) => {
                assert_canonical(&c)?;
                let want: BTreeSet<u64> = as_set(&a).intersection(&as_set(&e)).copied().collect();
                prop_assert_eq!(as_set(&c), want);
            }
            (Ok(_), Ok(_), Err(e)) => prop_assert!(false, "connecting_edges failed alone: {e}"),
            (_, _, Err(e)) => check_invalid_data(&e)?,
            (a, e, Ok(c)) => prop_assert!(false, "connecting_edges gave {c:?} but {a:?} / {e:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Selections

/// Ranges anywhere in `0..=u64::MAX` (clustered near 0 and near the top so that they overlap),
/// inverted and empty ones included.
fn any_ranges() -> impl Strategy<Value = Vec<(u64, u64)>> {
    let bound = prop_oneof![
        4 => 0u64..40,
        1 => (u64::MAX - 40)..=u64::MAX,
        1 => any::<u64>(),
    ];
    proptest::collection::vec((bound.clone(), bound), 0..12)
}

/// Small ranges (their flattened size stays small enough to enumerate).
fn small_ranges() -> impl Strategy<Value = Vec<(u64, u64)>> {
    let near = prop_oneof![3 => 0u64..60, 1 => (u64::MAX - 60)..=u64::MAX];
    proptest::collection::vec((near, 0u64..8), 0..12).prop_map(|v| {
        v.into_iter()
            .map(|(a, len)| (a, a.saturating_add(len)))
            .collect()
    })
}

fn naive_set(ranges: &[(u64, u64)]) -> BTreeSet<u64> {
    ranges.iter().flat_map(|&(a, b)| a..b).collect()
}

proptest! {
    #![proptest_config(config(2000))]

    /// `from_ranges` keeps exactly the ids of the non-empty ranges, canonically; it is
    /// idempotent and does not depend on the order of the ranges.
    #[test]
    fn from_ranges_is_the_set_union(ranges in small_ranges(), wide in any_ranges()) {
        let s = Selection::from_ranges(ranges.clone());
        assert_canonical(&s)?;
        let want = naive_set(&ranges);
        prop_assert_eq!(&as_set(&s), &want);
        prop_assert_eq!(s.flat_size(), want.len() as u64);
        prop_assert_eq!(s.is_empty(), want.is_empty());
        prop_assert_eq!(Selection::from_ranges(s.ranges().to_vec()), s.clone());
        let mut reversed = ranges.clone();
        reversed.reverse();
        prop_assert_eq!(Selection::from_ranges(reversed), s.clone());
        prop_assert_eq!(Selection::from_values(&s.flatten()), s);

        // Wide ranges: compared through their boundaries, not flattened.
        let w = Selection::from_ranges(wide.clone());
        assert_canonical(&w)?;
        let mut valid: Vec<(u64, u64)> = wide.iter().copied().filter(|&(a, b)| a < b).collect();
        valid.sort_unstable();
        // Each id is inside some input range iff it is inside some output range: check every
        // boundary and its neighbours.
        let probes: BTreeSet<u64> = wide
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .flat_map(|x| [x.saturating_sub(1), x, x.saturating_add(1)])
            .collect();
        for x in probes {
            let inside = valid.iter().any(|&(a, b)| a <= x && x < b);
            let got = w.ranges().iter().any(|&(a, b)| a <= x && x < b);
            prop_assert_eq!(got, inside, "id {} in {:?} -> {:?}", x, wide, w.ranges());
        }
    }

    /// `from_values` is the set of the values, whatever their order and duplicates.
    #[test]
    fn from_values_is_the_set(values in proptest::collection::vec(
        prop_oneof![4 => 0u64..50, 1 => (u64::MAX - 50)..=u64::MAX, 1 => any::<u64>()], 0..40)
    ) {
        let s = Selection::from_values(&values);
        assert_canonical(&s)?;
        let want: BTreeSet<u64> = values.iter().copied().filter(|&v| v < u64::MAX).collect();
        prop_assert_eq!(s.flatten(), want.iter().copied().collect::<Vec<_>>());
        prop_assert_eq!(s.flat_size(), want.len() as u64);
    }

    /// `intersect` (as `connecting_edges` uses it) is the set intersection.
    #[test]
    fn intersect_is_the_set_intersection(a in small_ranges(), b in small_ranges()) {
        let (sa, sb) = (Selection::from_ranges(a.clone()), Selection::from_ranges(b.clone()));
        let got = intersect(&sa, &sb);
        assert_canonical(&got)?;
        let want: BTreeSet<u64> = naive_set(&a).intersection(&naive_set(&b)).copied().collect();
        prop_assert_eq!(as_set(&got), want);
        prop_assert_eq!(intersect(&sb, &sa), got.clone());
        prop_assert_eq!(intersect(&sa, &sa), sa);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: findings of the properties above, fixed

/// Found by `file_indices_match_the_naive_reference`: a negative value in an int64 index row
/// that no queried node reaches, but that lies between two reached rows, failed the whole query
/// (the check ran over every row of the block read). It must only fail queries reaching it.
#[test]
fn regression_negative_row_between_wanted_rows_is_not_read_as_wanted() {
    let negative = (-5i64) as u64;
    // Node 1's row and range row 1 are negative; nodes 0 and 2 reach range rows 0 and 2.
    let nodes = [[0, 1], [negative, 2], [2, 3]];
    let ranges = [[0, 1], [negative, negative], [2, 3]];
    for (gap, block) in [(4, 4), (INDEX_MERGE_GAP_ROWS, INDEX_MAX_BLOCK_ROWS)] {
        let index = EdgeIndex::in_memory(&nodes, &ranges, true, 3, gap, block);
        assert_eq!(index.resolve(&[0]).unwrap().ranges(), &[(0, 1)]);
        // Nodes 0 and 2 are read in one block with node 1's row, range rows 0 and 2 with row 1.
        let both = index.resolve(&[2, 0]).unwrap();
        assert_eq!(both.ranges(), &[(0, 1), (2, 3)]);
        let err = index.resolve(&[1]).unwrap_err().to_string();
        assert!(err.contains("negative value -5 at row 1"), "{err}");
        assert!(err.contains("node_id_to_ranges"), "{err}");
        assert!(index.validate().is_err());
    }
    // The same through an int64 file, where it was found.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.h5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let g = file.create_group("edges/pop").unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64; 3])
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&[0u64; 3])
            .create("target_node_id")
            .unwrap();
        let ig = g.create_group("indices/target_to_source").unwrap();
        write_rows(&ig, "node_id_to_ranges", &nodes, true);
        write_rows(&ig, "range_to_edge_id", &ranges, true);
    }
    let pop = EdgeFile::open(&path).unwrap().population("pop").unwrap();
    assert_eq!(
        pop.afferent_edges(&[0, 2]).unwrap().ranges(),
        &[(0, 1), (2, 3)]
    );
    let err = pop.afferent_edges(&[1]).unwrap_err().to_string();
    assert!(err.contains("negative value -5 at row 1"), "{err}");
}

/// Found by `from_values_is_the_set`: `Selection::from_values(&[u64::MAX])` overflowed
/// (`x + 1`): a panic in debug builds, the inverted range `(u64::MAX, 0)` in release builds.
#[test]
fn regression_from_values_of_u64_max() {
    assert!(Selection::from_values(&[u64::MAX]).is_empty());
    let s = Selection::from_values(&[u64::MAX, u64::MAX - 1, 3, u64::MAX]);
    assert_eq!(s.ranges(), &[(3, 4), (u64::MAX - 1, u64::MAX)]);
}
