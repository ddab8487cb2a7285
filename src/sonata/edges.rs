//! Edge files, edge populations and their id columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5::types::TypeDescriptor;

use super::bulk::{plan_blocks, read_range_into};
use super::direct::{self, DirectColumn};
use super::schema;
use crate::error::{Error, H5Context, Location, Result};

/// An open SONATA edge file (`/edges/<population>/...`).
#[derive(Debug, Clone)]
pub struct EdgeFile {
    path: PathBuf,
    file: hdf5::File,
    /// The same file opened by the OS, for id column reads past HDF5 ([`super::direct`]); one
    /// descriptor shared by every column. `None` when it cannot be opened (reads go through
    /// HDF5).
    raw: Option<Arc<std::fs::File>>,
}

impl EdgeFile {
    /// Opens `path` read-only.
    ///
    /// HDF5 file locking is left as the environment sets it (`HDF5_USE_FILE_LOCKING`); readers
    /// of one file from several processes work with the default.
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file does not exist or cannot be read, [`Error::NotHdf5`]
    /// when it is not an HDF5 file (empty, truncated, another format).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = open_hdf5(&path)?;
        let raw = std::fs::File::open(&path).ok().map(Arc::new);
        Ok(EdgeFile { path, file, raw })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the populations a command counts: those `asked`, in order and each once, or every
    /// population of the file when none is asked. Every one is opened before any counting, so
    /// that a typo in the last name fails before hours of work; those that fail to open are
    /// kept with their errors ([`ChosenPopulations::check`]).
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the file has no edge population (and none is asked).
    pub fn choose_populations(&self, asked: &[String]) -> Result<ChosenPopulations> {
        let names = if asked.is_empty() {
            let all = self.population_names()?;
            if all.is_empty() {
                return Err(Error::invalid(
                    Location::file(&self.path).dataset("/edges"),
                    "the file has no edge population",
                ));
            }
            all
        } else {
            let mut seen: Vec<String> = Vec::new();
            for n in asked {
                if !seen.contains(n) {
                    seen.push(n.clone());
                }
            }
            seen
        };
        let mut chosen = ChosenPopulations {
            opened: Vec::new(),
            broken: Vec::new(),
            named: !asked.is_empty(),
        };
        for n in &names {
            match self.population(n) {
                Ok(pop) => chosen.opened.push(pop),
                Err(e) => chosen.broken.push((n.clone(), e)),
            }
        }
        Ok(chosen)
    }

    /// The underlying HDF5 file.
    pub fn hdf5(&self) -> &hdf5::File {
        &self.file
    }

    /// Names of the edge populations, sorted.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the file has no `/edges` group.
    pub fn population_names(&self) -> Result<Vec<String>> {
        let at = Location::file(&self.path).dataset("/edges");
        if !self.file.link_exists(schema::EDGES_GROUP) {
            // `/edges` is a group, not a dataset: the location is the file, and the message
            // says what the file is instead when it can tell.
            return Err(Error::invalid(
                Location::file(&self.path),
                format!(
                    "not a SONATA edge file: no '/edges' group{}",
                    what_file_is(&self.file)
                ),
            ));
        }
        let edges = self.file.group(schema::EDGES_GROUP).at(&at)?;
        let mut names = Vec::new();
        for name in crate::sonata::column::ordered_member_names(&edges).at(&at)? {
            if edges.group(&name).is_ok() {
                // A name damaged into invalid UTF-8 is listed with U+FFFD; opening it then fails.
                names.push(super::column::valid_utf8(name));
            }
        }
        names.sort();
        Ok(names)
    }

    /// Opens the population `name`.
    ///
    /// # Errors
    /// [`Error::PopulationNotFound`] when there is no such population; [`Error::InvalidData`] when
    /// its id columns are missing, not 1-D integers, or of different lengths.
    pub fn population(&self, name: &str) -> Result<EdgePopulation> {
        let available = self.population_names()?;
        if !available.iter().any(|n| n == name) {
            return Err(Error::PopulationNotFound {
                at: Location::file(&self.path),
                name: name.to_string(),
                available,
            });
        }
        let at = Location::file(&self.path).population(name);
        let group = self
            .file
            .group(&format!("{}/{name}", schema::EDGES_GROUP))
            .at(&at)?;
        if group.member_names().is_ok_and(|m| m.is_empty()) {
            return Err(Error::invalid(
                at,
                "the population's group is empty (no source_node_id, target_node_id)",
            ));
        }
        let source = IdColumn::open(&group, schema::SOURCE_NODE_ID, &at)?
            .with_direct_reads(self.raw.as_ref());
        let target = IdColumn::open(&group, schema::TARGET_NODE_ID, &at)?
            .with_direct_reads(self.raw.as_ref());
        if source.len != target.len {
            return Err(Error::invalid(
                at.clone(),
                format!(
                    "'{}' has {} but '{}' has {}",
                    schema::SOURCE_NODE_ID,
                    crate::words::plural(source.len, "row"),
                    schema::TARGET_NODE_ID,
                    target.len
                ),
            ));
        }
        Ok(EdgePopulation {
            name: name.to_string(),
            size: source.len,
            all_rows: source.len,
            source_population: source.node_population.clone(),
            target_population: target.node_population.clone(),
            file: self.clone(),
            group,
            at,
            source,
            target,
        })
    }
}

/// What an HDF5 file without `/edges` looks like, for the message that refuses it: a SONATA
/// node file, or a census table file (`count`'s output); empty when neither.
fn what_file_is(file: &hdf5::File) -> &'static str {
    if file.link_exists("nodes") {
        return "; this is a SONATA node file (/nodes): use `sonata-census nodes`";
    }
    let census_group = |name: &String| {
        file.group(name)
            .is_ok_and(|g| g.link_exists("target_synapse_count") && g.link_exists("connections"))
    };
    if crate::sonata::column::ordered_member_names(file)
        .is_ok_and(|names| names.iter().any(census_group))
    {
        return "; this is a sonata-census table file: use `sonata-census report`";
    }
    ""
}

/// Opens an HDF5 file read-only, telling "missing", "unreadable" and "not HDF5" apart.
pub(crate) fn open_hdf5(path: &Path) -> Result<hdf5::File> {
    // Check with the OS first: HDF5's own message for a missing file is long and unclear. The
    // kind first: opening a named pipe waits for a writer (forever, for `info FIFO`).
    let meta = std::fs::metadata(path).map_err(|source| Error::input_file(path, source))?;
    if let Some(kind) = not_a_file(&meta) {
        return Err(Error::input_file(
            path,
            std::io::Error::other(format!("is {kind}, not a file")),
        ));
    }
    if let Err(source) = std::fs::File::open(path) {
        return Err(Error::input_file(path, source));
    }
    // HDF5 says "file signature not found" for an empty file and for any other format alike.
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(Error::NotHdf5 {
            at: Location::file(path),
            reason: "empty file: 0 bytes".into(),
        });
    }
    hdf5::File::open(path).map_err(|e| {
        let text = e.to_string();
        let reason = if text.contains("file signature not found") {
            "not an HDF5 file: no HDF5 signature".to_string()
        } else {
            first_line(&text)
        };
        Error::NotHdf5 {
            at: Location::file(path),
            reason,
        }
    })
}

/// What `meta` is when it is not a regular file (HDF5 reads files at offsets), for messages;
/// character devices are let through (`/dev/null` is then "empty").
fn not_a_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        None
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// Storage type of an id column, as found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDtype {
    /// An unsigned integer of this many bytes.
    Unsigned(usize),
    /// A signed integer of this many bytes (negative values are rejected when read).
    Signed(usize),
}

impl std::fmt::Display for IdDtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdDtype::Unsigned(n) => write!(f, "uint{}", n * 8),
            IdDtype::Signed(n) => write!(f, "int{}", n * 8),
        }
    }
}

/// One of a population's node id columns (`source_node_id` or `target_node_id`).
#[derive(Debug, Clone)]
pub struct IdColumn {
    dataset: hdf5::Dataset,
    at: Location,
    len: u64,
    dtype: IdDtype,
    node_population: Option<String>,
    limit: Option<IdLimit>,
    /// Reads past HDF5's lock, when the column's storage allows them ([`super::direct`]).
    direct: Option<Arc<DirectColumn>>,
    /// The dataset row of this column's row 0: non-zero for a window of the population's rows
    /// ([`EdgePopulation::rows`], one shard's edges); `len` then counts the window's rows.
    first_row: u64,
}

/// An exclusive bound on the ids of a column, checked on every read (see
/// [`EdgePopulation::with_target_id_limit`]).
#[derive(Debug, Clone)]
struct IdLimit {
    bound: u64,
    reason: String,
}

impl IdColumn {
    /// Opens and validates `<group>/<name>` (1-D, integer).
    pub(crate) fn open(group: &hdf5::Group, name: &str, pop_at: &Location) -> Result<Self> {
        let at = pop_at.dataset(name);
        if !group.link_exists(name) {
            return Err(Error::invalid(at, "dataset is missing"));
        }
        let dataset = group
            .dataset(name)
            .map_err(|_| Error::invalid(at.clone(), "is not a dataset"))?;
        let shape = dataset.shape();
        if shape.len() != 1 {
            return Err(Error::invalid(
                at,
                format!("must be 1-D but has shape {shape:?}"),
            ));
        }
        let descriptor = dataset.dtype().and_then(|t| t.to_descriptor()).at(&at)?;
        let dtype = match descriptor {
            TypeDescriptor::Unsigned(size) => IdDtype::Unsigned(size as usize),
            TypeDescriptor::Integer(size) => IdDtype::Signed(size as usize),
            other => {
                return Err(Error::invalid(
                    at,
                    format!(
                        "node ids must be integers but the dataset holds {}",
                        describe_type(&other)
                    ),
                ));
            }
        };
        check_storage(&dataset, shape[0] as u64, dtype, &at)?;
        // Compressed columns escape the byte count above: their chunks must cover every row.
        super::column::check_stored_rows(
            &dataset,
            shape[0] as u64,
            super::column::Class::UInt,
            &at,
        )?;
        let node_population = read_string_attr(&dataset, schema::NODE_POPULATION_ATTR, &at)?;
        Ok(IdColumn {
            len: shape[0] as u64,
            dataset,
            at,
            dtype,
            node_population,
            limit: None,
            direct: None,
            first_row: 0,
        })
    }

    /// This column with reads served by [`super::direct`] when `raw` (its file, opened by the
    /// OS) and the dataset's storage allow it; unchanged otherwise.
    fn with_direct_reads(mut self, raw: Option<&Arc<std::fs::File>>) -> Self {
        self.direct = raw
            .and_then(|file| direct::probe_file(&self.dataset, Arc::clone(file)))
            .map(Arc::new);
        self
    }

    /// Whether reads bypass HDF5 ([`super::direct`]); for tests and benchmarks.
    #[doc(hidden)]
    pub fn reads_directly(&self) -> bool {
        self.direct.is_some()
    }

    /// This column with reads through HDF5 only; for tests and benchmarks that compare the two.
    #[doc(hidden)]
    #[must_use]
    pub fn without_direct_reads(&self) -> Self {
        IdColumn {
            direct: None,
            ..self.clone()
        }
    }

    /// Number of rows (of the window, for a window of the population's rows).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The dataset row of this column's row 0 (0 unless a window, [`EdgePopulation::rows`]).
    pub fn first_row(&self) -> u64 {
        self.first_row
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Storage type in the file.
    pub fn dtype(&self) -> IdDtype {
        self.dtype
    }

    /// The `node_population` attribute, when present.
    pub fn node_population(&self) -> Option<&str> {
        self.node_population.as_deref()
    }

    /// Where this column is (file, population, dataset), for messages.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// The HDF5 dataset.
    pub fn dataset(&self) -> &hdf5::Dataset {
        &self.dataset
    }

    /// Reads rows `start .. start + out.len()` as u64 into `out`.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the first negative id when the column is signed and holds
    /// one; [`Error::Hdf5`] when the read fails.
    pub fn read_range_into(&self, start: u64, out: &mut [u64]) -> Result<()> {
        // A window's rows are read, and named in messages, as the dataset's rows.
        let start = self.first_row + start;
        self.read_unchecked_into(start, out)?;
        if let Some(limit) = &self.limit
            && out.iter().fold(0, |m, &v| m.max(v)) >= limit.bound
        {
            let pos = out.iter().position(|&v| v >= limit.bound).unwrap_or(0);
            return Err(Error::invalid(
                self.at.clone(),
                format!(
                    "node id {} at row {} {}",
                    out[pos],
                    start + pos as u64,
                    limit.reason
                ),
            ));
        }
        Ok(())
    }

    fn read_unchecked_into(&self, start: u64, out: &mut [u64]) -> Result<()> {
        // The fast path gives what HDF5 gives (signed values as i64 bit patterns); when it
        // declines, HDF5 reads the range and reports any error in its words.
        let read_directly = self
            .direct
            .as_ref()
            .is_some_and(|d| d.read_into(start, out).is_ok());
        match self.dtype {
            IdDtype::Unsigned(_) if read_directly => Ok(()),
            IdDtype::Unsigned(_) => read_range_into(&self.dataset, start, out).at(&self.at),
            IdDtype::Signed(_) => {
                let signed: &mut [i64] = bytemuck::cast_slice_mut(out);
                if !read_directly {
                    read_range_into(&self.dataset, start, signed).at(&self.at)?;
                }
                if let Some(pos) = signed.iter().position(|&v| v < 0) {
                    return Err(Error::invalid(
                        self.at.clone(),
                        format!(
                            "negative node id {} at row {}",
                            signed[pos],
                            start + pos as u64
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Reads the rows of `selection` as u64, in selection order.
    ///
    /// Nearby ranges are read as one block ([`super::bulk::MERGE_GAP_BYTES`]) and split in
    /// memory, as libsonata's `readCanonicalSelection` does.
    ///
    /// # Errors
    /// As [`IdColumn::read_range_into`], and [`Error::InvalidData`] when a range is past the end.
    pub fn read_selection(&self, selection: &crate::selection::Selection) -> Result<Vec<u64>> {
        // The selection's size comes from the file (index ranges): allocate fallibly.
        let rows = selection.flat_size();
        let mut out: Vec<u64> = Vec::new();
        usize::try_from(rows)
            .ok()
            .and_then(|n| out.try_reserve_exact(n).ok())
            .ok_or_else(|| {
                Error::invalid(
                    self.at.clone(),
                    format!(
                        "a selection of {} does not fit in memory",
                        crate::words::plural(rows, "row")
                    ),
                )
            })?;
        out.resize(rows as usize, 0);
        let mut buffer = Vec::new();
        let mut written = 0usize;
        // HDF5 pays per call, so nearby ranges share one read (libsonata's choice); a pread of
        // a contiguous column pays per byte, so only ranges a page apart or less are merged.
        let gap = if self.direct.as_ref().is_some_and(|d| d.is_contiguous()) {
            DIRECT_MERGE_GAP_ROWS
        } else {
            MERGE_GAP_ROWS_U64
        };
        for block in plan_blocks(selection.ranges(), gap, MAX_BLOCK_ROWS_U64) {
            if block.end > self.len {
                // (Selections are of whole populations: never of a window.)
                return Err(Error::invalid(
                    self.at.clone(),
                    format!(
                        "selection reaches row {} but the dataset has {}",
                        block.end,
                        crate::words::plural(self.len, "row")
                    ),
                ));
            }
            buffer.resize((block.end - block.start) as usize, 0);
            self.read_range_into(block.start, &mut buffer)?;
            for (a, b) in block.parts {
                let (a, b) = ((a - block.start) as usize, (b - block.start) as usize);
                out[written..written + (b - a)].copy_from_slice(&buffer[a..b]);
                written += b - a;
            }
        }
        Ok(out)
    }
}

const MERGE_GAP_ROWS_U64: u64 = super::bulk::MERGE_GAP_BYTES / 8;
/// Gap below which [`IdColumn::read_selection`] merges ranges of a column read by `pread`: 16
/// KiB of u64, about what one more system call costs in copying (measured: neurodamus's
/// dry-run pattern of 100 random targets on 1e7 sorted edges read whole columns with the
/// 4 MiB gap, 120 ms per call instead of 1).
const DIRECT_MERGE_GAP_ROWS: u64 = 2048;
/// Largest single read of [`IdColumn::read_selection`] (16 MiB of u64).
const MAX_BLOCK_ROWS_U64: u64 = 1 << 21;

/// Refuses an id column whose file holds fewer bytes than its rows need: a dataset declared
/// with a large extent but never (or only partly) written reads as fill values (zeros), which
/// would be counted as edges of node 0, after reading terabytes of nothing. Datasets with filters
/// (compressed) can only be checked for holding nothing at all; virtual datasets are not checked.
fn check_storage(dataset: &hdf5::Dataset, len: u64, dtype: IdDtype, at: &Location) -> Result<()> {
    let (IdDtype::Unsigned(size) | IdDtype::Signed(size)) = dtype;
    let needed = len.saturating_mul(size as u64);
    if needed == 0 || dataset.layout() == hdf5::dataset::Layout::Virtual {
        return Ok(());
    }
    let stored = dataset.storage_size();
    let filtered = !dataset.filters().is_empty();
    if stored == 0 || (!filtered && stored < needed) {
        return Err(Error::invalid(
            at.clone(),
            format!(
                "declares {len} rows ({needed} bytes) but the file stores {stored} bytes of them: \
                 the data was never written or the file is incomplete"
            ),
        ));
    }
    Ok(())
}

/// A short human name for an HDF5 type, for messages.
pub(crate) fn describe_type(t: &TypeDescriptor) -> String {
    match t {
        TypeDescriptor::Integer(s) => format!("int{}", *s as usize * 8),
        TypeDescriptor::Unsigned(s) => format!("uint{}", *s as usize * 8),
        TypeDescriptor::Float(s) => format!("float{}", *s as usize * 8),
        TypeDescriptor::Boolean => "booleans".into(),
        TypeDescriptor::Enum(_) => "an HDF5 enumeration".into(),
        TypeDescriptor::Compound(_) => "a compound type".into(),
        TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_)
        | TypeDescriptor::VarLenAscii
        | TypeDescriptor::VarLenUnicode => "strings".into(),
        _ => "a non-numeric type".into(),
    }
}

/// Reads a string attribute (variable- or fixed-length, ASCII or UTF-8); `None` when absent or
/// not a string.
///
/// # Errors
/// [`Error::InvalidData`] when the file's global heap, where variable-length strings are kept,
/// is damaged in a way HDF5 would hang on ([`super::global_heap`]).
pub(crate) fn read_string_attr(
    obj: &hdf5::Location,
    name: &str,
    at: &Location,
) -> Result<Option<String>> {
    let Ok(attr) = obj.attr(name) else {
        return Ok(None);
    };
    let Some(descriptor) = attr.dtype().ok().and_then(|t| t.to_descriptor().ok()) else {
        return Ok(None);
    };
    if matches!(
        descriptor,
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii
    ) {
        super::global_heap::check(at)?;
    }
    Ok(match descriptor {
        // The crate does not check the bytes of variable-length strings: decode them here.
        TypeDescriptor::VarLenUnicode => attr
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .ok()
            .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned()),
        TypeDescriptor::VarLenAscii => attr
            .read_scalar::<hdf5::types::VarLenAscii>()
            .ok()
            .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned()),
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => {
            // Fixed-length strings: read raw bytes and trim the padding.
            // Its size (type size x elements) comes from the file: a scalar or a few values
            // of a short string, or the attribute is damaged.
            let elements = attr.space().map_or(0, |s| s.size());
            let bytes = attr
                .dtype()
                .map_or(0, |t| t.size())
                .saturating_mul(elements);
            if elements != 1 || bytes > MAX_STRING_ATTR_BYTES {
                return Ok(None);
            }
            let bytes: Vec<u8> = attr.as_reader().read_raw::<u8>().ok().unwrap_or_default();
            let s = String::from_utf8_lossy(&bytes);
            Some(s.trim_end_matches(['\0', ' ']).to_string())
        }
        _ => None,
    })
}

/// Longest fixed-length string attribute read (a population name).
const MAX_STRING_ATTR_BYTES: usize = 1 << 16;

/// The populations of [`EdgeFile::choose_populations`]: those that opened, in order, and those
/// that did not, with their errors.
pub struct ChosenPopulations {
    /// The populations that opened.
    pub opened: Vec<EdgePopulation>,
    /// The names that did not open, with why.
    pub broken: Vec<(String, Error)>,
    /// Whether the caller named the populations (then none is left out behind its back).
    pub named: bool,
}

impl ChosenPopulations {
    /// The note for a run that cannot count the populations `bad`: how to leave them out by
    /// naming the others (`others` writes their names as the caller's own option does). `None`
    /// when the caller named the populations, or when no other one is left.
    pub fn leave_out_note(
        &self,
        bad: &[&str],
        others: impl FnOnce(&[&str]) -> String,
    ) -> Option<String> {
        let good: Vec<&str> = self
            .opened
            .iter()
            .map(EdgePopulation::name)
            .filter(|n| !bad.contains(n))
            .collect();
        if self.named || good.is_empty() {
            return None;
        }
        let bad: Vec<String> = bad.iter().map(|n| format!("'{n}'")).collect();
        Some(format!(
            "to leave {} out, name the others: {}",
            bad.join(", "),
            others(&good)
        ))
    }

    /// The error of the first population that did not open, with the note of
    /// [`ChosenPopulations::leave_out_note`] for all of them; `Ok` when every one opened.
    ///
    /// # Errors
    /// That population's error.
    pub fn check(&mut self, others: impl FnOnce(&[&str]) -> String) -> Result<()> {
        if self.broken.is_empty() {
            return Ok(());
        }
        let bad: Vec<String> = self.broken.iter().map(|(n, _)| n.clone()).collect();
        let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
        let note = self.leave_out_note(&bad, others);
        let (_, first) = self.broken.swap_remove(0);
        Err(match note {
            Some(note) => first.with_note(&note),
            None => first,
        })
    }
}

/// One SONATA edge population: `/edges/<name>` of an [`EdgeFile`].
#[derive(Debug, Clone)]
pub struct EdgePopulation {
    name: String,
    size: u64,
    /// Every edge of the population, also for a window of its rows ([`EdgePopulation::rows`]).
    all_rows: u64,
    source_population: Option<String>,
    target_population: Option<String>,
    file: EdgeFile,
    group: hdf5::Group,
    at: Location,
    source: IdColumn,
    target: IdColumn,
}

impl EdgePopulation {
    /// The population's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of edges.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The source node population (`node_population` of `source_node_id`), when recorded.
    pub fn source_population(&self) -> Option<&str> {
        self.source_population.as_deref()
    }

    /// The target node population (`node_population` of `target_node_id`), when recorded.
    pub fn target_population(&self) -> Option<&str> {
        self.target_population.as_deref()
    }

    /// The file this population lives in.
    pub fn file(&self) -> &EdgeFile {
        &self.file
    }

    /// The population's HDF5 group.
    pub fn group(&self) -> &hdf5::Group {
        &self.group
    }

    /// Where this population is, for messages.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// The `source_node_id` column.
    pub fn source_ids(&self) -> &IdColumn {
        &self.source
    }

    /// The `target_node_id` column.
    pub fn target_ids(&self) -> &IdColumn {
        &self.target
    }

    /// This population with every read of `target_node_id` refusing ids `>= bound` with
    /// [`Error::InvalidData`] "node id X at row R {reason}". The census sets it when the largest
    /// target id fixes the length of its tables, so a corrupt id (2^40, 2^64 - 1) is an error
    /// before any engine allocates tables for it.
    pub fn with_target_id_limit(&self, bound: u64, reason: impl Into<String>) -> EdgePopulation {
        let mut pop = self.clone();
        pop.target.limit = Some(IdLimit {
            bound,
            reason: reason.into(),
        });
        pop
    }

    /// The population's rows `start..end` (clamped to its size) as a population of their own:
    /// its `size()` is the window's, reads of row `r` read dataset row `start + r`, and
    /// messages name dataset rows. What one shard of a sharded census counts
    /// ([`crate::census::shard`]); a window of a window is of the dataset's rows.
    #[must_use]
    pub fn rows(&self, start: u64, end: u64) -> EdgePopulation {
        let base = self.source.first_row;
        let end = end.min(self.size);
        let start = start.min(end);
        let mut pop = self.clone();
        for column in [&mut pop.source, &mut pop.target] {
            column.first_row = base + start;
            column.len = end - start;
        }
        pop.size = end - start;
        pop
    }

    /// Every edge of the population: its `size()`, or for a window of its rows
    /// ([`EdgePopulation::rows`]) the rows of the whole (the length of its attribute columns).
    pub fn all_rows(&self) -> u64 {
        self.all_rows
    }

    /// The dataset row of this population's row 0: non-zero for a window
    /// ([`EdgePopulation::rows`]).
    pub fn first_row(&self) -> u64 {
        self.source.first_row
    }

    /// Streams both id columns in chunks of at most `chunk_len` rows into reused buffers.
    pub fn id_chunks(&self, chunk_len: usize) -> IdChunks<'_> {
        IdChunks::new(self, 0, self.size, chunk_len)
    }

    /// Streams rows `start..end` of both id columns in chunks of at most `chunk_len` rows.
    pub fn id_chunks_in(&self, start: u64, end: u64, chunk_len: usize) -> IdChunks<'_> {
        IdChunks::new(self, start, end.min(self.size), chunk_len)
    }
}

/// One chunk of edges: rows `first_edge .. first_edge + len`.
#[derive(Debug)]
pub struct IdChunk<'a> {
    /// Edge id of the first row.
    pub first_edge: u64,
    /// `source_node_id` of the rows.
    pub sources: &'a [u64],
    /// `target_node_id` of the rows.
    pub targets: &'a [u64],
}

/// Streaming reader of a population's id columns (see [`EdgePopulation::id_chunks`]).
#[derive(Debug)]
pub struct IdChunks<'p> {
    population: &'p EdgePopulation,
    next: u64,
    end: u64,
    chunk_len: usize,
    sources: Vec<u64>,
    targets: Vec<u64>,
}

impl<'p> IdChunks<'p> {
    fn new(population: &'p EdgePopulation, start: u64, end: u64, chunk_len: usize) -> Self {
        IdChunks {
            population,
            next: start.min(end),
            end,
            chunk_len: chunk_len.max(1),
            sources: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Reads the next chunk; `Ok(None)` at the end.
    ///
    /// # Errors
    /// See [`IdColumn::read_range_into`].
    pub fn next_chunk(&mut self) -> Result<Option<IdChunk<'_>>> {
        if self.next >= self.end {
            return Ok(None);
        }
        let n = ((self.end - self.next) as usize).min(self.chunk_len);
        self.sources.resize(n, 0);
        self.targets.resize(n, 0);
        self.population
            .source
            .read_range_into(self.next, &mut self.sources)?;
        self.population
            .target
            .read_range_into(self.next, &mut self.targets)?;
        let first_edge = self.next;
        self.next += n as u64;
        Ok(Some(IdChunk {
            first_edge,
            sources: &self.sources,
            targets: &self.targets,
        }))
    }
}
