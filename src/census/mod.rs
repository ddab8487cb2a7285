//! The census: per-target synapse and connection counts of an edge population.
//!
//! (being written)

pub mod sortedness;
