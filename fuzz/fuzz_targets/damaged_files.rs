//! Real SONATA files damaged by the fuzzer's bytes, read through the library as the CLI's
//! reading commands do (`info`, the census, `query`, `nodes load`): every read must return a
//! value or a typed error. A crash, an abort, a panic or a hang (libFuzzer's `-timeout`) is a
//! finding. The input's first byte picks a sample file of `../shared/sonata_samples`; the rest is
//! a list of edits `(offset: u32 LE, byte)`: XOR the byte at the offset, or truncate there when
//! the byte is 0.
//! `tests/corruption.rs` runs the same kind of damage through the CLI with a fixed seed.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sonata_census::neurodamus::cell_readers::load::{LoadOptions, load_sonata};
use sonata_census::sonata::nodes::NodeFile;
use sonata_census::census::{Backend, CensusOptions, census_population};
use sonata_census::neurodamus::synapse_reader::{ReaderOptions, SonataReader};
use sonata_census::progress::Progress;
use sonata_census::EdgeFile;

/// Sample files: `(path under the samples folder, whether it is a node file)`.
const SAMPLES: &[(&str, bool)] = &[
    ("BlueBrain/snap/tests/data/edges.h5", false),
    ("openbraininstitute/libsonata/tests/data/edges1.h5", false),
    ("openbraininstitute/libsonata/tests/data/edges-no-index.h5", false),
    ("AllenInstitute/sonata/examples/edges/edge_index_example.h5", false),
    ("openbraininstitute/neurodamus/tests/simulations/ringtest/edges_AB.h5", false),
    ("BlueBrain/sonata-extension/source/usecases/usecase2/projections.h5", false),
    ("BlueBrain/snap/tests/data/nodes.h5", true),
    ("BlueBrain/snap/tests/data/nodes_with_library_small.h5", true),
    ("openbraininstitute/libsonata/tests/data/nodes1.h5", true),
    ("openbraininstitute/neurodamus/tests/simulations/ringtest_allen_v1/nodes_A.h5", true),
];

fn samples() -> &'static Vec<(Vec<u8>, bool)> {
    static DATA: OnceLock<Vec<(Vec<u8>, bool)>> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/sonata_samples");
        SAMPLES
            .iter()
            .map(|(rel, nodes)| {
                let data = std::fs::read(dir.join(rel))
                    .unwrap_or_else(|e| panic!("{}: {e} (the samples are needed)", rel));
                (data, *nodes)
            })
            .collect()
    })
}

/// This process's scratch file (in /dev/shm when there is one).
fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("sonata-census-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir.join("damaged.h5")
    })
}

fn damage(input: &[u8]) -> Option<(Vec<u8>, bool)> {
    let (&pick, mut edits) = input.split_first()?;
    let (original, nodes) = &samples()[pick as usize % SAMPLES.len()];
    let mut data = original.clone();
    while edits.len() >= 5 {
        let offset = u32::from_le_bytes([edits[0], edits[1], edits[2], edits[3]]) as usize;
        let value = edits[4];
        edits = &edits[5..];
        if data.is_empty() {
            break;
        }
        let at = offset % data.len();
        if value == 0 {
            // XOR with 0 changes nothing: it stands for a truncation here.
            data.truncate(at);
        } else {
            data[at] ^= value;
        }
    }
    Some((data, *nodes))
}

fn read_edges(path: &Path) {
    let _ = sonata_census::info::describe(path, true, &Progress::hidden());
    let Ok(file) = EdgeFile::open(path) else {
        return;
    };
    let Ok(names) = file.population_names() else {
        return;
    };
    for name in names {
        let Ok(pop) = file.population(&name) else {
            continue;
        };
        let options = CensusOptions {
            backend: Backend::Cpu,
            ..CensusOptions::default()
        };
        let _ = census_population(&pop, &options, &Progress::hidden());
        if let Ok(mut reader) = SonataReader::open(path, Some(&name), ReaderOptions::default()) {
            let _ = reader.get_counts(&[0, 1, 2, 3, 5]);
            let _ = reader.get_conn_counts(&[0, 1, 2]);
        }
    }
}

fn read_nodes(path: &Path) {
    let Ok(file) = NodeFile::open(path) else {
        return;
    };
    let Ok(names) = file.population_names() else {
        return;
    };
    for name in names {
        let Ok(pop) = file.population(&name) else {
            continue;
        };
        let _ = load_sonata(&pop, None, &LoadOptions::default());
        if let Ok(attributes) = pop.attribute_names() {
            let ids: Vec<u64> = (0..pop.size().min(64)).collect();
            for a in attributes {
                let _ = pop.attribute(&a, &ids);
            }
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((data, nodes)) = damage(input) else {
        return;
    };
    let path = scratch();
    if std::fs::write(path, &data).is_err() {
        return;
    }
    if nodes {
        read_nodes(path);
    } else {
        read_edges(path);
    }
});
