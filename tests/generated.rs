//! `count` on generated circuits of every shape equals the naive reference computed from the raw
//! id columns: sorted, target-sorted, shuffled, int64 ids, several attribute groups, no index,
//! several populations, bmtk index spelling and `nsyns`, many empty targets, and one target with
//! 10^5 synapses. Each is counted with small chunks (runs cross chunk borders) and with a tiny
//! memory budget (unsorted partitions spill to disk), on every engine ([`engine_tests!`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use common::{Engine, assert_same_tables, engine_tests, naive_census};
use sonata_census::EdgeFile;
use sonata_census::census::CensusOptions;
use sonata_census::generate::{
    AttributeSet, EdgeOrder, GenerateOptions, GeneratedIdDtype, IdStorage, IndexSpelling, generate,
};

engine_tests! {
    fn every_order;
    fn int64_ids_groups_no_index_and_populations;
    fn bmtk_spelling_and_nsyns;
    fn many_empty_targets_and_a_huge_target;
    fn chunked_and_compressed_id_columns;
}

fn check(engine: Engine, options: &GenerateOptions, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.h5");
    generate(&path, options, &|_| {}).unwrap();
    let file = EdgeFile::open(&path).unwrap();
    let h5 = hdf5::File::open(&path).unwrap();
    let names = file.population_names().unwrap();
    assert_eq!(names.len(), options.populations as usize, "{what}");
    for name in names {
        let g = h5.group(&format!("edges/{name}")).unwrap();
        let read = |n: &str| -> Vec<u64> {
            g.dataset(n)
                .unwrap()
                .read_raw::<i64>()
                .unwrap()
                .into_iter()
                .map(|v| u64::try_from(v).unwrap())
                .collect()
        };
        let (sources, targets) = (read("source_node_id"), read("target_node_id"));
        // With an index, the tables have one row per target node; without, max target + 1.
        let n_targets = options.write_index.then_some(options.nodes);
        let want = naive_census(&sources, &targets, n_targets);
        for (chunk_len, memory_budget) in [(1 << 20, 1 << 30), (997, 1 << 30), (4096, 20_000)] {
            let census_options = CensusOptions {
                chunk_len,
                memory_budget,
                ..Default::default()
            };
            let label =
                format!("{engine:?}: {what} {name} chunk {chunk_len} budget {memory_budget}");
            let got = engine
                .census(&path, &name, &census_options)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_same_tables(&got, &want, &label);
            if options.attributes == AttributeSet::Bmtk {
                let nsyns_total = got.target_nsyns_total.as_ref().expect("bmtk nsyns");
                let total: u64 = nsyns_total.iter().sum();
                assert!(
                    total > got.edge_count,
                    "{label}: nsyns are >= 1, mostly > 1"
                );
            } else {
                assert_eq!(got.target_nsyns_total, None, "{label}");
            }
        }
    }
}

fn base(edges: u64, nodes: u64) -> GenerateOptions {
    GenerateOptions {
        edges,
        nodes,
        seed: 5,
        ..GenerateOptions::default()
    }
}

fn every_order(engine: Engine) {
    for order in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ] {
        check(
            engine,
            &GenerateOptions {
                order,
                ..base(30_000, 500)
            },
            &format!("{order:?}"),
        );
    }
}

fn int64_ids_groups_no_index_and_populations(engine: Engine) {
    check(
        engine,
        &GenerateOptions {
            id_dtype: GeneratedIdDtype::I64,
            order: EdgeOrder::Shuffled,
            ..base(20_000, 300)
        },
        "int64",
    );
    check(
        engine,
        &GenerateOptions {
            groups: 3,
            ..base(20_000, 300)
        },
        "3 groups bbp",
    );
    check(
        engine,
        &GenerateOptions {
            write_index: false,
            order: EdgeOrder::TargetSorted,
            ..base(20_000, 300)
        },
        "no index",
    );
    check(
        engine,
        &GenerateOptions {
            populations: 3,
            ..base(5_000, 100)
        },
        "3 populations",
    );
}

fn bmtk_spelling_and_nsyns(engine: Engine) {
    check(
        engine,
        &GenerateOptions {
            attributes: AttributeSet::Bmtk,
            index_spelling: IndexSpelling::Bmtk,
            groups: 2,
            ..base(20_000, 300)
        },
        "bmtk",
    );
    check(
        engine,
        &GenerateOptions {
            attributes: AttributeSet::Bmtk,
            order: EdgeOrder::Shuffled,
            ..base(20_000, 300)
        },
        "bmtk shuffled",
    );
}

fn many_empty_targets_and_a_huge_target(engine: Engine) {
    // 50k target nodes for 5k edges: most targets are empty.
    check(engine, &base(5_000, 50_000), "many empty targets");
    check(
        engine,
        &GenerateOptions {
            order: EdgeOrder::Shuffled,
            ..base(5_000, 50_000)
        },
        "many empty targets shuffled",
    );
    // One target node receiving 10^5 synapses from 2000 sources.
    check(
        engine,
        &GenerateOptions {
            source_nodes: Some(2000),
            ..base(100_000, 1)
        },
        "one target 1e5",
    );
    check(engine, &base(0, 10), "no edges");
}

/// Id columns in chunks (some not dividing the rows), deflated, shuffled and deflated: read past
/// HDF5 (`sonata::direct`), the census equals the naive one and the contiguous file's.
fn chunked_and_compressed_id_columns(engine: Engine) {
    for (order, id_dtype) in [
        (EdgeOrder::Sorted, GeneratedIdDtype::U64),
        (EdgeOrder::Shuffled, GeneratedIdDtype::I64),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let census_of = |storage: IdStorage| {
            let options = GenerateOptions {
                order,
                id_dtype,
                id_storage: storage,
                ..base(50_000, 700)
            };
            let what = format!("{order:?} {id_dtype:?} {storage:?}");
            check(engine, &options, &what);
            let path = dir.path().join(format!("{what}.h5"));
            generate(&path, &options, &|_| {}).unwrap();
            let pop = EdgeFile::open(&path)
                .unwrap()
                .population("All__All__chemical")
                .unwrap();
            for column in [pop.source_ids(), pop.target_ids()] {
                assert!(column.reads_directly(), "{what}: read through HDF5");
            }
            let census_options = CensusOptions {
                chunk_len: 3001,
                ..Default::default()
            };
            engine
                .census(&path, "All__All__chemical", &census_options)
                .unwrap()
        };
        let contiguous = census_of(IdStorage::Contiguous);
        for storage in [
            IdStorage::Chunked { rows: 4096 },
            IdStorage::Deflate { rows: 7000 },
            IdStorage::ShuffleDeflate { rows: 65_536 },
            IdStorage::ShuffleDeflate { rows: 333 },
        ] {
            let got = census_of(storage);
            assert_same_tables(&got, &contiguous, &format!("{order:?} {storage:?}"));
        }
    }
}
