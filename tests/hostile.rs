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

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

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

// The case tables and the checks, in files of their own (this file keeps the table's types,
// the library calls, the fixtures and the tests).
#[path = "hostile/cases.rs"]
mod cases;
#[path = "hostile/checks.rs"]
mod checks;
#[path = "hostile/structure.rs"]
mod structure;

#[allow(clippy::wildcard_imports)]
use {cases::*, checks::*, structure::*};

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
            Want::InvalidData => matches!(e.innermost(), Error::InvalidData { .. }),
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
                    matches!(c.innermost(), Error::InvalidData { .. }),
                    "{}: {c:?}",
                    path.display()
                );
                assert!(
                    matches!(g.innermost(), Error::InvalidData { .. }),
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
