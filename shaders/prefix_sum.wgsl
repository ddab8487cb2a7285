// prefix_sum.wgsl: exclusive prefix sum of a u32 array, in place, as scan-then-propagate
// (no inter-workgroup waiting, so no forward-progress guarantee is needed).
//
// Entry points (the host runs them as: scan_blocks(data, sums); if there were several blocks,
// the prefix sum of sums (recursively); add_offsets(data, sums)):
//   scan_blocks: each SCAN_BLOCK block of data gets its own exclusive prefix sum; sums[b] = the
//                block's total. With a single block, sums[0] is the total of the whole array.
//   add_offsets: data[i] += sums[i / SCAN_BLOCK] (sums already scanned).
// Bindings (group 0, in order):
//   0 p:    PrefixSumParams (uniform, dynamic offset)
//   1 data: array<u32> (read_write)
//   2 sums: array<u32> (read_write)
// CPU twin: src/kernels/cpu/prefix_sum.rs. Params: kernels::params::PrefixSumParams.

const WG_SIZE: u32 = 256u;
const SCAN_PER_THREAD: u32 = 8u;
const SCAN_BLOCK: u32 = 2048u;

struct PrefixSumParams {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: PrefixSumParams;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;

var<workgroup> wk_sum: array<u32, WG_SIZE>;

// workgroup_exclusive_scan(lid, v): shaders/common/workgroup_scan.wgsl, appended to this
// source by `kernels` (it uses this shader's WG_SIZE and wk_sum).

@compute @workgroup_size(WG_SIZE)
fn scan_blocks(@builtin(local_invocation_index) lid: u32,
               @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let n_blocks = (p.n + SCAN_BLOCK - 1u) / SCAN_BLOCK;
    for (var b = wid.x; b < n_blocks; b += nwg.x) {
        let first = b * SCAN_BLOCK + lid * SCAN_PER_THREAD;
        var local: array<u32, SCAN_PER_THREAD>;
        var sum = 0u;
        for (var q = 0u; q < SCAN_PER_THREAD; q++) {
            let i = first + q;
            local[q] = sum;
            if (i < p.n) {
                sum += data[i];
            }
        }
        let scan = workgroup_exclusive_scan(lid, sum);
        for (var q = 0u; q < SCAN_PER_THREAD; q++) {
            let i = first + q;
            if (i < p.n) {
                data[i] = local[q] + scan.x;
            }
        }
        if (lid == 0u) {
            sums[b] = scan.y;
        }
    }
}

@compute @workgroup_size(WG_SIZE)
fn add_offsets(@builtin(global_invocation_id) gid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG_SIZE;
    for (var i = gid.x; i < p.n; i += stride) {
        data[i] += sums[i / SCAN_BLOCK];
    }
}
