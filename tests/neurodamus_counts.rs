//! neurodamus `synapse_reader` counts and errors on generated files: files not grouped by
//! target keep every synapse (minimal mode: the first edge), counts equal a naive count of the
//! raw ids, errors are typed, late overrides apply, and large batches come from one census.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;
mod neurodamus_fixtures;

use std::collections::BTreeMap;

use sonata_census::Error;
use sonata_census::census::{Backend, CensusOptions};
use sonata_census::generate::{AttributeSet, EdgeOrder, GenerateOptions, generate};
use sonata_census::neurodamus::synapse_reader::EXP2SYN_READER;
use sonata_census::neurodamus::{ReaderOptions, SonataReader};
use sonata_census::progress::Progress;

use neurodamus_fixtures::*;

/// On a shuffled file every synapse of a gid is kept, in edge order, and minimal mode gives one
/// synapse per target: its first edge (neurodamus gives one per run of equal targets).
#[test]
fn unsorted_files_keep_every_synapse() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), EdgeOrder::Shuffled, 1200, 6000, 21);
    let (targets, sources) = raw_ids(&path);
    let mut full = SonataReader::open(&path, Some(POP), ReaderOptions::default()).unwrap();
    let mut minimal = SonataReader::open(&path, Some(POP), ReaderOptions::default()).unwrap();
    let all: Vec<u64> = (0..1200).collect();
    minimal
        .preload_data(&all, true, &Progress::hidden())
        .unwrap();
    for gid in [0u64, 7, 500, 1199] {
        let edges: Vec<usize> = (0..targets.len()).filter(|&e| targets[e] == gid).collect();
        let p = full.get_synapse_parameters(gid).unwrap().clone();
        let want_sgid: Vec<i64> = edges.iter().map(|&e| sources[e] as i64).collect();
        assert_eq!(p.int_column("sgid").unwrap(), want_sgid, "gid {gid}");
        let m = minimal.get_synapse_parameters(gid).unwrap().clone();
        if edges.is_empty() {
            assert!(m.is_empty());
            continue;
        }
        assert_eq!(m.len(), 1, "gid {gid}: one synapse in minimal mode");
        assert_eq!(m.int_column("sgid").unwrap(), vec![want_sgid[0]]);
        assert_eq!(m.int_column("isec").unwrap(), vec![0]);
        assert_eq!(m.int_column("ipt").unwrap(), vec![-1]);
        assert_eq!(m.f64_column("offset").unwrap().to_vec(), vec![0.0]);
        assert_eq!(
            m.f64_column("weight").unwrap()[0].to_bits(),
            p.f64_column("weight").unwrap()[0].to_bits()
        );
        assert_eq!(
            synapse_index(&minimal, gid),
            vec![edges[0] as u64],
            "gid {gid}: first edge"
        );
    }
}

/// Counts equal a naive count of the raw ids; duplicates collapse; ids beyond the index get 0.
#[test]
fn counts_against_naive_reference() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for order in [EdgeOrder::Sorted, EdgeOrder::Shuffled] {
        let path = small_file(dir.path(), order, 300, 20_000, 5);
        let (targets, sources) = raw_ids(&path);
        let mut reader = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
        let query = [299u64, 3, 3, 1000, 17, u64::MAX, 0];
        let mut naive: BTreeMap<u64, BTreeMap<u64, u64>> = BTreeMap::new();
        for (&t, &s) in targets.iter().zip(&sources) {
            if query.contains(&t) {
                *naive.entry(t).or_default().entry(s).or_default() += 1;
            }
        }
        let mut want: Vec<(u64, u64)> = naive.iter().map(|(t, m)| (*t, m.values().sum())).collect();
        for q in [299u64, 3, 1000, 17, u64::MAX, 0] {
            if !naive.contains_key(&q) {
                want.push((q, 0));
            }
        }
        assert_eq!(reader.get_counts(&query).unwrap(), want);
        let got = reader.get_conn_counts(&query).unwrap();
        let keys: Vec<u64> = got.iter().map(|(t, _)| *t).collect();
        assert_eq!(keys, vec![299, 3, 1000, 17, u64::MAX, 0]);
        for (t, m) in got {
            assert_eq!(m, naive.get(&t).cloned().unwrap_or_default(), "target {t}");
        }
        assert!(reader.get_counts(&[]).unwrap().is_empty());
        assert!(reader.get_conn_counts(&[]).unwrap().is_empty());

        // The census engine gives the same answers, in the same order.
        let mut by_census = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
        let options = CensusOptions {
            backend: Backend::Cpu,
            ..CensusOptions::default()
        };
        by_census
            .count_with_census(&options, &Progress::hidden())
            .unwrap();
        let all: Vec<u64> = (0..310).rev().chain(query).collect();
        assert_eq!(
            by_census.get_counts(&all).unwrap(),
            reader.get_counts(&all).unwrap()
        );
        assert_eq!(
            by_census.get_conn_counts(&all).unwrap(),
            reader.get_conn_counts(&all).unwrap()
        );
    }
}

#[test]
fn errors_are_typed() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // No index: a clear error naming the population.
    let path = dir.path().join("noindex.h5");
    let options = GenerateOptions {
        nodes: 10,
        edges: 100,
        write_index: false,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).unwrap();
    let mut reader = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    let err = reader.get_counts(&[0]).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
    assert!(
        err.to_string().contains("indices/target_to_source"),
        "{err}"
    );
    assert!(reader.get_conn_counts(&[0]).is_err());
    assert!(reader.get_synapse_parameters(0).is_err());

    // Several populations and none named.
    let path = dir.path().join("two.h5");
    let options = GenerateOptions {
        nodes: 10,
        edges: 100,
        populations: 2,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).unwrap();
    let err = SonataReader::open(&path, None, ReaderOptions::default()).unwrap_err();
    assert!(err.to_string().contains("2 edge populations"), "{err}");
    let err = SonataReader::open(&path, Some("nope"), ReaderOptions::default()).unwrap_err();
    assert!(matches!(err, Error::PopulationNotFound { .. }));

    // Missing mandatory attributes: the Exp2Syn reader needs tau1; an override field is mandatory.
    let path = small_file(dir.path(), EdgeOrder::Sorted, 10, 100, 3);
    let options = ReaderOptions {
        variant: &EXP2SYN_READER,
        ..ReaderOptions::default()
    };
    let mut reader = SonataReader::open(&path, None, options).unwrap();
    let err = reader.get_synapse_parameters(1).unwrap_err();
    assert!(
        err.to_string()
            .contains("Missing attribute erev in the SONATA edge file"),
        "{err}"
    );
    let mut reader = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    reader.configure_override(&["no_such_column"], &[]);
    let err = reader.get_synapse_parameters(1).unwrap_err();
    assert!(
        err.to_string().contains("Missing attribute no_such_column"),
        "{err}"
    );
    assert!(reader.get_property(5, "synapse_index").is_err());
    let err = SonataReader::open(
        &path,
        None,
        ReaderOptions {
            dt: 0.0,
            ..ReaderOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
}

/// An override configured after a gid was built is honoured (neurodamus keeps the stale record
/// and, for data loaded earlier, fails with "Missing mandatory attribute").
#[test]
fn late_override_is_applied() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), EdgeOrder::Sorted, 20, 400, 4);
    let mut reader = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    let before = reader.get_synapse_parameters(2).unwrap().clone();
    reader.configure_override(&["u_syn", "afferent_section_type"], &[]);
    let after = reader.get_synapse_parameters(2).unwrap().clone();
    let names: Vec<&str> = after.field_names().iter().map(String::as_str).collect();
    assert_eq!(&names[16..], &["afferent_section_type", "u_syn"]);
    // No u_hill in the file: u_syn is not scaled and equals U.
    assert_eq!(after.f64_column("u_syn"), before.f64_column("U"));
    // Sticky: an empty list keeps the fields.
    reader.configure_override::<&str>(&[], &[]);
    assert_eq!(
        reader.extra_fields(),
        vec!["afferent_section_type", "u_syn"]
    );
}

/// A batch covering most of a large population is answered from one census (one streamed pass)
/// with exactly the answers of the index path; small batches keep the index path.
#[test]
fn large_batches_are_answered_from_one_census() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.h5");
    let edges = sonata_census::neurodamus::synapse_reader::AUTO_CENSUS_MIN_EDGES + 4321;
    let options = GenerateOptions {
        nodes: 3000,
        edges,
        order: EdgeOrder::Shuffled,
        attributes: AttributeSet::None,
        seed: 9,
        ..GenerateOptions::default()
    };
    generate(&path, &options, &|_| {}).unwrap();
    let all: Vec<u64> = (0..3005).collect();
    let mut big = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    let conns_all = big.get_conn_counts(&all).unwrap();
    assert!(
        big.uses_census(),
        "a batch of every target must use the census"
    );
    let counts_all = big.get_counts(&all).unwrap();

    let mut small = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    let mut conns_by_index = Vec::new();
    for batch in all.chunks(500) {
        conns_by_index.extend(small.get_conn_counts(batch).unwrap());
    }
    assert!(
        !small.uses_census(),
        "batches of a sixth of the targets keep the index path"
    );
    assert_eq!(conns_all, conns_by_index);
    let mut fresh = SonataReader::open(&path, None, ReaderOptions::default()).unwrap();
    let mut counts_by_index = Vec::new();
    for batch in all.chunks(500) {
        counts_by_index.extend(fresh.get_counts(batch).unwrap());
    }
    // get_counts lists targets with edges first (ascending), then ids without: compare as sets.
    let mut a = counts_all.clone();
    let mut b = counts_by_index;
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert_eq!(counts_all.iter().map(|c| c.1).sum::<u64>(), edges);
}
