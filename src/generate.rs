//! Synthetic circuits (stub: being written).
