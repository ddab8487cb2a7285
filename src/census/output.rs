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

use super::derived::Direction;
use super::provenance::{Provenance, Restriction};
use super::schema::{self, UNKNOWN_POPULATION, leaf};
use super::{Census, SpilledConnections};
use crate::error::{Error, H5Context, Location, Result};

pub use crate::outputs::{check_output_path, temporary_beside};

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
        let temp = temporary_beside(path)?;
        let registered = crate::interrupt::register(&temp);
        let at = Location::file(&temp);
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.obj_track_times(false))
            .create(&*temp)
            .at(&at)
            .map_err(Error::writing)?;
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
        let group = file
            .create_group_builder()
            .obj_track_times(false)
            .create(census.population.as_str())
            .at(&at)?;
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
        let conns = group
            .create_group_builder()
            .obj_track_times(false)
            .create(schema::CONNECTIONS)
            .at(&at.dataset(schema::CONNECTIONS))?;
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
