//! The sorted pass of the GPU engine: one streamed pass over input sorted by target; the host
//! finds the segments while narrowing and uploads only the sources and the segment table. The
//! first decreasing target stops it ([`Stop::Unsorted`]) and the engine turns to the unsorted
//! passes. From the first chunk with a source of 2^32 or more on, every chunk uploads the high
//! words of its sources too and the wide kernels count it ([`Arena::make_wide`]).

use super::*;

impl Engine<'_> {
    #[allow(clippy::type_complexity)]
    pub(super) fn sorted_pass(
        &mut self,
        nsyns: Option<NsynsSource>,
        progress: &Progress,
    ) -> Result<std::result::Result<(Tables, bool, Option<Vec<u64>>), Stop>> {
        let mut st = SortedState {
            prev: None,
            by_target_source: true,
            max_target: None,
            nsyns: Vec::new(),
        };
        let with_nsyns = nsyns.is_some();
        let mut read = ReadStats::default();
        self.stats.passes += 1;
        let pop = self.pop;
        let stopped = for_each_chunk(
            pop,
            self.chunk_len,
            nsyns,
            self.options.edge_filter.as_deref(),
            &mut read,
            |chunk| {
                let r = self.sorted_chunk(chunk, &mut st);
                progress.inc(chunk.rows);
                r
            },
        );
        self.add_read(read);
        progress.waiting(&format!("{}: finishing on the GPU", pop.name()));
        if let Some(stop) = stopped? {
            return Ok(Err(stop));
        }
        let n_targets = self
            .space
            .n_targets
            .unwrap_or_else(|| st.max_target.map_or(0, |t| t + 1));
        let tables = self.finish_tables(n_targets)?;
        Ok(Ok((
            tables,
            st.by_target_source,
            with_nsyns.then_some(st.nsyns),
        )))
    }

    pub(super) fn sorted_chunk(
        &mut self,
        chunk: &Chunk,
        st: &mut SortedState,
    ) -> Result<ControlFlow<Stop>> {
        let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
        let n = targets.len();
        if n == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        let (started, readback_before) = (Instant::now(), self.stats.readback_s);
        let ctx = self.ctx;
        let src_bytes = (4 * n as u64).next_multiple_of(8);
        // Room for the high words of the sources once the population is wide.
        let hi_room = |wide: bool| if wide { src_bytes } else { 0 };
        let slot = self.staging.acquire(
            ctx,
            4 * sorted_staging_words(n) as u64 + hi_room(self.arena.wide),
        )?;
        let scan = {
            let mut view = self.staging.view(slot, 0, 4 * n as u64)?;
            let cuts = parts(n, self.threads);
            let pieces = split_out(view.slice(..), &cuts);
            let prev = st.prev;
            let results: Vec<SortedPart> = cuts
                .par_iter()
                .zip(pieces)
                .map(|(&(a, b), out)| {
                    let (op, sp) = if a == 0 {
                        (prev, None)
                    } else {
                        (Some((targets[a - 1], sources[a - 1])), Some(targets[a - 1]))
                    };
                    scan_sorted_part(
                        &targets[a..b],
                        &sources[a..b],
                        a,
                        op,
                        sp,
                        out.into_write_only(),
                    )
                })
                .collect();
            results
        };
        if scan.iter().any(|p| p.unsorted) {
            return Ok(ControlFlow::Break(Stop::Unsorted));
        }
        // Sources already ascending within every segment (as in files sorted by target and
        // source): the GPU skips the sort.
        let presorted = scan.iter().all(|p| p.by_target_source);
        st.by_target_source &= presorted;
        st.prev = Some((targets[n - 1], sources[n - 1]));
        let last = targets[n - 1];
        if let Some(limit) = self.space.n_targets
            && last >= limit
        {
            let row = targets.partition_point(|&t| t < limit);
            return Err(target_beyond(
                &self.at,
                targets[row.min(n - 1)],
                chunk.edge_id(row.min(n - 1)),
                self.space,
            ));
        }
        if last > u64::from(u32::MAX) {
            let row = targets.partition_point(|&t| t <= u64::from(u32::MAX));
            return Ok(ControlFlow::Break(Stop::Cpu(too_wide(
                "target node",
                targets[row.min(n - 1)],
                chunk.edge_id(row.min(n - 1)),
            ))));
        }
        if let Some(i) = scan.iter().find_map(|p| p.wide_source)
            && !self.arena.wide
        {
            if !ctx.has_wide_kernels() {
                return Ok(ControlFlow::Break(Stop::Cpu(no_wide_kernels(
                    sources[i],
                    chunk.edge_id(i),
                ))));
            }
            self.arena.make_wide(ctx, &mut self.asm, &mut self.stats)?;
        }
        let hi_bytes = hi_room(self.arena.wide);
        if self.arena.wide {
            let cuts = parts(n, self.threads);
            let bytes = 4 * sorted_staging_words(n) as u64 + hi_bytes;
            if self.staging.regrow(ctx, slot, bytes)? {
                write_words(&self.staging, slot, 0, sources, &cuts, false)?;
            }
            write_words(&self.staging, slot, src_bytes, sources, &cuts, true)?;
            self.batch.ensure_wide(ctx, n)?;
        }
        st.max_target = Some(last);
        if let Some(ns) = &chunk.nsyns {
            for (&t, &k) in targets.iter().zip(ns) {
                let t = t as usize;
                if t >= st.nsyns.len() {
                    st.nsyns.resize(t + 1, 0);
                }
                st.nsyns[t] += k;
            }
        }
        let starts: Vec<u32> = scan.into_iter().flat_map(|p| p.starts).collect();
        let m = starts.len();
        let seg_targets: Vec<u32> = starts.iter().map(|&i| targets[i as usize] as u32).collect();
        let mut seg_offsets = starts;
        seg_offsets.push(n as u32);
        let layout = SegmentLayout::build(&seg_offsets);
        if let Some(why) = self.counters.ensure_targets(ctx, last as usize + 1)? {
            return Ok(ControlFlow::Break(Stop::Cpu(why)));
        }
        self.counters.before(ctx, n as u64, &mut self.stats)?;
        self.arena
            .make_room(ctx, n, m, &mut self.asm, &mut self.stats)?;
        self.batch.ensure(ctx, n, &layout)?;
        let tables = Self::table_words(&seg_offsets, &seg_targets, &layout);
        let tables_at = src_bytes + hi_bytes;
        self.staging
            .view(slot, tables_at, 4 * tables.len() as u64)?
            .copy_from_slice(bytemuck::cast_slice(&tables));
        self.staging.buffer(slot).unmap();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sorted chunk"),
            });
        encoder.copy_buffer_to_buffer(
            self.staging.buffer(slot),
            0,
            self.batch.keys.buffer(),
            0,
            4 * n as u64,
        );
        if hi_bytes > 0 {
            encoder.copy_buffer_to_buffer(
                self.staging.buffer(slot),
                src_bytes,
                self.batch.keys_hi.buffer(),
                0,
                4 * n as u64,
            );
        }
        self.copy_tables(&mut encoder, slot, tables_at, m, &layout);
        let mut rec = Recorder::new(ctx);
        let counts = self
            .counters
            .targets
            .as_ref()
            .ok_or_else(|| unavailable("internal: no target counters"))?;
        target_counts::record(
            &mut rec,
            &TargetCountsParams {
                n: m as u32,
                mode: MODE_SEGMENTS,
                n_counts: self.counters.cap as u32,
                _pad: 0,
            },
            self.batch.seg_targets.buffer(),
            self.batch.seg_offsets.buffer(),
            counts,
        );
        connections::record(
            &mut rec,
            &self.batch,
            n as u32,
            &layout,
            &self.arena.arenas(&self.counters.bins),
            presorted,
        );
        self.stats.upload_bytes += 4 * (n + tables.len()) as u64 + hi_bytes.min(4 * n as u64);
        self.submit_batch(encoder, rec, Some(slot), &seg_targets, n)?;
        self.book_upload(started, readback_before);
        Ok(ControlFlow::Continue(()))
    }

    // -- unsorted ------------------------------------------------------------------------------
}

pub(super) struct SortedState {
    pub(super) prev: Option<(u64, u64)>,
    pub(super) by_target_source: bool,
    pub(super) max_target: Option<u64>,
    pub(super) nsyns: Vec<u64>,
}
