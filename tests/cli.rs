//! The `sonata-census` binary: success paths and error paths of each subcommand, with exit codes,
//! messages and the state of the disk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Ids, bin, files_in, locked, path_str as p, write_edges};

fn run(args: &[&str]) -> Output {
    locked(|| bin().args(args).output().unwrap())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("edges.h5");
    locked(|| {
        write_edges(&path, "a", &[5, 2, 5, 1], &[0, 0, 0, 2], Ids::U64);
        write_edges(&path, "b", &[0, 1], &[1, 0], Ids::I64);
    });
    path
}

#[test]
fn count_writes_every_population_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("backend: cpu (auto: ") || err.contains("backend: gpu (auto: "),
        "{err}"
    );
    assert!(
        err.contains("a: 4 edges, 3 connections, 3 targets (sorted by target)"),
        "{err}"
    );
    assert!(
        err.contains("b: 2 edges, 2 connections, 2 targets (unsorted)"),
        "{err}"
    );
    let f = hdf5::File::open(&out).unwrap();
    let a = f.group("a").unwrap();
    assert_eq!(
        a.dataset("target_synapse_count")
            .unwrap()
            .read_raw::<u64>()
            .unwrap(),
        vec![3, 0, 1]
    );
    assert_eq!(
        a.dataset("connections/source_node_id")
            .unwrap()
            .read_raw::<u64>()
            .unwrap(),
        vec![2, 5, 1]
    );
    assert_eq!(
        a.dataset("connections/synapse_count")
            .unwrap()
            .read_raw::<u32>()
            .unwrap(),
        vec![1, 2, 1]
    );
    assert_eq!(
        a.attr("edge_count").unwrap().read_scalar::<u64>().unwrap(),
        4
    );
    assert_eq!(
        a.attr("sorted_by_target")
            .unwrap()
            .read_scalar::<u8>()
            .unwrap(),
        1
    );
    assert!(f.group("b").is_ok());
    assert_eq!(files_in(dir.path()), vec!["census.h5", "edges.h5"]);

    // -q prints nothing; -p picks one population.
    let out2 = dir.path().join("only_b.h5");
    let o = run(&["count", p(&input), "-p", "b", "-o", p(&out2), "-q"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
    let f = hdf5::File::open(&out2).unwrap();
    assert_eq!(f.member_names().unwrap(), vec!["b"]);
}

#[test]
fn count_errors_exit_2_with_one_line_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let out = dir.path().join("out.h5");
    let not_hdf5 = dir.path().join("text.h5");
    std::fs::write(&not_hdf5, "not an hdf5 file\n").unwrap();
    let empty = dir.path().join("empty.h5");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.h5");
    let no_edges = dir.path().join("noedges.h5");
    locked(|| {
        hdf5::File::create(&no_edges)
            .unwrap()
            .create_group("nodes")
            .unwrap();
    });
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["count", p(&missing), "-o", p(&out)],
            "missing.h5: No such file",
        ),
        (
            vec!["count", p(&not_hdf5), "-o", p(&out)],
            "cannot open as an HDF5 file",
        ),
        (
            vec!["count", p(&empty), "-o", p(&out)],
            "cannot open as an HDF5 file",
        ),
        (
            vec!["count", p(&no_edges), "-o", p(&out)],
            "no '/edges' group",
        ),
        (
            vec!["count", p(&input), "-p", "zzz", "-o", p(&out)],
            "no population 'zzz' (the file has: a, b)",
        ),
        (
            vec!["count", p(&input), "-o", "/nonexistent-dir/out.h5"],
            "/nonexistent-dir",
        ),
        (
            vec!["count", p(&input), "-o", p(&out), "--nodes-count", "2"],
            "target node id 2 at row 3 is beyond the 2 target nodes",
        ),
    ];
    for (args, want) in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert_ne!(o.status.code(), Some(0), "{args:?}");
        assert_ne!(o.status.code(), Some(101), "{args:?} panicked: {err}");
        assert!(err.contains(want), "{args:?}: expected '{want}' in: {err}");
        let error_lines: Vec<_> = err
            .lines()
            .filter(|l| l.starts_with("sonata-census:"))
            .collect();
        assert_eq!(error_lines.len(), 1, "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left an output");
    }
    // Input errors are exit code 2; a missing output folder is the environment's: 1.
    assert_eq!(
        run(&["count", p(&not_hdf5), "-o", p(&out)]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["count", p(&input), "-o", "/nonexistent-dir/out.h5"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        files_in(dir.path()),
        vec!["edges.h5", "empty.h5", "noedges.h5", "text.h5"]
    );
}

/// Inputs that are not files (a named pipe, whose open would wait for a writer, a folder) are
/// refused at once by every command that reads an HDF5 file, naming what they are.
#[test]
fn inputs_that_are_not_files_are_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let fifo = dir.path().join("pipe.h5");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let folder = dir.path().join("folder.h5");
    std::fs::create_dir(&folder).unwrap();
    let out = dir.path().join("out.h5");
    for (bad, what) in [
        (&fifo, "is a named pipe (FIFO), not a file"),
        (&folder, "is a directory"),
    ] {
        let commands: Vec<Vec<&str>> = vec![
            vec!["info", p(bad)],
            vec!["count", p(bad), "-o", p(&out)],
            vec!["report", p(bad), "-o", p(&out)],
            vec![
                "query",
                "counts",
                p(&input),
                "-p",
                "a",
                "--targets",
                "0",
                "--tables",
                p(bad),
            ],
        ];
        for args in commands {
            // A watchdog rather than `output()`: the bug was a wait without end.
            let mut child = locked(|| {
                bin()
                    .args(&args)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            });
            let started = std::time::Instant::now();
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if started.elapsed() > std::time::Duration::from_secs(30) {
                    child.kill().unwrap();
                    panic!("{args:?} still running after 30 s");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert_eq!(status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(what), "{args:?}: {err}");
            assert!(!out.exists(), "{args:?} left an output");
        }
    }
}

#[test]
fn existing_output_is_kept_without_force_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let out = dir.path().join("out.h5");
    std::fs::write(&out, "precious").unwrap();
    let o = run(&["count", p(&input), "-o", p(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("output exists (pass --force to replace it)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let o = run(&["count", p(&input), "-o", p(&out), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(hdf5::File::open(&out).is_ok());
}

#[test]
fn bad_arguments_are_usage_errors() {
    let o = run(&["count"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["count", "x.h5", "-o", "y.h5", "--backend", "tpu"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'tpu'"), "{}", stderr(&o));
    let o = run(&["count", "x.h5", "-o", "y.h5", "--nodes-count", "-4"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_teaches_with_examples() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for word in [
        "count",
        "info",
        "generate",
        "demo",
        "Examples:",
        "Exit codes",
    ] {
        assert!(out.contains(word), "--help lacks '{word}'");
    }
    let o = run(&["count", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for word in [
        "--nodes-count",
        "--backend",
        "--force",
        "target_offsets",
        "synapses_per_connection",
    ] {
        assert!(out.contains(word), "count --help lacks '{word}'");
    }
}

#[test]
fn generate_then_info_then_count() {
    let dir = tempfile::tempdir().unwrap();
    let circuit = dir.path().join("c.h5");
    let o = run(&[
        "generate",
        p(&circuit),
        "--nodes",
        "200",
        "--edges",
        "5000",
        "--order",
        "shuffled",
        "--id-dtype",
        "i64",
        "--groups",
        "2",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("All__All__chemical: All -> All, 5000 edges"),
        "{}",
        stderr(&o)
    );
    assert_eq!(files_in(dir.path()), vec!["c.h5"]);

    let o = run(&["info", p(&circuit)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "All__All__chemical",
        "All -> All",
        "edges:        5000",
        "source_node_id int64",
        "target index: 200 nodes",
        "order:        unsorted",
        "groups:       0, 1 (edge_group_id / edge_group_index)",
        "conductance",
    ] {
        assert!(text.contains(want), "info lacks '{want}':\n{text}");
    }
    let o = run(&["info", p(&circuit), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pop = &json["populations"][0];
    assert_eq!(pop["edge_count"], 5000);
    assert_eq!(pop["target_index"]["nodes"], 200);
    assert_eq!(pop["target_index"]["spelling"], "node_id_to_ranges");
    assert_eq!(pop["sortedness"]["by_target"], false);
    assert_eq!(pop["attribute_groups"], serde_json::json!(["0", "1"]));

    // Generating over an existing file needs --force.
    let o = run(&["generate", p(&circuit), "--nodes", "10", "--edges", "10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("output exists"), "{}", stderr(&o));

    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&circuit), "-o", p(&out), "-v"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = hdf5::File::open(&out).unwrap();
    let g = f.group("All__All__chemical").unwrap();
    let syn = g
        .dataset("target_synapse_count")
        .unwrap()
        .read_raw::<u64>()
        .unwrap();
    assert_eq!(syn.len(), 200);
    assert_eq!(syn.iter().sum::<u64>(), 5000);
}

#[test]
fn generate_and_info_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.h5");
    let o = run(&["generate", p(&out), "--nodes", "0", "--edges", "10"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
    // --chunk-rows without chunked id columns, or chunks of no rows.
    for extra in [
        &["--chunk-rows", "100"][..],
        &["--id-storage", "deflate", "--chunk-rows", "0"],
    ] {
        let o = run(&[
            &["generate", p(&out), "--nodes", "5", "--edges", "10"],
            extra,
        ]
        .concat());
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        // The first line names the flag (the second case is clap's error, with its usage tip).
        let first = stderr(&o).lines().next().unwrap_or_default().to_owned();
        assert!(first.contains("--chunk-rows"), "{}", stderr(&o));
        assert!(!out.exists());
    }
    let o = run(&[
        "generate",
        "/nonexistent-dir/g.h5",
        "--nodes",
        "5",
        "--edges",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A missing input file named by the user is bad input.
    let o = run(&["info", p(&dir.path().join("missing.h5"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.h5"), "{}", stderr(&o));
    std::fs::write(&out, "text").unwrap();
    let o = run(&["info", p(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot open as an HDF5 file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(files_in(dir.path()), vec!["g.h5"]);
}

#[test]
fn demo_generates_counts_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let o = run(&[
        "demo",
        "--edges",
        "20000",
        "--nodes",
        "300",
        "--keep",
        p(&keep),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("synapses:                20000"), "{text}");
    assert!(text.contains("connections with k synapses"), "{text}");
    assert_eq!(files_in(&keep), vec!["demo_census.h5", "demo_circuit.h5"]);
}

/// Runs the tool under a file size limit of `kib` KiB with SIGXFSZ ignored, so that writes past
/// it fail with EFBIG as on a full disk.
fn run_size_limited(kib: u32, args: &[&str]) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"",
            kib * 2 // sh counts 512-byte blocks
        ))
        .arg(bin().get_program())
        .args(args)
        .env("SONATA_CENSUS_BACKEND", "cpu");
    locked(|| c.output().unwrap())
}

#[test]
fn an_output_that_cannot_be_written_exits_1_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("circuit.h5");
    let o = run(&[
        "generate",
        p(&input),
        "--nodes",
        "10000",
        "--edges",
        "200000",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("census.h5");
    std::fs::write(&out, b"previous census").unwrap();

    // `count` with --force over an existing output: exit 1, one line naming the output and
    // the dataset, the old output untouched, no temporary file.
    let o = run_size_limited(64, &["count", p(&input), "-o", p(&out), "--force", "-q"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("sonata-census: "), "{err}");
    assert!(
        err.contains("census.h5") && err.contains("cannot write the output"),
        "{err}"
    );
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous census");
    assert_eq!(files_in(dir.path()), ["census.h5", "circuit.h5"]);

    // `generate` likewise.
    let big = dir.path().join("big.h5");
    let o = run_size_limited(
        64,
        &[
            "generate",
            p(&big),
            "--nodes",
            "1000",
            "--edges",
            "200000",
            "-q",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write the output"), "{err}");
    assert_eq!(files_in(dir.path()), ["census.h5", "circuit.h5"]);
}

#[test]
fn auto_counts_small_populations_on_the_cpu_without_looking_for_a_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let out = dir.path().join("census.h5");
    let o = run(&["count", p(&input), "-o", p(&out)]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "backend: cpu (auto: populations of fewer than 16777216 edges \
             (SONATA_CENSUS_GPU_MIN_EDGES) are counted on the CPU)"
        ),
        "{err}"
    );

    // A threshold that is not a number is bad input, and leaves nothing behind.
    let out2 = dir.path().join("other.h5");
    let o = locked(|| {
        bin()
            .env("SONATA_CENSUS_GPU_MIN_EDGES", "many")
            .args(["count", p(&input), "-o", p(&out2)])
            .output()
            .unwrap()
    });
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "sonata-census: SONATA_CENSUS_GPU_MIN_EDGES=many: not a number of edges"
    );
    assert!(!out2.exists());
}

/// Unsorted edges are partitioned by several workers reading their own rows: a target beyond
/// the node count is still reported at the first row that has one, whichever worker reads it.
#[test]
fn the_first_target_beyond_the_count_is_named_with_any_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("census.h5");
    let rows = 200_000usize;
    for (beyond, first) in [
        (&[150_000usize, 60_000, 199_999][..], 60_000),
        (&[199_999], 199_999),
    ] {
        let input = dir.path().join(format!("edges_{first}.h5"));
        let mut x = 88_172_645_463_325_252u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut targets: Vec<u64> = (0..rows).map(|_| next() % 900).collect();
        // Unsorted from the second row on.
        targets[0] = 899;
        targets[1] = 0;
        for &row in beyond {
            targets[row] = 950 + row as u64 % 7;
        }
        let sources: Vec<u64> = (0..rows).map(|_| next() % 5000).collect();
        locked(|| write_edges(&input, "p", &sources, &targets, Ids::U64));
        for threads in ["1", "2", "4", "7"] {
            let o = locked(|| {
                bin()
                    .args(["count", p(&input), "-o", p(&out), "--backend", "cpu"])
                    .args(["--nodes-count", "900"])
                    .env("RAYON_NUM_THREADS", threads)
                    .output()
                    .unwrap()
            });
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{threads} threads: {err}");
            let want = format!(
                "target node id {} at row {first} is beyond the 900 target nodes",
                950 + first as u64 % 7
            );
            assert!(err.contains(&want), "{threads} threads: {err}");
            assert!(!out.exists());
        }
    }
}
