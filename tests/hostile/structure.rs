//! Cases of broken SONATA structure and ids: missing, misshapen or mistyped datasets, bad
//! index ranges, ids out of range.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Cases of broken SONATA structure and ids.
pub(super) fn structure_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, build: Box<dyn Fn(&Path) -> PathBuf>, runs, libs| {
        cases.push(Case {
            name: name.into(),
            build,
            runs,
            libs,
        })
    };

    add(
        "no_edges_group",
        Box::new(|dir| {
            let p = dir.join("noedges.h5");
            hdf5::File::create(&p)
                .unwrap()
                .create_group("nodes")
                .unwrap();
            p
        }),
        // A file with `/nodes` (and no `/edges`) is named as the node file it is.
        edge_runs(
            2,
            &[
                "{in}: not a SONATA edge file: no '/edges' group",
                "this is a SONATA node file (/nodes)",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    add(
        "no_target_node_id",
        Box::new(|dir| {
            let p = dir.join("notarget.h5");
            hdf5::File::create(&p).unwrap();
            put(&p, "source_node_id", &arr(&[0u64, 1]));
            p
        }),
        edge_runs(
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'target_node_id'",
                "dataset is missing",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    add(
        "different_lengths",
        Box::new(|dir| {
            let p = dir.join("lengths.h5");
            hdf5::File::create(&p).unwrap();
            put(&p, "source_node_id", &arr(&[0u64, 1, 2]));
            put(&p, "target_node_id", &arr(&[0u64, 1]));
            p
        }),
        edge_runs(
            2,
            &[
                "{in}",
                "population 'p'",
                "'source_node_id' has 3 rows but 'target_node_id' has 2",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    // Both id columns declare 2^40 rows that were never written: reading them would return
    // zeros for hours. `count` and `info` refuse them at once.
    add(
        "ids_declared_but_never_written",
        Box::new(|dir| {
            let p = dir.join("unwritten.h5");
            let f = hdf5::File::create(&p).unwrap();
            let g = f.create_group(&format!("edges/{POP}")).unwrap();
            for name in ["source_node_id", "target_node_id"] {
                g.new_dataset::<u64>()
                    .shape(1usize << 40)
                    .create(name)
                    .unwrap();
            }
            p
        }),
        vec![
            run(
                &["info", "{in}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'source_node_id'",
                    "declares 1099511627776 rows (8796093022208 bytes) but the file stores 0 bytes",
                ],
            ),
            run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &["{in}", "population 'p'", "never written"],
            ),
        ],
        vec![
            lib("census", lib_census, Want::InvalidData),
            lib("info", lib_info, Want::InvalidData),
        ],
    );

    add(
        "float_ids",
        Box::new(|dir| {
            let p = dir.join("float.h5");
            hdf5::File::create(&p).unwrap();
            put(&p, "source_node_id", &arr(&[0u64, 1]));
            put(&p, "target_node_id", &arr(&[0.0f64, 1.5]));
            p
        }),
        edge_runs(
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'target_node_id'",
                "must be integers but the dataset holds float64",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    add(
        "string_ids",
        Box::new(|dir| {
            let p = dir.join("strings.h5");
            hdf5::File::create(&p).unwrap();
            let v: Vec<hdf5::types::VarLenUnicode> =
                ["0", "1"].iter().map(|s| s.parse().unwrap()).collect();
            put(&p, "source_node_id", &arr(&v));
            put(&p, "target_node_id", &arr(&[0u64, 1]));
            p
        }),
        edge_runs(
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'source_node_id'",
                "must be integers but the dataset holds strings",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    add(
        "two_dimensional_ids",
        Box::new(|dir| {
            let p = dir.join("twod.h5");
            hdf5::File::create(&p).unwrap();
            let a = ndarray::ArrayD::from_shape_vec(vec![2, 2], vec![0u64, 1, 2, 3]).unwrap();
            put(&p, "source_node_id", &a);
            put(&p, "target_node_id", &arr(&[0u64, 1]));
            p
        }),
        edge_runs(
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'source_node_id'",
                "must be 1-D but has shape [2, 2]",
            ],
        ),
        edge_libs(Want::InvalidData),
    );

    // -1 as int64 in source_node_id (u64::MAX cast by the fixture writer), with an index so
    // that conn-counts reads it.
    add(
        "negative_source_id",
        Box::new(|dir| {
            let p = dir.join("negative.h5");
            let t = [0, 0, 1, 1];
            write_edges(&p, POP, &[0, u64::MAX, 2, 3], &t, Ids::I64);
            write_target_index(&p, POP, &t, 2);
            p
        }),
        vec![
            run(
                &["info", "{in}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'source_node_id'",
                    "negative node id -1 at row 1",
                ],
            ),
            run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'source_node_id'",
                    "negative node id -1 at row 1",
                ],
            ),
            run(
                &["query", "conn-counts", "{in}", "--targets", "0"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'source_node_id'",
                    "negative node id -1",
                ],
            ),
        ],
        vec![
            lib("census", lib_census, Want::InvalidData),
            lib("info", lib_info, Want::InvalidData),
            lib("get_conn_counts", lib_conn_counts, Want::InvalidData),
        ],
    );

    // A negative target late in a shuffled file: found even after the order scan knows the
    // file is unsorted.
    add(
        "negative_target_id_after_unsorted_rows",
        Box::new(|dir| {
            let p = dir.join("negative_target.h5");
            write_edges(&p, POP, &[0, 1, 2, 3], &[1, 0, 0, u64::MAX], Ids::I64);
            p
        }),
        vec![
            run(
                &["info", "{in}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'target_node_id'",
                    "negative node id -1 at row 3",
                ],
            ),
            run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'target_node_id'",
                    "negative node id -1 at row 3",
                ],
            ),
        ],
        vec![
            lib("census", lib_census, Want::InvalidData),
            lib("info", lib_info, Want::InvalidData),
        ],
    );

    // Target ids 0, 0, 1, 1 but an index of one node.
    add(
        "target_ids_beyond_the_index",
        Box::new(|dir| {
            let p = dir.join("beyond.h5");
            write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
            write_target_index(&p, POP, &[0, 0], 1);
            p
        }),
        vec![
            run(
                &["info", "{in}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'target_node_id'",
                    "target node id 1 is beyond the 1 node of indices/target_to_source",
                ],
            ),
            run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "dataset 'target_node_id'",
                    "target node id 1 at row 2 is beyond the 1 target nodes",
                ],
            ),
        ],
        vec![
            lib("census", lib_census, Want::InvalidData),
            lib("info", lib_info, Want::InvalidData),
        ],
    );

    // Population "a" is valid and counted (and written to the temporary output) before "p"
    // fails: the partial output must still vanish.
    add(
        "second_population_broken",
        Box::new(|dir| {
            let p = dir.join("two.h5");
            write_edges(&p, "a", &[0, 1], &[1, 0], Ids::U64);
            write_edges(&p, POP, &[0, u64::MAX], &[0, 0], Ids::I64);
            p
        }),
        vec![run(
            &["count", "{in}", "-o", "{out}"],
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'source_node_id'",
                "negative node id -1 at row 1",
            ],
        )],
        vec![lib("census", lib_census, Want::InvalidData)],
    );

    // Without an index the largest target id sets the table length: ids no machine can hold
    // tables for are refused before any engine allocates them (no abort, no overflow panic).
    for (name, big, text) in [
        (
            "huge_target_id_without_index",
            1u64 << 40,
            "node id 1099511627776 at row 1 is too large",
        ),
        (
            "max_u64_target_id_without_index",
            u64::MAX,
            "node id 18446744073709551615 at row 1 is too large",
        ),
    ] {
        add(
            name,
            Box::new(move |dir| {
                let p = dir.join("huge.h5");
                write_edges(&p, POP, &[0, 1], &[0, big], Ids::U64);
                p
            }),
            vec![run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &["{in}", "population 'p'", "dataset 'target_node_id'", text],
            )],
            vec![lib("census", lib_census, Want::InvalidData)],
        );
    }

    // A target index declaring 2^40 nodes (a chunked dataset never written: a small file).
    add(
        "index_of_2_pow_40_nodes",
        Box::new(|dir| {
            let p = dir.join("sparse_index.h5");
            write_edges(&p, POP, &[0, 1], &[0, 1], Ids::U64);
            let f = hdf5::File::open_rw(&p).unwrap();
            let g = f
                .create_group(&format!("edges/{POP}/indices/target_to_source"))
                .unwrap();
            g.new_dataset::<u64>()
                .chunk((1024, 2))
                .shape((1usize << 40, 2))
                .create("node_id_to_ranges")
                .unwrap();
            g.new_dataset_builder()
                .with_data(&ndarray::arr2(&[[0u64, 2]]))
                .create("range_to_edge_id")
                .unwrap();
            p
        }),
        vec![
            run(
                &["count", "{in}", "-o", "{out}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "the target index (indices/target_to_source) gives 1099511627776 target \
                     nodes need",
                ],
            ),
            run(
                &["info", "{in}"],
                2,
                &[
                    "{in}",
                    "population 'p'",
                    "the target index (indices/target_to_source) gives 1099511627776 target \
                     nodes need",
                ],
            ),
            run(
                &[
                    "count",
                    "{in}",
                    "-o",
                    "{out}",
                    "--nodes-count",
                    "1099511627776",
                ],
                2,
                &[
                    "the node count: 1099511627776 target nodes need",
                    "(node count from --nodes-count)",
                ],
            ),
        ],
        vec![lib("census", lib_census, Want::InvalidData)],
    );

    // range_to_edge_id row 1 is [2, 9) of a 4-edge population. `count` does not read
    // range_to_edge_id (the census counts from the id columns), see `count_ignores_edge_ranges`.
    add(
        "edge_range_past_the_edges",
        Box::new(|dir| {
            let p = dir.join("past.h5");
            write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
            write_raw_index(
                &p,
                POP,
                "target_to_source",
                &[[0, 1], [1, 2]],
                &[[0, 2], [2, 9]],
            );
            p
        }),
        {
            let needles: &[&'static str] = &[
                "{in}",
                "population 'p'",
                "dataset 'indices/target_to_source/range_to_edge_id'",
                "row 1 is the edge range [2, 9) but the population has 4 edges",
            ];
            vec![
                run(&["info", "{in}"], 2, needles),
                run(&["query", "counts", "{in}", "--targets", "0,1"], 2, needles),
                run(
                    &["query", "conn-counts", "{in}", "--targets", "1"],
                    2,
                    needles,
                ),
            ]
        },
        vec![
            lib("info", lib_info, Want::InvalidData),
            lib("get_counts", lib_counts, Want::InvalidData),
        ],
    );

    // node_id_to_ranges row 1 is [2, 1): inverted.
    add(
        "inverted_node_range",
        Box::new(|dir| {
            let p = dir.join("inverted.h5");
            write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
            write_raw_index(
                &p,
                POP,
                "target_to_source",
                &[[0, 1], [2, 1]],
                &[[0, 2], [2, 4]],
            );
            p
        }),
        {
            let needles: &[&'static str] = &[
                "{in}",
                "population 'p'",
                "dataset 'indices/target_to_source/node_id_to_ranges'",
                "node 1 has an inverted range [2, 1)",
            ];
            edge_runs(2, needles)
        },
        edge_libs(Want::InvalidData),
    );

    // range_to_edge_id row 1 is [4, 2): inverted.
    add(
        "inverted_edge_range",
        Box::new(|dir| {
            let p = dir.join("inverted_edges.h5");
            write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
            write_raw_index(
                &p,
                POP,
                "target_to_source",
                &[[0, 1], [1, 2]],
                &[[0, 2], [4, 2]],
            );
            p
        }),
        {
            let needles: &[&'static str] = &[
                "{in}",
                "population 'p'",
                "dataset 'indices/target_to_source/range_to_edge_id'",
                "row 1 is an inverted edge range [4, 2)",
            ];
            vec![
                run(&["info", "{in}"], 2, needles),
                run(&["query", "counts", "{in}", "--targets", "1"], 2, needles),
            ]
        },
        vec![
            lib("info", lib_info, Want::InvalidData),
            lib("get_counts", lib_counts, Want::InvalidData),
        ],
    );

    // A node range pointing past range_to_edge_id, in the source index.
    add(
        "source_index_range_past_its_rows",
        Box::new(|dir| {
            let p = dir.join("source_index.h5");
            valid_file(&p);
            write_raw_index(&p, POP, "source_to_target", &[[0, 5]], &[[0, 1]]);
            p
        }),
        vec![run(
            &["info", "{in}"],
            2,
            &[
                "{in}",
                "population 'p'",
                "dataset 'indices/source_to_target/node_id_to_ranges'",
                "node 0 has range [0, 5) but 'range_to_edge_id' has 1 row",
            ],
        )],
        vec![lib("info", lib_info, Want::InvalidData)],
    );

    add(
        "unknown_population",
        Box::new(|dir| {
            let p = dir.join("valid.h5");
            valid_file(&p);
            p
        }),
        {
            let needles: &[&'static str] = &["{in}", "no population 'zzz' (the file has: p)"];
            vec![
                run(&["count", "{in}", "-p", "zzz", "-o", "{out}"], 2, needles),
                run(
                    &["query", "counts", "{in}", "-p", "zzz", "--targets", "0"],
                    2,
                    needles,
                ),
                run(
                    &["query", "synapses", "{in}", "-p", "zzz", "--gid", "0"],
                    2,
                    needles,
                ),
            ]
        },
        vec![lib("census", lib_census_zzz, Want::PopulationNotFound)],
    );
    cases
}
