//! progress (stub)
