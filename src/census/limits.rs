//! The largest target space a census can hold: per-target tables must fit in this machine's
//! memory. A corrupt target id (2^40, 2^64 - 1) or node count then gives a typed error instead
//! of an allocation abort or a capacity-overflow panic.

use super::TargetOrigin;
use crate::error::{Error, Result, Setting};
use crate::memory::{gib, memory_bytes, memory_text};
use crate::sonata::EdgePopulation;

/// Bytes of per-target tables per target: synapse count, connection count and offset (u64
/// each), and room for `target_nsyns_total` or an engine's per-target scratch.
pub const TABLE_BYTES_PER_TARGET: u64 = 32;

/// Used when the memory size is unknown: 2^36 targets (2 TiB of tables), far above any
/// circuit, low enough that no length computation overflows.
const FALLBACK_MAX_TARGETS: u64 = 1 << 36;

/// The most targets whose tables fit in RAM + swap (at least 2^20).
pub fn max_targets() -> u64 {
    memory_bytes()
        .map_or(FALLBACK_MAX_TARGETS, |m| m / TABLE_BYTES_PER_TARGET)
        .clamp(1 << 20, FALLBACK_MAX_TARGETS)
}

/// Errors when `n_targets` (from `origin`: the caller's node count or the target index) needs
/// more table memory than the machine has.
///
/// # Errors
/// [`Error::InvalidArgument`] for the caller's node count, [`Error::InvalidData`] naming the
/// population otherwise.
pub fn check_target_count(
    pop: &EdgePopulation,
    n_targets: u64,
    origin: TargetOrigin,
) -> Result<()> {
    let max = max_targets();
    if n_targets <= max {
        return Ok(());
    }
    let why = format!(
        "{n_targets} target nodes need {} of per-target tables, more than this machine's memory \
         (RAM + swap: {})",
        gib(n_targets.saturating_mul(TABLE_BYTES_PER_TARGET)),
        memory_text()
    );
    if origin == TargetOrigin::NodeCount {
        Err(Error::InvalidArgument(format!("{origin}: {why}")).about(Setting::NodeCount))
    } else {
        Err(Error::invalid(
            pop.location().clone(),
            format!("{origin} gives {why}"),
        ))
    }
}

/// `pop` with its target ids bounded by [`max_targets`], for a census whose table length is the
/// largest target id + 1.
pub fn limit_target_ids(pop: &EdgePopulation) -> EdgePopulation {
    let max = max_targets();
    pop.with_target_id_limit(
        max,
        format!(
            "is too large: without an index or a node count the largest target id sets the \
             length of the per-target tables, and more than {max} targets do not fit in this \
             machine's memory (RAM + swap: {}); the ids are probably corrupt",
            memory_text()
        ),
    )
}
