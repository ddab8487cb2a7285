// Shared by shaders/prefix_sum.wgsl and shaders/connection_counts.wgsl: `kernels` appends this
// file to both sources (WGSL has no include), so the scan exists once. The including shader
// declares what it uses: `const WG_SIZE: u32` and `var<workgroup> wk_sum: array<u32, WG_SIZE>`.

// Exclusive prefix sum of v over the workgroup (Hillis-Steele); also returns the total in .y.
// Every invocation of the workgroup must call it (it has barriers).
fn workgroup_exclusive_scan(lid: u32, v: u32) -> vec2<u32> {
    wk_sum[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < WG_SIZE; off = off << 1u) {
        var x = 0u;
        if (lid >= off) {
            x = wk_sum[lid - off];
        }
        workgroupBarrier();
        wk_sum[lid] += x;
        workgroupBarrier();
    }
    let inclusive = wk_sum[lid];
    let all = wk_sum[WG_SIZE - 1u];
    workgroupBarrier();
    return vec2<u32>(inclusive - v, all);
}
