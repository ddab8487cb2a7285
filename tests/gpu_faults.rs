//! Device failures of the GPU engine, injected with the testing hooks of `sonata_census::gpu::fault`
//! (`SONATA_CENSUS_GPU_FAULT`, `SONATA_CENSUS_GPU_MEMORY_LIMIT`) through the real binary:
//! `--backend gpu` fails cleanly (exit 1, one line naming the stage and the population, no
//! output file, an existing output untouched); `--backend auto` (allowed to take the software
//! adapter with `SONATA_CENSUS_GPU_ALLOW_SOFTWARE=1`, so that the production `auto` path runs)
//! finishes on the CPU with a warning and the same bytes as `--backend cpu`.
//!
//! Skipped, saying so, without an adapter; failing instead when SONATA_CENSUS_REQUIRE_GPU=1.
//! The hooks exist only in builds with the `testing` feature: `cargo test --features testing`.

#![cfg(feature = "testing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
use common::{bin, files_in, gpu_available as has_gpu, path_str as p};
use std::path::{Path, PathBuf};
use std::process::Output;

const POPS: [&str; 2] = ["All__All__chemical_0", "All__All__chemical_1"];

fn run(envs: &[(&str, &str)], args: &[&str]) -> Output {
    bin()
        .envs(envs.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A two-population circuit (one `order`) in its own folder `dir/in`, and its CPU census file.
fn circuit(dir: &Path, order: &str) -> (PathBuf, PathBuf) {
    let input_dir = dir.join("in");
    std::fs::create_dir_all(&input_dir).unwrap();
    let input = input_dir.join(format!("{order}.h5"));
    let o = run(
        &[],
        &[
            "generate",
            p(&input),
            "--nodes",
            "3000",
            "--edges",
            "60000",
            "--order",
            order,
            "--populations",
            "2",
            "--seed",
            "7",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = input_dir.join(format!("{order}.cpu.h5"));
    let o = run(
        &[],
        &["count", p(&input), "-o", p(&reference), "--backend", "cpu"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (input, reference)
}

/// Asserts the clean failure of `--backend gpu -q` under `envs`: exit 1, exactly one line that
/// contains every string of `says`, no file left in a fresh folder, and an existing output
/// given with --force left byte for byte as it was.
fn assert_gpu_fails_cleanly(input: &Path, dir: &Path, envs: &[(&str, &str)], says: &[&str]) {
    let what = format!("{envs:?}");
    let out_dir = tempfile::tempdir_in(dir).unwrap();
    let out = out_dir.path().join("census.h5");
    let o = run(
        envs,
        &["count", p(input), "-o", p(&out), "--backend", "gpu", "-q"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: one line expected: {err}");
    assert!(err.starts_with("sonata-census: "), "{what}: {err}");
    for s in says {
        assert!(err.contains(s), "{what}: '{s}' missing from: {err}");
    }
    assert!(files_in(out_dir.path()).is_empty(), "{what}: files left");

    // An existing output is untouched.
    std::fs::write(&out, b"previous census").unwrap();
    let o = run(
        envs,
        &[
            "count",
            p(input),
            "-o",
            p(&out),
            "--backend",
            "gpu",
            "--force",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous census", "{what}");
    assert_eq!(files_in(out_dir.path()), ["census.h5"], "{what}");
}

/// Runs `count` under `auto` with the software adapter allowed and `envs`; asserts success and
/// the same bytes as `reference`; returns stderr.
fn auto_run(input: &Path, reference: &Path, dir: &Path, envs: &[(&str, &str)]) -> String {
    let what = format!("{envs:?}");
    let out_dir = tempfile::tempdir_in(dir).unwrap();
    let out = out_dir.path().join("census.h5");
    let mut all = vec![
        ("SONATA_CENSUS_GPU_ALLOW_SOFTWARE", "1"),
        ("SONATA_CENSUS_GPU_MIN_EDGES", "0"),
    ];
    all.extend_from_slice(envs);
    let o = run(&all, &["count", p(input), "-o", p(&out), "-v"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{what}: {err}");
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(reference).unwrap(),
        "{what}: the output differs from the CPU engine's"
    );
    assert_eq!(files_in(out_dir.path()), ["census.h5"], "{what}");
    // `auto` did take the GPU (the allowed software adapter) before anything failed.
    assert!(err.contains("backend: gpu (auto: "), "{what}: {err}");
    err
}

/// The injected faults, first occurrence and mid-run (a later batch or readback), for a sorted
/// and a shuffled circuit (the two paths of the engine).
const FAULTS: [(&str, &str); 5] = [
    ("upload", "upload failed"),
    ("dispatch", "dispatch failed"),
    ("readback", "readback failed"),
    ("dispatch:2", "dispatch failed"),
    ("readback:3", "readback failed"),
];

#[test]
fn injected_device_faults_fail_backend_gpu_cleanly() {
    if !has_gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for order in ["sorted", "shuffled"] {
        let (input, _) = circuit(dir.path(), order);
        for (fault, says) in FAULTS {
            assert_gpu_fails_cleanly(
                &input,
                dir.path(),
                &[("SONATA_CENSUS_GPU_FAULT", fault)],
                &[
                    says,
                    "injected fault",
                    "population 'All__All__chemical_",
                    p(&input),
                ],
            );
        }
    }
}

#[test]
fn injected_device_faults_under_auto_finish_on_the_cpu_with_identical_output() {
    if !has_gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for order in ["sorted", "shuffled"] {
        let (input, reference) = circuit(dir.path(), order);
        // Without a fault, `auto` counts on the GPU: no warning, the same bytes.
        let err = auto_run(&input, &reference, dir.path(), &[]);
        assert!(!err.contains("warning"), "{order}: {err}");
        assert!(err.contains("gpu timings:"), "{order}: {err}");
        for (fault, says) in FAULTS {
            let err = auto_run(
                &input,
                &reference,
                dir.path(),
                &[("SONATA_CENSUS_GPU_FAULT", fault)],
            );
            let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
            // A fault from the first occurrence on hits both populations; one from the N-th on
            // may leave the first population to the GPU. Each warning names the stage and the
            // population counted again.
            let expected = if fault.contains(':') { 1..=2 } else { 2..=2 };
            assert!(expected.contains(&warnings.len()), "{order} {fault}: {err}");
            for w in &warnings {
                assert!(w.contains(says), "{order} {fault}: {w}");
                assert!(
                    POPS.iter()
                        .any(|pop| w.contains(&format!("counting {pop} again on the CPU"))),
                    "{w}"
                );
            }
        }
    }
}

/// Sum of `batches=` over the `gpu timings:` lines of a `-v` run.
fn batches(err: &str) -> u64 {
    err.lines()
        .filter(|l| l.starts_with("gpu timings:"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|kv| kv.strip_prefix("batches="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

#[test]
fn a_smaller_device_streams_smaller_batches_or_refuses_cleanly() {
    if !has_gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for order in ["sorted", "shuffled"] {
        let (input, reference) = circuit(dir.path(), order);
        let gpu_run = |envs: &[(&str, &str)]| {
            let out_dir = tempfile::tempdir_in(dir.path()).unwrap();
            let out = out_dir.path().join("census.h5");
            let o = run(
                envs,
                &["count", p(&input), "-o", p(&out), "--backend", "gpu", "-v"],
            );
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(0), "{order} {envs:?}: {err}");
            assert!(
                std::fs::read(&out).unwrap() == std::fs::read(&reference).unwrap(),
                "{order} {envs:?}: the output differs from the CPU engine's"
            );
            assert!(!err.contains("notice"), "{order}: no CPU fallback: {err}");
            batches(&err)
        };
        let full = gpu_run(&[]);
        // 512 KiB per buffer: chunks of about 43k edges instead of the whole population.
        let small = gpu_run(&[("SONATA_CENSUS_GPU_MEMORY_LIMIT", "524288")]);
        assert!(full >= 2, "{order}: {full} batches");
        assert!(
            small > full,
            "{order}: {small} batches with 512 KiB, {full} without"
        );

        // 64 KiB cannot hold the engine's fixed tables (the 256 KiB histogram): `gpu` refuses
        // cleanly, `auto` counts on the CPU.
        let tiny = [("SONATA_CENSUS_GPU_MEMORY_LIMIT", "65536")];
        assert_gpu_fails_cleanly(
            &input,
            dir.path(),
            &tiny,
            &["exceed the device's buffer limits", POPS[0]],
        );
        let err = auto_run(&input, &reference, dir.path(), &tiny);
        assert_eq!(
            err.lines().filter(|l| l.starts_with("warning:")).count(),
            2,
            "{order}: {err}"
        );
    }
}

#[test]
fn a_misspelt_hook_is_a_usage_error() {
    if !has_gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = circuit(dir.path(), "sorted");
    for (var, value, says) in [
        (
            "SONATA_CENSUS_GPU_FAULT",
            "uplod",
            "expected upload, dispatch or readback",
        ),
        ("SONATA_CENSUS_GPU_FAULT", "dispatch:0", "expected upload"),
        (
            "SONATA_CENSUS_GPU_MEMORY_LIMIT",
            "lots",
            "expected a positive number of bytes",
        ),
    ] {
        let out_dir = tempfile::tempdir_in(dir.path()).unwrap();
        let out = out_dir.path().join("census.h5");
        let o = run(
            &[(var, value)],
            &["count", p(&input), "-o", p(&out), "--backend", "gpu"],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{var}={value}: {err}");
        assert_eq!(err.lines().count(), 1, "{var}={value}: {err}");
        assert!(err.contains(says), "{var}={value}: {err}");
        assert!(files_in(out_dir.path()).is_empty());
    }
}

/// `--backend gpu` on a software adapter (lavapipe, llvmpipe) warns once, before the work, for
/// the whole run (two populations here); on a real GPU it says nothing of the kind.
#[test]
fn gpu_backend_on_a_software_adapter_warns_once() {
    let Some(ctx) = common::gpu_context() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = circuit(dir.path(), "sorted");
    let out = dir.path().join("census.h5");
    let o = run(
        &[],
        &["count", p(&input), "-o", p(&out), "--backend", "gpu"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let warnings = err.lines().filter(|l| l.contains("software")).count();
    if ctx.is_software() {
        assert_eq!(warnings, 1, "one warning expected: {err}");
        let warning = err.lines().position(|l| l.contains("software")).unwrap();
        let first_population = err.lines().position(|l| l.contains(POPS[0])).unwrap();
        assert!(warning < first_population, "warning after the work: {err}");
    } else {
        assert_eq!(warnings, 0, "{}: {err}", ctx.describe());
    }
    // -q silences it, as every other notice.
    let o = run(
        &[],
        &[
            "count",
            p(&input),
            "-o",
            p(&out),
            "--backend",
            "gpu",
            "--force",
            "-q",
        ],
    );
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
}
