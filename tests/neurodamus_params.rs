//! neurodamus `SynapseParameters`: the delay patch (bit-exact), the constrained Hill formula,
//! and every record layout with its scaling.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
mod neurodamus_fixtures;

use sonata_census::neurodamus::synapse_params::{
    EXP2SYN, GAP_JUNCTION, NEUROGLIA, NEUROMODULATION, POINT_PROCESS, SYNAPSE,
};
use sonata_census::neurodamus::{
    DataColumn, FieldType, GidData, ReaderVariant, constrained_hill, patch_delay,
};
use sonata_census::sonata::attributes::AttributeValues;

use neurodamus_fixtures::*;

#[test]
fn delay_patch_is_bit_exact() {
    let _serial = serial();
    // The values neurodamus's docstring cites, and the truncation (not rounding) it performs.
    assert_eq!(patch_delay(4.1182013, 0.025), 4.1000000000000005);
    assert_eq!(
        patch_delay(4.1182013, 0.025).to_bits(),
        (164.0f64 * 0.025).to_bits()
    );
    assert_eq!(patch_delay(6.7543907, 0.025), 270.0 * 0.025);
    // 0.0749999 is within 1e-5 steps of 0.075: it goes up; 0.07 goes down to 0.05.
    assert_eq!(patch_delay(0.0749999, 0.025), 3.0 * 0.025);
    assert_eq!(patch_delay(0.07, 0.025), 2.0 * 0.025);
    assert_eq!(patch_delay(0.0, 0.025), 0.0);
    for (i, d) in [0.1f64, 0.3, 1.7, 2.45, 15.0, 33.3333]
        .into_iter()
        .enumerate()
    {
        for dt in [0.025f64, 0.1, 0.01, 0.0125] {
            let steps = ((d / dt) + 1e-5).trunc();
            let want = steps * dt;
            assert_eq!(
                patch_delay(d, dt).to_bits(),
                want.to_bits(),
                "case {i}: {d} {dt}"
            );
        }
    }
}

#[test]
fn constrained_hill_formula() {
    let _serial = serial();
    // Factor 1 at y = 2 whatever K.
    for k in [0.0, 0.5, 1.0, 1.94, 2.79, 9.9] {
        assert_eq!(constrained_hill(k, 2.0), 1.0, "K = {k}");
    }
    for (k, y) in [
        (1.89, 1.25),
        (1.68, 1.25),
        (2.79, 1.2),
        (0.3, 2.2),
        (-1.0, 1.2),
    ] {
        let k4 = k * k * k * k;
        let y4 = y * y * y * y;
        let want = (k4 + 16.0) / 16.0 * y4 / (k4 + y4);
        let got = constrained_hill(k, y);
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
            "{k} {y}"
        );
    }
    // neurodamus's verified example: usecase3 gid 1 at Ca = 1.25.
    assert!((0.5185 * constrained_hill(1.89, 1.25) - 0.1495).abs() < 5e-4);
    assert!((0.5073 * constrained_hill(1.68, 1.25) - 0.1783).abs() < 5e-4);
    // K = -1 (absent u_hill in 4.2.4) would scale 18 to 12.9027.
    assert!((18.0 * constrained_hill(-1.0, 1.2) - 12.9027).abs() < 1e-4);
}

fn data_of(columns: &[(&str, DataColumn)]) -> GidData {
    let mut d = GidData::new();
    for (n, c) in columns {
        d.insert(n, c.clone());
    }
    d
}

#[test]
fn record_layouts_and_scaling() {
    let _serial = serial();
    assert_eq!(SYNAPSE.fields.len(), 16);
    assert_eq!(SYNAPSE.all_fields()[0], "sgid");
    assert_eq!(SYNAPSE.load_fields().len(), 14);
    assert!(!SYNAPSE.load_fields().contains(&"maskValue"));
    let dtype = SYNAPSE.dtype(&["b".into(), "a".into()]);
    assert_eq!(dtype.len(), 18);
    assert_eq!(dtype[16], ("b".to_string(), FieldType::F64));
    assert_eq!(dtype[2].1.numpy_str(), "<i4");
    let f = SYNAPSE.fields(&["isec", "ipt", "offset", "sgid"], &[("U", "u_syn")]);
    assert_eq!(f.len(), 10);
    let u = f.iter().find(|f| f.name == "U").unwrap();
    assert_eq!(u.sonata_name, "u_syn");
    assert!(
        f.iter()
            .find(|f| f.name == "u_hill_coefficient")
            .unwrap()
            .optional
    );
    for (set, first, n) in [
        (GAP_JUNCTION, "sgid", 8),
        (NEUROMODULATION, "sgid", 9),
        (POINT_PROCESS, "sgid", 6),
        (EXP2SYN, "sgid", 12),
        (NEUROGLIA, "tgid", 5),
    ] {
        assert_eq!(set.fields[0].name, first);
        assert_eq!(set.fields.len(), n, "{}", set.class_name);
    }
    let neuroglial = ReaderVariant::from_name("NeuroGlialSynapseReader").unwrap();
    assert!(!neuroglial.lookup_by_target);
    assert_eq!(neuroglial.name, "neuroglial");

    // A record built from data in the test, scaled at Ca = 1.2 with U and one extra variable.
    let k = vec![1.5, 2.79];
    let data = data_of(&[
        (
            "sgid",
            DataColumn::Values(AttributeValues::UInt(vec![4, 9])),
        ),
        (
            "delay",
            DataColumn::Values(AttributeValues::Float(vec![1.01, 0.4999])),
        ),
        ("isec", DataColumn::Values(AttributeValues::Int(vec![3, 4]))),
        ("ipt", DataColumn::Scalar(-1)),
        (
            "offset",
            DataColumn::Values(AttributeValues::Float(vec![0.5, 0.25])),
        ),
        (
            "weight",
            DataColumn::Values(AttributeValues::Float(vec![1.0, 2.0])),
        ),
        (
            "U",
            DataColumn::Values(AttributeValues::Float(vec![0.5, 0.25])),
        ),
        ("D", DataColumn::Scalar(1)),
        ("F", DataColumn::Scalar(2)),
        ("DTC", DataColumn::Scalar(3)),
        (
            "synType",
            DataColumn::Values(AttributeValues::Float(vec![113.7, -2.5])),
        ),
        (
            "nrrp",
            DataColumn::Values(AttributeValues::UInt(vec![1, 2])),
        ),
        (
            "u_hill_coefficient",
            DataColumn::Values(AttributeValues::Float(k.clone())),
        ),
        (
            "gmax",
            DataColumn::Values(AttributeValues::Float(vec![10.0, 20.0])),
        ),
    ]);
    let extra = vec!["gmax".to_string()];
    let t = SYNAPSE
        .make_synapse_parameters_array(&data, &extra, Some(1.2), &extra, 0.025)
        .unwrap();
    assert_eq!(t.len(), 2);
    let s: Vec<f64> = k.iter().map(|&k| constrained_hill(k, 1.2)).collect();
    assert_eq!(
        t.f64_column("U").unwrap().to_vec(),
        vec![0.5 * s[0], 0.25 * s[1]]
    );
    assert_eq!(
        t.f64_column("gmax").unwrap().to_vec(),
        vec![10.0 * s[0], 20.0 * s[1]]
    );
    assert_eq!(
        t.f64_column("delay").unwrap().to_vec(),
        vec![40.0 * 0.025, 19.0 * 0.025]
    );
    assert_eq!(t.int_column("synType").unwrap(), vec![113, -2]);
    assert_eq!(
        t.f64_column("conductance_ratio").unwrap().to_vec(),
        vec![-1.0, -1.0]
    );
    assert_eq!(
        t.f64_column("maskValue").unwrap().to_vec(),
        vec![-1.0, -1.0]
    );
    assert_eq!(t.f64_column("location").unwrap().to_vec(), vec![0.5, 0.5]);
    let row = t.row(1).unwrap();
    assert_eq!(row[0], ("sgid", sonata_census::neurodamus::Value::Int(9)));
    assert!(t.row(2).is_none());
    // Empty data: the base layout, extra fields dropped.
    let e = SYNAPSE
        .make_synapse_parameters_array(&GidData::new(), &extra, Some(1.2), &extra, 0.025)
        .unwrap();
    assert_eq!((e.len(), e.field_names().len()), (0, 16));
    // No calcium: U untouched; missing mandatory data: the neurodamus message.
    let t = SYNAPSE
        .make_synapse_parameters_array(&data, &[], None, &[], 0.025)
        .unwrap();
    assert_eq!(t.f64_column("U").unwrap().to_vec(), vec![0.5, 0.25]);
    let err = SYNAPSE
        .make_synapse_parameters_array(&data, &["zz".into()], None, &[], 0.025)
        .unwrap_err();
    assert!(
        err.to_string().contains("missing mandatory attribute zz"),
        "{err}"
    );
}
