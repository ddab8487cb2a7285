//! The CPU census engine on arbitrary bytes read as id arrays, written to a small HDF5 file, with
//! arbitrary chunk lengths, memory budgets (spills), node counts (index, `--nodes-count`, too
//! small), column types and orders: every table must equal the naive reference of
//! `tests/common` exactly, or the engine must give the typed error naming the first edge beyond
//! the node count.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{Ids, assert_same_tables, naive_census, write_edges, write_target_index};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sonata_census::census::{Backend, CensusOptions, census_population};
use sonata_census::progress::Progress;
use sonata_census::{EdgeFile, Error};

struct Case {
    targets: Vec<u64>,
    sources: Vec<u64>,
    ids: Ids,
    options: CensusOptions,
    /// The node count the tables must have (`None`: largest target + 1).
    n_targets: Option<u64>,
    index: bool,
}

fn case(u: &mut Unstructured) -> Result<Case> {
    let chunk_len = match u.int_in_range(0..=9u8)? {
        0 => 1 << 18,
        1 => u.int_in_range(10..=1000)?,
        _ => u.int_in_range(1..=9)?,
    };
    let memory_budget = match u.int_in_range(0..=2u8)? {
        0 => 1 << 30,
        1 => u.int_in_range(0..=63)?,
        _ => u.int_in_range(64..=4096)?,
    };
    let order: u8 = u.int_in_range(0..=4)?;
    let nodes: u8 = u.int_in_range(0..=3)?;
    let extra: u64 = u.int_in_range(0..=4)?;
    let ids: u8 = u.int_in_range(0..=2)?;
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    while !u.is_empty() {
        let t: u64 = match u.int_in_range(0..=63u8)? {
            0 => u64::from(u32::MAX) - 1 + u.int_in_range(0..=2)?,
            1 => u.arbitrary()?,
            _ => u64::from(u.arbitrary::<u8>()? % 64),
        };
        let s: u64 = match u.int_in_range(0..=15u8)? {
            0 => u64::from(u32::MAX) - 2 + u.int_in_range(0..=4)?,
            1 => u.arbitrary()?,
            2 => u64::from(u.arbitrary::<u16>()?),
            _ => u64::from(u.arbitrary::<u8>()? % 8),
        };
        pairs.push((t, s));
    }
    match order {
        0 => pairs.sort_unstable(),
        1 => pairs.sort_by_key(|p| p.0),
        2 => {}
        3 => pairs.sort_unstable_by(|a, b| b.cmp(a)),
        _ => {
            pairs.sort_unstable();
            if !pairs.is_empty() {
                let first = pairs.remove(0);
                pairs.push(first);
            }
        }
    }
    let max_target = pairs.iter().map(|p| p.0).max();
    let top = max_target.map_or(0, |m| m + 1);
    // Target ids of 2^20 and more: only a node count below them keeps the tables small.
    let huge = max_target.is_some_and(|m| m >= 1 << 20);
    let (n_targets, nodes_count, index) = match nodes {
        _ if huge => (Some(64), Some(64), false),
        0 => (None, None, false),
        1 => (Some(top + extra), Some(top + extra), false),
        2 => (Some(top + extra), None, true),
        _ => {
            let n = max_target.unwrap_or(0) * extra / 4;
            (Some(n), Some(n), false)
        }
    };
    let largest = pairs.iter().map(|p| p.0.max(p.1)).max().unwrap_or(0);
    let ids = match ids {
        1 if largest <= i64::MAX as u64 => Ids::I64,
        2 if largest <= u64::from(u32::MAX) => Ids::U32,
        _ => Ids::U64,
    };
    Ok(Case {
        targets: pairs.iter().map(|p| p.0).collect(),
        sources: pairs.iter().map(|p| p.1).collect(),
        ids,
        options: CensusOptions {
            nodes_count,
            chunk_len,
            memory_budget,
            spill_dir: Some(scratch().join("spill")),
            backend: Backend::Cpu,
        },
        n_targets,
        index,
    })
}

/// This process's scratch folder (in /dev/shm when there is one: files are rewritten per run).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("sonata-census-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("spill")).expect("scratch folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(c) = case(&mut Unstructured::new(data)) else {
        return;
    };
    let path = scratch().join("case.h5");
    let _ = std::fs::remove_file(&path);
    write_edges(&path, "p", &c.sources, &c.targets, c.ids);
    if c.index {
        write_target_index(&path, "p", &c.targets, c.n_targets.unwrap_or(0));
    }
    let got = {
        let file = EdgeFile::open(&path).expect("open");
        let pop = file.population("p").expect("population");
        census_population(&pop, &c.options, &Progress::hidden())
    };
    let bad = c
        .n_targets
        .and_then(|n| c.targets.iter().position(|&t| t >= n));
    match (got, bad) {
        (Ok(got), None) => {
            let want = naive_census(&c.sources, &c.targets, c.n_targets);
            assert_same_tables(&got, &want, "cpu");
        }
        (Err(e), Some(row)) => {
            assert!(matches!(e.innermost(), Error::InvalidData { .. }), "{e:?}");
            let needle = format!("target node id {} at row {row}", c.targets[row]);
            assert!(e.to_string().contains(&needle), "{e} should say '{needle}'");
        }
        (got, bad) => panic!("got {:?}, first bad edge {bad:?}", got.map(|c| c.n_targets)),
    }
    let left = std::fs::read_dir(scratch().join("spill")).map_or(0, |d| d.count());
    assert_eq!(left, 0, "spill files left behind");
});
