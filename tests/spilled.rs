//! The census whose connection table goes to disk as it is counted
//! (`census_population_spilled` + `CensusWriter::write_spilled`, what `count` uses): the file it
//! writes is byte-identical to the in-memory census's, its tables equal the naive reference, and
//! no spill file is left behind. The CPU engine's alone: the GPU engine's connection table is in
//! memory, and the GPU's census is written with `CensusWriter::write`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

use common::{Ids, Rng, naive_census, write_edges};
use sonata_census::EdgeFile;
use sonata_census::census::output::CensusWriter;
use sonata_census::census::reader::read_census;
use sonata_census::census::{Backend, CensusOptions, census_population, census_population_spilled};
use sonata_census::progress::Progress;

#[test]
fn spilled_census_writes_the_same_bytes_as_the_in_memory_one() {
    let dir = tempfile::tempdir().unwrap();
    let spill_dir = dir.path().join("spill");
    std::fs::create_dir(&spill_dir).unwrap();
    let mut rng = Rng(7);
    for (case, (n, order)) in [
        (0usize, "sorted"),
        (1, "sorted"),
        (5000, "sorted"),
        (5000, "target-sorted"),
        (5000, "shuffled"),
    ]
    .into_iter()
    .enumerate()
    {
        let n_targets = 40;
        let mut pairs: Vec<(u64, u64)> = (0..n)
            .map(|_| (rng.below(n_targets), rng.below(6) * 3))
            .collect();
        match order {
            "sorted" => pairs.sort_unstable(),
            "target-sorted" => pairs.sort_by_key(|p| p.0),
            _ => {}
        }
        let targets: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        let sources: Vec<u64> = pairs.iter().map(|p| p.1).collect();
        let path = dir.path().join(format!("e{case}.h5"));
        write_edges(&path, "p", &sources, &targets, Ids::U64);
        let file = EdgeFile::open(&path).unwrap();
        let pop = file.population("p").unwrap();
        for (chunk_len, spill_above) in [(3usize, 0u64), (64, 0), (1 << 18, 0), (7, 5000)] {
            let options = CensusOptions {
                nodes_count: Some(n_targets),
                chunk_len,
                spill_dir: Some(spill_dir.clone()),
                backend: Backend::Cpu,
                ..Default::default()
            };
            let what = format!(
                "case {case} ({n} edges, {order}), chunks of {chunk_len}, spill above {spill_above}"
            );
            let progress = Progress::hidden();
            let memory = census_population(&pop, &options, &progress).unwrap();
            let (census, spilled) =
                census_population_spilled(&pop, &options, &progress, &mut Vec::new(), spill_above)
                    .unwrap();
            // Every order spills its table once the tables exceed `spill_above` bytes (12 per
            // connection, 16 per target); shuffled input is bucketed here (the pairs fit the
            // default memory budget), which spills as the sorted pass does.
            let connections = memory.connection_count();
            let spills = connections > 0 && 12 * connections + 16 * n_targets > spill_above;
            assert_eq!(spilled.is_some(), spills, "{what}");
            if let Some(table) = &spilled {
                assert!(census.source_node_id.is_empty() && census.synapse_count.is_empty());
                assert_eq!(table.len(), memory.connection_count(), "{what}");
            }
            assert_eq!(
                census.connection_count(),
                memory.connection_count(),
                "{what}"
            );
            assert_eq!(census.target_offsets, memory.target_offsets, "{what}");
            assert_eq!(
                census.synapses_per_connection, memory.synapses_per_connection,
                "{what}"
            );
            let (a, b) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
            let mut w = CensusWriter::create(&a, true).unwrap();
            w.write(&memory).unwrap();
            w.finish().unwrap();
            let mut w = CensusWriter::create(&b, true).unwrap();
            w.write_spilled(&census, spilled.as_ref()).unwrap();
            w.finish().unwrap();
            drop(spilled);
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{what}"
            );
            let back = read_census(&b, "p").unwrap();
            let want = naive_census(&sources, &targets, Some(n_targets));
            assert_eq!(back.source_node_id, want.source_node_id, "{what}");
            assert_eq!(back.synapse_count, want.synapse_count, "{what}");
            assert_eq!(
                back.synapses_per_connection, want.synapses_per_connection,
                "{what}"
            );
            assert_eq!(
                std::fs::read_dir(&spill_dir).unwrap().count(),
                0,
                "{what}: spill files left behind"
            );
        }
    }
}
