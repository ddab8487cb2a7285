//! The census of every edge population in `../shared/sonata_samples` (real files from public
//! projects) equals the naive reference computed from the raw id columns, and agrees with the
//! counts the original neurodamus 4.2.9 code produced for the neurodamus sample files
//! (`../shared/reference/neurodamus_outputs_public.json`). Skips, saying so, when the shared
//! folder is absent. Both run on every engine ([`engine_tests!`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{Engine, assert_same_tables, engine_tests, naive_census, samples_dir};
use sonata_census::census::CensusOptions;
use sonata_census::{EdgeFile, Error};

engine_tests! {
    fn every_sample_population_matches_the_naive_reference;
    fn counts_agree_with_neurodamus_reference_outputs;
}

fn h5_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            h5_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "h5") {
            out.push(p);
        }
    }
}

fn read_ids(ds: &hdf5::Dataset) -> Vec<u64> {
    ds.read_raw::<i64>()
        .unwrap()
        .into_iter()
        .map(|v| u64::try_from(v).unwrap())
        .collect()
}

fn target_index_len(group: &hdf5::Group) -> Option<u64> {
    ["node_id_to_ranges", "node_id_to_range"]
        .iter()
        .find_map(|n| {
            group
                .dataset(&format!("indices/target_to_source/{n}"))
                .ok()
                .map(|d| d.shape()[0] as u64)
        })
}

fn every_sample_population_matches_the_naive_reference(engine: Engine) {
    let Some(dir) = samples_dir() else { return };
    let mut files = Vec::new();
    h5_files(&dir, &mut files);
    let mut counted = 0;
    for path in files {
        let h5 = hdf5::File::open(&path).unwrap();
        let Ok(edges) = h5.group("edges") else {
            continue;
        };
        let file = EdgeFile::open(&path).unwrap();
        for name in file.population_names().unwrap() {
            let g = edges.group(&name).unwrap();
            let what = format!("{}:{name}", path.display());
            if !g.link_exists("source_node_id") {
                // libsonata's edges1.h5 has a deliberately broken population without ids.
                let err = file.population(&name).unwrap_err();
                assert!(matches!(err, Error::InvalidData { .. }), "{what}: {err}");
                assert!(err.to_string().contains("source_node_id"), "{what}: {err}");
                continue;
            }
            let sources = read_ids(&g.dataset("source_node_id").unwrap());
            let targets = read_ids(&g.dataset("target_node_id").unwrap());
            let want = naive_census(&sources, &targets, target_index_len(&g));
            // Single-row chunks test the CPU engine's run merging; on the GPU each chunk is a
            // batch of its own (one row per batch took minutes on lavapipe), so its runs cross
            // 97-row chunks instead.
            let chunk_lens: &[usize] = match engine {
                Engine::Cpu => &[1, 5, 1 << 20],
                Engine::Gpu => &[97, 1 << 20],
            };
            for &chunk_len in chunk_lens {
                let options = CensusOptions {
                    chunk_len,
                    ..Default::default()
                };
                let what = format!("{engine:?}: {what} chunk {chunk_len}");
                let got = engine
                    .census(&path, &name, &options)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_same_tables(&got, &want, &what);
            }
            counted += 1;
        }
    }
    // 17 populations with ids in the samples (see shared/spec/sonata-format.md §3).
    assert!(counted >= 15, "only {counted} sample populations counted");
    eprintln!("{counted} sample populations counted");
}

fn counts_agree_with_neurodamus_reference_outputs(engine: Engine) {
    let Some(dir) = samples_dir() else { return };
    let reference = dir.join("../reference/neurodamus_outputs_public.json");
    let text = std::fs::read_to_string(&reference).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for (key, entry) in json.as_object().unwrap() {
        if key == "_meta" {
            continue;
        }
        let population = key.rsplit(':').next().unwrap();
        let path = dir.join(entry["sample_path"].as_str().unwrap());
        let census = engine
            .census(&path, population, &CensusOptions::default())
            .unwrap();
        assert_eq!(
            census.n_targets,
            entry["n_target_index_nodes"].as_u64().unwrap(),
            "{key}"
        );
        for (gid, count) in entry["get_counts"].as_object().unwrap() {
            let gid: u64 = gid.parse().unwrap();
            let ours = census
                .target_synapse_count
                .get(gid as usize)
                .copied()
                .unwrap_or(0);
            assert_eq!(ours, count.as_u64().unwrap(), "{key}: get_counts[{gid}]");
        }
        for (gid, conns) in entry["get_conn_counts"].as_object().unwrap() {
            let gid: u64 = gid.parse().unwrap();
            let mut ours: Vec<(u64, u64)> = census
                .connections_of(gid)
                .map(|(s, c)| (s, u64::from(c)))
                .collect();
            let mut theirs: Vec<(u64, u64)> = conns
                .as_object()
                .unwrap()
                .iter()
                .map(|(s, c)| (s.parse().unwrap(), c.as_u64().unwrap()))
                .collect();
            ours.sort_unstable();
            theirs.sort_unstable();
            assert_eq!(ours, theirs, "{key}: get_conn_counts[{gid}]");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} reference gids checked");
}
