//! The efferent census: the afferent connection table transposed by source.
