//! Sharded counts (`count --shard i/N`) and `merge`: for N = 1..8, every shard counted (in
//! process, on every engine) and merged gives the file one process writes, byte for byte, on
//! sorted, shuffled, hub-target, tiny (E < N, empty shards), unindexed and bmtk `nsyns`
//! circuits, with the merged connection table in memory or spilled; a circuit config with node
//! sets, efferent tables and pathway matrices through the command line; `--shard auto` under the
//! launcher variables set by the test; a real `mpirun` when one is installed (CI installs
//! Debian's openmpi-bin and sets `SONATA_CENSUS_REQUIRE_MPI=1`); and every refusal (one line
//! naming the files, exit 2, no output).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use sonata_census::census::CensusOptions;
use sonata_census::census::circuit::NodeSetRestriction;
use sonata_census::census::count_plan::{CountPlan, CountRequest, Spelling};
use sonata_census::census::derived::Direction;
use sonata_census::census::merge::{MergeOptions, merge};
use sonata_census::census::output::CensusWriter;
use sonata_census::census::shard::{Shard, ShardHeader, count_shard};
use sonata_census::progress::Progress;

use common::{Engine, Ids, Rng, bin, locked, path_str, random_edges, write_edges};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    locked(|| bin().current_dir(dir).args(args).output().unwrap())
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stderr)
}

/// One refusal: exit 2, one line on stderr that contains every one of `says`.
fn refused(o: &Output, says: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for s in says {
        assert!(err.contains(s), "{s:?} not in: {err}");
    }
}

/// The circuits of the in-process test: (name, edges) written to `<name>.h5`, population `e`.
fn write_circuits(dir: &Path) -> Vec<&'static str> {
    let mut rng = Rng(16);
    let mut names = Vec::new();
    for (name, n, targets, shape) in [
        ("sorted", 20_000, 400, "sorted"),
        ("shuffled", 20_000, 400, "shuffled"),
        ("target_sorted", 9_000, 300, "target-sorted"),
        // 70 % of the edges on one target: it straddles most cuts.
        ("hub", 12_000, 50, "skewed"),
        // Fewer edges than shards: some shards are empty.
        ("tiny", 3, 10, "shuffled"),
    ] {
        let (s, t) = random_edges(&mut rng, n, targets, 64, shape);
        locked(|| write_edges(&dir.join(format!("{name}.h5")), "e", &s, &t, Ids::U64));
        names.push(name);
    }
    // The largest target sits in the first edge: shards after it see smaller ones only, so
    // their tables are shorter than the merged file's (no index, no node count).
    let (mut s, mut t) = random_edges(&mut rng, 5_000, 200, 64, "shuffled");
    s.insert(0, 7);
    t.insert(0, 999);
    locked(|| write_edges(&dir.join("long_first.h5"), "e", &s, &t, Ids::I64));
    names.push("long_first");
    // bmtk nsyns, summed per target across shards.
    let (s, t) = random_edges(&mut rng, 4_000, 100, 64, "sorted");
    let nsyns: Vec<u64> = (0..s.len() as u64).map(|i| i % 5 + 1).collect();
    locked(|| {
        write_edges(&dir.join("nsyns.h5"), "e", &s, &t, Ids::U64);
        common::write_nsyns(&dir.join("nsyns.h5"), "e", &nsyns);
    });
    names.push("nsyns");
    names
}

/// Counts shard `shard` of `input` in process (as `count --shard` does) into its partial file
/// beside `out`; returns the partial file's path.
fn count_partial(input: &Path, out: &Path, shard: Shard, engine: Engine, spill: u64) -> PathBuf {
    let restriction = NodeSetRestriction::default();
    let request = CountRequest {
        path: input,
        populations: &[],
        nodes_count: None,
        restriction: &restriction,
        direction: Direction::Afferent,
        pathways: &[],
        output: Some(out),
    };
    let path = shard.output_path(out);
    locked(|| {
        let plan = CountPlan::new(&request, Spelling::Flags).unwrap();
        let mut writer = CensusWriter::create(&path, false).unwrap();
        writer
            .write_shard_header(&ShardHeader::new(shard, &request).unwrap())
            .unwrap();
        for w in &plan.work {
            let options = plan.options_for(
                w,
                &CensusOptions {
                    backend: engine.backend(),
                    // Small chunks: shard cuts and chunk cuts fall in many places.
                    chunk_len: 1000,
                    ..CensusOptions::default()
                },
            );
            let c = count_shard(
                w,
                shard,
                &options,
                &Progress::hidden(),
                &mut Vec::new(),
                Some(spill),
            )
            .unwrap();
            writer.write_partial(&c).unwrap();
        }
        writer.finish().unwrap();
    });
    path
}

fn sharded_counts_merge_to_the_single_process_file(engine: Engine) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let names = write_circuits(dir);
    // The GPU engine on a software adapter is slow: fewer shard counts there.
    let counts: Vec<u64> = match engine {
        Engine::Cpu => (1..=8).collect(),
        Engine::Gpu => vec![1, 3, 8],
    };
    for name in names {
        let input = dir.join(format!("{name}.h5"));
        ok(&run_in(
            dir,
            &[
                "count",
                path_str(&input),
                "-o",
                "whole.h5",
                "--backend",
                "cpu",
                "--force",
            ],
        ));
        let whole = std::fs::read(dir.join("whole.h5")).unwrap();
        for &n in &counts {
            let out = dir.join(format!("{name}.{n}.h5"));
            // Shards in reverse order, and the spill threshold low for odd N: the merge takes
            // them in any order, and the partial tables may have gone to disk.
            let spill = if n % 2 == 1 { 1 << 10 } else { 32 << 20 };
            let parts: Vec<PathBuf> = (0..n)
                .rev()
                .map(|i| count_partial(&input, &out, Shard::new(i, n).unwrap(), engine, spill))
                .collect();
            for spill_above in [1 << 10, 32 << 20] {
                let merged = dir.join(format!("{name}.{n}.{spill_above}.merged.h5"));
                let options = MergeOptions {
                    spill_above,
                    ..MergeOptions::default()
                };
                let done = locked(|| merge(&parts, &merged, &options, &|_, _| Progress::hidden()))
                    .unwrap();
                assert_eq!(done.len(), 1);
                assert!(
                    std::fs::read(&merged).unwrap() == whole,
                    "{name}, {n} shards, merge spilling above {spill_above} B: the merged file \
                     differs from one process's"
                );
            }
        }
    }
}

engine_tests! {
    fn sharded_counts_merge_to_the_single_process_file;
}

/// `src` (120 nodes) -> `tgt` (300 nodes), both with an int `layer`; edge population `e`
/// (shuffled) and `f` (sorted, tgt -> tgt); node set `L5`.
fn config_circuit(dir: &Path) {
    for (file, pop, n) in [("src.h5", "src", 120u64), ("tgt.h5", "tgt", 300)] {
        locked(|| {
            let f = hdf5::File::create(dir.join(file)).unwrap();
            let g = f.create_group(&format!("nodes/{pop}")).unwrap();
            g.new_dataset_builder()
                .with_data(&vec![-1i64; n as usize])
                .create("node_type_id")
                .unwrap();
            let layer: Vec<i64> = (0..n).map(|i| (i % 6 + 1) as i64).collect();
            g.create_group("0")
                .unwrap()
                .new_dataset_builder()
                .with_data(&layer)
                .create("layer")
                .unwrap();
        });
    }
    let mut rng = Rng(3);
    let (s, t) = random_edges(&mut rng, 7_000, 300, 120, "shuffled");
    locked(|| write_edges(&dir.join("e.h5"), "e", &s, &t, Ids::U64));
    let (s, t) = random_edges(&mut rng, 5_000, 300, 300, "sorted");
    locked(|| write_edges(&dir.join("f.h5"), "f", &s, &t, Ids::U64));
    // Tag the node populations (write_edges names them "src" / "tgt" for both files).
    locked(|| {
        let f = hdf5::File::open_rw(dir.join("f.h5")).unwrap();
        let ds = f.dataset("edges/f/source_node_id").unwrap();
        ds.delete_attr("node_population").unwrap();
        let v: hdf5::types::VarLenUnicode = "tgt".parse().unwrap();
        ds.new_attr::<hdf5::types::VarLenUnicode>()
            .create("node_population")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    });
    std::fs::write(dir.join("node_sets.json"), r#"{"L5": {"layer": 5}}"#).unwrap();
    std::fs::write(
        dir.join("circuit_config.json"),
        r#"{"manifest": {"$BASE_DIR": "."},
            "node_sets_file": "$BASE_DIR/node_sets.json",
            "networks": {
              "nodes": [{"nodes_file": "$BASE_DIR/src.h5"}, {"nodes_file": "$BASE_DIR/tgt.h5"}],
              "edges": [{"edges_file": "$BASE_DIR/e.h5"}, {"edges_file": "$BASE_DIR/f.h5"}]}}"#,
    )
    .unwrap();
}

#[test]
fn a_circuit_with_node_sets_efferent_tables_and_pathways_merges_byte_identical() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    config_circuit(dir);
    let sub = dir.join("run");
    std::fs::create_dir(&sub).unwrap();
    for (case, extra) in [
        ("both", vec!["--direction", "both", "--pathways", "layer"]),
        ("efferent", vec!["--direction", "efferent"]),
        (
            "restricted",
            vec!["--target-node-set", "L5", "--pathways", "layer"],
        ),
    ] {
        let with = |args: Vec<&str>| -> Vec<String> {
            args.iter()
                .chain(&extra)
                .map(|a| (*a).to_string())
                .collect()
        };
        let run = |at: &Path, args: Vec<String>| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_in(at, &args)
        };
        ok(&run(
            dir,
            with(vec![
                "count",
                "circuit_config.json",
                "-o",
                &format!("{case}.h5"),
            ]),
        ));
        // The shards run from another folder, with a relative config path; merge from a
        // third place reads the input again through the recorded absolute path.
        for i in 0..3 {
            let shard = format!("{i}/3");
            let stderr = ok(&run(
                &sub,
                with(vec![
                    "count",
                    "../circuit_config.json",
                    "--shard",
                    &shard,
                    "-o",
                    &format!("{case}.h5"),
                ]),
            ));
            assert!(
                stderr.contains(&format!("e: shard {i}/3, edges ")),
                "{stderr}"
            );
        }
        let stderr = ok(&run_in(
            dir,
            &[
                "merge",
                &format!("run/{case}.shard-*-of-3.h5"),
                "-o",
                &format!("{case}.merged.h5"),
            ],
        ));
        assert!(stderr.contains("wrote"), "{stderr}");
        assert!(
            std::fs::read(dir.join(format!("{case}.h5"))).unwrap()
                == std::fs::read(dir.join(format!("{case}.merged.h5"))).unwrap(),
            "{case}: the merged file differs from one process's"
        );
    }
}

#[test]
fn shard_auto_takes_the_launcher_variables() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (s, t) = random_edges(&mut Rng(9), 10_000, 500, 64, "shuffled");
    locked(|| write_edges(&dir.join("edges.h5"), "e", &s, &t, Ids::U64));
    ok(&run_in(dir, &["count", "edges.h5", "-o", "whole.h5"]));
    // Open MPI's variables win over the Slurm ones an mpirun inside sbatch inherits.
    for rank in 0..3 {
        let o = locked(|| {
            bin()
                .current_dir(dir)
                .args([
                    "count",
                    "edges.h5",
                    "--shard",
                    "auto",
                    "-o",
                    "mpi.{rank}.h5",
                ])
                .env("SLURM_PROCID", "0")
                .env("SLURM_NTASKS", "1")
                .env("OMPI_COMM_WORLD_RANK", rank.to_string())
                .env("OMPI_COMM_WORLD_SIZE", "3")
                .output()
                .unwrap()
        });
        let stderr = ok(&o);
        assert!(stderr.contains(&format!("wrote mpi.{rank}.h5")), "{stderr}");
    }
    ok(&run_in(dir, &["merge", "mpi.*.h5", "-o", "mpi.h5"]));
    assert!(
        std::fs::read(dir.join("mpi.h5")).unwrap() == std::fs::read(dir.join("whole.h5")).unwrap()
    );
    // Slurm alone (srun), default partial names.
    for rank in 0..2 {
        let o = locked(|| {
            bin()
                .current_dir(dir)
                .args(["count", "edges.h5", "--shard", "auto", "-o", "slurm.h5"])
                .env("SLURM_PROCID", rank.to_string())
                .env("SLURM_NTASKS", "2")
                .output()
                .unwrap()
        });
        ok(&o);
    }
    ok(&run_in(
        dir,
        &[
            "merge",
            "slurm.shard-1-of-2.h5",
            "slurm.shard-0-of-2.h5",
            "-o",
            "slurm.merged.h5",
        ],
    ));
    assert!(
        std::fs::read(dir.join("slurm.merged.h5")).unwrap()
            == std::fs::read(dir.join("whole.h5")).unwrap()
    );
    // Resources per rank: a Slurm task's CPUs are its threads; with --shard, the GPU of its
    // local rank among the node's (one adapter here: any local rank takes it).
    let o = locked(|| {
        bin()
            .current_dir(dir)
            .args(["-v", "count", "edges.h5", "--shard", "1/2", "-o", "res.h5"])
            .args([
                "--backend",
                if Engine::Gpu.available() {
                    "gpu"
                } else {
                    "cpu"
                },
            ])
            .env("SLURM_CPUS_PER_TASK", "3")
            .env("OMPI_COMM_WORLD_LOCAL_RANK", "5")
            .output()
            .unwrap()
    });
    let stderr = ok(&o);
    assert!(
        stderr.contains("threads: 3 (SLURM_CPUS_PER_TASK)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gpu device: 5 of the node's GPUs (OMPI_COMM_WORLD_LOCAL_RANK)"),
        "{stderr}"
    );
    std::fs::remove_file(dir.join("res.shard-1-of-2.h5")).unwrap();
    let o = locked(|| {
        bin()
            .current_dir(dir)
            .args(["count", "edges.h5", "-o", "x.h5"])
            .env("SLURM_CPUS_PER_TASK", "zero")
            .output()
            .unwrap()
    });
    refused(
        &o,
        &["SLURM_CPUS_PER_TASK=\"zero\" is not a positive number"],
    );
    // auto outside a launcher, one of a pair, a bad shard: refused before any output.
    let before = common::files_in(dir);
    let o = run_in(dir, &["count", "edges.h5", "--shard", "auto", "-o", "x.h5"]);
    refused(&o, &["no launcher variable is set", "--shard i/N"]);
    let o = locked(|| {
        bin()
            .current_dir(dir)
            .args(["count", "edges.h5", "--shard", "auto", "-o", "x.h5"])
            .env("PMI_RANK", "1")
            .output()
            .unwrap()
    });
    refused(&o, &["PMI_RANK is set but PMI_SIZE is not"]);
    let o = run_in(dir, &["count", "edges.h5", "--shard", "3/3", "-o", "x.h5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("shards are 0-based"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(common::files_in(dir), before, "a refusal left a file");
}

#[test]
fn merge_refuses_missing_duplicated_foreign_and_mismatched_shards() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut rng = Rng(4);
    for name in ["a", "b"] {
        let (s, t) = random_edges(&mut rng, 3_000, 100, 64, "shuffled");
        locked(|| write_edges(&dir.join(format!("{name}.h5")), "e", &s, &t, Ids::U64));
        for i in 0..3 {
            ok(&run_in(
                dir,
                &[
                    "count",
                    &format!("{name}.h5"),
                    "--shard",
                    &format!("{i}/3"),
                    "-o",
                    &format!("{name}.parts.h5"),
                    "-q",
                ],
            ));
        }
    }
    ok(&run_in(
        dir,
        &["count", "a.h5", "--shard", "1/2", "-o", "two.h5", "-q"],
    ));
    ok(&run_in(dir, &["count", "a.h5", "-o", "plain.h5", "-q"]));
    std::fs::copy(
        dir.join("a.parts.shard-1-of-3.h5"),
        dir.join("copy-of-1.h5"),
    )
    .unwrap();
    let before = common::files_in(dir);
    let p = |i: u64| format!("a.parts.shard-{i}-of-3.h5");
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![p(0), p(2)],
            vec![
                "shard 1 of 3 missing: 2 files given (a.parts.shard-0-of-3.h5, \
                 a.parts.shard-2-of-3.h5)",
            ],
        ),
        (
            vec![p(0), p(1), p(1), p(2)],
            vec!["a.parts.shard-1-of-3.h5 and a.parts.shard-1-of-3.h5 are both shard 1/3"],
        ),
        (
            vec![p(0), p(1), "copy-of-1.h5".into(), p(2)],
            vec!["are both shard 1/3", "copy-of-1.h5"],
        ),
        (
            vec![p(0), "b.parts.shard-1-of-3.h5".into(), p(2)],
            vec!["shards of different counts", "a.h5", "b.h5"],
        ),
        (
            vec![p(0), "two.shard-1-of-2.h5".into()],
            vec!["is a shard of 3 but two.shard-1-of-2.h5 of 2"],
        ),
        (
            vec![p(0), p(1), p(2), "plain.h5".into()],
            vec!["plain.h5: not a partial table file"],
        ),
        (
            vec!["nothing-*.h5".into()],
            vec!["nothing-*.h5: no file matches"],
        ),
    ];
    for (parts, says) in cases {
        let mut args: Vec<&str> = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        args.extend(["-o", "merged.h5"]);
        refused(&run_in(dir, &args), &says);
        assert_eq!(common::files_in(dir), before, "{parts:?} left a file");
    }
    // A shard whose recorded range is not its index's (overlapping its neighbour), and one
    // whose synapse counts do not sum to its edges: refused, naming the file.
    for (name, change) in [("overlap.h5", "range"), ("short.h5", "synapses")] {
        std::fs::copy(dir.join(p(1)), dir.join(name)).unwrap();
        locked(|| {
            let f = hdf5::File::open_rw(dir.join(name)).unwrap();
            let g = f.group("e").unwrap();
            if change == "range" {
                let first: u64 = g.attr("shard_first_edge").unwrap().read_scalar().unwrap();
                g.attr("shard_first_edge")
                    .unwrap()
                    .write_scalar(&(first - 1))
                    .unwrap();
            } else {
                let ds = g.dataset("target_synapse_count").unwrap();
                let mut v: Vec<u64> = ds.read_raw().unwrap();
                let t = v.iter().position(|&x| x > 0).unwrap();
                v[t] += 1;
                ds.write_raw(&v).unwrap();
            }
        });
        let o = run_in(dir, &["merge", &p(0), name, &p(2), "-o", "merged.h5"]);
        let says: &[&str] = if change == "range" {
            &["overlap.h5", "but the file holds edges 999..2000"]
        } else {
            &[
                "short.h5",
                "the synapse counts sum to 1001 but the shard counted 1000 edges",
            ]
        };
        refused(&o, says);
        assert!(!dir.join("merged.h5").exists());
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    // A partial file is no census: `report` refuses it, naming the way out.
    refused(
        &run_in(dir, &["report", &p(0), "-o", "report"]),
        &["is one shard of a sharded count", "sonata-census merge"],
    );
    assert_eq!(common::files_in(dir), before, "report left a file");
    // The output is one of the parts: refused, the part untouched.
    let part = std::fs::read(dir.join(p(0))).unwrap();
    let o = run_in(dir, &["merge", &p(0), &p(1), &p(2), "-o", &p(0), "--force"]);
    refused(&o, &["the output is one of the partial files"]);
    assert!(std::fs::read(dir.join(p(0))).unwrap() == part);
    // The input changed since the shards counted it: refused, naming the file.
    let (s, t) = random_edges(&mut rng, 3_000, 100, 64, "sorted");
    locked(|| {
        std::fs::remove_file(dir.join("a.h5")).unwrap();
        write_edges(&dir.join("a.h5"), "e", &s, &t, Ids::U64);
    });
    let o = run_in(dir, &["merge", &p(0), &p(1), &p(2), "-o", "merged.h5"]);
    refused(&o, &["was counted from another input", "a.h5"]);
    assert!(!dir.join("merged.h5").exists());
}

/// A real launcher: `mpirun -np 3 sonata-census count --shard auto`, then `merge`. Skips (saying
/// so) without `mpirun`; fails instead under `SONATA_CENSUS_REQUIRE_MPI=1` (CI).
#[test]
fn mpirun_shards_merge_byte_identical() {
    let has_mpirun = locked(|| {
        std::process::Command::new("mpirun")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !has_mpirun {
        assert!(
            std::env::var("SONATA_CENSUS_REQUIRE_MPI").as_deref() != Ok("1"),
            "no mpirun on PATH, and SONATA_CENSUS_REQUIRE_MPI=1"
        );
        eprintln!("no mpirun on PATH: the real-launcher test skipped (install openmpi-bin)");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (s, t) = random_edges(&mut Rng(21), 30_000, 700, 64, "sorted");
    locked(|| write_edges(&dir.join("edges.h5"), "e", &s, &t, Ids::U64));
    ok(&run_in(dir, &["count", "edges.h5", "-o", "whole.h5"]));
    let exe = env!("CARGO_BIN_EXE_sonata-census");
    let o = locked(|| {
        let mut c = std::process::Command::new("mpirun");
        c.current_dir(dir)
            .args(["--allow-run-as-root", "--oversubscribe", "-np", "3", exe])
            .args([
                "count",
                "edges.h5",
                "--shard",
                "auto",
                "-o",
                "parts.{rank}.h5",
            ]);
        // The launcher's own variables only: none of a Slurm job this test might run in.
        for var in ["SLURM_PROCID", "SLURM_NTASKS", "PMI_RANK", "PMI_SIZE"] {
            c.env_remove(var);
        }
        c.output().unwrap()
    });
    let stderr = ok(&o);
    for rank in 0..3 {
        assert!(
            stderr.contains(&format!("wrote parts.{rank}.h5")),
            "{stderr}"
        );
    }
    ok(&run_in(dir, &["merge", "parts.*.h5", "-o", "merged.h5"]));
    assert!(
        std::fs::read(dir.join("merged.h5")).unwrap()
            == std::fs::read(dir.join("whole.h5")).unwrap(),
        "mpirun's shards merged differ from one process's file"
    );
}
