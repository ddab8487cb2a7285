// synapses_per_connection.wgsl: histogram of synapses per connection. bins[c] += the number of
// the batch's connections with exactly c synapses, for c < n_bins (larger counts are left to the
// host). The batch's counts are counts[state[0] .. state[0] + total[0]].
//
// Bindings (group 0, in order):
//   0 p:      SynapsesPerConnectionParams (uniform, dynamic offset)
//   1 state:  array<u32>         (read)  [first connection of the batch]
//   2 total:  array<u32>         (read)  [connections of the batch]
//   3 counts: array<u32>         (read)  synapses of each connection
//   4 bins:   array<atomic<u32>> (read_write) resident histogram
// CPU twin: src/kernels/cpu/synapses_per_connection.rs.
// Params: kernels::params::SynapsesPerConnectionParams.
//
// Small counts (the common ones) go to a histogram in workgroup memory first, so that the many
// connections with 1-10 synapses do not all hit the same few global counters.

const WG_SIZE: u32 = 256u;
const HIST_LOCAL_BINS: u32 = 256u;

struct SynapsesPerConnectionParams {
    n_bins: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: SynapsesPerConnectionParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> total: array<u32>;
@group(0) @binding(3) var<storage, read> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> bins: array<atomic<u32>>;

var<workgroup> wk_bins: array<atomic<u32>, HIST_LOCAL_BINS>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(local_invocation_index) lid: u32,
        @builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var b = lid; b < HIST_LOCAL_BINS; b += WG_SIZE) {
        atomicStore(&wk_bins[b], 0u);
    }
    workgroupBarrier();
    let base = state[0];
    let n = total[0];
    let stride = nwg.x * WG_SIZE;
    for (var i = gid.x; i < n; i += stride) {
        let c = counts[base + i];
        if (c < HIST_LOCAL_BINS) {
            atomicAdd(&wk_bins[c], 1u);
        } else if (c < p.n_bins) {
            atomicAdd(&bins[c], 1u);
        }
    }
    workgroupBarrier();
    for (var b = lid; b < min(HIST_LOCAL_BINS, p.n_bins); b += WG_SIZE) {
        let v = atomicLoad(&wk_bins[b]);
        if (v > 0u) {
            atomicAdd(&bins[b], v);
        }
    }
}
