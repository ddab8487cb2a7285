//! Testing hooks that make the GPU engine fail, or plan as on a smaller device, on purpose, so
//! that the CPU fallback of `--backend auto` and the clean failure of `--backend gpu` can be
//! tested on any adapter (lavapipe included). Read from the environment once per process:
//!
//! - `SONATA_CENSUS_GPU_FAULT=STAGE[:N]`, STAGE one of `upload`, `dispatch`, `readback`: the
//!   N-th time (default 1, counted per process) and every later time the engine reaches that
//!   stage, the device reports an error there. The error goes through the same path as a real
//!   device error (the context's error log, turned into [`Error::BackendUnavailable`] by
//!   `GpuContext::check`), so callers see exactly what a lost device would give them.
//! - `SONATA_CENSUS_GPU_MEMORY_LIMIT=BYTES`: the engine plans with at most BYTES per buffer and
//!   per storage binding (the device itself keeps its real limits), as on a GPU with less
//!   memory: it streams smaller batches, and refuses (an error under `--backend gpu`, a CPU
//!   fallback under `auto`) when its fixed tables do not fit.
//! - `SONATA_CENSUS_GPU_ALLOW_SOFTWARE=1`: `--backend auto` accepts a software adapter
//!   (lavapipe), so that tests on machines without a GPU go through the production `auto` path.
//!
//! None of them is meant for production runs; the README lists them under "Environment".

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A point of the GPU engine where a device error can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Writing edges into a mapped staging buffer (host to device).
    Upload,
    /// Recording and submitting a batch of kernels.
    Dispatch,
    /// Copying results back and mapping them (device to host).
    Readback,
}

impl Stage {
    /// The stage's name, as `SONATA_CENSUS_GPU_FAULT` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Upload => "upload",
            Stage::Dispatch => "dispatch",
            Stage::Readback => "readback",
        }
    }

    fn index(self) -> usize {
        match self {
            Stage::Upload => 0,
            Stage::Dispatch => 1,
            Stage::Readback => 2,
        }
    }
}

/// Environment variable of the fault hook.
pub const FAULT_ENV: &str = "SONATA_CENSUS_GPU_FAULT";
/// Environment variable of the memory hook.
pub const MEMORY_LIMIT_ENV: &str = "SONATA_CENSUS_GPU_MEMORY_LIMIT";
/// Environment variable letting `auto` take a software adapter.
pub const ALLOW_SOFTWARE_ENV: &str = "SONATA_CENSUS_GPU_ALLOW_SOFTWARE";

/// A parsed `SONATA_CENSUS_GPU_FAULT`: the stage, and from which occurrence on it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Where.
    pub stage: Stage,
    /// From the how-many-th time the stage is reached (1-based).
    pub from: u64,
}

impl std::str::FromStr for Fault {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::InvalidArgument(format!(
                "{FAULT_ENV}='{s}': expected upload, dispatch or readback, optionally followed \
                 by :N (fail from the N-th time on)"
            ))
        };
        let (name, from) = match s.split_once(':') {
            Some((name, n)) => (name, n.trim().parse::<u64>().map_err(|_| bad())?),
            None => (s, 1),
        };
        let stage = match name.trim().to_ascii_lowercase().as_str() {
            "upload" => Stage::Upload,
            "dispatch" => Stage::Dispatch,
            "readback" => Stage::Readback,
            _ => return Err(bad()),
        };
        if from == 0 {
            return Err(bad());
        }
        Ok(Fault { stage, from })
    }
}

/// The fault asked for by the environment (read once); an unparsable value is an error every
/// time a stage is reached, so that a typo in a test does not silently test nothing.
fn configured() -> &'static std::result::Result<Option<Fault>, String> {
    static FAULT: OnceLock<std::result::Result<Option<Fault>, String>> = OnceLock::new();
    FAULT.get_or_init(|| match std::env::var(FAULT_ENV) {
        Ok(v) if !v.trim().is_empty() => v.parse().map(Some).map_err(|e: Error| e.to_string()),
        _ => Ok(None),
    })
}

/// Checks the testing hooks' values without counting a stage: a typo is a usage error before
/// any work or message (the context checks it when it opens).
///
/// # Errors
/// [`Error::InvalidArgument`] when `SONATA_CENSUS_GPU_FAULT` or
/// `SONATA_CENSUS_GPU_MEMORY_LIMIT` cannot be parsed.
pub(crate) fn check_hooks() -> Result<()> {
    if let Err(e) = configured() {
        return Err(Error::InvalidArgument(e.clone()));
    }
    memory_limit().map(drop)
}

static REACHED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Called by the engine each time it reaches `stage`: the message of the injected device error,
/// when one is due.
///
/// # Errors
/// [`Error::InvalidArgument`] when `SONATA_CENSUS_GPU_FAULT` cannot be parsed.
pub(crate) fn due(stage: Stage) -> Result<Option<String>> {
    let fault = match configured() {
        Ok(None) => return Ok(None),
        Ok(Some(f)) => *f,
        Err(e) => return Err(Error::InvalidArgument(e.clone())),
    };
    if fault.stage != stage {
        return Ok(None);
    }
    let n = REACHED[stage.index()].fetch_add(1, Ordering::Relaxed) + 1;
    Ok((n >= fault.from).then(|| {
        format!(
            "{} failed: injected fault ({FAULT_ENV}={})",
            stage.name(),
            std::env::var(FAULT_ENV).unwrap_or_default()
        )
    }))
}

/// `SONATA_CENSUS_GPU_MEMORY_LIMIT` in bytes, when set.
///
/// # Errors
/// [`Error::InvalidArgument`] when it is not a positive integer.
pub(crate) fn memory_limit() -> Result<Option<u64>> {
    match std::env::var(MEMORY_LIMIT_ENV) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::InvalidArgument(format!(
                "{MEMORY_LIMIT_ENV}='{v}': expected a positive number of bytes"
            ))),
        },
        _ => Ok(None),
    }
}

/// Whether `SONATA_CENSUS_GPU_ALLOW_SOFTWARE=1` lets `auto` take a software adapter.
pub(crate) fn allow_software() -> bool {
    std::env::var(ALLOW_SOFTWARE_ENV).as_deref() == Ok("1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(
            "upload".parse::<Fault>().unwrap(),
            Fault {
                stage: Stage::Upload,
                from: 1
            }
        );
        assert_eq!(
            "Dispatch:3".parse::<Fault>().unwrap(),
            Fault {
                stage: Stage::Dispatch,
                from: 3
            }
        );
        assert_eq!("readback".parse::<Fault>().unwrap().stage, Stage::Readback);
        for bad in ["", "uplod", "upload:", "upload:0", "readback:x"] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }
}
