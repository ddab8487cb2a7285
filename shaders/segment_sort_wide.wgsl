// segment_sort_wide.wgsl: segment_sort.wgsl for sources wider than 32 bits, without SHADER_INT64.
// Each source is a pair of u32 words (hi, lo) in two buffers; pairs compare as (hi, lo), which
// is the order of the u64 source. Blocks, modes and the network are those of segment_sort.wgsl
// (see there); only the key is a pair. The census uses it only for populations with a source
// id >= 2^32, so the narrow kernel keeps its workgroup memory and speed.
//
// Bindings (group 0, in order):
//   0 p:           SegmentSortParams (uniform, dynamic offset)
//   1 blocks:      array<vec2<u32>>  (read)  [begin, end) of each block, in element indices
//   2 seg_offsets: array<u32>        (read)  m + 1 segment boundaries (strictly increasing)
//   3 keys:        array<u32>        (read_write) low words of the sources, grouped by segment
//   4 keys_hi:     array<u32>        (read_write) high words of the sources
// CPU twin: src/kernels/cpu/segment_sort_wide.rs. Params: kernels::params::SegmentSortParams.
// Workgroup memory: 3 * SORT_TILE words (24 KiB); the device layer builds this kernel only when
// the adapter allows that much (kernels::params::WIDE_WORKGROUP_BYTES).

const WG_SIZE: u32 = 256u;
const SORT_TILE: u32 = 2048u;
const MODE_SORT: u32 = 0u;
const MODE_MERGE: u32 = 1u;
const NONE: u32 = 0xffffffffu;

struct SegmentSortParams {
    first_block: u32,
    n_blocks: u32,
    mode: u32,
    m: u32,
}

@group(0) @binding(0) var<uniform> p: SegmentSortParams;
@group(0) @binding(1) var<storage, read> blocks: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> seg_offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> keys: array<u32>;
@group(0) @binding(4) var<storage, read_write> keys_hi: array<u32>;

var<workgroup> wk_seg: array<u32, SORT_TILE>;
var<workgroup> wk_val: array<u32, SORT_TILE>;
var<workgroup> wk_hi: array<u32, SORT_TILE>;
var<workgroup> wk_len: u32;
var<workgroup> wk_s0: u32;

// The segment holding element g: the largest s in [lo, hi) with seg_offsets[s] <= g
// (seg_offsets[lo] <= g must hold).
fn segment_of(g: u32, lo_in: u32, hi_in: u32) -> u32 {
    var lo = lo_in;
    var hi = hi_in;
    while (hi - lo > 1u) {
        let mid = lo + (hi - lo) / 2u;
        if (seg_offsets[mid] <= g) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Keeps the smaller (segment, hi, lo) at a (a < b).
fn compare_exchange(a: u32, b: u32) {
    let sa = wk_seg[a];
    let sb = wk_seg[b];
    let ha = wk_hi[a];
    let hb = wk_hi[b];
    let va = wk_val[a];
    let vb = wk_val[b];
    if (sb < sa || (sb == sa && (hb < ha || (hb == ha && vb < va)))) {
        wk_seg[a] = sb;
        wk_seg[b] = sa;
        wk_hi[a] = hb;
        wk_hi[b] = ha;
        wk_val[a] = vb;
        wk_val[b] = va;
    }
}

fn pow2_at_least(x: u32) -> u32 {
    var w = 1u;
    while (w < x) {
        w = w << 1u;
    }
    return w;
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(local_invocation_index) lid: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var b = wid.x; b < p.n_blocks; b += nwg.x) {
        let blk = blocks[p.first_block + b];
        if (lid == 0u) {
            wk_len = blk.y - blk.x;
            wk_s0 = segment_of(blk.x, 0u, p.m);
        }
        let len = workgroupUniformLoad(&wk_len);
        let s0 = workgroupUniformLoad(&wk_s0);
        let begin = blk.x;
        let width = pow2_at_least(len);
        let s_end = min(p.m, s0 + len);
        for (var i = lid; i < width; i += WG_SIZE) {
            if (i < len) {
                wk_seg[i] = segment_of(begin + i, s0, s_end) - s0;
                wk_val[i] = keys[begin + i];
                wk_hi[i] = keys_hi[begin + i];
            } else {
                wk_seg[i] = NONE;
                wk_val[i] = NONE;
                wk_hi[i] = NONE;
            }
        }
        workgroupBarrier();
        let pairs = width / 2u;
        if (p.mode == MODE_SORT) {
            for (var k = 2u; k <= width; k = k << 1u) {
                let half = k >> 1u;
                for (var c = lid; c < pairs; c += WG_SIZE) {
                    let base = (c / half) * k;
                    let r = c % half;
                    compare_exchange(base + r, base + k - 1u - r);
                }
                workgroupBarrier();
                for (var j = k >> 2u; j > 0u; j = j >> 1u) {
                    for (var c = lid; c < pairs; c += WG_SIZE) {
                        let lo = (c / j) * 2u * j + c % j;
                        compare_exchange(lo, lo + j);
                    }
                    workgroupBarrier();
                }
            }
        } else {
            for (var j = width >> 1u; j > 0u; j = j >> 1u) {
                for (var c = lid; c < pairs; c += WG_SIZE) {
                    let lo = (c / j) * 2u * j + c % j;
                    compare_exchange(lo, lo + j);
                }
                workgroupBarrier();
            }
        }
        for (var i = lid; i < len; i += WG_SIZE) {
            keys[begin + i] = wk_val[i];
            keys_hi[begin + i] = wk_hi[i];
        }
        workgroupBarrier();
    }
}
