//! Restricting a census to node sets (`count --target-node-set/--source-node-set`): which edges
//! are counted. An [`EdgeFilter`] holds one bit per node of the target (and source) node
//! population; the chunk reader of [`super::stream`] drops the other edges before any engine
//! sees them, so every engine and strategy counts the same restricted edges, in the same
//! streamed pass and memory bounds, and the tables keep their layout (targets outside the set
//! have zero rows).
//!
//! A target id beyond the target node population is kept, so that the engine reports it as the
//! invalid id it is (a restricted census fails on the same bad input as a full one); a source id
//! beyond the source node population is in no node set of it, and is dropped.

use super::stream::Chunk;

/// A set of node ids below a population's size: one bit per node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMask {
    bits: Vec<u64>,
    len: u64,
    members: u64,
}

impl NodeMask {
    /// The nodes `ids` of a population of `len` nodes (ids at or beyond `len` are ignored:
    /// node sets give ids of the population they were evaluated on).
    pub fn from_ids(ids: &[u64], len: u64) -> Self {
        let mut bits = vec![0u64; len.div_ceil(64) as usize];
        let mut members = 0;
        for &id in ids {
            if id < len {
                let (word, bit) = ((id / 64) as usize, id % 64);
                if bits[word] & (1 << bit) == 0 {
                    members += 1;
                }
                bits[word] |= 1 << bit;
            }
        }
        NodeMask { bits, len, members }
    }

    /// The population's number of nodes.
    pub fn population_size(&self) -> u64 {
        self.len
    }

    /// Number of nodes in the set.
    pub fn members(&self) -> u64 {
        self.members
    }

    /// The ids in the set, ascending.
    pub fn ids(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(usize::try_from(self.members).unwrap_or(0));
        for (w, &word) in self.bits.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                out.push(w as u64 * 64 + u64::from(bits.trailing_zeros()));
                bits &= bits - 1;
            }
        }
        out
    }

    /// Whether `id` is in the set; `None` when it is beyond the population.
    #[inline]
    fn get(&self, id: u64) -> Option<bool> {
        if id >= self.len {
            return None;
        }
        Some(self.bits[(id / 64) as usize] & (1 << (id % 64)) != 0)
    }
}

/// Which edges a restricted census counts: those whose target is in `targets` and whose source
/// is in `sources` (each when given).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EdgeFilter {
    /// The target node set, over the target node population.
    pub targets: Option<NodeMask>,
    /// The source node set, over the source node population.
    pub sources: Option<NodeMask>,
}

impl EdgeFilter {
    /// Whether the edge `(target, source)` is counted (see the module docs for ids beyond the
    /// populations).
    #[inline]
    pub fn keeps(&self, target: u64, source: u64) -> bool {
        let target_ok = self
            .targets
            .as_ref()
            .is_none_or(|m| m.get(target).unwrap_or(true));
        let source_ok = self
            .sources
            .as_ref()
            .is_none_or(|m| m.get(source).unwrap_or(false));
        target_ok && source_ok
    }

    /// Drops the edges of `chunk` that are not counted, in place, recording the rows kept
    /// (so that messages still name an edge by its row in the file).
    pub(crate) fn apply(&self, chunk: &mut Chunk) {
        let kept = chunk.kept_rows.get_or_insert_with(Vec::new);
        kept.clear();
        let mut n = 0;
        for row in 0..chunk.targets.len() {
            let (t, s) = (chunk.targets[row], chunk.sources[row]);
            if self.keeps(t, s) {
                chunk.targets[n] = t;
                chunk.sources[n] = s;
                if let Some(nsyns) = chunk.nsyns.as_mut() {
                    nsyns[n] = nsyns[row];
                }
                kept.push(row as u32);
                n += 1;
            }
        }
        chunk.targets.truncate(n);
        chunk.sources.truncate(n);
        if let Some(nsyns) = chunk.nsyns.as_mut() {
            nsyns.truncate(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_count_members_once_and_ignore_ids_beyond() {
        let m = NodeMask::from_ids(&[0, 5, 5, 63, 64, 99, 100, 1000], 100);
        assert_eq!(m.members(), 5);
        assert_eq!(m.get(5), Some(true));
        assert_eq!(m.get(6), Some(false));
        assert_eq!(m.get(64), Some(true));
        assert_eq!(m.get(100), None);
        assert_eq!(m.ids(), [0, 5, 63, 64, 99]);
        assert!(NodeMask::from_ids(&[], 0).ids().is_empty());
    }

    #[test]
    fn targets_beyond_are_kept_and_sources_beyond_dropped() {
        let f = EdgeFilter {
            targets: Some(NodeMask::from_ids(&[1], 4)),
            sources: Some(NodeMask::from_ids(&[2], 4)),
        };
        assert!(f.keeps(1, 2));
        assert!(!f.keeps(0, 2));
        assert!(!f.keeps(1, 3));
        assert!(f.keeps(9, 2), "an invalid target reaches the engine");
        assert!(
            !f.keeps(1, 9),
            "a source beyond the population is in no set"
        );
    }

    #[test]
    fn apply_compacts_every_column_and_records_rows() {
        let f = EdgeFilter {
            targets: Some(NodeMask::from_ids(&[0, 2], 3)),
            sources: None,
        };
        let mut c = Chunk {
            first_edge: 10,
            rows: 4,
            targets: vec![0, 1, 2, 1],
            sources: vec![7, 8, 9, 6],
            nsyns: Some(vec![1, 2, 3, 4]),
            ..Chunk::default()
        };
        f.apply(&mut c);
        assert_eq!(c.targets, [0, 2]);
        assert_eq!(c.sources, [7, 9]);
        assert_eq!(c.nsyns.as_deref(), Some(&[1, 3][..]));
        assert_eq!(c.edge_id(1), 12);
    }
}
