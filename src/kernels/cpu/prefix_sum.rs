//! Twin of `shaders/prefix_sum.wgsl`.

use crate::kernels::params::{PrefixSumParams, SCAN_BLOCK, SCAN_PER_THREAD, WG_SIZE};

/// Entry point `scan_blocks`: exclusive prefix sum within each [`SCAN_BLOCK`] block of
/// `data[..p.n]`, each block's total into `sums[b]` (per-invocation sums, then a workgroup
/// scan over invocations, as the shader does).
pub fn scan_blocks(p: &PrefixSumParams, data: &mut [u32], sums: &mut [u32]) {
    let n_blocks = p.n.div_ceil(SCAN_BLOCK);
    let mut thread_sum = vec![0u32; WG_SIZE as usize];
    let mut local = vec![[0u32; SCAN_PER_THREAD as usize]; WG_SIZE as usize];
    for b in 0..n_blocks {
        for lid in 0..WG_SIZE {
            let first = b * SCAN_BLOCK + lid * SCAN_PER_THREAD;
            let mut sum = 0u32;
            for q in 0..SCAN_PER_THREAD {
                let i = first + q;
                local[lid as usize][q as usize] = sum;
                if i < p.n {
                    sum = sum.wrapping_add(data[i as usize]);
                }
            }
            thread_sum[lid as usize] = sum;
        }
        let mut excl = 0u32;
        for lid in 0..WG_SIZE {
            let first = b * SCAN_BLOCK + lid * SCAN_PER_THREAD;
            for q in 0..SCAN_PER_THREAD {
                let i = first + q;
                if i < p.n {
                    data[i as usize] = local[lid as usize][q as usize].wrapping_add(excl);
                }
            }
            excl = excl.wrapping_add(thread_sum[lid as usize]);
        }
        sums[b as usize] = excl;
    }
}

/// Entry point `add_offsets`: `data[i] += sums[i / SCAN_BLOCK]`.
pub fn add_offsets(p: &PrefixSumParams, data: &mut [u32], sums: &[u32]) {
    for i in 0..p.n {
        let x = &mut data[i as usize];
        *x = x.wrapping_add(sums[(i / SCAN_BLOCK) as usize]);
    }
}

/// The whole exclusive prefix sum of `data`, in place, as the host dispatches it (scan the
/// blocks, scan the block sums recursively, add them back). Returns the total.
pub fn exclusive_scan(data: &mut [u32]) -> u32 {
    let p = PrefixSumParams {
        n: data.len() as u32,
        _pad: [0; 3],
    };
    if data.is_empty() {
        return 0;
    }
    let mut sums = vec![0u32; p.n.div_ceil(SCAN_BLOCK) as usize];
    scan_blocks(&p, data, &mut sums);
    if sums.len() == 1 {
        return sums[0];
    }
    let total = exclusive_scan(&mut sums);
    add_offsets(&p, data, &sums);
    total
}
