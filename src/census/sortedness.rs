//! Detecting, while streaming, how a population's edges are ordered.

/// How the edges of a population are ordered, as found by a streaming scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sortedness {
    /// `target_node_id` never decreases.
    pub by_target: bool,
    /// Sorted by `target_node_id`, then by `source_node_id` within each target.
    pub by_target_source: bool,
}

/// Incremental sortedness tracker fed chunk by chunk.
#[derive(Debug, Clone)]
pub struct SortednessTracker {
    last: Option<(u64, u64)>,
    by_target: bool,
    by_target_source: bool,
}

impl Default for SortednessTracker {
    fn default() -> Self {
        SortednessTracker {
            last: None,
            by_target: true,
            by_target_source: true,
        }
    }
}

impl SortednessTracker {
    /// Feeds the next rows (in edge order). Returns whether the input is still sorted by target.
    pub fn feed(&mut self, sources: &[u64], targets: &[u64]) -> bool {
        debug_assert_eq!(sources.len(), targets.len());
        if !self.by_target || targets.is_empty() {
            return self.by_target;
        }
        let mut prev = self.last;
        for (&s, &t) in sources.iter().zip(targets) {
            if let Some((pt, ps)) = prev {
                if t < pt {
                    self.by_target = false;
                    self.by_target_source = false;
                    break;
                }
                if t == pt && s < ps {
                    self.by_target_source = false;
                }
            }
            prev = Some((t, s));
        }
        self.last = prev;
        self.by_target
    }

    /// The result so far.
    pub fn result(&self) -> Sortedness {
        Sortedness {
            by_target: self.by_target,
            by_target_source: self.by_target_source,
        }
    }
}

/// Scans a whole population and reports its order (stops early once unsorted by target).
///
/// # Errors
/// Read errors of the id columns.
pub fn scan(pop: &crate::sonata::EdgePopulation, chunk_len: usize) -> crate::Result<Sortedness> {
    let mut tracker = SortednessTracker::default();
    let mut chunks = pop.id_chunks(chunk_len);
    while let Some(chunk) = chunks.next_chunk()? {
        if !tracker.feed(chunk.sources, chunk.targets) {
            break;
        }
    }
    Ok(tracker.result())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_across_chunks() {
        let mut t = SortednessTracker::default();
        assert!(t.feed(&[1, 2], &[0, 0]));
        assert!(t.feed(&[1], &[0]));
        assert_eq!(
            t.result(),
            Sortedness {
                by_target: true,
                by_target_source: false
            }
        );
        let mut t = SortednessTracker::default();
        assert!(t.feed(&[3, 4, 0], &[0, 0, 1]));
        assert_eq!(
            t.result(),
            Sortedness {
                by_target: true,
                by_target_source: true
            }
        );
        assert!(!t.feed(&[0], &[0]));
        assert_eq!(
            t.result(),
            Sortedness {
                by_target: false,
                by_target_source: false
            }
        );
    }
}
