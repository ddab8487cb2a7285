//! Describing an edge file (stub: being written).
