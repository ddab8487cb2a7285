//! Typed errors of the library.
//!
//! Every error that input can cause names where it happened: the file, and where it applies the
//! population and the dataset (see [`Location`]). Messages are lowercase and have no trailing
//! period, so the command-line tool can print them on one line after `sonata-census: `.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a SONATA file something went wrong: file, then optionally population and dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The edge or node population, when the problem is inside one.
    pub population: Option<String>,
    /// The dataset, group or attribute path (relative to the population when there is one).
    pub dataset: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl AsRef<Path>) -> Self {
        Location {
            file: file.as_ref().to_path_buf(),
            population: None,
            dataset: None,
        }
    }

    /// This location narrowed to a population.
    pub fn population(&self, population: &str) -> Self {
        Location {
            population: Some(population.to_string()),
            dataset: None,
            ..self.clone()
        }
    }

    /// This location narrowed to a dataset (or group, or attribute) path.
    pub fn dataset(&self, dataset: &str) -> Self {
        Location {
            dataset: Some(dataset.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = &self.population {
            write!(f, ", population '{p}'")?;
        }
        if let Some(d) = &self.dataset {
            write!(f, ", dataset '{d}'")?;
        }
        Ok(())
    }
}

/// The error type of every fallible function of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HDF5 library failed on an object (open, read, write).
    #[error("{at}: {}", one_line(source))]
    Hdf5 {
        /// Where the HDF5 call failed.
        at: Location,
        /// The HDF5 library's error.
        #[source]
        source: hdf5::Error,
    },

    /// The HDF5 library failed writing an output file (disk full, quota, file size limit, I/O
    /// error): the environment's failure, not the input's.
    #[error("{at}: cannot write the output: {}", one_line(source))]
    OutputHdf5 {
        /// The output file (its temporary name) and the object being written.
        at: Location,
        /// The HDF5 library's error.
        #[source]
        source: hdf5::Error,
    },

    /// The file is not HDF5, or cannot be opened as such.
    #[error("{at}: cannot open as an HDF5 file ({reason})")]
    NotHdf5 {
        /// The file.
        at: Location,
        /// What HDF5 said.
        reason: String,
    },

    /// The data violates the SONATA format or disagrees with itself.
    #[error("{at}: {reason}")]
    InvalidData {
        /// Where the bad data is.
        at: Location,
        /// What is wrong, in one sentence.
        reason: String,
    },

    /// A population asked for does not exist in the file.
    #[error("{at}: no population '{name}' (the file has: {})", if available.is_empty() { "none".to_string() } else { available.join(", ") })]
    PopulationNotFound {
        /// The file (and the group searched).
        at: Location,
        /// The name asked for.
        name: String,
        /// The populations that do exist.
        available: Vec<String>,
    },

    /// An operating-system I/O error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An input file (named by the caller, or by a circuit config the caller named) does not
    /// exist or cannot be read. Bad input: exit code 2, unlike [`Error::Io`].
    #[error("{}: {source}{}", path.display(), named_by.as_ref().map(|c| format!(" (named by {})", c.display())).unwrap_or_default())]
    InputFile {
        /// The input file.
        path: PathBuf,
        /// The circuit config that names it, when it came from one.
        named_by: Option<PathBuf>,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The output file exists and overwriting was not allowed. The message names no option (the
    /// command-line tool adds its `--force` advice).
    #[error("{}: output exists", path.display())]
    OutputExists {
        /// The output path.
        path: PathBuf,
    },

    /// An output path names something that cannot hold the output (a device, FIFO, socket,
    /// folder or symbolic link where a file goes; a file where a folder goes). Left untouched;
    /// bad input: exit code 2.
    #[error("{}: {reason}", path.display())]
    UnsuitableOutput {
        /// The output path, as given.
        path: PathBuf,
        /// What is there and what to do, in one sentence.
        reason: String,
    },

    /// A requested backend cannot run here.
    #[error("backend '{backend}' failed: {reason}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: String,
        /// Why it cannot run.
        reason: String,
    },

    /// A caller-supplied argument is invalid (not a property of any file).
    #[error("{0}")]
    InvalidArgument(String),

    /// The run was interrupted (SIGINT/SIGTERM) before it finished; nothing was written.
    #[error("interrupted")]
    Interrupted,

    /// Another error, with a note on what to do about it (see [`Error::with_note`]).
    #[error("{error} ({note})")]
    Noted {
        /// The error.
        error: Box<Error>,
        /// What the caller can do (`count the others with -p ...`).
        note: String,
    },

    /// Another error, about one of the caller's settings (see [`Error::about`]): the library
    /// names no command-line flag, a tool adds the one that sets it (`sonata-census` adds
    /// `--nodes-count`, `--reader`). Displays as the error itself.
    #[error("{error}")]
    About {
        /// The error.
        error: Box<Error>,
        /// The setting it is about.
        setting: Setting,
    },
}

/// A setting of the caller's that an error is about ([`Error::About`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// The number of target nodes the caller gave (`CensusOptions::nodes_count`).
    NodeCount,
    /// The synapse reader variant (`ReaderOptions::variant`); `fitting` names the variants
    /// whose every attribute the population has.
    ReaderVariant {
        /// Names of the variants that fit the file.
        fitting: Vec<String>,
    },
}

impl Error {
    /// Builds an [`Error::InvalidData`].
    pub fn invalid(at: Location, reason: impl Into<String>) -> Self {
        Error::InvalidData {
            at,
            reason: reason.into(),
        }
    }

    /// This error as one of writing an output: an HDF5 failure becomes [`Error::OutputHdf5`]
    /// (the environment's, exit 1, not bad input); other errors are returned unchanged.
    pub fn writing(self) -> Self {
        match self {
            Error::Hdf5 { at, source } => Error::OutputHdf5 { at, source },
            other => other,
        }
    }

    /// This error with `note` at the end of its message, in parentheses. Errors with a reason
    /// ([`Error::InvalidData`], [`Error::NotHdf5`]) keep their variant; others are wrapped in
    /// [`Error::Noted`], which keeps their exit code.
    #[must_use]
    pub fn with_note(self, note: &str) -> Self {
        match self {
            Error::InvalidData { at, reason } => Error::InvalidData {
                at,
                reason: format!("{reason} ({note})"),
            },
            Error::NotHdf5 { at, reason } => Error::NotHdf5 {
                at,
                reason: format!("{reason}; {note}"),
            },
            other => Error::Noted {
                error: Box::new(other),
                note: note.to_string(),
            },
        }
    }

    /// Builds an [`Error::InputFile`] for `path`, not named by a config.
    pub fn input_file(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::InputFile {
            path: path.as_ref().to_path_buf(),
            named_by: None,
            source,
        }
    }

    /// This error, with `config` recorded as the circuit config that named the missing input
    /// file (other errors are returned unchanged: they already name their file).
    pub fn named_by(self, config: impl AsRef<Path>) -> Self {
        match self {
            Error::InputFile {
                path,
                named_by: None,
                source,
            } => Error::InputFile {
                path,
                named_by: Some(config.as_ref().to_path_buf()),
                source,
            },
            other => other,
        }
    }

    /// Builds an [`Error::Hdf5`].
    pub fn hdf5(at: Location, source: hdf5::Error) -> Self {
        Error::Hdf5 { at, source }
    }

    /// This error as one about the caller's `setting` ([`Error::About`]).
    #[must_use]
    pub fn about(self, setting: Setting) -> Self {
        Error::About {
            error: Box::new(self),
            setting,
        }
    }

    /// The error under its [`Error::Noted`] and [`Error::About`] wrappers.
    pub fn innermost(&self) -> &Error {
        match self {
            Error::Noted { error, .. } | Error::About { error, .. } => error.innermost(),
            other => other,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than the environment (exit code 1).
    pub fn is_input_error(&self) -> bool {
        if let Error::Noted { error, .. } | Error::About { error, .. } = self {
            return error.is_input_error();
        }
        matches!(
            self,
            Error::InvalidData { .. }
                | Error::NotHdf5 { .. }
                | Error::InputFile { .. }
                | Error::PopulationNotFound { .. }
                | Error::OutputExists { .. }
                | Error::UnsuitableOutput { .. }
                | Error::InvalidArgument(_)
                | Error::Hdf5 { .. }
        )
    }
}

/// `message` as one printable line of valid UTF-8: invalid bytes become U+FFFD and control
/// characters (a newline in a name read from a damaged file) are escaped, so that an error is
/// always exactly one line.
pub fn printable_line(message: &str) -> String {
    let text = String::from_utf8_lossy(message.as_bytes());
    if !text.chars().any(char::is_control) {
        return text.into_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds a [`Location`] to HDF5 results.
pub(crate) trait H5Context<T> {
    /// Maps an HDF5 error into [`Error::Hdf5`] at `at`.
    fn at(self, at: &Location) -> Result<T>;
}

impl<T> H5Context<T> for hdf5::Result<T> {
    fn at(self, at: &Location) -> Result<T> {
        self.map_err(|source| Error::Hdf5 {
            at: at.clone(),
            source,
        })
    }
}

/// An HDF5 error message as one line. Write failures of HDF5's POSIX driver span two lines and
/// carry a time stamp, buffer addresses and byte counts; keep what is said and the OS reason.
fn one_line(e: &hdf5::Error) -> String {
    let text = e.to_string();
    let Some(detail) = text.find(": time = ") else {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let head = text[..detail]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let reason = text
        .split("error message = '")
        .nth(1)
        .and_then(|r| r.split('\'').next());
    match reason {
        Some(reason) => format!("{head}: {reason}"),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::{one_line, printable_line};

    #[test]
    fn printable_lines_escape_control_characters() {
        assert_eq!(
            printable_line("no population 'a\nb'"),
            "no population 'a\\nb'"
        );
        assert_eq!(printable_line("tab\there"), "tab\\there");
        assert_eq!(printable_line("plain – text"), "plain – text");
    }

    #[test]
    fn hdf5_write_failures_read_as_one_line() {
        let e = hdf5::Error::from(
            "H5Dwrite(): can't write data: file write failed: time = Thu Nov 26 05:10:17 2026\n, \
             filename = '/tmp/.out.h5.R3.partial', file descriptor = 6, errno = 27, error \
             message = 'File too large', buf = 0x564c, total write size = 45448",
        );
        assert_eq!(
            one_line(&e),
            "H5Dwrite(): can't write data: file write failed: File too large"
        );
        let e = hdf5::Error::from("H5Fopen(): unable to open\nfile: not found");
        assert_eq!(one_line(&e), "H5Fopen(): unable to open file: not found");
    }
}
