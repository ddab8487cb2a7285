// connection_counts_wide.wgsl: the entry points of connection_counts.wgsl that look at the
// sources (count_heads, scatter_heads), for sources wider than 32 bits without SHADER_INT64: each
// source is a pair of u32 words (hi, lo) in two buffers; a head differs from the element before
// it in either word, and scatter_heads writes both words of each connection's source.
// connection_counts.wgsl's finish and advance do not read sources and serve both widths.
//
// Bindings (group 0; each entry point's layout holds the ones it uses):
//   0..9 as in connection_counts.wgsl (keys holds the low words, conn_src receives them)
//  11 keys_hi:     array<u32> (read)        high words of the sorted sources
//  12 conn_src_hi: array<u32> (read_write)  arena: high word of the source of each connection
// CPU twin: src/kernels/cpu/connection_counts_wide.rs. Params: kernels::params::ConnectionCountsParams.

const WG_SIZE: u32 = 256u;
const SCAN_PER_THREAD: u32 = 8u;
const SCAN_BLOCK: u32 = 2048u;

struct ConnectionCountsParams {
    n: u32,
    m: u32,
    seg_base: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ConnectionCountsParams;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read> seg_offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> block_heads: array<u32>;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
@group(0) @binding(6) var<storage, read_write> conn_src: array<u32>;
@group(0) @binding(8) var<storage, read_write> head_idx: array<u32>;
@group(0) @binding(9) var<storage, read_write> seg_first: array<u32>;
@group(0) @binding(11) var<storage, read> keys_hi: array<u32>;
@group(0) @binding(12) var<storage, read_write> conn_src_hi: array<u32>;

// wk_start[i - begin] = s + 1 when element i starts segment s, else 0.
var<workgroup> wk_start: array<u32, SCAN_BLOCK>;
var<workgroup> wk_sum: array<u32, WG_SIZE>;
var<workgroup> wk_s0: u32;

// The first segment starting at or after element g (m when none).
fn first_segment_from(g: u32) -> u32 {
    var lo = 0u;
    var hi = p.m;
    while (lo < hi) {
        let mid = lo + (hi - lo) / 2u;
        if (seg_offsets[mid] < g) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

fn mark_starts(lid: u32, begin: u32, end: u32) {
    for (var i = lid; i < SCAN_BLOCK; i += WG_SIZE) {
        wk_start[i] = 0u;
    }
    if (lid == 0u) {
        wk_s0 = first_segment_from(begin);
    }
    workgroupBarrier();
    for (var s = wk_s0 + lid; s < p.m; s += WG_SIZE) {
        let o = seg_offsets[s];
        if (o >= end) {
            break;
        }
        wk_start[o - begin] = s + 1u;
    }
    workgroupBarrier();
}

fn is_head(i: u32, begin: u32) -> bool {
    return wk_start[i - begin] != 0u || keys[i] != keys[i - 1u] || keys_hi[i] != keys_hi[i - 1u];
}

// workgroup_exclusive_scan(lid, v): shaders/common/workgroup_scan.wgsl, appended to this
// source by `kernels` (it uses this shader's WG_SIZE and wk_sum).

fn heads_of_thread(lid: u32, begin: u32, end: u32) -> u32 {
    var c = 0u;
    let first = begin + lid * SCAN_PER_THREAD;
    for (var q = 0u; q < SCAN_PER_THREAD; q++) {
        let i = first + q;
        if (i < end && is_head(i, begin)) {
            c += 1u;
        }
    }
    return c;
}

@compute @workgroup_size(WG_SIZE)
fn count_heads(@builtin(local_invocation_index) lid: u32,
               @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
    let n_blocks = (p.n + SCAN_BLOCK - 1u) / SCAN_BLOCK;
    for (var b = wid.x; b < n_blocks; b += nwg.x) {
        let begin = b * SCAN_BLOCK;
        let end = min(begin + SCAN_BLOCK, p.n);
        mark_starts(lid, begin, end);
        let scan = workgroup_exclusive_scan(lid, heads_of_thread(lid, begin, end));
        if (lid == 0u) {
            block_heads[b] = scan.y;
        }
    }
}

@compute @workgroup_size(WG_SIZE)
fn scatter_heads(@builtin(local_invocation_index) lid: u32,
                 @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
    let n_blocks = (p.n + SCAN_BLOCK - 1u) / SCAN_BLOCK;
    let base = state[0];
    for (var b = wid.x; b < n_blocks; b += nwg.x) {
        let begin = b * SCAN_BLOCK;
        let end = min(begin + SCAN_BLOCK, p.n);
        mark_starts(lid, begin, end);
        let scan = workgroup_exclusive_scan(lid, heads_of_thread(lid, begin, end));
        var rank = block_heads[b] + scan.x;
        let first = begin + lid * SCAN_PER_THREAD;
        for (var q = 0u; q < SCAN_PER_THREAD; q++) {
            let i = first + q;
            if (i < end && is_head(i, begin)) {
                conn_src[base + rank] = keys[i];
                conn_src_hi[base + rank] = keys_hi[i];
                head_idx[rank] = i;
                let s = wk_start[i - begin];
                if (s != 0u) {
                    seg_first[s - 1u] = rank;
                }
                rank += 1u;
            }
        }
        workgroupBarrier();
    }
}
