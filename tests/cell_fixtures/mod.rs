//! Shared fixtures of the neurodamus cell reader tests (`cell_readers.rs`, `node_files.rs`,
//! `cell_commands.rs`): node files written with the hdf5 crate, the reference outputs of
//! neurodamus 4.2.9's own functions, and the binary's runner.
// Each test binary uses a part of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use hdf5::types::VarLenUnicode;
use serde_json::Value;

use crate::common::locked;

// ---------------------------------------------------------------------------------------------
// Fixtures

pub fn vlen(values: &[&str]) -> Vec<VarLenUnicode> {
    values.iter().map(|s| s.parse().unwrap()).collect()
}

/// Column writers for one attribute group.
pub struct Group(pub hdf5::Group);

impl Group {
    pub fn strings(&self, name: &str, values: &[&str]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(&vlen(values))
            .create(name)
            .unwrap();
        self
    }
    pub fn library(&self, name: &str, codes: &[u32], table: &[&str]) -> &Self {
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
    pub fn f32s(&self, name: &str, values: &[f32]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(values)
            .create(name)
            .unwrap();
        self
    }
    pub fn i64s(&self, name: &str, values: &[i64]) -> &Self {
        self.0
            .new_dataset_builder()
            .with_data(values)
            .create(name)
            .unwrap();
        self
    }
    pub fn dynamics(&self, name: &str, values: &[f32]) -> &Self {
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
pub fn node_population(file: &hdf5::File, pop: &str, n: usize) -> Group {
    let g = file.create_group(&format!("nodes/{pop}")).unwrap();
    g.new_dataset_builder()
        .with_data(&vec![-1i64; n])
        .create("node_type_id")
        .unwrap();
    Group(g.create_group("0").unwrap())
}

pub fn create(path: &Path) -> hdf5::File {
    if path.exists() {
        hdf5::File::open_rw(path).unwrap()
    } else {
        hdf5::File::create(path).unwrap()
    }
}

/// Six BBP-style cells: `@library` mtype/etype/morphology/model_template, plain `layer`
/// strings, positions, quaternions, minis, currents and a dynamics `AIS_scaler`.
pub fn write_bbp_cells(path: &Path) {
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

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn reference() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/neurodamus_cell_readers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

pub fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

pub fn run(args: &[&str]) -> (i32, String, String) {
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

pub fn run_json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}
