//! Shared fixtures of the neurodamus `synapse_reader` parity tests (`neurodamus_synapses.rs`,
//! `neurodamus_counts.rs`, `neurodamus_params.rs`): an order-keeping exact JSON parser for the
//! reference outputs, record-table comparison, the binary's runner and generated edge files.
// Each test binary uses a part of these.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sonata_census::EdgeFile;
use sonata_census::generate::{AttributeSet, EdgeOrder, GenerateOptions, generate};
use sonata_census::neurodamus::{Column, DataColumn, SonataReader, SynapseParameters};
use sonata_census::sonata::attributes::AttributeValues;

use crate::common;

pub const POP: &str = "All__All__chemical";

/// Serialises the tests of one test file: `query_cli` spawns the binary, and a child inherits the
/// (locked, non-close-on-exec) HDF5 descriptors other threads hold at that moment, which makes
/// their later opens of the same files fail with "unable to lock file".
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A parsed JSON value. The test parses JSON itself because serde_json (without its
/// `float_roundtrip` feature) may read a float 1 ulp off, and its map sorts keys; here numbers
/// keep their text (parsed exactly by `str::parse`) and objects keep their key order.
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool,
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

pub static NULL: J = J::Null;

impl J {
    pub fn parse(text: &str) -> J {
        let b = text.as_bytes();
        let mut i = 0;
        let v = J::value(b, &mut i);
        J::ws(b, &mut i);
        assert_eq!(i, b.len(), "trailing JSON");
        v
    }
    pub fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    pub fn string(b: &[u8], i: &mut usize) -> String {
        assert_eq!(b[*i], b'"');
        *i += 1;
        let mut out = Vec::new();
        while b[*i] != b'"' {
            if b[*i] == b'\\' {
                *i += 1;
            }
            out.push(b[*i]);
            *i += 1;
        }
        *i += 1;
        String::from_utf8(out).unwrap()
    }
    pub fn value(b: &[u8], i: &mut usize) -> J {
        J::ws(b, i);
        match b[*i] {
            b'{' => {
                *i += 1;
                let mut out = Vec::new();
                loop {
                    J::ws(b, i);
                    if b[*i] == b'}' {
                        *i += 1;
                        return J::Obj(out);
                    }
                    if b[*i] == b',' {
                        *i += 1;
                        continue;
                    }
                    let k = J::string(b, i);
                    J::ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    out.push((k, J::value(b, i)));
                }
            }
            b'[' => {
                *i += 1;
                let mut out = Vec::new();
                loop {
                    J::ws(b, i);
                    if b[*i] == b']' {
                        *i += 1;
                        return J::Arr(out);
                    }
                    if b[*i] == b',' {
                        *i += 1;
                        continue;
                    }
                    out.push(J::value(b, i));
                }
            }
            b'"' => J::Str(J::string(b, i)),
            b't' => {
                *i += 4;
                J::Bool
            }
            b'f' => {
                *i += 5;
                J::Bool
            }
            b'n' => {
                *i += 4;
                J::Null
            }
            _ => {
                let s = *i;
                while *i < b.len()
                    && !matches!(b[*i], b',' | b']' | b'}')
                    && !b[*i].is_ascii_whitespace()
                {
                    *i += 1;
                }
                J::Num(String::from_utf8(b[s..*i].to_vec()).unwrap())
            }
        }
    }
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn obj(&self) -> &[(String, J)] {
        match self {
            J::Obj(o) => o,
            other => panic!("not an object: {other:?}"),
        }
    }
    pub fn arr(&self) -> &[J] {
        match self {
            J::Arr(a) => a,
            other => panic!("not an array: {other:?}"),
        }
    }
    pub fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
    pub fn num(&self) -> &str {
        match self {
            J::Num(s) => s,
            other => panic!("not a number: {other:?}"),
        }
    }
    pub fn f64(&self) -> f64 {
        self.num().parse().unwrap()
    }
    pub fn i64(&self) -> i64 {
        self.num().parse().unwrap()
    }
    pub fn u64(&self) -> u64 {
        self.num().parse().unwrap()
    }
}

impl std::ops::Index<usize> for J {
    type Output = J;
    fn index(&self, i: usize) -> &J {
        &self.arr()[i]
    }
}

impl std::ops::Index<&str> for J {
    type Output = J;
    fn index(&self, key: &str) -> &J {
        self.get(key).unwrap_or(&NULL)
    }
}

pub fn reference() -> Option<(PathBuf, J)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let text = std::fs::read_to_string(root.join("reference/neurodamus_outputs_public.json"));
    match (text, common::samples_dir()) {
        (Ok(text), Some(samples)) => Some((samples, J::parse(&text))),
        _ => {
            eprintln!("../shared reference or samples absent: neurodamus reference checks skipped");
            None
        }
    }
}

pub fn key(s: &str) -> u64 {
    s.parse().unwrap()
}

/// Asserts `table` equals the JSON columns `want` (`{column: [values]}`), exactly, with the
/// layout `dtype` (`[[name, numpy dtype]]`) in record order.
pub fn assert_records(table: &SynapseParameters, dtype: &[J], want: &J, what: &str) {
    let got_dtype: Vec<(String, String)> = table
        .dtype()
        .into_iter()
        .map(|(n, t)| (n.to_string(), t.numpy_str().to_string()))
        .collect();
    let want_dtype: Vec<(String, String)> = dtype
        .iter()
        .map(|p| (p[0].str().to_string(), p[1].str().to_string()))
        .collect();
    if !want_dtype.is_empty() {
        assert_eq!(got_dtype, want_dtype, "{what}: dtype");
    }
    for (name, column) in table.columns() {
        let want: &[J] = want[name].arr();
        assert_eq!(column.len(), want.len(), "{what}: rows of {name}");
        match column {
            Column::F64(a) => {
                for (i, (g, w)) in a.iter().zip(want).enumerate() {
                    let w = w.f64();
                    assert_eq!(g.to_bits(), w.to_bits(), "{what}: {name}[{i}] {g} vs {w}");
                }
            }
            _ => {
                let got = table.int_column(name).unwrap();
                let w: Vec<i64> = want.iter().map(|v| v.i64()).collect();
                assert_eq!(got, w, "{what}: {name}");
            }
        }
    }
}

pub fn synapse_index(reader: &SonataReader, gid: u64) -> Vec<u64> {
    match reader.get_property(gid, "synapse_index").unwrap() {
        None => vec![],
        Some(DataColumn::Values(AttributeValues::UInt(v))) => v.clone(),
        Some(other) => panic!("synapse_index of {gid} is {other:?}"),
    }
}

pub fn conn_counts_of(got: Vec<(u64, BTreeMap<u64, u64>)>) -> Vec<(u64, Vec<(u64, u64)>)> {
    got.into_iter()
        .map(|(t, m)| (t, m.into_iter().collect()))
        .collect()
}

pub fn cli(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sonata-census"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

pub fn small_file(dir: &Path, order: EdgeOrder, nodes: u64, edges: u64, seed: u64) -> PathBuf {
    let path = dir.join(format!("g{seed}.h5"));
    let options = GenerateOptions {
        nodes,
        edges,
        seed,
        order,
        attributes: AttributeSet::Bbp,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).unwrap();
    path
}

/// Raw (target, source) ids of the population, for reference counts computed in the test.
pub fn raw_ids(path: &Path) -> (Vec<u64>, Vec<u64>) {
    let file = EdgeFile::open(path).unwrap();
    let pop = file.population(POP).unwrap();
    let all = sonata_census::Selection::all(pop.size());
    (
        pop.target_ids().read_selection(&all).unwrap(),
        pop.source_ids().read_selection(&all).unwrap(),
    )
}
