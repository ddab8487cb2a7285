//! Proptest's configuration, shared by the property tests (`#[path = "common/props.rs"] mod
//! props;`). Apart from `mod.rs` because the fuzz crate shares that module and has no proptest.

use proptest::test_runner::Config;

/// `default` cases, or `PROPTEST_CASES` when set.
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Failures print their minimal input; each becomes a named regression test instead of a
        // seed file.
        failure_persistence: None,
        ..Config::default()
    }
}
