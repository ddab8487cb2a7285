//! neurodamus cell readers: split_round_robin, dry_run_distribution, me-types, Euler rotations,
//! load_sonata (normal and dry-run paths), and both on the sample files. Node files and circuit
//! configs are tested in `node_files.rs`, the `nodes` and `dry-run` commands and the dry-run
//! statistics in `cell_commands.rs`, with the fixtures of `cell_fixtures/`.
//!
//! Expected values come from the spec's examples, from hand computation, and from
//! `tests/data/neurodamus_cell_readers.json`, produced once by neurodamus 4.2.9's own functions
//! (`tests/data/neurodamus_cell_readers.py`, libsonata and NEURON stubbed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod cell_fixtures;
mod common;

use sonata_census::Error;
use sonata_census::neurodamus::cell_readers::load::{CELL_NODE_INFO_LIMIT, euler_xyz_extrinsic};
use sonata_census::neurodamus::cell_readers::{
    LoadOptions, dry_run_distribution, group_metypes, load_sonata, retrieve_unique_metypes,
    split_round_robin,
};
use sonata_census::sonata::config::CircuitConfig;
use sonata_census::sonata::nodes::NodeFile;

use common::{locked, samples_dir};

use cell_fixtures::*;

// ---------------------------------------------------------------------------------------------
// split_round_robin, dry_run_distribution, me-types: spec examples and neurodamus outputs

#[test]
fn split_round_robin_spec_examples() {
    let gids = [5, 3, 9, 1, 7];
    assert_eq!(
        split_round_robin(Some(&gids), 2, 0, None).unwrap(),
        [5, 7, 9]
    );
    assert_eq!(split_round_robin(Some(&gids), 2, 1, None).unwrap(), [1, 3]);
    // Stride 1 ignores the offset and sorts.
    assert_eq!(
        split_round_robin(Some(&gids), 1, 3, None).unwrap(),
        [1, 3, 5, 7, 9]
    );
    assert_eq!(split_round_robin(None, 3, 1, Some(10)).unwrap(), [1, 4, 7]);
    // Generated ids honour the offset even with stride 1.
    assert_eq!(split_round_robin(None, 1, 8, Some(10)).unwrap(), [8, 9]);
    for total in [None, Some(0)] {
        let err = split_round_robin(None, 1, 0, total).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m) if m.contains("total_cells required")));
    }
}

#[test]
fn split_round_robin_matches_neurodamus() {
    let r = reference();
    let cases = r["split_round_robin"].as_array().unwrap();
    assert!(cases.len() > 100);
    for c in cases {
        let stride = c["stride"].as_u64().unwrap();
        let offset = c["offset"].as_u64().unwrap();
        let want = u64s(&c["result"]);
        let got = match c["gids"].as_array() {
            Some(_) => {
                let gids = u64s(&c["gids"]);
                split_round_robin(Some(&gids), stride, offset, None).unwrap()
            }
            None => {
                assert_eq!(c["dtype"], "uint32");
                split_round_robin(None, stride, offset, c["total"].as_u64()).unwrap()
            }
        };
        assert_eq!(got, want, "case {c}");
    }
}

#[test]
fn dry_run_distribution_spec_and_neurodamus() {
    let b = vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![10]];
    assert_eq!(
        dry_run_distribution(&b, 1, 0).unwrap(),
        (1..=10).collect::<Vec<u64>>()
    );
    assert_eq!(dry_run_distribution(&b, 2, 0).unwrap(), [1, 2, 3, 7, 8, 9]);
    assert_eq!(dry_run_distribution(&b, 2, 1).unwrap(), [4, 5, 6, 10]);
    assert!(dry_run_distribution(&[], 0, 0).unwrap().is_empty());
    assert!(dry_run_distribution(&b, 0, 0).is_err());
    let r = reference();
    for c in r["dry_run_distribution"].as_array().unwrap() {
        let bundles: Vec<Vec<u64>> = c["bundles"].as_array().unwrap().iter().map(u64s).collect();
        let got = dry_run_distribution(
            &bundles,
            c["stride"].as_u64().unwrap(),
            c["offset"].as_u64().unwrap(),
        )
        .unwrap();
        assert_eq!(got, u64s(&c["result"]), "case {c}");
    }
}

#[test]
fn metypes_spec_example() {
    let m = group_metypes(
        &[0, 1, 2, 3, 4],
        &["mtype1", "mtype2", "mtype1", "mtype2", "mtype1"],
        &["emodel1", "emodel2", "emodel1", "emodel2", "emodel1"],
        &[],
    )
    .unwrap();
    assert_eq!(
        m.gids,
        vec![
            ("mtype1-emodel1".to_string(), vec![0, 2, 4]),
            ("mtype2-emodel2".to_string(), vec![1, 3])
        ]
    );
    assert_eq!(
        m.counts,
        vec![
            ("mtype1-emodel1".to_string(), 3),
            ("mtype2-emodel2".to_string(), 2)
        ]
    );
}

/// neurodamus's cases, pure and through a node file (mtype as `@library`, etype as strings).
#[test]
fn metypes_match_neurodamus() {
    let r = reference();
    let dir = tmp();
    for (i, c) in r["retrieve_unique_metypes"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mtypes = strs(&c["mtypes"]);
        let etypes = strs(&c["etypes"]);
        let gids = u64s(&c["gids"]);
        let skip = strs(&c["skip"]);
        let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
        let want_gids: Vec<(String, Vec<u64>)> = c["metype_gids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), u64s(&p[1])))
            .collect();
        let want_counts: Vec<(String, u64)> = c["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
            .collect();
        // The fake reader indexes the columns by gid.
        let m_sel: Vec<&str> = gids.iter().map(|&g| mtypes[g as usize].as_str()).collect();
        let e_sel: Vec<&str> = gids.iter().map(|&g| etypes[g as usize].as_str()).collect();
        let pure = group_metypes(&gids, &m_sel, &e_sel, &skip).unwrap();
        assert_eq!(pure.gids, want_gids, "case {i}");
        assert_eq!(pure.counts, want_counts, "case {i}");

        let path = dir.path().join(format!("metypes{i}.h5"));
        locked(|| {
            let f = create(&path);
            let g = node_population(&f, "p", mtypes.len());
            let mut table: Vec<&str> = Vec::new();
            let codes: Vec<u32> = mtypes
                .iter()
                .map(|m| match table.iter().position(|t| t == m) {
                    Some(p) => p as u32,
                    None => {
                        table.push(m);
                        (table.len() - 1) as u32
                    }
                })
                .collect();
            let e: Vec<&str> = etypes.iter().map(String::as_str).collect();
            g.library("mtype", &codes, &table).strings("etype", &e);
        });
        let pop = NodeFile::open(&path).unwrap().population("p").unwrap();
        let from_file = retrieve_unique_metypes(&pop, &gids, &skip).unwrap();
        assert_eq!(from_file, pure, "case {i} from the file");
    }
}

#[test]
fn euler_rotations_match_neurodamus() {
    let r = reference();
    for c in r["rotations"].as_array().unwrap() {
        let a: Vec<f64> = c["angles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let want: Vec<f64> = c["quat_xyzw"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let got = euler_xyz_extrinsic(a[0], a[1], a[2]);
        for k in 0..4 {
            assert!(
                (got[k] - want[k]).abs() < 1e-12,
                "{a:?}: {got:?} vs {want:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// load_sonata

#[test]
fn load_sonata_normal_path_exact() {
    let dir = tmp();
    let path = dir.path().join("nodes.h5");
    write_bbp_cells(&path);
    let pop = NodeFile::open(&path).unwrap().population("cells").unwrap();
    let options = LoadOptions {
        stride: 2,
        stride_offset: 1,
        dynamic_props: vec!["@dynamics:AIS_scaler".into(), "layer".into()],
        dry_run: false,
    };
    let loaded = load_sonata(&pop, None, &options).unwrap();
    assert_eq!(loaded.total_cells, 6);
    assert_eq!(loaded.gids, [1, 3, 5]);
    assert_eq!(
        loaded.cells.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
        [1, 3, 5]
    );
    let c3 = &loaded.cells[1].1;
    assert_eq!(c3.morphology, "mA");
    assert_eq!(c3.mtype, "L23_BTC");
    assert_eq!(c3.etype.as_deref(), Some("cNAC"));
    // `removeprefix("hoc:")`: no prefix, no change.
    assert_eq!(c3.emodel, "cNAC_noprefix");
    assert_eq!(loaded.cells[2].1.emodel, "cADpyr_L2TPC");
    assert_eq!(c3.threshold_current, 3.125);
    assert_eq!(c3.holding_current, -3.5);
    assert_eq!(c3.exc_mini_frequency, Some(3.5));
    assert_eq!(c3.inh_mini_frequency, Some(3.25));
    assert_eq!(c3.position, Some([3.0, 13.0, 23.0]));
    assert_eq!(c3.rotation, Some([0.25, 0.25, 0.25, 0.25]));
    assert_eq!(c3.extra["AIS_scaler"], 4.0);
    assert_eq!(c3.extra["layer"], "L2");
    assert_eq!(loaded.metypes, None);

    // Given gids: stride before sort, offset ignored with stride 1.
    let gids = [4, 0, 2, 5];
    let loaded = load_sonata(
        &pop,
        Some(&gids),
        &LoadOptions {
            stride: 2,
            stride_offset: 0,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(loaded.gids, [2, 4]);
    let loaded = load_sonata(
        &pop,
        Some(&gids),
        &LoadOptions {
            stride: 1,
            stride_offset: 3,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(loaded.gids, [0, 2, 4, 5]);
    // An empty gidvec loads nothing but still reports the population size.
    let loaded = load_sonata(
        &pop,
        Some(&[3]),
        &LoadOptions {
            stride: 2,
            stride_offset: 1,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert!(loaded.gids.is_empty() && loaded.cells.is_empty());
    assert_eq!(loaded.total_cells, 6);
}

#[test]
fn load_sonata_dynamic_prop_errors_are_neurodamus_messages() {
    let dir = tmp();
    let path = dir.path().join("nodes.h5");
    write_bbp_cells(&path);
    let pop = NodeFile::open(&path).unwrap().population("cells").unwrap();
    for (prop, message) in [
        (
            "@dynamics:nope",
            "Required Dynamics property @dynamics:nope not present",
        ),
        ("nope", "Required extra property nope not present"),
        // A dynamics name without the prefix is looked up among plain attributes.
        (
            "AIS_scaler",
            "Required extra property AIS_scaler not present",
        ),
    ] {
        let options = LoadOptions {
            dynamic_props: vec![prop.into()],
            ..LoadOptions::default()
        };
        let err = load_sonata(&pop, None, &options).unwrap_err().to_string();
        assert!(err.ends_with(message), "{err}");
        assert!(err.contains("population 'cells'"), "{err}");
    }
}

/// Optional columns: no etype, one mini frequency only, one current only, Euler angles about x
/// and z only (neurodamus's typo would drop the z angle here; the deliberate difference).
#[test]
fn load_sonata_optional_columns_and_z_angle() {
    let dir = tmp();
    let path = dir.path().join("sparse.h5");
    let half_pi = std::f32::consts::FRAC_PI_2;
    locked(|| {
        let f = create(&path);
        node_population(&f, "p", 2)
            .strings("mtype", &["M", "M"])
            .strings("morphology", &["a", "b"])
            .strings("model_template", &["hoc:T", "hoc:hoc:T"])
            .f32s("x", &[1.0, 2.0])
            .f32s("y", &[3.0, 4.0])
            .f32s("z", &[5.0, 6.0])
            .f32s("exc_mini_frequency", &[1.0, 1.0])
            .f32s("rotation_angle_xaxis", &[0.0, half_pi])
            .f32s("rotation_angle_zaxis", &[half_pi, 0.0])
            .dynamics("threshold_current", &[1.0, 1.0]);
    });
    let pop = NodeFile::open(&path).unwrap().population("p").unwrap();
    let loaded = load_sonata(&pop, None, &LoadOptions::default()).unwrap();
    let (c0, c1) = (&loaded.cells[0].1, &loaded.cells[1].1);
    assert_eq!(c0.etype, None);
    assert_eq!(c0.emodel, "T");
    // removeprefix strips once.
    assert_eq!(c1.emodel, "hoc:T");
    assert_eq!((c0.exc_mini_frequency, c0.inh_mini_frequency), (None, None));
    assert_eq!((c0.threshold_current, c0.holding_current), (0.0, 0.0));
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let close = |a: [f64; 4], b: [f64; 4]| a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-7);
    // 90° about z: (0, 0, sin 45°, cos 45°); neurodamus 4.2.9 would give the identity.
    assert!(
        close(c0.rotation.unwrap(), [0.0, 0.0, s, s]),
        "{:?}",
        c0.rotation
    );
    assert!(
        close(c1.rotation.unwrap(), [s, 0.0, 0.0, s]),
        "{:?}",
        c1.rotation
    );
    // The dry run does not catch a missing etype.
    let options = LoadOptions {
        dry_run: true,
        ..LoadOptions::default()
    };
    let err = load_sonata(&pop, None, &options).unwrap_err().to_string();
    assert!(err.contains("etype"), "{err}");
}

/// Dry run: me-type bundles distributed whole, info for the first 100 cells of every me-type
/// (not only this rank's), counts of all cells.
#[test]
fn load_sonata_dry_run_path() {
    let dir = tmp();
    let path = dir.path().join("many.h5");
    // 250 cells: me-type by gid % 5: 0,1,2 -> A-x (150 cells), 3 -> B-y (50), 4 -> C-x (50).
    let n = 250;
    let m: Vec<u32> = (0..n).map(|g| [0, 0, 0, 1, 2][g % 5]).collect();
    let e: Vec<u32> = (0..n).map(|g| [0, 0, 0, 1, 0][g % 5]).collect();
    let zeros = vec![0u32; n];
    locked(|| {
        let f = create(&path);
        node_population(&f, "p", n)
            .library("mtype", &m, &["A", "B", "C"])
            .library("etype", &e, &["x", "y"])
            .library("morphology", &zeros, &["morph"])
            .library("model_template", &zeros, &["hoc:E"]);
    });
    let pop = NodeFile::open(&path).unwrap().population("p").unwrap();
    let gids: Vec<u64> = (0..n as u64).rev().collect();
    let options = LoadOptions {
        stride: 2,
        stride_offset: 1,
        dynamic_props: vec![],
        dry_run: true,
    };
    let loaded = load_sonata(&pop, Some(&gids), &options).unwrap();
    assert_eq!(loaded.total_cells, 250);
    let metypes = loaded.metypes.as_ref().unwrap();
    // First seen in the order given: 249 is C-x, 248 B-y, 247 A-x.
    assert_eq!(
        metypes.counts,
        vec![
            ("C-x".to_string(), 50),
            ("B-y".to_string(), 50),
            ("A-x".to_string(), 150)
        ]
    );
    let b: Vec<u64> = gids.iter().copied().filter(|g| g % 5 == 3).collect();
    assert_eq!(
        loaded.gids, b,
        "rank 1 of 2 gets the second bundle, unsorted"
    );
    assert_eq!(loaded.cells.len(), 50 + 50 + CELL_NODE_INFO_LIMIT);
    let keys: Vec<u64> = loaded.cells.iter().map(|(g, _)| *g).collect();
    let first_a: Vec<u64> = gids
        .iter()
        .copied()
        .filter(|g| g % 5 < 3)
        .take(100)
        .collect();
    assert_eq!(&keys[100..], &first_a[..]);
    let (_, info) = &loaded.cells[0];
    assert_eq!(
        (info.mtype.as_str(), info.etype.as_deref()),
        ("C", Some("x"))
    );
    assert_eq!(info.emodel, "E");
    assert_eq!((info.position, info.rotation), (None, None));
    // No gids: every cell (neurodamus fails here).
    let all = load_sonata(&pop, None, &options).unwrap();
    assert_eq!(all.metypes.unwrap().count("A-x"), 150);
}

/// 10^5 generated cells with `@library` columns: the whole population loads in bulk.
#[test]
fn load_sonata_1e5_cells() {
    let dir = tmp();
    let path = dir.path().join("big.h5");
    let n = 100_000usize;
    let m: Vec<u32> = (0..n).map(|g| (g % 7) as u32).collect();
    let e: Vec<u32> = (0..n).map(|g| (g % 3) as u32).collect();
    let morph: Vec<u32> = (0..n).map(|g| (g % 1000) as u32).collect();
    let morph_names: Vec<String> = (0..1000).map(|i| format!("morph_{i}")).collect();
    let morph_refs: Vec<&str> = morph_names.iter().map(String::as_str).collect();
    let coords: Vec<f32> = (0..n).map(|g| g as f32).collect();
    locked(|| {
        let f = create(&path);
        node_population(&f, "big", n)
            .library("mtype", &m, &["m0", "m1", "m2", "m3", "m4", "m5", "m6"])
            .library("etype", &e, &["e0", "e1", "e2"])
            .library("morphology", &morph, &morph_refs)
            .library("model_template", &e, &["hoc:t0", "hoc:t1", "hoc:t2"])
            .f32s("x", &coords)
            .f32s("y", &coords)
            .f32s("z", &coords);
    });
    let pop = NodeFile::open(&path).unwrap().population("big").unwrap();
    let start = std::time::Instant::now();
    let loaded = load_sonata(&pop, None, &LoadOptions::default()).unwrap();
    eprintln!(
        "load_sonata of 1e5 cells: {:.3} s",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(loaded.cells.len(), n);
    let (gid, c) = &loaded.cells[54_321];
    assert_eq!(*gid, 54_321);
    assert_eq!(c.mtype, format!("m{}", 54_321 % 7));
    assert_eq!(
        c.etype.as_deref(),
        Some(format!("e{}", 54_321 % 3).as_str())
    );
    assert_eq!(c.morphology, "morph_321");
    assert_eq!(c.emodel, format!("t{}", 54_321 % 3));
    assert_eq!(c.position, Some([54_321.0; 3]));
    let all: Vec<u64> = (0..n as u64).collect();
    let m = retrieve_unique_metypes(&pop, &all, &[]).unwrap();
    assert_eq!(m.counts.len(), 21);
    assert_eq!(
        m.count("m0-e0"),
        (0..n).filter(|g| g % 21 == 0).count() as u64
    );
    assert_eq!(m.counts.iter().map(|(_, c)| c).sum::<u64>(), n as u64);
}

// ---------------------------------------------------------------------------------------------
// Sample files

#[test]
fn samples_usecase3_load_sonata_as_neurodamus() {
    let Some(dir) = samples_dir() else { return };
    let config =
        dir.join("BlueBrain/sonata-extension/source/usecases/usecase3/circuit_sonata.json");
    let c = CircuitConfig::open(&config).unwrap();
    let a = c.node_population("NodeA").unwrap();
    assert_eq!(a.kind.as_deref(), Some("biophysical"));
    let pop = NodeFile::open(&a.file)
        .unwrap()
        .population("NodeA")
        .unwrap();
    // Spec §1.1: ("@dynamics:AIS_scaler", "layer"), stride 2, offset 1 -> {1: {AIS_scaler:
    // 1.7742337 (float32), layer: "LB"}}.
    let options = LoadOptions {
        stride: 2,
        stride_offset: 1,
        dynamic_props: vec!["@dynamics:AIS_scaler".into(), "layer".into()],
        dry_run: false,
    };
    let loaded = load_sonata(&pop, None, &options).unwrap();
    assert_eq!(loaded.total_cells, 3);
    assert_eq!(loaded.gids, [1]);
    let (gid, cell) = &loaded.cells[0];
    assert_eq!(*gid, 1);
    assert_eq!(
        cell.extra["AIS_scaler"].as_f64().unwrap() as f32,
        1.774_233_7_f32
    );
    assert_eq!(cell.extra["layer"], "LB");
    assert_eq!(cell.mtype, "L4_MC");
    assert_eq!(cell.etype.as_deref(), Some("dSTUT"));
    assert_eq!(cell.morphology, "rr110330_C3_idA");
    assert_eq!(cell.emodel, "cADpyr_L2TPC");
    assert_eq!(cell.threshold_current as f32, 1.639_921_1_f32);
    assert_eq!(cell.holding_current as f32, 1.521_848_3_f32);
    let r = cell.rotation.unwrap().map(|v| v as f32);
    assert_eq!(r, [0.851_193_25, -0.959_563_2, 0.740_024_27, 0.583_450_1]);
    // Dry run, rank 0 of 2 with all cells: bundles L4_PC-dSTUT [0], L4_MC-dSTUT [1],
    // L4_MC-dNAC [2]; rank 0 gets bundles 0 and 2, info for all three.
    let options = LoadOptions {
        stride: 2,
        stride_offset: 0,
        dynamic_props: vec![],
        dry_run: true,
    };
    let loaded = load_sonata(&pop, Some(&[0, 1, 2]), &options).unwrap();
    assert_eq!(loaded.gids, [0, 2]);
    assert_eq!(
        loaded.cells.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[test]
fn samples_ringtest_metypes_and_snap_rotations() {
    let Some(dir) = samples_dir() else { return };
    let ring =
        dir.join("openbraininstitute/neurodamus/tests/simulations/ringtest/circuit_config.json");
    let c = CircuitConfig::open(&ring).unwrap();
    let mut counts = Vec::new();
    for p in c.node_populations().unwrap() {
        let pop = NodeFile::open(&p.file)
            .unwrap()
            .population(&p.name)
            .unwrap();
        let all: Vec<u64> = (0..pop.size()).collect();
        counts.extend(retrieve_unique_metypes(&pop, &all, &[]).unwrap().counts);
    }
    // neurodamus's ringtest dry run: {'MTYPE1-ETYPE1': 2, 'MTYPE0-ETYPE0': 1,
    // 'MTYPE2-ETYPE2': 1, 'MTYPE0-ETYPE1': 1} over RingA and RingB.
    let mut merged: Vec<(String, u64)> = Vec::new();
    for (k, v) in counts {
        match merged.iter_mut().find(|(m, _)| *m == k) {
            Some(slot) => slot.1 += v,
            None => merged.push((k, v)),
        }
    }
    merged.sort();
    assert_eq!(
        merged,
        vec![
            ("MTYPE0-ETYPE0".to_string(), 1),
            ("MTYPE0-ETYPE1".to_string(), 1),
            ("MTYPE1-ETYPE1".to_string(), 2),
            ("MTYPE2-ETYPE2".to_string(), 1)
        ]
    );

    // snap: Euler angles on every axis; node 1 is the neurodamus reference case.
    let snap = dir.join("BlueBrain/snap/tests/data/nodes.h5");
    let pop = NodeFile::open(&snap)
        .unwrap()
        .population("default")
        .unwrap();
    let loaded = load_sonata(&pop, None, &LoadOptions::default()).unwrap();
    let r = loaded.cells[1].1.rotation.unwrap();
    let want = [-0.139_142_965, -0.091_587_910, 0.962_006_486, 0.216_320_158];
    assert!(
        r.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-8),
        "{r:?}"
    );
    assert_eq!(loaded.cells[0].1.etype, None);
    assert_eq!(loaded.cells[2].1.emodel, "small_bio-C");
    // Plain int64 column, dynamics in float64.
    let loaded = load_sonata(
        &pop,
        Some(&[2, 0]),
        &LoadOptions {
            dynamic_props: vec!["layer".into(), "@dynamics:holding_current".into()],
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(loaded.cells[0].1.extra["layer"], 2);
    assert_eq!(loaded.cells[1].1.extra["holding_current"], 0.3);
}

#[test]
fn samples_configs_resolve_files() {
    let Some(dir) = samples_dir() else { return };
    // The config's paths are normalised lexically; the sample folder's path has a `..`.
    let dir = dir.canonicalize().unwrap();
    // libsonata: "$NETWORK_DIR": "../" relative to the config's folder, nested variables.
    let lib = dir.join("openbraininstitute/libsonata/tests/data");
    let c = CircuitConfig::open(lib.join("config/circuit_config.json")).unwrap();
    assert_eq!(c.nodes[0].file, lib.join("nodes1.h5"));
    assert_eq!(c.edges[0].file, lib.join("edges1.h5"));
    assert_eq!(c.manifest["$COMPONENT_DIR"], lib.join("config"));
    let names: Vec<String> = c
        .node_populations()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["nodes-A", "nodes-B"]);
    // Allen: no populations in the config; the files are opened and listed.
    let allen = dir.join("AllenInstitute/sonata/examples/300_intfire");
    let c = CircuitConfig::open(allen.join("circuit_config.json")).unwrap();
    assert_eq!(c.nodes[0].file, allen.join("network/v1_nodes.h5"));
    assert_eq!(
        c.nodes[0].types_file,
        Some(allen.join("network/v1_node_types.csv"))
    );
    let v1 = NodeFile::open(&c.nodes[0].file).unwrap();
    assert_eq!(v1.population_names().unwrap(), ["v1"]);
    assert_eq!(v1.population("v1").unwrap().size(), 300);
}
