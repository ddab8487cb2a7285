//! SIGINT / SIGTERM during `count`: the run stops with exit 130 / 143 and one line, leaves no
//! output, no `.partial` temporary file and no spill folder, and an existing output given with
//! `--force` is untouched. Likewise `generate`, `demo` (no temporary folder left, nor a `--keep`
//! folder it created) and `report` (no staging folder, nor an output folder it created). Also the forced path (the main thread does not stop by itself, as in
//! a long HDF5 call; simulated with `SONATA_CENSUS_TEST_IGNORE_INTERRUPT=1`): the signal thread
//! removes the temporary files and exits after the grace period.
//!
//! The run is made slow on purpose with 2-row chunks on an unsorted circuit that spills (a
//! 1 MiB memory budget), so that the signal arrives while the spill folder exists.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
use common::{bin, files_in, path_str as p};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A 300k-edge shuffled circuit.
fn circuit(dir: &Path) -> PathBuf {
    let input = dir.join("edges.h5");
    let o = bin()
        .args([
            "generate",
            p(&input),
            "--nodes",
            "5000",
            "--edges",
            "300000",
        ])
        .args(["--order", "shuffled", "--seed", "3", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    input
}

/// Starts a slow `count` of `input` into `out` (with --force) on `backend`, spilling into `spill`
/// (the CPU engine).
fn start(input: &Path, out: &Path, spill: &Path, backend: &str, ignore_interrupt: bool) -> Child {
    let mut c = bin();
    c.args([
        "count",
        p(input),
        "-o",
        p(out),
        "--force",
        "--backend",
        backend,
    ])
    .args([
        "--memory-budget",
        "1",
        "--spill-dir",
        p(spill),
        "--chunk-len",
        "2",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if ignore_interrupt {
        c.env("SONATA_CENSUS_TEST_IGNORE_INTERRUPT", "1");
    }
    c.spawn().unwrap()
}

/// Waits until `cond` holds (or panics after a minute, killing the child).
fn wait_for(child: &mut Child, what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before {what}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no {what} after a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} failed");
}

/// One interrupted run: `signal` once the `.partial` file and (CPU engine) the spill folder
/// exist.
fn interrupted_run(backend: &str, signal: &str, ignore_interrupt: bool, code: i32, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = circuit(dir.path());
    let out_dir = dir.path().join("out");
    let spill = dir.path().join("spill");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::create_dir_all(&spill).unwrap();
    let out = out_dir.join("census.h5");
    std::fs::write(&out, b"previous census").unwrap();

    let mut child = start(&input, &out, &spill, backend, ignore_interrupt);
    wait_for(&mut child, "a .partial file", || {
        files_in(&out_dir).iter().any(|n| n.ends_with(".partial"))
    });
    if backend == "cpu" {
        wait_for(&mut child, "a spill folder", || {
            files_in(&spill)
                .iter()
                .any(|n| n.starts_with("sonata-census-spill-"))
        });
    }
    let sent = Instant::now();
    send(&child, signal);
    let o = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{signal}: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("sonata-census:"))
            .count(),
        1,
        "{signal}: {err}"
    );
    assert!(last.starts_with("sonata-census: interrupted by "), "{err}");
    assert!(
        last.contains(signal) && last.contains(says),
        "{signal}: {err}"
    );
    // The existing output is untouched, and nothing else is left.
    assert_eq!(std::fs::read(&out).unwrap(), b"previous census");
    assert_eq!(files_in(&out_dir), ["census.h5"], "{signal}");
    assert!(files_in(&spill).is_empty(), "{signal}: spill left");
    if ignore_interrupt {
        // The forced path waits for the grace period, not for the end of the run.
        assert!(
            took >= sonata_census::interrupt::GRACE - Duration::from_millis(100),
            "{took:?}"
        );
    }
    assert!(took < Duration::from_secs(20), "{signal}: took {took:?}");
}

#[test]
fn sigint_stops_count_and_leaves_nothing_behind() {
    interrupted_run("cpu", "SIGINT", false, 130, "no output written");
}

#[test]
fn sigterm_stops_count_and_leaves_nothing_behind() {
    interrupted_run("cpu", "SIGTERM", false, 143, "no output written");
}

#[test]
fn a_main_thread_that_does_not_stop_is_cleaned_up_after_the_grace_period() {
    interrupted_run(
        "cpu",
        "SIGTERM",
        true,
        143,
        "stopped without finishing the current step",
    );
}

#[test]
fn sigint_stops_a_gpu_count_too() {
    match sonata_census::gpu::shared_context(sonata_census::gpu::AdapterChoice::Any) {
        Ok(sonata_census::gpu::SharedContext::Ready(_)) => {
            interrupted_run("gpu", "SIGINT", false, 130, "no output written")
        }
        Ok(sonata_census::gpu::SharedContext::Unavailable(why)) => {
            assert!(
                std::env::var("SONATA_CENSUS_REQUIRE_GPU").as_deref() != Ok("1"),
                "no GPU adapter ({why}), and SONATA_CENSUS_REQUIRE_GPU=1"
            );
            eprintln!("no GPU adapter - skipped ({why})");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn an_uninterrupted_run_still_writes_its_output() {
    // The handler changes nothing for a run that is not interrupted, spilling included.
    let dir = tempfile::tempdir().unwrap();
    let input = circuit(dir.path());
    let out = dir.path().join("census.h5");
    let o = bin()
        .args(["count", p(&input), "-o", p(&out), "--backend", "cpu", "-q"])
        .args(["--memory-budget", "1", "--spill-dir", p(dir.path())])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty());
    assert_eq!(files_in(dir.path()), ["census.h5", "edges.h5"]);
}

#[test]
fn sigint_stops_generate_and_leaves_nothing_behind() {
    // The generator has no interrupt checks: the signal thread removes the registered temporary
    // file after the grace period and exits 130.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("circuit.h5");
    std::fs::write(&out, b"previous circuit").unwrap();
    let mut child = bin()
        .args(["generate", p(&out), "--force", "--nodes", "100000"])
        .args(["--edges", "200000000", "--order", "shuffled"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The temporary file is named after the output, as count's is.
    wait_for(&mut child, "a .circuit.h5.XXXXXX.partial file", || {
        files_in(dir.path())
            .iter()
            .any(|n| n.starts_with(".circuit.h5.") && n.ends_with(".partial"))
    });
    send(&child, "SIGINT");
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap_or_default()
            .starts_with("sonata-census: interrupted by SIGINT"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"previous circuit");
    assert_eq!(files_in(dir.path()), ["circuit.h5"]);
}

/// The names under `dir`, recursively (relative paths), sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Waits for the interrupted `child` and checks exit `code` and the one last line.
fn assert_interrupted(child: Child, code: i32, signal: &str) {
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{signal}: {err}");
    assert!(
        err.lines()
            .last()
            .unwrap_or_default()
            .starts_with(&format!("sonata-census: interrupted by {signal}")),
        "{err}"
    );
}

#[test]
fn a_signal_stops_demo_and_leaves_no_temporary_folder() {
    // Without --keep the demo works in a temporary folder (under TMPDIR, here a test folder).
    let tmp = tempfile::tempdir().unwrap();
    for (signal, code) in [("SIGINT", 130), ("SIGTERM", 143)] {
        let mut child = bin()
            .args(["demo", "--edges", "200000000", "--nodes", "100000"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(&mut child, "the demo's circuit being written", || {
            tree(tmp.path()).iter().any(|n| n.ends_with(".partial"))
        });
        send(&child, signal);
        assert_interrupted(child, code, signal);
        assert!(
            tree(tmp.path()).is_empty(),
            "{signal}: {:?}",
            tree(tmp.path())
        );
    }

    // With --keep DIR: a folder the demo created goes; one that existed stays as it was.
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("notes.txt"), b"mine").unwrap();
    for keep in [dir.path().join("new"), existing.clone()] {
        let mut child = bin()
            .args(["demo", "--edges", "200000000", "--nodes", "100000"])
            .args(["--keep", p(&keep)])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(&mut child, "the demo's circuit being written", || {
            keep.is_dir() && files_in(&keep).iter().any(|n| n.ends_with(".partial"))
        });
        send(&child, "SIGINT");
        assert_interrupted(child, 130, "SIGINT");
        assert_eq!(files_in(dir.path()), ["existing"], "{}", keep.display());
        assert_eq!(files_in(&existing), ["notes.txt"]);
    }
}

#[test]
fn a_signal_stops_report_and_leaves_no_staging_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("edges.h5");
    let tables = dir.path().join("tables.h5");
    let o = bin()
        .args([
            "generate",
            p(&input),
            "--nodes",
            "1000",
            "--edges",
            "100000",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args(["count", p(&input), "-o", p(&tables), "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The largest plots take seconds each: the signal arrives while the staging folder exists.
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("index.html"), b"an earlier report").unwrap();
    for (out, signal, code) in [
        (dir.path().join("new"), "SIGINT", 130),
        (existing.clone(), "SIGTERM", 143),
    ] {
        let mut child = bin()
            .args(["report", p(&tables), "-o", p(&out), "--force"])
            .args(["--size", "8192x8192"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(&mut child, "the report's staging folder", || {
            out.is_dir()
                && files_in(&out)
                    .iter()
                    .any(|n| n.starts_with(".sonata-census-report-") && n.ends_with(".partial"))
        });
        send(&child, signal);
        assert_interrupted(child, code, signal);
        assert_eq!(files_in(dir.path()), ["edges.h5", "existing", "tables.h5"]);
        assert_eq!(files_in(&existing), ["index.html"], "{signal}");
        assert_eq!(
            std::fs::read(existing.join("index.html")).unwrap(),
            b"an earlier report"
        );
    }
}
