//! The unsorted passes of the GPU engine: pass 1 counts in-degrees on the GPU, targets are cut
//! into partitions whose edges fit a GPU batch (and the memory budget), and per partition pass 2
//! groups the sources by target on the GPU (a counting-sort scatter) before the segments are
//! sorted and encoded as in the sorted pass. Sources of 2^32 and more, seen in pass 1, make
//! pass 2 wide: the high words of the sources go up too and the wide kernels group, sort and
//! encode the pairs. Targets must fit in 32 bits (they index the resident per-target counters,
//! which could not hold a target space of 2^32 or more anyway): a wider one hands the population
//! to the CPU engine.

use super::*;

impl Engine<'_> {
    #[allow(clippy::type_complexity)]
    pub(super) fn unsorted_passes(
        &mut self,
        nsyns: Option<NsynsSource>,
        progress: &Progress,
    ) -> Result<std::result::Result<(Tables, Option<Vec<u64>>), Stop>> {
        let ctx = self.ctx;
        let pop = self.pop;
        progress.phase(
            &format!("{}: unsorted, counting in-degrees on the GPU", pop.name()),
            pop.size(),
        );
        let mut sc = ScatterBuffers {
            targets: GrowBuffer::new(ctx, "chunk targets", self.chunk_len)?,
            sources: GrowBuffer::new(ctx, "chunk sources", self.chunk_len)?,
            sources_hi: GrowBuffer::new(ctx, "chunk source high words", 16)?,
            offsets: GrowBuffer::new(ctx, "partition offsets", 16)?,
            cursor: GrowBuffer::new(ctx, "partition cursor", 16)?,
        };
        let mut st = DegreeState {
            max_target: None,
            nsyns: Vec::new(),
            wide_source: None,
        };
        let with_nsyns = nsyns.is_some();
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let stopped = for_each_chunk(
            pop,
            self.chunk_len,
            nsyns,
            self.options.edge_filter.as_deref(),
            &mut read,
            |chunk| {
                let r = self.degree_chunk(chunk, &mut st, &sc);
                progress.inc(chunk.rows);
                r
            },
        );
        self.add_read(read);
        progress.waiting(&format!(
            "{}: finishing the in-degrees on the GPU",
            pop.name()
        ));
        if let Some(stop) = stopped? {
            return Ok(Err(stop));
        }
        // In-degrees, exactly (u64).
        self.counters.flush(ctx, &mut self.stats)?;
        let n_targets = self
            .space
            .n_targets
            .unwrap_or_else(|| st.max_target.map_or(0, |t| t + 1));
        let mut degrees = std::mem::take(&mut self.counters.host);
        degrees.resize(n_targets as usize, 0);
        let max_batch = ctx.max_batch_len();
        if let Some((t, &d)) = degrees
            .iter()
            .enumerate()
            .find(|&(_, &d)| d > max_batch as u64)
        {
            return Ok(Err(Stop::Cpu(format!(
                "target {t} has {d} synapses, more than one GPU batch holds ({max_batch}); the \
                 CPU engine counts this population"
            ))));
        }
        if let Some((id, row)) = st.wide_source {
            if !ctx.has_wide_kernels() {
                return Ok(Err(Stop::Cpu(no_wide_kernels(id, row))));
            }
            self.arena.make_wide(ctx, &mut self.asm, &mut self.stats)?;
            sc.sources_hi.ensure(ctx, self.chunk_len)?;
        }
        let budget = usize::try_from(self.options.memory_budget / 4).unwrap_or(usize::MAX);
        let parts = partitions(&degrees, budget.clamp(1, max_batch) as u64, max_batch);
        let parts: Vec<(usize, usize, u64)> = parts
            .into_iter()
            .filter(|&(_, _, edges)| edges > 0)
            .collect();
        self.stats.strategy = GpuStrategy::Unsorted {
            partitions: parts.len(),
        };
        for (k, &(t0, t1, edges)) in parts.iter().enumerate() {
            progress.phase(
                &format!(
                    "{}: unsorted, grouping partition {}/{} on the GPU",
                    pop.name(),
                    k + 1,
                    parts.len()
                ),
                pop.size(),
            );
            self.partition(t0, t1, edges as usize, &degrees, &mut sc, progress)?;
        }
        // The synapse counts are the in-degrees; the counters now only hold the histogram.
        let tables = self.finish_tables(n_targets)?;
        let tables = Tables {
            target_synapse_count: degrees,
            ..tables
        };
        Ok(Ok((tables, with_nsyns.then_some(st.nsyns))))
    }

    pub(super) fn degree_chunk(
        &mut self,
        chunk: &Chunk,
        st: &mut DegreeState,
        sc: &ScatterBuffers,
    ) -> Result<ControlFlow<Stop>> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let limit = self.space.n_targets;
        let slot = self.staging.acquire(ctx, 4 * n as u64)?;
        let cuts = parts(n, self.threads);
        let scans: Vec<DegreePart> = {
            let mut view = self.staging.view(slot, 0, 4 * n as u64)?;
            let pieces = split_out(view.slice(..), &cuts);
            cuts.par_iter()
                .zip(pieces)
                .map(|(&(a, b), out)| {
                    let (ts, ss) = (&targets[a..b], &sources[a..b]);
                    let beyond = limit.and_then(|l| ts.iter().position(|&t| t >= l).map(|i| a + i));
                    let wide_target = ts
                        .iter()
                        .position(|&t| t > u64::from(u32::MAX))
                        .map(|i| a + i);
                    let wide_source = ss
                        .iter()
                        .position(|&s| s > u64::from(u32::MAX))
                        .map(|i| a + i);
                    write_u32s(ts, out.into_write_only());
                    DegreePart {
                        max_target: ts.iter().copied().max().unwrap_or(0),
                        beyond,
                        wide_target,
                        wide_source,
                    }
                })
                .collect()
        };
        if let Some(row) = scans.iter().find_map(|p| p.beyond) {
            return Err(target_beyond(
                &self.at,
                targets[row],
                chunk.edge_id(row),
                self.space,
            ));
        }
        if let Some(i) = scans.iter().find_map(|p| p.wide_target) {
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "target node",
                targets[i],
                chunk.edge_id(i),
            ))));
        }
        if st.wide_source.is_none()
            && let Some(i) = scans.iter().find_map(|p| p.wide_source)
        {
            st.wide_source = Some((sources[i], chunk.edge_id(i)));
        }
        let max_t = scans.iter().map(|p| p.max_target).max().unwrap_or(0);
        st.max_target = Some(st.max_target.map_or(max_t, |m| m.max(max_t)));
        if let Some(ns) = &chunk.nsyns {
            for (&t, &k) in targets.iter().zip(ns) {
                let t = t as usize;
                if t >= st.nsyns.len() {
                    st.nsyns.resize(t + 1, 0);
                }
                st.nsyns[t] += k;
            }
        }
        let needed = limit.map_or(max_t + 1, |l| l.max(max_t + 1));
        if let Some(why) = self.counters.ensure_targets(ctx, needed as usize)? {
            return Ok(ControlFlow::Break(Stop::Cpu(why)));
        }
        self.counters.before(ctx, n as u64, &mut self.stats)?;
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("in-degrees"),
            });
        encoder.copy_buffer_to_buffer(
            self.staging.buffer(slot),
            0,
            sc.targets.buffer(),
            0,
            4 * n as u64,
        );
        let mut rec = Recorder::new(ctx);
        let counts = self
            .counters
            .targets
            .as_ref()
            .ok_or_else(|| unavailable("internal: no target counters"))?;
        target_counts::record(
            &mut rec,
            &TargetCountsParams {
                n: n as u32,
                mode: MODE_EDGES,
                n_counts: self.counters.cap as u32,
                _pad: 0,
            },
            sc.targets.buffer(),
            sc.targets.buffer(),
            counts,
        );
        let pair = self.timer.next(ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = ctx.queue.submit([encoder.finish()]);
        self.staging.submitted(slot, index);
        self.stats.batches += 1;
        self.stats.upload_bytes += 4 * n as u64;
        self.book_upload(started, readback_before);
        Ok(ControlFlow::Continue(()))
    }

    /// Pass 2 for targets `t0..t1` (`edges` edges): group their sources by target on the GPU,
    /// then sort and encode them.
    pub(super) fn partition(
        &mut self,
        t0: usize,
        t1: usize,
        edges: usize,
        degrees: &[u64],
        sc: &mut ScatterBuffers,
        progress: &Progress,
    ) -> Result<()> {
        let ctx = self.ctx;
        let span = t1 - t0;
        let mut offsets = Vec::with_capacity(span);
        let mut seg_offsets = Vec::new();
        let mut seg_targets = Vec::new();
        let mut acc = 0u32;
        for (k, &d) in degrees[t0..t1].iter().enumerate() {
            offsets.push(acc);
            if d > 0 {
                seg_offsets.push(acc);
                seg_targets.push((t0 + k) as u32);
            }
            acc += d as u32;
        }
        seg_offsets.push(acc);
        let m = seg_targets.len();
        let layout = SegmentLayout::build(&seg_offsets);
        self.batch.ensure(ctx, edges, &layout)?;
        if self.arena.wide {
            self.batch.ensure_wide(ctx, edges)?;
        }
        sc.offsets.ensure(ctx, span)?;
        sc.cursor.ensure(ctx, span)?;
        ctx.queue
            .write_buffer(sc.offsets.buffer(), 0, bytemuck::cast_slice(&offsets));
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.clear_buffer(sc.cursor.buffer(), 0, None);
        ctx.queue.submit([encoder.finish()]);
        let p = SourcesByTargetParams {
            n: 0,
            t0: t0 as u32,
            t1: t1 as u32,
            _pad: 0,
        };
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let pop = self.pop;
        let r = for_each_chunk::<()>(
            pop,
            self.chunk_len,
            None,
            self.options.edge_filter.as_deref(),
            &mut read,
            |chunk| {
                self.scatter_chunk(chunk, &p, sc)?;
                progress.inc(chunk.rows);
                Ok(ControlFlow::Continue(()))
            },
        );
        self.add_read(read);
        progress.waiting(&format!("{}: sorting the partition on the GPU", pop.name()));
        r?;
        // The partition is one batch of segments, already in the batch's keys.
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        self.counters.before(ctx, edges as u64, &mut self.stats)?;
        self.arena
            .make_room(ctx, edges, m, &mut self.asm, &mut self.stats)?;
        let tables = Self::table_words(&seg_offsets, &seg_targets, &layout);
        let slot = self.staging.acquire(ctx, 4 * tables.len() as u64)?;
        self.staging
            .view(slot, 0, 4 * tables.len() as u64)?
            .copy_from_slice(bytemuck::cast_slice(&tables));
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("partition"),
            });
        self.copy_tables(&mut encoder, slot, 0, m, &layout);
        let mut rec = Recorder::new(ctx);
        connections::record(
            &mut rec,
            &self.batch,
            edges as u32,
            &layout,
            &self.arena.arenas(&self.counters.bins),
            false,
        );
        self.stats.upload_bytes += 4 * tables.len() as u64;
        self.submit_batch(encoder, rec, Some(slot), &seg_targets, edges)?;
        self.book_upload(started, readback_before);
        Ok(())
    }

    pub(super) fn scatter_chunk(
        &mut self,
        chunk: &Chunk,
        p: &SourcesByTargetParams,
        sc: &ScatterBuffers,
    ) -> Result<()> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(());
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let half = (4 * n as u64).next_multiple_of(8);
        let wide = self.arena.wide;
        let columns = if wide { 3 } else { 2 };
        let slot = self.staging.acquire(ctx, columns * half)?;
        let cuts = parts(n, self.threads);
        write_words(&self.staging, slot, 0, targets, &cuts, false)?;
        write_words(&self.staging, slot, half, sources, &cuts, false)?;
        if wide {
            write_words(&self.staging, slot, 2 * half, sources, &cuts, true)?;
        }
        self.staging.buffer(slot).unmap();
        let staging = self.staging.buffer(slot);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("scatter"),
            });
        encoder.copy_buffer_to_buffer(staging, 0, sc.targets.buffer(), 0, 4 * n as u64);
        encoder.copy_buffer_to_buffer(staging, half, sc.sources.buffer(), 0, 4 * n as u64);
        let mut rec = Recorder::new(ctx);
        let p = SourcesByTargetParams { n: n as u32, ..*p };
        if wide {
            // sources_hi holds a chunk since pass 1 found the population wide.
            encoder.copy_buffer_to_buffer(
                staging,
                2 * half,
                sc.sources_hi.buffer(),
                0,
                4 * n as u64,
            );
            sources_by_target_wide::record(
                &mut rec,
                &p,
                &sources_by_target_wide::Scatter {
                    targets: sc.targets.buffer(),
                    sources: [sc.sources.buffer(), sc.sources_hi.buffer()],
                    offsets: sc.offsets.buffer(),
                    cursor: sc.cursor.buffer(),
                    grouped: [self.batch.keys.buffer(), self.batch.keys_hi.buffer()],
                },
            );
        } else {
            sources_by_target::record(
                &mut rec,
                &p,
                sc.targets.buffer(),
                sc.sources.buffer(),
                sc.offsets.buffer(),
                sc.cursor.buffer(),
                self.batch.keys.buffer(),
            );
        }
        let pair = self.timer.next(ctx)?;
        rec.record(&mut encoder, pair)?;
        let index = ctx.queue.submit([encoder.finish()]);
        self.staging.submitted(slot, index);
        self.stats.batches += 1;
        self.stats.upload_bytes += 4 * columns * n as u64;
        self.book_upload(started, readback_before);
        Ok(())
    }
}

pub(super) struct DegreeState {
    pub(super) max_target: Option<u64>,
    pub(super) nsyns: Vec<u64>,
    /// The first source of 2^32 or more, and its row: pass 2 is then wide.
    pub(super) wide_source: Option<(u64, u64)>,
}

pub(super) struct DegreePart {
    pub(super) max_target: u64,
    pub(super) beyond: Option<usize>,
    pub(super) wide_target: Option<usize>,
    pub(super) wide_source: Option<usize>,
}

/// Cuts targets into contiguous ranges `(t0, t1, edges)` of at most `budget` edges and at most
/// `max_span` targets (a heavier single target gets a range of its own), as the CPU engine
/// partitions.
pub(super) fn partitions(
    degrees: &[u64],
    budget: u64,
    max_span: usize,
) -> Vec<(usize, usize, u64)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut sum = 0u64;
    for (t, &d) in degrees.iter().enumerate() {
        if (sum > 0 && sum + d > budget) || t - start >= max_span {
            parts.push((start, t, sum));
            start = t;
            sum = 0;
        }
        sum += d;
    }
    parts.push((start, degrees.len(), sum));
    parts
}
