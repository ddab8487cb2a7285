//! The sorted strategy of the CPU engine: one streamed pass over input sorted by target. Each
//! target's edges form one run; whole runs inside a chunk are counted in parallel (rayon), a run
//! that crosses a chunk boundary is carried over to the next chunk. The first decreasing target
//! ends the attempt ([`SortedAttempt::Unsorted`]) and the caller switches to [`super::unsorted`].

use super::*;
use crate::error::Location;

/// Outcome of the sorted attempt.
pub(super) enum SortedAttempt {
    Done(Tables, Option<SpilledConnections>, bool),
    Unsorted,
}

/// Counts complete runs of (supposedly) target-sorted edges into `piece` (reset first). Whether
/// the targets really increase is recorded in the piece.
pub(super) fn count_sorted_segment(
    targets: &[u64],
    sources: &[u64],
    piece: &mut TargetRuns,
    scratch: &mut Vec<u64>,
    at: &Location,
) -> Result<()> {
    piece.reset();
    let mut i = 0;
    while i < targets.len() {
        let t = targets[i];
        let mut j = i + 1;
        while j < targets.len() && targets[j] == t {
            j += 1;
        }
        count_run(t, &sources[i..j], scratch, piece, at)?;
        i = j;
    }
    Ok(())
}

/// Splits `[0, targets.len())` into about `parts` pieces whose boundaries fall between runs.
pub(super) fn run_boundaries(targets: &[u64], parts: usize) -> Vec<usize> {
    let n = targets.len();
    let mut cuts = vec![0];
    for k in 1..parts {
        let mut c = (n * k / parts).max(*cuts.last().unwrap_or(&0));
        while c > 0 && c < n && targets[c] == targets[c - 1] {
            c += 1;
        }
        if c < n && c > *cuts.last().unwrap_or(&0) {
            cuts.push(c);
        }
    }
    cuts.push(n);
    cuts
}

pub(super) fn sorted_census(
    pass: &Pass<'_>,
    nsyns: Option<NsynsSource>,
    nsyns_total: &mut Option<Vec<u64>>,
) -> Result<SortedAttempt> {
    let Pass {
        pop,
        options,
        space,
        progress,
        at,
        ..
    } = *pass;
    let mut builder = pass.table_builder();
    // The run carried over from the previous chunk: (target, its sources so far).
    let mut pending: Option<(u64, Vec<u64>)> = None;
    let mut sources_sorted = true;
    let threads = rayon::current_num_threads().max(1);
    // Pieces and their sort scratch are reused chunk after chunk.
    let mut pieces: Vec<(TargetRuns, Vec<u64>)> = Vec::new();
    let mut single = TargetRuns::default();
    let mut nsyns_acc: Vec<u64> = Vec::new();
    let with_nsyns = nsyns.is_some();
    let broke = for_each_chunk_filtered(
        pop,
        options.chunk_len,
        nsyns,
        options.edge_filter.as_deref(),
        |chunk: &Chunk| {
            let (targets, sources) = (&chunk.targets[..], &chunk.sources[..]);
            // An unsorted file almost always shows it in its first chunk: one quick scan spares
            // counting a chunk of one-edge runs before giving up (15 ms of a 0.2 s shuffled census).
            if chunk.first_edge == pop.first_row() && targets.windows(2).any(|w| w[1] < w[0]) {
                return Ok(ControlFlow::Break(()));
            }
            // Continue the run carried over from the previous chunk.
            let mut start = 0;
            if let Some((t, run)) = pending.as_mut() {
                start = targets.iter().position(|x| x != t).unwrap_or(targets.len());
                run.extend_from_slice(&sources[..start]);
                if start == targets.len() {
                    progress.inc(chunk.rows);
                    return Ok(ControlFlow::Continue(()));
                }
                if targets[start] < *t {
                    return Ok(ControlFlow::Break(()));
                }
            }
            // The last run may continue in the next chunk: carry it.
            let last_t = targets[targets.len() - 1];
            let mut end = targets.len();
            while end > start && targets[end - 1] == last_t {
                end -= 1;
            }
            let (mid_t, mid_s) = (&targets[start..end], &sources[start..end]);
            let cuts = run_boundaries(mid_t, threads * 4);
            pieces.resize_with(cuts.len() - 1, Default::default);
            pieces
                .par_iter_mut()
                .zip(cuts.par_windows(2))
                .try_for_each(|((piece, scratch), w)| {
                    count_sorted_segment(&mid_t[w[0]..w[1]], &mid_s[w[0]..w[1]], piece, scratch, at)
                })?;
            // Sorted by target iff every piece's targets increase and so do the pieces'.
            let mut previous = pending.as_ref().map(|p| p.0);
            for (piece, _) in &pieces {
                let (Some(first), Some(last)) = (piece.first_target(), piece.last_target()) else {
                    continue;
                };
                if !piece.targets_increasing || previous.is_some_and(|p| p >= first) {
                    return Ok(ControlFlow::Break(()));
                }
                previous = Some(last);
            }
            if previous.is_some_and(|p| p >= last_t) {
                return Ok(ControlFlow::Break(()));
            }
            if let Some(limit) = space.n_targets
                && last_t >= limit
            {
                return Err(first_target_beyond(chunk, limit, space, at));
            }
            if let Some((t, run)) = pending.take() {
                single.reset();
                count_run(t, &run, &mut Vec::new(), &mut single, at)?;
                sources_sorted &= single.sources_sorted;
                builder.push(&single)?;
            }
            for (piece, _) in &pieces {
                sources_sorted &= piece.sources_sorted;
                builder.push(piece)?;
            }
            add_nsyns(&mut nsyns_acc, targets, chunk.nsyns.as_deref());
            pending = Some((last_t, sources[end..].to_vec()));
            progress.inc(chunk.rows);
            Ok(ControlFlow::Continue(()))
        },
    )?;
    if broke.is_some() {
        return Ok(SortedAttempt::Unsorted);
    }
    if let Some((t, run)) = pending.take() {
        single.reset();
        count_run(t, &run, &mut Vec::new(), &mut single, at)?;
        sources_sorted &= single.sources_sorted;
        builder.push(&single)?;
    }
    let n_targets = space.n_targets.unwrap_or(builder.synapses.len() as u64);
    if with_nsyns {
        *nsyns_total = Some(nsyns_acc);
    }
    let (tables, spilled) = builder.finish(n_targets)?;
    Ok(SortedAttempt::Done(tables, spilled, sources_sorted))
}
