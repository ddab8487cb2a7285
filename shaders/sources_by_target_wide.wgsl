// sources_by_target_wide.wgsl: sources_by_target.wgsl for sources wider than 32 bits, without
// SHADER_INT64: each source is a pair of u32 words (hi, lo), and one invocation moves both words
// to the same slot (the slot depends on arrival order, so the two words cannot be scattered by
// separate dispatches).
//
// Bindings (group 0, in order):
//   0 p:          SourcesByTargetParams (uniform, dynamic offset)
//   1 targets:    array<u32>          (read)  target of each edge of the chunk
//   2 sources:    array<u32>          (read)  low word of the source of each edge
//   3 offsets:    array<u32>          (read)  first slot of each target of the partition
//   4 cursor:     array<atomic<u32>>  (read_write) slots already filled per target
//   5 grouped:    array<u32>          (read_write) low words grouped by target
//   6 sources_hi: array<u32>          (read)  high word of the source of each edge
//   7 grouped_hi: array<u32>          (read_write) high words grouped by target
// CPU twin: src/kernels/cpu/sources_by_target_wide.rs. Params: kernels::params::SourcesByTargetParams.
//
// The order of the sources within a target depends on scheduling; segment_sort_wide sorts them
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
@group(0) @binding(6) var<storage, read> sources_hi: array<u32>;
@group(0) @binding(7) var<storage, read_write> grouped_hi: array<u32>;

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
            grouped_hi[slot] = sources_hi[i];
        }
    }
}
