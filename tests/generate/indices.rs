//! The generator's `indices/`: round trips for every order and spelling, and
//! `write_indices` on foreign files, against libsonata's layout.

#[allow(clippy::wildcard_imports)]
use super::*;

#[test]
fn index_round_trips_for_every_order() {
    let dir = TempDir::new().unwrap();
    for (i, order) in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ]
    .into_iter()
    .enumerate()
    {
        let (path, _) = gen_in(&dir, &format!("x{i}.h5"), &opts(120, 9_000, order));
        let (s, t) = read_ids(&path, POP);
        let g = pop_group(&path, POP);
        let by_target = check_index_direction(&g, "target_to_source", "node_id_to_ranges", &t, 120);
        let by_source = check_index_direction(&g, "source_to_target", "node_id_to_ranges", &s, 120);
        let total_ranges = |v: &Vec<Vec<(u64, u64)>>| v.iter().map(Vec::len).sum::<usize>();
        match order {
            EdgeOrder::Sorted | EdgeOrder::TargetSorted => {
                for (n, r) in by_target.iter().enumerate() {
                    let has_edges = t.contains(&(n as u64));
                    assert_eq!(
                        r.len(),
                        usize::from(has_edges),
                        "{order:?}: one range per target with edges"
                    );
                }
            }
            EdgeOrder::Shuffled => assert!(total_ranges(&by_target) > 8_000),
        }
        assert!(total_ranges(&by_source) > 120, "sources come in many runs");
    }
}

#[test]
fn bmtk_spelling_names_the_node_dataset_node_id_to_range() {
    let dir = TempDir::new().unwrap();
    let base = opts(80, 3_000, EdgeOrder::TargetSorted);
    let (a, _) = gen_in(&dir, "a.h5", &base);
    let (b, _) = gen_in(
        &dir,
        "b.h5",
        &GenerateOptions {
            index_spelling: IndexSpelling::Bmtk,
            ..base.clone()
        },
    );
    let (s, t) = read_ids(&b, POP);
    let g = pop_group(&b, POP);
    for dir in ["source_to_target", "target_to_source"] {
        let ig = g.group(&format!("indices/{dir}")).unwrap();
        assert!(ig.link_exists("node_id_to_range"));
        assert!(!ig.link_exists("node_id_to_ranges"));
        let sonata = pop_group(&a, POP)
            .dataset(&format!("indices/{dir}/node_id_to_ranges"))
            .unwrap();
        assert_eq!(
            ig.dataset("node_id_to_range")
                .unwrap()
                .read_raw::<u64>()
                .unwrap(),
            sonata.read_raw::<u64>().unwrap()
        );
    }
    check_index_direction(&g, "target_to_source", "node_id_to_range", &t, 80);
    check_index_direction(&g, "source_to_target", "node_id_to_range", &s, 80);
}

/// A small file written by hand: sources (uint32) and targets (int64), unsorted.
fn hand_file(dir: &TempDir, sources: &[u32], targets: &[i64]) -> PathBuf {
    let path = dir.path().join("hand.h5");
    let file = hdf5::File::create(&path).unwrap();
    file.new_dataset_builder()
        .with_data(sources)
        .create("edges/p/source_node_id")
        .unwrap();
    file.new_dataset_builder()
        .with_data(targets)
        .create("edges/p/target_node_id")
        .unwrap();
    path
}

#[test]
fn write_indices_matches_libsonata_on_an_unsorted_foreign_file() {
    let dir = TempDir::new().unwrap();
    let path = hand_file(&dir, &[0, 1, 1, 0, 0, 3], &[2, 2, 0, 2, 1, 1]);
    let file = hdf5::File::open_rw(&path).unwrap();
    write_indices(&file, "p", 4, 4, IndexSpelling::Sonata).unwrap();
    let g = file.group("edges/p/indices").unwrap();
    let read = |p: &str| g.dataset(p).unwrap().read_raw::<u64>().unwrap();
    assert_eq!(
        read("target_to_source/node_id_to_ranges"),
        vec![0, 1, 1, 2, 2, 4, 4, 4]
    );
    assert_eq!(
        read("target_to_source/range_to_edge_id"),
        vec![2, 3, 4, 6, 0, 2, 3, 4]
    );
    assert_eq!(
        read("source_to_target/node_id_to_ranges"),
        vec![0, 2, 2, 3, 3, 3, 3, 4]
    );
    assert_eq!(
        read("source_to_target/range_to_edge_id"),
        vec![0, 1, 3, 5, 1, 3, 5, 6]
    );
    assert_eq!(
        g.dataset("target_to_source/node_id_to_ranges")
            .unwrap()
            .shape(),
        vec![4, 2]
    );

    // A second call refuses to overwrite.
    let err = write_indices(&file, "p", 4, 4, IndexSpelling::Sonata).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidData { reason, .. } if reason.contains("already exists")),
        "{err:?}"
    );
}

#[test]
fn write_indices_refuses_bad_ids_and_unknown_populations() {
    let dir = TempDir::new().unwrap();
    let path = hand_file(&dir, &[0, 1, 2], &[0, 5, 1]);
    let file = hdf5::File::open_rw(&path).unwrap();
    let err = write_indices(&file, "p", 3, 5, IndexSpelling::Sonata).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidData { reason, .. } if reason.contains("node id 5 at row 1")),
        "{err:?}"
    );
    assert!(
        !file.link_exists("edges/p/indices"),
        "nothing is written when an id is out of range"
    );
    let err = write_indices(&file, "q", 3, 6, IndexSpelling::Sonata).unwrap_err();
    assert!(
        matches!(&err, Error::PopulationNotFound { name, available, .. } if name == "q" && available == &["p"]),
        "{err:?}"
    );
    write_indices(&file, "p", 3, 6, IndexSpelling::Bmtk).unwrap();
    assert!(file.link_exists("edges/p/indices/target_to_source/node_id_to_range"));
    drop(file);

    let dir = TempDir::new().unwrap();
    let path = hand_file(&dir, &[0, 1], &[0, -1]);
    let file = hdf5::File::open_rw(&path).unwrap();
    let err = write_indices(&file, "p", 3, 3, IndexSpelling::Sonata).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidData { reason, .. } if reason.contains("negative node id -1")),
        "{err:?}"
    );
}
