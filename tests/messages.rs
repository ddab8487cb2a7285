//! What the tool says: a broken population next to good ones (`info`, `count`), `query
//! --census` without an index, plurals, the backend line once, `wrote OUT`, the CPU strategy
//! under `-v`, files that are not edge files, the reader that fits a gap-junction file,
//! `--spill-dir` and empty or foreign inputs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Ids, bin, files_in, locked, path_str as p, samples_dir, write_edges};
use sonata_census::generate::{GenerateOptions, generate};
use sonata_census::neurodamus::{ReaderOptions, SonataReader};
use sonata_census::progress::Progress;

fn run(args: &[&str]) -> Output {
    locked(|| bin().args(args).output().unwrap())
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    locked(|| bin().current_dir(dir).args(args).output().unwrap())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `a` (good), `b` (an empty group), `c` (no target_node_id), `d` (good).
fn mixed(dir: &Path) -> PathBuf {
    let path = dir.join("mixed.h5");
    locked(|| {
        write_edges(&path, "a", &[0, 1, 1], &[0, 0, 1], Ids::U64);
        write_edges(&path, "d", &[2], &[0], Ids::U64);
        let f = hdf5::File::open_rw(&path).unwrap();
        f.create_group("edges/b").unwrap();
        let c = f.create_group("edges/c").unwrap();
        c.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("source_node_id")
            .unwrap();
    });
    path
}

#[test]
fn info_describes_the_good_populations_and_marks_the_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed(dir.path());
    for scan in [&[][..], &["--no-scan"][..]] {
        let mut args = vec!["info", "mixed.h5"];
        args.extend_from_slice(scan);
        let o = run_in(dir.path(), &args);
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            out.starts_with("mixed.h5: 4 edge populations (2 broken)\n"),
            "{out}"
        );
        // The good ones in full, the broken ones in their place with their error.
        assert!(out.contains("\na\n  nodes:        src -> tgt\n  edges:        3\n"));
        assert!(out.contains("\nd\n  nodes:        src -> tgt\n  edges:        1\n"));
        assert!(
            out.contains("\nb\n  error:        the population's group is empty"),
            "{out}"
        );
        assert!(
            out.contains("\nc\n  error:        dataset 'target_node_id': dataset is missing"),
            "{out}"
        );
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].starts_with("sonata-census: mixed.h5, population 'b': "),
            "{err}"
        );
        assert!(
            lines[0].ends_with("(and 1 more broken population: 'c')"),
            "{err}"
        );
    }
    // JSON: every good population, and the broken ones with their message.
    let o = run(&["info", p(&input), "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v["populations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "d"]);
    let broken = v["broken_populations"].as_array().unwrap();
    assert_eq!(broken.len(), 2);
    assert_eq!(broken[1]["name"], "c");
    assert!(
        broken[1]["error"]
            .as_str()
            .unwrap()
            .ends_with("population 'c', dataset 'target_node_id': dataset is missing")
    );
    // The library's strict form fails on the first broken population.
    let e = sonata_census::info::describe(&input, true, &Progress::hidden()).unwrap_err();
    assert!(matches!(e, sonata_census::Error::InvalidData { .. }), "{e}");
}

#[test]
fn info_on_a_file_whose_only_population_is_broken_prints_only_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.h5");
    locked(|| {
        let f = hdf5::File::create(&path).unwrap();
        f.create_group("edges/only").unwrap();
    });
    let o = run(&["info", p(&path)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("population 'only': the population's group is empty"));
}

#[test]
fn count_without_p_names_the_broken_population_and_how_to_leave_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed(dir.path());
    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("population 'b'"), "{err}");
    assert!(
        err.contains("(to leave 'b', 'c' out, name the others: -p a -p d)"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(files_in(dir.path()), ["mixed.h5"]);
    // Naming the good ones counts them.
    let o = run(&["count", p(&input), "-p", "a", "-p", "d", "-o", p(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Naming a broken one: its error alone (the user chose it).
    let o = run(&["count", p(&input), "-p", "c", "-o", p(&out), "--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("to leave"), "{}", stderr(&o));
}

#[test]
fn libsonata_edges1_shows_edges_ab_despite_the_empty_edges_ac() {
    let Some(samples) = samples_dir() else { return };
    let input = samples.join("openbraininstitute/libsonata/tests/data/edges1.h5");
    for args in [vec!["info"], vec!["info", "--no-scan"]] {
        let mut args = args.clone();
        args.push(p(&input));
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let out = stdout(&o);
        assert!(
            out.contains("\nedges-AB\n  nodes:        nodes-A -> nodes-B\n  edges:        6\n")
        );
        assert!(out.contains("\nedges-AC\n  error:        "), "{out}");
        assert!(stderr(&o).contains("population 'edges-AC'"));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("name the others: -p edges-AB"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// The same circuit with and without indices.
fn with_and_without_index(dir: &Path) -> (PathBuf, PathBuf) {
    let options = GenerateOptions {
        nodes: 50,
        edges: 2000,
        seed: 7,
        ..GenerateOptions::default()
    };
    let indexed = dir.join("indexed.h5");
    let bare = dir.join("bare.h5");
    locked(|| {
        generate(&indexed, &options, &|_| {}).unwrap();
        let no_index = GenerateOptions {
            write_index: false,
            ..options.clone()
        };
        generate(&bare, &no_index, &|_| {}).unwrap();
    });
    (indexed, bare)
}

#[test]
fn query_census_needs_no_index() {
    let dir = tempfile::tempdir().unwrap();
    let (indexed, bare) = with_and_without_index(dir.path());
    for what in ["counts", "conn-counts"] {
        let want = run(&["query", what, p(&indexed), "--targets", "0,3,49,7,200"]);
        assert!(want.status.success(), "{}", stderr(&want));
        // Without --census the index is needed, and missing.
        let o = run(&["query", what, p(&bare), "--targets", "0,3,49,7,200"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("has no indices/target_to_source"));
        let got = run(&[
            "query",
            what,
            p(&bare),
            "--targets",
            "0,3,49,7,200",
            "--census",
            "--backend",
            "cpu",
        ]);
        assert!(got.status.success(), "{what}: {}", stderr(&got));
        assert_eq!(stdout(&got), stdout(&want), "{what}");
    }
    // The library: a census first, then counts without the index.
    let mut reader = SonataReader::open(&bare, None, ReaderOptions::default()).unwrap();
    reader
        .count_with_census(
            &sonata_census::census::CensusOptions {
                backend: sonata_census::census::Backend::Cpu,
                ..Default::default()
            },
            &Progress::hidden(),
        )
        .unwrap();
    let ids = [0, 1, 2, 49, 200];
    let mut by_index = SonataReader::open(&indexed, None, ReaderOptions::default()).unwrap();
    let want = by_index.get_counts(&ids).unwrap();
    assert!(want.iter().any(|c| c.1 > 0), "{want:?}");
    assert_eq!(reader.get_counts(&ids).unwrap(), want);
}

#[test]
fn query_census_on_the_libsonata_file_without_index() {
    let Some(samples) = samples_dir() else { return };
    let input = samples.join("openbraininstitute/libsonata/tests/data/edges-no-index.h5");
    let o = run(&[
        "query",
        "counts",
        p(&input),
        "--targets",
        "0,1,2",
        "--census",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"0\": 1, \"1\": 3, \"2\": 2}\n");
}

#[test]
fn one_edge_one_connection_one_target_one_rank() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("one.h5");
    locked(|| write_edges(&input, "p", &[0], &[0], Ids::U64));
    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("p: 1 edge, 1 connection, 1 target (sorted by (target, source))"),
        "{err}"
    );
    let o = run(&["report", p(&out), "-o", p(&dir.path().join("report"))]);
    assert!(
        stderr(&o).contains("p: 1 edge, 1 connection, 1 target (0 without synapses)"),
        "{}",
        stderr(&o)
    );
    let o = run(&["info", p(&input)]);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("{}: 1 edge population\n", p(&input))),
        "{text}"
    );
    let o = run(&[
        "generate",
        p(&dir.path().join("g.h5")),
        "--nodes",
        "1",
        "--edges",
        "1",
    ]);
    assert!(
        stderr(&o).contains(", 1 edge, 1 connection\n"),
        "{}",
        stderr(&o)
    );
    // The page of a one-population report, demo's first line, generate's refusals and the
    // node-id bounds of a one-node population.
    let page = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap();
    assert!(page.contains(" · 1 population: "), "{page}");
    let o = run(&[
        "demo",
        "--edges",
        "1",
        "--nodes",
        "1",
        "--keep",
        p(&dir.path().join("demo")),
    ]);
    assert!(
        stderr(&o).contains("demo: generating a circuit of 1 edge onto 1 node in "),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "generate",
        p(&dir.path().join("none.h5")),
        "--nodes",
        "0",
        "--edges",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot place 1 edge without a target node"),
        "{}",
        stderr(&o)
    );

    let Some(samples) = samples_dir() else { return };
    let config =
        samples.join("BlueBrain/sonata-extension/source/usecases/usecase3/circuit_sonata.json");
    let o = run(&["dry-run", p(&config), "--ranks", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\nper rank (1 rank) "),
        "{}",
        stdout(&o)
    );
    // Four edge populations, one backend line.
    let err = stderr(&o);
    assert_eq!(
        err.lines().filter(|l| l.contains("backend: ")).count(),
        1,
        "{err}"
    );
}

#[test]
fn count_says_the_backend_once_and_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("three.h5");
    locked(|| {
        for pop in ["x", "y", "z"] {
            write_edges(&input, pop, &[0, 1], &[1, 0], Ids::U64);
        }
    });
    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let backend: Vec<&str> = err.lines().filter(|l| l.starts_with("backend: ")).collect();
    assert_eq!(
        backend,
        [
            "backend: cpu (auto: populations of fewer than 16777216 edges \
          (SONATA_CENSUS_GPU_MIN_EDGES) are counted on the CPU)"
        ],
        "{err}"
    );
    assert_eq!(
        err.lines().last(),
        Some(format!("wrote {}", p(&out)).as_str()),
        "{err}"
    );
    // -q: nothing at all.
    let o = run(&["-q", "count", p(&input), "-o", p(&out), "--force"]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn count_verbose_shows_the_cpu_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let sorted = dir.path().join("sorted.h5");
    let shuffled = dir.path().join("shuffled.h5");
    let wide_sources = dir.path().join("wide_sources.h5");
    locked(|| {
        let options = GenerateOptions {
            nodes: 2000,
            edges: 400_000,
            ..GenerateOptions::default()
        };
        generate(&sorted, &options, &|_| {}).unwrap();
        let options = GenerateOptions {
            order: sonata_census::generate::EdgeOrder::Shuffled,
            ..options
        };
        generate(&shuffled, &options, &|_| {}).unwrap();
        // Sources up to 2^28: they do not pack beside a target (no index: the bucketing is
        // guessed from the first chunk's targets).
        let options = GenerateOptions {
            source_nodes: Some(1 << 28),
            write_index: false,
            ..options
        };
        generate(&wide_sources, &options, &|_| {}).unwrap();
    });
    let out = dir.path().join("census.h5");
    let strategy = |args: &[&str]| -> String {
        let mut all = vec!["-v", "count", "-o", p(&out), "--force", "--backend", "cpu"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("cpu strategy: "))
            .collect();
        assert_eq!(lines.len(), 1, "{err}");
        lines[0].to_string()
    };
    assert_eq!(
        strategy(&[p(&sorted)]),
        "cpu strategy: All__All__chemical: sorted by target, one streamed pass; connection \
         table in memory"
    );
    // Packed keys (4 B per edge) fit 2 MiB.
    for budget in ["1024", "2"] {
        let s = strategy(&[p(&shuffled), "--memory-budget", budget]);
        assert!(
            s.starts_with("cpu strategy: All__All__chemical: unsorted, in memory: read once into ")
                && s.contains(" buckets of targets (1.5 MiB of 32-bit (target, source) keys"),
            "{s}"
        );
    }
    // Sources that do not pack: 64-bit pairs, which fit the default budget; under 2 MiB they do
    // not, and 1.5 MiB of u32 sources do: the two-pass strategy.
    let s = strategy(&[p(&wide_sources)]);
    assert!(
        s.starts_with("cpu strategy: Virtual__All__chemical: unsorted, in memory: read once into ")
            && s.contains(" buckets of targets (3.1 MiB of 64-bit (target, source) keys"),
        "{s}"
    );
    let s = strategy(&[p(&wide_sources), "--memory-budget", "2"]);
    assert!(
        s.starts_with(
            "cpu strategy: Virtual__All__chemical: unsorted, in memory: grouped by target in one partition"
        ),
        "{s}"
    );
    let s = strategy(&[
        p(&shuffled),
        "--memory-budget",
        "1",
        "--spill-dir",
        p(dir.path()),
    ]);
    assert!(
        s.starts_with(
            "cpu strategy: All__All__chemical: unsorted, spilled: 2 partitions of at most 1 MiB"
        ),
        "{s}"
    );
    assert!(
        s.ends_with(&format!("records written to {}", p(dir.path()))),
        "{s}"
    );
    // Not without -v.
    let o = run(&["count", p(&sorted), "-o", p(&out), "--force"]);
    assert!(!stderr(&o).contains("cpu strategy"), "{}", stderr(&o));
}

#[test]
fn node_and_census_files_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("edges.h5");
    locked(|| write_edges(&edges, "p", &[0, 1], &[1, 0], Ids::U64));
    let census = dir.path().join("census.h5");
    assert!(
        run(&["count", p(&edges), "-o", p(&census)])
            .status
            .success()
    );
    let nodes = dir.path().join("nodes.h5");
    locked(|| {
        hdf5::File::create(&nodes)
            .unwrap()
            .create_group("nodes/All")
            .unwrap();
    });
    let other = dir.path().join("other.h5");
    locked(|| {
        hdf5::File::create(&other)
            .unwrap()
            .create_group("x")
            .unwrap();
    });
    let out = dir.path().join("out.h5");
    let cases = [
        (
            &nodes,
            "this is a SONATA node file (/nodes): use `sonata-census nodes`",
        ),
        (
            &census,
            "this is a sonata-census table file: use `sonata-census report`",
        ),
        (&other, "not a SONATA edge file: no '/edges' group"),
    ];
    for (file, want) in cases {
        for args in [vec!["info", p(file)], vec!["count", p(file), "-o", p(&out)]] {
            let o = run(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(want), "{args:?}: {err}");
            // '/edges' is a group: no "dataset '/edges'".
            assert!(!err.contains("dataset '/edges'"), "{err}");
            assert!(
                err.starts_with(&format!(
                    "sonata-census: {}: not a SONATA edge file",
                    p(file)
                )),
                "{err}"
            );
        }
    }
}

/// A gap-junction population as neurodamus's ringtest has it.
fn gap_junctions(dir: &Path) -> PathBuf {
    let path = dir.join("gj.h5");
    locked(|| {
        write_edges(&path, "gj", &[1, 0], &[0, 1], Ids::I64);
        common::write_target_index(&path, "gj", &[0, 1], 2);
        let f = hdf5::File::open_rw(&path).unwrap();
        let g = f.create_group("edges/gj/0").unwrap();
        for name in ["efferent_junction_id", "afferent_junction_id"] {
            g.new_dataset_builder()
                .with_data(&[0i64, 1])
                .create(name)
                .unwrap();
        }
        g.new_dataset_builder()
            .with_data(&[100f32, 100.0])
            .create("conductance")
            .unwrap();
        for name in ["afferent_section_id", "afferent_segment_id"] {
            g.new_dataset_builder()
                .with_data(&[1i64, 2])
                .create(name)
                .unwrap();
        }
        g.new_dataset_builder()
            .with_data(&[0.5f64, 0.5])
            .create("afferent_segment_offset")
            .unwrap();
    });
    path
}

#[test]
fn the_default_reader_on_gap_junctions_suggests_the_gap_junction_reader() {
    let dir = tempfile::tempdir().unwrap();
    let input = gap_junctions(dir.path());
    let o = run(&["query", "synapses", p(&input), "--gid", "0"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Missing attribute depression_time in the SONATA edge file (the sonata reader needs it; this population has every attribute another reader needs: try the gap-junction reader) (--reader gap-junction)"),
        "{err}"
    );
    let o = run(&[
        "query",
        "synapses",
        p(&input),
        "--gid",
        "0",
        "--reader",
        "gap-junction",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let Some(samples) = samples_dir() else { return };
    let input = samples.join(
        "openbraininstitute/neurodamus/tests/simulations/ringtest/local_edges_C_electrical.h5",
    );
    let o = run(&["query", "synapses", p(&input), "--gid", "0"]);
    assert!(
        stderr(&o).contains("try the gap-junction reader) (--reader gap-junction)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_spill_dir_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("e.h5");
    locked(|| write_edges(&input, "p", &[0, 1], &[1, 0], Ids::U64));
    let out = dir.path().join("census.h5");
    let missing = dir.path().join("no-such-dir");
    let o = run(&[
        "count",
        p(&input),
        "-o",
        p(&out),
        "--spill-dir",
        p(&missing),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "sonata-census: --spill-dir {}: No such file or directory (os error 2)\n",
            p(&missing)
        )
    );
    assert_eq!(files_in(dir.path()), ["e.h5"]);
    let o = run(&["count", p(&input), "-o", p(&out), "--spill-dir", p(&input)]);
    assert_eq!(
        stderr(&o),
        format!("sonata-census: --spill-dir {}: not a folder\n", p(&input))
    );
    assert_eq!(files_in(dir.path()), ["e.h5"]);
}

#[test]
fn empty_and_foreign_files_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.h5");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("text.h5");
    std::fs::write(&text, b"source,target\n0,1\n").unwrap();
    let out = dir.path().join("out.h5");
    for (file, want) in [
        (&empty, "cannot open as an HDF5 file (empty file: 0 bytes)"),
        (
            &text,
            "cannot open as an HDF5 file (not an HDF5 file: no HDF5 signature)",
        ),
    ] {
        for args in [
            vec!["info", p(file)],
            vec!["count", p(file), "-o", p(&out)],
            vec!["query", "counts", p(file), "--targets", "0"],
            vec!["nodes", "metypes", p(file), "-p", "x"],
            vec!["report", p(file), "-o", p(&dir.path().join("r"))],
        ] {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert_eq!(
                stderr(&o),
                format!("sonata-census: {}: {want}\n", p(file)),
                "{args:?}"
            );
        }
    }
}

#[test]
fn count_says_the_backend_again_when_the_choice_changes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sizes.h5");
    let big: Vec<u64> = (0..100).collect();
    locked(|| {
        write_edges(&input, "a_small", &[0, 1], &[1, 0], Ids::U64);
        write_edges(&input, "b_big", &big, &vec![0; 100], Ids::U64);
        write_edges(&input, "c_small", &[0, 1], &[1, 0], Ids::U64);
    });
    let out = dir.path().join("census.h5");
    // Under `auto`, 50 edges and more look for a GPU (a software one is accepted): the big
    // population's line (GPU, or CPU with the reason) differs from the small ones'.
    let o = locked(|| {
        bin()
            .env("SONATA_CENSUS_GPU_MIN_EDGES", "50")
            .env("SONATA_CENSUS_GPU_ALLOW_SOFTWARE", "1")
            .args(["count", p(&input), "-o", p(&out)])
            .output()
            .unwrap()
    });
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let small = "backend: cpu (auto: populations of fewer than 50 edges \
                 (SONATA_CENSUS_GPU_MIN_EDGES) are counted on the CPU)";
    assert_eq!(lines[0], small, "{err}");
    assert!(lines[1].starts_with("a_small: 2 edges"), "{err}");
    assert!(
        lines[2].starts_with("backend: ") && lines[2] != small,
        "{err}"
    );
    assert!(lines[3].starts_with("b_big: 100 edges"), "{err}");
    assert_eq!(lines[4], small, "{err}");
    assert!(lines[5].starts_with("c_small: 2 edges"), "{err}");
}
