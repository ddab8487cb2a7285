//! Census table files answering neurodamus's counting calls in place of their edge files
//! (`census::lookup`, `SonataReader::use_census_tables`, `query --tables`): the answers equal
//! the edge file's on generated circuits of every order, id type and storage and on every
//! sample population; tables of another input, of another kind, without a record of their
//! input or damaged are refused; the record is deterministic (byte-identical outputs from any
//! working folder).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sonata_census::census::lookup::TableLookup;
use sonata_census::census::output::CensusWriter;
use sonata_census::census::provenance::{Provenance, TableKind};
use sonata_census::census::{Backend, CensusOptions, census_population};
use sonata_census::generate::{EdgeOrder, GenerateOptions, GeneratedIdDtype, IdStorage, generate};
use sonata_census::neurodamus::{ReaderOptions, SonataReader};
use sonata_census::progress::Progress;
use sonata_census::{EdgeFile, Error};

use common::{Rng, bin, locked, path_str};

/// Counts every population of `edges` on the CPU into `tables`, recording the input as `count`
/// does. Returns the populations counted (those whose census the data allows).
fn write_tables(edges: &Path, tables: &Path) -> Vec<String> {
    // Written under the fork lock: a child spawned meanwhile must not inherit the open file.
    locked(|| write_tables_unlocked(edges, tables))
}

fn write_tables_unlocked(edges: &Path, tables: &Path) -> Vec<String> {
    let file = EdgeFile::open(edges).unwrap();
    let options = CensusOptions {
        backend: Backend::Cpu,
        ..CensusOptions::default()
    };
    let mut writer = CensusWriter::create(tables, true).unwrap();
    let mut counted = Vec::new();
    for name in file.population_names().unwrap() {
        let Ok(pop) = file.population(&name) else {
            continue;
        };
        let Ok(census) = census_population(&pop, &options, &Progress::hidden()) else {
            continue;
        };
        let input = Provenance::of(&pop, TableKind::Full).unwrap();
        writer.write_recorded(&census, None, &input).unwrap();
        counted.push(name);
    }
    writer.finish().unwrap();
    counted
}

/// Random target lists: duplicates, unsorted, ids without edges and far beyond the tables.
fn target_lists(n_targets: u64, seed: u64) -> Vec<Vec<u64>> {
    let mut rng = Rng(seed);
    let mut lists = vec![
        (0..n_targets + 3).collect::<Vec<u64>>(),
        vec![],
        vec![0, 0, n_targets + 10, u64::MAX, 1],
    ];
    for len in [1, 7, 100, 333] {
        let mut list: Vec<u64> = (0..len).map(|_| rng.below(n_targets + 5)).collect();
        if len > 1 {
            list.push(list[0]);
        }
        lists.push(list);
    }
    lists
}

/// The answers of a reader: get_counts, get_conn_counts and the arrays form, for `targets`.
type ConnCounts = Vec<(u64, Vec<(u64, u64)>)>;

fn answers(reader: &mut SonataReader, targets: &[u64]) -> (Vec<(u64, u64)>, ConnCounts) {
    let counts = reader.get_counts(targets).unwrap();
    let conn: ConnCounts = reader
        .get_conn_counts(targets)
        .unwrap()
        .into_iter()
        .map(|(t, m)| (t, m.into_iter().collect()))
        .collect();
    (counts, conn)
}

/// The reference reader of `population`: through the index, or by the census engine when the
/// population has no target index.
fn reference_reader(edges: &Path, population: &str) -> SonataReader {
    let mut reader = SonataReader::open(edges, Some(population), ReaderOptions::default()).unwrap();
    if reader.get_counts(&[0]).is_err() {
        let options = CensusOptions {
            backend: Backend::Cpu,
            ..CensusOptions::default()
        };
        reader
            .count_with_census(&options, &Progress::hidden())
            .unwrap();
    }
    reader
}

/// Checks every answer of the tables against the edge file's, for every counted population.
fn assert_tables_answer_as_edges(edges: &Path, tables: &Path, populations: &[String], what: &str) {
    for population in populations {
        let mut want = reference_reader(edges, population);
        let mut got =
            SonataReader::open(edges, Some(population), ReaderOptions::default()).unwrap();
        got.use_census_tables(tables).unwrap();
        let n_targets = got.census_tables().unwrap().n_targets();
        for (i, list) in target_lists(n_targets, 7).iter().enumerate() {
            let what = format!("{what} {population} list {i}");
            let expected = answers(&mut want, list);
            assert_eq!(answers(&mut got, list), expected, "{what}");
            // The arrays form: aligned with the list, duplicates kept.
            let rows = got.get_conn_counts_arrays(list).unwrap();
            assert_eq!(rows.offsets.len(), list.len() + 1, "{what}");
            let by_target: BTreeMap<u64, Vec<(u64, u64)>> = expected.1.into_iter().collect();
            for (j, t) in list.iter().enumerate() {
                let row: Vec<(u64, u64)> = rows.of(j).collect();
                assert_eq!(row, by_target[t], "{what}: arrays of target {t}");
            }
        }
    }
}

#[test]
fn tables_answer_as_the_edge_file_for_every_order_type_and_storage() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = 0;
    for order in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ] {
        for (id_dtype, id_storage) in [
            (GeneratedIdDtype::U64, IdStorage::Contiguous),
            (GeneratedIdDtype::I64, IdStorage::Contiguous),
            (GeneratedIdDtype::U64, IdStorage::Deflate { rows: 3001 }),
        ] {
            let edges = dir.path().join(format!("e{cases}.h5"));
            let tables = dir.path().join(format!("t{cases}.h5"));
            let options = GenerateOptions {
                nodes: 300,
                edges: 20_000,
                seed: cases,
                order,
                id_dtype,
                id_storage,
                populations: 2,
                ..GenerateOptions::default()
            };
            locked(|| generate(&edges, &options, &|_| {})).unwrap();
            let populations = write_tables(&edges, &tables);
            assert_eq!(populations.len(), 2);
            let what = format!("{order:?} {id_dtype:?} {id_storage:?}");
            assert_tables_answer_as_edges(&edges, &tables, &populations, &what);
            cases += 1;
        }
    }
    assert_eq!(cases, 9);
}

#[test]
fn tables_answer_as_every_sample_population() {
    let Some(samples) = common::samples_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut files: Vec<PathBuf> = walk(&samples)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "h5"))
        .collect();
    files.sort();
    for (i, edges) in files.iter().enumerate() {
        let Ok(file) = EdgeFile::open(edges) else {
            continue;
        };
        if file.population_names().map_or(true, |n| n.is_empty()) {
            continue;
        }
        let tables = dir.path().join(format!("t{i}.h5"));
        let populations = write_tables(edges, &tables);
        if populations.is_empty() {
            continue;
        }
        assert_tables_answer_as_edges(edges, &tables, &populations, &edges.display().to_string());
        checked += populations.len();
    }
    eprintln!("{checked} sample populations answered from tables");
    assert!(checked >= 5, "only {checked} sample populations checked");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A generated circuit and its tables in `dir`.
fn circuit(dir: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let edges = dir.join("edges.h5");
    let tables = dir.join("tables.h5");
    let options = GenerateOptions {
        nodes: 200,
        edges: 5_000,
        seed,
        order: EdgeOrder::Shuffled,
        ..GenerateOptions::default()
    };
    locked(|| generate(&edges, &options, &|_| {})).unwrap();
    write_tables(&edges, &tables);
    (edges, tables)
}

fn open_with_tables(edges: &Path, tables: &Path) -> Result<SonataReader, Error> {
    let mut reader = SonataReader::open(edges, None, ReaderOptions::default())?;
    reader.use_census_tables(tables)?;
    Ok(reader)
}

#[test]
fn tables_of_another_input_are_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, tables) = circuit(dir.path(), 1);
    assert!(open_with_tables(&edges, &tables).is_ok());

    // The same name and size, one target id changed in the middle of the file: only the
    // fingerprint can tell... when the change is within its rows. Change the first row.
    let edited = tempfile::tempdir().unwrap();
    let other = edited.path().join("edges.h5");
    std::fs::copy(&edges, &other).unwrap();
    locked(|| {
        let f = hdf5::File::open_rw(&other).unwrap();
        let ds = f
            .dataset("edges/All__All__chemical/target_node_id")
            .unwrap();
        let mut first = ds.read_slice_1d::<u64, _>(0..1).unwrap().to_vec();
        first[0] = (first[0] + 1) % 200;
        ds.write_slice(&first, 0..1).unwrap();
    });
    assert_eq!(
        std::fs::metadata(&other).unwrap().len(),
        std::fs::metadata(&edges).unwrap().len()
    );
    let e = open_with_tables(&other, &tables).unwrap_err().to_string();
    assert!(e.contains("fingerprints differ"), "{e}");
    assert!(
        e.contains(path_str(&tables)) && e.contains(path_str(&other)),
        "{e}"
    );

    // Another file of another size.
    let (other_edges, _) = circuit(edited.path().join("b").as_path().tap_mkdir(), 2);
    let e = open_with_tables(&other_edges, &tables)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bytes") || e.contains("edges"), "{e}");

    // A renamed copy: the name is part of the record, and the message says why.
    let renamed = dir.path().join("renamed.h5");
    std::fs::copy(&edges, &renamed).unwrap();
    let e = open_with_tables(&renamed, &tables).unwrap_err().to_string();
    assert!(e.contains("renamed copy"), "{e}");
}

trait MkDir {
    fn tap_mkdir(&self) -> &Path;
}

impl MkDir for Path {
    fn tap_mkdir(&self) -> &Path {
        std::fs::create_dir_all(self).unwrap();
        self
    }
}

#[test]
fn tables_that_cannot_answer_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (edges, tables) = circuit(dir.path(), 3);

    // No record of the input: written without one (as before the record existed).
    let bare = dir.path().join("bare.h5");
    locked(|| {
        let file = EdgeFile::open(&edges).unwrap();
        let pop = file.population("All__All__chemical").unwrap();
        let census =
            census_population(&pop, &CensusOptions::default(), &Progress::hidden()).unwrap();
        let mut w = CensusWriter::create(&bare, false).unwrap();
        w.write(&census).unwrap();
        w.finish().unwrap();
    });
    let e = open_with_tables(&edges, &bare).unwrap_err();
    assert!(matches!(e.innermost(), Error::InvalidData { .. }), "{e}");
    assert!(e.to_string().contains("records no input"), "{e}");

    // Another kind of table.
    for kind in ["partial", "restricted", "efferent"] {
        let other = dir.path().join(format!("{kind}.h5"));
        std::fs::copy(&tables, &other).unwrap();
        locked(|| {
            let f = hdf5::File::open_rw(&other).unwrap();
            let g = f.group("All__All__chemical").unwrap();
            g.delete_attr("table_kind").unwrap();
            let v: hdf5::types::VarLenUnicode = kind.parse().unwrap();
            g.new_attr::<hdf5::types::VarLenUnicode>()
                .create("table_kind")
                .unwrap()
                .write_scalar(&v)
                .unwrap();
        });
        let e = open_with_tables(&edges, &other).unwrap_err().to_string();
        assert!(e.contains("only a full census"), "{kind}: {e}");
    }

    // An edge file is not a table file; a population the tables do not hold is named.
    let e = open_with_tables(&edges, &edges).unwrap_err().to_string();
    assert!(e.contains("not a census table file"), "{e}");
    let e = TableLookup::open(&tables, "nope").unwrap_err();
    assert!(matches!(e, Error::PopulationNotFound { .. }), "{e}");

    // Damaged rows are found when read, naming the target.
    let damaged = dir.path().join("damaged.h5");
    std::fs::copy(&tables, &damaged).unwrap();
    let lookup = TableLookup::open(&tables, "All__All__chemical").unwrap();
    let target = (0..200).find(|&t| lookup.synapses(t) > 0).unwrap();
    locked(|| {
        let f = hdf5::File::open_rw(&damaged).unwrap();
        let offsets = f
            .dataset("All__All__chemical/connections/target_offsets")
            .unwrap()
            .read_raw::<u64>()
            .unwrap();
        let ds = f
            .dataset("All__All__chemical/connections/synapse_count")
            .unwrap();
        let row = offsets[target as usize] as usize;
        ds.write_slice(&[999u32], row..row + 1).unwrap();
    });
    let mut reader = open_with_tables(&edges, &damaged).unwrap();
    let e = reader.get_conn_counts(&[target]).unwrap_err().to_string();
    assert!(
        e.contains(&format!("target {target}")) && e.contains("damaged"),
        "{e}"
    );
}

#[test]
fn count_records_its_input_deterministically_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.h5");
    let options = GenerateOptions {
        nodes: 100,
        edges: 2_000,
        order: EdgeOrder::Shuffled,
        ..GenerateOptions::default()
    };
    locked(|| generate(&edges, &options, &|_| {})).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    // Absolute paths, then relative ones from another folder: the same bytes.
    let run = |cwd: &Path, input: &str, output: &str| {
        let out = locked(|| {
            bin()
                .current_dir(cwd)
                .args(["count", "-q", input, "-o", output])
                .output()
                .unwrap()
        });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let a = dir.path().join("a.h5");
    run(dir.path(), path_str(&edges), path_str(&a));
    run(&sub, "../edges.h5", "b.h5");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(sub.join("b.h5")).unwrap()
    );
    let lookup = TableLookup::open(&a, "All__All__chemical").unwrap();
    let input = lookup.input();
    assert_eq!(input.kind, TableKind::Full);
    assert_eq!(input.input_file, "edges.h5");
    assert_eq!(input.input_size, std::fs::metadata(&edges).unwrap().len());
    assert_eq!(input.id_fingerprint.len(), 32);

    // `query --tables` answers as the edge file does, and refuses --census with it.
    let ids = "0,5,5,3,99,100,1000";
    for what in ["counts", "conn-counts"] {
        let query = |extra: &[&str]| {
            let out = locked(|| {
                bin()
                    .current_dir(&sub)
                    .args(["query", what, "../edges.h5", "--targets", ids])
                    .args(extra)
                    .output()
                    .unwrap()
            });
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let plain = query(&[]);
        assert!(plain.len() > 10);
        assert_eq!(query(&["--tables", "b.h5"]), plain, "query {what}");
    }
    let out = locked(|| {
        bin()
            .current_dir(&sub)
            .args(["query", "counts", "../edges.h5", "--targets", "1"])
            .args(["--tables", "../edges.h5"])
            .output()
            .unwrap()
    });
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a census table file"), "{err}");
}
