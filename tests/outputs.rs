//! Where outputs go, end to end, for every command that writes (`count`, `generate`,
//! `demo --keep`, `report`):
//! - an output path that is not a regular file (character or block device, FIFO, socket, folder,
//!   symbolic link) is refused with one line and exit 2, with or without `--force`, and left
//!   exactly as it was (tested on `mknod` / `mkfifo` nodes in a temporary folder, never `/dev`);
//! - outputs get the mode `open(O_CREAT, 0666)` would give under the caller's umask (folders
//!   `0777 & !umask`), also when `--force` replaces an existing file;
//! - a missing parent folder is refused with exit 1 (`report` and `demo --keep` create only their
//!   own last folder); `demo --keep` refuses existing files without `--force`;
//! - `generate` refuses up front an output larger than the free space or the file size limit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
use common::{bin, files_in, path_str as p};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("SONATA_CENSUS_BACKEND", "cpu")
        .output()
        .unwrap()
}

/// Runs the tool under `umask`, as a shell would start it.
fn run_with_umask(umask: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(bin().get_program())
        .args(args)
        .env("SONATA_CENSUS_BACKEND", "cpu")
        .output()
        .unwrap()
}

/// A small generated circuit and its census tables in `dir`.
fn circuit_and_tables(dir: &Path) -> (PathBuf, PathBuf) {
    let circuit = dir.join("circuit.h5");
    let o = run(&[
        "generate",
        p(&circuit),
        "--nodes",
        "300",
        "--edges",
        "20000",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tables = dir.join("tables.h5");
    let o = run(&["count", p(&circuit), "-o", p(&tables), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    (circuit, tables)
}

/// What a node of the file system is, to compare before and after a run.
#[derive(Debug, PartialEq)]
struct NodeState {
    kind: &'static str,
    ino: u64,
    rdev: u64,
    mode: u32,
    link: Option<PathBuf>,
}

fn state(path: &Path) -> NodeState {
    let m = std::fs::symlink_metadata(path).unwrap();
    let t = m.file_type();
    let kind = if t.is_symlink() {
        "symlink"
    } else if t.is_char_device() {
        "char device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_dir() {
        "folder"
    } else {
        "file"
    };
    NodeState {
        kind,
        ino: m.ino(),
        rdev: m.rdev(),
        mode: m.mode(),
        link: std::fs::read_link(path).ok(),
    }
}

/// Makes a device node with `mknod`; false (after saying why) where that is not permitted.
fn mknod(path: &Path, kind: &str, major: &str, minor: &str) -> bool {
    let o = Command::new("mknod")
        .args([p(path), kind, major, minor])
        .output()
        .unwrap();
    if !o.status.success() {
        eprintln!(
            "mknod {} {kind} {major} {minor} not permitted here ({}): device cases skipped",
            path.display(),
            stderr(&o).trim()
        );
    }
    o.status.success()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(p(path))
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Builds every kind of node that is not a regular file in `dir`; returns their paths and the
/// words the refusal must contain.
fn special_nodes(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut nodes = Vec::new();
    let fifo = dir.join("fifo.h5");
    mkfifo(&fifo);
    nodes.push((fifo.clone(), "is a FIFO (named pipe)"));
    if mknod(&dir.join("null.h5"), "c", "1", "3") {
        nodes.push((dir.join("null.h5"), "is a character device"));
    }
    // Loop device 200: never opened, only refused.
    if mknod(&dir.join("block.h5"), "b", "7", "200") {
        nodes.push((dir.join("block.h5"), "is a block device"));
    }
    let socket = dir.join("socket.h5");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    drop(listener);
    nodes.push((socket, "is a socket"));
    std::fs::create_dir(dir.join("folder.h5")).unwrap();
    nodes.push((dir.join("folder.h5"), "is a folder"));
    std::fs::write(dir.join("target.h5"), b"the link's target").unwrap();
    std::os::unix::fs::symlink("target.h5", dir.join("link.h5")).unwrap();
    nodes.push((dir.join("link.h5"), "is a symbolic link to target.h5"));
    std::os::unix::fs::symlink("missing.h5", dir.join("dangling.h5")).unwrap();
    nodes.push((dir.join("dangling.h5"), "is a symbolic link to missing.h5"));
    // What `-o /dev/stdout` meets (a link to /proc/self/fd/1), made here: never the real /dev.
    std::os::unix::fs::symlink("/proc/self/fd/1", dir.join("stdout.h5")).unwrap();
    nodes.push((dir.join("stdout.h5"), "names an open file descriptor"));
    std::os::unix::fs::symlink("fifo.h5", dir.join("pipe_link.h5")).unwrap();
    nodes.push((
        dir.join("pipe_link.h5"),
        "is a symbolic link to fifo.h5, a FIFO (named pipe), not a regular file",
    ));
    nodes
}

/// Asserts a refusal: exit 2, one line naming `path` and saying `words`, and that `dir` holds
/// exactly `before` (names, kinds, inodes, link targets).
fn assert_refused(o: &Output, path: &Path, words: &str, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(
        err.starts_with(&format!("sonata-census: {}: ", path.display())),
        "{what}: {err}"
    );
    assert!(err.contains(words), "{what}: wanted '{words}' in: {err}");
}

#[test]
fn outputs_that_are_not_regular_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (circuit, tables) = circuit_and_tables(dir.path());
    let nodes_dir = dir.path().join("nodes");
    std::fs::create_dir(&nodes_dir).unwrap();
    let nodes = special_nodes(&nodes_dir);
    let before: Vec<(String, NodeState)> = files_in(&nodes_dir)
        .into_iter()
        .map(|n| {
            let s = state(&nodes_dir.join(&n));
            (n, s)
        })
        .collect();
    for (node, words) in &nodes {
        for force in [false, true] {
            let mut count = vec!["count", p(&circuit), "-o", p(node), "-q"];
            let mut generate = vec!["generate", p(node), "--nodes", "10", "--edges", "10", "-q"];
            if force {
                count.push("--force");
                generate.push("--force");
            }
            for args in [&count, &generate] {
                let o = run(args);
                assert_refused(&o, node, words, &format!("{args:?}"));
                // Says what to do about it.
                let err = stderr(&o);
                assert!(
                    err.contains("choose") || err.contains("remove the link"),
                    "{args:?}: {err}"
                );
            }
        }
    }
    // Paths without a file name are refused before any work, not at the final rename.
    for bad in ["new/", "..", "/"] {
        let o = run(&["count", p(&circuit), "-o", bad, "--force", "-q"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {err}");
        assert!(err.contains("is not a file name"), "{bad:?}: {err}");
    }
    // The HDF5-cannot-stream explanation, for the kinds a user may hope to stream into.
    let o = run(&["count", p(&circuit), "-o", p(&nodes[0].0), "--force"]);
    assert!(
        stderr(&o).contains("HDF5 files, which need a regular file"),
        "{}",
        stderr(&o)
    );
    let after: Vec<(String, NodeState)> = files_in(&nodes_dir)
        .into_iter()
        .map(|n| {
            let s = state(&nodes_dir.join(&n));
            (n, s)
        })
        .collect();
    assert_eq!(after, before, "the nodes changed");
    assert_eq!(
        std::fs::read(nodes_dir.join("target.h5")).unwrap(),
        b"the link's target"
    );

    // `demo --keep` and `report`: one of their files is a FIFO (or a character device).
    let special = |folder: &Path, name: &str| -> &'static str {
        let path = folder.join(name);
        if mknod(&path, "c", "1", "3") {
            "is a character device"
        } else {
            mkfifo(&path);
            "is a FIFO (named pipe)"
        }
    };
    let keep = dir.path().join("keep");
    std::fs::create_dir(&keep).unwrap();
    let words = special(&keep, "demo_census.h5");
    let node = state(&keep.join("demo_census.h5"));
    for force in [false, true] {
        let mut args = vec![
            "demo",
            "--edges",
            "2000",
            "--nodes",
            "50",
            "--keep",
            p(&keep),
        ];
        if force {
            args.push("--force");
        }
        let o = run(&args);
        assert_refused(&o, &keep.join("demo_census.h5"), words, "demo");
        assert_eq!(files_in(&keep), ["demo_census.h5"], "demo wrote something");
        assert_eq!(state(&keep.join("demo_census.h5")), node);
    }
    for file in ["index.html", "summary.json"] {
        let report = dir.path().join(format!("report-{file}"));
        std::fs::create_dir(&report).unwrap();
        let words = special(&report, file);
        let node = state(&report.join(file));
        let o = run(&["report", p(&tables), "-o", p(&report), "--force", "-q"]);
        assert_refused(&o, &report.join(file), words, "report");
        assert_eq!(files_in(&report), [file], "report wrote something");
        assert_eq!(state(&report.join(file)), node);
    }
    // A report folder that is a FIFO.
    let fifo = dir.path().join("report-fifo");
    mkfifo(&fifo);
    let o = run(&["report", p(&tables), "-o", p(&fifo), "--force", "-q"]);
    assert_refused(&o, &fifo, "is a FIFO (named pipe)", "report -o FIFO");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn outputs_get_the_mode_the_umask_gives_whatever_their_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let (circuit, tables) = circuit_and_tables(dir.path());
    for (umask, file, folder) in [
        ("022", 0o644, 0o755),
        ("077", 0o600, 0o700),
        ("002", 0o664, 0o775),
    ] {
        let out = dir.path().join(format!("u{umask}"));
        std::fs::create_dir(&out).unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        let census = out.join("census.h5");
        let generated = out.join("generated.h5");
        let keep = out.join("demo");
        let report = out.join("report");
        for args in [
            vec!["count", p(&circuit), "-o", p(&census), "-q"],
            vec![
                "generate",
                p(&generated),
                "--nodes",
                "20",
                "--edges",
                "100",
                "-q",
            ],
            vec![
                "demo",
                "--edges",
                "2000",
                "--nodes",
                "50",
                "--keep",
                p(&keep),
                "-q",
            ],
            vec!["report", p(&tables), "-o", p(&report), "-q"],
        ] {
            let o = run_with_umask(umask, &args);
            assert!(o.status.success(), "umask {umask} {args:?}: {}", stderr(&o));
        }
        let want = |path: &Path, m: u32| {
            assert_eq!(mode(path), m, "umask {umask}: {}", path.display());
        };
        want(&census, file);
        want(&generated, file);
        want(&keep, folder);
        want(&keep.join("demo_circuit.h5"), file);
        want(&keep.join("demo_census.h5"), file);
        want(&report, folder);
        want(&report.join("index.html"), file);
        want(&report.join("summary.json"), file);
        let population = report.join("All__All__chemical");
        want(&population, folder);
        want(&population.join("synapses_per_target.png"), file);
    }

    // --force over an existing 0644 output: the new file's mode comes from the umask, as for
    // any new file (the README says so), not 0600.
    let out = dir.path().join("forced.h5");
    let o = run_with_umask("022", &["count", p(&circuit), "-o", p(&out), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&out), 0o644);
    for args in [
        vec!["count", p(&circuit), "-o", p(&out), "--force", "-q"],
        vec![
            "generate",
            p(&out),
            "--nodes",
            "20",
            "--edges",
            "100",
            "--force",
            "-q",
        ],
    ] {
        let o = run_with_umask("022", &args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(mode(&out), 0o644, "{args:?}");
        let o = run_with_umask("027", &args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(mode(&out), 0o640, "{args:?}");
    }
}

#[test]
fn a_missing_parent_folder_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let (circuit, tables) = circuit_and_tables(dir.path());
    let missing = dir.path().join("no/such");
    for args in [
        vec!["count", p(&circuit), "-o", "{m}/census.h5", "-q"],
        vec![
            "generate", "{m}/g.h5", "--nodes", "20", "--edges", "100", "-q",
        ],
        vec![
            "demo", "--edges", "2000", "--nodes", "50", "--keep", "{m}/demo", "-q",
        ],
        vec!["report", p(&tables), "-o", "{m}/deep/report", "-q"],
    ] {
        let args: Vec<String> = args.iter().map(|a| a.replace("{m}", p(&missing))).collect();
        let o = bin()
            .args(&args)
            .env("SONATA_CENSUS_BACKEND", "cpu")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("No such file or directory"), "{args:?}: {err}");
        assert!(!dir.path().join("no").exists(), "{args:?} created a parent");
    }
    // `report` and `demo --keep` create their own folder (the last component) and nothing above.
    let report = dir.path().join("report");
    let o = run(&["report", p(&tables), "-o", p(&report), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(report.join("index.html").is_file());
    let keep = dir.path().join("demo");
    let o = run(&[
        "demo",
        "--edges",
        "2000",
        "--nodes",
        "50",
        "--keep",
        p(&keep),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_in(&keep), ["demo_census.h5", "demo_circuit.h5"]);
}

#[test]
fn demo_keep_refuses_existing_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let first = [
        "demo",
        "--edges",
        "2000",
        "--nodes",
        "50",
        "--keep",
        p(&keep),
        "-q",
    ];
    let o = run(&first);
    assert!(o.status.success(), "{}", stderr(&o));
    let circuit = std::fs::read(keep.join("demo_circuit.h5")).unwrap();
    let census = std::fs::read(keep.join("demo_census.h5")).unwrap();

    // Another demo into the same folder: refused before any work, both files untouched.
    let second = [
        "demo",
        "--edges",
        "3000",
        "--nodes",
        "60",
        "--keep",
        p(&keep),
        "-q",
    ];
    let o = run(&second);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("demo_circuit.h5: output exists (pass --force to replace it)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(keep.join("demo_circuit.h5")).unwrap(),
        circuit
    );
    assert_eq!(std::fs::read(keep.join("demo_census.h5")).unwrap(), census);
    assert_eq!(files_in(&keep), ["demo_census.h5", "demo_circuit.h5"]);

    // Only the census left from before: refused too (naming it).
    std::fs::remove_file(keep.join("demo_circuit.h5")).unwrap();
    let o = run(&second);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("demo_census.h5: output exists"),
        "{}",
        stderr(&o)
    );
    assert_eq!(files_in(&keep), ["demo_census.h5"]);

    // With --force both are replaced.
    let mut forced = second.to_vec();
    forced.push("--force");
    let o = run(&forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(keep.join("demo_census.h5")).unwrap(), census);
    assert_eq!(files_in(&keep), ["demo_census.h5", "demo_circuit.h5"]);
}

#[test]
fn generate_refuses_an_output_larger_than_the_free_space_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("huge.h5");
    let started = std::time::Instant::now();
    let o = run(&[
        "generate",
        p(&out),
        "--nodes",
        "1000",
        "--edges",
        "10000000000000",
        "-q",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "sonata-census: {}: cannot write the output: ",
            out.display()
        )),
        "{err}"
    );
    // Both sizes, in words a person reads.
    assert!(err.contains("needs about") && err.contains("TiB"), "{err}");
    assert!(err.contains("free in"), "{err}");
    assert!(!err.contains(".partial"), "{err}");
    assert!(started.elapsed().as_secs() < 30, "it did work first");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );

    // The file size limit (`ulimit -f`) likewise, before any work.
    let o = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128; exec \"$0\" \"$@\"")
        .arg(bin().get_program())
        .args([
            "generate",
            p(&out),
            "--nodes",
            "1000",
            "--edges",
            "1000000",
            "-q",
        ])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot write the output: it needs about")
            && err.contains("MiB")
            && err.contains("the file size limit (ulimit -f) is 64.0 KiB"),
        "{err}"
    );
    assert!(files_in(dir.path()).is_empty());

    // An output that fits is not refused.
    let o = run(&[
        "generate",
        p(&out),
        "--nodes",
        "1000",
        "--edges",
        "100000",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}
