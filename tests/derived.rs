//! The derived tables of a census (`census::derived`): the efferent census and pathway
//! matrices, compared with a naive recount straight from the edge file's id columns (a BTreeMap
//! of (source, target) → synapses), from in-memory and spilled connection tables alike, and
//! their file round trips (written, read back, byte-identical whichever way they were written).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod cell_fixtures;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{Ids, Rng, locked, write_edges};
use sonata_census::census::derived::efferent::{
    ORIGIN_LARGEST_SOURCE_ID, ORIGIN_NODE_POPULATION, SourceSpace, transpose, transpose_in_memory,
};
use sonata_census::census::derived::pathways::{NOT_COUNTED, NodeValues, compute, compute_many};
use sonata_census::census::derived::{
    ConnectionRows, Direction, Efferent, PathwayMatrix, PathwayValues,
};
use sonata_census::census::output::{CensusWriter, Record};
use sonata_census::census::reader::{CensusFile, ConnectionTable};
use sonata_census::census::{
    Backend, CensusOptions, SpilledConnections, census_population, census_population_spilled,
};
use sonata_census::progress::Progress;
use sonata_census::sonata::nodes::NodeFile;
use sonata_census::{Census, EdgeFile, Error};

/// (source, target) → synapses, from the id columns.
fn naive_pairs(sources: &[u64], targets: &[u64]) -> BTreeMap<(u64, u64), u32> {
    let mut m = BTreeMap::new();
    for (&s, &t) in sources.iter().zip(targets) {
        *m.entry((s, t)).or_insert(0u32) += 1;
    }
    m
}

/// The efferent tables of the pairs over `n_sources` sources.
fn naive_efferent(pairs: &BTreeMap<(u64, u64), u32>, n_sources: u64, origin: &str) -> Efferent {
    let n = n_sources as usize;
    let mut e = Efferent {
        n_sources,
        n_sources_origin: origin.to_string(),
        source_synapse_count: vec![0; n],
        source_connection_count: vec![0; n],
        source_offsets: vec![0],
        target_node_id: Vec::new(),
        synapse_count: Vec::new(),
    };
    for (&(s, t), &c) in pairs {
        e.source_synapse_count[s as usize] += u64::from(c);
        e.source_connection_count[s as usize] += 1;
        e.target_node_id.push(t);
        e.synapse_count.push(c);
    }
    let mut total = 0;
    for &c in &e.source_connection_count {
        total += c;
        e.source_offsets.push(total);
    }
    e
}

/// Random edges: `n` rows over `n_nodes` sources and targets, shuffled, with autapses.
fn random_edges(rng: &mut Rng, n: usize, n_nodes: u64) -> (Vec<u64>, Vec<u64>) {
    let sources: Vec<u64> = (0..n).map(|_| rng.below(n_nodes)).collect();
    let targets: Vec<u64> = (0..n).map(|_| rng.below(n_nodes)).collect();
    (sources, targets)
}

/// The in-memory census and the spilled one (connection table on disk) of an edge file.
fn censuses(
    path: &Path,
    spill_dir: &Path,
    n_targets: u64,
) -> (Census, Census, Option<SpilledConnections>) {
    let file = EdgeFile::open(path).unwrap();
    let pop = file.population("p").unwrap();
    let options = CensusOptions {
        nodes_count: Some(n_targets),
        backend: Backend::Cpu,
        spill_dir: Some(spill_dir.to_path_buf()),
        ..Default::default()
    };
    let progress = Progress::hidden();
    let memory = census_population(&pop, &options, &progress).unwrap();
    let (census, spilled) =
        census_population_spilled(&pop, &options, &progress, &mut Vec::new(), 0).unwrap();
    (memory, census, spilled)
}

fn edge_file(dir: &Path, name: &str, sources: &[u64], targets: &[u64]) -> std::path::PathBuf {
    let path = dir.join(name);
    locked(|| write_edges(&path, "p", sources, targets, Ids::U64));
    path
}

#[test]
fn efferent_tables_equal_the_naive_recount_for_every_budget_and_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    for (case, (n, n_nodes)) in [(0usize, 5u64), (1, 3), (300, 7), (5000, 60), (4000, 1)]
        .into_iter()
        .enumerate()
    {
        let (sources, targets) = random_edges(&mut rng, n, n_nodes);
        let path = edge_file(dir.path(), &format!("e{case}.h5"), &sources, &targets);
        let (memory, census, spilled) = censuses(&path, dir.path(), n_nodes);
        let pairs = naive_pairs(&sources, &targets);
        let largest = sources.iter().max().map_or(0, |&s| s + 1);
        for space in [
            SourceSpace {
                n_sources: None,
                origin: ORIGIN_LARGEST_SOURCE_ID.into(),
            },
            SourceSpace {
                n_sources: Some(n_nodes + 3),
                origin: ORIGIN_NODE_POPULATION.into(),
            },
        ] {
            let want = naive_efferent(&pairs, space.n_sources.unwrap_or(largest), &space.origin);
            for budget in [1u64, 12, 100, 1000, 1 << 30] {
                let what = format!("case {case}, {space:?}, budget {budget}");
                let in_memory = ConnectionRows::new(&memory, None).unwrap();
                let on_disk = ConnectionRows::new(&census, spilled.as_ref()).unwrap();
                for rows in [&in_memory, &on_disk] {
                    let got = transpose_in_memory(rows, &space, budget).unwrap();
                    assert_eq!(got, want, "{what}");
                    // The streamed form: blocks in row order, the same table.
                    let mut next = 0u64;
                    let mut blocks = 0;
                    let mut targets = Vec::new();
                    let bare = transpose(rows, &space, budget, |first, t, c| {
                        assert_eq!(first, next, "{what}");
                        assert_eq!(t.len(), c.len());
                        next += t.len() as u64;
                        blocks += 1;
                        targets.extend_from_slice(t);
                        Ok(())
                    })
                    .unwrap();
                    assert_eq!(targets, want.target_node_id, "{what}");
                    assert!(bare.target_node_id.is_empty() && bare.synapse_count.is_empty());
                    assert_eq!(bare.source_offsets, want.source_offsets, "{what}");
                    if budget == 12 && pairs.len() > 1 && n_nodes > 1 {
                        assert!(blocks > 1, "{what}: a tiny budget makes several ranges");
                    }
                }
            }
        }
    }
}

#[test]
fn a_source_beyond_the_given_source_count_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = edge_file(dir.path(), "e.h5", &[0, 9, 2], &[1, 1, 0]);
    let (memory, _, _) = censuses(&path, dir.path(), 2);
    let rows = ConnectionRows::new(&memory, None).unwrap();
    let space = SourceSpace {
        n_sources: Some(5),
        origin: ORIGIN_NODE_POPULATION.into(),
    };
    let err = transpose_in_memory(&rows, &space, 1 << 20).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidData { .. }), "{text}");
    assert!(
        text.contains("population 'p'") && text.contains("source id 9") && text.contains('5'),
        "{text}"
    );
    // resolve: a given size wins; without one and without an index, the largest id.
    let file = EdgeFile::open(&path).unwrap();
    let pop = file.population("p").unwrap();
    let given = SourceSpace::resolve(&pop, Some(12)).unwrap();
    assert_eq!(given.n_sources, Some(12));
    assert_eq!(given.origin, ORIGIN_NODE_POPULATION);
    let largest = SourceSpace::resolve(&pop, None).unwrap();
    assert_eq!(largest.n_sources, None);
    assert_eq!(largest.origin, ORIGIN_LARGEST_SOURCE_ID);
    // A census read without its connection table cannot be transposed.
    let mut bare = memory.clone();
    bare.source_node_id.clear();
    bare.synapse_count.clear();
    assert!(ConnectionRows::new(&bare, None).is_err());
}

/// Writes `census` (direction `direction`) and its efferent tables, streamed from `rows` with
/// `budget` or (`budget` None) from memory.
fn write_efferent_file(
    out: &Path,
    census: &Census,
    spilled: Option<&SpilledConnections>,
    direction: Direction,
    budget: Option<u64>,
) -> Efferent {
    let space = SourceSpace {
        n_sources: None,
        origin: ORIGIN_LARGEST_SOURCE_ID.into(),
    };
    let rows = ConnectionRows::new(census, spilled).unwrap();
    let mut w = CensusWriter::create(out, true).unwrap();
    w.write_with(
        census,
        spilled,
        &Record {
            direction,
            ..Record::default()
        },
    )
    .unwrap();
    let e = match budget {
        Some(b) => w
            .write_efferent(&census.population, &rows, &space, b)
            .unwrap(),
        None => {
            let e = transpose_in_memory(&rows, &space, 1 << 30).unwrap();
            w.write_efferent_tables(&census.population, &e).unwrap();
            e
        }
    };
    w.finish().unwrap();
    e
}

#[test]
fn efferent_files_round_trip_and_are_byte_identical_however_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(5);
    for (case, n) in [0usize, 2000].into_iter().enumerate() {
        let (sources, targets) = random_edges(&mut rng, n, 30);
        let path = edge_file(dir.path(), &format!("e{case}.h5"), &sources, &targets);
        let (memory, census, spilled) = censuses(&path, dir.path(), 30);
        let largest = sources.iter().max().map_or(0, |&s| s + 1);
        let want = naive_efferent(
            &naive_pairs(&sources, &targets),
            largest,
            ORIGIN_LARGEST_SOURCE_ID,
        );
        for direction in [Direction::Both, Direction::Efferent] {
            let a = dir.path().join(format!("a{case}.h5"));
            let b = dir.path().join(format!("b{case}.h5"));
            let c = dir.path().join(format!("c{case}.h5"));
            let streamed = write_efferent_file(&a, &census, spilled.as_ref(), direction, Some(24));
            write_efferent_file(&b, &memory, None, direction, None);
            write_efferent_file(&c, &memory, None, direction, Some(1 << 30));
            assert_eq!(streamed.source_offsets, want.source_offsets);
            let bytes = std::fs::read(&a).unwrap();
            assert_eq!(
                bytes,
                std::fs::read(&b).unwrap(),
                "case {case} {direction:?}"
            );
            assert_eq!(
                bytes,
                std::fs::read(&c).unwrap(),
                "case {case} {direction:?}"
            );

            let file = CensusFile::open(&a).unwrap();
            assert_eq!(file.populations(), ["p"]);
            assert_eq!(file.direction("p").unwrap(), direction);
            let read = file.efferent("p", ConnectionTable::Read).unwrap().unwrap();
            assert_eq!(read, want, "case {case} {direction:?}");
            let skipped = file.efferent("p", ConnectionTable::Skip).unwrap().unwrap();
            assert_eq!(skipped.source_offsets, want.source_offsets);
            assert!(skipped.target_node_id.is_empty());
            match direction {
                Direction::Efferent => {
                    let err = file
                        .read("p", ConnectionTable::Read)
                        .unwrap_err()
                        .to_string();
                    assert!(err.contains("efferent tables only"), "{err}");
                }
                _ => {
                    assert_eq!(
                        file.read("p", ConnectionTable::Read).unwrap().edge_count,
                        n as u64
                    );
                }
            }
        }
    }
    // Tables that disagree are refused: n_sources one more than the tables' length.
    let a = dir.path().join("a1.h5");
    locked(|| {
        let f = hdf5::File::open_rw(&a).unwrap();
        let attr = f.group("p/efferent").unwrap().attr("n_sources").unwrap();
        let n: u64 = attr.read_scalar().unwrap();
        attr.write_scalar(&(n + 1)).unwrap();
    });
    let err = CensusFile::open(&a)
        .unwrap()
        .efferent("p", ConnectionTable::Skip)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
    assert!(err.to_string().contains("n_sources"), "{err}");
    // Afferent-only files have no efferent tables.
    let (sources, targets) = random_edges(&mut rng, 100, 10);
    let path = edge_file(dir.path(), "plain.h5", &sources, &targets);
    let (memory, _, _) = censuses(&path, dir.path(), 10);
    let out = dir.path().join("plain_out.h5");
    let mut w = CensusWriter::create(&out, true).unwrap();
    w.write(&memory).unwrap();
    w.finish().unwrap();
    let file = CensusFile::open(&out).unwrap();
    assert_eq!(file.efferent("p", ConnectionTable::Read).unwrap(), None);
    assert!(file.pathways("p").unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Pathways

/// One node population `cells` of `n` nodes with a @library `mtype`, plain `layer` strings, an
/// integer `region` and a float `x`; returns the per-node values as text.
fn node_file(path: &Path, n: usize, rng: &mut Rng) -> (Vec<String>, Vec<String>, Vec<i64>) {
    let table = ["L5_TPC", "L4_SS", "L23_PC", "L1_DAC"];
    let mtype: Vec<u32> = (0..n)
        .map(|_| rng.below(table.len() as u64) as u32)
        .collect();
    let layers = ["L6", "L2", "L4"];
    let layer: Vec<&str> = (0..n).map(|_| layers[rng.below(3) as usize]).collect();
    let region: Vec<i64> = (0..n).map(|_| rng.below(5) as i64 * 7 - 10).collect();
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    locked(|| {
        let f = cell_fixtures::create(path);
        let g = cell_fixtures::node_population(&f, "cells", n);
        g.library("mtype", &mtype, &table)
            .strings("layer", &layer)
            .i64s("region", &region)
            .f32s("x", &x);
    });
    (
        mtype
            .iter()
            .map(|&c| table[c as usize].to_string())
            .collect(),
        layer.iter().map(|s| s.to_string()).collect(),
        region,
    )
}

/// Source values, target values, synapses, connections, pair counts.
type NaiveMatrix = (Vec<String>, Vec<String>, Vec<u64>, Vec<u64>, Vec<u64>);

/// The naive pathway matrix of per-node labels `label` (as text), the selected sources and
/// targets, and `pairs`; values ordered by `order`.
fn naive_matrix(
    pairs: &BTreeMap<(u64, u64), u32>,
    label: &[String],
    order: &[String],
    sources: &BTreeSet<u64>,
    targets: &BTreeSet<u64>,
) -> NaiveMatrix {
    let values = |set: &BTreeSet<u64>| -> Vec<String> {
        let present: BTreeSet<&String> = set.iter().map(|&v| &label[v as usize]).collect();
        order
            .iter()
            .filter(|v| present.contains(v))
            .cloned()
            .collect()
    };
    let (sv, tv) = (values(sources), values(targets));
    let pos = |vals: &[String], node: u64| {
        vals.iter()
            .position(|v| *v == label[node as usize])
            .unwrap()
    };
    let (ns, nt) = (sv.len(), tv.len());
    let mut syn = vec![0u64; ns * nt];
    let mut conn = vec![0u64; ns * nt];
    let mut pair = vec![0u64; ns * nt];
    for (&(s, t), &c) in pairs {
        if sources.contains(&s) && targets.contains(&t) {
            let cell = pos(&sv, s) * nt + pos(&tv, t);
            syn[cell] += u64::from(c);
            conn[cell] += 1;
        }
    }
    for &u in sources {
        for &v in targets {
            if u != v {
                pair[pos(&sv, u) * nt + pos(&tv, v)] += 1;
            }
        }
    }
    (sv, tv, syn, conn, pair)
}

fn labels(values: &PathwayValues) -> Vec<String> {
    (0..values.len()).map(|i| values.label(i)).collect()
}

#[test]
fn pathway_matrices_equal_the_naive_recount() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(23);
    let n_nodes = 40usize;
    let nodes_path = dir.path().join("nodes.h5");
    let (mtype, layer, region) = node_file(&nodes_path, n_nodes, &mut rng);
    let nodes = NodeFile::open(&nodes_path).unwrap();
    let cells = nodes.population("cells").unwrap();
    let (sources, targets) = random_edges(&mut rng, 3000, n_nodes as u64);
    let path = edge_file(dir.path(), "e.h5", &sources, &targets);
    let (memory, census, spilled) = censuses(&path, dir.path(), n_nodes as u64);
    let pairs = naive_pairs(&sources, &targets);

    let region_text: Vec<String> = region.iter().map(i64::to_string).collect();
    let mut region_order: Vec<i64> = region.clone();
    region_order.sort_unstable();
    region_order.dedup();
    let region_order: Vec<String> = region_order.iter().map(i64::to_string).collect();
    let mtype_order: Vec<String> = ["L5_TPC", "L4_SS", "L23_PC", "L1_DAC"]
        .map(String::from)
        .to_vec();
    let mut layer_order: Vec<String> = layer.clone();
    layer_order.sort();
    layer_order.dedup();

    let all: BTreeSet<u64> = (0..n_nodes as u64).collect();
    let odd: Vec<u64> = (0..n_nodes as u64).filter(|v| v % 2 == 1).collect();
    let low: Vec<u64> = (0..n_nodes as u64).filter(|&v| v < 25).collect();
    for (sel_s, sel_t) in [(None, None), (Some(&odd), Some(&low)), (Some(&low), None)] {
        let set = |sel: Option<&Vec<u64>>| -> BTreeSet<u64> {
            sel.map_or_else(|| all.clone(), |v| v.iter().copied().collect())
        };
        let (ss, ts) = (set(sel_s), set(sel_t));
        let mut read = Vec::new();
        for attr in ["mtype", "layer", "region"] {
            let s = NodeValues::read(&cells, attr, sel_s.map(Vec::as_slice)).unwrap();
            let t = NodeValues::read(&cells, attr, sel_t.map(Vec::as_slice)).unwrap();
            for (v, set) in [(&s, &ss), (&t, &ts)] {
                assert_eq!(v.codes.len(), n_nodes);
                for node in 0..n_nodes as u64 {
                    assert_eq!(v.codes[node as usize] != NOT_COUNTED, set.contains(&node));
                }
                assert_eq!(v.node_count.iter().sum::<u64>(), set.len() as u64);
            }
            read.push((attr, s, t));
        }
        assert!(matches!(read[2].1.values, PathwayValues::Integers(_)));
        assert!(matches!(read[0].1.values, PathwayValues::Strings(_)));
        let args: Vec<(&str, &NodeValues, &NodeValues)> =
            read.iter().map(|(a, s, t)| (*a, s, t)).collect();
        let in_memory = ConnectionRows::new(&memory, None).unwrap();
        let on_disk = ConnectionRows::new(&census, spilled.as_ref()).unwrap();
        let got = compute_many(&in_memory, &args, true).unwrap();
        assert_eq!(got, compute_many(&on_disk, &args, true).unwrap());
        for (k, (label, order)) in [
            (&mtype, &mtype_order),
            (&layer, &layer_order),
            (&region_text, &region_order),
        ]
        .into_iter()
        .enumerate()
        {
            let what = format!("{} {sel_s:?} {sel_t:?}", args[k].0);
            let (sv, tv, syn, conn, pair) = naive_matrix(&pairs, label, order, &ss, &ts);
            let m = &got[k];
            assert_eq!(m.attribute, args[k].0);
            assert_eq!(labels(&m.source_values), sv, "{what}");
            assert_eq!(labels(&m.target_values), tv, "{what}");
            assert_eq!(m.synapses, syn, "{what}");
            assert_eq!(m.connections, conn, "{what}");
            assert_eq!(m.pair_count, pair, "{what}");
            let single = compute(&on_disk, args[k].0, args[k].1, args[k].2, true).unwrap();
            assert_eq!(&single, m, "{what}");
        }
        // Different node populations: no diagonal correction.
        let other = compute(&in_memory, "layer", &read[1].1, &read[1].2, false).unwrap();
        let products: Vec<u64> = other
            .source_node_count
            .iter()
            .flat_map(|&a| other.target_node_count.iter().map(move |&b| a * b))
            .collect();
        assert_eq!(other.pair_count, products);
    }
}

#[test]
fn pathway_errors_and_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(3);
    let nodes_path = dir.path().join("nodes.h5");
    node_file(&nodes_path, 10, &mut rng);
    // A column of unsigned values, one above i64::MAX.
    locked(|| {
        let f = hdf5::File::open_rw(&nodes_path).unwrap();
        let mut big = vec![1u64; 10];
        big[3] = u64::MAX;
        f.group("nodes/cells/0")
            .unwrap()
            .new_dataset_builder()
            .with_data(&big)
            .create("big")
            .unwrap();
    });
    let nodes = NodeFile::open(&nodes_path).unwrap();
    let cells = nodes.population("cells").unwrap();
    for (attr, words) in [("x", "floating-point"), ("nope", "nope")] {
        let err = NodeValues::read(&cells, attr, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'cells'") && err.contains(words), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
    // Unsigned values above i64::MAX cannot be recorded as int64.
    let err = NodeValues::read(&cells, "big", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'big'") && err.contains(&u64::MAX.to_string()),
        "{err}"
    );
    let small = NodeValues::read(&cells, "big", Some(&[0, 1, 2])).unwrap();
    assert_eq!(small.values, PathwayValues::Integers(vec![1]));
    assert_eq!(small.node_count, [3]);
    // A node id of the table beyond the node values.
    let path = edge_file(dir.path(), "e.h5", &[12, 1], &[0, 1]);
    let (memory, _, _) = censuses(&path, dir.path(), 10);
    let rows = ConnectionRows::new(&memory, None).unwrap();
    let v = NodeValues::read(&cells, "layer", None).unwrap();
    let err = compute(&rows, "layer", &v, &v, true).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
    assert!(err.to_string().contains("12"), "{err}");
    // An empty table: zero matrices of the counted values.
    let empty = edge_file(dir.path(), "empty.h5", &[], &[]);
    let (memory, _, _) = censuses(&empty, dir.path(), 10);
    let rows = ConnectionRows::new(&memory, None).unwrap();
    let m = compute(&rows, "layer", &v, &v, true).unwrap();
    assert!(m.synapses.iter().chain(&m.connections).all(|&x| x == 0));
    assert_eq!(m.pair_count.iter().sum::<u64>(), 10 * 10 - 10);
    // Only values of counted nodes: an empty selection has none.
    let none = NodeValues::read(&cells, "mtype", Some(&[])).unwrap();
    assert!(none.values.is_empty());
    let m0 = compute(&rows, "mtype", &none, &none, true).unwrap();
    assert!(m0.synapses.is_empty() && m0.pair_count.is_empty());

    // Written and read back, with the empty matrix too; '/' cannot name a group.
    let out = dir.path().join("out.h5");
    let mut w = CensusWriter::create(&out, true).unwrap();
    w.write(&memory).unwrap();
    let mut bad = m.clone();
    bad.attribute = "a/b".into();
    let err = w.write_pathways("p", &[bad]).unwrap_err().to_string();
    assert!(err.contains("a/b"), "{err}");
    w.write_pathways("p", &[m.clone(), m0.clone()]).unwrap();
    w.finish().unwrap();
    let read = CensusFile::open(&out).unwrap().pathways("p").unwrap();
    // The file's order is by name: `layer` before `mtype`.
    assert_eq!(read, vec![m, m0]);
}

#[test]
fn pathway_matrices_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(99);
    let nodes_path = dir.path().join("nodes.h5");
    node_file(&nodes_path, 30, &mut rng);
    let nodes = NodeFile::open(&nodes_path).unwrap();
    let cells = nodes.population("cells").unwrap();
    let (sources, targets) = random_edges(&mut rng, 500, 30);
    let path = edge_file(dir.path(), "e.h5", &sources, &targets);
    let (memory, _, _) = censuses(&path, dir.path(), 30);
    let rows = ConnectionRows::new(&memory, None).unwrap();
    let values: Vec<(&str, NodeValues)> = ["region", "mtype", "layer"]
        .into_iter()
        .map(|a| (a, NodeValues::read(&cells, a, None).unwrap()))
        .collect();
    let args: Vec<(&str, &NodeValues, &NodeValues)> =
        values.iter().map(|(a, v)| (*a, v, v)).collect();
    let matrices: Vec<PathwayMatrix> = compute_many(&rows, &args, true).unwrap();
    let out = dir.path().join("out.h5");
    let mut w = CensusWriter::create(&out, true).unwrap();
    w.write(&memory).unwrap();
    w.write_pathways("p", &matrices).unwrap();
    w.finish().unwrap();
    let mut want = matrices.clone();
    want.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    assert_eq!(CensusFile::open(&out).unwrap().pathways("p").unwrap(), want);
}

/// The cost of pathways and of the efferent transposition against the census's own (run with
/// `cargo test --release --features testing --test derived -- --ignored --nocapture`).
#[test]
#[ignore = "timing, release builds only"]
fn timing_of_derived_tables_against_the_census() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(1);
    let n_nodes = 100_000usize;
    let nodes_path = dir.path().join("nodes.h5");
    node_file(&nodes_path, n_nodes, &mut rng);
    let n_edges = 4_000_000usize;
    let mut pairs: Vec<(u64, u64)> = (0..n_edges)
        .map(|_| (rng.below(n_nodes as u64), rng.below(n_nodes as u64)))
        .collect();
    pairs.sort_unstable_by_key(|&(s, t)| (t, s));
    let sources: Vec<u64> = pairs.iter().map(|p| p.0).collect();
    let targets: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let path = edge_file(dir.path(), "e.h5", &sources, &targets);
    let started = std::time::Instant::now();
    let (_, census, spilled) = censuses(&path, dir.path(), n_nodes as u64);
    // censuses() counts twice (in memory and spilled).
    let census_s = started.elapsed().as_secs_f64() / 2.0;
    let nodes = NodeFile::open(&nodes_path).unwrap();
    let cells = nodes.population("cells").unwrap();
    let rows = ConnectionRows::new(&census, spilled.as_ref()).unwrap();
    let started = std::time::Instant::now();
    let values: Vec<(&str, NodeValues)> = ["mtype", "layer", "region"]
        .into_iter()
        .map(|a| (a, NodeValues::read(&cells, a, None).unwrap()))
        .collect();
    let read_s = started.elapsed().as_secs_f64();
    let args: Vec<(&str, &NodeValues, &NodeValues)> =
        values.iter().map(|(a, v)| (*a, v, v)).collect();
    let started = std::time::Instant::now();
    compute_many(&rows, &args, true).unwrap();
    let pathways_s = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let mut sum = 0u64;
    rows.for_each_block(|b| {
        sum += b.counts.len() as u64;
        Ok(())
    })
    .unwrap();
    let scan_s = started.elapsed().as_secs_f64();
    let (memory, _, _) = censuses(&path, dir.path(), n_nodes as u64);
    let in_memory = ConnectionRows::new(&memory, None).unwrap();
    let started = std::time::Instant::now();
    compute_many(&in_memory, &args, true).unwrap();
    let memory_s = started.elapsed().as_secs_f64();
    eprintln!(
        "scan of the spilled rows {scan_s:.3} s; pathways in memory {memory_s:.3} s ({sum} rows)"
    );
    let space = SourceSpace {
        n_sources: Some(n_nodes as u64),
        origin: ORIGIN_NODE_POPULATION.into(),
    };
    let started = std::time::Instant::now();
    transpose(&rows, &space, 1 << 30, |_, _, _| Ok(())).unwrap();
    let efferent_s = started.elapsed().as_secs_f64();
    eprintln!(
        "census {census_s:.3} s; node values {read_s:.3} s; pathways (3 attributes) \
         {pathways_s:.3} s ({:.0}% of the census with the node values); efferent {efferent_s:.3} s",
        100.0 * (read_s + pathways_s) / census_s
    );
}
