//! Attribute columns: groups, `@library`, strings, `dynamics_params`, `nsyns`, on small files
//! written here, and on the public sample files when present.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use std::path::{Path, PathBuf};

use hdf5::H5Type;
use hdf5::types::{FixedAscii, VarLenAscii, VarLenUnicode};
use sonata_census::sonata::attributes::{AttributeKind, AttributeValues, NsynsReader};
use sonata_census::{EdgeFile, EdgePopulation, Error, Selection};

// ---------------------------------------------------------------------------------------------
// Fixture writer

/// A temporary edge file with one population `pop` of `n` edges.
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edges.h5");
        let file = hdf5::File::create(&path).unwrap();
        let g = file.create_group("edges/pop").unwrap();
        let ids: Vec<u64> = (0..n as u64).collect();
        g.new_dataset_builder()
            .with_data(&ids)
            .create("source_node_id")
            .unwrap();
        g.new_dataset_builder()
            .with_data(&ids)
            .create("target_node_id")
            .unwrap();
        Fixture { _dir: dir, path }
    }

    /// The group holding `path` (relative to the population), created as needed, and the
    /// dataset's own name.
    fn parent(&self, path: &str) -> (hdf5::Group, String) {
        let file = hdf5::File::open_rw(&self.path).unwrap();
        let mut g = file.group("edges/pop").unwrap();
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap().to_string();
        for p in parts {
            g = if g.link_exists(p) {
                g.group(p).unwrap()
            } else {
                g.create_group(p).unwrap()
            };
        }
        (g, name)
    }

    fn write<T: H5Type>(&self, path: &str, data: &[T]) -> &Self {
        let (g, name) = self.parent(path);
        g.new_dataset_builder()
            .with_data(data)
            .create(name.as_str())
            .unwrap();
        self
    }

    fn write_strings(&self, path: &str, data: &[&str]) -> &Self {
        let v: Vec<VarLenUnicode> = data.iter().map(|s| s.parse().unwrap()).collect();
        self.write(path, &v)
    }

    fn population(&self) -> EdgePopulation {
        EdgeFile::open(&self.path)
            .unwrap()
            .population("pop")
            .unwrap()
    }
}

fn invalid_message(err: Error) -> String {
    match err {
        Error::InvalidData { .. } => err.to_string(),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

fn floats(v: AttributeValues) -> Vec<f64> {
    match v {
        AttributeValues::Float(v) => v,
        other => panic!("expected floats, got {other:?}"),
    }
}

fn strings(v: AttributeValues) -> Vec<String> {
    match v {
        AttributeValues::Str(v) => v,
        other => panic!("expected strings, got {other:?}"),
    }
}

fn sel(ranges: &[(u64, u64)]) -> Selection {
    Selection::from_ranges(ranges.to_vec())
}

/// Two groups, edges interleaved, `edge_group_index` permuted:
/// edge:  0  1  2  3  4  5  6
/// group: 1  0  1  0  0  1  0
/// index: 2  1  0  0  2  1  3
fn two_groups() -> Fixture {
    let f = Fixture::new(7);
    f.write("edge_group_id", &[1u16, 0, 1, 0, 0, 1, 0])
        .write("edge_group_index", &[2u32, 1, 0, 0, 2, 1, 3])
        .write("0/syn_weight", &[10.0f64, 11.0, 12.0, 13.0])
        .write("1/syn_weight", &[20.0f32, 21.0, 22.0])
        .write("0/delay", &[0.5f32, 1.5, 2.5, 3.5])
        .write("0/count", &[-1i32, -2, -3, -4])
        .write("1/count", &[7u8, 8, 9])
        .write_strings("0/label", &["a0", "a1", "a2", "a3"])
        .write_strings("1/label", &["b0", "b1", "b2"])
        .write("0/nsyns", &[3u16, 4, 5, 6])
        .write("1/dynamics_params/tau", &[0.1f64, 0.2, 0.3]);
    f
}

// ---------------------------------------------------------------------------------------------
// Synthetic files

#[test]
fn fast_path_reads_group_0_by_edge_id() {
    let f = Fixture::new(6);
    f.write("0/conductance", &[0.5f32, 1.5, 2.5, 3.5, 4.5, 5.5])
        .write("0/afferent_section_id", &[10u32, 11, 12, 13, 14, 15])
        .write("0/spine_psd_id", &[-1i64, 2, -3, 4, -5, 6])
        .write("0/delay", &[0.25f64, 0.5, 0.75, 1.0, 1.25, 1.5]);
    let pop = f.population();
    let layout = pop.group_layout().unwrap();
    assert!(layout.is_implicit());
    assert_eq!(layout.groups, vec!["0"]);
    let s = sel(&[(4, 6), (0, 2)]);
    assert_eq!(
        floats(pop.attribute("conductance", &s).unwrap()),
        vec![0.5, 1.5, 4.5, 5.5]
    );
    assert_eq!(
        pop.attribute("afferent_section_id", &s).unwrap(),
        AttributeValues::UInt(vec![10, 11, 14, 15])
    );
    assert_eq!(
        pop.attribute("spine_psd_id", &Selection::all(6)).unwrap(),
        AttributeValues::Int(vec![-1, 2, -3, 4, -5, 6])
    );
    assert_eq!(
        floats(pop.attribute("delay", &sel(&[(3, 4)])).unwrap()),
        vec![1.0]
    );
    assert!(
        pop.attribute("delay", &Selection::empty())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        pop.attribute_names().unwrap(),
        vec![
            "afferent_section_id",
            "conductance",
            "delay",
            "spine_psd_id"
        ]
    );
    let cols = pop.attribute_columns().unwrap();
    let dtypes: Vec<(&str, &str, u64)> = cols
        .iter()
        .map(|c| (c.name.as_str(), c.dtype.as_str(), c.rows))
        .collect();
    assert_eq!(
        dtypes,
        vec![
            ("afferent_section_id", "uint32", 6),
            ("conductance", "float32", 6),
            ("delay", "float64", 6),
            ("spine_psd_id", "int64", 6)
        ]
    );
    assert!(
        cols.iter()
            .all(|c| c.group == "0" && c.kind == AttributeKind::Plain)
    );
    assert!(pop.has_attribute("delay").unwrap());
    assert!(!pop.has_attribute("nope").unwrap());
    assert!(NsynsReader::open(&pop).unwrap().is_none());
}

#[test]
fn fast_path_merges_far_ranges_and_splits_long_ones() {
    // More rows than one block (2^20) and ranges farther apart than the merge gap.
    let n = 1_100_000usize;
    let f = Fixture::new(n);
    let values: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    f.write("0/x", &values);
    let pop = f.population();
    let s = sel(&[(0, 3), (10, 12), (600_000, 600_001), (1_099_998, 1_100_000)]);
    let want: Vec<u64> = s
        .flatten()
        .iter()
        .map(|&e| values[e as usize] as u64)
        .collect();
    assert_eq!(pop.attribute("x", &s).unwrap(), AttributeValues::UInt(want));
    let all: Vec<u64> = values.iter().map(|&v| v as u64).collect();
    assert_eq!(
        pop.attribute("x", &Selection::all(n as u64)).unwrap(),
        AttributeValues::UInt(all)
    );
}

#[test]
fn two_groups_with_permuted_index() {
    let f = two_groups();
    let pop = f.population();
    assert_eq!(pop.attribute_groups().unwrap(), vec!["0", "1"]);
    let layout = pop.group_layout().unwrap();
    assert!(!layout.is_implicit());
    assert_eq!(layout.edge_group_id.as_deref(), Some("uint16"));
    assert_eq!(layout.edge_group_index.as_deref(), Some("uint32"));
    let all = Selection::all(7);
    // float64 in group 0, float32 in group 1: both floats.
    assert_eq!(
        floats(pop.attribute("syn_weight", &all).unwrap()),
        vec![22.0, 11.0, 20.0, 10.0, 12.0, 21.0, 13.0]
    );
    // int32 in group 0, uint8 in group 1: widened to signed.
    assert_eq!(
        pop.attribute("count", &all).unwrap(),
        AttributeValues::Int(vec![9, -2, 7, -1, -3, 8, -4])
    );
    assert_eq!(
        strings(pop.attribute("label", &all).unwrap()),
        vec!["b2", "a1", "b0", "a0", "a2", "b1", "a3"]
    );
    // A sub-selection keeps selection order (ascending edge ids).
    assert_eq!(
        strings(pop.attribute("label", &sel(&[(5, 7), (1, 3)])).unwrap()),
        vec!["a1", "b0", "b1", "a3"]
    );
    // `delay` exists only in group 0: fine for group-0 edges, an error naming group 1 otherwise.
    assert_eq!(
        floats(pop.attribute("delay", &sel(&[(3, 5)])).unwrap()),
        vec![0.5, 2.5]
    );
    let msg = invalid_message(pop.attribute("delay", &sel(&[(1, 3)])).unwrap_err());
    assert!(
        msg.contains("'delay'") && msg.contains("group '1'") && msg.contains("edge 2"),
        "{msg}"
    );
    assert_eq!(
        pop.attribute_names().unwrap(),
        vec!["count", "delay", "label", "nsyns", "syn_weight"]
    );
    assert_eq!(pop.dynamics_attribute_names().unwrap(), vec!["tau"]);
    assert_eq!(
        floats(
            pop.dynamics_attribute("tau", &sel(&[(0, 1), (5, 6)]))
                .unwrap()
        ),
        vec![0.3, 0.2]
    );
}

#[test]
fn duplicate_group_rows_are_shared() {
    let f = Fixture::new(4);
    f.write("edge_group_id", &[0u8, 0, 0, 0])
        .write("edge_group_index", &[1u8, 1, 0, 1])
        .write("0/w", &[5.0f64, 6.0])
        .write_strings("0/s", &["x", "y"]);
    let pop = f.population();
    assert_eq!(
        floats(pop.attribute("w", &Selection::all(4)).unwrap()),
        vec![6.0, 6.0, 5.0, 6.0]
    );
    assert_eq!(
        strings(pop.attribute("s", &Selection::all(4)).unwrap()),
        vec!["y", "y", "x", "y"]
    );
}

#[test]
fn float_group_ids_as_in_allen_files() {
    let f = Fixture::new(3);
    f.write("edge_group_id", &[0.0f64, 0.0, 0.0])
        .write("edge_group_index", &[2i64, 0, 1])
        .write("0/w", &[1.0f32, 2.0, 3.0]);
    let pop = f.population();
    assert_eq!(
        pop.group_layout().unwrap().edge_group_id.as_deref(),
        Some("float64")
    );
    assert_eq!(
        floats(pop.attribute("w", &Selection::all(3)).unwrap()),
        vec![3.0, 1.0, 2.0]
    );

    let f = Fixture::new(2);
    f.write("edge_group_id", &[0.0f64, 0.5])
        .write("edge_group_index", &[0i64, 1])
        .write("0/w", &[1.0f32, 2.0]);
    let msg = invalid_message(
        f.population()
            .attribute("w", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(
        msg.contains("edge_group_id") && msg.contains("0.5"),
        "{msg}"
    );

    let f = Fixture::new(2);
    f.write("edge_group_id", &[0i8, 0])
        .write("edge_group_index", &[0i8, -1])
        .write("0/w", &[1.0f32]);
    let msg = invalid_message(
        f.population()
            .attribute("w", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(
        msg.contains("edge_group_index") && msg.contains("negative"),
        "{msg}"
    );
}

#[test]
fn library_columns_resolve_to_strings() {
    let f = Fixture::new(5);
    f.write("0/mtype", &[2u32, 0, 1, 2, 0])
        .write_strings("0/@library/mtype", &["L1", "L23", "L5"]);
    f.write("0/bad", &[0i64, 3, 1, 0, 0])
        .write_strings("0/@library/bad", &["A", "B", "C"]);
    f.write("0/neg", &[0i64, 0, -1, 0, 0])
        .write_strings("0/@library/neg", &["A"]);
    f.write_strings("0/@library/orphan", &["A"]);
    f.write("0/plain", &[1u8, 2, 3, 4, 5]);
    let pop = f.population();
    let all = Selection::all(5);
    assert_eq!(
        strings(pop.attribute("mtype", &all).unwrap()),
        vec!["L5", "L1", "L23", "L5", "L1"]
    );
    assert_eq!(
        strings(pop.attribute("mtype", &sel(&[(1, 2), (3, 4)])).unwrap()),
        vec!["L1", "L5"]
    );
    assert_eq!(pop.enumeration("mtype", &all).unwrap(), vec![2, 0, 1, 2, 0]);
    assert_eq!(
        pop.enumeration_values("mtype").unwrap(),
        vec!["L1", "L23", "L5"]
    );
    // Out-of-range code: an error naming the column, the code and the table.
    let msg = invalid_message(pop.attribute("bad", &all).unwrap_err());
    assert!(
        msg.contains("0/bad") && msg.contains("code 3") && msg.contains("@library/bad"),
        "{msg}"
    );
    // Rows without the bad code are fine.
    assert_eq!(
        strings(pop.attribute("bad", &sel(&[(2, 5)])).unwrap()),
        vec!["B", "A", "A"]
    );
    let msg = invalid_message(pop.attribute("neg", &all).unwrap_err());
    assert!(
        msg.contains("0/neg") && msg.contains("code -1 at row 2"),
        "{msg}"
    );
    let msg = invalid_message(pop.enumeration("neg", &all).unwrap_err());
    assert!(msg.contains("0/neg") && msg.contains("negative"), "{msg}");
    // A table without a column is not an attribute; a column without a table not an enumeration.
    assert!(!pop.has_attribute("orphan").unwrap());
    assert!(pop.attribute("orphan", &all).is_err());
    let msg = invalid_message(pop.enumeration("plain", &all).unwrap_err());
    assert!(msg.contains("not an enumeration"), "{msg}");
    assert!(
        invalid_message(pop.enumeration_values("plain").unwrap_err())
            .contains("not an enumeration")
    );
    let cols = pop.attribute_columns().unwrap();
    let mtype = cols.iter().find(|c| c.name == "mtype").unwrap();
    assert_eq!(mtype.kind, AttributeKind::Library);
    assert_eq!(mtype.dtype, "enum(uint32)->@library");
    assert_eq!(
        pop.attribute_names().unwrap(),
        vec!["bad", "mtype", "neg", "plain"]
    );
}

#[test]
fn string_columns_of_every_storage() {
    let f = Fixture::new(3);
    f.write_strings("0/utf8", &["é", "", "naïve"]);
    let ascii: Vec<VarLenAscii> = ["ab", "c", "def"]
        .iter()
        .map(|s| VarLenAscii::from_ascii(s).unwrap())
        .collect();
    f.write("0/ascii", &ascii);
    let fixed: Vec<FixedAscii<4>> = ["ab", "wxyz", ""]
        .iter()
        .map(|s| FixedAscii::from_ascii(s).unwrap())
        .collect();
    f.write("0/fixed", &fixed);
    let pop = f.population();
    let all = Selection::all(3);
    assert_eq!(
        strings(pop.attribute("utf8", &all).unwrap()),
        vec!["é", "", "naïve"]
    );
    assert_eq!(
        strings(pop.attribute("ascii", &all).unwrap()),
        vec!["ab", "c", "def"]
    );
    assert_eq!(
        strings(pop.attribute("fixed", &all).unwrap()),
        vec!["ab", "wxyz", ""]
    );
    assert_eq!(
        strings(pop.attribute("fixed", &sel(&[(1, 2)])).unwrap()),
        vec!["wxyz"]
    );
    let cols = pop.attribute_columns().unwrap();
    assert!(cols.iter().all(|c| c.dtype == "string"), "{cols:?}");
}

#[derive(H5Type, Clone, Copy)]
#[repr(i16)]
enum Color {
    Red = 0,
    Green = 1,
    Blue = -7,
}

#[test]
fn hdf5_enums_and_booleans_are_integers() {
    let f = Fixture::new(3);
    f.write("0/color", &[Color::Green, Color::Blue, Color::Red])
        .write("0/flag", &[true, false, true]);
    let pop = f.population();
    let all = Selection::all(3);
    assert_eq!(
        pop.attribute("color", &all).unwrap(),
        AttributeValues::Int(vec![1, -7, 0])
    );
    assert_eq!(
        pop.attribute("flag", &all).unwrap(),
        AttributeValues::UInt(vec![1, 0, 1])
    );
    let cols = pop.attribute_columns().unwrap();
    let dtypes: Vec<&str> = cols.iter().map(|c| c.dtype.as_str()).collect();
    assert_eq!(dtypes, vec!["enum(int16)", "bool"]);
}

#[test]
fn dynamics_params_are_separate() {
    let f = Fixture::new(3);
    f.write("0/w", &[1.0f32, 2.0, 3.0])
        .write("0/dynamics_params/tau", &[5.0f64, 6.0, 7.0])
        .write_strings("0/dynamics_params/model", &["m0", "m1", "m2"]);
    let pop = f.population();
    assert_eq!(pop.attribute_names().unwrap(), vec!["w"]);
    assert_eq!(
        pop.dynamics_attribute_names().unwrap(),
        vec!["model", "tau"]
    );
    assert!(!pop.has_attribute("dynamics_params").unwrap());
    assert!(!pop.has_attribute("tau").unwrap());
    assert_eq!(
        floats(pop.dynamics_attribute("tau", &sel(&[(1, 3)])).unwrap()),
        vec![6.0, 7.0]
    );
    assert_eq!(
        strings(pop.dynamics_attribute("model", &sel(&[(0, 1)])).unwrap()),
        vec!["m0"]
    );
    assert!(
        invalid_message(pop.dynamics_attribute("w", &Selection::all(3)).unwrap_err())
            .contains("dynamics attribute 'w'")
    );
    assert!(pop.attribute("tau", &Selection::all(3)).is_err());
    assert!(
        pop.attribute("dynamics_params", &Selection::all(3))
            .is_err()
    );
    let cols = pop.attribute_columns().unwrap();
    let kinds: Vec<(&str, AttributeKind)> =
        cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("w", AttributeKind::Plain),
            ("model", AttributeKind::Dynamics),
            ("tau", AttributeKind::Dynamics)
        ]
    );
}

#[test]
fn nsyns_with_groups_counts_one_for_groups_without_it() {
    let f = two_groups();
    let pop = f.population();
    let mut reader = NsynsReader::open(&pop).unwrap().unwrap();
    // Group 0 rows: edge 1 -> 4, edge 3 -> 3, edge 4 -> 5, edge 6 -> 6; group 1 edges count 1.
    let want = [1u64, 4, 1, 3, 5, 1, 6];
    let mut out = vec![0u64; 7];
    reader.read_range_into(0, &mut out).unwrap();
    assert_eq!(out, want);
    for chunk in 1..=7 {
        let mut got = Vec::new();
        let mut first = 0u64;
        while first < 7 {
            let n = chunk.min(7 - first as usize);
            let mut buf = vec![u64::MAX; n];
            reader.read_range_into(first, &mut buf).unwrap();
            got.extend(buf);
            first += n as u64;
        }
        assert_eq!(got, want, "chunk {chunk}");
    }
    let mut past = vec![0u64; 2];
    assert!(matches!(
        reader.read_range_into(6, &mut past),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn nsyns_in_the_common_bmtk_layouts() {
    // Implicit layout.
    let f = Fixture::new(4);
    f.write("0/nsyns", &[2u16, 3, 4, 5]);
    let mut reader = NsynsReader::open(&f.population()).unwrap().unwrap();
    let mut out = vec![0u64; 3];
    reader.read_range_into(1, &mut out).unwrap();
    assert_eq!(out, vec![3, 4, 5]);

    // bmtk: one group, identity index.
    let f = Fixture::new(4);
    f.write("edge_group_id", &[0u16; 4])
        .write("edge_group_index", &[0u32, 1, 2, 3])
        .write("0/nsyns", &[2u16, 3, 4, 5]);
    let mut reader = NsynsReader::open(&f.population()).unwrap().unwrap();
    let mut out = vec![0u64; 4];
    reader.read_range_into(0, &mut out).unwrap();
    assert_eq!(out, vec![2, 3, 4, 5]);

    // Contiguous rows in reverse edge order.
    let f = Fixture::new(4);
    f.write("edge_group_id", &[0u16; 4])
        .write("edge_group_index", &[3u32, 2, 1, 0])
        .write("0/nsyns", &[2u16, 3, 4, 5]);
    let mut reader = NsynsReader::open(&f.population()).unwrap().unwrap();
    reader.read_range_into(0, &mut out).unwrap();
    assert_eq!(out, vec![5, 4, 3, 2]);

    // A string nsyns column is refused; a short one is reported.
    let f = Fixture::new(2);
    f.write_strings("0/nsyns", &["1", "2"]);
    let msg = invalid_message(NsynsReader::open(&f.population()).unwrap_err());
    assert!(msg.contains("0/nsyns") && msg.contains("number"), "{msg}");
    let f = Fixture::new(3);
    f.write("0/nsyns", &[1u8, 2]);
    let mut reader = NsynsReader::open(&f.population()).unwrap().unwrap();
    let mut out = vec![0u64; 3];
    let msg = invalid_message(reader.read_range_into(0, &mut out).unwrap_err());
    assert!(
        msg.contains("0/nsyns") && msg.contains("2 rows") && msg.contains("row 2"),
        "{msg}"
    );
}

#[test]
fn short_columns_are_reported_with_both_lengths() {
    let f = Fixture::new(5);
    f.write("0/x", &[1.0f32, 2.0, 3.0]);
    let pop = f.population();
    assert_eq!(
        floats(pop.attribute("x", &sel(&[(0, 3)])).unwrap()),
        vec![1.0, 2.0, 3.0]
    );
    let msg = invalid_message(pop.attribute("x", &sel(&[(1, 2), (4, 5)])).unwrap_err());
    assert!(
        msg.contains("'0/x'") && msg.contains("3 rows") && msg.contains("row 4"),
        "{msg}"
    );

    let f2 = Fixture::new(2);
    f2.write("edge_group_id", &[0u8, 0])
        .write("edge_group_index", &[0u8, 9])
        .write("0/x", &[1.0f32, 2.0]);
    let msg = invalid_message(
        f2.population()
            .attribute("x", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(
        msg.contains("'0/x'") && msg.contains("2 rows") && msg.contains("edge_group_index 9"),
        "{msg}"
    );
}

#[test]
fn missing_attributes_and_groups_are_named() {
    let f = Fixture::new(2);
    f.write("0/x", &[1.0f32, 2.0]);
    let pop = f.population();
    let msg = invalid_message(pop.attribute("nope", &Selection::all(2)).unwrap_err());
    assert!(
        msg.contains("no attribute 'nope'") && msg.contains("group '0'"),
        "{msg}"
    );
    assert!(
        msg.contains("population 'pop'") && msg.contains("edges.h5"),
        "{msg}"
    );
    assert!(
        invalid_message(pop.attribute("nope", &Selection::empty()).unwrap_err()).contains("nope")
    );

    let f = Fixture::new(2);
    f.write("edge_group_id", &[0u8, 2])
        .write("edge_group_index", &[0u8, 0])
        .write("0/x", &[1.0f32]);
    let msg = invalid_message(
        f.population()
            .attribute("x", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(
        msg.contains("edge_group_id") && msg.contains("no group '2'") && msg.contains("edge 1"),
        "{msg}"
    );

    let f = Fixture::new(2);
    f.write("edge_group_id", &[0u8, 0])
        .write("0/x", &[1.0f32, 2.0]);
    let msg = invalid_message(
        f.population()
            .attribute("x", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(msg.contains("edge_group_index"), "{msg}");

    // No group at all.
    let f = Fixture::new(2);
    let msg = invalid_message(
        f.population()
            .attribute("x", &Selection::all(2))
            .unwrap_err(),
    );
    assert!(msg.contains("no group '0'"), "{msg}");
    assert!(f.population().attribute_groups().unwrap().is_empty());
    assert!(f.population().attribute_columns().unwrap().is_empty());
}

#[test]
fn selection_past_the_edges_is_an_argument_error() {
    let f = Fixture::new(2);
    f.write("0/x", &[1.0f32, 2.0, 3.0]);
    let err = f.population().attribute("x", &sel(&[(1, 3)])).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[test]
fn null_space_scalar_and_2d_datasets_do_not_crash() {
    let f = Fixture::new(2);
    f.write("0/x", &[1.0f32, 2.0]);
    let (g, _) = f.parent("0/x");
    g.new_dataset::<f64>()
        .shape(hdf5::Extents::Null)
        .create("null")
        .unwrap();
    g.new_dataset::<f64>().shape(()).create("scalar").unwrap();
    g.new_dataset::<u32>()
        .shape((2, 2))
        .create("matrix")
        .unwrap();
    drop(g);
    let pop = f.population();
    assert_eq!(pop.attribute_names().unwrap(), vec!["x"]);
    assert!(!pop.has_attribute("null").unwrap());
    for name in ["null", "scalar", "matrix"] {
        let msg = invalid_message(pop.attribute(name, &Selection::all(2)).unwrap_err());
        assert!(msg.contains(&format!("0/{name}")), "{msg}");
    }
}

// ---------------------------------------------------------------------------------------------
// Sample files (values read with h5py and written here as literals)

fn samples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sonata_samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/sonata_samples is absent (sample-file checks need it)");
        None
    }
}

#[test]
fn snap_edges_sample() {
    let Some(dir) = samples_dir() else { return };
    let file = EdgeFile::open(dir.join("BlueBrain/snap/tests/data/edges.h5")).unwrap();
    let pop = file.population("default").unwrap();
    let all = Selection::all(4);
    // h5py: edges/default/0/conductance (float32)
    assert_eq!(
        floats(pop.attribute("conductance", &all).unwrap()),
        vec![
            99.5716552734375,
            13.985464096069336,
            96.29266357421875,
            82.18058013916016
        ]
    );
    assert_eq!(
        floats(pop.attribute("delay", &sel(&[(1, 2), (3, 4)])).unwrap()),
        vec![88.18622589111328, 11.105833053588867]
    );
    assert_eq!(
        pop.attribute("afferent_section_id", &all).unwrap(),
        AttributeValues::Int(vec![0; 4])
    );
    assert_eq!(
        floats(pop.dynamics_attribute("param1", &all).unwrap()),
        vec![0.0, 1.0, 2.0, 3.0]
    );
    assert_eq!(pop.dynamics_attribute_names().unwrap(), vec!["param1"]);
    let layout = pop.group_layout().unwrap();
    assert_eq!(layout.edge_group_id.as_deref(), Some("int8"));
    assert_eq!(layout.groups, vec!["0"]);
    assert_eq!(pop.attribute_names().unwrap().len(), 19);

    let pop = file.population("default2").unwrap();
    assert_eq!(
        strings(pop.attribute("other1", &all).unwrap()),
        vec!["A", "B", "C", "D"]
    );
    assert_eq!(
        pop.attribute("other2", &sel(&[(2, 4)])).unwrap(),
        AttributeValues::Int(vec![12, 13])
    );
    assert!(pop.has_attribute("other1").unwrap());
    assert!(
        !file
            .population("default")
            .unwrap()
            .has_attribute("other1")
            .unwrap()
    );
}

#[test]
fn allen_300_intfire_nsyns_sample() {
    let Some(dir) = samples_dir() else { return };
    let path = dir.join("AllenInstitute/sonata/examples/300_intfire/network/v1_v1_edges.h5");
    let pop = EdgeFile::open(path)
        .unwrap()
        .population("v1_to_v1")
        .unwrap();
    assert_eq!(pop.size(), 61_560);
    // h5py: 0/nsyns is uint16, every value 10, sum 615,600; edge_group_id uint16 all 0,
    // edge_group_index uint32 = 0..61560.
    let layout = pop.group_layout().unwrap();
    assert_eq!(layout.edge_group_id.as_deref(), Some("uint16"));
    assert_eq!(layout.edge_group_index.as_deref(), Some("uint32"));
    assert_eq!(pop.attribute_names().unwrap(), vec!["nsyns"]);
    assert_eq!(
        pop.attribute("nsyns", &sel(&[(0, 3), (61_559, 61_560)]))
            .unwrap(),
        AttributeValues::UInt(vec![10; 4])
    );
    let mut reader = NsynsReader::open(&pop).unwrap().unwrap();
    let mut total = 0u64;
    let mut buf = vec![0u64; 4096];
    let mut first = 0u64;
    while first < pop.size() {
        let n = (pop.size() - first).min(buf.len() as u64) as usize;
        reader.read_range_into(first, &mut buf[..n]).unwrap();
        assert!(buf[..n].iter().all(|&v| v == 10));
        total += buf[..n].iter().sum::<u64>();
        first += n as u64;
    }
    assert_eq!(total, 615_600);
}

#[test]
fn libsonata_edges1_sample() {
    let Some(dir) = samples_dir() else { return };
    let path = dir.join("openbraininstitute/libsonata/tests/data/edges1.h5");
    let pop = EdgeFile::open(path)
        .unwrap()
        .population("edges-AB")
        .unwrap();
    let all = Selection::all(6);
    // h5py: attr-X float64 [11..16], attr-Y int64 [21..26], attr-Z vlen utf-8 [aa..ff],
    // E-mapping-good int64 [2,1,2,0,2,2] with @library [A,B,C], E-mapping-bad [2,3,1,0,-1,2],
    // A-enum int32 enum {RED: 0, GREEN: 1} = [0, 1] (2 rows), A-double etc. null dataspace.
    assert_eq!(
        floats(pop.attribute("attr-X", &all).unwrap()),
        vec![11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
    );
    assert_eq!(
        pop.attribute("attr-Y", &sel(&[(0, 1), (5, 6)])).unwrap(),
        AttributeValues::Int(vec![21, 26])
    );
    assert_eq!(
        strings(pop.attribute("attr-Z", &sel(&[(0, 2)])).unwrap()),
        vec!["aa", "bb"]
    );
    assert_eq!(
        strings(pop.attribute("E-mapping-good", &all).unwrap()),
        vec!["C", "B", "C", "A", "C", "C"]
    );
    assert_eq!(
        pop.enumeration("E-mapping-good", &all).unwrap(),
        vec![2, 1, 2, 0, 2, 2]
    );
    assert_eq!(
        pop.enumeration_values("E-mapping-good").unwrap(),
        vec!["A", "B", "C"]
    );
    // libsonata raises on out-of-range codes; the first bad one in row order is reported.
    let msg = invalid_message(pop.attribute("E-mapping-bad", &all).unwrap_err());
    assert!(msg.contains("code 3 at row 1"), "{msg}");
    assert!(pop.attribute("E-mapping-bad", &sel(&[(1, 2)])).is_err());
    assert_eq!(
        strings(pop.attribute("E-mapping-bad", &sel(&[(2, 4)])).unwrap()),
        vec!["B", "A"]
    );
    assert_eq!(
        pop.attribute("A-enum", &sel(&[(0, 2)])).unwrap(),
        AttributeValues::Int(vec![0, 1])
    );
    assert!(pop.attribute("A-enum", &all).is_err());
    assert!(pop.attribute("A-double", &all).is_err());
    assert!(pop.attribute("E-mapping-ugly", &all).is_err());
    assert_eq!(
        strings(pop.dynamics_attribute("dparam-Z", &sel(&[(4, 6)])).unwrap()),
        vec!["d-ee", "d-ff"]
    );
    assert_eq!(
        pop.dynamics_attribute_names().unwrap(),
        vec!["dparam-X", "dparam-Y", "dparam-Z"]
    );
    assert_eq!(
        pop.attribute_names().unwrap(),
        vec![
            "A-enum",
            "E-mapping-bad",
            "E-mapping-good",
            "attr-X",
            "attr-Y",
            "attr-Z"
        ]
    );
    let cols = pop.attribute_columns().unwrap();
    let enum_col = cols.iter().find(|c| c.name == "A-enum").unwrap();
    assert_eq!((enum_col.dtype.as_str(), enum_col.rows), ("enum(int32)", 2));
    let lib = cols.iter().find(|c| c.name == "E-mapping-good").unwrap();
    assert_eq!(lib.dtype, "enum(int64)->@library");
}

#[test]
fn allen_edge_index_example_sample() {
    let Some(dir) = samples_dir() else { return };
    let path = dir.join("AllenInstitute/sonata/examples/edges/edge_index_example.h5");
    let pop = EdgeFile::open(path).unwrap().population("example").unwrap();
    // h5py: edge_group_id float64 (all 0.0), edge_group_index int64, group 0 empty.
    let layout = pop.group_layout().unwrap();
    assert_eq!(layout.edge_group_id.as_deref(), Some("float64"));
    assert_eq!(layout.edge_group_index.as_deref(), Some("int64"));
    assert_eq!(layout.groups, vec!["0"]);
    assert!(pop.attribute_columns().unwrap().is_empty());
    assert!(NsynsReader::open(&pop).unwrap().is_none());
    let msg = invalid_message(
        pop.attribute("syn_weight", &Selection::all(33))
            .unwrap_err(),
    );
    assert!(msg.contains("group '0'"), "{msg}");
}
