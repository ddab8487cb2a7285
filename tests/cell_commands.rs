//! The `nodes` and `dry-run` commands, and the exact dry-run statistics of the ringtest sample
//! files against neurodamus's own counts.
//!
//! Expected values come from hand computation and from `tests/data/neurodamus_cell_readers.json`
//! (neurodamus 4.2.9's own functions) and `shared/reference/neurodamus_outputs_public.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod cell_fixtures;
mod common;

use serde_json::Value;
use sonata_census::neurodamus::cell_readers::retrieve_unique_metypes;
use sonata_census::sonata::config::CircuitConfig;
use sonata_census::sonata::nodes::NodeFile;

use common::{locked, samples_dir};

use cell_fixtures::*;

// ---------------------------------------------------------------------------------------------
// CLI

#[test]
fn cli_nodes_distribute_metypes_load() {
    let dir = tmp();
    let path = dir.path().join("nodes.h5");
    write_bbp_cells(&path);
    let f = path.to_str().unwrap();
    let v = run_json(&[
        "nodes",
        "distribute",
        f,
        "-p",
        "cells",
        "--stride",
        "4",
        "--offset",
        "1",
    ]);
    assert_eq!(v, serde_json::json!([1, 5]));
    let v = run_json(&[
        "nodes",
        "distribute",
        f,
        "-p",
        "cells",
        "--gids",
        "5,3,4,1,2",
        "--stride",
        "2",
    ]);
    assert_eq!(v, serde_json::json!([2, 4, 5]));
    // `-p` may be left out when the file has one population, and gids may come from a file,
    // as `query` takes them.
    let list = dir.path().join("gids.txt");
    std::fs::write(&list, "5\n3\n\n4\n1\n2\n").unwrap();
    let at_list = format!("@{}", list.display());
    for sub in ["distribute", "metypes", "load"] {
        let with_p = run_json(&["nodes", sub, f, "-p", "cells", "--gids", "5,3,4,1,2"]);
        let without = run_json(&["nodes", sub, f, "--gids", &at_list]);
        assert_eq!(with_p, without, "{sub}");
    }
    // The library's split_round_robin takes any id, as neurodamus's; the command line refuses
    // ids beyond the population in every subcommand alike.
    for sub in ["distribute", "metypes", "load"] {
        let (code, out, err) = run(&["nodes", sub, f, "-p", "cells", "--gids", "5,3,9"]);
        assert_eq!(code, 2, "{sub}: {err}");
        assert!(out.is_empty(), "{sub}: {out}");
        assert!(
            err.contains(
                "population 'cells': node id 9 is out of range: the population has 6 nodes"
            ) && err.lines().count() == 1,
            "{sub}: {err}"
        );
    }
    // me-types of the six cells: L4_PC-cADpyr [0,2,5], L4_MC-cNAC [1,4], L23_BTC-cNAC [3].
    let v = run_json(&[
        "nodes",
        "distribute",
        f,
        "-p",
        "cells",
        "--by-metype",
        "--stride",
        "2",
        "--offset",
        "0",
    ]);
    assert_eq!(v, serde_json::json!([0, 2, 5, 3]));
    let (code, out, _) = run(&["nodes", "metypes", f, "-p", "cells", "--gids", "3,4,5,1"]);
    assert_eq!(code, 0);
    // Key order is first-seen order, kept in the JSON text.
    assert_eq!(
        out.trim(),
        r#"{"metypes":{"L23_BTC-cNAC":[3],"L4_MC-cNAC":[4,1],"L4_PC-cADpyr":[5]},"counts":{"L23_BTC-cNAC":1,"L4_MC-cNAC":2,"L4_PC-cADpyr":1}}"#
    );
    let v = run_json(&[
        "nodes",
        "load",
        f,
        "-p",
        "cells",
        "--stride",
        "2",
        "--offset",
        "1",
        "--dynamic-props",
        "layer,@dynamics:AIS_scaler",
    ]);
    assert_eq!(v["total_cells"], 6);
    assert_eq!(v["gids"], serde_json::json!([1, 3, 5]));
    assert_eq!(
        v["cells"]["3"],
        serde_json::json!({
            "morphology": "mA", "mtype": "L23_BTC", "etype": "cNAC", "emodel": "cNAC_noprefix",
            "threshold_current": 3.125, "holding_current": -3.5,
            "exc_mini_frequency": 3.5, "inh_mini_frequency": 3.25,
            "position": [3.0, 13.0, 23.0], "rotation": [0.25, 0.25, 0.25, 0.25],
            "extra": {"AIS_scaler": 4.0, "layer": "L2"}
        })
    );
    let v = run_json(&[
        "nodes",
        "load",
        f,
        "-p",
        "cells",
        "--dry-run",
        "--stride",
        "3",
        "--offset",
        "2",
    ]);
    assert_eq!(v["gids"], serde_json::json!([3]));
    assert_eq!(v["metype_counts"]["L4_PC-cADpyr"], 3);
    assert_eq!(v["cells"].as_object().unwrap().len(), 6);
    // Errors: exit code 2, one line naming the file and population.
    let (code, _, err) = run(&[
        "nodes",
        "load",
        f,
        "-p",
        "cells",
        "--dynamic-props",
        "@dynamics:x",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Required Dynamics property @dynamics:x not present")
            && err.contains("nodes.h5"),
        "{err}"
    );
    let (code, _, err) = run(&["nodes", "metypes", f, "-p", "cells", "--gids", "1,x"]);
    assert_eq!(code, 2, "{err}");
}

/// A circuit whose exact statistics are known by hand.
#[test]
fn cli_dry_run_exact_statistics() {
    let dir = tmp();
    let nodes = dir.path().join("nodes.h5");
    let edges = dir.path().join("edges.h5");
    // Target population "tgt" (the fixture's node_population), me-types A,B,A,C,B,A.
    locked(|| {
        let f = create(&nodes);
        node_population(&f, "tgt", 6)
            .library("mtype", &[0, 1, 0, 2, 1, 0], &["mA", "mB", "mC"])
            .library("etype", &[0; 6], &["e"]);
    });
    // t0: s1 ×2, s2 ×1; t2: s0; t3: s0 ×4; t5: s1, s4.
    let sources = [1, 1, 2, 0, 0, 0, 0, 0, 1, 4];
    let targets = [0, 0, 0, 2, 3, 3, 3, 3, 5, 5];
    locked(|| {
        common::write_edges(
            &edges,
            "tgt__tgt__chemical",
            &sources,
            &targets,
            common::Ids::U64,
        )
    });
    let config = dir.path().join("circuit_config.json");
    std::fs::write(
        &config,
        r#"{"manifest": {"$D": "./"}, "networks": {
            "nodes": [{"nodes_file": "$D/nodes.h5", "populations": {"tgt": {"type": "biophysical"}}}],
            "edges": [{"edges_file": "$D/edges.h5", "populations": {"tgt__tgt__chemical": {"type": "chemical"}}}]}}"#,
    )
    .unwrap();
    let v = run_json(&[
        "dry-run",
        config.to_str().unwrap(),
        "--ranks",
        "2",
        "--json",
        "--backend",
        "cpu",
    ]);
    let p = &v["populations"][0];
    assert_eq!(p["edge_population"], "tgt__tgt__chemical");
    assert_eq!(p["connection_type"], "Synaptic");
    assert_eq!(p["target_cells"], 6);
    assert_eq!(p["synapses"], 10);
    assert_eq!(p["connections"], 6);
    let metypes = p["metypes"].as_array().unwrap();
    let row = |i: usize| {
        let m = &metypes[i];
        (
            m["metype"].as_str().unwrap().to_string(),
            m["cells"].as_u64().unwrap(),
            m["synapses"].as_u64().unwrap(),
            m["connections"].as_u64().unwrap(),
        )
    };
    assert_eq!(row(0), ("mA-e".to_string(), 3, 6, 5));
    assert_eq!(row(1), ("mB-e".to_string(), 2, 0, 0));
    assert_eq!(row(2), ("mC-e".to_string(), 1, 4, 1));
    assert_eq!(metypes[0]["synapses_per_cell"], 2.0);
    let mib = |syn: f64| syn * 1.9 / 1024.0;
    assert!((p["synapse_memory_mib"].as_f64().unwrap() - mib(10.0)).abs() < 1e-12);
    // Round robin: rank 0 has cells 0,2,4 (4 synapses), rank 1 cells 1,3,5 (6).
    let rr = &v["ranks_round_robin"];
    assert_eq!(
        (rr[0]["cells"].as_u64(), rr[0]["synapses"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(
        (rr[1]["cells"].as_u64(), rr[1]["synapses"].as_u64()),
        (Some(3), Some(6))
    );
    assert!((rr[1]["synapse_memory_mib"].as_f64().unwrap() - mib(6.0)).abs() < 1e-12);
    // Me-type bundles: rank 0 has mA and mC (4 cells, 10 synapses), rank 1 mB.
    let mb = &v["ranks_metype_bundles"];
    assert_eq!(
        (mb[0]["cells"].as_u64(), mb[0]["synapses"].as_u64()),
        (Some(4), Some(10))
    );
    assert_eq!(
        (mb[1]["cells"].as_u64(), mb[1]["synapses"].as_u64()),
        (Some(2), Some(0))
    );
    // The text table names every me-type.
    let (code, out, err) = run(&["dry-run", config.to_str().unwrap(), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("mA-e") && out.contains("10 synapses, 6 connections"),
        "{out}"
    );
}

/// Dry-run statistics of the ringtest sample files against neurodamus's own `get_counts` and
/// `get_conn_counts` (`shared/reference/neurodamus_outputs_public.json`), summed per me-type.
#[test]
fn samples_ringtest_dry_run_matches_neurodamus_counts() {
    use sonata_census::census::{Backend, CensusOptions, DEFAULT_CHUNK_LEN, DEFAULT_MEMORY_BUDGET};
    use sonata_census::neurodamus::dry_run::dry_run_stats;
    let Some(dir) = samples_dir() else { return };
    let reference = dir.join("../reference/neurodamus_outputs_public.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        eprintln!("{} is absent: skipped", reference.display());
        return;
    };
    let reference: Value = serde_json::from_str(&text).unwrap();
    let ring = dir.join("openbraininstitute/neurodamus/tests/simulations/ringtest");
    let work = tmp();
    let config = work.path().join("circuit_config.json");
    // The sample folder lacks local_edges_B.h5, so the shipped config cannot be used whole.
    std::fs::write(
        &config,
        serde_json::json!({
            "manifest": {"$RING": ring.to_str().unwrap()},
            "networks": {
                "nodes": [
                    {"nodes_file": "$RING/nodes_A.h5", "populations": {"RingA": {"type": "biophysical"}}},
                    {"nodes_file": "$RING/nodes_B.h5", "populations": {"RingB": {"type": "biophysical"}}}
                ],
                "edges": [
                    {"edges_file": "$RING/local_edges_A.h5", "populations": {"RingA__RingA__chemical": {"type": "chemical"}}},
                    {"edges_file": "$RING/edges_AB.h5", "populations": {"RingA__RingB__chemical": {"type": "chemical"}}},
                    {"edges_file": "$RING/local_edges_C_electrical.h5", "populations": {"RingC__RingC__electrical": {"type": "electrical"}}}
                ]
            }
        })
        .to_string(),
    )
    .unwrap();
    let c = CircuitConfig::open(&config).unwrap();
    let options = CensusOptions {
        nodes_count: None,
        chunk_len: DEFAULT_CHUNK_LEN,
        memory_budget: DEFAULT_MEMORY_BUDGET,
        spill_dir: None,
        backend: Backend::Cpu,
        ..CensusOptions::default()
    };
    let stats = dry_run_stats(
        &c,
        2,
        &options,
        &sonata_census::progress::Progress::hidden(),
    )
    .unwrap();
    for (p, key) in stats.populations.iter().take(2).zip([
        "tests/simulations/ringtest/local_edges_A.h5:RingA__RingA__chemical",
        "tests/simulations/ringtest/edges_AB.h5:RingA__RingB__chemical",
    ]) {
        let r = &reference[key];
        let indexed = r["n_target_index_nodes"].as_u64().unwrap();
        // neurodamus's answer for one gid; gids past the target index have no edges.
        let per_gid = |g: u64| -> (u64, u64) {
            let g_key = g.to_string();
            match r["get_counts"].get(&g_key) {
                Some(n) => (
                    n.as_u64().unwrap(),
                    r["get_conn_counts"][&g_key].as_object().unwrap().len() as u64,
                ),
                None => {
                    assert!(g >= indexed, "{key}: gid {g} is not in the reference");
                    (0, 0)
                }
            }
        };
        let nodes = c.node_population(&p.target_population).unwrap();
        let pop = NodeFile::open(&nodes.file)
            .unwrap()
            .population(&nodes.name)
            .unwrap();
        let all: Vec<u64> = (0..pop.size()).collect();
        let metypes = retrieve_unique_metypes(&pop, &all, &[]).unwrap();
        assert_eq!(p.metypes.len(), metypes.gids.len(), "{key}");
        for (m, (name, gids)) in p.metypes.iter().zip(&metypes.gids) {
            let (s, conns) = gids
                .iter()
                .map(|&g| per_gid(g))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            assert_eq!(
                (&m.metype, m.cells, m.synapses, m.connections),
                (name, gids.len() as u64, s, conns),
                "{key}"
            );
        }
        assert_eq!(p.synapses, r["n_edges"].as_u64().unwrap());
    }
    // RingA: one synapse and one connection per cell; RingB: MTYPE0-ETYPE1 gets the one edge.
    assert_eq!(stats.populations[0].synapses, 3);
    assert_eq!(stats.populations[1].metypes[0].metype, "MTYPE0-ETYPE1");
    assert_eq!(stats.populations[1].metypes[0].synapses, 1);
    // Gap junctions: 2.0 KB each, counted without me-types (RingC is not in the config).
    let gj = &stats.populations[2];
    assert_eq!(gj.connection_type, "GapJunction");
    assert_eq!(gj.synapse_kb, 2.0);
    assert!(gj.metypes.is_empty());
    assert!(
        gj.note.as_deref().unwrap().contains("RingC"),
        "{:?}",
        gj.note
    );
    assert!((gj.synapse_memory_mib - gj.synapses as f64 * 2.0 / 1024.0).abs() < 1e-15);
    // Ranks: RingA (3 cells) and RingB (2 cells), round robin over 2 ranks: rank 0 gets
    // RingA 0, 2 and RingB 0; rank 1 RingA 1 and RingB 1.
    assert_eq!(stats.ranks_round_robin[0].cells, 3);
    assert_eq!(stats.ranks_round_robin[0].synapses, 3);
    assert_eq!(stats.ranks_round_robin[1].cells, 2);
    assert_eq!(stats.ranks_round_robin[1].synapses, 1);
}
