//! Criterion benches of the GPU kernels on resident data (no upload or readback in the timed
//! part): `cargo bench --bench gpu_kernels`. Skips, saying so, when no GPU adapter exists; on a
//! software adapter (lavapipe) the numbers only show that the kernels run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is the failure report, helpers outside #[test] included"
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sonata_census::gpu::{
    self, AdapterChoice, GpuContext, Opened, Prepared, prefix_sum, segment_sort, sources_by_target,
    synapses_per_connection, target_counts,
};
use sonata_census::kernels::params::{MODE_EDGES, SourcesByTargetParams, TargetCountsParams};

/// SplitMix64, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u32 {
        (self.next() % n) as u32
    }
}

fn context() -> Option<GpuContext> {
    match GpuContext::open(AdapterChoice::Any) {
        Ok(Opened::Ready(ctx)) => Some(*ctx),
        Ok(Opened::Unavailable(why)) => {
            eprintln!("no GPU adapter - skipped ({why})");
            None
        }
        Err(e) => {
            eprintln!("GPU unusable - skipped ({e})");
            None
        }
    }
}

fn bench(c: &mut Criterion, group: &str, name: &str, prepared: &Prepared<'_>) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(prepared.elements()));
    g.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| prepared.run().expect("GPU run"));
    });
    g.finish();
}

/// Segment boundaries of `n` elements, `len` each.
fn segments(n: usize, len: usize) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n).step_by(len.max(1)).map(|x| x as u32).collect();
    v.push(n as u32);
    v
}

fn kernels(c: &mut Criterion) {
    let Some(ctx) = context() else { return };
    let n: usize = if ctx.is_software() { 1 << 20 } else { 1 << 26 };
    eprintln!("adapter: {}, {n} elements", ctx.describe());
    let mut rng = Rng(1);
    let shuffled: Vec<u32> = (0..n).map(|_| rng.below(1 << 22)).collect();
    let mut sorted = shuffled.clone();
    sorted.sort_unstable();

    let p = TargetCountsParams {
        n: n as u32,
        mode: MODE_EDGES,
        n_counts: 1 << 22,
        _pad: 0,
    };
    for (name, t) in [("sorted", &sorted), ("shuffled", &shuffled)] {
        let prepared = target_counts::prepare(&ctx, &p, t, t, 1 << 22);
        bench(c, "target_counts", name, &prepared);
    }

    let sources: Vec<u32> = (0..n).map(|_| rng.below(1 << 24)).collect();
    let part = SourcesByTargetParams {
        n: n as u32,
        t0: 0,
        t1: 1 << 22,
        _pad: 0,
    };
    let mut degrees = vec![0u32; 1 << 22];
    for &t in &shuffled {
        degrees[t as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(degrees.len());
    let mut acc = 0u32;
    for &d in &degrees {
        offsets.push(acc);
        acc += d;
    }
    let prepared = sources_by_target::prepare(&ctx, &part, &shuffled, &sources, &offsets, n);
    bench(c, "sources_by_target", "shuffled", &prepared);

    for seg_len in [16usize, 1000, 100_000] {
        let keys: Vec<u32> = (0..n).map(|_| rng.below(seg_len as u64 / 4 + 1)).collect();
        let offsets = segments(n, seg_len);
        let name = format!("segments of {seg_len}");
        bench(
            c,
            "segment_sort",
            &name,
            &segment_sort::prepare(&ctx, &keys, &offsets),
        );
        match gpu::connections::prepare(&ctx, &keys, &offsets) {
            Ok(p) => bench(c, "connections (sort + encode + histogram)", &name, &p),
            Err(e) => eprintln!("connections {name}: {e}"),
        }
    }

    let small: Vec<u32> = (0..n).map(|_| rng.below(3)).collect();
    match prefix_sum::prepare(&ctx, &small) {
        Ok(p) => bench(c, "prefix_sum", "exclusive", &p),
        Err(e) => eprintln!("prefix_sum: {e}"),
    }
    let counts: Vec<u32> = (0..n).map(|_| 1 + rng.below(10)).collect();
    bench(
        c,
        "synapses_per_connection",
        "1..10",
        &synapses_per_connection::prepare(&ctx, &counts),
    );
}

criterion_group!(benches, kernels);
criterion_main!(benches);
