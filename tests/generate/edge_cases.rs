//! Generator edge cases: empty and one-node populations, virtual sources, several
//! populations, progress, invalid options, the size estimate, and a timing run by hand.

#[allow(clippy::wildcard_imports)]
use super::*;

#[test]
fn zero_edges_give_a_valid_empty_population() {
    let dir = TempDir::new().unwrap();
    let (path, summary) = gen_in(&dir, "z.h5", &opts(10, 0, EdgeOrder::Shuffled));
    assert_eq!(
        (
            summary.populations[0].edges,
            summary.populations[0].connections
        ),
        (0, 0)
    );
    let population = EdgeFile::open(&path).unwrap().population(POP).unwrap();
    assert_eq!(population.size(), 0);
    let g = pop_group(&path, POP);
    for name in [
        "source_node_id",
        "target_node_id",
        "edge_type_id",
        "0/conductance",
        "0/syn_type_id",
    ] {
        let ds = g.dataset(name).unwrap();
        assert_eq!(ds.shape(), vec![0], "{name}");
        assert!(!ds.is_chunked(), "{name}");
    }
    for dir in ["source_to_target", "target_to_source"] {
        let nodes = g
            .dataset(&format!("indices/{dir}/node_id_to_ranges"))
            .unwrap();
        assert_eq!(nodes.shape(), vec![10, 2]);
        assert!(nodes.read_raw::<u64>().unwrap().iter().all(|&x| x == 0));
        assert_eq!(
            g.dataset(&format!("indices/{dir}/range_to_edge_id"))
                .unwrap()
                .shape(),
            vec![0, 2]
        );
    }
    // No nodes at all is fine too when there are no edges.
    let (path, _) = gen_in(&dir, "z0.h5", &opts(0, 0, EdgeOrder::Sorted));
    assert_eq!(read_ids(&path, POP).0.len(), 0);
}

#[test]
fn one_node_receives_every_edge_in_one_connection() {
    let dir = TempDir::new().unwrap();
    for order in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ] {
        let (path, summary) = gen_in(&dir, "one.h5", &opts(1, 1_000, order));
        assert_eq!(summary.populations[0].connections, 1);
        let (s, t) = read_ids(&path, POP);
        assert_eq!(s, vec![0; 1_000]);
        assert_eq!(t, vec![0; 1_000]);
        let g = pop_group(&path, POP);
        assert_eq!(
            read_u64(&g, "indices/target_to_source/node_id_to_ranges"),
            vec![0, 1]
        );
        assert_eq!(
            read_u64(&g, "indices/target_to_source/range_to_edge_id"),
            vec![0, 1_000]
        );
    }
}

#[test]
fn virtual_sources_form_their_own_population_and_cap_connections() {
    let dir = TempDir::new().unwrap();
    let o = GenerateOptions {
        source_nodes: Some(40),
        ..opts(100, 8_000, EdgeOrder::Sorted)
    };
    let (path, summary) = gen_in(&dir, "v.h5", &o);
    let name = "Virtual__All__chemical";
    let p = &summary.populations[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.source_population.as_str(),
            p.target_population.as_str()
        ),
        (name, "Virtual", "All")
    );
    let population = EdgeFile::open(&path).unwrap().population(name).unwrap();
    assert_eq!(population.source_population(), Some("Virtual"));
    assert_eq!(population.target_population(), Some("All"));
    let (s, t) = read_ids(&path, name);
    assert!(s.iter().all(|&x| x < 40) && t.iter().all(|&x| x < 100));
    assert_eq!(p.connections, distinct_pairs(&s, &t));
    let g = pop_group(&path, name);
    check_index_direction(&g, "source_to_target", "node_id_to_ranges", &s, 40);
    check_index_direction(&g, "target_to_source", "node_id_to_ranges", &t, 100);

    // One target with more synapses than sources: every source connects, rows still exact.
    let o = GenerateOptions {
        source_nodes: Some(50),
        ..opts(1, 10_000, EdgeOrder::TargetSorted)
    };
    let (path, summary) = gen_in(&dir, "w.h5", &o);
    let (s, t) = read_ids(&path, name);
    assert_eq!(s.len(), 10_000);
    assert!(t.iter().all(|&x| x == 0));
    assert_eq!(s.iter().collect::<HashSet<_>>().len(), 50);
    assert_eq!(summary.populations[0].connections, 50);

    // Same count as nodes: one population "All".
    let o = GenerateOptions {
        source_nodes: Some(100),
        ..opts(100, 1_000, EdgeOrder::Sorted)
    };
    let (_, summary) = gen_in(&dir, "x.h5", &o);
    assert_eq!(summary.populations[0].name, POP);
}

#[test]
fn several_populations_use_consecutive_seeds() {
    let dir = TempDir::new().unwrap();
    let o = GenerateOptions {
        populations: 3,
        seed: 7,
        ..opts(60, 2_500, EdgeOrder::Shuffled)
    };
    let (path, summary) = gen_in(&dir, "m.h5", &o);
    let names: Vec<&str> = summary
        .populations
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "All__All__chemical_0",
            "All__All__chemical_1",
            "All__All__chemical_2"
        ]
    );
    let file = EdgeFile::open(&path).unwrap();
    assert_eq!(
        file.population_names().unwrap(),
        names.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    let ids: Vec<_> = names.iter().map(|n| read_ids(&path, n)).collect();
    assert!(ids.iter().all(|(s, _)| s.len() == 2_500));
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    // Population 1 is what a single-population file with seed 8 holds.
    let (single, _) = gen_in(
        &dir,
        "s.h5",
        &GenerateOptions {
            populations: 1,
            seed: 8,
            ..o.clone()
        },
    );
    assert_eq!(read_ids(&single, POP), ids[1]);
    for n in &names {
        let g = pop_group(&path, n);
        assert!(g.link_exists("indices/target_to_source/range_to_edge_id"));
    }
}

#[test]
fn progress_reports_every_chunk_and_rows_cross_chunk_boundaries() {
    let dir = TempDir::new().unwrap();
    let edges = CHUNK_ROWS as u64 + 1_234;
    let o = GenerateOptions {
        attributes: AttributeSet::None,
        write_index: false,
        populations: 2,
        ..opts(20_000, edges, EdgeOrder::Sorted)
    };
    let seen = RefCell::new(Vec::new());
    let path = dir.path().join("p.h5");
    generate(&path, &o, &|n| seen.borrow_mut().push(n)).unwrap();
    let seen = seen.into_inner();
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress must not go back: {seen:?}"
    );
    assert!(seen.contains(&(CHUNK_ROWS as u64)));
    assert!(seen.contains(&edges));
    assert_eq!(seen.last(), Some(&(2 * edges)));
    let (s, t) = read_ids(&path, "All__All__chemical_0");
    assert_eq!(s.len() as u64, edges);
    let keys: Vec<(u64, u64)> = t.iter().copied().zip(s.iter().copied()).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn invalid_options_are_argument_errors() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("e.h5");
    let cases = [
        opts(0, 10, EdgeOrder::Sorted),
        GenerateOptions {
            source_nodes: Some(0),
            ..opts(10, 10, EdgeOrder::Sorted)
        },
        GenerateOptions {
            groups: 0,
            ..Default::default()
        },
        GenerateOptions {
            groups: 70_000,
            ..Default::default()
        },
        GenerateOptions {
            groups: 2,
            attributes: AttributeSet::None,
            ..Default::default()
        },
        GenerateOptions {
            populations: 0,
            ..Default::default()
        },
    ];
    for o in cases {
        let err = generate(&path, &o, &|_| {}).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{o:?} gave {err:?}"
        );
        assert!(err.is_input_error());
    }
    assert!(!path.exists(), "nothing is written for invalid options");
    let missing = dir.path().join("no/such/folder/x.h5");
    let err = generate(&missing, &opts(10, 10, EdgeOrder::Sorted), &|_| {}).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

/// Release-mode timing of 10^7 edges, generation and indexing apart (run by hand:
/// `cargo test --release --test generate -- --ignored --nocapture`).
#[test]
#[ignore]
fn time_ten_million_edges() {
    let dir = TempDir::new().unwrap();
    for order in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ] {
        for attributes in [AttributeSet::Bbp, AttributeSet::None] {
            let o = GenerateOptions {
                attributes,
                write_index: false,
                ..opts(100_000, 10_000_000, order)
            };
            let path = dir.path().join("big.h5");
            let start = std::time::Instant::now();
            let summary = generate(&path, &o, &|_| {}).unwrap();
            let generated = start.elapsed().as_secs_f64();
            let file = hdf5::File::open_rw(&path).unwrap();
            let start = std::time::Instant::now();
            write_indices(&file, POP, 100_000, 100_000, IndexSpelling::Sonata).unwrap();
            let indexed = start.elapsed().as_secs_f64();
            drop(file);
            let size = std::fs::metadata(&path).unwrap().len();
            println!(
                "{order:?} {attributes:?}: generate {generated:.2} s + index {indexed:.2} s, \
                 {} connections, {:.0} MB",
                summary.populations[0].connections,
                size as f64 / 1e6
            );
            assert_eq!(summary.populations[0].edges, 10_000_000);
        }
    }
}

#[test]
fn the_size_estimate_is_at_or_a_little_above_the_real_size() {
    // `generate` (the CLI) refuses an output whose estimate exceeds the free space: an estimate
    // below the real size would let a run fail late, one far above would refuse files that fit.
    let dir = TempDir::new().unwrap();
    let base = opts(2000, 300_000, EdgeOrder::Sorted);
    let mut cases = Vec::new();
    for order in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ] {
        for attributes in [AttributeSet::None, AttributeSet::Bbp, AttributeSet::Bmtk] {
            cases.push(GenerateOptions {
                order,
                attributes,
                ..base.clone()
            });
        }
    }
    cases.push(GenerateOptions {
        groups: 3,
        ..base.clone()
    });
    cases.push(GenerateOptions {
        write_index: false,
        populations: 2,
        source_nodes: Some(50_000),
        ..base.clone()
    });
    cases.push(GenerateOptions {
        edges: 0,
        ..base.clone()
    });
    for (i, o) in cases.iter().enumerate() {
        let (path, _) = gen_in(&dir, &format!("{i}.h5"), o);
        let real = std::fs::metadata(&path).unwrap().len();
        let estimate = o.estimated_file_size();
        assert!(estimate >= real, "{o:?}: estimate {estimate} < real {real}");
        assert!(
            estimate <= real + real / 4 + (1 << 20),
            "{o:?}: estimate {estimate} far above real {real}"
        );
    }
    let huge = GenerateOptions {
        edges: 10_000_000_000_000,
        ..base.clone()
    };
    assert!(huge.estimated_file_size() > 700 * (1u64 << 40));
    let absurd = GenerateOptions {
        edges: u64::MAX,
        populations: 7,
        ..base
    };
    assert_eq!(absurd.estimated_file_size(), u64::MAX);
}
