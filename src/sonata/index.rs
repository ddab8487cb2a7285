//! Edge indices (stub: being written).
