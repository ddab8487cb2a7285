//! Runs library work the way a Python extension must: with the GIL released (other Python
//! threads go on), interruptible by Ctrl-C, and with no panic crossing into Python.
//!
//! Python's own SIGINT handler only records the signal; the `KeyboardInterrupt` is raised when a
//! thread holding the GIL checks for signals. So the work runs on a worker thread while the
//! calling thread waits without the GIL and, every [`POLL`], takes it back to run the pending
//! signal handlers. When a handler raises (Ctrl-C's `KeyboardInterrupt`), the library's
//! interruption flag is set ([`sonata_census::interrupt`]): its chunk loops stop with
//! `Error::Interrupted`, and the normal error path removes what they wrote (the output's
//! temporary file, spill files). The flag is then cleared, so that the next call runs, and the
//! handler's exception is raised. The CLI's signal thread is never installed: Python keeps its
//! handlers.
//!
//! The library's flag is process-wide: calls of other Python threads that reach a chunk
//! boundary while it is set (before the interrupted call has stopped and cleared it) stop too,
//! with `KeyboardInterrupt`. Only the main thread runs signal handlers, so only a call made from
//! it notices Ctrl-C by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// How often the waiting thread checks for signals: the delay a Ctrl-C adds before the
/// library's next chunk boundary notices it. Taking the GIL 20 times a second costs nothing
/// measurable.
const POLL: Duration = Duration::from_millis(50);

/// The worker's stack: as large as a main thread's (the library was written for one).
const STACK_BYTES: usize = 8 << 20;

/// SIGINT, the signal the library's flag records for Ctrl-C (messages only).
const SIGINT: i32 = 2;

/// Sets `done` and wakes the waiting thread when dropped, so that a panicking worker wakes it
/// too.
struct Finished {
    done: Arc<AtomicBool>,
    waiter: std::thread::Thread,
}

impl Drop for Finished {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        self.waiter.unpark();
    }
}

/// Runs `work` on a worker thread with the GIL released, as the module documentation says,
/// and returns its result, its error as a Python exception ([`to_py`]), the exception a signal
/// handler raised meanwhile (`KeyboardInterrupt`), or `RuntimeError` when it panicked.
pub fn run<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> sonata_census::Result<T> + Send,
) -> PyResult<T> {
    let done = Arc::new(AtomicBool::new(false));
    let finished = Finished {
        done: Arc::clone(&done),
        waiter: std::thread::current(),
    };
    let mut raised: Option<PyErr> = None;
    let joined = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("sonata-census".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, move || {
                let _finished = finished;
                work()
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
        while !done.load(Ordering::SeqCst) {
            // An unpark that came before the park makes it return at once: no wake-up is lost.
            py.detach(|| std::thread::park_timeout(POLL));
            if raised.is_none()
                && !done.load(Ordering::SeqCst)
                && let Err(e) = py.check_signals()
            {
                sonata_census::interrupt::request(SIGINT);
                raised = Some(e);
            }
        }
        // The worker has returned (or unwound): joining does not block on library work.
        Ok::<_, PyErr>(worker.join())
    })?;
    if let Some(e) = raised {
        // The work saw the flag (or finished first); either way the handler's exception is the
        // answer, as it would be had the signal come between two Python statements.
        sonata_census::interrupt::clear();
        return Err(e);
    }
    match joined {
        Ok(result) => result.map_err(to_py),
        Err(panic) => Err(internal_error(panic)),
    }
}

/// [`run`] for work known to be short (a table lookup of a bounded number of targets): on the
/// calling thread with the GIL released, without a worker thread (whose start alone, tens of
/// microseconds, was most of such a call) and without polling for signals: a Ctrl-C is noticed
/// by Python as soon as the call returns. A panic is still a `RuntimeError`.
pub fn run_short<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> sonata_census::Result<T> + Send,
) -> PyResult<T> {
    let result = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    match result {
        Ok(result) => result.map_err(to_py),
        Err(panic) => Err(internal_error(panic)),
    }
}

fn internal_error(panic: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    PyRuntimeError::new_err(format!(
        "sonata-census: internal error (a bug, please report it): {what}"
    ))
}
