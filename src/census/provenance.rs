//! What a census table was made from, recorded in its population group so that the table file
//! can stand in for its edge file (the readers of [`super::lookup`]: `query --tables`, Python's
//! `SonataReader(..., census_tables=)`) and refuse when it belongs to another input or is of a
//! kind that cannot answer.
//!
//! The record is deterministic (no paths, no times: outputs stay byte-identical run to run and
//! from any working folder): the edge file's name and size, and a fingerprint of the values of
//! the population's id columns. The edge count and population name are recorded beside it by
//! the writer anyway ([`super::schema::EDGE_COUNT`], the group's name).

use std::path::Path;

use crate::error::{Error, Result};
use crate::sonata::{EdgePopulation, IdColumn};

/// Rows hashed at each end of each id column: 1 MiB of u64 values.
pub const FINGERPRINT_ROWS: u64 = 1 << 17;

/// What the tables of a population group count: only a full census answers neurodamus's
/// `get_counts` / `get_conn_counts` for every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Every edge of the population, afferent tables (what `count` writes).
    Full,
    /// Only the edges between node sets (issue 15's `--target-node-set`).
    Restricted,
    /// Efferent tables only: no per-target tables.
    Efferent,
    /// One shard of the edges (issue 16's `--shard`): to be merged.
    Partial,
}

impl TableKind {
    /// The value of the [`super::schema::TABLE_KIND`] attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Full => "full",
            TableKind::Restricted => "restricted",
            TableKind::Efferent => "efferent",
            TableKind::Partial => "partial",
        }
    }

    /// The kind of a count's tables: [`TableKind::Restricted`] when node sets restrict it
    /// (whatever its direction: the `direction` attribute says which tables it has), else
    /// [`TableKind::Efferent`] for efferent tables only, else [`TableKind::Full`].
    pub fn of(restricted: bool, direction: super::derived::Direction) -> Self {
        if restricted {
            TableKind::Restricted
        } else if direction.afferent() {
            TableKind::Full
        } else {
            TableKind::Efferent
        }
    }

    /// The kind an attribute value names; `None` for a value this version does not know.
    pub fn parse(value: &str) -> Option<Self> {
        [
            TableKind::Full,
            TableKind::Restricted,
            TableKind::Efferent,
            TableKind::Partial,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }

    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            TableKind::Full => "a full census",
            TableKind::Restricted => "a census restricted to node sets",
            TableKind::Efferent => "an efferent-only census",
            TableKind::Partial => "a partial (shard) census",
        }
    }
}

/// The input a population's tables were counted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The edge file's name (its last path component).
    pub input_file: String,
    /// The edge file's size in bytes.
    pub input_size: u64,
    /// [`fingerprint`] of the population's id columns.
    pub id_fingerprint: String,
    /// What the tables count.
    pub kind: TableKind,
}

impl Provenance {
    /// The record of `pop` (whose tables are of `kind`): its file's name and size and the
    /// fingerprint of its id columns (reads up to 4 MiB).
    ///
    /// # Errors
    /// [`Error::InputFile`] when the file's size cannot be read; read errors of the id columns.
    pub fn of(pop: &EdgePopulation, kind: TableKind) -> Result<Self> {
        let path = pop.file().path();
        let input_size = std::fs::metadata(path)
            .map_err(|e| Error::input_file(path, e))?
            .len();
        Ok(Provenance {
            input_file: file_name(path),
            input_size,
            id_fingerprint: fingerprint(pop)?,
            kind,
        })
    }

    /// Why the tables recorded as `self` (in `tables`, population `population`) are not those of
    /// `input` (the record of the edge population opened), or `None` when they are.
    pub fn mismatch(&self, input: &Provenance) -> Option<String> {
        if self.input_file != input.input_file {
            let same_data =
                self.input_size == input.input_size && self.id_fingerprint == input.id_fingerprint;
            Some(format!(
                "they were counted from a file named {:?}{}",
                self.input_file,
                if same_data {
                    " (of the same size and id fingerprint: a renamed copy? the tables record \
                     the name)"
                } else {
                    ""
                }
            ))
        } else if self.input_size != input.input_size {
            Some(format!(
                "they were counted from a file of {} bytes, this one has {}",
                self.input_size, input.input_size
            ))
        } else if self.id_fingerprint != input.id_fingerprint {
            Some("the id columns' fingerprints differ (the edges changed)".to_string())
        } else {
            None
        }
    }
}

/// The last component of `path`, as text (the whole path when it has none).
fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// The fingerprint of `pop`'s id columns: XXH3-128, as 32 hex digits, of the edge count then,
/// for `source_node_id` and `target_node_id` in turn, the values (as little-endian u64) of the
/// first and the last [`FINGERPRINT_ROWS`] rows (overlapping when the column is shorter). It
/// depends on the values only, not on their type or storage, and catches a changed edge count
/// or edges changed near either end; it is no checksum of the middle rows.
///
/// # Errors
/// Read errors of the id columns.
pub fn fingerprint(pop: &EdgePopulation) -> Result<String> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&pop.size().to_le_bytes());
    let mut buf = Vec::new();
    for column in [pop.source_ids(), pop.target_ids()] {
        hash_ends(column, &mut hasher, &mut buf)?;
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

fn hash_ends(
    column: &IdColumn,
    hasher: &mut xxhash_rust::xxh3::Xxh3,
    buf: &mut Vec<u64>,
) -> Result<()> {
    let len = column.len();
    let n = len.min(FINGERPRINT_ROWS);
    buf.resize(n as usize, 0);
    for start in [0, len - n] {
        column.read_range_into(start, buf)?;
        for v in buf.iter_mut() {
            *v = v.to_le();
        }
        hasher.update(bytemuck::cast_slice(buf));
    }
    Ok(())
}

/// How a restricted census (table kind [`TableKind::Restricted`]) was restricted: recorded
/// beside the [`Provenance`] as the attributes of [`super::schema`] name them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restriction {
    /// The node set the targets were restricted to.
    pub target_node_set: Option<String>,
    /// The node set the sources were restricted to.
    pub source_node_set: Option<String>,
    /// The names (last path components) of the node-sets files the sets were read from, in the
    /// order they were laid over each other.
    pub node_sets_files: Vec<String>,
    /// Every edge of the population (the census's `edge_count` counts those counted).
    pub population_edge_count: u64,
}

impl Restriction {
    /// The [`super::schema::NODE_SETS_FILE`] attribute's value: the names `; `-separated.
    pub fn node_sets_file_text(&self) -> String {
        self.node_sets_files.join("; ")
    }

    /// In words, for messages and reports: `target node set 'A', source node set 'B'`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.target_node_set {
            parts.push(format!("target node set '{t}'"));
        }
        if let Some(s) = &self.source_node_set {
            parts.push(format!("source node set '{s}'"));
        }
        parts.join(", ")
    }
}
