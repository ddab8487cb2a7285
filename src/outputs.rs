//! Output paths of every command that writes (`count`, `generate`, `demo --keep`, `report`): the
//! checks made before any work, the temporary name an output is written under, its mode, the
//! rename that puts it in place, and the free-space check of large outputs.
//!
//! The rules (the README's "Outputs" section says them to users):
//! - An existing output path must be a regular file, and is replaced only with `force`. Anything
//!   else is refused ([`Error::UnsuitableOutput`], exit 2) and left as it is, with or without
//!   `force`: a character or block device (`/dev/null`), a FIFO or socket (HDF5 needs to seek in
//!   its file, so it cannot be streamed into them), a folder, and a symbolic link (the output is
//!   renamed over its path, which would replace the link itself; `/dev/stdout` is one too).
//! - The output's folder must exist ([`Error::Io`], exit 1). `report` and `demo --keep` create
//!   their own folder ([`create_output_folder`]) but never a missing parent.
//! - Outputs are written under a temporary name in their folder, `.NAME.XXXXXX.partial`
//!   ([`create_beside`], where the writer creates the file itself; [`create_hdf5_beside`] for
//!   HDF5 outputs), and renamed over the output when complete ([`persist`]). The
//!   temporary file is created with mode `0666` less the umask, as `open(O_CREAT, 0666)` would
//!   give, so the output has the mode a new file gets (also when `force` replaces a file of
//!   another mode).
//! - [`check_space`] refuses up front an output larger than the free space of its folder or the
//!   process's file size limit (`ulimit -f`), rather than failing at the first write past it.

use std::fs::FileType;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The folder of `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What a node that is not a regular file is, for messages; `None` for a regular file.
fn kind_words(t: &FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Why `subject` ("is a FIFO (named pipe)"), a node of type `t` (not a regular file, not a
/// link), cannot hold an output file.
fn special_reason(subject: &str, t: &FileType) -> String {
    if t.is_dir() {
        format!("{subject}, not a file: choose a file path (inside it, or another name)")
    } else {
        format!(
            "{subject}, not a regular file: sonata-census writes HDF5 files, which need a \
             regular file (HDF5 cannot stream into a device, pipe or socket); choose a file path"
        )
    }
}

fn unsuitable(path: &Path, reason: String) -> Error {
    Error::UnsuitableOutput {
        path: path.to_path_buf(),
        reason,
    }
}

/// Checks what is at an output file's path now: `Ok(false)` when nothing is (or the path cannot
/// be examined, which the folder checks then report), `Ok(true)` for a regular file.
///
/// # Errors
/// [`Error::UnsuitableOutput`] for anything else (see the module documentation).
pub fn check_output_kind(path: &Path) -> Result<bool> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(false);
    };
    let t = meta.file_type();
    if t.is_file() {
        return Ok(true);
    }
    if t.is_symlink() {
        return Err(unsuitable(path, link_reason(path)));
    }
    let what = kind_words(&t).unwrap_or("something else");
    Err(unsuitable(path, special_reason(&format!("is {what}"), &t)))
}

/// Whether following the links from `path` passes through a file descriptor's link
/// (`/dev/stdout` -> `/proc/self/fd/1`, `/dev/fd/N`): the path names an open descriptor,
/// whatever file or pipe that descriptor is now.
fn is_descriptor_alias(path: &Path) -> bool {
    let mut at = path.to_path_buf();
    // As the kernel, give up after 40 links.
    for _ in 0..40 {
        let s = at.to_string_lossy();
        if s.starts_with("/proc/") || s.starts_with("/dev/fd/") {
            return true;
        }
        let Ok(next) = std::fs::read_link(&at) else {
            return false;
        };
        at = parent_dir(&at).join(next);
    }
    false
}

/// Why the symbolic link `path` cannot be an output path, naming what it points to.
fn link_reason(path: &Path) -> String {
    let to = std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    if is_descriptor_alias(path) {
        return format!(
            "names an open file descriptor (it links to {to}), not a regular file: \
             sonata-census writes HDF5 files, which need a regular file (HDF5 cannot stream to \
             standard output, a pipe or a terminal); choose a file path"
        );
    }
    match std::fs::metadata(path) {
        Ok(target) if target.is_file() => format!(
            "is a symbolic link to {to}: the output is written under a temporary name and \
             renamed over its path, which would replace the link, not its target; give the \
             target's path, or remove the link"
        ),
        Ok(target) => {
            let t = target.file_type();
            let what = kind_words(&t).unwrap_or("something else");
            special_reason(&format!("is a symbolic link to {to}, {what}"), &t)
        }
        Err(_) => format!(
            "is a symbolic link to {to}, which does not exist: remove the link or choose \
             another path"
        ),
    }
}

/// Checks that `dir` is an existing folder in which a file can be created (a probe file,
/// removed at once).
///
/// # Errors
/// [`Error::Io`] naming the folder.
pub fn check_output_folder(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other("not a directory"),
        });
    }
    // The message names the folder and the OS reason, not the probe's random name.
    probe_writable(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("cannot create a file in this folder: {e}"),
        ),
    })
}

/// Creates a file in `dir` and removes it at once: whether the run can create its files there.
/// The error is the OS's reason alone (tempfile appends ` at path "<probe>"`, a random name
/// that would only confuse a message).
///
/// # Errors
/// The OS error of the creation.
pub fn probe_writable(dir: &Path) -> std::io::Result<()> {
    tempfile::Builder::new()
        .prefix(".sonata-census-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            let text = e.to_string();
            let reason = text.split(" at path ").next().unwrap_or(&text).to_string();
            std::io::Error::new(e.kind(), reason)
        })
}

/// Whether `a` and `b` are the same existing file (same device and inode: links included): an
/// output must not be the input it is made from.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Checks before any work that an output file can be written at `path`: nothing or a regular
/// file is there (replaced only with `force`), and its folder exists and is writable.
///
/// # Errors
/// [`Error::UnsuitableOutput`] (also for a path without a file name: empty, `..`, ending in
/// `/`), [`Error::OutputExists`], or [`Error::Io`] naming the folder.
pub fn check_output_path(path: &Path, force: bool) -> Result<()> {
    // "", "/", "..", "new/": no file name to rename the finished file to.
    let text = path.as_os_str().as_encoded_bytes();
    if path.file_name().is_none() || text.ends_with(b"/") {
        return Err(unsuitable(
            path,
            "is not a file name: choose a file path, e.g. census.h5".into(),
        ));
    }
    let exists = check_output_kind(path)?;
    check_output_folder(&parent_dir(path))?;
    if exists && !force {
        return Err(Error::OutputExists {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Checks before any work that `dir` can be an output folder: an existing folder (a link to
/// one included: files are written inside it) that is writable, or a missing one whose parent
/// folder exists and is writable.
///
/// # Errors
/// [`Error::UnsuitableOutput`] when something else is there, [`Error::Io`] naming the folder or
/// its missing parent.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_output_folder(dir),
        Ok(meta) => {
            let t = meta.file_type();
            let what = kind_words(&t).unwrap_or("a file");
            let what = if t.is_file() { "a file" } else { what };
            Err(unsuitable(
                dir,
                format!("is {what}, not a folder: choose a folder path"),
            ))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dir).is_ok() {
                return Err(unsuitable(dir, link_reason(dir)));
            }
            check_output_folder(&parent_dir(dir))
        }
        Err(source) => Err(Error::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Creates the output folder `dir` when missing: that folder only, never a missing parent (mode
/// `0777` less the umask). Returns whether it was created.
///
/// # Errors
/// As [`check_output_dir`]; [`Error::Io`] when the folder cannot be created.
pub fn create_output_folder(dir: &Path) -> Result<bool> {
    check_output_dir(dir)?;
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(source) => Err(Error::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// A temporary name beside `path` (whose file name is `NAME`) for an output to be written
/// under and [`persist`]ed over `path` when complete: `create` is called with a fresh
/// `.NAME.XXXXXX.partial` path that does not exist (again with another name while it answers
/// [`ErrorKind::AlreadyExists`]) and must create the file there, exclusively, with mode `0666`
/// less the umask (what `open(O_CREAT, 0666)` gives). The file is removed when the returned
/// path is dropped.
///
/// Why the writer creates the file rather than truncating an empty one made for it (HDF5
/// creates with `O_TRUNC`): on ext4, truncating a file to length zero marks it to be flushed
/// when it is closed (`auto_da_alloc`, meant for programs that rewrite a file in place), and the
/// closing process then allocates and submits the writeback of the whole output itself: 20-40
/// ms of a 30 MB census, 0.6 s of a 1.6 GB generated circuit, on the critical path of the run.
///
/// # Errors
/// What `create` returned, other than [`ErrorKind::AlreadyExists`].
pub fn create_beside<R>(
    path: &Path,
    mut create: impl FnMut(&Path) -> std::io::Result<R>,
) -> std::io::Result<(R, tempfile::TempPath)> {
    let (dir, prefix) = temporary_prefix(path);
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".partial")
        .make_in(&dir, |candidate| {
            // Only a name nothing holds is handed on (the writer creates exclusively as well).
            if candidate.symlink_metadata().is_ok() {
                return Err(ErrorKind::AlreadyExists.into());
            }
            create(candidate)
        })
        .map(tempfile::NamedTempFile::into_parts)
}

/// Creates an HDF5 file under a fresh temporary name beside `path` ([`create_beside`]), HDF5
/// creating it exclusively (no `O_TRUNC`: see [`create_beside`] for why), without object
/// modification times (so equal contents give byte-identical files). Every writer of an HDF5
/// output (`count`'s census file, `generate`) starts here.
///
/// # Errors
/// [`Error::Io`] naming the folder for the folder's own failures (missing, not writable, not a
/// folder: the name is first created and removed with `O_EXCL`, so they are worded by the OS);
/// [`Error::OutputHdf5`] naming the temporary file when HDF5 cannot create it.
pub fn create_hdf5_beside(path: &Path) -> Result<(hdf5::File, tempfile::TempPath)> {
    use crate::error::{H5Context, Location};
    let mut failed: Option<(PathBuf, hdf5::Error)> = None;
    let created = create_beside(path, |candidate| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(candidate)?;
        std::fs::remove_file(candidate)?;
        untimed_file_options().create_excl(candidate).map_err(|e| {
            // (A file HDF5 made before it failed is ours: removed.)
            let _ = std::fs::remove_file(candidate);
            failed = Some((candidate.to_path_buf(), e));
            std::io::Error::other("HDF5 could not create the file")
        })
    });
    match (created, failed) {
        (Ok(created), _) => Ok(created),
        (Err(_), Some((candidate, e))) => Err(e)
            .at(&Location::file(&candidate))
            .map_err(Error::writing),
        (Err(source), None) => Err(Error::Io {
            path: parent_dir(path),
            source,
        }),
    }
}

/// Options of an HDF5 output file: its root group records no times. (Datasets made by `hdf5`
/// record none by default; other groups are made by [`create_untimed_group`].)
pub fn untimed_file_options() -> hdf5::FileBuilder {
    let mut builder = hdf5::File::with_options();
    builder.with_fcpl(|p| p.obj_track_times(false));
    builder
}

/// Creates group `name` (and any missing group above it) under `parent`, recording no times
/// (HDF5 2.x groups record them by default): equal contents give byte-identical files.
///
/// # Errors
/// HDF5's.
pub fn create_untimed_group(parent: &hdf5::Group, name: &str) -> hdf5::Result<hdf5::Group> {
    parent
        .create_group_builder()
        .obj_track_times(false)
        .create(name)
}

/// The folder of `path` and the prefix of its temporary names: `.NAME.`, with as much of the
/// file name as leaves room for the dots, the random part and the suffix within a 255-byte
/// file name.
fn temporary_prefix(path: &Path) -> (PathBuf, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cut = name.len().min(230);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    (parent_dir(path), format!(".{}.", &name[..cut]))
}

/// Renames the complete temporary file `temp` over `path`, unless the run was interrupted, and
/// unless `path` has meanwhile become something other than a regular file, or appeared without
/// `force`.
///
/// # Errors
/// [`Error::Interrupted`], [`Error::UnsuitableOutput`], [`Error::OutputExists`], rename errors.
pub fn persist(temp: tempfile::TempPath, path: &Path, force: bool) -> Result<()> {
    crate::interrupt::commit(move || {
        if check_output_kind(path)? && !force {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        temp.persist(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.error,
        })
    })
}

/// Refuses an output of about `needed` bytes at `path` when it exceeds the process's file size
/// limit (`RLIMIT_FSIZE`) or the space free in its folder (for this user: root may also use
/// the blocks reserved for it). Where either cannot be known, that check is skipped.
///
/// # Errors
/// [`Error::Io`] naming the output (exit 1: the environment's limit), with both sizes.
pub fn check_space(path: &Path, needed: u64) -> Result<()> {
    let refuse = |kind: ErrorKind, what: String| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            kind,
            format!(
                "cannot write the output: it needs about {}, {what}",
                human_bytes(needed)
            ),
        ),
    };
    if let Some(limit) = file_size_limit()
        && needed > limit
    {
        return Err(refuse(
            ErrorKind::FileTooLarge,
            format!(
                "and the file size limit (ulimit -f) is {}",
                human_bytes(limit)
            ),
        ));
    }
    let dir = parent_dir(path);
    if let Some(free) = free_space(&dir)
        && needed > free
    {
        return Err(refuse(
            ErrorKind::StorageFull,
            format!(
                "but only {} is free in {}",
                human_bytes(free),
                if dir == Path::new(".") {
                    "the current folder".to_string()
                } else {
                    dir.display().to_string()
                }
            ),
        ));
    }
    Ok(())
}

/// The soft `RLIMIT_FSIZE` in bytes, `None` when unlimited.
fn file_size_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Fsize).current
}

/// Bytes this user can still write in the file system of `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    let blocks = if rustix::process::geteuid().is_root() {
        s.f_bfree
    } else {
        s.f_bavail
    };
    Some(blocks.saturating_mul(s.f_frsize))
}

/// A size for people: `512 B`, `64.0 KiB`, `1.5 GiB`, `727.6 TiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(64 << 10), "64.0 KiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn temporary_names_carry_the_output_name() {
        let dir = tempfile::tempdir().unwrap();
        let create = |candidate: &Path| std::fs::File::create_new(candidate).map(drop);
        let ((), t) = create_beside(&dir.path().join("census.h5"), create).unwrap();
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".census.h5.") && name.ends_with(".partial"),
            "{name}"
        );
        let long = "é".repeat(127); // 254 bytes
        let ((), t) = create_beside(&dir.path().join(&long), create).unwrap();
        assert!(t.file_name().unwrap().len() <= 255);
        assert!(t.exists());
    }

    /// `create_beside` hands the writer a fresh name beside the output, tries another while
    /// the writer says the name is taken, passes any other failure on, and removes what the
    /// writer made when the temporary path is dropped.
    #[test]
    fn create_beside_lets_the_writer_create_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("census.h5");
        let mut tried = Vec::new();
        let (len, temp) = create_beside(&out, |candidate| {
            tried.push(candidate.to_path_buf());
            assert!(!candidate.exists(), "{}", candidate.display());
            if tried.len() == 1 {
                return Err(ErrorKind::AlreadyExists.into());
            }
            std::fs::write(candidate, b"abc").map(|()| 3)
        })
        .unwrap();
        assert_eq!(len, 3);
        assert_eq!(tried.len(), 2);
        assert_ne!(tried[0], tried[1]);
        assert_eq!(temp.to_path_buf(), tried[1]);
        assert_eq!(temp.parent(), Some(dir.path()));
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".census.h5.") && name.ends_with(".partial"),
            "{name}"
        );
        assert!(!out.exists());
        let kept = temp.to_path_buf();
        drop(temp);
        assert!(!kept.exists());
        // Another failure is the caller's, at once.
        let failed = create_beside(&out, |_| -> std::io::Result<()> {
            Err(std::io::Error::other("no"))
        });
        assert!(failed.unwrap_err().to_string().starts_with("no"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
