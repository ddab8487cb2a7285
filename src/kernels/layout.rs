//! The host-side plan of the segmented sort of one batch: which workgroup sorts which elements
//! ([`SegmentLayout::blocks`]), which segments are long, and the sequence of `segment_sort` /
//! `segment_merge` dispatches ([`SegmentLayout::sort_steps`]). The GPU engine records these
//! steps; [`crate::kernels::cpu::connections`] runs the same steps with the CPU twins.

use super::params::{MODE_MERGE, MODE_SORT, SORT_TILE, SegmentMergeParams, SegmentSortParams};

/// How the segments of a batch are cut into workgroup blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentLayout {
    /// Number of segments.
    pub m: u32,
    /// `[begin, end)` element ranges, one workgroup each: first runs of whole short segments
    /// (at most [`SORT_TILE`] elements each), then the [`SORT_TILE`]-aligned pieces of the long
    /// segments, in the order of [`Self::long_segs`].
    pub blocks: Vec<[u32; 2]>,
    /// Index in [`Self::blocks`] of the first piece of a long segment.
    pub long_first_block: u32,
    /// Long segments (more than [`SORT_TILE`] elements) as `[begin, len, width, comp_offset]`:
    /// width is the power of two at least len, comp_offset the comparators (width / 2 each) of
    /// the entries before. Sorted by width, largest first (then by begin).
    pub long_segs: Vec<[u32; 4]>,
    /// Entry `r`: pieces (blocks) of the first `r` long segments; `long_segs.len() + 1` entries.
    pub long_block_prefix: Vec<u32>,
    /// Comparators of all long segments.
    pub comparators: u32,
    /// Length of the longest segment.
    pub max_segment_len: u32,
}

/// One dispatch of the segmented sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortStep {
    /// A `segment_sort` dispatch.
    Sort(SegmentSortParams),
    /// A `segment_merge` dispatch.
    Merge(SegmentMergeParams),
}

impl SegmentLayout {
    /// Plans the sort of the segments bounded by `seg_offsets` (`m + 1` strictly increasing
    /// entries starting at 0; empty or `[0]` for no segment).
    pub fn build(seg_offsets: &[u32]) -> Self {
        let m = seg_offsets.len().saturating_sub(1);
        let mut layout = SegmentLayout {
            m: m as u32,
            ..Default::default()
        };
        let mut long: Vec<(u32, u32)> = Vec::new();
        let mut tile: Option<[u32; 2]> = None;
        for s in 0..m {
            let (a, b) = (seg_offsets[s], seg_offsets[s + 1]);
            let len = b - a;
            layout.max_segment_len = layout.max_segment_len.max(len);
            if len > SORT_TILE {
                if let Some(t) = tile.take() {
                    layout.blocks.push(t);
                }
                long.push((a, len));
                continue;
            }
            tile = match tile {
                Some([tb, _]) if b - tb <= SORT_TILE => Some([tb, b]),
                Some(t) => {
                    layout.blocks.push(t);
                    Some([a, b])
                }
                None => Some([a, b]),
            };
        }
        if let Some(t) = tile {
            layout.blocks.push(t);
        }
        layout.long_first_block = layout.blocks.len() as u32;
        long.sort_by_key(|&(a, len)| (std::cmp::Reverse(len.next_power_of_two()), a));
        let mut comp = 0u32;
        layout.long_block_prefix.push(0);
        for (a, len) in long {
            let width = len.next_power_of_two();
            layout.long_segs.push([a, len, width, comp]);
            comp += width / 2;
            let mut q = 0;
            while q < len {
                layout.blocks.push([a + q, a + (q + SORT_TILE).min(len)]);
                q += SORT_TILE;
            }
            let before = layout.blocks.len() as u32 - layout.long_first_block;
            layout.long_block_prefix.push(before);
        }
        layout.comparators = comp;
        layout
    }

    /// The dispatches that sort every segment: one `segment_sort` over every block, then for each
    /// bitonic stage `k` above [`SORT_TILE`] the global steps of the long segments that are at
    /// least `k` wide and one `segment_sort` in merge mode over their blocks.
    pub fn sort_steps(&self) -> Vec<SortStep> {
        let mut steps = Vec::new();
        if !self.blocks.is_empty() {
            steps.push(SortStep::Sort(SegmentSortParams {
                first_block: 0,
                n_blocks: self.blocks.len() as u32,
                mode: MODE_SORT,
                m: self.m,
            }));
        }
        let Some(widest) = self.long_segs.first().map(|l| l[2]) else {
            return steps;
        };
        let mut k = 2 * SORT_TILE;
        while k <= widest {
            let r = self.long_segs.iter().take_while(|l| l[2] >= k).count();
            let n_comparators = self.long_segs.get(r).map_or(self.comparators, |l| l[3]);
            let mut j = k / 2;
            while j >= SORT_TILE {
                steps.push(SortStep::Merge(SegmentMergeParams {
                    k,
                    j,
                    n_segs: r as u32,
                    n_comparators,
                }));
                j /= 2;
            }
            steps.push(SortStep::Sort(SegmentSortParams {
                first_block: self.long_first_block,
                n_blocks: self.long_block_prefix[r],
                mode: MODE_MERGE,
                m: self.m,
            }));
            k *= 2;
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_segments_are_packed_and_long_ones_split() {
        let t = SORT_TILE;
        // Segments: 3, 5, t - 8 (fits with the two before), 2, t + 1 (long), 4, 3t (long).
        let lens = [3, 5, t - 8, 2, t + 1, 4, 3 * t];
        let mut offsets = vec![0u32];
        for l in lens {
            offsets.push(offsets.last().unwrap() + l);
        }
        let layout = SegmentLayout::build(&offsets);
        assert_eq!(layout.m, 7);
        let o = &offsets;
        assert_eq!(
            &layout.blocks[..3],
            &[[0, o[3]], [o[3], o[4]], [o[5], o[6]]],
            "short tiles"
        );
        assert_eq!(layout.long_first_block, 3);
        // The 3t segment (width 4t) comes first, then the t + 1 one (width 2t).
        assert_eq!(layout.long_segs[0], [o[6], 3 * t, 4 * t, 0]);
        assert_eq!(layout.long_segs[1], [o[4], t + 1, 2 * t, 2 * t]);
        assert_eq!(layout.long_block_prefix, vec![0, 3, 5]);
        assert_eq!(layout.comparators, 3 * t);
        assert_eq!(layout.max_segment_len, 3 * t);
        let steps = layout.sort_steps();
        // Full sort, stage 2t (flip j = t, then merge), stage 4t (j = 2t, j = t, then merge).
        assert_eq!(steps.len(), 1 + 2 + 3);
        assert!(
            matches!(steps[1], SortStep::Merge(p) if p.k == 2 * t && p.j == t && p.n_segs == 2)
        );
        assert!(
            matches!(steps[3], SortStep::Merge(p) if p.k == 4 * t && p.j == 2 * t && p.n_segs == 1 && p.n_comparators == 2 * t)
        );
        assert!(matches!(steps[5], SortStep::Sort(p) if p.mode == MODE_MERGE && p.n_blocks == 3));
    }

    #[test]
    fn no_segments_no_steps() {
        assert!(SegmentLayout::build(&[]).sort_steps().is_empty());
        assert!(SegmentLayout::build(&[0]).sort_steps().is_empty());
    }
}
