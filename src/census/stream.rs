//! Streaming in and out of the census engine: double-buffered reading of a population's id
//! columns (a reader thread fills chunk k+1 while the caller counts chunk k; buffers are reused, so
//! memory is bounded by a few chunks), and [`ConnectionSpill`], which streams the connection table
//! to temporary files as it is found so that it need not stay in memory.

use std::ops::ControlFlow;
use std::sync::mpsc;

use crate::error::Result;
use crate::sonata::EdgePopulation;

/// Number of chunk buffers in flight (one being read, one being counted, one spare).
const BUFFERS: usize = 3;

/// Reads the per-edge synapse multiplicity (bmtk `nsyns`) for a range of edges.
pub type NsynsSource = Box<dyn FnMut(u64, &mut [u64]) -> Result<()> + Send>;

/// One chunk of edges: consecutive rows of the file, or those of them that a census restricted
/// to node sets counts ([`super::filter::EdgeFilter`]; `kept_rows` then says which).
#[derive(Debug, Default)]
pub struct Chunk {
    /// Edge id (row of the file's dataset) of the first row read: a window of the
    /// population's rows ([`EdgePopulation::rows`]) starts past 0.
    pub first_edge: u64,
    /// Rows read from the file for this chunk (with a filter, more than the rows it holds; it
    /// also counts the rows of chunks before it that the filter emptied, which are not handed
    /// on), for progress.
    pub rows: u64,
    /// With a filter: the row (from `first_edge`) of each edge kept.
    pub kept_rows: Option<Vec<u32>>,
    /// `source_node_id` of the rows.
    pub sources: Vec<u64>,
    /// `target_node_id` of the rows.
    pub targets: Vec<u64>,
    /// bmtk `nsyns` of the rows, when requested.
    pub nsyns: Option<Vec<u64>>,
    /// Seconds the reader thread spent reading this chunk (the GPU engine reports them).
    pub read_seconds: f64,
}

impl Chunk {
    /// The edge id (row in the file) of the chunk's edge `i`.
    #[inline]
    pub fn edge_id(&self, i: usize) -> u64 {
        match &self.kept_rows {
            Some(rows) => self.first_edge + u64::from(rows[i]),
            None => self.first_edge + i as u64,
        }
    }
}

/// Streams rows `0..pop.size()` in chunks of `chunk_len`, calling `f` on each in edge order.
///
/// `f` may stop the stream early with `ControlFlow::Break`. Returns the break value, if any.
///
/// # Errors
/// The first read error, or the first error returned by `f`.
pub fn for_each_chunk<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    nsyns: Option<NsynsSource>,
    f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    for_each_chunk_filtered(pop, chunk_len, nsyns, None, f)
}

/// [`for_each_chunk`] handing on only the edges `filter` keeps (every edge without one), in
/// edge order; the reader thread filters, while the caller counts the chunk before. A chunk
/// the filter empties is not handed on (its rows are added to the next one's `rows`).
///
/// # Errors
/// As [`for_each_chunk`].
pub fn for_each_chunk_filtered<B: Send>(
    pop: &EdgePopulation,
    chunk_len: usize,
    mut nsyns: Option<NsynsSource>,
    filter: Option<&super::filter::EdgeFilter>,
    mut f: impl FnMut(&Chunk) -> Result<ControlFlow<B>>,
) -> Result<Option<B>> {
    let total = pop.size();
    // Kept rows are recorded as u32 offsets.
    let chunk_len = chunk_len.clamp(1, 1 << 31);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Chunk>>(BUFFERS);
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        for _ in 0..BUFFERS {
            // The receiver is alive: it is owned by the reader spawned just below.
            let _ = free_tx.send(Chunk::default());
        }
        scope.spawn(move || {
            let mut next = 0u64;
            // Rows (and read time) of chunks the filter emptied, carried to the next chunk
            // handed on, and the emptied chunk's buffers, read into again.
            let (mut skipped, mut skipped_seconds) = (0u64, 0.0);
            let mut held: Option<Chunk> = None;
            while next < total {
                let mut chunk = match held.take() {
                    Some(chunk) => chunk,
                    None => match free_rx.recv() {
                        Ok(chunk) => chunk,
                        Err(_) => return,
                    },
                };
                let started = std::time::Instant::now();
                let n = ((total - next) as usize).min(chunk_len);
                chunk.first_edge = pop.first_row() + next;
                chunk.sources.resize(n, 0);
                chunk.targets.resize(n, 0);
                let mut result = pop
                    .source_ids()
                    .read_range_into(next, &mut chunk.sources)
                    .and_then(|()| pop.target_ids().read_range_into(next, &mut chunk.targets));
                if let (Ok(()), Some(read)) = (&result, nsyns.as_mut()) {
                    let buf = chunk.nsyns.get_or_insert_with(Vec::new);
                    buf.resize(n, 0);
                    result = read(next, buf);
                }
                chunk.rows = skipped + n as u64;
                let last = next + n as u64 >= total;
                if let (Ok(()), Some(filter)) = (&result, filter) {
                    filter.apply(&mut chunk);
                    if chunk.targets.is_empty() && !last {
                        skipped = chunk.rows;
                        skipped_seconds += started.elapsed().as_secs_f64();
                        next += n as u64;
                        held = Some(chunk);
                        continue;
                    }
                }
                chunk.read_seconds = skipped_seconds + started.elapsed().as_secs_f64();
                (skipped, skipped_seconds) = (0, 0.0);
                let failed = result.is_err();
                if full_tx.send(result.map(|()| chunk)).is_err() || failed {
                    return;
                }
                next += n as u64;
            }
        });
        let mut done = 0u64;
        while done < total {
            let chunk = match full_rx.recv() {
                Ok(chunk) => chunk?,
                // The reader stops only after sending an error, which is returned above.
                Err(_) => break,
            };
            done += chunk.rows;
            if chunk.targets.is_empty() {
                // The last chunk, emptied by the filter: nothing to count.
                continue;
            }
            // SIGINT / SIGTERM: stop between chunks; callers' error paths drop their temp files.
            crate::interrupt::check()?;
            match f(&chunk)? {
                ControlFlow::Continue(()) => {
                    let _ = free_tx.send(chunk);
                }
                ControlFlow::Break(b) => return Ok(Some(b)),
            }
        }
        Ok(None)
    })
}

/// Bytes buffered per spill column before a write.
const SPILL_BUFFER: usize = 1 << 20;

/// Elements per block when a spilled column is read back.
const READ_BACK_BLOCK: usize = 1 << 20;

/// The connection table of a census on its way to disk: sources and synapse counts appended in
/// (target, source) order to two files in a temporary folder, so that the table does not stay in
/// memory while the population is counted. [`ConnectionSpill::finish`] gives the
/// [`SpilledConnections`] that the output writer copies into the census file.
#[derive(Debug)]
pub struct ConnectionSpill {
    dir: tempfile::TempDir,
    /// Removed by the forced clean-up of [`crate::interrupt`] too.
    registered: crate::interrupt::Registered,
    sources: std::io::BufWriter<std::fs::File>,
    counts: std::io::BufWriter<std::fs::File>,
    len: u64,
}

/// A spilled connection table, complete. Its folder is removed when it is dropped.
#[derive(Debug)]
pub struct SpilledConnections {
    dir: tempfile::TempDir,
    _registered: crate::interrupt::Registered,
    len: u64,
}

const SOURCES_FILE: &str = "source_node_id.bin";
const COUNTS_FILE: &str = "synapse_count.bin";

fn io_error(path: &std::path::Path, source: std::io::Error) -> crate::error::Error {
    crate::error::Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ConnectionSpill {
    /// Creates the spill folder in `parent` (the system temporary folder when `None`).
    ///
    /// # Errors
    /// I/O errors naming the folder or file.
    pub fn create(parent: Option<&std::path::Path>) -> Result<Self> {
        let parent = parent.map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix("sonata-census-connections-")
            .tempdir_in(&parent)
            .map_err(|e| io_error(&parent, e))?;
        let open = |name: &str| {
            let path = dir.path().join(name);
            std::fs::File::create(&path)
                .map(|f| std::io::BufWriter::with_capacity(SPILL_BUFFER, f))
                .map_err(|e| io_error(&path, e))
        };
        Ok(ConnectionSpill {
            sources: open(SOURCES_FILE)?,
            counts: open(COUNTS_FILE)?,
            registered: crate::interrupt::register(dir.path()),
            dir,
            len: 0,
        })
    }

    /// Appends connections (equal lengths).
    ///
    /// # Errors
    /// Write errors naming the spill file.
    pub fn append(&mut self, sources: &[u64], counts: &[u32]) -> Result<()> {
        use std::io::Write;
        debug_assert_eq!(sources.len(), counts.len());
        self.sources
            .write_all(bytemuck::cast_slice(sources))
            .map_err(|e| io_error(&self.dir.path().join(SOURCES_FILE), e))?;
        self.counts
            .write_all(bytemuck::cast_slice(counts))
            .map_err(|e| io_error(&self.dir.path().join(COUNTS_FILE), e))?;
        self.len += sources.len() as u64;
        Ok(())
    }

    /// Flushes and closes the files.
    ///
    /// # Errors
    /// Write errors naming the spill file.
    pub fn finish(self) -> Result<SpilledConnections> {
        for (w, name) in [(self.sources, SOURCES_FILE), (self.counts, COUNTS_FILE)] {
            let path = self.dir.path().join(name);
            w.into_inner()
                .map_err(|e| io_error(&path, e.into_error()))?;
        }
        Ok(SpilledConnections {
            dir: self.dir,
            _registered: self.registered,
            len: self.len,
        })
    }
}

impl SpilledConnections {
    /// Number of connections.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f(first, block)` on consecutive blocks of the source ids.
    ///
    /// # Errors
    /// Read errors naming the spill file, or the first error of `f`.
    pub fn for_each_source_block(&self, f: impl FnMut(u64, &[u64]) -> Result<()>) -> Result<()> {
        self.read_blocks(SOURCES_FILE, f)
    }

    /// Calls `f(first, block)` on consecutive blocks of the synapse counts.
    ///
    /// # Errors
    /// Read errors naming the spill file, or the first error of `f`.
    pub fn for_each_count_block(&self, f: impl FnMut(u64, &[u32]) -> Result<()>) -> Result<()> {
        self.read_blocks(COUNTS_FILE, f)
    }

    fn read_blocks<T: bytemuck::Pod>(
        &self,
        name: &str,
        mut f: impl FnMut(u64, &[T]) -> Result<()>,
    ) -> Result<()> {
        use std::io::Read;
        let path = self.dir.path().join(name);
        let mut file = std::fs::File::open(&path).map_err(|e| io_error(&path, e))?;
        let mut buf: Vec<T> = Vec::new();
        buf.resize((self.len as usize).min(READ_BACK_BLOCK), T::zeroed());
        let mut first = 0u64;
        while first < self.len {
            let n = ((self.len - first) as usize).min(READ_BACK_BLOCK);
            file.read_exact(bytemuck::cast_slice_mut(&mut buf[..n]))
                .map_err(|e| io_error(&path, e))?;
            f(first, &buf[..n])?;
            first += n as u64;
        }
        Ok(())
    }
}

impl SpilledConnections {
    /// Calls `f(first, sources, counts)` on consecutive blocks of both columns together (equal
    /// lengths), for readers that need each connection whole (the derived tables,
    /// [`super::derived`]). Memory: one block of each column.
    ///
    /// # Errors
    /// Read errors naming the spill file, or the first error of `f`.
    pub fn for_each_block(
        &self,
        mut f: impl FnMut(u64, &[u64], &[u32]) -> Result<()>,
    ) -> Result<()> {
        use std::io::Read;
        let open = |name: &str| {
            let path = self.dir.path().join(name);
            std::fs::File::open(&path)
                .map(|file| (file, path.clone()))
                .map_err(|e| io_error(&path, e))
        };
        let (mut sources_file, sources_path) = open(SOURCES_FILE)?;
        let (mut counts_file, counts_path) = open(COUNTS_FILE)?;
        let block = (self.len as usize).min(READ_BACK_BLOCK);
        let mut sources = vec![0u64; block];
        let mut counts = vec![0u32; block];
        let mut first = 0u64;
        while first < self.len {
            let n = ((self.len - first) as usize).min(READ_BACK_BLOCK);
            sources_file
                .read_exact(bytemuck::cast_slice_mut(&mut sources[..n]))
                .map_err(|e| io_error(&sources_path, e))?;
            counts_file
                .read_exact(bytemuck::cast_slice_mut(&mut counts[..n]))
                .map_err(|e| io_error(&counts_path, e))?;
            f(first, &sources[..n], &counts[..n])?;
            first += n as u64;
        }
        Ok(())
    }
}
