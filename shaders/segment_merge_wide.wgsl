// segment_merge_wide.wgsl: segment_merge.wgsl for sources wider than 32 bits, without
// SHADER_INT64: each source is a pair of u32 words (hi, lo) in two buffers, compared as (hi, lo).
// The network is that of segment_merge.wgsl (see there).
//
// Bindings (group 0, in order):
//   0 p:         SegmentMergeParams (uniform, dynamic offset)
//   1 long_segs: array<vec4<u32>> (read)  as in segment_merge.wgsl
//   2 keys:      array<u32>       (read_write) low words of the sources, grouped by segment
//   3 keys_hi:   array<u32>       (read_write) high words of the sources
// CPU twin: src/kernels/cpu/segment_merge_wide.rs. Params: kernels::params::SegmentMergeParams.

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
@group(0) @binding(3) var<storage, read_write> keys_hi: array<u32>;

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
            let ha = keys_hi[seg.x + lo];
            let hb = keys_hi[seg.x + hi];
            if (hb < ha || (hb == ha && b < a)) {
                keys[seg.x + lo] = b;
                keys[seg.x + hi] = a;
                keys_hi[seg.x + lo] = hb;
                keys_hi[seg.x + hi] = ha;
            }
        }
    }
}
