//! Running a case: every command line and library call on its input, and the checks of their
//! exit codes, stderr lines, outputs and folders.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn bin() -> Command {
    let mut c = common::bin();
    // The CPU engine: the errors are the input's, and probing for a GPU is slow on lavapipe.
    c.env("SONATA_CENSUS_BACKEND", "cpu");
    c
}

pub(super) fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

pub(super) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Files of a folder (recursively), with their bytes, sorted.
pub(super) fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

pub(super) fn fill(template: &str, input: &Path, out: &Path, dir: &Path) -> String {
    template
        .replace("{in}", input.to_str().unwrap())
        .replace("{out}", out.to_str().unwrap())
        .replace("{dir}", dir.to_str().unwrap())
}

/// Checks one command line; returns what went wrong.
pub(super) fn check_run(case: &str, r: &Run, input: &Path, dir: &Path, k: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let out_dir = dir.join(format!("out{k}"));
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("census.h5");
    let args: Vec<String> = r.args.iter().map(|a| fill(a, input, &out, dir)).collect();
    let writes = r.args.contains(&"{out}");
    let what = format!("[{case}] sonata-census -q {}", args.join(" "));

    // Twice for commands with an output: into an empty folder, then over an existing output
    // with --force (which a failing run must leave byte-identical).
    let attempts: &[bool] = if writes { &[false, true] } else { &[false] };
    for &existing in attempts {
        let mut args = args.clone();
        if existing {
            std::fs::write(&out, PRECIOUS).unwrap();
            args.push("--force".into());
        }
        let before = snapshot(dir);
        let o: Output = locked(|| bin().arg("-q").args(&args).output().unwrap());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let what = if existing {
            format!("{what} --force (over an existing output)")
        } else {
            what.clone()
        };
        match o.status.code() {
            None => problems.push(format!("{what}: killed by a signal ({:?})", o.status)),
            Some(101) => problems.push(format!("{what}: panicked: {err}")),
            Some(c) if c != r.code => {
                problems.push(format!("{what}: exit code {c}, want {}: {err}", r.code))
            }
            _ => {}
        }
        let lines: Vec<&str> = err.lines().collect();
        if lines.len() != 1 {
            problems.push(format!(
                "{what}: stderr has {} lines, want 1:\n{err}",
                lines.len()
            ));
        }
        let line = lines.first().copied().unwrap_or("");
        if !line.starts_with("sonata-census: ") {
            problems.push(format!(
                "{what}: line lacks the 'sonata-census: ' prefix: {line}"
            ));
        }
        if err.contains("HDF5-DIAG") || err.contains("#000:") {
            problems.push(format!("{what}: HDF5 error stack printed:\n{err}"));
        }
        for n in &r.needles {
            let n = fill(n, input, &out, dir);
            if !line.contains(&n) {
                problems.push(format!("{what}: message lacks '{n}': {line}"));
            }
        }
        if !o.stdout.is_empty() {
            problems.push(format!(
                "{what}: printed on stdout: {}",
                String::from_utf8_lossy(&o.stdout)
            ));
        }
        // Nothing appeared, changed or vanished anywhere in the case's folder (outputs,
        // `.partial` files and write probes included).
        let after = snapshot(dir);
        if after != before {
            let names = |s: &[(PathBuf, Vec<u8>)]| -> Vec<String> {
                s.iter().map(|(p, _)| p.display().to_string()).collect()
            };
            problems.push(format!(
                "{what}: files changed: before {:?}, after {:?}",
                names(&before),
                names(&after)
            ));
        }
        if existing && std::fs::read(&out).ok().as_deref() != Some(PRECIOUS) {
            problems.push(format!("{what}: the existing output was modified"));
        }
    }
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir(&out_dir);
    problems
}

/// Checks one library call: the expected typed error, no panic.
pub(super) fn check_lib(case: &str, l: &Lib, input: &Path, dir: &Path) -> Option<String> {
    let result = locked(|| catch_unwind(AssertUnwindSafe(|| (l.call)(input, dir))));
    match result {
        Err(_) => Some(format!("[{case}] library {}: panicked", l.what)),
        Ok(Ok(())) => Some(format!(
            "[{case}] library {}: succeeded, want {:?}",
            l.what, l.want
        )),
        Ok(Err(e)) if !l.want.matches(&e) => Some(format!(
            "[{case}] library {}: {e:?}, want {:?}",
            l.what, l.want
        )),
        Ok(Err(_)) => None,
    }
}

pub(super) fn check_cases(cases: Vec<Case>) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(&case.name);
        std::fs::create_dir(&dir).unwrap();
        let input = locked(|| (case.build)(&dir));
        for (k, r) in case.runs.iter().enumerate() {
            problems.extend(check_run(&case.name, r, &input, &dir, k));
            checked += 1;
        }
        for l in &case.libs {
            problems.extend(check_lib(&case.name, l, &input, &dir));
            checked += 1;
        }
        // Let the temporary folder go even when a case made part of it read-only.
        set_mode(&dir, 0o755);
        if dir.join("ro").exists() {
            set_mode(&dir.join("ro"), 0o755);
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
