//! `EdgeIndex::resolve` and `validate` on arbitrary, often malformed, in-memory index tables and
//! arbitrary query ids, against the naive libsonata reference (as `tests/fuzz_index.rs`): the
//! answer is exactly the set of edge ids of the rows the query reaches, or an `InvalidData`
//! error exactly when one of those rows is malformed.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sonata_census::sonata::index::{EdgeIndex, INDEX_MAX_BLOCK_ROWS, INDEX_MERGE_GAP_ROWS};
use sonata_census::{Error, Selection};

#[derive(Debug)]
struct Case {
    nodes: Vec<[u64; 2]>,
    ranges: Vec<[u64; 2]>,
    edge_count: u64,
    signed: bool,
    gap: u64,
    max_block: u64,
    queries: Vec<u64>,
}

/// A row pointing into `0..len`: mostly well formed, sometimes inverted, past the end or huge.
fn row(u: &mut Unstructured, len: u64) -> Result<[u64; 2]> {
    let kind: u8 = u.int_in_range(0..=11)?;
    let (x, y): (u64, u64) = (u.arbitrary()?, u.arbitrary()?);
    Ok(match kind {
        0..=7 => {
            let (a, b) = (x % (len + 1), y % (len + 1));
            [a.min(b), a.max(b)]
        }
        8 | 9 => [x % (len + 3), y % (len + 3)],
        10 => [x, y % (len + 1)],
        _ => [x % (len + 1), y],
    })
}

fn case(u: &mut Unstructured) -> Result<Case> {
    let n_nodes: usize = u.int_in_range(0..=64)?;
    let n_ranges: usize = u.int_in_range(0..=64)?;
    let edge_count: u64 = u.int_in_range(0..=256)?;
    let signed: bool = u.arbitrary()?;
    let gap: u64 = u.int_in_range(0..=8)?;
    let max_block: u64 = u.int_in_range(0..=16)?;
    let mut ranges = Vec::with_capacity(n_ranges);
    for _ in 0..n_ranges {
        ranges.push(row(u, edge_count)?);
    }
    let mut nodes = Vec::with_capacity(n_nodes);
    for _ in 0..n_nodes {
        nodes.push(row(u, n_ranges as u64)?);
    }
    let mut queries = Vec::new();
    while !u.is_empty() && queries.len() < 64 {
        let q: u64 = match u.int_in_range(0..=9u8)? {
            0 => u.arbitrary()?,
            _ => u.int_in_range(0..=n_nodes as u64 + 3)?,
        };
        queries.push(q);
    }
    Ok(Case {
        nodes,
        ranges,
        edge_count,
        signed,
        gap,
        max_block,
        queries,
    })
}

fn malformed(r: [u64; 2], limit: u64, signed: bool) -> bool {
    let negative = signed && ((r[0] as i64) < 0 || (r[1] as i64) < 0);
    negative || r[0] > r[1] || r[1] > limit
}

fn naive_resolve(c: &Case, queries: &[u64]) -> std::result::Result<BTreeSet<u64>, ()> {
    let mut rows = BTreeSet::new();
    for &q in queries.iter().collect::<BTreeSet<_>>() {
        if q >= c.nodes.len() as u64 {
            continue;
        }
        let r = c.nodes[q as usize];
        if malformed(r, c.ranges.len() as u64, c.signed) {
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

fn check(got: sonata_census::Result<Selection>, want: &std::result::Result<BTreeSet<u64>, ()>) {
    match (got, want) {
        (Ok(got), Ok(want)) => {
            for w in got.ranges().windows(2) {
                assert!(w[0].1 < w[1].0, "not canonical: {:?}", got.ranges());
            }
            assert!(
                got.ranges().iter().all(|&(a, b)| a < b),
                "{:?}",
                got.ranges()
            );
            let set: BTreeSet<u64> = got.flatten().into_iter().collect();
            assert_eq!(&set, want);
        }
        (Err(e), Err(())) => assert!(matches!(e, Error::InvalidData { .. }), "{e:?}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(c) = case(&mut Unstructured::new(data)) else {
        return;
    };
    let want = naive_resolve(&c, &c.queries);
    let small = EdgeIndex::in_memory(
        &c.nodes,
        &c.ranges,
        c.signed,
        c.edge_count,
        c.gap,
        c.max_block,
    );
    let real = EdgeIndex::in_memory(
        &c.nodes,
        &c.ranges,
        c.signed,
        c.edge_count,
        INDEX_MERGE_GAP_ROWS,
        INDEX_MAX_BLOCK_ROWS,
    );
    check(small.resolve(&c.queries), &want);
    check(real.resolve(&c.queries), &want);
    let all_valid = c
        .nodes
        .iter()
        .all(|&r| !malformed(r, c.ranges.len() as u64, c.signed))
        && c.ranges
            .iter()
            .all(|&r| !malformed(r, c.edge_count, c.signed));
    assert_eq!(small.validate().is_ok(), all_valid, "validate");
    if all_valid {
        let every: Vec<u64> = (0..c.nodes.len() as u64).collect();
        check(small.resolve(&every), &naive_resolve(&c, &every));
    }
});
