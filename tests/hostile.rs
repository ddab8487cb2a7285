//! Hostile inputs: a corpus of broken files and arguments, built here (no checked-in binaries),
//! run through every command that reads them and through the library.
//!
//! For every case and every command the test asserts: the exit code (2 bad input, 1 the
//! environment; never 101 = panic, never a signal), exactly one line on stderr under `-q` that
//! names the file (and the population and dataset where they apply) and the reason, no HDF5
//! error-stack spam, nothing on stdout, no output file and no `*.partial` left in the output
//! folder, an existing output (replaced with `--force`) byte-identical afterwards, no stray file
//! in the input folder; and that the same input through the library gives the expected typed
//! [`Error`] without panicking. Failures are collected and reported by case name.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Ids, locked, write_edges, write_raw_index, write_target_index};
use sonata_census::census::output::CensusWriter;
use sonata_census::census::reader::read_census;
use sonata_census::census::{Backend, CensusOptions, census_population};
use sonata_census::generate::{AttributeSet, GenerateOptions, generate};
use sonata_census::neurodamus::{ReaderOptions, SonataReader};
use sonata_census::progress::Progress;
use sonata_census::sonata::{CircuitConfig, NodeFile};
use sonata_census::{EdgeFile, Error, Result};

/// Population name of the hand-written fixtures.
const POP: &str = "p";
/// Population name of generated files.
const GEN: &str = "All__All__chemical";
/// Bytes an existing output holds before a failing run.
const PRECIOUS: &[u8] = b"precious census, not to be touched\n";

// ---------------------------------------------------------------------------------------------
// The table

/// The typed error a library call must return.
#[derive(Debug, Clone, Copy)]
enum Want {
    InvalidData,
    NotHdf5,
    InputFile,
    PopulationNotFound,
    Io,
    OutputExists,
}

impl Want {
    fn matches(self, e: &Error) -> bool {
        match self {
            Want::InvalidData => matches!(e, Error::InvalidData { .. }),
            Want::NotHdf5 => matches!(e, Error::NotHdf5 { .. }),
            Want::InputFile => matches!(e, Error::InputFile { .. }),
            Want::PopulationNotFound => matches!(e, Error::PopulationNotFound { .. }),
            Want::Io => matches!(e, Error::Io { .. }),
            Want::OutputExists => matches!(e, Error::OutputExists { .. }),
        }
    }
}

/// One command line of a case. `{in}`, `{out}` and `{dir}` in `args` and `needles` stand for
/// the case's input, a fresh output path in an empty folder, and the case's folder.
struct Run {
    args: Vec<&'static str>,
    code: i32,
    /// Substrings the one stderr line must contain.
    needles: Vec<&'static str>,
}

/// A library call on the case's input (and folder) that must fail with `want`.
struct Lib {
    what: &'static str,
    call: fn(&Path, &Path) -> Result<()>,
    want: Want,
}

/// One broken input: how to build it, the commands that read it, the library calls.
struct Case {
    name: String,
    /// Builds the input in the given folder and returns its path.
    build: Box<dyn Fn(&Path) -> PathBuf>,
    runs: Vec<Run>,
    libs: Vec<Lib>,
}

fn run(args: &[&'static str], code: i32, needles: &[&'static str]) -> Run {
    Run {
        args: args.to_vec(),
        code,
        needles: needles.to_vec(),
    }
}

fn lib(what: &'static str, call: fn(&Path, &Path) -> Result<()>, want: Want) -> Lib {
    Lib { what, call, want }
}

// ---------------------------------------------------------------------------------------------
// Library calls

fn cpu() -> CensusOptions {
    CensusOptions {
        backend: Backend::Cpu,
        ..CensusOptions::default()
    }
}

/// Opens the file and counts every population (as `count` does).
fn lib_census(path: &Path, _: &Path) -> Result<()> {
    let file = EdgeFile::open(path)?;
    for name in file.population_names()? {
        let pop = file.population(&name)?;
        census_population(&pop, &cpu(), &Progress::hidden())?;
    }
    Ok(())
}

fn lib_census_zzz(path: &Path, _: &Path) -> Result<()> {
    let pop = EdgeFile::open(path)?.population("zzz")?;
    census_population(&pop, &cpu(), &Progress::hidden()).map(|_| ())
}

fn lib_info(path: &Path, _: &Path) -> Result<()> {
    sonata_census::info::describe(path, true, &Progress::hidden()).map(|_| ())
}

fn lib_counts(path: &Path, _: &Path) -> Result<()> {
    let mut r = SonataReader::open(path, Some(POP), ReaderOptions::default())?;
    r.get_counts(&[0, 1]).map(|_| ())
}

fn lib_conn_counts(path: &Path, _: &Path) -> Result<()> {
    let mut r = SonataReader::open(path, Some(POP), ReaderOptions::default())?;
    r.get_conn_counts(&[0, 1]).map(|_| ())
}

fn lib_synapses(path: &Path, _: &Path) -> Result<()> {
    let mut r = SonataReader::open(path, Some(GEN), ReaderOptions::default())?;
    r.get_synapse_parameters(19).map(|_| ())
}

fn lib_nodes(path: &Path, _: &Path) -> Result<()> {
    NodeFile::open(path)?.population(POP).map(|_| ())
}

fn lib_tgt_nodes(path: &Path, _: &Path) -> Result<()> {
    NodeFile::open(path)?.population("tgt").map(|_| ())
}

fn lib_writer(_: &Path, dir: &Path) -> Result<()> {
    CensusWriter::create(&dir.join("out.h5"), false).map(|_| ())
}

fn lib_writer_missing_dir(_: &Path, dir: &Path) -> Result<()> {
    CensusWriter::create(&dir.join("nope/out.h5"), true).map(|_| ())
}

fn lib_writer_under_file(_: &Path, dir: &Path) -> Result<()> {
    CensusWriter::create(&dir.join("plain.txt/out.h5"), true).map(|_| ())
}

fn lib_writer_proc(_: &Path, _: &Path) -> Result<()> {
    CensusWriter::create(Path::new("/proc/sonata-census-out.h5"), true).map(|_| ())
}

fn lib_writer_readonly(_: &Path, dir: &Path) -> Result<()> {
    CensusWriter::create(&dir.join("ro/out.h5"), true).map(|_| ())
}

fn lib_config_nodes(path: &Path, _: &Path) -> Result<()> {
    let err = match CircuitConfig::open(path)?.open_node_population("tgt") {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    // The typed error also names the config that points to the missing file.
    assert!(
        err.to_string()
            .contains(&format!("named by {}", path.display())),
        "{err}"
    );
    Err(err)
}

fn lib_dry_run(path: &Path, _: &Path) -> Result<()> {
    let config = CircuitConfig::open(path)?;
    sonata_census::neurodamus::dry_run::dry_run_stats(&config, 1, &cpu(), &Progress::hidden())
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A valid 4-edge population `p` (targets 0, 0, 1, 1) with a target index of 2 nodes.
fn valid_file(path: &Path) {
    let (s, t) = ([0, 1, 2, 3], [0, 0, 1, 1]);
    write_edges(path, POP, &s, &t, Ids::U64);
    write_target_index(path, POP, &t, 2);
}

/// Writes `edges/p/<name>` with `data` (any dtype/shape) into an existing file.
fn put<T: hdf5::H5Type>(path: &Path, name: &str, data: &ndarray::ArrayD<T>) {
    let f = hdf5::File::open_rw(path).unwrap();
    let g = match f.group(&format!("edges/{POP}")) {
        Ok(g) => g,
        Err(_) => f.create_group(&format!("edges/{POP}")).unwrap(),
    };
    g.new_dataset_builder()
        .with_data(data)
        .create(name)
        .unwrap();
}

fn arr<T: Clone>(v: &[T]) -> ndarray::ArrayD<T> {
    ndarray::ArrayD::from_shape_vec(vec![v.len()], v.to_vec()).unwrap()
}

/// A generated BBP file (sorted, 20 nodes, 200 edges, index, every synapse attribute) with
/// `edit` applied to its group `0`.
fn generated_with(dir: &Path, edit: impl Fn(&hdf5::Group)) -> PathBuf {
    let path = dir.join("bbp.h5");
    let options = GenerateOptions {
        nodes: 20,
        edges: 200,
        attributes: AttributeSet::Bbp,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).unwrap();
    let f = hdf5::File::open_rw(&path).unwrap();
    edit(&f.group(&format!("edges/{GEN}/0")).unwrap());
    path
}

/// A node population `tgt` of 4 cells with `mtype` / `etype` strings.
fn write_nodes(path: &Path) {
    let f = hdf5::File::create(path).unwrap();
    let g = f.create_group("nodes/tgt").unwrap();
    g.new_dataset_builder()
        .with_data(&[0i64; 4])
        .create("node_type_id")
        .unwrap();
    let g0 = g.create_group("0").unwrap();
    let s = |v: &[&str]| -> Vec<hdf5::types::VarLenUnicode> {
        v.iter().map(|x| x.parse().unwrap()).collect()
    };
    g0.new_dataset_builder()
        .with_data(&s(&["m", "m", "n", "n"]))
        .create("mtype")
        .unwrap();
    g0.new_dataset_builder()
        .with_data(&s(&["e", "e", "e", "e"]))
        .create("etype")
        .unwrap();
}

fn config(dir: &Path, nodes_file: &str, edges_file: &str) -> PathBuf {
    let path = dir.join("circuit_config.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"manifest": {{"$D": "./"}}, "networks": {{
            "nodes": [{{"nodes_file": "$D/{nodes_file}", "populations": {{"tgt": {{"type": "biophysical"}}}}}}],
            "edges": [{{"edges_file": "$D/{edges_file}", "populations": {{"tgt__tgt__chemical": {{"type": "chemical"}}}}}}]}}}}"#
        ),
    )
    .unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Cases

/// The commands that read any edge file whole (open, list, read ids), with the message parts.
fn edge_runs(code: i32, needles: &[&'static str]) -> Vec<Run> {
    vec![
        run(&["info", "{in}"], code, needles),
        run(&["count", "{in}", "-o", "{out}"], code, needles),
        run(
            &["query", "counts", "{in}", "-p", POP, "--targets", "0,1"],
            code,
            needles,
        ),
        run(
            &[
                "query",
                "conn-counts",
                "{in}",
                "-p",
                POP,
                "--targets",
                "0,1",
            ],
            code,
            needles,
        ),
    ]
}

fn edge_libs(want: Want) -> Vec<Lib> {
    vec![
        lib("census", lib_census, want),
        lib("info", lib_info, want),
        lib("get_counts", lib_counts, want),
        lib("get_conn_counts", lib_conn_counts, want),
    ]
}

/// Cases whose input is not an HDF5 file at all (or not a readable one).
fn file_cases() -> Vec<Case> {
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

/// Cases of broken SONATA structure and ids.
fn structure_cases() -> Vec<Case> {
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
                &["--nodes-count: 1099511627776 target nodes need"],
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

/// Node files: a population whose declared size no machine can list.
fn node_cases() -> Vec<Case> {
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
fn attribute_cases() -> Vec<Case> {
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
fn output_cases() -> Vec<Case> {
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
fn argument_cases() -> Vec<Case> {
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
fn config_cases() -> Vec<Case> {
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

// ---------------------------------------------------------------------------------------------
// The checks

fn bin() -> Command {
    let mut c = common::bin();
    // The CPU engine: the errors are the input's, and probing for a GPU is slow on lavapipe.
    c.env("SONATA_CENSUS_BACKEND", "cpu");
    c
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Files of a folder (recursively), with their bytes, sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

fn fill(template: &str, input: &Path, out: &Path, dir: &Path) -> String {
    template
        .replace("{in}", input.to_str().unwrap())
        .replace("{out}", out.to_str().unwrap())
        .replace("{dir}", dir.to_str().unwrap())
}

/// Checks one command line; returns what went wrong.
fn check_run(case: &str, r: &Run, input: &Path, dir: &Path, k: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let out_dir = dir.join(format!("out{k}"));
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("census.h5");
    let args: Vec<String> = r.args.iter().map(|a| fill(a, input, &out, dir)).collect();
    let writes = r.args.contains(&"{out}");
    let what = format!("[{case}] sonata-census -q {}", args.join(" "));

    // Twice for commands with an output: into an empty folder, then over an existing output
    // with --force (which a failing run must leave byte-identical).
    let attempts: &[bool] = if writes { &[false, true] } else { &[false] };
    for &existing in attempts {
        let mut args = args.clone();
        if existing {
            std::fs::write(&out, PRECIOUS).unwrap();
            args.push("--force".into());
        }
        let before = snapshot(dir);
        let o: Output = locked(|| bin().arg("-q").args(&args).output().unwrap());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let what = if existing {
            format!("{what} --force (over an existing output)")
        } else {
            what.clone()
        };
        match o.status.code() {
            None => problems.push(format!("{what}: killed by a signal ({:?})", o.status)),
            Some(101) => problems.push(format!("{what}: panicked: {err}")),
            Some(c) if c != r.code => {
                problems.push(format!("{what}: exit code {c}, want {}: {err}", r.code))
            }
            _ => {}
        }
        let lines: Vec<&str> = err.lines().collect();
        if lines.len() != 1 {
            problems.push(format!(
                "{what}: stderr has {} lines, want 1:\n{err}",
                lines.len()
            ));
        }
        let line = lines.first().copied().unwrap_or("");
        if !line.starts_with("sonata-census: ") {
            problems.push(format!(
                "{what}: line lacks the 'sonata-census: ' prefix: {line}"
            ));
        }
        if err.contains("HDF5-DIAG") || err.contains("#000:") {
            problems.push(format!("{what}: HDF5 error stack printed:\n{err}"));
        }
        for n in &r.needles {
            let n = fill(n, input, &out, dir);
            if !line.contains(&n) {
                problems.push(format!("{what}: message lacks '{n}': {line}"));
            }
        }
        if !o.stdout.is_empty() {
            problems.push(format!(
                "{what}: printed on stdout: {}",
                String::from_utf8_lossy(&o.stdout)
            ));
        }
        // Nothing appeared, changed or vanished anywhere in the case's folder (outputs,
        // `.partial` files and write probes included).
        let after = snapshot(dir);
        if after != before {
            let names = |s: &[(PathBuf, Vec<u8>)]| -> Vec<String> {
                s.iter().map(|(p, _)| p.display().to_string()).collect()
            };
            problems.push(format!(
                "{what}: files changed: before {:?}, after {:?}",
                names(&before),
                names(&after)
            ));
        }
        if existing && std::fs::read(&out).ok().as_deref() != Some(PRECIOUS) {
            problems.push(format!("{what}: the existing output was modified"));
        }
    }
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir(&out_dir);
    problems
}

/// Checks one library call: the expected typed error, no panic.
fn check_lib(case: &str, l: &Lib, input: &Path, dir: &Path) -> Option<String> {
    let result = locked(|| catch_unwind(AssertUnwindSafe(|| (l.call)(input, dir))));
    match result {
        Err(_) => Some(format!("[{case}] library {}: panicked", l.what)),
        Ok(Ok(())) => Some(format!(
            "[{case}] library {}: succeeded, want {:?}",
            l.what, l.want
        )),
        Ok(Err(e)) if !l.want.matches(&e) => Some(format!(
            "[{case}] library {}: {e:?}, want {:?}",
            l.what, l.want
        )),
        Ok(Err(_)) => None,
    }
}

fn check_cases(cases: Vec<Case>) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(&case.name);
        std::fs::create_dir(&dir).unwrap();
        let input = locked(|| (case.build)(&dir));
        for (k, r) in case.runs.iter().enumerate() {
            problems.extend(check_run(&case.name, r, &input, &dir, k));
            checked += 1;
        }
        for l in &case.libs {
            problems.extend(check_lib(&case.name, l, &input, &dir));
            checked += 1;
        }
        // Let the temporary folder go even when a case made part of it read-only.
        set_mode(&dir, 0o755);
        if dir.join("ro").exists() {
            set_mode(&dir.join("ro"), 0o755);
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn inputs_that_are_not_readable_hdf5() {
    check_cases(file_cases());
}

#[test]
fn broken_sonata_structure_and_ids() {
    check_cases(structure_cases());
}

#[test]
fn node_populations_too_large_to_list() {
    check_cases(node_cases());
}

#[test]
fn broken_attribute_columns() {
    check_cases(attribute_cases());
}

#[test]
fn outputs_that_cannot_be_written_or_replaced() {
    check_cases(output_cases());
}

#[test]
fn bad_id_lists_on_the_command_line() {
    check_cases(argument_cases());
}

#[test]
fn circuit_configs_pointing_to_missing_files() {
    check_cases(config_cases());
}

/// A population with zero edges is valid: empty tables, empty answers.
#[test]
fn zero_edge_population_gives_empty_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let with_index = dir.join("zero.h5");
    let without_index = dir.join("zero_noindex.h5");
    locked(|| {
        write_edges(&with_index, POP, &[], &[], Ids::U64);
        write_target_index(&with_index, POP, &[], 3);
        write_edges(&without_index, POP, &[], &[], Ids::I64);
    });
    for (input, n_targets) in [(&with_index, 3u64), (&without_index, 0)] {
        let out = dir.join("census.h5");
        let o = locked(|| {
            bin()
                .args(["-q", "count"])
                .arg(input)
                .arg("-o")
                .arg(&out)
                .output()
                .unwrap()
        });
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert!(o.stderr.is_empty(), "{o:?}");
        let census = locked(|| read_census(&out, POP)).unwrap();
        assert_eq!(census.edge_count, 0);
        assert_eq!(census.n_targets, n_targets);
        assert_eq!(census.target_synapse_count, vec![0; n_targets as usize]);
        assert_eq!(census.target_connection_count, vec![0; n_targets as usize]);
        assert_eq!(census.target_offsets, vec![0; n_targets as usize + 1]);
        assert!(census.source_node_id.is_empty());
        assert!(census.synapse_count.is_empty());
        assert_eq!(census.synapses_per_connection, vec![0]);
        assert_eq!(census.connection_count(), 0);
        // The library gives the same tables.
        let lib = locked(|| {
            let pop = EdgeFile::open(input).unwrap().population(POP).unwrap();
            census_population(&pop, &cpu(), &Progress::hidden()).unwrap()
        });
        common::assert_same_tables(&lib, &census, "zero edges");
        std::fs::remove_file(&out).unwrap();

        let o = locked(|| bin().args(["-q", "info"]).arg(input).output().unwrap());
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("edges:        0"),
            "{o:?}"
        );
    }
    let query = |what: &str| {
        let o = locked(|| {
            bin()
                .args(["-q", "query", what])
                .arg(&with_index)
                .args(["--targets", "0,2,1"])
                .output()
                .unwrap()
        });
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(query("counts"), r#"{"0": 0, "2": 0, "1": 0}"#);
    assert_eq!(query("conn-counts"), r#"{"0": {}, "2": {}, "1": {}}"#);
}

/// `count` takes only the node count from the target index and counts from the id columns, so a
/// corrupt `range_to_edge_id` (which `info` and `query` reject) does not change its tables.
/// Reading that dataset would cost as much as the id columns of an unsorted file.
#[test]
fn count_ignores_edge_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("past.h5");
    let (s, t) = ([3, 1, 2, 3], [0, 0, 1, 1]);
    locked(|| {
        write_edges(&input, POP, &s, &t, Ids::U64);
        write_raw_index(
            &input,
            POP,
            "target_to_source",
            &[[0, 1], [1, 2]],
            &[[0, 2], [2, 9]],
        );
    });
    let out = tmp.path().join("census.h5");
    let o = locked(|| {
        bin()
            .args(["-q", "count"])
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap()
    });
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let census = locked(|| read_census(&out, POP)).unwrap();
    common::assert_same_tables(&census, &common::naive_census(&s, &t, Some(2)), "past.h5");
}

/// Target ids beyond the index are dropped and answered with 0 / `{}`, as libsonata and
/// neurodamus do (they are valid ids of a node population that has no edges here).
#[test]
fn query_targets_beyond_the_index_answer_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("valid.h5");
    locked(|| valid_file(&input));
    let o = locked(|| {
        bin()
            .args(["-q", "query", "counts"])
            .arg(&input)
            .args(["--targets", "1,2,18446744073709551615"])
            .output()
            .unwrap()
    });
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"1": 2, "2": 0, "18446744073709551615": 0}"#
    );
}

/// The GPU engine refuses the same data with the same typed error and message as the CPU
/// engine, and counts a zero-edge population the same (any adapter, lavapipe included; skipped
/// without one unless SONATA_CENSUS_REQUIRE_GPU=1).
#[test]
fn gpu_census_refuses_the_same_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut files = Vec::new();
    locked(|| {
        let p = dir.join("negative_source.h5");
        write_edges(&p, POP, &[0, u64::MAX, 2, 3], &[0, 0, 1, 1], Ids::I64);
        files.push(p);
        let p = dir.join("negative_target.h5");
        write_edges(&p, POP, &[0, 1, 2, 3], &[1, 0, 0, u64::MAX], Ids::I64);
        files.push(p);
        let p = dir.join("beyond.h5");
        write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
        write_target_index(&p, POP, &[0, 0], 1);
        files.push(p);
        let p = dir.join("inverted.h5");
        write_edges(&p, POP, &[0, 1, 2, 3], &[0, 0, 1, 1], Ids::U64);
        write_raw_index(
            &p,
            POP,
            "target_to_source",
            &[[0, 1], [2, 1]],
            &[[0, 2], [2, 4]],
        );
        files.push(p);
        let p = dir.join("zero.h5");
        write_edges(&p, POP, &[], &[], Ids::U64);
        write_target_index(&p, POP, &[], 3);
        files.push(p);
    });
    for path in &files {
        let census = |backend| {
            locked(|| {
                let pop = EdgeFile::open(path).unwrap().population(POP).unwrap();
                let options = CensusOptions {
                    backend,
                    ..CensusOptions::default()
                };
                census_population(&pop, &options, &Progress::hidden())
            })
        };
        let gpu = census(Backend::Gpu);
        if let Err(Error::BackendUnavailable { reason, .. }) = &gpu {
            assert!(
                std::env::var("SONATA_CENSUS_REQUIRE_GPU").as_deref() != Ok("1"),
                "no GPU adapter, and SONATA_CENSUS_REQUIRE_GPU=1: {reason}"
            );
            eprintln!("no GPU adapter - skipped ({reason})");
            return;
        }
        match (census(Backend::Cpu), gpu) {
            (Err(c), Err(g)) => {
                assert!(
                    matches!(c, Error::InvalidData { .. }),
                    "{}: {c:?}",
                    path.display()
                );
                assert!(
                    matches!(g, Error::InvalidData { .. }),
                    "{}: {g:?}",
                    path.display()
                );
                assert_eq!(c.to_string(), g.to_string(), "{}", path.display());
            }
            (Ok(c), Ok(g)) => common::assert_same_tables(&g, &c, &path.display().to_string()),
            (c, g) => panic!("{}: cpu {c:?}, gpu {g:?}", path.display()),
        }
    }
}
