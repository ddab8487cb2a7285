//! Cases of unreadable files, node populations, attribute columns, outputs, command-line
//! arguments and circuit configs.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Cases whose input is not an HDF5 file at all (or not a readable one).
pub(super) fn file_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let not_hdf5 = |name: &str, bytes: fn(&Path) -> Vec<u8>, want_reason: &'static str| {
        let name = name.to_string();
        let file_name = format!("{name}.h5");
        let mut runs = edge_runs(2, &["{in}", want_reason]);
        runs.push(run(
            &["query", "synapses", "{in}", "-p", POP, "--gid", "0"],
            2,
            &["{in}", want_reason],
        ));
        runs.push(run(
            &["nodes", "metypes", "{in}", "-p", POP],
            2,
            &["{in}", want_reason],
        ));
        let mut libs = edge_libs(Want::NotHdf5);
        libs.push(lib("NodeFile::open", lib_nodes, Want::NotHdf5));
        Case {
            name,
            build: Box::new(move |dir| {
                let p = dir.join(&file_name);
                let b = bytes(dir);
                std::fs::write(&p, b).unwrap();
                p
            }),
            runs,
            libs,
        }
    };
    cases.push(not_hdf5(
        "not_hdf5",
        |_| b"source_node_id,target_node_id\n0,1\n".to_vec(),
        "cannot open as an HDF5 file",
    ));
    cases.push(not_hdf5(
        "empty_file",
        |_| Vec::new(),
        "cannot open as an HDF5 file",
    ));
    // Truncations of a valid file: inside the signature, just after the superblock (96 bytes
    // for version 0), half of it, all but the last byte.
    fn valid_bytes(dir: &Path) -> Vec<u8> {
        let p = dir.join("whole.h5");
        valid_file(&p);
        let b = std::fs::read(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        b
    }
    cases.push(not_hdf5(
        "truncated_in_signature",
        |d| valid_bytes(d)[..5].to_vec(),
        "cannot open as an HDF5 file",
    ));
    cases.push(not_hdf5(
        "truncated_after_superblock",
        |d| valid_bytes(d)[..96].to_vec(),
        "truncated file",
    ));
    cases.push(not_hdf5(
        "truncated_half",
        |d| {
            let b = valid_bytes(d);
            b[..b.len() / 2].to_vec()
        },
        "truncated file",
    ));
    cases.push(not_hdf5(
        "truncated_last_byte",
        |d| {
            let b = valid_bytes(d);
            b[..b.len() - 1].to_vec()
        },
        "truncated file",
    ));

    // A missing input, and a folder given as input: bad input (2), typed InputFile.
    for (name, make_dir) in [("missing_input", false), ("input_is_a_folder", true)] {
        let mut runs = edge_runs(2, &["{in}"]);
        runs.push(run(&["nodes", "metypes", "{in}", "-p", POP], 2, &["{in}"]));
        let mut libs = edge_libs(Want::InputFile);
        libs.push(lib("NodeFile::open", lib_nodes, Want::InputFile));
        cases.push(Case {
            name: name.into(),
            build: Box::new(move |dir| {
                let p = dir.join("absent.h5");
                if make_dir {
                    std::fs::create_dir(&p).unwrap();
                }
                p
            }),
            runs,
            libs,
        });
    }
    cases
}

/// Node files: a population whose declared size no machine can list.
pub(super) fn node_cases() -> Vec<Case> {
    let needles: &[&'static str] = &[
        "{in}",
        "population 'tgt'",
        "dataset 'node_type_id'",
        "declares 1099511627776 rows",
        "the file stores 0 chunks of 1024 rows",
    ];
    vec![Case {
        name: "node_population_of_2_pow_40_rows".into(),
        build: Box::new(|dir| {
            let p = dir.join("sparse_nodes.h5");
            write_nodes(&p);
            let f = hdf5::File::open_rw(&p).unwrap();
            let g = f.group("nodes/tgt").unwrap();
            g.unlink("node_type_id").unwrap();
            // Chunked and never written: a small file that declares 2^40 cells.
            g.new_dataset::<i64>()
                .chunk(1024)
                .shape(1usize << 40)
                .create("node_type_id")
                .unwrap();
            p
        }),
        runs: vec![
            run(&["nodes", "metypes", "{in}", "-p", "tgt"], 2, needles),
            run(
                &["nodes", "distribute", "{in}", "-p", "tgt", "--stride", "2"],
                2,
                needles,
            ),
            run(
                &["nodes", "load", "{in}", "-p", "tgt", "--gids", "0"],
                2,
                needles,
            ),
        ],
        libs: vec![lib(
            "NodeFile::population",
            lib_tgt_nodes,
            Want::InvalidData,
        )],
    }]
}

/// Attribute columns read by `query synapses` (and described by `info`).
pub(super) fn attribute_cases() -> Vec<Case> {
    let synapses =
        |needles: &[&'static str]| run(&["query", "synapses", "{in}", "--gid", "19"], 2, needles);
    vec![
        Case {
            name: "attribute_column_shorter_than_edges".into(),
            build: Box::new(|dir| {
                generated_with(dir, |g| {
                    g.unlink("delay").unwrap();
                    g.new_dataset_builder()
                        .with_data(&[1.0f32; 10])
                        .create("delay")
                        .unwrap();
                })
            }),
            runs: vec![
                run(
                    &["info", "{in}"],
                    2,
                    &[
                        "{in}",
                        "population 'All__All__chemical'",
                        "dataset '0/delay'",
                        "has 10 rows but the population has 200 edges",
                    ],
                ),
                synapses(&[
                    "{in}",
                    "population 'All__All__chemical'",
                    "dataset '0/delay'",
                    "has 10 rows but row",
                ]),
            ],
            libs: vec![
                lib("info", lib_info, Want::InvalidData),
                lib("get_synapse_parameters", lib_synapses, Want::InvalidData),
            ],
        },
        Case {
            name: "string_column_where_a_number_is_expected".into(),
            build: Box::new(|dir| {
                generated_with(dir, |g| {
                    g.unlink("delay").unwrap();
                    let v: Vec<hdf5::types::VarLenUnicode> =
                        (0..200).map(|_| "fast".parse().unwrap()).collect();
                    g.new_dataset_builder()
                        .with_data(&v)
                        .create("delay")
                        .unwrap();
                })
            }),
            runs: vec![synapses(&[
                "{in}",
                "population 'All__All__chemical'",
                "dataset '0/delay'",
                "string",
            ])],
            libs: vec![lib(
                "get_synapse_parameters",
                lib_synapses,
                Want::InvalidData,
            )],
        },
        Case {
            name: "missing_mandatory_synapse_attribute".into(),
            build: Box::new(|dir| generated_with(dir, |g| g.unlink("conductance").unwrap())),
            runs: vec![synapses(&[
                "{in}",
                "population 'All__All__chemical'",
                "dataset '0/conductance'",
                "Missing attribute conductance in the SONATA edge file",
            ])],
            libs: vec![lib(
                "get_synapse_parameters",
                lib_synapses,
                Want::InvalidData,
            )],
        },
    ]
}

/// Outputs that cannot be written, or must not be replaced.
pub(super) fn output_cases() -> Vec<Case> {
    let input = |dir: &Path| {
        let p = dir.join("valid.h5");
        valid_file(&p);
        p
    };
    let mut cases = vec![
        Case {
            name: "output_folder_missing".into(),
            build: Box::new(input),
            runs: vec![run(
                &["count", "{in}", "-o", "{dir}/nope/out.h5"],
                1,
                &["{dir}/nope", "No such file or directory"],
            )],
            libs: vec![lib("CensusWriter", lib_writer_missing_dir, Want::Io)],
        },
        Case {
            // Works as root too: nobody can create a file under a regular file.
            name: "output_folder_is_a_regular_file".into(),
            build: Box::new(move |dir| {
                std::fs::write(dir.join("plain.txt"), PRECIOUS).unwrap();
                input(dir)
            }),
            runs: vec![run(
                &["count", "{in}", "-o", "{dir}/plain.txt/out.h5"],
                1,
                &["{dir}/plain.txt", "not a directory"],
            )],
            libs: vec![lib("CensusWriter", lib_writer_under_file, Want::Io)],
        },
        Case {
            // /proc refuses new files to root as well.
            name: "output_folder_read_only_proc".into(),
            build: Box::new(input),
            runs: vec![run(
                &["count", "{in}", "-o", "/proc/sonata-census-out.h5"],
                1,
                &["/proc: cannot create a file in this folder"],
            )],
            libs: vec![lib("CensusWriter", lib_writer_proc, Want::Io)],
        },
        Case {
            // With --force the census would be renamed over the file it counted.
            name: "output_is_the_input".into(),
            build: Box::new(input),
            runs: vec![
                run(
                    &["count", "{in}", "-o", "{in}", "--force"],
                    2,
                    &["{in}", "the output is the input edge file"],
                ),
                run(
                    &["count", "{in}", "-o", "{dir}/./valid.h5"],
                    2,
                    &["{dir}/./valid.h5", "the output is the input edge file"],
                ),
            ],
            libs: Vec::new(),
        },
        Case {
            name: "existing_output_without_force".into(),
            build: Box::new(move |dir| {
                std::fs::write(dir.join("out.h5"), PRECIOUS).unwrap();
                input(dir)
            }),
            runs: vec![run(
                &["count", "{in}", "-o", "{dir}/out.h5"],
                2,
                &["{dir}/out.h5", "output exists (pass --force to replace it)"],
            )],
            libs: vec![lib("CensusWriter", lib_writer, Want::OutputExists)],
        },
    ];
    if !is_root() {
        cases.push(Case {
            name: "output_folder_not_writable".into(),
            build: Box::new(move |dir| {
                let ro = dir.join("ro");
                std::fs::create_dir(&ro).unwrap();
                set_mode(&ro, 0o555);
                input(dir)
            }),
            runs: vec![run(
                &["count", "{in}", "-o", "{dir}/ro/out.h5"],
                1,
                &[
                    "{dir}/ro: cannot create a file in this folder",
                    "ermission denied",
                ],
            )],
            libs: vec![lib("CensusWriter", lib_writer_readonly, Want::Io)],
        });
    } else {
        eprintln!("running as root: the permission-bits case is replaced by the /proc case");
    }
    cases
}

/// Id lists on the command line.
pub(super) fn argument_cases() -> Vec<Case> {
    let input = |dir: &Path| {
        let p = dir.join("valid.h5");
        valid_file(&p);
        std::fs::write(dir.join("targets_bad.txt"), "0\n\n1\nseven\n").unwrap();
        write_nodes(&dir.join("nodes.h5"));
        p
    };
    let nodes = |what: &'static str, gids: &'static str, needles: &[&'static str]| {
        run(
            &["nodes", what, "{dir}/nodes.h5", "-p", "tgt", "--gids", gids],
            2,
            needles,
        )
    };
    let out_of_range: &[&'static str] = &[
        "{dir}/nodes.h5",
        "population 'tgt'",
        "node id 4 is out of range: the population has 4 nodes",
    ];
    let counts = |targets: &'static str, needles: &[&'static str]| {
        run(
            &["query", "counts", "{in}", "--targets", targets],
            2,
            needles,
        )
    };
    let conn_counts = |targets: &'static str, needles: &[&'static str]| {
        run(
            &["query", "conn-counts", "{in}", "--targets", targets],
            2,
            needles,
        )
    };
    vec![Case {
        name: "bad_id_lists".into(),
        build: Box::new(input),
        runs: vec![
            counts("0,zero", &["--targets", "'zero' is not a node id"]),
            counts("0,,1", &["--targets", "'' is not a node id"]),
            counts("1.5", &["--targets", "'1.5' is not a node id"]),
            counts("-1", &["--targets", "'-1' is negative"]),
            conn_counts("0,-3", &["--targets", "'-3' is negative"]),
            counts(
                "18446744073709551616",
                &["'18446744073709551616' does not fit in 64 bits"],
            ),
            counts(
                "@{dir}/no_such_targets.txt",
                &["{dir}/no_such_targets.txt", "No such file or directory"],
            ),
            conn_counts(
                "@{dir}/targets_bad.txt",
                &["{dir}/targets_bad.txt:4", "'seven' is not a node id"],
            ),
            run(
                &["query", "synapses", "{in}", "--gid", "-2"],
                2,
                &["--gid", "'-2' is negative"],
            ),
            run(
                &["query", "synapses", "{in}", "--gid", "x"],
                2,
                &["--gid", "'x' is not a node id"],
            ),
            // `nodes --gids` reads lists as `query --targets` does, and checks bounds in
            // every subcommand.
            nodes("metypes", "0,x", &["--gids", "'x' is not a node id"]),
            nodes("load", "-1", &["--gids", "'-1' is negative"]),
            nodes("distribute", "", &["--gids", "'' is not a node id"]),
            nodes(
                "load",
                "@{dir}/no_such_gids.txt",
                &["{dir}/no_such_gids.txt", "No such file or directory"],
            ),
            nodes("metypes", "0,4", out_of_range),
            nodes("load", "4", out_of_range),
            nodes("distribute", "1,4", out_of_range),
        ],
        libs: Vec::new(),
    }]
}

/// Circuit configs pointing to files that are not there.
pub(super) fn config_cases() -> Vec<Case> {
    let edges = |dir: &Path| {
        let p = dir.join("edges.h5");
        write_edges(&p, "tgt__tgt__chemical", &[0, 1], &[1, 0], Ids::U64);
    };
    vec![
        Case {
            name: "config_names_missing_nodes_file".into(),
            build: Box::new(move |dir| {
                edges(dir);
                config(dir, "missing_nodes.h5", "edges.h5")
            }),
            runs: vec![
                run(
                    &["dry-run", "{in}"],
                    2,
                    &["{dir}/missing_nodes.h5", "No such file", "named by {in}"],
                ),
                run(
                    &["nodes", "metypes", "{in}", "-p", "tgt"],
                    2,
                    &["{dir}/missing_nodes.h5", "No such file", "named by {in}"],
                ),
            ],
            libs: vec![
                lib("dry_run_stats", lib_dry_run, Want::InputFile),
                lib("config node population", lib_config_nodes, Want::InputFile),
            ],
        },
        Case {
            name: "config_names_missing_edges_file".into(),
            build: Box::new(move |dir| {
                write_nodes(&dir.join("nodes.h5"));
                config(dir, "nodes.h5", "missing_edges.h5")
            }),
            runs: vec![run(
                &["dry-run", "{in}"],
                2,
                &["{dir}/missing_edges.h5", "No such file", "named by {in}"],
            )],
            libs: vec![lib("dry_run_stats", lib_dry_run, Want::InputFile)],
        },
        Case {
            // An entry without `populations` (Allen configs) is listed by opening its file.
            name: "config_entry_without_populations_names_missing_file".into(),
            build: Box::new(|dir| {
                write_nodes(&dir.join("nodes.h5"));
                let p = dir.join("circuit_config.json");
                std::fs::write(
                    &p,
                    r#"{"networks": {"nodes": [{"nodes_file": "nodes.h5"}],
                        "edges": [{"edges_file": "./sub/../gone.h5"}]}}"#,
                )
                .unwrap();
                p
            }),
            runs: vec![run(
                &["dry-run", "{in}"],
                2,
                &["{dir}/gone.h5", "No such file", "named by {in}"],
            )],
            libs: vec![lib("dry_run_stats", lib_dry_run, Want::InputFile)],
        },
        Case {
            name: "config_missing".into(),
            build: Box::new(|dir| dir.join("no_config.json")),
            runs: vec![
                run(&["dry-run", "{in}"], 2, &["{in}", "No such file"]),
                run(
                    &["nodes", "metypes", "{in}", "-p", "tgt"],
                    2,
                    &["{in}", "No such file"],
                ),
            ],
            libs: vec![lib("dry_run_stats", lib_dry_run, Want::InputFile)],
        },
        Case {
            name: "config_not_json".into(),
            build: Box::new(|dir| {
                let p = dir.join("circuit_config.json");
                std::fs::write(&p, "{\"networks\": [").unwrap();
                p
            }),
            runs: vec![run(
                &["dry-run", "{in}"],
                2,
                &["{in}", "not a valid JSON circuit config"],
            )],
            libs: vec![lib("dry_run_stats", lib_dry_run, Want::InvalidData)],
        },
    ]
}
