//! Integration tests of the synthetic edge-file generator (`sonata_census::generate`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use hdf5::types::TypeDescriptor;
use sonata_census::EdgeFile;
use sonata_census::Error;
use sonata_census::generate::{
    AttributeSet, CHUNK_ROWS, EdgeOrder, GenerateOptions, GenerateSummary, GeneratedIdDtype,
    IdStorage, IndexSpelling, MAX_ID_CHUNK_ROWS, generate, write_indices,
};
use sonata_census::sonata::IdDtype as FileIdDtype;
use tempfile::TempDir;

// More tests, in files of their own: the indices, and the edge cases.
#[path = "generate/edge_cases.rs"]
mod edge_cases;
#[path = "generate/indices.rs"]
mod indices;

const POP: &str = "All__All__chemical";

fn opts(nodes: u64, edges: u64, order: EdgeOrder) -> GenerateOptions {
    GenerateOptions {
        nodes,
        edges,
        order,
        ..Default::default()
    }
}

fn gen_in(dir: &TempDir, name: &str, o: &GenerateOptions) -> (PathBuf, GenerateSummary) {
    let path = dir.path().join(name);
    let summary = generate(&path, o, &|_| {}).expect("generate");
    (path, summary)
}

/// `(sources, targets)` of a population, read with the crate's own reader.
fn read_ids(path: &Path, pop: &str) -> (Vec<u64>, Vec<u64>) {
    let file = EdgeFile::open(path).unwrap();
    let population = file.population(pop).unwrap();
    let mut chunks = population.id_chunks(1000);
    let (mut s, mut t) = (Vec::new(), Vec::new());
    while let Some(c) = chunks.next_chunk().unwrap() {
        s.extend_from_slice(c.sources);
        t.extend_from_slice(c.targets);
    }
    assert_eq!(s.len() as u64, population.size());
    (s, t)
}

fn pop_group(path: &Path, pop: &str) -> hdf5::Group {
    hdf5::File::open(path)
        .unwrap()
        .group(&format!("edges/{pop}"))
        .unwrap()
}

fn read_u64(group: &hdf5::Group, name: &str) -> Vec<u64> {
    group.dataset(name).unwrap().read_raw::<u64>().unwrap()
}

fn descriptor(ds: &hdf5::Dataset) -> TypeDescriptor {
    ds.dtype().unwrap().to_descriptor().unwrap()
}

/// The raw bytes of a dataset, in its stored type.
fn dataset_bytes(ds: &hdf5::Dataset) -> (String, Vec<usize>, Vec<u8>) {
    fn raw<T: hdf5::H5Type + bytemuck::Pod>(ds: &hdf5::Dataset) -> Vec<u8> {
        bytemuck::cast_slice(&ds.read_raw::<T>().unwrap()).to_vec()
    }
    let d = descriptor(ds);
    let bytes = match &d {
        TypeDescriptor::Unsigned(s) if *s as usize == 8 => raw::<u64>(ds),
        TypeDescriptor::Unsigned(s) if *s as usize == 4 => raw::<u32>(ds),
        TypeDescriptor::Unsigned(s) if *s as usize == 2 => raw::<u16>(ds),
        TypeDescriptor::Integer(s) if *s as usize == 8 => raw::<i64>(ds),
        TypeDescriptor::Float(s) if *s as usize == 4 => raw::<f32>(ds),
        TypeDescriptor::Float(s) if *s as usize == 8 => raw::<f64>(ds),
        other => panic!("unexpected dataset type {other:?}"),
    };
    (format!("{d:?}"), ds.shape(), bytes)
}

/// Every dataset under `group`, by path, with its type, shape and bytes.
fn all_datasets(
    group: &hdf5::Group,
    prefix: &str,
    out: &mut BTreeMap<String, (String, Vec<usize>, Vec<u8>)>,
) {
    for name in group.member_names().unwrap() {
        let path = format!("{prefix}/{name}");
        if let Ok(ds) = group.dataset(&name) {
            out.insert(path, dataset_bytes(&ds));
        } else {
            all_datasets(&group.group(&name).unwrap(), &path, out);
        }
    }
}

fn file_datasets(path: &Path) -> BTreeMap<String, (String, Vec<usize>, Vec<u8>)> {
    let file = hdf5::File::open(path).unwrap();
    let mut out = BTreeMap::new();
    all_datasets(&file.group("/").unwrap(), "", &mut out);
    out
}

fn sorted_pairs(s: &[u64], t: &[u64]) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = t.iter().copied().zip(s.iter().copied()).collect();
    v.sort_unstable();
    v
}

fn distinct_pairs(s: &[u64], t: &[u64]) -> u64 {
    s.iter().zip(t).collect::<HashSet<_>>().len() as u64
}

fn is_target_sorted(t: &[u64]) -> bool {
    t.windows(2).all(|w| w[0] <= w[1])
}

/// Checks one index direction against a naive scan of `ids`, exactly as libsonata writes it.
/// Returns the ranges of each node.
fn check_index_direction(
    group: &hdf5::Group,
    dir: &str,
    node_ds: &str,
    ids: &[u64],
    node_count: u64,
) -> Vec<Vec<(u64, u64)>> {
    let g = group.group(&format!("indices/{dir}")).unwrap();
    let nodes_ds = g.dataset(node_ds).unwrap();
    let ranges_ds = g.dataset("range_to_edge_id").unwrap();
    for ds in [&nodes_ds, &ranges_ds] {
        assert!(!ds.is_chunked(), "{dir}: index datasets must be contiguous");
        assert!(matches!(descriptor(ds), TypeDescriptor::Unsigned(s) if s as usize == 8));
    }
    assert_eq!(nodes_ds.shape(), vec![node_count as usize, 2]);
    let nodes = nodes_ds.read_raw::<u64>().unwrap();
    let ranges = ranges_ds.read_raw::<u64>().unwrap();
    let range_rows = ranges_ds.shape()[0];
    assert_eq!(ranges_ds.shape(), vec![range_rows, 2]);

    // Naive: maximal runs of equal ids in edge order, grouped by node.
    let mut runs: Vec<Vec<(u64, u64)>> = vec![Vec::new(); node_count as usize];
    let mut i = 0;
    while i < ids.len() {
        let mut j = i + 1;
        while j < ids.len() && ids[j] == ids[i] {
            j += 1;
        }
        runs[ids[i] as usize].push((i as u64, j as u64));
        i = j;
    }
    let mut per_node = Vec::new();
    let mut expected_offset = 0u64;
    for (n, node_runs) in runs.iter().enumerate() {
        let (a, b) = (nodes[2 * n], nodes[2 * n + 1]);
        assert_eq!(
            a,
            expected_offset,
            "{dir}: node {n} does not start where node {} ended",
            n.max(1) - 1
        );
        let got: Vec<(u64, u64)> = (a..b)
            .map(|r| (ranges[2 * r as usize], ranges[2 * r as usize + 1]))
            .collect();
        assert_eq!(&got, node_runs, "{dir}: ranges of node {n}");
        // The union of the ranges is exactly the edges with this node id.
        let edges: Vec<u64> = got.iter().flat_map(|&(x, y)| x..y).collect();
        let naive: Vec<u64> = ids
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v == n as u64)
            .map(|(e, _)| e as u64)
            .collect();
        assert_eq!(edges, naive, "{dir}: edges of node {n}");
        expected_offset = b;
        per_node.push(got);
    }
    assert_eq!(
        expected_offset as usize, range_rows,
        "{dir}: every range belongs to a node"
    );
    per_node
}

#[test]
fn sorted_file_has_exact_count_sorted_rows_and_sonata_layout() {
    let dir = TempDir::new().unwrap();
    let o = opts(300, 30_000, EdgeOrder::Sorted);
    let (path, summary) = gen_in(&dir, "s.h5", &o);
    assert_eq!(summary.path, path);
    assert_eq!(summary.populations.len(), 1);
    let p = &summary.populations[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.source_population.as_str(),
            p.target_population.as_str()
        ),
        (POP, "All", "All")
    );
    assert_eq!(p.edges, 30_000);

    let file = EdgeFile::open(&path).unwrap();
    assert_eq!(file.population_names().unwrap(), vec![POP.to_string()]);
    let population = file.population(POP).unwrap();
    assert_eq!(population.size(), 30_000);
    assert_eq!(population.source_population(), Some("All"));
    assert_eq!(population.target_population(), Some("All"));
    assert_eq!(population.source_ids().dtype(), FileIdDtype::Unsigned(8));
    assert_eq!(population.target_ids().dtype(), FileIdDtype::Unsigned(8));
    assert!(!population.source_ids().dataset().is_chunked());
    assert!(!population.target_ids().dataset().is_chunked());

    let (s, t) = read_ids(&path, POP);
    assert_eq!(s.len(), 30_000);
    assert!(s.iter().chain(&t).all(|&id| id < 300));
    let keys: Vec<(u64, u64)> = t.iter().copied().zip(s.iter().copied()).collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "rows must be sorted by (target, source)"
    );
    assert_eq!(p.connections, distinct_pairs(&s, &t));
    let mean = 30_000.0 / p.connections as f64;
    assert!(
        (3.5..6.0).contains(&mean),
        "mean synapses per connection {mean}"
    );
}

#[test]
fn in_degree_varies_and_about_two_percent_of_targets_get_nothing() {
    let dir = TempDir::new().unwrap();
    let o = GenerateOptions {
        attributes: AttributeSet::None,
        write_index: false,
        ..opts(5000, 500_000, EdgeOrder::Sorted)
    };
    let (path, summary) = gen_in(&dir, "d.h5", &o);
    let (_, t) = read_ids(&path, POP);
    let mut degree = vec![0u64; 5000];
    for &x in &t {
        degree[x as usize] += 1;
    }
    let empty = degree.iter().filter(|&&d| d == 0).count();
    assert!(
        (50..=175).contains(&empty),
        "{empty} of 5000 targets have no edges (expected ~2%)"
    );
    let nonzero: Vec<f64> = degree
        .iter()
        .filter(|&&d| d > 0)
        .map(|&d| d as f64)
        .collect();
    let mean = nonzero.iter().sum::<f64>() / nonzero.len() as f64;
    let sd =
        (nonzero.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / nonzero.len() as f64).sqrt();
    assert!(
        (0.3..0.8).contains(&(sd / mean)),
        "in-degree coefficient of variation {}",
        sd / mean
    );
    let per_conn = 500_000.0 / summary.populations[0].connections as f64;
    assert!(
        (4.0..5.0).contains(&per_conn),
        "mean synapses per connection {per_conn}"
    );
}

#[test]
fn target_sorted_and_shuffled_hold_the_same_rows_as_sorted() {
    let dir = TempDir::new().unwrap();
    let (sorted_path, sorted) = gen_in(&dir, "s.h5", &opts(200, 20_000, EdgeOrder::Sorted));
    let (ts_path, ts) = gen_in(&dir, "t.h5", &opts(200, 20_000, EdgeOrder::TargetSorted));
    let (sh_path, sh) = gen_in(&dir, "u.h5", &opts(200, 20_000, EdgeOrder::Shuffled));
    let (s0, t0) = read_ids(&sorted_path, POP);
    let (s1, t1) = read_ids(&ts_path, POP);
    let (s2, t2) = read_ids(&sh_path, POP);
    assert_eq!((s1.len(), s2.len()), (20_000, 20_000));

    // Target-sorted: targets ascending, sources not (somewhere) ascending within a target.
    assert!(is_target_sorted(&t1));
    let unsorted_within_target = (1..t1.len()).any(|i| t1[i] == t1[i - 1] && s1[i] < s1[i - 1]);
    assert!(
        unsorted_within_target,
        "target-sorted rows must not be source-sorted"
    );
    // Shuffled: not even target-sorted.
    assert!(!is_target_sorted(&t2));

    let reference = sorted_pairs(&s0, &t0);
    assert_eq!(sorted_pairs(&s1, &t1), reference);
    assert_eq!(sorted_pairs(&s2, &t2), reference);
    let c = sorted.populations[0].connections;
    assert_eq!(ts.populations[0].connections, c);
    assert_eq!(sh.populations[0].connections, c);
    assert_eq!(distinct_pairs(&s2, &t2), c);
}

#[test]
fn same_seed_gives_identical_datasets_and_another_seed_differs() {
    let dir = TempDir::new().unwrap();
    for (i, order) in [
        EdgeOrder::Sorted,
        EdgeOrder::TargetSorted,
        EdgeOrder::Shuffled,
    ]
    .into_iter()
    .enumerate()
    {
        let o = GenerateOptions {
            groups: 2,
            ..opts(150, 12_000, order)
        };
        let (a, _) = gen_in(&dir, &format!("a{i}.h5"), &o);
        let (b, _) = gen_in(&dir, &format!("b{i}.h5"), &o);
        let (c, _) = gen_in(
            &dir,
            &format!("c{i}.h5"),
            &GenerateOptions {
                seed: 2,
                ..o.clone()
            },
        );
        let (da, db, dc) = (file_datasets(&a), file_datasets(&b), file_datasets(&c));
        assert!(
            da.len() >= 20,
            "{order:?}: expected ids, attributes and indices, got {:?}",
            da.keys()
        );
        assert_eq!(da, db, "{order:?}: same seed must give identical datasets");
        let src = format!("/edges/{POP}/source_node_id");
        assert_ne!(
            da[&src], dc[&src],
            "{order:?}: another seed must give other sources"
        );
        let cond = format!("/edges/{POP}/0/conductance");
        assert_ne!(
            da[&cond], dc[&cond],
            "{order:?}: another seed must give other attributes"
        );
    }
}

/// The paths of the objects under `group` (itself included) that record a time.
fn objects_with_times(group: &hdf5::Group, path: &str, out: &mut Vec<String>) {
    let info = group.loc_info().unwrap();
    if info.ctime != 0 || info.mtime != 0 {
        out.push(format!("{path}/"));
    }
    for name in group.member_names().unwrap() {
        let member = format!("{path}/{name}");
        if let Ok(ds) = group.dataset(&name) {
            let info = ds.loc_info().unwrap();
            if info.ctime != 0 || info.mtime != 0 {
                out.push(member);
            }
        } else {
            objects_with_times(&group.group(&name).unwrap(), &member, out);
        }
    }
}

#[test]
fn generated_files_record_no_times_so_a_seed_gives_identical_bytes() {
    // HDF5 2.x records creation and modification times in every group and dataset by default,
    // and a file made a second later would differ.
    let dir = TempDir::new().unwrap();
    for (i, storage) in [IdStorage::Contiguous, IdStorage::Deflate { rows: 1000 }]
        .into_iter()
        .enumerate()
    {
        let o = GenerateOptions {
            groups: 2,
            id_storage: storage,
            ..opts(150, 12_000, EdgeOrder::Sorted)
        };
        let (a, _) = gen_in(&dir, &format!("a{i}.h5"), &o);
        let mut timed = Vec::new();
        let file = hdf5::File::open(&a).unwrap();
        objects_with_times(&file.group("/").unwrap(), "", &mut timed);
        assert!(
            timed.is_empty(),
            "{storage:?}: objects with times: {timed:?}"
        );
        assert!(
            file_datasets(&a).len() >= 20,
            "{storage:?}: ids, attributes and indices"
        );
        drop(file);
        let (b, _) = gen_in(&dir, &format!("b{i}.h5"), &o);
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "{storage:?}: same seed, other bytes"
        );
    }
}

#[test]
fn int64_ids_are_stored_as_int64_with_the_same_values() {
    let dir = TempDir::new().unwrap();
    let (u, _) = gen_in(&dir, "u.h5", &opts(100, 5_000, EdgeOrder::Shuffled));
    let (i, _) = gen_in(
        &dir,
        "i.h5",
        &GenerateOptions {
            id_dtype: GeneratedIdDtype::I64,
            ..opts(100, 5_000, EdgeOrder::Shuffled)
        },
    );
    let population = EdgeFile::open(&i).unwrap().population(POP).unwrap();
    assert_eq!(population.source_ids().dtype(), FileIdDtype::Signed(8));
    assert_eq!(population.target_ids().dtype(), FileIdDtype::Signed(8));
    let g = pop_group(&i, POP);
    let raw = g
        .dataset("source_node_id")
        .unwrap()
        .read_raw::<i64>()
        .unwrap();
    let (su, tu) = read_ids(&u, POP);
    assert_eq!(raw.iter().map(|&v| v as u64).collect::<Vec<_>>(), su);
    assert_eq!(read_ids(&i, POP), (su, tu.clone()));
    // The index of an int64 file is as good as any.
    check_index_direction(&g, "target_to_source", "node_id_to_ranges", &tu, 100);
}

fn check_groups(attributes: AttributeSet, full: &[&str], subset: &[&str]) {
    let dir = TempDir::new().unwrap();
    let edges = 40_000u64;
    let o = GenerateOptions {
        groups: 3,
        attributes,
        ..opts(300, edges, EdgeOrder::TargetSorted)
    };
    let (path, _) = gen_in(&dir, "g.h5", &o);
    let g = pop_group(&path, POP);
    let gid_ds = g.dataset("edge_group_id").unwrap();
    let gidx_ds = g.dataset("edge_group_index").unwrap();
    assert!(matches!(descriptor(&gid_ds), TypeDescriptor::Unsigned(s) if s as usize == 2));
    assert!(matches!(descriptor(&gidx_ds), TypeDescriptor::Unsigned(s) if s as usize == 4));
    let gid = gid_ds.read_raw::<u16>().unwrap();
    let gidx = gidx_ds.read_raw::<u32>().unwrap();
    assert_eq!((gid.len() as u64, gidx.len() as u64), (edges, edges));

    let mut next = [0u32; 3];
    for (&k, &i) in gid.iter().zip(&gidx) {
        assert!(k < 3, "group id {k}");
        assert_eq!(
            i, next[k as usize],
            "edge_group_index must be the running row in the group"
        );
        next[k as usize] += 1;
    }
    assert!(
        next.iter().all(|&n| n > 5_000),
        "every group gets edges: {next:?}"
    );
    assert_eq!(next.iter().map(|&n| u64::from(n)).sum::<u64>(), edges);
    for (k, &count) in next.iter().enumerate() {
        let group = g.group(&k.to_string()).unwrap();
        let mut names = group.member_names().unwrap();
        names.sort();
        let mut want: Vec<String> = (if k == 0 { full } else { subset })
            .iter()
            .map(|s| s.to_string())
            .collect();
        want.sort();
        assert_eq!(names, want, "columns of group {k}");
        for name in &names {
            let ds = group.dataset(name).unwrap();
            assert_eq!(ds.shape(), vec![count as usize], "rows of {k}/{name}");
            assert!(!ds.is_chunked());
        }
    }
    assert!(!g.link_exists("3"));
}

#[test]
fn bbp_groups_have_running_indices_and_matching_row_counts() {
    check_groups(
        AttributeSet::Bbp,
        &[
            "conductance",
            "decay_time",
            "depression_time",
            "facilitation_time",
            "u_syn",
            "delay",
            "afferent_section_pos",
            "afferent_segment_offset",
            "syn_type_id",
            "n_rrp_vesicles",
            "afferent_section_id",
            "afferent_section_type",
            "afferent_segment_id",
        ],
        &["conductance", "syn_type_id"],
    );
}

#[test]
fn bmtk_groups_have_running_indices_nsyns_at_least_one_and_typed_edges() {
    check_groups(
        AttributeSet::Bmtk,
        &["nsyns", "syn_weight", "delay"],
        &["nsyns", "syn_weight"],
    );

    let dir = TempDir::new().unwrap();
    let o = GenerateOptions {
        groups: 2,
        attributes: AttributeSet::Bmtk,
        ..opts(100, 10_000, EdgeOrder::Sorted)
    };
    let (path, _) = gen_in(&dir, "b.h5", &o);
    let g = pop_group(&path, POP);
    let et = g.dataset("edge_type_id").unwrap();
    assert!(matches!(descriptor(&et), TypeDescriptor::Unsigned(s) if s as usize == 4));
    let gid = g
        .dataset("edge_group_id")
        .unwrap()
        .read_raw::<u16>()
        .unwrap();
    let types = et.read_raw::<u32>().unwrap();
    assert!(
        types
            .iter()
            .zip(&gid)
            .all(|(&t, &k)| t == 100 + u32::from(k))
    );
    for k in ["0", "1"] {
        let nsyns_ds = g.dataset(&format!("{k}/nsyns")).unwrap();
        assert!(matches!(descriptor(&nsyns_ds), TypeDescriptor::Unsigned(s) if s as usize == 2));
        let nsyns = nsyns_ds.read_raw::<u16>().unwrap();
        assert!(!nsyns.is_empty());
        assert!(nsyns.iter().all(|&n| n >= 1), "nsyns must be >= 1");
        assert!(nsyns.iter().any(|&n| n > 1));
        let w = g.dataset(&format!("{k}/syn_weight")).unwrap();
        assert!(matches!(descriptor(&w), TypeDescriptor::Float(s) if s as usize == 8));
        assert!(
            w.read_raw::<f64>()
                .unwrap()
                .iter()
                .all(|&x| x > 0.0 && x.is_finite())
        );
    }
}

#[test]
fn bbp_attributes_have_their_types_and_plausible_values() {
    let dir = TempDir::new().unwrap();
    let (path, _) = gen_in(&dir, "a.h5", &opts(400, 50_000, EdgeOrder::Sorted));
    let g = pop_group(&path, POP);
    assert!(!g.link_exists("edge_group_id") && !g.link_exists("edge_group_index"));
    assert!(!g.link_exists("1"));
    let et = g.dataset("edge_type_id").unwrap();
    assert!(matches!(descriptor(&et), TypeDescriptor::Integer(s) if s as usize == 8));
    let et = et.read_raw::<i64>().unwrap();
    assert_eq!(et.len(), 50_000);
    assert!(et.iter().all(|&v| v == 0));

    let f32s = |name: &str| {
        let ds = g.dataset(&format!("0/{name}")).unwrap();
        assert!(
            matches!(descriptor(&ds), TypeDescriptor::Float(s) if s as usize == 4),
            "{name} is float32"
        );
        let v = ds.read_raw::<f32>().unwrap();
        assert_eq!(v.len(), 50_000, "{name}");
        v
    };
    let u32s = |name: &str| {
        let ds = g.dataset(&format!("0/{name}")).unwrap();
        assert!(
            matches!(descriptor(&ds), TypeDescriptor::Unsigned(s) if s as usize == 4),
            "{name} is uint32"
        );
        let v = ds.read_raw::<u32>().unwrap();
        assert_eq!(v.len(), 50_000, "{name}");
        v
    };
    assert!(f32s("conductance").iter().all(|&x| x > 0.0 && x < 100.0));
    for name in ["decay_time", "depression_time", "delay"] {
        assert!(
            f32s(name).iter().all(|&x| x > 0.0 && x.is_finite()),
            "{name}"
        );
    }
    assert!(f32s("facilitation_time").iter().all(|&x| x >= 0.0));
    assert!(f32s("u_syn").iter().all(|&x| (0.01..=1.0).contains(&x)));
    assert!(
        f32s("afferent_section_pos")
            .iter()
            .all(|&x| (0.0..1.0).contains(&x))
    );
    assert!(f32s("afferent_segment_offset").iter().all(|&x| x >= 0.0));
    assert!(u32s("n_rrp_vesicles").iter().all(|&x| (1..=3).contains(&x)));
    assert!(
        u32s("afferent_section_type")
            .iter()
            .all(|&x| [1, 3, 4].contains(&x))
    );
    u32s("afferent_section_id");
    u32s("afferent_segment_id");
    let types = u32s("syn_type_id");
    assert!(types.iter().all(|&x| x < 10 || (100..120).contains(&x)));
    let inhibitory = types.iter().filter(|&&x| x < 100).count() as f64 / types.len() as f64;
    assert!(
        (0.05..0.3).contains(&inhibitory),
        "inhibitory fraction {inhibitory}"
    );
    // Synapses of one connection share the source's synapse class.
    let (s, _) = read_ids(&path, POP);
    for i in 1..s.len() {
        if s[i] == s[i - 1] {
            assert_eq!(types[i] < 100, types[i - 1] < 100);
        }
    }
}

#[test]
fn no_attributes_means_no_group_and_no_edge_type() {
    let dir = TempDir::new().unwrap();
    let o = GenerateOptions {
        attributes: AttributeSet::None,
        ..opts(50, 2_000, EdgeOrder::Sorted)
    };
    let (path, _) = gen_in(&dir, "n.h5", &o);
    let mut names = pop_group(&path, POP).member_names().unwrap();
    names.sort();
    assert_eq!(names, vec!["indices", "source_node_id", "target_node_id"]);
}

#[test]
fn id_storage_changes_the_layout_of_the_id_columns_only() {
    use hdf5::filters::Filter;
    let dir = TempDir::new().unwrap();
    let base = opts(300, 20_000, EdgeOrder::Sorted);
    let (plain, _) = gen_in(&dir, "plain.h5", &base);
    let expected = file_datasets(&plain);
    for (name, storage, chunk, filters) in [
        (
            "chunked.h5",
            IdStorage::Chunked { rows: 3000 },
            3000,
            vec![],
        ),
        (
            "deflate.h5",
            IdStorage::Deflate { rows: 3000 },
            3000,
            vec![Filter::Deflate(4)],
        ),
        (
            "shuffle_deflate.h5",
            IdStorage::ShuffleDeflate { rows: 3000 },
            3000,
            vec![Filter::Shuffle, Filter::Deflate(4)],
        ),
        // A chunk is at most the column.
        (
            "long_chunks.h5",
            IdStorage::Chunked { rows: 1 << 20 },
            20_000,
            vec![],
        ),
    ] {
        let o = GenerateOptions {
            id_storage: storage,
            ..base.clone()
        };
        let (path, _) = gen_in(&dir, name, &o);
        assert!(file_datasets(&path) == expected, "{name}: other values");
        let g = pop_group(&path, POP);
        for column in ["source_node_id", "target_node_id"] {
            let ds = g.dataset(column).unwrap();
            assert_eq!(ds.chunk(), Some(vec![chunk]), "{name} {column}");
            assert_eq!(ds.filters(), filters, "{name} {column}");
        }
        for other in [
            "edge_type_id",
            "0/conductance",
            "indices/target_to_source/range_to_edge_id",
        ] {
            assert!(!g.dataset(other).unwrap().is_chunked(), "{name} {other}");
        }
        assert!(
            o.estimated_file_size() >= std::fs::metadata(&path).unwrap().len(),
            "{name}: the size estimate is below the file"
        );
    }
    // Without edges there is no chunk to make: contiguous.
    let o = GenerateOptions {
        id_storage: IdStorage::ShuffleDeflate { rows: 100 },
        ..opts(10, 0, EdgeOrder::Sorted)
    };
    let (path, _) = gen_in(&dir, "empty.h5", &o);
    assert!(
        !pop_group(&path, POP)
            .dataset("source_node_id")
            .unwrap()
            .is_chunked()
    );
    for rows in [0, MAX_ID_CHUNK_ROWS + 1] {
        let o = GenerateOptions {
            id_storage: IdStorage::Chunked { rows },
            ..base.clone()
        };
        let e = generate(&dir.path().join("bad.h5"), &o, &|_| {}).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument(m) if m.contains("chunks of id columns must have")),
            "{e}"
        );
    }
}
