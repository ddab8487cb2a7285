//! Testing hooks that make the GPU engine fail, or plan as on a smaller device, on purpose, so
//! that the CPU fallback of `--backend auto` and the clean failure of `--backend gpu` can be
//! tested on any adapter (lavapipe included). Compiled only with the `testing` feature; the
//! library never reads the environment: the binary (built with `testing`) reads these variables
//! and hands a [`GpuFaults`] to [`GpuContext::open_with`](super::GpuContext::open_with) (through
//! `CensusOptions::gpu_faults`):
//!
//! - `SONATA_CENSUS_GPU_FAULT=STAGE[:N]`, STAGE one of `upload`, `dispatch`, `readback`: the
//!   N-th time (default 1, counted per context) and every later time the engine reaches that
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

use std::sync::atomic::{AtomicU64, Ordering};

pub use super::Stage;
use crate::error::{Error, Result};

/// The testing hooks of one context: which fault to inject, the memory to plan with, and whether
/// `auto` takes a software adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuFaults {
    /// The device error to inject (`SONATA_CENSUS_GPU_FAULT`).
    pub fault: Option<Fault>,
    /// Bytes per buffer and binding the engine plans with (`SONATA_CENSUS_GPU_MEMORY_LIMIT`).
    pub memory_limit: Option<u64>,
    /// `auto` accepts a software adapter (`SONATA_CENSUS_GPU_ALLOW_SOFTWARE=1`).
    pub allow_software: bool,
}

impl GpuFaults {
    /// The hooks from the values of [`FAULT_ENV`], [`MEMORY_LIMIT_ENV`] and
    /// [`ALLOW_SOFTWARE_ENV`] (`None`: unset; empty values count as unset, and only `1` allows
    /// software adapters).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the fault or the memory limit cannot be parsed, so that a
    /// typo in a test does not silently test nothing.
    pub fn parse(
        fault: Option<&str>,
        memory_limit: Option<&str>,
        allow_software: Option<&str>,
    ) -> Result<Self> {
        let fault = match fault {
            Some(v) if !v.trim().is_empty() => Some(v.parse()?),
            _ => None,
        };
        let memory_limit = match memory_limit {
            Some(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "{MEMORY_LIMIT_ENV}='{v}': expected a positive number of bytes"
                    )));
                }
            },
            _ => None,
        };
        Ok(GpuFaults {
            fault,
            memory_limit,
            allow_software: allow_software == Some("1"),
        })
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Where.
    pub stage: Stage,
    /// From the how-many-th time the stage is reached (1-based).
    pub from: u64,
    /// The value as given, for the injected error's message.
    pub spelled: String,
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
        Ok(Fault {
            stage,
            from,
            spelled: s.to_string(),
        })
    }
}

/// The fault of one context and how often each stage was reached.
#[derive(Debug, Default)]
pub(crate) struct Injector {
    fault: Option<Fault>,
    reached: [AtomicU64; 3],
}

impl Injector {
    pub(crate) fn new(fault: Option<Fault>) -> Self {
        Injector {
            fault,
            reached: Default::default(),
        }
    }

    /// Called by the engine each time it reaches `stage`: the message of the injected device
    /// error, when one is due.
    pub(crate) fn due(&self, stage: Stage) -> Option<String> {
        let fault = self.fault.as_ref().filter(|f| f.stage == stage)?;
        let n = self.reached[stage.index()].fetch_add(1, Ordering::Relaxed) + 1;
        (n >= fault.from).then(|| {
            format!(
                "{} failed: injected fault ({FAULT_ENV}={})",
                stage.name(),
                fault.spelled
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        let f = "upload".parse::<Fault>().unwrap();
        assert_eq!((f.stage, f.from), (Stage::Upload, 1));
        let f = "Dispatch:3".parse::<Fault>().unwrap();
        assert_eq!(
            (f.stage, f.from, f.spelled.as_str()),
            (Stage::Dispatch, 3, "Dispatch:3")
        );
        assert_eq!("readback".parse::<Fault>().unwrap().stage, Stage::Readback);
        for bad in ["", "uplod", "upload:", "upload:0", "readback:x"] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }
}
