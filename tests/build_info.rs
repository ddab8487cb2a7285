//! What the binary says of how it was built: `--version` names the HDF5 release it reads with.
//! The default build carries HDF5 1.14 or newer (2.2 today) (older releases crash on some damaged files).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

mod common;

#[test]
fn version_names_the_hdf5_release() {
    let o = common::bin().arg("--version").output().unwrap();
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    let hdf5 = out
        .split("HDF5 ")
        .nth(1)
        .unwrap_or_else(|| panic!("no HDF5 version in: {out}"));
    let version: Vec<u32> = hdf5
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()
        .unwrap()
        .split('.')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(version.len(), 3, "{out}");
    if cfg!(feature = "static-hdf5") {
        assert!(out.contains("built in"), "{out}");
        assert!(
            (version[0], version[1]) >= (1, 14),
            "the default build must carry HDF5 >= 1.14: {out}"
        );
    } else {
        assert!(out.contains("system library"), "{out}");
    }
    // `-V` stays the short form.
    let o = common::bin().arg("-V").output().unwrap();
    let short = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        short.trim(),
        format!("sonata-census {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `info` says which HDF5 read the file (text and JSON), the same release `--version` names.
#[test]
fn info_names_the_hdf5_release() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.h5");
    let o = common::bin()
        .args([
            "generate",
            common::path_str(&file),
            "--nodes",
            "10",
            "--edges",
            "100",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let version = sonata_census::info::hdf5_version();
    let o = common::bin()
        .args(["info", common::path_str(&file)])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.ends_with(&format!("\nread with HDF5 {version}\n")),
        "{text}"
    );
    let o = common::bin()
        .args(["info", "--json", common::path_str(&file)])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["hdf5_version"], version.as_str());
    let o = common::bin().arg("--version").output().unwrap();
    let line = String::from_utf8(o.stdout).unwrap();
    assert!(line.contains(&format!("HDF5 {version},")), "{line}");
}
