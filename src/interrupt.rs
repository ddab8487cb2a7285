//! Interruption by SIGINT / SIGTERM: a process-wide flag that long loops poll, and a list of
//! temporary files and folders (the output's `.partial` file, spill folders, `demo`'s temporary
//! folder, `report`'s staging folder) to remove when the process has to stop without unwinding,
//! and of folders a command created (`report -o DIR`, `demo --keep DIR`) to remove when empty.
//!
//! The command-line tool calls [`install`] (feature `signals`, which `cli` enables). On the first
//! signal the flag is set: the chunk loops
//! ([`check`]) return [`Error::Interrupted`], the normal error path drops the temporary files,
//! and the tool exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM). Should the
//! main thread not get there within [`GRACE`] (a long HDF5 call, a sort of a large partition), or
//! on a second signal, the signal thread removes every registered temporary path itself and
//! ends the process with that exit code at once (`_exit`: no atexit handlers, so HDF5's own
//! clean-up cannot deadlock on a lock the main thread holds).
//!
//! A library user who does not call [`install`] never sees the flag set.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long the main thread has to stop by itself after a signal.
pub const GRACE: Duration = Duration::from_secs(3);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static IGNORE: AtomicBool = AtomicBool::new(false);

/// Registered paths, by registration id, with whether only an empty folder is removed.
static TEMPS: Mutex<Vec<(u64, PathBuf, bool)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn temps() -> MutexGuard<'static, Vec<(u64, PathBuf, bool)>> {
    // A panic while holding the lock leaves a plain Vec, still usable.
    TEMPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether an interruption was requested.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The signal that interrupted the run (SIGINT = 2, SIGTERM = 15), if any.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The exit code for an interrupted run: 128 + the signal number.
pub fn exit_code() -> Option<u8> {
    signal().map(|s| (128 + s).clamp(0, 255) as u8)
}

/// The name of the signal for messages.
pub fn signal_name() -> &'static str {
    match signal() {
        Some(2) => "SIGINT",
        Some(15) => "SIGTERM",
        _ => "a signal",
    }
}

/// Polled by long loops: [`Error::Interrupted`] once an interruption was requested.
///
/// # Errors
/// [`Error::Interrupted`].
pub fn check() -> Result<()> {
    if !requested() {
        return Ok(());
    }
    while IGNORE.load(Ordering::Relaxed) {
        // The testing hook: stuck until the signal thread ends the process.
        std::thread::sleep(Duration::from_secs(1));
    }
    Err(Error::Interrupted)
}

/// Marks the run as interrupted by `signal` (what the signal thread does; tests call it too).
pub fn request(signal: i32) {
    let _ = SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Clears an interruption its caller has handled, so that later runs in the same process are not
/// refused: for callers that stay alive after an interruption (the Python module raises
/// `KeyboardInterrupt` and the interpreter goes on). The tool never calls it: it exits. Runs of
/// other threads still going see the flag until it is cleared, and stop too.
pub fn clear() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    SIGNAL.store(0, Ordering::SeqCst);
}

/// Testing hook: from now on [`check`] does not return once the flag is set but waits for ever,
/// as a main thread stuck in one long HDF5 call would, so that tests reach the forced clean-up
/// whatever the speed of the machine (the tool calls it when its tests ask through the
/// environment; the library reads none).
#[doc(hidden)]
pub fn ignore_for_tests() {
    IGNORE.store(true, Ordering::Relaxed);
}

/// A temporary path removed by the forced clean-up; dropping it unregisters the path (the owner
/// removes it itself).
#[derive(Debug)]
pub struct Registered {
    id: u64,
}

/// Registers `path` (a file, or a folder removed with everything in it) for the forced
/// clean-up.
pub fn register(path: &Path) -> Registered {
    push(path, false)
}

/// Registers the folder `path`, which the command created, to be removed by the forced clean-up
/// if it is empty then (paths registered later, inside it, are removed first).
pub fn register_created_folder(path: &Path) -> Registered {
    push(path, true)
}

fn push(path: &Path, only_if_empty: bool) -> Registered {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    temps().push((id, path.to_path_buf(), only_if_empty));
    Registered { id }
}

impl Drop for Registered {
    fn drop(&mut self) {
        temps().retain(|(id, _, _)| *id != self.id);
    }
}

/// Runs `f` (moving a registered temporary file to its final name) unless the run was
/// interrupted, holding the registry so that the forced clean-up cannot remove the file while
/// it is being renamed.
///
/// # Errors
/// [`Error::Interrupted`], or `f`'s error.
pub fn commit<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    check()?;
    let _held = temps();
    if requested() {
        return Err(Error::Interrupted);
    }
    f()
}

/// Installs the SIGINT / SIGTERM handling described in the module documentation: a thread
/// waits for the signals, sets the flag, and forces the exit when the main thread is late.
///
/// # Errors
/// [`Error::Io`] when the signal handlers cannot be installed.
#[cfg(feature = "signals")]
pub fn install() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|source| Error::Io {
            path: PathBuf::from("<signal handlers>"),
            source,
        })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut first = true;
            for sig in signals.forever() {
                request(sig);
                if first {
                    first = false;
                    // Give the main thread the grace period, then clean up and exit; a second
                    // signal (the loop below) does it at once.
                    std::thread::spawn(|| {
                        std::thread::sleep(GRACE);
                        force_exit();
                    });
                } else {
                    force_exit();
                }
            }
        })
        .map_err(|source| Error::Io {
            path: PathBuf::from("<signal thread>"),
            source,
        })?;
    Ok(())
}

/// Removes the registered temporary paths and ends the process with the interrupted exit code.
#[cfg(feature = "signals")]
fn force_exit() -> ! {
    // The registry stays locked until the process ends: a rename in [`commit`] either happened
    // before (the output is complete and no longer registered) or never does.
    let mut held = temps();
    // Newest first: what a command put inside a folder it created goes before that folder.
    for (_, path, only_if_empty) in held.drain(..).rev() {
        if only_if_empty {
            let _ = std::fs::remove_dir(&path);
        } else if path.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    eprintln!(
        "sonata-census: interrupted by {} (stopped without finishing the current step)",
        signal_name()
    );
    signal_hook::low_level::exit(i32::from(exit_code().unwrap_or(130)))
}
