//! Shared test fixtures: tiny SONATA edge files written with the hdf5 crate, the naive
//! reference census (a BTreeMap count) every engine is compared with, and [`Engine`] with
//! [`engine_tests!`], which run one census test body on every engine (as cubecl and vello test
//! their backends). Proptest's shared configuration is in `props.rs`, apart because the fuzz
//! crate shares this module without proptest.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hdf5::types::VarLenUnicode;
use sonata_census::census::{Backend, CensusOptions, Note, census_population_noted};
use sonata_census::progress::Progress;
use sonata_census::{Census, EdgeFile};

/// Storage of id columns in a fixture.
#[derive(Debug, Clone, Copy)]
pub enum Ids {
    U64,
    I64,
    U32,
}

/// Writes `/edges/<pop>/{source,target}_node_id` with `node_population` attributes.
pub fn write_edges(path: &Path, pop: &str, sources: &[u64], targets: &[u64], ids: Ids) {
    let file = if path.exists() {
        hdf5::File::open_rw(path).unwrap()
    } else {
        hdf5::File::create(path).unwrap()
    };
    let g = file.create_group(&format!("edges/{pop}")).unwrap();
    for (name, data, popname) in [
        ("source_node_id", sources, "src"),
        ("target_node_id", targets, "tgt"),
    ] {
        let ds = match ids {
            Ids::U64 => g
                .new_dataset_builder()
                .with_data(data)
                .create(name)
                .unwrap(),
            Ids::I64 => {
                let v: Vec<i64> = data.iter().map(|&x| x as i64).collect();
                g.new_dataset_builder().with_data(&v).create(name).unwrap()
            }
            Ids::U32 => {
                let v: Vec<u32> = data.iter().map(|&x| x as u32).collect();
                g.new_dataset_builder().with_data(&v).create(name).unwrap()
            }
        };
        let v: VarLenUnicode = popname.parse().unwrap();
        ds.new_attr::<VarLenUnicode>()
            .create("node_population")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    }
}

/// Writes a libsonata-style `indices/target_to_source` for `n_targets` nodes.
pub fn write_target_index(path: &Path, pop: &str, targets: &[u64], n_targets: u64) {
    let file = hdf5::File::open_rw(path).unwrap();
    let g = file
        .create_group(&format!("edges/{pop}/indices/target_to_source"))
        .unwrap();
    let mut per_node: Vec<Vec<[u64; 2]>> = vec![Vec::new(); n_targets as usize];
    let mut i = 0;
    while i < targets.len() {
        let mut j = i + 1;
        while j < targets.len() && targets[j] == targets[i] {
            j += 1;
        }
        per_node[targets[i] as usize].push([i as u64, j as u64]);
        i = j;
    }
    let mut node_rows = Vec::new();
    let mut ranges = Vec::new();
    for r in per_node {
        let a = ranges.len() as u64;
        ranges.extend(r);
        node_rows.push([a, ranges.len() as u64]);
    }
    let n2r = ndarray::Array2::from_shape_vec((node_rows.len(), 2), node_rows.concat()).unwrap();
    let r2e = ndarray::Array2::from_shape_vec((ranges.len(), 2), ranges.concat()).unwrap();
    g.new_dataset_builder()
        .with_data(&n2r)
        .create("node_id_to_ranges")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&r2e)
        .create("range_to_edge_id")
        .unwrap();
}

/// The census computed the obvious way, for `n_targets` targets (None: max target + 1).
pub fn naive_census(sources: &[u64], targets: &[u64], n_targets: Option<u64>) -> Census {
    let mut pairs: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for (&s, &t) in sources.iter().zip(targets) {
        *pairs.entry((t, s)).or_default() += 1;
    }
    let n = n_targets.unwrap_or_else(|| targets.iter().max().map_or(0, |m| m + 1));
    let mut syn = vec![0u64; n as usize];
    let mut conn = vec![0u64; n as usize];
    let mut src = Vec::new();
    let mut cnt = Vec::new();
    for (&(t, s), &c) in &pairs {
        syn[t as usize] += c;
        conn[t as usize] += 1;
        src.push(s);
        cnt.push(c as u32);
    }
    let mut offsets = vec![0u64];
    for &c in &conn {
        offsets.push(offsets.last().unwrap() + c);
    }
    let max = cnt.iter().copied().max().unwrap_or(0) as usize;
    let mut hist = vec![0u64; max + 1];
    for &c in &cnt {
        hist[c as usize] += 1;
    }
    let by_target = targets.windows(2).all(|w| w[0] <= w[1]);
    let by_target_source = by_target
        && sources
            .iter()
            .zip(targets)
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| (w[0].1, w[0].0) <= (w[1].1, w[1].0));
    Census {
        population: String::new(),
        source_population: None,
        target_population: None,
        edge_count: sources.len() as u64,
        n_targets: n,
        sortedness: sonata_census::census::Sortedness {
            by_target,
            by_target_source,
        },
        target_synapse_count: syn,
        target_connection_count: conn,
        target_offsets: offsets,
        source_node_id: src,
        synapse_count: cnt,
        synapses_per_connection: hist,
        target_nsyns_total: None,
        backend: sonata_census::census::CountedBy::Unrecorded,
    }
}

/// Asserts that `got` has exactly the tables of `want` (metadata other than counts ignored).
pub fn assert_same_tables(got: &Census, want: &Census, what: &str) {
    assert_eq!(got.n_targets, want.n_targets, "{what}: n_targets");
    assert_eq!(got.edge_count, want.edge_count, "{what}: edge_count");
    assert_eq!(
        got.target_synapse_count, want.target_synapse_count,
        "{what}: target_synapse_count"
    );
    assert_eq!(
        got.target_connection_count, want.target_connection_count,
        "{what}: target_connection_count"
    );
    assert_eq!(
        got.target_offsets, want.target_offsets,
        "{what}: target_offsets"
    );
    assert_eq!(
        got.source_node_id, want.source_node_id,
        "{what}: source_node_id"
    );
    assert_eq!(
        got.synapse_count, want.synapse_count,
        "{what}: synapse_count"
    );
    assert_eq!(
        got.synapses_per_connection, want.synapses_per_connection,
        "{what}: synapses_per_connection"
    );
    assert_eq!(got.sortedness, want.sortedness, "{what}: sortedness");
}

/// A seeded SplitMix64 stream (no dependency on rand's algorithm choices).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The shared sample folder, when present (CI has it). Prints why tests skip otherwise.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sonata_samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("../shared/sonata_samples is absent: sample-file checks skipped");
        None
    }
}

/// Serialises spawning processes with writing HDF5 files, within one test binary. A child forked
/// while another test thread holds a freshly written HDF5 file open inherits that descriptor,
/// and with it HDF5's `flock`, until it exits; a later open of that file then fails with "unable
/// to lock file". Wrap every fixture write and every `Command::output()` of a test that spawns
/// the binary in `locked`.
pub static FORK_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` holding [`FORK_LOCK`].
pub fn locked<T>(f: impl FnOnce() -> T) -> T {
    let _guard = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Writes `edges/<pop>/indices/<direction>/{node_id_to_ranges, range_to_edge_id}` exactly as
/// given (no checks), for fixtures of broken indices. `direction` is `target_to_source` or
/// `source_to_target`.
pub fn write_raw_index(
    path: &Path,
    pop: &str,
    direction: &str,
    node_id_to_ranges: &[[u64; 2]],
    range_to_edge_id: &[[u64; 2]],
) {
    let file = hdf5::File::open_rw(path).unwrap();
    let g = file
        .create_group(&format!("edges/{pop}/indices/{direction}"))
        .unwrap();
    for (name, rows) in [
        ("node_id_to_ranges", node_id_to_ranges),
        ("range_to_edge_id", range_to_edge_id),
    ] {
        let a = ndarray::Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
        g.new_dataset_builder().with_data(&a).create(name).unwrap();
    }
}

/// Environment variables that steer the tool; [`bin`] removes them so that each test says what
/// it wants.
const TOOL_ENV: &[&str] = &[
    "SONATA_CENSUS_BACKEND",
    "SONATA_CENSUS_GPU_FAULT",
    "SONATA_CENSUS_GPU_MEMORY_LIMIT",
    "SONATA_CENSUS_GPU_ALLOW_SOFTWARE",
    "SONATA_CENSUS_GPU_MIN_EDGES",
    "SONATA_CENSUS_TEST_IGNORE_INTERRUPT",
    "RAYON_NUM_THREADS",
    "HDF5_USE_FILE_LOCKING",
];

/// The `sonata-census` binary of this build, with [`TOOL_ENV`] removed. Only integration tests
/// have the binary (the fuzz crate shares this module without it).
pub fn bin() -> std::process::Command {
    let Some(exe) = option_env!("CARGO_BIN_EXE_sonata-census") else {
        panic!("the sonata-census binary is only built for integration tests");
    };
    let mut c = std::process::Command::new(exe);
    for var in TOOL_ENV {
        c.env_remove(var);
    }
    c
}

/// A path as a command-line argument (test paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The names in a folder, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list the folder")
        .map(|e| {
            e.expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// Whether a GPU adapter (software ones included) exists; prints why not, and fails when
/// `SONATA_CENSUS_REQUIRE_GPU=1`. An adapter that cannot run the engine is a failure.
pub fn gpu_available() -> bool {
    gpu_context().is_some()
}

/// The process-wide shared context (any adapter, software included: the one the engine itself
/// uses, so a test process opens one device), or None after saying why; panics when
/// SONATA_CENSUS_REQUIRE_GPU=1 and there is none.
pub fn gpu_context() -> Option<&'static sonata_census::gpu::GpuContext> {
    use sonata_census::gpu::{AdapterChoice, GpuContext, SharedContext, shared_context};
    use std::sync::{Arc, OnceLock};
    static CTX: OnceLock<Option<Arc<GpuContext>>> = OnceLock::new();
    CTX.get_or_init(|| match shared_context(AdapterChoice::Any) {
        Ok(SharedContext::Ready(ctx)) => Some(ctx),
        Ok(SharedContext::Unavailable(why)) => {
            assert!(
                std::env::var("SONATA_CENSUS_REQUIRE_GPU").as_deref() != Ok("1"),
                "no GPU adapter ({why}), and SONATA_CENSUS_REQUIRE_GPU=1"
            );
            eprintln!("no GPU adapter - skipped ({why})");
            None
        }
        // An adapter that cannot run the engine is a failure, not a skip.
        Err(e) => panic!("{e}"),
    })
    .as_deref()
}

/// Random edges (sources, targets) of a chosen shape: `sorted`, `target-sorted`, `shuffled`, or
/// `skewed` (70 % of edges on target 3, sorted), with few distinct sources per target.
pub fn random_edges(
    rng: &mut Rng,
    n: usize,
    n_targets: u64,
    n_sources: u64,
    shape: &str,
) -> (Vec<u64>, Vec<u64>) {
    let mut pairs: Vec<(u64, u64)> = (0..n)
        .map(|_| {
            let t = match shape {
                // 70% of edges on target 3: contention / huge runs.
                "skewed" if rng.below(10) < 7 => 3.min(n_targets - 1),
                _ => rng.below(n_targets),
            };
            // Few distinct sources per target, so connections have several synapses.
            let s = rng.below(n_sources.min(8)) * (n_sources / 8).max(1);
            (t, s)
        })
        .collect();
    match shape {
        "sorted" | "skewed" => pairs.sort_unstable_by_key(|&(t, s)| (t, s)),
        "target-sorted" => pairs.sort_by_key(|&(t, _)| t),
        _ => {}
    }
    (
        pairs.iter().map(|p| p.1).collect(),
        pairs.iter().map(|p| p.0).collect(),
    )
}

/// Writes a bmtk `nsyns` column for the edges of `pop` (one attribute group `0` holding every
/// edge).
pub fn write_nsyns(path: &Path, pop: &str, nsyns: &[u64]) {
    let file = hdf5::File::open_rw(path).unwrap();
    let g = file.group(&format!("edges/{pop}")).unwrap();
    let n = nsyns.len() as u64;
    g.new_dataset_builder()
        .with_data(&vec![0u64; nsyns.len()])
        .create("edge_group_id")
        .unwrap();
    g.new_dataset_builder()
        .with_data(&(0..n).collect::<Vec<u64>>())
        .create("edge_group_index")
        .unwrap();
    g.create_group("0")
        .unwrap()
        .new_dataset_builder()
        .with_data(nsyns)
        .create("nsyns")
        .unwrap();
}

/// The census engine a test runs on. Every census behaviour test is one function of the engine,
/// instantiated for each by [`engine_tests!`]; the backend is always explicit, so what a test
/// checks never depends on the environment (`SONATA_CENSUS_GPU_MIN_EDGES` steers `auto` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `Backend::Cpu`, the reference engine.
    Cpu,
    /// `Backend::Gpu` (any adapter, lavapipe included).
    Gpu,
}

impl Engine {
    /// The backend that selects this engine.
    pub fn backend(self) -> Backend {
        match self {
            Engine::Cpu => Backend::Cpu,
            Engine::Gpu => Backend::Gpu,
        }
    }

    /// `options` with this engine's backend.
    pub fn options(self, options: &CensusOptions) -> CensusOptions {
        CensusOptions {
            backend: self.backend(),
            ..options.clone()
        }
    }

    /// The census of population `pop` of `path` on this engine (the backend of `options` is
    /// replaced by this engine's).
    pub fn census(
        self,
        path: &Path,
        pop: &str,
        options: &CensusOptions,
    ) -> sonata_census::Result<Census> {
        self.census_noted(path, pop, options)
            .map(|(census, _)| census)
    }

    /// [`Engine::census`] and the notes of the run (notices, the `gpu:` strategy line).
    pub fn census_noted(
        self,
        path: &Path,
        pop: &str,
        options: &CensusOptions,
    ) -> sonata_census::Result<(Census, Vec<Note>)> {
        let file = EdgeFile::open(path)?;
        let pop = file.population(pop)?;
        let mut notes = Vec::new();
        let census = census_population_noted(
            &pop,
            &self.options(options),
            &Progress::hidden(),
            &mut notes,
        )?;
        Ok((census, notes))
    }

    /// Asserts that the run of `notes` gave no `notice:` line (fallbacks, warnings).
    pub fn assert_no_notices(self, notes: &[Note], what: &str) {
        let notices: Vec<&str> = notes
            .iter()
            .map(|n| n.text.as_str())
            .filter(|t| t.starts_with("notice: ") || t.starts_with("warning: "))
            .collect();
        assert!(notices.is_empty(), "{what}: {notices:?}");
    }

    /// On the GPU engine, asserts that its `gpu:` line names `strategy` (`sorted`, `unsorted, 3
    /// partitions`, `cpu fallback`); the CPU engine has one way to count each input shape.
    pub fn assert_gpu_strategy(self, notes: &[Note], strategy: &str, what: &str) {
        if self == Engine::Cpu {
            return;
        }
        let line = notes
            .iter()
            .find(|n| n.text.starts_with("gpu: "))
            .map(|n| n.text.as_str());
        assert!(
            line.is_some_and(|l| l.contains(&format!(": {strategy}; "))),
            "{what}: expected strategy '{strategy}' in {line:?}"
        );
    }

    /// Whether this engine can run here: always for the CPU; for the GPU when an adapter exists
    /// ([`gpu_available`] prints that the test skips, and fails under
    /// `SONATA_CENSUS_REQUIRE_GPU=1`).
    pub fn available(self) -> bool {
        match self {
            Engine::Cpu => true,
            Engine::Gpu => gpu_available(),
        }
    }
}

/// Instantiates census test bodies `fn name(engine: Engine)` as `#[test]`s of each engine:
/// `cpu::name` and `gpu::name` (the latter prints that it skipped when there is no adapter).
/// Attributes before a name (`#[ignore]`, docs) go on both.
#[allow(unused_macros)] // test binaries without census bodies share this module
macro_rules! engine_tests {
    ($($(#[$meta:meta])* fn $name:ident;)*) => {
        /// The bodies on the CPU engine.
        mod cpu {
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    super::$name(super::common::Engine::Cpu);
                }
            )*
        }
        /// The bodies on the GPU engine, when an adapter exists.
        mod gpu {
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    if super::common::Engine::Gpu.available() {
                        super::$name(super::common::Engine::Gpu);
                    }
                }
            )*
        }
    };
}
#[allow(unused_imports)] // the fuzz crate shares this module and has no engine tests
pub(crate) use engine_tests;
