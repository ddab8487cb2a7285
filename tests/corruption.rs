//! Corruption corpus: seeded byte flips, zeroed ranges, runs of 0xFF and truncations of the real
//! sample files (`../shared/sonata_samples`: edge, node and circuit-config files) and of census
//! table files made here with `count`, each run through every reading command of the CLI.
//!
//! Every run must end by itself within [`timeout`] (no hang), with no signal (segfault, abort),
//! no panic (exit 101), exit 0 or 2 (a reading command has no environment failure to report
//! here: its outputs go to a fresh temporary folder), valid UTF-8 on stdout and stderr, and on
//! failure exactly one stderr line `sonata-census: ...`, nothing on stdout and no output file.
//!
//! A few hundred cases run in the normal suite, in parallel threads. Longer runs:
//! `SONATA_CENSUS_CORRUPTION_CASES=5000 cargo test --test corruption -- --nocapture`
//! (`SONATA_CENSUS_CORRUPTION_SEED` picks another seed, `SONATA_CENSUS_CORRUPTION_CASE=N` runs
//! one case, `SONATA_CENSUS_CORRUPTION_BIN` another binary). A failure prints the seed and the case to reproduce it and keeps the damaged file.
//! [`PINNED`] holds damage patterns that once crashed HDF5 or this crate: they run every time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The binary under test: this build's, or `SONATA_CENSUS_CORRUPTION_BIN` (e.g. one linked with
/// another HDF5, to compare libraries on the same corpus).
fn bin() -> PathBuf {
    std::env::var_os("SONATA_CENSUS_CORRUPTION_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_sonata-census")),
        PathBuf::from,
    )
}
const DEFAULT_CASES: usize = 240;
const DEFAULT_SEED: u64 = 17;

fn samples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sonata_samples");
    dir.is_dir().then_some(dir)
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// How long one command may run. The debug binary reads these small files in well under a
/// second; several seconds leave room for a loaded machine, and catch work out of proportion
/// to the file (a damaged length read as 10^12 rows).
fn timeout() -> Duration {
    Duration::from_secs(env_number("SONATA_CENSUS_CORRUPTION_TIMEOUT_S").unwrap_or(8))
}

/// SplitMix64: a few lines, and the same numbers on every platform and crate version, so a
/// seed reproduces a case forever.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, case: u64) -> Rng {
        let mut r = Rng(seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a base file is, hence which commands read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An edge file and one of its populations.
    Edges(&'static str),
    /// A node file and one of its populations.
    Nodes(&'static str),
    /// A circuit folder: the damaged file is `file` of it, the config `config`.
    Circuit { config: &'static str },
    /// A census table file made by `count` from this sample edge file.
    Tables,
}

struct Base {
    /// Path under the samples folder (for `Tables`: the edge file the tables are made from).
    rel: &'static str,
    kind: Kind,
}

const USECASE3: &str = "BlueBrain/sonata-extension/source/usecases/usecase3";

const BASES: &[Base] = &[
    Base {
        rel: "BlueBrain/snap/tests/data/edges.h5",
        kind: Kind::Edges("default"),
    },
    Base {
        rel: "openbraininstitute/libsonata/tests/data/edges1.h5",
        kind: Kind::Edges("edges-AB"),
    },
    Base {
        rel: "openbraininstitute/libsonata/tests/data/edges-no-index.h5",
        kind: Kind::Edges("edges-AB"),
    },
    Base {
        rel: "AllenInstitute/sonata/examples/edges/edge_index_example.h5",
        kind: Kind::Edges("example"),
    },
    Base {
        rel: "openbraininstitute/neurodamus/tests/simulations/ringtest/edges_AB.h5",
        kind: Kind::Edges("RingA__RingB__chemical"),
    },
    Base {
        rel: "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/edges_A.h5",
        kind: Kind::Edges("RingA__RingA__Exp2Syn_synapse"),
    },
    Base {
        rel: "BlueBrain/sonata-extension/source/usecases/usecase2/projections.h5",
        kind: Kind::Edges("VirtualPopA__NodeA__chemical"),
    },
    Base {
        rel: "AllenInstitute/sonata/examples/9_cells/network/excvirt_cortex_edges.h5",
        kind: Kind::Edges("excvirt_to_cortex"),
    },
    Base {
        rel: "BlueBrain/snap/tests/data/nodes.h5",
        kind: Kind::Nodes("default"),
    },
    Base {
        rel: "BlueBrain/snap/tests/data/nodes_with_library_small.h5",
        kind: Kind::Nodes("default"),
    },
    Base {
        rel: "openbraininstitute/libsonata/tests/data/nodes1.h5",
        kind: Kind::Nodes("node-A"),
    },
    Base {
        rel: "AllenInstitute/sonata/examples/300_intfire/network/v1_nodes.h5",
        kind: Kind::Nodes("v1"),
    },
    Base {
        rel: "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/nodes_A.h5",
        kind: Kind::Nodes("RingA"),
    },
    Base {
        rel: "BlueBrain/sonata-extension/source/usecases/usecase3/circuit_sonata.json",
        kind: Kind::Circuit {
            config: "circuit_sonata.json",
        },
    },
    Base {
        rel: "BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5",
        kind: Kind::Circuit {
            config: "circuit_sonata.json",
        },
    },
    Base {
        rel: "BlueBrain/sonata-extension/source/usecases/usecase3/edges_AB.h5",
        kind: Kind::Circuit {
            config: "circuit_sonata.json",
        },
    },
    Base {
        rel: "BlueBrain/snap/tests/data/edges.h5",
        kind: Kind::Tables,
    },
    Base {
        rel: "openbraininstitute/neurodamus/tests/simulations/ringtest/edges_AB.h5",
        kind: Kind::Tables,
    },
];

/// A damage pattern, applied to a copy of a base file.
#[derive(Debug, Clone)]
enum Damage {
    /// XOR these bytes at these offsets.
    Flip(Vec<(u64, u8)>),
    /// Zero `len` bytes from `at`.
    Zero { at: u64, len: u64 },
    /// Set `len` bytes from `at` to 0xFF (lengths and addresses become huge).
    Ones { at: u64, len: u64 },
    /// Keep only the first `len` bytes.
    Truncate(u64),
}

impl Damage {
    /// A seeded damage of a file of `size` bytes. Half the offsets fall in the first 4 KiB, where
    /// an HDF5 file keeps its superblock, root group and most object headers.
    fn random(rng: &mut Rng, size: u64) -> Damage {
        let size = size.max(1);
        let offset = |rng: &mut Rng| {
            if rng.below(2) == 0 {
                rng.below(size.min(4096))
            } else {
                rng.below(size)
            }
        };
        match rng.below(8) {
            0..=3 => {
                let n = 1 + rng.below(32);
                let flips = (0..n)
                    .map(|_| (offset(rng), 1 + rng.below(255) as u8))
                    .collect();
                Damage::Flip(flips)
            }
            4 => Damage::Zero {
                at: offset(rng),
                len: 1 + rng.below(256),
            },
            5 | 6 => Damage::Ones {
                at: offset(rng),
                len: 1 + rng.below(8),
            },
            _ => Damage::Truncate(rng.below(size)),
        }
    }

    fn apply(&self, data: &mut Vec<u8>) {
        let n = data.len() as u64;
        match self {
            Damage::Flip(flips) => {
                for &(at, x) in flips {
                    if at < n {
                        data[at as usize] ^= x;
                    }
                }
            }
            Damage::Zero { at, len } | Damage::Ones { at, len } => {
                let value = if matches!(self, Damage::Zero { .. }) {
                    0
                } else {
                    0xFF
                };
                let end = (at + len).min(n);
                for b in &mut data[(*at).min(n) as usize..end as usize] {
                    *b = value;
                }
            }
            Damage::Truncate(len) => data.truncate((*len).min(n) as usize),
        }
    }
}

/// Damage patterns that crashed HDF5 or this crate once: `(base file, damage)`, run every time.
fn pinned() -> Vec<(&'static str, Kind, Damage)> {
    PINNED
        .iter()
        .map(|(rel, kind, damage)| (*rel, *kind, damage()))
        .collect()
}

type Pinned = (&'static str, Kind, fn() -> Damage);

const PINNED: &[Pinned] = &[
    // A damaged `node_population` string: invalid UTF-8 was printed raw by `info`.
    (
        "openbraininstitute/libsonata/tests/data/edges-no-index.h5",
        Kind::Edges("edges-AB"),
        || {
            Damage::Flip(vec![
                (1178, 206),
                (15083, 181),
                (8654, 126),
                (17016, 28),
                (8227, 207),
                (17383, 185),
                (11404, 225),
                (3869, 127),
                (2230, 249),
                (15758, 171),
                (2388, 214),
                (1134, 199),
                (3102, 214),
                (4710, 219),
            ])
        },
    ),
    // The global heap reference of `node_population` set to 0xFF..: HDF5 asserts on the address
    // (an abort in builds with C assertions).
    (
        "BlueBrain/sonata-extension/source/usecases/usecase2/projections.h5",
        Kind::Edges("VirtualPopA__NodeA__chemical"),
        || Damage::Ones { at: 14932, len: 8 },
    ),
    // Zeroed global heap objects: HDF5's heap decoder loops for ever (every command hung).
    (
        "openbraininstitute/libsonata/tests/data/edges1.h5",
        Kind::Edges("edges-AB"),
        || Damage::Zero { at: 8016, len: 129 },
    ),
    (
        "openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/nodes_A.h5",
        Kind::Nodes("RingA"),
        || Damage::Zero { at: 7749, len: 157 },
    ),
    (
        "BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5",
        Kind::Circuit {
            config: "circuit_sonata.json",
        },
        || Damage::Zero { at: 12635, len: 97 },
    ),
    // Damaged census tables: `report` hung.
    ("BlueBrain/snap/tests/data/edges.h5", Kind::Tables, || {
        Damage::Ones { at: 8423, len: 2 }
    }),
    ("BlueBrain/snap/tests/data/edges.h5", Kind::Tables, || {
        Damage::Flip(vec![(3204, 26), (3612, 140)])
    }),
    // A census table file's heap: `report` hung reading `source_node_population`.
    ("BlueBrain/snap/tests/data/edges.h5", Kind::Tables, || {
        Damage::Ones { at: 2090, len: 7 }
    }),
];

/// One command run on a damaged file, and what is wrong with its outcome.
struct Outcome {
    args: Vec<String>,
    exit: String,
    problems: Vec<String>,
    stderr: String,
}

/// Runs `sonata-census ARGS` in `dir` under the time limit and checks the outcome.
fn run(dir: &Path, args: &[String], output: Option<&Path>) -> Outcome {
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("SONATA_CENSUS_BACKEND", "cpu")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sonata-census");
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let limit = timeout();
    let mut problems = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            problems.push(format!("still running after {limit:?}: killed"));
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let exit = match status {
        None => "timeout".to_string(),
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match (s.code(), s.signal()) {
                (Some(code), _) => code.to_string(),
                (None, Some(sig)) => format!("signal {sig}"),
                (None, None) => "unknown".to_string(),
            }
        }
    };
    let code = status.and_then(|s| s.code());
    match code {
        Some(0 | 2) => {}
        Some(101) => problems.push("panicked (exit 101)".into()),
        _ if status.is_some() => problems.push(format!("ended with {exit}, not 0 or 2")),
        _ => {}
    }
    let stdout_text = std::str::from_utf8(&stdout);
    if stdout_text.is_err() {
        problems.push("stdout is not valid UTF-8".into());
    }
    let stderr_text = match std::str::from_utf8(&stderr) {
        Ok(s) => s.to_string(),
        Err(_) => {
            problems.push("stderr is not valid UTF-8".into());
            String::from_utf8_lossy(&stderr).into_owned()
        }
    };
    if code == Some(2) {
        let lines: Vec<&str> = stderr_text.lines().collect();
        if lines.len() != 1 || !stderr_text.ends_with('\n') {
            problems.push(format!("{} stderr lines, not one", lines.len()));
        }
        if !stderr_text.starts_with("sonata-census: ") {
            problems.push("the error does not start with 'sonata-census: '".into());
        }
        // `info` describes the populations it can read before it fails on the broken ones
        // (README "A broken population does not hide the others"): its stdout must then name
        // the broken population it reports. Every other command prints nothing on failure.
        let is_info = args.iter().any(|a| a == "info");
        if is_info && !stdout.is_empty() {
            let out = stdout_text.unwrap_or_default();
            let marked = if args.iter().any(|a| a == "--json") {
                serde_json::from_str::<serde_json::Value>(out).is_ok_and(|v| {
                    v["broken_populations"]
                        .as_array()
                        .is_some_and(|b| !b.is_empty())
                })
            } else {
                out.contains("error: ")
            };
            if !marked {
                problems.push("info failed but its description marks no broken population".into());
            }
        } else if !stdout.is_empty() {
            problems.push(format!("{} bytes on stdout with the error", stdout.len()));
        }
        if let Some(out) = output
            && let Some(left) = leftovers(out)
        {
            problems.push(format!("failed run left {left}"));
        }
    }
    if code == Some(0)
        && args.iter().any(|a| a == "--json" || a == "query")
        && let Ok(text) = stdout_text
        && serde_json::from_str::<serde_json::Value>(text).is_err()
    {
        problems.push("exit 0 but stdout is not JSON".into());
    }
    Outcome {
        args: args.to_vec(),
        exit,
        problems,
        stderr: stderr_text,
    }
}

/// For a failed `count -o OUT`: the output or a temporary file left in OUT's folder, if any.
fn leftovers(out: &Path) -> Option<String> {
    let dir = out.parent()?;
    let name = out.file_name()?.to_string_lossy().into_owned();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|f| *f == name || (f.contains(&name) && f.ends_with(".partial")))
}

fn s(v: &str) -> String {
    v.to_string()
}

/// The commands that read `file` (in `dir`), with the output path `count`/`report` write to.
fn commands(kind: Kind, file: &str, dir: &Path) -> Vec<(Vec<String>, Option<PathBuf>)> {
    let q = s("-q");
    match kind {
        Kind::Edges(pop) => {
            let p = || vec![s("--population"), s(pop)];
            let out = dir.join("census.h5");
            let mut cmds = vec![
                (vec![q.clone(), s("info"), s(file)], None),
                (vec![q.clone(), s("info"), s(file), s("--json")], None),
                (vec![q.clone(), s("info"), s("--no-scan"), s(file)], None),
                (
                    vec![
                        q.clone(),
                        s("count"),
                        s(file),
                        s("-o"),
                        s("census.h5"),
                        s("--backend"),
                        s("cpu"),
                    ],
                    Some(out),
                ),
            ];
            for (what, extra) in [
                ("counts", vec![s("--targets"), s("0,1,2,3,5,8")]),
                ("conn-counts", vec![s("--targets"), s("0,1,2,3")]),
                ("synapses", vec![s("--gid"), s("1")]),
            ] {
                let mut args = vec![q.clone(), s("query"), s(what), s(file)];
                args.extend(p());
                args.extend(extra);
                cmds.push((args, None));
            }
            cmds
        }
        Kind::Nodes(pop) => {
            let mut cmds = Vec::new();
            for what in [
                vec![s("metypes")],
                vec![s("load")],
                vec![s("load"), s("--stride"), s("2"), s("--offset"), s("1")],
                vec![s("distribute"), s("--stride"), s("3")],
                vec![s("distribute"), s("--by-metype")],
            ] {
                let mut args = vec![q.clone(), s("nodes")];
                args.extend(what);
                args.extend([s(file), s("--population"), s(pop)]);
                cmds.push((args, None));
            }
            cmds.push((vec![q.clone(), s("info"), s(file)], None));
            cmds
        }
        Kind::Circuit { config } => vec![
            (vec![q.clone(), s("dry-run"), s(config)], None),
            (
                vec![
                    q.clone(),
                    s("dry-run"),
                    s(config),
                    s("--json"),
                    s("--ranks"),
                    s("3"),
                ],
                None,
            ),
            (
                vec![
                    q.clone(),
                    s("nodes"),
                    s("metypes"),
                    s(config),
                    s("--population"),
                    s("NodeA"),
                ],
                None,
            ),
        ],
        Kind::Tables => vec![
            (
                vec![q.clone(), s("report"), s(file), s("-o"), s("report")],
                None,
            ),
            (vec![q.clone(), s("info"), s(file)], None),
        ],
    }
}

/// Census table files made once from the sample edge files, by edge file.
fn make_tables(samples: &Path, work: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for base in BASES.iter().filter(|b| b.kind == Kind::Tables) {
        let tables = work.join(format!("tables-{}.h5", out.len()));
        let status = Command::new(bin())
            .args(["-q", "count", "--backend", "cpu", "-o"])
            .arg(&tables)
            .arg(samples.join(base.rel))
            .status()
            .expect("run count");
        assert!(status.success(), "count {} failed", base.rel);
        out.push((base.rel, tables));
    }
    out
}

struct Case {
    label: String,
    base: &'static str,
    kind: Kind,
    damage: Damage,
}

/// Runs one case: damages a copy of its file in a fresh folder, runs every command on it.
/// Returns every outcome, and where the damaged file is kept when a run went wrong.
fn run_case(
    case: &Case,
    samples: &Path,
    tables: &[(&str, PathBuf)],
) -> (Vec<Outcome>, Option<PathBuf>) {
    let dir = tempfile::Builder::new()
        .prefix("corruption-")
        .tempdir()
        .expect("temporary folder");
    let original = match case.kind {
        Kind::Tables => tables
            .iter()
            .find(|(rel, _)| *rel == case.base)
            .map(|(_, p)| p.clone())
            .expect("tables made"),
        _ => samples.join(case.base),
    };
    let name = Path::new(case.base)
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    if let Kind::Circuit { .. } = case.kind {
        // The whole circuit folder, so that the config's relative paths resolve.
        let folder = samples.join(USECASE3);
        for entry in std::fs::read_dir(&folder)
            .expect("circuit folder")
            .flatten()
        {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    let mut data = std::fs::read(&original).expect("read sample");
    case.damage.apply(&mut data);
    std::fs::write(dir.path().join(&name), &data).expect("write damaged copy");
    let mut outcomes = Vec::new();
    for (args, output) in commands(case.kind, &name, dir.path()) {
        let outcome = run(dir.path(), &args, output.as_deref());
        if let Some(out) = &output {
            let _ = std::fs::remove_file(out);
        }
        let _ = std::fs::remove_dir_all(dir.path().join("report"));
        outcomes.push(outcome);
    }
    if outcomes.iter().all(|o| o.problems.is_empty()) {
        return (outcomes, None);
    }
    let kept = dir.keep().join(&name);
    (outcomes, Some(kept))
}

#[derive(Default)]
struct Tally {
    runs: usize,
    exits: std::collections::BTreeMap<String, usize>,
}

#[test]
fn damaged_files_get_one_line_and_exit_2() {
    let Some(samples) = samples() else {
        println!("../shared/sonata_samples not found - skipped");
        return;
    };
    let seed = env_number("SONATA_CENSUS_CORRUPTION_SEED").unwrap_or(DEFAULT_SEED);
    let n_cases =
        env_number("SONATA_CENSUS_CORRUPTION_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let only = env_number("SONATA_CENSUS_CORRUPTION_CASE");
    let work = tempfile::tempdir().expect("temporary folder");
    let tables = make_tables(&samples, work.path());

    let mut cases: Vec<Case> = pinned()
        .into_iter()
        .enumerate()
        .map(|(i, (base, kind, damage))| Case {
            label: format!("pinned case {i}"),
            base,
            kind,
            damage,
        })
        .collect();
    for i in 0..n_cases as u64 {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let base = &BASES[(i % BASES.len() as u64) as usize];
        let size = match base.kind {
            Kind::Tables => {
                let t = tables
                    .iter()
                    .find(|(rel, _)| *rel == base.rel)
                    .expect("tables");
                std::fs::metadata(&t.1).expect("tables").len()
            }
            _ => std::fs::metadata(samples.join(base.rel))
                .expect("sample")
                .len(),
        };
        let mut rng = Rng::new(seed, i);
        cases.push(Case {
            label: format!(
                "SONATA_CENSUS_CORRUPTION_SEED={seed} SONATA_CENSUS_CORRUPTION_CASE={i}"
            ),
            base: base.rel,
            kind: base.kind,
            damage: Damage::random(&mut rng, size),
        });
    }

    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let tally = Mutex::new(Tally::default());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(k) else { break };
                    let (outcomes, kept) = run_case(case, &samples, &tables);
                    {
                        let mut t = tally.lock().expect("tally");
                        t.runs += outcomes.len();
                        for o in &outcomes {
                            *t.exits.entry(o.exit.clone()).or_default() += 1;
                        }
                    }
                    let kept = kept.unwrap_or_default();
                    for o in outcomes.iter().filter(|o| !o.problems.is_empty()) {
                        let text = format!(
                            "{} ({} {:?} of {}): `sonata-census {}` -> {}: {}\n    stderr: {}\n    damaged file kept: {}",
                            case.label,
                            match case.kind {
                                Kind::Tables => "tables from",
                                _ => "",
                            },
                            case.damage,
                            case.base,
                            o.args.join(" "),
                            o.exit,
                            o.problems.join("; "),
                            o.stderr.trim_end().replace('\n', "\n            "),
                            kept.display()
                        );
                        eprintln!("{text}");
                        failures.lock().expect("failures").push(text);
                    }
                }
            });
        }
    });
    let t = tally.into_inner().expect("tally");
    let failures = failures.into_inner().expect("failures");
    let exits: Vec<String> = t.exits.iter().map(|(e, n)| format!("{e}: {n}")).collect();
    println!(
        "corruption corpus: seed {seed}, {} cases, {} runs ({}), {} failed runs, {:.1} s",
        cases.len(),
        t.runs,
        exits.join(", "),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} runs on damaged files went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
