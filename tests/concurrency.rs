//! Two processes counting different populations of one file at the same time both succeed with
//! the tables of a run alone, with HDF5 file locking on (the default: readers take a shared
//! lock) and off (`HDF5_USE_FILE_LOCKING=FALSE`, as on file systems without `flock`); and a
//! file being written by another process cannot be counted (exit 2, one line, no output). In one
//! process, threads given one caller-supplied GPU context (`CensusOptions::gpu_context`) count on
//! it, with the CPU engine's tables.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{bin, locked, path_str as p};
use sonata_census::census::reader::read_census;
use sonata_census::census::{Backend, CensusOptions, census_population};
use sonata_census::progress::Progress;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const POPS: [&str; 2] = ["All__All__chemical_0", "All__All__chemical_1"];

fn circuit(dir: &Path) -> std::path::PathBuf {
    circuit_of(dir, 300_000)
}

/// [`circuit`] with `edges` edges per population.
fn circuit_of(dir: &Path, edges: u64) -> std::path::PathBuf {
    let input = dir.join("edges.h5");
    let o = locked(|| {
        bin()
            .args([
                "generate",
                p(&input),
                "--nodes",
                "4000",
                "--edges",
                &edges.to_string(),
            ])
            .args([
                "--order",
                "shuffled",
                "--populations",
                "2",
                "--seed",
                "5",
                "-q",
            ])
            .output()
            .unwrap()
    });
    assert!(o.status.success(), "{}", stderr(&o));
    input
}

/// Starts `count -p POP` for both populations at once (the second starts while the first runs),
/// with `locking` as HDF5_USE_FILE_LOCKING, and checks both results against the CPU engine run
/// in this process.
fn count_both_at_once(dir: &Path, input: &Path, locking: Option<&str>) {
    let outs: Vec<_> = POPS
        .iter()
        .map(|pop| dir.join(format!("{pop}.{}.h5", locking.unwrap_or("default"))))
        .collect();
    let children = locked(|| {
        POPS.iter()
            .zip(&outs)
            .map(|(pop, out)| {
                let mut c = bin();
                c.args([
                    "count",
                    p(input),
                    "-p",
                    pop,
                    "-o",
                    p(out),
                    "--backend",
                    "cpu",
                ])
                .args(["--chunk-len", "2000", "-q"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
                if let Some(v) = locking {
                    c.env("HDF5_USE_FILE_LOCKING", v);
                }
                c.spawn().unwrap()
            })
            .collect::<Vec<_>>()
    });
    let results: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for ((o, pop), out) in results.iter().zip(POPS).zip(&outs) {
        assert_eq!(o.status.code(), Some(0), "{pop} {locking:?}: {}", stderr(o));
        assert!(o.stderr.is_empty(), "{pop}: {}", stderr(o));
        locked(|| {
            let file = sonata_census::EdgeFile::open(input).unwrap();
            let options = CensusOptions {
                backend: Backend::Cpu,
                ..CensusOptions::default()
            };
            let want = census_population(
                &file.population(pop).unwrap(),
                &options,
                &Progress::hidden(),
            )
            .unwrap();
            let got = read_census(out, pop).unwrap();
            assert_eq!(
                got,
                sonata_census::Census {
                    backend: sonata_census::census::CountedBy::Unrecorded,
                    ..want
                },
                "{pop} {locking:?}"
            );
            // Only the population asked for is in each file.
            let names = hdf5::File::open(out).unwrap().member_names().unwrap();
            assert_eq!(names, [pop.to_string()]);
        });
    }
}

#[test]
fn two_processes_count_two_populations_of_one_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = circuit(dir.path());
    count_both_at_once(dir.path(), &input, None);
    count_both_at_once(dir.path(), &input, Some("TRUE"));
    count_both_at_once(dir.path(), &input, Some("FALSE"));
}

#[test]
fn a_file_open_for_writing_elsewhere_is_refused_with_one_line() {
    // HDF5 takes an exclusive lock for a file opened read-write: another process's `count`
    // cannot open it while it is held (and with locking off it could read a half-written file,
    // which is why the default stays on).
    let dir = tempfile::tempdir().unwrap();
    let input = circuit(dir.path());
    let out = dir.path().join("census.h5");
    locked(|| {
        let writer = hdf5::File::open_rw(&input).unwrap();
        let o = bin()
            .args(["count", p(&input), "-o", p(&out), "--backend", "cpu"])
            .output()
            .unwrap();
        drop(writer);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(p(&input)), "{err}");
        assert!(!out.exists());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["edges.h5"], "no temporary file left");
    });
}

#[test]
fn a_file_being_counted_cannot_be_opened_for_writing_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that a count in 1-row chunks lasts tens of seconds however fast the engine
    // gets (300 000 edges took under 2 s once unsorted input was read once): the count must
    // still be running when it is interrupted.
    let input = circuit_of(dir.path(), 1_000_000);
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("census.h5");
    // A slow count (1-row chunks through the two-pass strategy, which a 1 MiB memory budget
    // forces: tens of seconds even with reads past HDF5's lock, so it still runs while another
    // test holds `locked`; the bucketed strategy's workers read 1-row blocks in 3 s): the input
    // is open while the `.partial` output exists.
    let child = locked(|| {
        bin()
            .args(["count", p(&input), "-o", p(&out), "--backend", "cpu", "-q"])
            .args(["--chunk-len", "1", "--memory-budget", "1"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    });
    let started = std::time::Instant::now();
    while !std::fs::read_dir(&out_dir).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }) {
        assert!(started.elapsed().as_secs() < 60, "no .partial file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let refused = locked(|| match hdf5::File::open_rw(&input) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    });
    // Done with the slow run: interrupt it (exit 130, nothing left).
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let why = refused.expect("a file being read must not open for writing");
    assert!(why.contains("lock"), "{why}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);
}

/// A caller that manages its own device (a Python module, a sharded run) passes it in the
/// options: two threads count the two populations on that one context (in turn: `locked` keeps
/// the other tests' forks away from the open file), with the CPU engine's tables, and the census
/// names its adapter.
#[test]
fn threads_share_a_caller_supplied_gpu_context() {
    use sonata_census::census::CountedBy;
    use sonata_census::gpu::{AdapterChoice, GpuContext, Opened};
    use std::sync::Arc;
    let ctx = match GpuContext::open(AdapterChoice::Any).unwrap() {
        Opened::Ready(ctx) => Arc::from(ctx),
        Opened::Unavailable(why) => {
            assert!(
                std::env::var("SONATA_CENSUS_REQUIRE_GPU").as_deref() != Ok("1"),
                "no GPU adapter ({why}), and SONATA_CENSUS_REQUIRE_GPU=1"
            );
            eprintln!("no GPU adapter - skipped ({why})");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let input = circuit(dir.path());
    let count = |pop: &str, options: &CensusOptions| {
        locked(|| {
            let file = sonata_census::EdgeFile::open(&input).unwrap();
            census_population(&file.population(pop).unwrap(), options, &Progress::hidden())
        })
        .unwrap()
    };
    let on_gpu = CensusOptions {
        backend: Backend::Gpu,
        gpu_context: Some(Arc::clone(&ctx)),
        ..CensusOptions::default()
    };
    let got: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = POPS
            .iter()
            .map(|pop| s.spawn(|| count(pop, &on_gpu)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (gpu, pop) in got.into_iter().zip(POPS) {
        let cpu = count(
            pop,
            &CensusOptions {
                backend: Backend::Cpu,
                ..CensusOptions::default()
            },
        );
        assert_eq!(
            gpu.backend,
            CountedBy::Gpu {
                adapter: ctx.adapter_name().to_string()
            },
            "{pop}"
        );
        assert_eq!(
            sonata_census::Census {
                backend: CountedBy::Cpu,
                ..gpu
            },
            cpu,
            "{pop}"
        );
    }
}
