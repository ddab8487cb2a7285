// connection_counts.wgsl: run-length encodes sorted segments into connections.
// After segment_sort/segment_merge, each segment (one target's edges) holds its sources in
// ascending order. A "head" is an element that starts a segment or differs from the element
// before it; each head is one connection (target, source) and its synapse count is the distance to
// the next head. Results are appended to resident arenas at state[0] (connections so far).
//
// Entry points, run in this order by the host (with prefix_sum between the first two):
//   count_heads:   block_heads[b] = heads in SCAN_BLOCK block b
//   (prefix_sum over block_heads: exclusive offsets; its top-level sums[0] is `total`)
//   scatter_heads: conn_src[state[0] + r] = source of head r; head_idx[r] = its element index;
//                  seg_first[s] = rank of the head starting segment s
//   finish:        conn_count[state[0] + r] = head_idx[r + 1] - head_idx[r] (n for the last);
//                  seg_conn[seg_base + s] = connections of segment s
//   advance:       state[0] += total
// Bindings (group 0; each entry point's layout holds the ones it uses):
//   0 p:           ConnectionCountsParams (uniform, dynamic offset)
//   1 keys:        array<u32> (read)        sorted sources, grouped by segment
//   2 seg_offsets: array<u32> (read)        m + 1 segment boundaries
//   3 block_heads: array<u32> (read_write)  heads per block, then their exclusive offsets
//   4 state:       array<u32> (read_write)  [connections already in the arenas]
//   5 total:       array<u32> (read)        [heads in the batch]
//   6 conn_src:    array<u32> (read_write)  arena: source of each connection
//   7 conn_count:  array<u32> (read_write)  arena: synapses of each connection
//   8 head_idx:    array<u32> (read_write)  element index of each head of the batch
//   9 seg_first:   array<u32> (read_write)  rank of the first head of each segment
//  10 seg_conn:    array<u32> (read_write)  arena: connections of each segment
// CPU twin: src/kernels/cpu/connection_counts.rs. Params: kernels::params::ConnectionCountsParams.

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
@group(0) @binding(5) var<storage, read> total: array<u32>;
@group(0) @binding(6) var<storage, read_write> conn_src: array<u32>;
@group(0) @binding(7) var<storage, read_write> conn_count: array<u32>;
@group(0) @binding(8) var<storage, read_write> head_idx: array<u32>;
@group(0) @binding(9) var<storage, read_write> seg_first: array<u32>;
@group(0) @binding(10) var<storage, read_write> seg_conn: array<u32>;

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
    return wk_start[i - begin] != 0u || keys[i] != keys[i - 1u];
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

@compute @workgroup_size(WG_SIZE)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>) {
    let tot = total[0];
    let base = state[0];
    let stride = nwg.x * WG_SIZE;
    for (var i = gid.x; i < max(tot, p.m); i += stride) {
        if (i < tot) {
            var next = p.n;
            if (i + 1u < tot) {
                next = head_idx[i + 1u];
            }
            conn_count[base + i] = next - head_idx[i];
        }
        if (i < p.m) {
            var next_seg = tot;
            if (i + 1u < p.m) {
                next_seg = seg_first[i + 1u];
            }
            seg_conn[p.seg_base + i] = next_seg - seg_first[i];
        }
    }
}

@compute @workgroup_size(1)
fn advance() {
    state[0] = state[0] + total[0];
}
