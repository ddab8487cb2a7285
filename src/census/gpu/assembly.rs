//! Connection arenas and the host assembly: each batch appends its connections and per-segment
//! connection counts to resident arenas, read back when they could fill up and at the end; a
//! worker thread assembles them into the CSR connection table, merging exactly (in u64) the
//! partial lists of targets whose edges cross a chunk boundary.
//!
//! A flush reads the arenas back in one mapped transfer ([`readback::Readback::read_tables`]):
//! a flush while counting hands copies of the mapped words to the worker, so that counting goes
//! on; the last flush is assembled on this thread straight from the mapping, without a copy.
//! An arena is wide (sources of two words, [`Arena::wide`]) or narrow as a whole: it is flushed
//! when a population turns wide, so that the assembler knows how to read every connection.

use super::*;

/// Resident arenas of connections and per-segment connection counts.
pub(super) struct Arena {
    pub(super) state: wgpu::Buffer,
    pub(super) conn_src: GrowBuffer,
    /// High words of the sources, used (and grown) once the arena is [`Arena::wide`].
    pub(super) conn_src_hi: GrowBuffer,
    /// Whether the batches in the arena have sources of two words.
    pub(super) wide: bool,
    pub(super) conn_count: GrowBuffer,
    pub(super) seg_conn: GrowBuffer,
    pub(super) cap: usize,
    /// Upper bound of the connections in the arena (edges since the last flush).
    pub(super) bound: usize,
    /// Segments in the arena, and their targets.
    pub(super) seg_targets: Vec<u32>,
}

impl Arena {
    pub(super) fn new(ctx: &GpuContext, cap: usize) -> Result<Self> {
        Ok(Arena {
            state: ctx.storage_with("state", &[0]),
            conn_src: GrowBuffer::new(ctx, "conn_src", cap)?,
            conn_src_hi: GrowBuffer::new(ctx, "conn_src_hi", 16)?,
            wide: false,
            conn_count: GrowBuffer::new(ctx, "conn_count", cap)?,
            seg_conn: GrowBuffer::new(ctx, "seg_conn", cap)?,
            cap,
            bound: 0,
            seg_targets: Vec::new(),
        })
    }

    pub(super) fn fits(&self, n: usize, m: usize) -> bool {
        self.bound + n <= self.cap && self.seg_targets.len() + m <= self.cap
    }

    /// Makes room for a batch of `n` edges in `m` segments: flushes the arena when it could
    /// overflow, and grows it when the batch alone is larger (a big partition).
    pub(super) fn make_room(
        &mut self,
        ctx: &GpuContext,
        n: usize,
        m: usize,
        asm: &mut AsmWorker,
        t: &mut Stats,
    ) -> Result<()> {
        if !self.fits(n, m) {
            self.flush(ctx, asm, t)?;
        }
        if !self.fits(n, m) {
            let cap = n.max(m);
            self.conn_src.ensure(ctx, cap)?;
            self.conn_count.ensure(ctx, cap)?;
            self.seg_conn.ensure(ctx, cap)?;
            if self.wide {
                self.conn_src_hi.ensure(ctx, cap)?;
            }
            self.cap = cap;
        }
        Ok(())
    }

    /// Turns the arena wide (sources of two words) for the rest of the population: the narrow
    /// batches already in it are flushed first.
    pub(super) fn make_wide(
        &mut self,
        ctx: &GpuContext,
        asm: &mut AsmWorker,
        t: &mut Stats,
    ) -> Result<()> {
        if self.wide {
            return Ok(());
        }
        self.flush(ctx, asm, t)?;
        self.conn_src_hi.ensure(ctx, self.cap)?;
        self.wide = true;
        Ok(())
    }

    pub(super) fn arenas<'a>(&'a self, bins: &'a wgpu::Buffer) -> Arenas<'a> {
        Arenas {
            state: &self.state,
            conn_src: self.conn_src.buffer(),
            conn_count: self.conn_count.buffer(),
            seg_conn: self.seg_conn.buffer(),
            seg_base: self.seg_targets.len() as u32,
            bins: Some(bins),
            conn_src_hi: self.wide.then(|| self.conn_src_hi.buffer()),
        }
    }

    /// Reads the arenas back into the assembler (its worker, with copies) and empties them.
    pub(super) fn flush(
        &mut self,
        ctx: &GpuContext,
        asm: &mut AsmWorker,
        t: &mut Stats,
    ) -> Result<()> {
        self.read_back(ctx, t, |seg_targets, w| {
            asm.take(Flushed {
                seg_targets,
                per_seg: w.per_seg.to_vec(),
                src: w.src.to_vec(),
                src_hi: w.src_hi.map(<[u32]>::to_vec),
                cnt: w.cnt.to_vec(),
            })
        })
    }

    /// The last flush of a run: waits for the worker and assembles the arenas on this thread
    /// straight from the mapped readback buffer; returns the assembler.
    pub(super) fn flush_last(
        &mut self,
        ctx: &GpuContext,
        asm: &mut AsmWorker,
        t: &mut Stats,
    ) -> Result<Assembler> {
        let waiting = Instant::now();
        let mut assembler = asm.finish()?;
        t.readback_s += waiting.elapsed().as_secs_f64();
        self.read_back(ctx, t, |seg_targets, w| {
            assembler.take(&seg_targets, w.per_seg, w.src, w.src_hi, w.cnt)
        })?;
        Ok(assembler)
    }

    /// Reads the arenas back in one mapped transfer, hands their words to `consume` and empties
    /// them.
    fn read_back(
        &mut self,
        ctx: &GpuContext,
        t: &mut Stats,
        consume: impl FnOnce(Vec<u32>, ArenaWords<'_>) -> Result<()>,
    ) -> Result<()> {
        if self.seg_targets.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let rb = &mut t.readback;
        // The connection count sizes the transfer (the arenas hold `bound` slots, of which the
        // connections use a few when connections have many synapses).
        let used = rb
            .read_u32s(ctx, &self.state, 0, 1)?
            .first()
            .copied()
            .unwrap_or(0) as usize;
        if used > self.bound {
            return Err(unavailable(format!(
                "the GPU reported {used} connections for at most {} edges",
                self.bound
            )));
        }
        let segs = self.seg_targets.len();
        let span = |src, count| readback::Span {
            src,
            first: 0,
            count,
        };
        let mut spans = vec![
            span(self.conn_src.buffer(), used),
            span(self.conn_count.buffer(), used),
            span(self.seg_conn.buffer(), segs),
        ];
        if self.wide {
            spans.push(span(self.conn_src_hi.buffer(), used));
        }
        let seg_targets = std::mem::take(&mut self.seg_targets);
        rb.read_tables(ctx, &spans, |w| {
            consume(
                seg_targets,
                ArenaWords {
                    src: w[0],
                    cnt: w[1],
                    per_seg: w[2],
                    src_hi: w.get(3).copied(),
                },
            )
        })?;
        t.readback_bytes += spans.iter().map(|s| 4 * s.count as u64).sum::<u64>();
        t.readback_s += started.elapsed().as_secs_f64();
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.clear_buffer(&self.state, 0, None);
        ctx.queue.submit([encoder.finish()]);
        self.bound = 0;
        self.seg_targets.clear();
        t.flushes += 1;
        Ok(())
    }
}

/// The words of one arena readback, borrowed from the mapping.
pub(super) struct ArenaWords<'a> {
    pub(super) src: &'a [u32],
    pub(super) src_hi: Option<&'a [u32]>,
    pub(super) cnt: &'a [u32],
    pub(super) per_seg: &'a [u32],
}

/// A target's connections that may continue in the next segment (a run crossing a chunk).
pub(super) struct Pending {
    pub(super) target: u32,
    pub(super) list: Vec<(u64, u64)>,
    pub(super) merged: bool,
}

/// Builds the connection tables from the arenas' contents, in target order.
pub(super) struct Assembler {
    pub(super) at: Location,
    pub(super) connections: Vec<u64>,
    pub(super) sources: Vec<u64>,
    pub(super) counts: Vec<u32>,
    /// Corrections to the GPU histogram: connections it did not count (more than `HIST_BINS - 1`
    /// synapses, or merged across batches), minus the partial ones it counted.
    pub(super) hist_fix: BTreeMap<u64, i64>,
    pub(super) pending: Option<Pending>,
}

pub(super) fn gpu_counted(c: u64) -> bool {
    c < u64::from(HIST_BINS)
}

impl Assembler {
    pub(super) fn new(at: Location) -> Self {
        Assembler {
            at,
            connections: Vec::new(),
            sources: Vec::new(),
            counts: Vec::new(),
            hist_fix: BTreeMap::new(),
            pending: None,
        }
    }

    pub(super) fn fix(&mut self, c: u64, d: i64) {
        *self.hist_fix.entry(c).or_insert(0) += d;
    }

    /// Takes one flush: `src` (and `src_hi`, the high words of a wide arena) and `cnt` are the
    /// connections of the segments `seg_targets`, `per_seg` connections each.
    pub(super) fn take(
        &mut self,
        seg_targets: &[u32],
        per_seg: &[u32],
        src: &[u32],
        src_hi: Option<&[u32]>,
        cnt: &[u32],
    ) -> Result<()> {
        if src_hi.is_some_and(|h| h.len() != src.len()) {
            return Err(unavailable(
                "the GPU's connection arenas hold unequal low and high source words",
            ));
        }
        let mut pos = 0usize;
        for (s, &t) in seg_targets.iter().enumerate() {
            let d = per_seg.get(s).copied().unwrap_or(0) as usize;
            let (Some(ss), Some(cc)) = (src.get(pos..pos + d), cnt.get(pos..pos + d)) else {
                return Err(unavailable(
                    "the GPU's connection arenas are inconsistent with its segment counts",
                ));
            };
            let words = Words {
                lo: ss,
                hi: src_hi.and_then(|h| h.get(pos..pos + d)),
            };
            pos += d;
            if let Some(p) = self.pending.as_mut()
                && p.target == t
            {
                let mut fixes = Vec::new();
                if !p.merged {
                    fixes.extend(p.list.iter().map(|&(_, c)| c));
                    p.merged = true;
                }
                fixes.extend(cc.iter().map(|&c| u64::from(c)));
                let sources: Vec<u64> = words.iter().collect();
                p.list = merge(&p.list, &sources, cc);
                for c in fixes {
                    if gpu_counted(c) {
                        self.fix(c, -1);
                    }
                }
                continue;
            }
            if let Some(p) = self.pending.take() {
                self.emit(p)?;
            }
            let may_continue = seg_targets.get(s + 1).is_none_or(|&next| next == t);
            if may_continue {
                self.pending = Some(Pending {
                    target: t,
                    list: words
                        .iter()
                        .zip(cc)
                        .map(|(s, &c)| (s, u64::from(c)))
                        .collect(),
                    merged: false,
                });
            } else {
                self.emit_direct(t, words, cc);
            }
        }
        if pos != src.len() {
            return Err(unavailable(
                "the GPU's connection arenas hold more connections than its segment counts",
            ));
        }
        Ok(())
    }

    /// Emits the connections of a target seen in one segment only (counts below 2^32, and the
    /// GPU histogram counted those below `HIST_BINS`).
    pub(super) fn emit_direct(&mut self, target: u32, ss: Words<'_>, cc: &[u32]) {
        let t = target as usize;
        if t >= self.connections.len() {
            self.connections.resize(t + 1, 0);
        }
        self.connections[t] += ss.lo.len() as u64;
        match ss.hi {
            None => self.sources.extend(ss.lo.iter().map(|&s| u64::from(s))),
            Some(_) => self.sources.extend(ss.iter()),
        }
        self.counts.extend_from_slice(cc);
        for &c in cc {
            if !gpu_counted(u64::from(c)) {
                self.fix(u64::from(c), 1);
            }
        }
    }

    pub(super) fn emit(&mut self, p: Pending) -> Result<()> {
        let t = p.target as usize;
        if t >= self.connections.len() {
            self.connections.resize(t + 1, 0);
        }
        self.connections[t] += p.list.len() as u64;
        for &(s, c) in &p.list {
            let c32 = u32::try_from(c)
                .map_err(|_| too_many_synapses(&self.at, u64::from(p.target), s))?;
            if p.merged || !gpu_counted(c) {
                self.fix(c, 1);
            }
            self.sources.push(s);
            self.counts.push(c32);
        }
        Ok(())
    }

    /// The tables for `n_targets` targets, given the u64 synapse counters and histogram.
    pub(super) fn finish(
        mut self,
        n_targets: u64,
        mut synapses: Vec<u64>,
        bins: Vec<u64>,
    ) -> Result<Tables> {
        if let Some(p) = self.pending.take() {
            self.emit(p)?;
        }
        let n = n_targets as usize;
        synapses.resize(n, 0);
        self.connections.resize(n, 0);
        let mut offsets = Vec::with_capacity(n + 1);
        let mut acc = 0u64;
        offsets.push(0);
        for &c in &self.connections {
            acc += c;
            offsets.push(acc);
        }
        let mut hist = bins;
        for (&c, &d) in &self.hist_fix {
            let c = c as usize;
            if c >= hist.len() {
                hist.resize(c + 1, 0);
            }
            hist[c] = hist[c].checked_add_signed(d).ok_or_else(|| {
                unavailable("the GPU histogram of synapses per connection is inconsistent")
            })?;
        }
        let len = hist.iter().rposition(|&h| h > 0).map_or(1, |i| i + 1);
        hist.truncate(len);
        hist.resize(len, 0);
        Ok(Tables {
            target_synapse_count: synapses,
            target_connection_count: self.connections,
            target_offsets: offsets,
            source_node_id: self.sources,
            synapse_count: self.counts,
            synapses_per_connection: hist,
        })
    }
}

/// The sources of one segment's connections: low words, and high words in a wide arena.
#[derive(Clone, Copy)]
pub(super) struct Words<'a> {
    pub(super) lo: &'a [u32],
    pub(super) hi: Option<&'a [u32]>,
}

impl Words<'_> {
    /// The u64 sources.
    pub(super) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.lo.iter().enumerate().map(|(i, &l)| {
            let h = self.hi.and_then(|h| h.get(i)).copied().unwrap_or(0);
            u64::from(h) << 32 | u64::from(l)
        })
    }
}

/// One arena's worth of results for the assembler.
pub(super) struct Flushed {
    pub(super) seg_targets: Vec<u32>,
    pub(super) per_seg: Vec<u32>,
    pub(super) src: Vec<u32>,
    pub(super) src_hi: Option<Vec<u32>>,
    pub(super) cnt: Vec<u32>,
}

/// The [`Assembler`] on a thread of its own, so that building the tables on the host overlaps
/// with reading and counting the next chunks. At most one flush waits in the channel.
pub(super) struct AsmWorker {
    pub(super) tx: Option<mpsc::SyncSender<Flushed>>,
    pub(super) handle: Option<std::thread::JoinHandle<Result<Assembler>>>,
}

impl AsmWorker {
    pub(super) fn new(at: Location) -> Self {
        let (tx, rx) = mpsc::sync_channel::<Flushed>(1);
        let handle = std::thread::spawn(move || {
            let mut asm = Assembler::new(at);
            for f in rx {
                asm.take(
                    &f.seg_targets,
                    &f.per_seg,
                    &f.src,
                    f.src_hi.as_deref(),
                    &f.cnt,
                )?;
            }
            Ok(asm)
        });
        AsmWorker {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    /// Hands a flush to the worker; when the worker has stopped on an error, returns it.
    pub(super) fn take(&mut self, f: Flushed) -> Result<()> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(f).is_ok());
        if sent {
            return Ok(());
        }
        self.finish().map(|_| ())?;
        Err(unavailable("internal: the table assembler stopped"))
    }

    /// Waits for the worker and returns the assembler.
    pub(super) fn finish(&mut self) -> Result<Assembler> {
        self.tx = None;
        let handle = self
            .handle
            .take()
            .ok_or_else(|| unavailable("internal: the table assembler is gone"))?;
        handle
            .join()
            .map_err(|_| unavailable("internal: the table assembler panicked"))?
    }
}

/// Merges two connection lists sorted by source, adding the counts of equal sources.
pub(super) fn merge(a: &[(u64, u64)], bs: &[u64], bc: &[u32]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + bs.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < bs.len() {
        match (a.get(i), bs.get(j)) {
            (Some(&(s, c)), Some(&t)) if s == t => {
                out.push((s, c + u64::from(bc[j])));
                i += 1;
                j += 1;
            }
            (Some(&(s, c)), Some(&t)) if s < t => {
                out.push((s, c));
                i += 1;
            }
            (Some(&x), None) => {
                out.push(x);
                i += 1;
            }
            (_, Some(&t)) => {
                out.push((t, u64::from(bc[j])));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}
