//! The unsorted strategy of the CPU engine: pass 1 counts in-degrees, targets are cut into
//! partitions of at most `memory_budget` bytes of sources, and pass 2 groups each partition's
//! sources by target (a counting sort, in memory for one partition; through spill files, see
//! [`super::spill`], for several) before each target's sources are sorted and run-length encoded.

use super::*;

/// Pass 1 of the unsorted strategy: in-degrees, largest source, nsyns totals.
pub(super) struct Degrees {
    pub(super) synapses: Vec<u64>,
    pub(super) max_source: u64,
}

pub(super) fn unsorted_census(
    pass: &Pass<'_>,
    nsyns: Option<NsynsSource>,
    nsyns_total: &mut Option<Vec<u64>>,
) -> Result<(Tables, CpuStrategy)> {
    let Pass {
        pop,
        options,
        space,
        progress,
        at,
        ..
    } = *pass;
    progress.phase(
        &format!("{}: unsorted, counting in-degrees", pop.name()),
        pop.size(),
    );
    let mut degrees = Degrees {
        synapses: vec![0; space.n_targets.unwrap_or(0) as usize],
        max_source: 0,
    };
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    for_each_chunk_filtered::<()>(
        pop,
        options.chunk_len,
        nsyns,
        options.edge_filter.as_deref(),
        |chunk| {
            for (i, &t) in chunk.targets.iter().enumerate() {
                let ti = t as usize;
                if ti >= degrees.synapses.len() {
                    if space.n_targets.is_some() {
                        return Err(target_beyond(at, t, chunk.edge_id(i), space));
                    }
                    degrees.synapses.resize(ti + 1, 0);
                }
                degrees.synapses[ti] += 1;
            }
            degrees.max_source = degrees
                .max_source
                .max(chunk.sources.iter().copied().max().unwrap_or(0));
            add_nsyns(&mut nsyns_acc, &chunk.targets, chunk.nsyns.as_deref());
            progress.inc(chunk.rows);
            Ok(ControlFlow::Continue(()))
        },
    )?;
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    if u32::try_from(degrees.max_source).is_ok() {
        gather_census::<u32>(pass, &degrees)
    } else {
        gather_census::<u64>(pass, &degrees)
    }
}

/// Cuts targets into contiguous ranges of at most `budget_edges` edges (a heavier single target
/// gets a range of its own).
pub(super) fn partitions(synapses: &[u64], budget_edges: u64) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut sum = 0u64;
    for (t, &d) in synapses.iter().enumerate() {
        if sum > 0 && sum + d > budget_edges {
            parts.push((start, t));
            start = t;
            sum = 0;
        }
        sum += d;
    }
    parts.push((start, synapses.len()));
    parts
}

fn gather_census<S: SourceId>(pass: &Pass<'_>, degrees: &Degrees) -> Result<(Tables, CpuStrategy)> {
    let Pass {
        pop,
        options,
        progress,
        at,
        ..
    } = *pass;
    let width = std::mem::size_of::<S>() as u64;
    let budget_edges = (options.memory_budget / width).max(1);
    let parts = partitions(&degrees.synapses, budget_edges);
    let strategy = if parts.len() == 1 {
        CpuStrategy::Grouped {
            source_bytes: pop.size() * width,
            source_bits: width * 8,
            memory_budget: options.memory_budget,
        }
    } else {
        CpuStrategy::Partitioned {
            partitions: parts.len(),
            memory_budget: options.memory_budget,
            source_bits: width * 8,
            spill_dir: spill_dir(options),
        }
    };
    let mut builder = TableBuilder::with_targets(degrees.synapses.len() as u64, pop.size());
    if parts.len() == 1 {
        progress.phase(
            &format!("{}: unsorted, grouping by target", pop.name()),
            pop.size(),
        );
        let (t0, t1) = parts[0];
        let mut group = TargetGroup::<S>::new(&degrees.synapses, t0, t1);
        for_each_chunk_filtered::<()>(
            pop,
            options.chunk_len,
            None,
            options.edge_filter.as_deref(),
            |chunk| {
                group.scatter(&chunk.targets, &chunk.sources);
                progress.inc(chunk.rows);
                Ok(ControlFlow::Continue(()))
            },
        )?;
        builder.push(&group.count(at)?)?;
    } else {
        spill_census::<S>(pass, degrees, &parts, &mut builder)?;
    }
    Ok((builder.finish(degrees.synapses.len() as u64)?.0, strategy))
}

/// Sources of the targets `t0..t1`, grouped by target (counting sort).
pub(super) struct TargetGroup<S> {
    pub(super) t0: usize,
    pub(super) offsets: Vec<u64>,
    pub(super) cursor: Vec<u64>,
    pub(super) sources: Vec<S>,
    /// Per target, sources waiting to be written to `sources` a whole line at a time (empty when
    /// the group has too many targets to stage).
    pub(super) stage: Vec<[S; STAGE]>,
    /// Per target, how many sources wait in `stage`.
    pub(super) staged: Vec<u8>,
}

/// Sources staged per target before they go to the gather buffer: one 64-byte cache line of u32
/// ids. One random write per edge into a buffer of hundreds of MB misses the cache and the TLB
/// every time (41 % of a shuffled 1e8-edge census); staging turns that into one line write per
/// `STAGE` edges, while the staging lines themselves stay cache-resident.
const STAGE: usize = 16;

/// Largest group that is staged (its lines take `STAGE` ids per target: 32 MiB of u32 here).
const MAX_STAGED_TARGETS: usize = 1 << 19;

/// Smallest gather buffer (bytes) that is staged. Measured on the 2-core VM: shuffled 1e8 edges
/// (400 MB buffer) 4.6 → 3.1–3.5 s with staging; shuffled 1e7 (40 MB) took 10–20 % more CPU time
/// with it (the buffer mostly fits the caches there), so smaller buffers are written directly.
const MIN_STAGED_BYTES: u64 = 1 << 27;

impl<S: SourceId> TargetGroup<S> {
    pub(super) fn new(synapses: &[u64], t0: usize, t1: usize) -> Self {
        let edges: u64 = synapses[t0..t1].iter().sum();
        let bytes = edges.saturating_mul(std::mem::size_of::<S>() as u64);
        let stage = bytes >= MIN_STAGED_BYTES && t1 - t0 <= MAX_STAGED_TARGETS;
        Self::with_staging(synapses, t0, t1, stage)
    }

    pub(super) fn with_staging(synapses: &[u64], t0: usize, t1: usize, stage: bool) -> Self {
        let mut offsets = Vec::with_capacity(t1 - t0 + 1);
        let mut acc = 0u64;
        offsets.push(0);
        for &d in &synapses[t0..t1] {
            acc += d;
            offsets.push(acc);
        }
        let cursor = offsets[..t1 - t0].to_vec();
        let staged_targets = if stage { t1 - t0 } else { 0 };
        TargetGroup {
            t0,
            offsets,
            cursor,
            sources: vec![S::default(); acc as usize],
            stage: vec![[S::default(); STAGE]; staged_targets],
            staged: vec![0; staged_targets],
        }
    }

    pub(super) fn t1(&self) -> usize {
        self.t0 + self.offsets.len() - 1
    }

    /// Places every edge whose target is in range; others are ignored. Staged sources reach
    /// `sources` at the latest in [`TargetGroup::flush`].
    pub(super) fn scatter(&mut self, targets: &[u64], sources: &[u64]) {
        let (t0, t1) = (self.t0 as u64, self.t1() as u64);
        if self.stage.is_empty() {
            for (&t, &s) in targets.iter().zip(sources) {
                if t >= t0 && t < t1 {
                    let slot = &mut self.cursor[(t - t0) as usize];
                    self.sources[*slot as usize] = S::from_u64(s);
                    *slot += 1;
                }
            }
            return;
        }
        for (&t, &s) in targets.iter().zip(sources) {
            if t >= t0 && t < t1 {
                let k = (t - t0) as usize;
                let n = self.staged[k] as usize;
                self.stage[k][n] = S::from_u64(s);
                if n + 1 == STAGE {
                    let c = self.cursor[k] as usize;
                    self.sources[c..c + STAGE].copy_from_slice(&self.stage[k]);
                    self.cursor[k] += STAGE as u64;
                    self.staged[k] = 0;
                } else {
                    self.staged[k] = (n + 1) as u8;
                }
            }
        }
    }

    /// Writes the sources still staged to their slots.
    pub(super) fn flush(&mut self) {
        for (k, (line, n)) in self.stage.iter().zip(&mut self.staged).enumerate() {
            let m = *n as usize;
            if m > 0 {
                let c = self.cursor[k] as usize;
                self.sources[c..c + m].copy_from_slice(&line[..m]);
                self.cursor[k] += m as u64;
                *n = 0;
            }
        }
        self.stage = Vec::new();
        self.staged = Vec::new();
    }

    /// Sorts each target's sources and encodes connections, targets in parallel.
    pub(super) fn count(mut self, at: &Location) -> Result<TargetRuns> {
        self.flush();
        let n = self.offsets.len() - 1;
        let threads = rayon::current_num_threads().max(1);
        // Cut targets into pieces of about equal edge counts.
        let total = self.offsets[n];
        let pieces = (threads * 8) as u64;
        let mut cuts = vec![0usize];
        for k in 1..pieces {
            let want = total * k / pieces;
            let c = self.offsets.partition_point(|&o| o < want).min(n);
            if c > *cuts.last().unwrap_or(&0) {
                cuts.push(c);
            }
        }
        if *cuts.last().unwrap_or(&0) != n {
            cuts.push(n);
        }
        let mut slices: Vec<(usize, usize, &mut [S])> = Vec::with_capacity(cuts.len());
        let mut rest: &mut [S] = &mut self.sources;
        for w in cuts.windows(2) {
            let len = (self.offsets[w[1]] - self.offsets[w[0]]) as usize;
            let (head, tail) = rest.split_at_mut(len);
            slices.push((w[0], w[1], head));
            rest = tail;
        }
        let offsets = &self.offsets;
        let t0 = self.t0 as u64;
        let results: Vec<Result<TargetRuns>> = slices
            .into_par_iter()
            .map(|(a, b, buf)| {
                let mut piece = TargetRuns::default();
                let base = offsets[a];
                for t in a..b {
                    let (s, e) = (
                        (offsets[t] - base) as usize,
                        (offsets[t + 1] - base) as usize,
                    );
                    if s == e {
                        continue;
                    }
                    let seg = &mut buf[s..e];
                    seg.sort_unstable();
                    let target = t0 + t as u64;
                    let conns = encode_connections(seg, &mut piece.sources, &mut piece.counts)
                        .map_err(|src| too_many_synapses(at, target, src))?;
                    piece.runs.push((target, (e - s) as u64, conns));
                }
                Ok(piece)
            })
            .collect();
        let mut merged = TargetRuns::default();
        for piece in results {
            let piece = piece?;
            merged.runs.extend(piece.runs);
            merged.sources.extend(piece.sources);
            merged.counts.extend(piece.counts);
        }
        Ok(merged)
    }
}
