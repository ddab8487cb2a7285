//! The same input gives byte-identical census files: across runs, thread counts
//! (`RAYON_NUM_THREADS`), chunk lengths, memory budgets (in memory or spilled to disk) and
//! engines (`--backend cpu` and `--backend gpu` when an adapter exists), for sorted,
//! target-sorted and shuffled circuits of several populations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
use common::{bin, gpu_available as has_gpu, path_str as p};
use std::path::{Path, PathBuf};

/// A two-population circuit of 300k edges per population: more than a 1 MiB memory budget
/// holds as u32 sources (262144), so unsorted populations spill with `--memory-budget 1`.
fn circuit(dir: &Path, order: &str) -> PathBuf {
    let input = dir.join(format!("{order}.h5"));
    let o = bin()
        .args([
            "generate",
            p(&input),
            "--nodes",
            "5000",
            "--edges",
            "300000",
        ])
        .args(["--order", order, "--populations", "2", "--seed", "11", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    input
}

/// Runs `count` with `args` and `threads` (None: rayon's default) and returns the file's bytes.
fn count(input: &Path, out: &Path, threads: Option<&str>, args: &[&str]) -> Vec<u8> {
    let mut c = bin();
    c.args(["count", p(input), "-o", p(out), "--force", "-q"])
        .args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{args:?} threads {threads:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

#[test]
fn census_files_are_byte_identical_across_runs_threads_chunks_budgets_and_backends() {
    let gpu = has_gpu();
    let dir = tempfile::tempdir().unwrap();
    for order in ["sorted", "target-sorted", "shuffled"] {
        let input = circuit(dir.path(), order);
        let out = dir.path().join(format!("{order}.census.h5"));
        let reference = count(&input, &out, None, &["--backend", "cpu"]);
        let mut cases: Vec<(Option<&str>, Vec<&str>)> = vec![
            (None, vec!["--backend", "cpu"]), // the same run again
            (Some("1"), vec!["--backend", "cpu"]),
            (Some("4"), vec!["--backend", "cpu"]),
            (Some("3"), vec!["--backend", "cpu", "--chunk-len", "1000"]),
            (Some("1"), vec!["--backend", "cpu", "--chunk-len", "77777"]),
            (Some("2"), vec!["--backend", "cpu", "--memory-budget", "1"]),
        ];
        if gpu {
            cases.extend([
                (None, vec!["--backend", "gpu"]),
                (Some("3"), vec!["--backend", "gpu", "--chunk-len", "5000"]),
                (Some("2"), vec!["--backend", "gpu", "--memory-budget", "1"]),
            ]);
        }
        for (threads, args) in &cases {
            let got = count(&input, &out, *threads, args);
            assert!(
                got == reference,
                "{order}: {args:?} with RAYON_NUM_THREADS={threads:?} gives other bytes"
            );
        }
        // The 1 MiB budget really spills unsorted populations: `-v` names the strategy, and
        // only the shuffled input is cut into spilled partitions (sorted input never is).
        let spill = dir.path().join("spill");
        std::fs::create_dir_all(&spill).unwrap();
        let o = bin()
            .args(["count", p(&input), "-o", p(&out), "--force", "-v"])
            .args(["--backend", "cpu", "--memory-budget", "1", "--spill-dir"])
            .arg(&spill)
            .output()
            .unwrap();
        let spills = order == "shuffled";
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{order}: {err}");
        assert_eq!(
            err.contains("partitions of at most 1 MiB"),
            spills,
            "{order}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
