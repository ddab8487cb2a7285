//! Twin of `shaders/synapses_per_connection.wgsl`.

use crate::kernels::params::{HIST_LOCAL_BINS, SynapsesPerConnectionParams};

/// `bins[c] += 1` for each count `c < p.n_bins` of `counts[state[0] .. state[0] + total[0]]`.
pub fn synapses_per_connection(
    p: &SynapsesPerConnectionParams,
    state: &[u32],
    total: &[u32],
    counts: &[u32],
    bins: &mut [u32],
) {
    // One "workgroup": its private bins, then the flush into the global ones.
    let mut local = vec![0u32; HIST_LOCAL_BINS as usize];
    let base = state[0] as usize;
    for i in 0..total[0] as usize {
        let c = counts[base + i];
        if c < HIST_LOCAL_BINS {
            local[c as usize] += 1;
        } else if c < p.n_bins {
            bins[c as usize] = bins[c as usize].wrapping_add(1);
        }
    }
    for b in 0..HIST_LOCAL_BINS.min(p.n_bins) {
        let v = local[b as usize];
        if v > 0 {
            bins[b as usize] = bins[b as usize].wrapping_add(v);
        }
    }
}
