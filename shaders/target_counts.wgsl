// target_counts.wgsl: synapses per target. counts[t] += the weight of every entry whose target is t.
//
// Bindings (group 0, in order):
//   0 p:       TargetCountsParams (uniform, dynamic offset)
//   1 targets: array<u32>            (read)  target of each entry
//   2 offsets: array<u32>            (read)  MODE_SEGMENTS: entry i weighs offsets[i+1] - offsets[i]
//   3 counts:  array<atomic<u32>>    (read_write) resident per-target counters
// CPU twin: src/kernels/cpu/target_counts.rs. Params: kernels::params::TargetCountsParams.
//
// Each invocation scans TC_PER_THREAD consecutive entries and issues one atomicAdd per run of equal
// targets in them: one atomic per run on sorted input, one per entry on shuffled input. Exact for
// any order. The host keeps every counter below 2^32 (it flushes them into u64 before that).

const WG_SIZE: u32 = 256u;
const TC_PER_THREAD: u32 = 16u;
const MODE_EDGES: u32 = 0u;
const MODE_SEGMENTS: u32 = 1u;

struct TargetCountsParams {
    n: u32,
    mode: u32,
    n_counts: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: TargetCountsParams;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

fn weight(i: u32) -> u32 {
    if (p.mode == MODE_SEGMENTS) {
        return offsets[i + 1u] - offsets[i];
    }
    return 1u;
}

fn add(t: u32, w: u32) {
    if (t < p.n_counts && w > 0u) {
        atomicAdd(&counts[t], w);
    }
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG_SIZE * TC_PER_THREAD;
    for (var start = gid.x * TC_PER_THREAD; start < p.n; start += stride) {
        let end = min(start + TC_PER_THREAD, p.n);
        var t = targets[start];
        var w = weight(start);
        for (var i = start + 1u; i < end; i++) {
            let ti = targets[i];
            if (ti != t) {
                add(t, w);
                t = ti;
                w = 0u;
            }
            w += weight(i);
        }
        add(t, w);
    }
}
