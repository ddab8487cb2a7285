// segment_merge.wgsl: one global step of the bitonic sort of long segments (longer than
// SORT_TILE), for the steps whose comparator distance j is SORT_TILE or more.
//
// Bindings (group 0, in order):
//   0 p:         SegmentMergeParams (uniform, dynamic offset)
//   1 long_segs: array<vec4<u32>> (read)  per long segment: begin, len, width (power of two
//                >= len), comp_offset (comparators of the segments before it); sorted by width,
//                largest first, so the segments taking part in stage k are a prefix
//   2 keys:      array<u32>       (read_write) sources, grouped by segment
// CPU twin: src/kernels/cpu/segment_merge.rs. Params: kernels::params::SegmentMergeParams.
//
// Comparators keep the smaller source at the lower index; a partner past the end of its segment
// is padding (+infinity) and is skipped, which is exact for this (flip) form of the network.

const WG_SIZE: u32 = 256u;

struct SegmentMergeParams {
    k: u32,
    j: u32,
    n_segs: u32,
    n_comparators: u32,
}

@group(0) @binding(0) var<uniform> p: SegmentMergeParams;
@group(0) @binding(1) var<storage, read> long_segs: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;

// The long segment of comparator c: the largest s < n_segs with comp_offset <= c.
fn segment_of_comparator(c: u32) -> u32 {
    var lo = 0u;
    var hi = p.n_segs;
    while (hi - lo > 1u) {
        let mid = lo + (hi - lo) / 2u;
        if (long_segs[mid].w <= c) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG_SIZE;
    for (var c = gid.x; c < p.n_comparators; c += stride) {
        let seg = long_segs[segment_of_comparator(c)];
        let r = c - seg.w;
        var lo: u32;
        var hi: u32;
        if (p.j == (p.k >> 1u)) {
            let base = (r / p.j) * p.k;
            let q = r % p.j;
            lo = base + q;
            hi = base + p.k - 1u - q;
        } else {
            lo = (r / p.j) * 2u * p.j + r % p.j;
            hi = lo + p.j;
        }
        if (hi < seg.y) {
            let a = keys[seg.x + lo];
            let b = keys[seg.x + hi];
            if (b < a) {
                keys[seg.x + lo] = b;
                keys[seg.x + hi] = a;
            }
        }
    }
}
