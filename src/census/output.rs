//! Census table files (HDF5), written atomically.
//!
//! The names and layout are [`super::schema`]'s; [`super::reader`] reads the files back.
//! The file is written under a temporary name in the destination folder and renamed when
//! complete, so a reader never sees half a file and a failed run leaves nothing behind (the
//! rules of output paths, names and modes are [`crate::outputs`]'s).
//! Object modification times are not recorded, nor is the engine that counted (the CLI says it
//! on stderr), so equal censuses give byte-identical files whichever engine made them. The
//! temporary file is registered with [`crate::interrupt`], which removes it when a signal
//! forces the process to stop.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::derived::efferent::{SourceSpace, transpose};
use super::derived::{ConnectionRows, Direction, Efferent, PathwayMatrix, PathwayValues};
use super::provenance::{Provenance, Restriction};
use super::schema::{self, UNKNOWN_POPULATION, leaf};
use super::{Census, SpilledConnections};
use crate::error::{Error, H5Context, Location, Result};

use crate::outputs::create_untimed_group;
pub use crate::outputs::{check_output_path, create_beside, create_hdf5_beside};

/// What a population group records beside its tables ([`CensusWriter::write_with`]).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The input counted (`None`: tables written without a record, as [`CensusWriter::write`]).
    pub input: Option<Provenance>,
    /// The restriction to node sets, for a restricted census.
    pub restriction: Option<Restriction>,
    /// Which tables are written.
    pub direction: Direction,
}

/// Writes censuses into one HDF5 file; the file appears at its final path only on
/// [`CensusWriter::finish`]. Dropping the writer unfinished removes the temporary file.
#[derive(Debug)]
pub struct CensusWriter {
    path: PathBuf,
    force: bool,
    temp: tempfile::TempPath,
    file: Option<hdf5::File>,
    _registered: crate::interrupt::Registered,
}

impl CensusWriter {
    /// Creates the temporary file next to `path`.
    ///
    /// # Errors
    /// As [`check_output_path`], and HDF5 errors creating the file.
    pub fn create(path: &Path, force: bool) -> Result<Self> {
        check_output_path(path, force)?;
        let (file, temp) = create_hdf5_beside(path)?;
        let registered = crate::interrupt::register(&temp);
        Ok(CensusWriter {
            path: path.to_path_buf(),
            force,
            temp,
            file: Some(file),
            _registered: registered,
        })
    }

    /// Writes one census as group `/<population>`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn write(&mut self, census: &Census) -> Result<()> {
        self.write_spilled(census, None)
    }

    /// Writes one census whose connection table is `spilled` (from
    /// [`super::census_population_spilled`]) rather than in `census`; with `None`, as
    /// [`CensusWriter::write`]. The file is byte-identical either way.
    ///
    /// # Errors
    /// HDF5 write errors, read errors of the spill files.
    pub fn write_spilled(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
    ) -> Result<()> {
        crate::interrupt::check()?;
        self.write_tables(census, spilled, &Record::default())
            .map_err(Error::writing)
    }

    /// [`CensusWriter::write_spilled`], recording what the tables were counted from
    /// ([`Provenance::of`] the population counted): the table kind and the input file's name,
    /// size and id fingerprint, which let the table file answer neurodamus's readers in place of
    /// the edge file ([`super::lookup`]). `count` and the Python module write this way.
    ///
    /// # Errors
    /// As [`CensusWriter::write_spilled`].
    pub fn write_recorded(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        input: &Provenance,
    ) -> Result<()> {
        self.write_with(
            census,
            spilled,
            &Record {
                input: Some(input.clone()),
                ..Record::default()
            },
        )
    }

    /// [`CensusWriter::write_spilled`] with what `record` says: the input's record, the
    /// restriction to node sets, and the direction (with [`Direction::Efferent`] the per-target
    /// tables and the connection table are not written; the efferent tables are written by
    /// [`CensusWriter::write_efferent`]).
    ///
    /// # Errors
    /// As [`CensusWriter::write_spilled`].
    pub fn write_with(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        record: &Record,
    ) -> Result<()> {
        crate::interrupt::check()?;
        self.write_tables(census, spilled, record)
            .map_err(Error::writing)
    }

    /// One shard's census (`count --shard`, [`super::shard::count_shard`]): its tables as
    /// [`CensusWriter::write_with`] writes them (afferent, whatever the count's direction: they
    /// are what `merge` merges), its record of kind
    /// [`super::provenance::TableKind::Partial`], and its shard's attributes.
    ///
    /// # Errors
    /// As [`CensusWriter::write_with`].
    pub fn write_partial(&mut self, counted: &super::shard::ShardCensus) -> Result<()> {
        let super::shard::ShardCensus {
            census,
            spilled,
            record,
            partial,
        } = counted;
        let spilled = spilled.as_ref();
        let record = Record {
            direction: Direction::Afferent,
            ..record.clone()
        };
        self.write_with(census, spilled, &record)?;
        let at = Location::file(&self.path).population(&census.population);
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("writer is closed".into()))?;
        let group = file.group(&census.population).at(&at)?;
        let range = partial.range();
        for (name, value) in [
            (schema::SHARD_INDEX, partial.shard.index),
            (schema::SHARD_COUNT, partial.shard.count),
            (schema::SHARD_FIRST_EDGE, range.start),
            (schema::SHARD_END_EDGE, range.end),
            (schema::SHARD_POPULATION_EDGES, partial.population_edges),
        ] {
            write_scalar_attr(&group, name, value, &at).map_err(Error::writing)?;
        }
        Ok(())
    }

    /// Records at the file's root the count this partial file is a shard of.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn write_shard_header(&mut self, header: &super::shard::ShardHeader) -> Result<()> {
        let at = Location::file(&self.path);
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("writer is closed".into()))?;
        write_str_attr(file, schema::SHARD_HEADER, &header.to_json(), &at).map_err(Error::writing)
    }

    /// [`CensusWriter::write_recorded`] for a full census of `pop` (its record made here): what
    /// `count` and the Python module write.
    ///
    /// # Errors
    /// As [`CensusWriter::write_recorded`] and [`Provenance::of`].
    pub fn write_counted(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        pop: &crate::sonata::EdgePopulation,
    ) -> Result<()> {
        let input = Provenance::of(pop, super::provenance::TableKind::Full)?;
        self.write_recorded(census, spilled, &input)
    }

    fn write_tables(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        record: &Record,
    ) -> Result<()> {
        let at = Location::file(&self.path).population(&census.population);
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("writer is closed".into()))?;
        // No object times anywhere, so that equal censuses give equal bytes (HDF5 2.x groups
        // record them by default).
        let group = create_untimed_group(file, census.population.as_str()).at(&at)?;
        let src = census
            .source_population
            .as_deref()
            .unwrap_or(UNKNOWN_POPULATION);
        let tgt = census
            .target_population
            .as_deref()
            .unwrap_or(UNKNOWN_POPULATION);
        write_str_attr(&group, schema::SOURCE_NODE_POPULATION, src, &at)?;
        write_str_attr(&group, schema::TARGET_NODE_POPULATION, tgt, &at)?;
        write_scalar_attr(&group, schema::EDGE_COUNT, census.edge_count, &at)?;
        write_scalar_attr(&group, schema::N_TARGETS, census.n_targets, &at)?;
        write_scalar_attr(
            &group,
            schema::SORTED_BY_TARGET,
            u8::from(census.sortedness.by_target),
            &at,
        )?;
        write_scalar_attr(
            &group,
            schema::SORTED_BY_TARGET_SOURCE,
            u8::from(census.sortedness.by_target_source),
            &at,
        )?;
        write_str_attr(&group, schema::VERSION, crate::VERSION, &at)?;
        if let Some(input) = &record.input {
            write_str_attr(&group, schema::TABLE_KIND, input.kind.as_str(), &at)?;
            write_str_attr(&group, schema::INPUT_FILE, &input.input_file, &at)?;
            write_scalar_attr(&group, schema::INPUT_SIZE, input.input_size, &at)?;
            write_str_attr(
                &group,
                schema::INPUT_FINGERPRINT,
                &input.id_fingerprint,
                &at,
            )?;
        }
        if let Some(r) = &record.restriction {
            write_scalar_attr(
                &group,
                schema::POPULATION_EDGE_COUNT,
                r.population_edge_count,
                &at,
            )?;
            if let Some(name) = &r.target_node_set {
                write_str_attr(&group, schema::TARGET_NODE_SET, name, &at)?;
            }
            if let Some(name) = &r.source_node_set {
                write_str_attr(&group, schema::SOURCE_NODE_SET, name, &at)?;
            }
            write_str_attr(
                &group,
                schema::NODE_SETS_FILE,
                &r.node_sets_file_text(),
                &at,
            )?;
        }
        write_str_attr(&group, schema::DIRECTION, record.direction.as_str(), &at)?;
        if record.direction.afferent() {
            self.write_afferent(&group, census, spilled, &at)?;
        }
        write_dataset(
            &group,
            schema::SYNAPSES_PER_CONNECTION,
            &census.synapses_per_connection,
            &at,
        )?;
        if record.direction.afferent()
            && let Some(nsyns) = &census.target_nsyns_total
        {
            write_dataset(&group, schema::TARGET_NSYNS_TOTAL, nsyns, &at)?;
        }
        Ok(())
    }

    /// The per-target tables and the connection table by target.
    fn write_afferent(
        &self,
        group: &hdf5::Group,
        census: &Census,
        spilled: Option<&SpilledConnections>,
        at: &Location,
    ) -> Result<()> {
        write_dataset(
            group,
            schema::TARGET_SYNAPSE_COUNT,
            &census.target_synapse_count,
            at,
        )?;
        write_dataset(
            group,
            schema::TARGET_CONNECTION_COUNT,
            &census.target_connection_count,
            at,
        )?;
        let conns =
            create_untimed_group(group, schema::CONNECTIONS).at(&at.dataset(schema::CONNECTIONS))?;
        write_dataset(
            &conns,
            leaf(schema::TARGET_OFFSETS),
            &census.target_offsets,
            at,
        )?;
        match spilled {
            Some(table) => {
                write_blocks::<u64>(&conns, leaf(schema::SOURCE_NODE_ID), table.len(), at, |w| {
                    table.for_each_source_block(w)
                })?;
                write_blocks::<u32>(&conns, leaf(schema::SYNAPSE_COUNT), table.len(), at, |w| {
                    table.for_each_count_block(w)
                })?;
            }
            None => {
                write_dataset(
                    &conns,
                    leaf(schema::SOURCE_NODE_ID),
                    &census.source_node_id,
                    at,
                )?;
                write_dataset(
                    &conns,
                    leaf(schema::SYNAPSE_COUNT),
                    &census.synapse_count,
                    at,
                )?;
            }
        }
        Ok(())
    }

    /// Writes the efferent tables of census population `population` (written before by
    /// [`CensusWriter::write_with`]) as `/<population>/efferent/`, transposing `rows` with
    /// [`transpose`]: the efferent connection table is streamed into the file, so memory is the
    /// per-source tables and one buffer of `memory_budget` bytes. Returns the per-source tables
    /// (without the connection table). The file is byte-identical to
    /// [`CensusWriter::write_efferent_tables`] of the same tables.
    ///
    /// # Errors
    /// As [`transpose`]; HDF5 write errors; [`Error::InvalidArgument`] when the population's
    /// group was not written.
    pub fn write_efferent(
        &mut self,
        population: &str,
        rows: &ConnectionRows<'_>,
        space: &SourceSpace,
        memory_budget: u64,
    ) -> Result<Efferent> {
        crate::interrupt::check()?;
        let at = Location::file(&self.path).population(population);
        let group = self.population_group(population)?;
        let (efferent, target_ds, count_ds) = efferent_table(&group, rows.len(), &at)?;
        let e = transpose(rows, space, memory_budget, |first, targets, counts| {
            let a = first as usize;
            if let Some(ds) = &target_ds {
                ds.write_slice(targets, a..a + targets.len())
                    .at(&at.dataset(schema::TARGET_NODE_ID))?;
            }
            if let Some(ds) = &count_ds {
                ds.write_slice(counts, a..a + counts.len())
                    .at(&at.dataset(schema::EFFERENT_SYNAPSE_COUNT))?;
            }
            Ok(())
        })
        .map_err(Error::writing)?;
        efferent_tables(&efferent, &e, &at).map_err(Error::writing)?;
        Ok(e)
    }

    /// Writes efferent tables held in memory (with their connection table, as
    /// [`super::derived::efferent::transpose_in_memory`] gives) as `/<population>/efferent/`:
    /// byte-identical to [`CensusWriter::write_efferent`].
    ///
    /// # Errors
    /// HDF5 write errors; [`Error::InvalidArgument`] when the population's group was not
    /// written or the tables' lengths disagree.
    pub fn write_efferent_tables(&mut self, population: &str, e: &Efferent) -> Result<()> {
        crate::interrupt::check()?;
        let at = Location::file(&self.path).population(population);
        let rows = e.source_offsets.last().copied().unwrap_or(0);
        if e.target_node_id.len() as u64 != rows || e.synapse_count.len() as u64 != rows {
            return Err(Error::InvalidArgument(format!(
                "efferent tables of '{population}': {} targets and {} synapse counts, but the \
                 offsets end at {rows}",
                e.target_node_id.len(),
                e.synapse_count.len()
            )));
        }
        let group = self.population_group(population)?;
        let (efferent, target_ds, count_ds) = efferent_table(&group, rows, &at)?;
        if let Some(ds) = &target_ds {
            ds.write_slice(&e.target_node_id, 0..e.target_node_id.len())
                .at(&at.dataset(schema::TARGET_NODE_ID))
                .map_err(Error::writing)?;
        }
        if let Some(ds) = &count_ds {
            ds.write_slice(&e.synapse_count, 0..e.synapse_count.len())
                .at(&at.dataset(schema::EFFERENT_SYNAPSE_COUNT))
                .map_err(Error::writing)?;
        }
        efferent_tables(&efferent, e, &at).map_err(Error::writing)
    }

    /// Writes pathway matrices of census population `population` (written before by
    /// [`CensusWriter::write_with`]) as `/<population>/pathways/<ATTR>/`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when an attribute name contains `/` (it cannot name an HDF5
    /// group), two matrices have one attribute, a matrix's shapes disagree, or the population's
    /// group was not written; HDF5 write errors.
    pub fn write_pathways(&mut self, population: &str, matrices: &[PathwayMatrix]) -> Result<()> {
        crate::interrupt::check()?;
        let at = Location::file(&self.path).population(population);
        for (k, m) in matrices.iter().enumerate() {
            if m.attribute.contains('/') || m.attribute.is_empty() || m.attribute == "." {
                return Err(Error::InvalidArgument(format!(
                    "node attribute '{}' cannot name a pathway group (HDF5 group names cannot \
                     contain '/')",
                    m.attribute
                )));
            }
            if matrices[..k].iter().any(|o| o.attribute == m.attribute) {
                return Err(Error::InvalidArgument(format!(
                    "node attribute '{}' is given twice for pathways",
                    m.attribute
                )));
            }
            let cells = m.source_values.len() * m.target_values.len();
            if m.source_node_count.len() != m.source_values.len()
                || m.target_node_count.len() != m.target_values.len()
                || m.synapses.len() != cells
                || m.connections.len() != cells
                || m.pair_count.len() != cells
            {
                return Err(Error::InvalidArgument(format!(
                    "pathway matrix of '{}': table lengths disagree with {} x {} values",
                    m.attribute,
                    m.source_values.len(),
                    m.target_values.len()
                )));
            }
        }
        if matrices.is_empty() {
            return Ok(());
        }
        let group = self.population_group(population)?;
        write_pathway_groups(&group, matrices, &at).map_err(Error::writing)
    }

    /// The group of census population `population`, written before.
    fn population_group(&self, population: &str) -> Result<hdf5::Group> {
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("writer is closed".into()))?;
        file.group(population).map_err(|_| {
            Error::InvalidArgument(format!(
                "population '{population}' has no group in the census file yet (write its \
                 census first)"
            ))
        })
    }

    /// Closes the file and moves it to its final path (replacing an existing file only when
    /// `force` was given), as [`crate::outputs::persist`].
    ///
    /// # Errors
    /// [`Error::OutputExists`] when the output appeared meanwhile without `force`;
    /// [`Error::UnsuitableOutput`] when something other than a file appeared there;
    /// [`Error::Interrupted`]; rename errors.
    pub fn finish(mut self) -> Result<PathBuf> {
        if let Some(file) = self.file.take() {
            file.close()
                .at(&Location::file(&self.temp))
                .map_err(Error::writing)?;
        }
        crate::outputs::persist(self.temp, &self.path, self.force)?;
        Ok(self.path)
    }
}

fn write_dataset<T: hdf5::H5Type + Copy>(
    group: &hdf5::Group,
    name: &str,
    data: &[T],
    at: &Location,
) -> Result<()> {
    let at = at.dataset(name);
    group
        .new_dataset_builder()
        .obj_track_times(false)
        .with_data(data)
        .create(name)
        .at(&at)?;
    Ok(())
}

/// A contiguous dataset of `len` elements filled block by block by `fill` (which calls its
/// argument with each block's first index and data). Same layout and bytes as [`write_dataset`]
/// of the whole column.
fn write_blocks<T: hdf5::H5Type + Copy>(
    group: &hdf5::Group,
    name: &str,
    len: u64,
    at: &Location,
    fill: impl FnOnce(&mut dyn FnMut(u64, &[T]) -> Result<()>) -> Result<()>,
) -> Result<()> {
    if len == 0 {
        return write_dataset::<T>(group, name, &[], at);
    }
    let at = at.dataset(name);
    let ds = group
        .new_dataset_builder()
        .obj_track_times(false)
        .empty::<T>()
        .shape(len as usize)
        .create(name)
        .at(&at)?;
    fill(&mut |first, block| {
        let a = first as usize;
        ds.write_slice(block, a..a + block.len()).at(&at)
    })
}

fn write_scalar_attr<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &str,
    value: T,
    at: &Location,
) -> Result<()> {
    let at = at.dataset(&format!("@{name}"));
    group
        .new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .at(&at)
}

fn write_str_attr(group: &hdf5::Group, name: &str, value: &str, at: &Location) -> Result<()> {
    let at2 = at.dataset(&format!("@{name}"));
    let v: VarLenUnicode = value
        .parse()
        .map_err(|_| Error::invalid(at2.clone(), "string contains a NUL byte"))?;
    group
        .new_attr::<VarLenUnicode>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .at(&at2)
}

/// Creates `efferent/` and `efferent/connections/` with the connection table's two datasets,
/// empty, of `rows` elements (`None`: an empty table, written whole here, as [`write_blocks`]
/// does). Both efferent writers create the same objects in the same order, so their files are
/// byte-identical.
#[allow(clippy::type_complexity, reason = "a private helper's three handles")]
fn efferent_table(
    group: &hdf5::Group,
    rows: u64,
    at: &Location,
) -> Result<(hdf5::Group, Option<hdf5::Dataset>, Option<hdf5::Dataset>)> {
    let efferent = create_untimed_group(group, schema::EFFERENT)
        .at(&at.dataset(schema::EFFERENT))
        .map_err(Error::writing)?;
    let conns = create_untimed_group(&efferent, leaf(schema::EFFERENT_CONNECTIONS))
        .at(&at.dataset(schema::EFFERENT_CONNECTIONS))
        .map_err(Error::writing)?;
    if rows == 0 {
        write_dataset::<u64>(&conns, leaf(schema::TARGET_NODE_ID), &[], at)
            .map_err(Error::writing)?;
        write_dataset::<u32>(&conns, leaf(schema::EFFERENT_SYNAPSE_COUNT), &[], at)
            .map_err(Error::writing)?;
        return Ok((efferent, None, None));
    }
    let empty = |name: &str, path: &str, u32s: bool| -> Result<hdf5::Dataset> {
        let builder = conns.new_dataset_builder().obj_track_times(false);
        let builder = if u32s {
            builder.empty::<u32>()
        } else {
            builder.empty::<u64>()
        };
        builder
            .shape(rows as usize)
            .create(name)
            .at(&at.dataset(path))
            .map_err(Error::writing)
    };
    let targets = empty(leaf(schema::TARGET_NODE_ID), schema::TARGET_NODE_ID, false)?;
    let counts = empty(
        leaf(schema::EFFERENT_SYNAPSE_COUNT),
        schema::EFFERENT_SYNAPSE_COUNT,
        true,
    )?;
    Ok((efferent, Some(targets), Some(counts)))
}

/// The per-source tables and attributes of `efferent/`, after its connection table.
fn efferent_tables(efferent: &hdf5::Group, e: &Efferent, at: &Location) -> Result<()> {
    let at = at.dataset(schema::EFFERENT);
    write_scalar_attr(efferent, schema::N_SOURCES, e.n_sources, &at)?;
    write_str_attr(efferent, schema::N_SOURCES_ORIGIN, &e.n_sources_origin, &at)?;
    write_dataset(
        efferent,
        leaf(schema::SOURCE_SYNAPSE_COUNT),
        &e.source_synapse_count,
        &at,
    )?;
    write_dataset(
        efferent,
        leaf(schema::SOURCE_CONNECTION_COUNT),
        &e.source_connection_count,
        &at,
    )?;
    let conns = efferent
        .group(leaf(schema::EFFERENT_CONNECTIONS))
        .at(&at.dataset(schema::EFFERENT_CONNECTIONS))?;
    write_dataset(&conns, leaf(schema::SOURCE_OFFSETS), &e.source_offsets, &at)
}

/// `pathways/<ATTR>/` for each matrix (checked by [`CensusWriter::write_pathways`]).
fn write_pathway_groups(
    group: &hdf5::Group,
    matrices: &[PathwayMatrix],
    at: &Location,
) -> Result<()> {
    let pathways =
        create_untimed_group(group, schema::PATHWAYS).at(&at.dataset(schema::PATHWAYS))?;
    for m in matrices {
        let path = format!("{}/{}", schema::PATHWAYS, m.attribute);
        let at = at.dataset(&path);
        let g = create_untimed_group(&pathways, m.attribute.as_str()).at(&at)?;
        write_values(&g, schema::PATHWAY_SOURCE_VALUES, &m.source_values, &at)?;
        write_values(&g, schema::PATHWAY_TARGET_VALUES, &m.target_values, &at)?;
        write_dataset(
            &g,
            schema::PATHWAY_SOURCE_NODE_COUNT,
            &m.source_node_count,
            &at,
        )?;
        write_dataset(
            &g,
            schema::PATHWAY_TARGET_NODE_COUNT,
            &m.target_node_count,
            &at,
        )?;
        let shape = (m.source_values.len(), m.target_values.len());
        for (name, data) in [
            (schema::PATHWAY_SYNAPSES, &m.synapses),
            (schema::PATHWAY_CONNECTIONS, &m.connections),
            (schema::PATHWAY_PAIR_COUNT, &m.pair_count),
        ] {
            let view = ndarray::ArrayView2::from_shape(shape, data).map_err(|e| {
                Error::InvalidArgument(format!("pathway matrix of '{}': {e}", m.attribute))
            })?;
            g.new_dataset_builder()
                .obj_track_times(false)
                .with_data(view)
                .create(name)
                .at(&at.dataset(name))?;
        }
    }
    Ok(())
}

/// A pathway group's values: variable-length UTF-8 text (as [`write_str_attr`]) or int64.
fn write_values(g: &hdf5::Group, name: &str, values: &PathwayValues, at: &Location) -> Result<()> {
    match values {
        PathwayValues::Integers(v) => write_dataset(g, name, v, at),
        PathwayValues::Strings(v) => {
            let mut text = Vec::with_capacity(v.len());
            for s in v {
                text.push(s.parse::<VarLenUnicode>().map_err(|_| {
                    Error::invalid(at.dataset(name), format!("value {s:?} contains a NUL byte"))
                })?);
            }
            let at = at.dataset(name);
            g.new_dataset_builder()
                .obj_track_times(false)
                .with_data(&text)
                .create(name)
                .at(&at)?;
            Ok(())
        }
    }
}
