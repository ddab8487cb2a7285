// sources_by_target.wgsl: groups the sources of unsorted edges by target (a counting-sort scatter).
// Every edge whose target t is in [t0, t1) puts its source into slot
// offsets[t - t0] + (arrival rank of the edge among those of t) of `grouped`.
//
// Bindings (group 0, in order):
//   0 p:       SourcesByTargetParams (uniform, dynamic offset)
//   1 targets: array<u32>          (read)  target of each edge of the chunk
//   2 sources: array<u32>          (read)  source of each edge of the chunk
//   3 offsets: array<u32>          (read)  first slot of each target of the partition
//   4 cursor:  array<atomic<u32>>  (read_write) slots already filled per target
//   5 grouped: array<u32>          (read_write) sources grouped by target
// CPU twin: src/kernels/cpu/sources_by_target.rs. Params: kernels::params::SourcesByTargetParams.
//
// The order of the sources within a target depends on scheduling; segment_sort sorts them
// afterwards, so the census does not depend on it. No inter-workgroup waiting.

const WG_SIZE: u32 = 256u;

struct SourcesByTargetParams {
    n: u32,
    t0: u32,
    t1: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: SourcesByTargetParams;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> sources: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> cursor: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> grouped: array<u32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG_SIZE;
    for (var i = gid.x; i < p.n; i += stride) {
        let t = targets[i];
        if (t >= p.t0 && t < p.t1) {
            let k = t - p.t0;
            let slot = offsets[k] + atomicAdd(&cursor[k], 1u);
            grouped[slot] = sources[i];
        }
    }
}
