//! SONATA node files (`sonata::nodes`: every kind of column in selection order, `@library`
//! codes, explicit groups) and circuit configs (`sonata::config`: manifest, relative paths), as
//! the neurodamus cell readers use them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod cell_fixtures;
mod common;

use std::path::PathBuf;

use sonata_census::Error;
use sonata_census::sonata::attributes::AttributeValues;
use sonata_census::sonata::config::CircuitConfig;
use sonata_census::sonata::nodes::NodeFile;

use common::locked;

use cell_fixtures::*;

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
