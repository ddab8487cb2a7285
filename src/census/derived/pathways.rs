//! Pathway matrices: connections grouped by a node attribute of their source and target.
