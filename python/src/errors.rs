//! The library's errors as Python exceptions: the type says what kind of failure it is, the
//! message is the library's one line (as the tool prints it after `sonata-census: `), with
//! advice that names the Python keyword where the tool names its flag.
//!
//! | library error | exception |
//! |---|---|
//! | `InputFile`, `Io` (not found) | `FileNotFoundError` |
//! | `InputFile`, `Io` (permission) | `PermissionError` |
//! | `InputFile`, `Io` (other) | `OSError` |
//! | `OutputExists` | `FileExistsError` |
//! | `NotHdf5`, `Hdf5` (a read failed), `OutputHdf5` (a write failed) | `OSError` |
//! | `PopulationNotFound` | `KeyError` |
//! | `InvalidData`, `InvalidArgument`, `UnsuitableOutput` | `ValueError` |
//! | `BackendUnavailable` | `RuntimeError` |
//! | `Interrupted` | `KeyboardInterrupt` |
//!
//! `Noted` and `About` wrappers take the type of the error they wrap.

use std::io::ErrorKind;

use pyo3::PyErr;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyKeyError, PyKeyboardInterrupt, PyOSError,
    PyPermissionError, PyRuntimeError, PyValueError,
};
use sonata_census::Error;
use sonata_census::error::{Setting, printable_line};

/// `e` as the Python exception of the table above.
pub fn to_py(e: Error) -> PyErr {
    let message = printable_line(&message(&e));
    match e.innermost() {
        Error::InputFile { source, .. } | Error::Io { source, .. } => match source.kind() {
            ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            _ => PyOSError::new_err(message),
        },
        Error::OutputExists { .. } => PyFileExistsError::new_err(message),
        Error::NotHdf5 { .. } | Error::Hdf5 { .. } | Error::OutputHdf5 { .. } => {
            PyOSError::new_err(message)
        }
        Error::PopulationNotFound { .. } => PyKeyError::new_err(message),
        Error::BackendUnavailable { .. } => PyRuntimeError::new_err(message),
        Error::Interrupted => PyKeyboardInterrupt::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The message, with the advice the tool gives in its words given in Python's.
fn message(e: &Error) -> String {
    match e {
        Error::OutputExists { .. } => format!("{e} (pass force=True to replace it)"),
        // A note goes after the advice of the error it notes.
        Error::Noted { error, note } => format!("{} ({note})", message(error)),
        Error::About {
            error,
            setting: Setting::NodeCount,
        } => format!("{} (node count from nodes_count=)", message(error)),
        Error::About {
            error,
            setting: Setting::ReaderVariant { fitting },
        } => format!(
            "{} (fitting readers: {})",
            message(error),
            fitting.join(", ")
        ),
        _ => e.to_string(),
    }
}
