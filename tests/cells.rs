//! neurodamus cell readers: node files, circuit configs, split_round_robin,
//! dry_run_distribution, me-types, load_sonata, the `nodes` and `dry-run` commands.
//!
//! Expected values come from the spec's examples, from hand computation, and from
//! `tests/data/neurodamus_cell_readers.json`, produced once by neurodamus 4.2.9's own functions
//! (`tests/data/neurodamus_cell_readers.py`, libsonata and NEURON stubbed).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use hdf5::types::VarLenUnicode;
use serde_json::Value;
use sonata_census::Error;
use sonata_census::cells::config::CircuitConfig;
use sonata_census::cells::load::{CELL_NODE_INFO_LIMIT, euler_xyz_extrinsic};
use sonata_census::cells::{
    LoadOptions, NodeFile, dry_run_distribution, group_metypes, load_sonata,
    retrieve_unique_metypes, split_round_robin,
};
use sonata_census::sonata::attributes::AttributeValues;

use common::{locked, samples_dir};

// ---------------------------------------------------------------------------------------------
// Fixtures

fn vlen(values: &[&str]) -> Vec<VarLenUnicode> {
    values.iter().map(|s| s.parse().unwrap()).collect()
}

/// Column writers for one attribute group.
struct Group(hdf5::Group);

impl Group {
    fn strings(&self, name: &str, values: &[&str]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(&vlen(values))
            .create(name)
            .unwrap();
        self
    }
    fn library(&self, name: &str, codes: &[u32], table: &[&str]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(codes)
            .create(name)
            .unwrap();
        let lib = match self.0.group("@library") {
            Ok(g) => g,
            Err(_) => self.0.create_group("@library").unwrap(),
        };
        lib.new_dataset_builder()
            .with_data(&vlen(table))
            .create(name)
            .unwrap();
        self
    }
    fn f32s(&self, name: &str, values: &[f32]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(values)
            .create(name)
            .unwrap();
        self
    }
    fn i64s(&self, name: &str, values: &[i64]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(values)
            .create(name)
            .unwrap();
        self
    }
    fn dynamics(&self, name: &str, values: &[f32]) -> &Self {
        let d = match self.0.group("dynamics_params") {
            Ok(g) => g,
            Err(_) => self.0.create_group("dynamics_params").unwrap(),
        };
        d.new_dataset_builder()
            .with_data(values)
            .create(name)
            .unwrap();
        self
    }
}

/// Creates `/nodes/<pop>` with `node_type_id` of `n` rows and returns group `0`.
fn node_population(file: &hdf5::File, pop: &str, n: usize) -> Group {
    let g = file.create_group(&format!("nodes/{pop}")).unwrap();
    g.new_dataset_builder()
        .with_data(&vec![-1i64; n])
        .create("node_type_id")
        .unwrap();
    Group(g.create_group("0").unwrap())
}

fn create(path: &Path) -> hdf5::File {
    if path.exists() {
        hdf5::File::open_rw(path).unwrap()
    } else {
        hdf5::File::create(path).unwrap()
    }
}

/// Six BBP-style cells: `@library` mtype/etype/morphology/model_template, plain `layer`
/// strings, positions, quaternions, minis, currents and a dynamics `AIS_scaler`.
fn write_bbp_cells(path: &Path) {
    locked(|| {
        let f = create(path);
        let g = node_population(&f, "cells", 6);
        g.library("mtype", &[0, 1, 0, 2, 1, 0], &["L4_PC", "L4_MC", "L23_BTC"])
            .library("etype", &[0, 1, 0, 1, 1, 0], &["cADpyr", "cNAC"])
            .library("morphology", &[2, 1, 0, 0, 1, 2], &["mA", "mB", "mC"])
            .library(
                "model_template",
                &[0, 1, 0, 1, 1, 0],
                &["hoc:cADpyr_L2TPC", "cNAC_noprefix"],
            )
            .strings("layer", &["L4", "L4", "L2", "L2", "L5", "L6"])
            .i64s("region_id", &[10, -11, 12, 13, 14, 15])
            .f32s("x", &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
            .f32s("y", &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
            .f32s("z", &[20.0, 21.0, 22.0, 23.0, 24.0, 25.0])
            .f32s("orientation_x", &[0.0, 0.5, 0.0, 0.25, 0.0, 1.0])
            .f32s("orientation_y", &[0.0, 0.5, 1.0, 0.25, 0.0, 0.0])
            .f32s("orientation_z", &[0.0, 0.5, 0.0, 0.25, 1.0, 0.0])
            .f32s("orientation_w", &[1.0, 0.5, 0.0, 0.25, 0.0, 0.0])
            .f32s("exc_mini_frequency", &[0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
            .f32s("inh_mini_frequency", &[0.25, 1.25, 2.25, 3.25, 4.25, 5.25])
            .dynamics(
                "threshold_current",
                &[0.125, 1.125, 2.125, 3.125, 4.125, 5.125],
            )
            .dynamics("holding_current", &[-0.5, -1.5, -2.5, -3.5, -4.5, -5.5])
            .dynamics("AIS_scaler", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    });
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn reference() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/neurodamus_cell_readers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

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
// Node reader

#[test]
fn node_reader_reads_every_kind_in_selection_order() {
    let dir = tmp();
    let path = dir.path().join("nodes.h5");
    write_bbp_cells(&path);
    let file = NodeFile::open(&path).unwrap();
    assert_eq!(file.population_names().unwrap(), ["cells"]);
    let pop = file.population("cells").unwrap();
    assert_eq!(pop.size(), 6);
    let names = pop.attribute_names().unwrap();
    assert!(names.contains(&"mtype".to_string()) && names.contains(&"layer".to_string()));
    assert!(
        !names
            .iter()
            .any(|n| n == "@library" || n == "dynamics_params")
    );
    assert_eq!(
        pop.dynamics_attribute_names().unwrap(),
        ["AIS_scaler", "holding_current", "threshold_current"]
    );
    // Unsorted, with duplicates: values in the order asked.
    let ids = [5, 0, 3, 3, 1];
    assert_eq!(
        pop.attribute("mtype", &ids).unwrap(),
        AttributeValues::Str(
            ["L4_PC", "L4_PC", "L23_BTC", "L23_BTC", "L4_MC"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(pop.enumeration("mtype", &ids).unwrap(), [0, 0, 2, 2, 1]);
    assert_eq!(
        pop.enumeration_values("morphology").unwrap(),
        ["mA", "mB", "mC"]
    );
    assert_eq!(
        pop.strings("layer", &ids).unwrap(),
        ["L6", "L4", "L2", "L2", "L4"]
    );
    assert_eq!(
        pop.attribute("region_id", &ids).unwrap(),
        AttributeValues::Int(vec![15, 10, 13, 13, -11])
    );
    assert_eq!(
        pop.attribute("x", &ids).unwrap(),
        AttributeValues::Float(vec![5.0, 0.0, 3.0, 3.0, 1.0])
    );
    assert_eq!(
        pop.dynamics_attribute("holding_current", &ids).unwrap(),
        AttributeValues::Float(vec![-5.5, -0.5, -3.5, -3.5, -1.5])
    );
    let (codes, table) = pop.interned("layer", &ids).unwrap();
    assert_eq!(codes, [0, 1, 2, 2, 1]);
    assert_eq!(table, ["L6", "L4", "L2"]);
    assert!(pop.attribute("x", &[]).unwrap().is_empty());

    // Errors name what is wrong and where.
    let err = pop.attribute("x", &[6]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("node id 6") && m.contains("6 nodes"))
    );
    let err = pop.attribute("nope", &[0]).unwrap_err().to_string();
    assert!(
        err.contains("population 'cells'") && err.contains("no attribute 'nope'"),
        "{err}"
    );
    assert!(
        pop.enumeration("layer", &[0])
            .unwrap_err()
            .to_string()
            .contains("not an enumeration")
    );
    let err = file.population("other").unwrap_err();
    assert!(
        matches!(err, Error::PopulationNotFound { ref available, .. } if available == &["cells"])
    );
}

#[test]
fn node_reader_bad_library_code_is_an_error() {
    let dir = tmp();
    let path = dir.path().join("bad.h5");
    locked(|| {
        let f = create(&path);
        node_population(&f, "p", 2).library("mtype", &[0, 7], &["A"]);
    });
    let pop = NodeFile::open(&path).unwrap().population("p").unwrap();
    let err = pop.attribute("mtype", &[0, 1]).unwrap_err().to_string();
    assert!(err.contains("0/mtype") && err.contains("code 7"), "{err}");
    assert!(
        pop.interned("mtype", &[1])
            .unwrap_err()
            .to_string()
            .contains("code 7")
    );
}

/// `node_group_id` / `node_group_index` with two groups (libsonata refuses these).
#[test]
fn node_reader_explicit_groups() {
    let dir = tmp();
    let path = dir.path().join("groups.h5");
    locked(|| {
        let f = create(&path);
        let p = f.create_group("nodes/p").unwrap();
        p.new_dataset_builder()
            .with_data(&[1u64, 1, 1, 1])
            .create("node_type_id")
            .unwrap();
        p.new_dataset_builder()
            .with_data(&[1u32, 0, 1, 0])
            .create("node_group_id")
            .unwrap();
        p.new_dataset_builder()
            .with_data(&[1u32, 0, 0, 1])
            .create("node_group_index")
            .unwrap();
        let g0 = Group(p.create_group("0").unwrap());
        g0.strings("mtype", &["a0", "a1"]).i64s("n", &[-1, -2]);
        let g1 = Group(p.create_group("1").unwrap());
        g1.library("mtype", &[1, 0], &["b0", "b1"])
            .f32s("n", &[0.5, 1.5]);
    });
    let pop = NodeFile::open(&path).unwrap().population("p").unwrap();
    assert_eq!(pop.attribute_groups(), ["0", "1"]);
    // Node 0 -> 1/[1], node 1 -> 0/[0], node 2 -> 1/[0], node 3 -> 0/[1].
    assert_eq!(
        pop.strings("mtype", &[0, 1, 2, 3]).unwrap(),
        ["b0", "a0", "b1", "a1"]
    );
    assert_eq!(
        pop.attribute("n", &[3, 2, 1, 0]).unwrap(),
        AttributeValues::Float(vec![-2.0, 0.5, -1.0, 1.5])
    );
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
// circuit_config.json

#[test]
fn circuit_config_manifest_and_relative_paths() {
    let dir = tmp();
    let sub = dir.path().join("conf");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("circuit_config.json");
    std::fs::write(
        &path,
        r#"{"manifest": {"$BASE_DIR": "./", "$NET": "$BASE_DIR/../net", "$ABS": "/abs/dir"},
            "networks": {
              "nodes": [{"nodes_file": "$NET/nodes.h5", "node_types_file": null,
                         "populations": {"B": {"type": "virtual"}, "A": {}}},
                        {"nodes_file": "$ABS/n2.h5"}],
              "edges": [{"edges_file": "edges.h5", "populations": {"A__A": {"type": "electrical"}}}]}}"#,
    )
    .unwrap();
    let c = CircuitConfig::open(&path).unwrap();
    let net = dir.path().join("net");
    assert_eq!(c.manifest["$NET"], net);
    assert_eq!(c.nodes[0].file, net.join("nodes.h5"));
    assert_eq!(c.nodes[0].types_file, None);
    // In the file's order (B before A), not sorted by name.
    assert_eq!(
        c.nodes[0].populations,
        Some(vec![
            ("B".to_string(), Some("virtual".to_string())),
            ("A".to_string(), None)
        ])
    );
    assert_eq!(c.nodes[1].file, PathBuf::from("/abs/dir/n2.h5"));
    assert_eq!(c.nodes[1].populations, None);
    assert_eq!(c.edges[0].file, sub.join("edges.h5"));
    let a = c.node_population("A").unwrap();
    assert_eq!(a.file, net.join("nodes.h5"));
    // Unknown variables and cycles are errors naming the config.
    for text in [
        r#"{"networks": {"nodes": [{"nodes_file": "$NOPE/x.h5"}]}}"#,
        r#"{"manifest": {"$A": "$B/x", "$B": "$A/y"}}"#,
        r#"{"networks": {"nodes": [{"populations": {}}]}}"#,
        "not json",
    ] {
        let err = CircuitConfig::parse(text, &path).unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err}");
        assert!(err.to_string().contains("circuit_config.json"), "{err}");
    }
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

// ---------------------------------------------------------------------------------------------
// CLI

fn run(args: &[&str]) -> (i32, String, String) {
    let out = locked(|| {
        Command::new(env!("CARGO_BIN_EXE_sonata-census"))
            .args(args)
            .output()
            .unwrap()
    });
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

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
    use sonata_census::cells::dry_run::dry_run_stats;
    use sonata_census::census::{Backend, CensusOptions, DEFAULT_CHUNK_LEN, DEFAULT_MEMORY_BUDGET};
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
