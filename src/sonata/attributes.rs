//! Attribute columns of edge populations (stub: being written).
