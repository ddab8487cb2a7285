//! The GPU engine's state and its common steps: opening a run on a context (buffers sized for
//! the device, the staging ring, the resident counters and arenas), submitting a batch, and
//! copying the finished tables back. The passes themselves are in [`super::sorted`] and
//! [`super::unsorted`], as further `impl Engine` blocks.

use super::*;

#[derive(Default)]
pub(super) struct Stats {
    /// The readback buffer, reused by every read.
    pub(super) readback: readback::Readback,
    pub(super) read: ReadStats,
    pub(super) upload_s: f64,
    pub(super) upload_bytes: u64,
    pub(super) readback_s: f64,
    pub(super) readback_bytes: u64,
    pub(super) batches: u64,
    pub(super) passes: u32,
    pub(super) flushes: u32,
    pub(super) strategy: GpuStrategy,
}

/// Unsorted-path buffers for one chunk and one partition.
pub(super) struct ScatterBuffers {
    pub(super) targets: GrowBuffer,
    pub(super) sources: GrowBuffer,
    /// High words of the chunk's sources (a wide population only).
    pub(super) sources_hi: GrowBuffer,
    pub(super) offsets: GrowBuffer,
    pub(super) cursor: GrowBuffer,
}

pub(super) struct Engine<'a> {
    pub(super) ctx: &'a GpuContext,
    pub(super) pop: &'a EdgePopulation,
    pub(super) options: &'a CensusOptions,
    pub(super) space: &'a TargetSpace,
    pub(super) at: Location,
    pub(super) chunk_len: usize,
    pub(super) arena_cap: usize,
    pub(super) flush_limit: u64,
    pub(super) threads: usize,
    pub(super) staging: Staging,
    pub(super) batch: BatchBuffers,
    pub(super) counters: Counters,
    pub(super) arena: Arena,
    pub(super) asm: AsmWorker,
    pub(super) timer: Timer,
    pub(super) stats: Stats,
}

/// Words of staging a sorted chunk of `n` rows can need (sources, segment table, blocks,
/// long segments), in the worst case.
pub(super) fn sorted_staging_words(n: usize) -> usize {
    let tile = SORT_TILE as usize;
    n + 2 * n + 1 + 2 * (5 * n / tile + 4) + 4 * (n / tile + 1) + 8
}

/// Bytes of staging a sorted chunk of `n` rows can need when its sources are wide (the high
/// words after the low words, 8-aligned), in the worst case.
pub(super) fn wide_staging_bytes(n: usize) -> u64 {
    4 * sorted_staging_words(n) as u64 + (4 * n as u64).next_multiple_of(8)
}

/// The longest sorted chunk whose staging fits in one buffer of `max_bytes` (the device's limit,
/// or `SONATA_CENSUS_GPU_MEMORY_LIMIT`), wide sources included, so that a population turning
/// wide never needs a staging buffer beyond the limit.
pub(super) fn staging_chunk_cap(max_bytes: u64) -> usize {
    let fits = |n: usize| wide_staging_bytes(n) <= max_bytes;
    // Adapters may report no real buffer limit (u64::MAX): 2^40 words is beyond any chunk.
    let words = (max_bytes / 4).clamp(1, 1 << 40);
    let (mut lo, mut hi) = (1usize, usize::try_from(words).unwrap_or(usize::MAX));
    if fits(hi) {
        return hi;
    }
    // fits(lo) may be false on an absurdly small device: the staging buffer then refuses.
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

impl<'a> Engine<'a> {
    pub(super) fn new(
        ctx: &'a GpuContext,
        pop: &'a EdgePopulation,
        options: &'a CensusOptions,
        space: &'a TargetSpace,
        tuning: &GpuTuning,
    ) -> Result<Self> {
        let asked = tuning
            .chunk_len
            .unwrap_or(if options.chunk_len == DEFAULT_CHUNK_LEN {
                ctx.preferred_chunk_len()
            } else {
                options.chunk_len
            });
        let edges = usize::try_from(pop.size()).unwrap_or(usize::MAX);
        let chunk_len = asked
            .min(ctx.max_batch_len())
            .min(staging_chunk_cap(ctx.limits.max_buffer_size))
            .min(edges)
            .max(1);
        let arena_cap = tuning
            .arena_len
            .unwrap_or(1 << 26)
            .min(ctx.max_batch_len())
            .min(edges)
            .max(chunk_len)
            .max(1);
        let flush_limit = tuning.counter_flush_edges.unwrap_or(u64::from(u32::MAX));
        let at = pop.target_ids().location().clone();
        Ok(Engine {
            ctx,
            pop,
            options,
            space,
            at: at.clone(),
            chunk_len,
            arena_cap,
            flush_limit,
            threads: rayon::current_num_threads().max(1),
            staging: Staging::new(ctx, 4 * sorted_staging_words(chunk_len) as u64)?,
            batch: BatchBuffers::new(ctx, chunk_len, 16)?,
            counters: Counters::new(ctx, flush_limit)?,
            arena: Arena::new(ctx, arena_cap)?,
            asm: AsmWorker::new(at),
            timer: Timer::new(ctx),
            stats: Stats::default(),
        })
    }

    pub(super) fn finish_timings(&mut self, t: &mut GpuTimings) {
        let _ = self.timer.drain(self.ctx);
        let s = &self.stats;
        t.strategy = s.strategy;
        t.read_s = s.read.seconds;
        t.read_bytes = s.read.bytes;
        t.wait_s = self.staging.waited_s;
        t.upload_s = (s.upload_s - t.wait_s).max(0.0);
        t.upload_bytes = s.upload_bytes;
        t.kernel_s = self.timer.seconds(self.ctx);
        t.readback_s = s.readback_s;
        t.readback_bytes = s.readback_bytes;
        t.batches = s.batches;
        t.file_passes = s.passes;
        t.flushes = s.flushes;
    }

    /// Drops everything counted so far (the sorted attempt found unsorted rows).
    pub(super) fn reset(&mut self) -> Result<()> {
        readback::wait_idle(self.ctx)?;
        self.counters = Counters::new(self.ctx, self.flush_limit)?;
        self.arena = Arena::new(self.ctx, self.arena_cap)?;
        self.asm = AsmWorker::new(self.at.clone());
        Ok(())
    }

    pub(super) fn run(
        &mut self,
        nsyns: &impl Fn() -> Result<Option<NsynsSource>>,
        progress: &Progress,
    ) -> Result<GpuOutcome> {
        progress.phase(
            &format!("{}: counting on the GPU", self.pop.name()),
            self.pop.size(),
        );
        self.stats.strategy = GpuStrategy::Sorted;
        let sorted = self.sorted_pass(nsyns()?, progress)?;
        let (tables, sortedness, nsyns_total) = match sorted {
            Err(Stop::Cpu(notice)) => return Ok(GpuOutcome::HandToCpu { reason: notice }),
            Ok((tables, by_target_source, nsyns_total)) => (
                tables,
                Sortedness {
                    by_target: true,
                    by_target_source,
                },
                nsyns_total,
            ),
            Err(Stop::Unsorted) => {
                self.reset()?;
                match self.unsorted_passes(nsyns()?, progress)? {
                    Err(Stop::Cpu(notice)) => return Ok(GpuOutcome::HandToCpu { reason: notice }),
                    Err(Stop::Unsorted) => {
                        return Err(unavailable("internal: unsorted twice"));
                    }
                    Ok((tables, nsyns_total)) => (
                        tables,
                        Sortedness {
                            by_target: false,
                            by_target_source: false,
                        },
                        nsyns_total,
                    ),
                }
            }
        };
        let n_targets = tables.target_synapse_count.len() as u64;
        let mut nsyns_total = nsyns_total;
        if let Some(v) = nsyns_total.as_mut() {
            v.resize(n_targets as usize, 0);
        }
        Ok(GpuOutcome::Counted(Box::new(Census::from_tables(
            self.pop,
            n_targets,
            sortedness,
            tables,
            nsyns_total,
            CountedBy::Gpu {
                adapter: self.ctx.adapter_name().to_string(),
            },
        ))))
    }

    /// Ends a run: reads back the arenas and counters and builds the tables.
    pub(super) fn finish_tables(&mut self, n_targets: u64) -> Result<Tables> {
        let asm = self
            .arena
            .flush_last(self.ctx, &mut self.asm, &mut self.stats)?;
        self.counters.flush(self.ctx, &mut self.stats)?;
        self.timer.drain(self.ctx)?;
        let synapses = std::mem::take(&mut self.counters.host);
        let bins = std::mem::take(&mut self.counters.host_bins);
        asm.finish(n_targets, synapses, bins)
    }

    /// Uploads the segment table of a batch (`seg_offsets`, `seg_targets`, blocks, long
    /// segments) from `words` at `offset` of staging slot `slot` into the batch buffers.
    pub(super) fn copy_tables(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        slot: usize,
        offset: u64,
        m: usize,
        layout: &SegmentLayout,
    ) {
        let staging = self.staging.buffer(slot);
        let mut at = offset;
        let b = &self.batch;
        for (words, dst) in [
            (m + 1, b.seg_offsets.buffer()),
            (m, b.seg_targets.buffer()),
            (2 * layout.blocks.len(), b.blocks.buffer()),
            (4 * layout.long_segs.len(), b.long_segs.buffer()),
        ] {
            if words > 0 {
                encoder.copy_buffer_to_buffer(staging, at, dst, 0, words as u64 * 4);
            }
            at += words as u64 * 4;
        }
    }

    /// The words [`Self::copy_tables`] copies.
    pub(super) fn table_words(
        seg_offsets: &[u32],
        seg_targets: &[u32],
        layout: &SegmentLayout,
    ) -> Vec<u32> {
        let mut w = Vec::with_capacity(
            seg_offsets.len()
                + seg_targets.len()
                + 2 * layout.blocks.len()
                + 4 * layout.long_segs.len(),
        );
        w.extend_from_slice(seg_offsets);
        w.extend_from_slice(seg_targets);
        w.extend_from_slice(layout.blocks.as_flattened());
        w.extend_from_slice(layout.long_segs.as_flattened());
        w
    }

    /// Records the connection pipeline of the batch now in the batch buffers, submits it with
    /// `encoder` (which holds its copies), and books the segments.
    pub(super) fn submit_batch(
        &mut self,
        mut encoder: wgpu::CommandEncoder,
        rec: Recorder<'_>,
        slot: Option<usize>,
        seg_targets: &[u32],
        n: usize,
    ) -> Result<()> {
        let pair = self.timer.next(self.ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = self.ctx.queue.submit([encoder.finish()]);
        if let Some(i) = slot {
            self.staging.submitted(i, index);
        }
        self.arena.bound += n;
        self.arena.seg_targets.extend_from_slice(seg_targets);
        self.stats.batches += 1;
        Ok(())
    }

    // -- sorted by target ----------------------------------------------------------------------

    /// Adds the host time since `started` to the upload time, less the readbacks (flushes) done
    /// meanwhile, which count as readback.
    pub(super) fn book_upload(&mut self, started: Instant, readback_before: f64) {
        let flushes = self.stats.readback_s - readback_before;
        self.stats.upload_s += (started.elapsed().as_secs_f64() - flushes).max(0.0);
    }

    pub(super) fn add_read(&mut self, read: ReadStats) {
        self.stats.read.seconds += read.seconds;
        self.stats.read.bytes += read.bytes;
    }
}
