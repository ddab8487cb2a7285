//! Census table files (HDF5), written atomically.
//!
//! Layout (documented in the README; other tools depend on these exact names):
//! ```text
//! /<edge population>/                            attributes: source_node_population,
//!                                                target_node_population, edge_count (uint64),
//!                                                sorted_by_target (uint8),
//!                                                sonata_census_version; also
//!                                                sorted_by_target_source (uint8), n_targets (uint64)
//! /<edge population>/target_synapse_count        uint64 [n_targets]
//! /<edge population>/target_connection_count     uint64 [n_targets]
//! /<edge population>/connections/target_offsets  uint64 [n_targets + 1]
//! /<edge population>/connections/source_node_id  uint64 [n_connections]
//! /<edge population>/connections/synapse_count   uint32 [n_connections]
//! /<edge population>/synapses_per_connection     uint64 [k + 1]
//! /<edge population>/target_nsyns_total          uint64 [n_targets]  (bmtk `nsyns` files only)
//! ```
//! The file is written under a temporary name in the destination folder and renamed when
//! complete, so a reader never sees half a file and a failed run leaves nothing behind (the
//! rules of output paths, names and modes are [`crate::outputs`]'s).
//! Object modification times are not recorded, nor is the engine that counted (the CLI says it
//! on stderr), so equal censuses give byte-identical files whichever engine made them. The
//! temporary file is registered with [`crate::interrupt`], which removes it when a signal
//! forces the process to stop.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::{Census, SpilledConnections};
use crate::error::{Error, H5Context, Location, Result};

/// Name of the unknown node population in output attributes.
pub const UNKNOWN_POPULATION: &str = "unknown";

pub use crate::outputs::{check_output_path, temporary_beside};

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
        self.write_tables(census, spilled).map_err(Error::writing)
    }

    fn write_tables(
        &mut self,
        census: &Census,
        spilled: Option<&SpilledConnections>,
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
        write_str_attr(&group, "source_node_population", src, &at)?;
        write_str_attr(&group, "target_node_population", tgt, &at)?;
        write_scalar_attr(&group, "edge_count", census.edge_count, &at)?;
        write_scalar_attr(&group, "n_targets", census.n_targets, &at)?;
        write_scalar_attr(
            &group,
            "sorted_by_target",
            u8::from(census.sortedness.by_target),
            &at,
        )?;
        write_scalar_attr(
            &group,
            "sorted_by_target_source",
            u8::from(census.sortedness.by_target_source),
            &at,
        )?;
        write_str_attr(&group, "sonata_census_version", crate::VERSION, &at)?;
        write_dataset(
            &group,
            "target_synapse_count",
            &census.target_synapse_count,
            &at,
        )?;
        write_dataset(
            &group,
            "target_connection_count",
            &census.target_connection_count,
            &at,
        )?;
        let conns = group
            .create_group_builder()
            .obj_track_times(false)
            .create("connections")
            .at(&at.dataset("connections"))?;
        write_dataset(&conns, "target_offsets", &census.target_offsets, &at)?;
        match spilled {
            Some(table) => {
                write_blocks::<u64>(&conns, "source_node_id", table.len(), &at, |w| {
                    table.for_each_source_block(w)
                })?;
                write_blocks::<u32>(&conns, "synapse_count", table.len(), &at, |w| {
                    table.for_each_count_block(w)
                })?;
            }
            None => {
                write_dataset(&conns, "source_node_id", &census.source_node_id, &at)?;
                write_dataset(&conns, "synapse_count", &census.synapse_count, &at)?;
            }
        }
        write_dataset(
            &group,
            "synapses_per_connection",
            &census.synapses_per_connection,
            &at,
        )?;
        if let Some(nsyns) = &census.target_nsyns_total {
            write_dataset(&group, "target_nsyns_total", nsyns, &at)?;
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

/// Reads a census back from a table file written by [`CensusWriter`] (used by tests and
/// reports). Its `backend` is empty: files do not record the engine.
///
/// # Errors
/// HDF5 errors, or a missing population.
pub fn read_census(path: &Path, population: &str) -> Result<Census> {
    let at = Location::file(path).population(population);
    let file = crate::sonata::open_hdf5_file(path)?;
    let g = file
        .group(population)
        .map_err(|_| Error::PopulationNotFound {
            at: Location::file(path),
            name: population.to_string(),
            available: crate::sonata::column::ordered_member_names(&file).unwrap_or_default(),
        })?;
    let u64s = |name: &str| -> Result<Vec<u64>> {
        g.dataset(name)
            .and_then(|d| d.read_raw::<u64>())
            .at(&at.dataset(name))
    };
    let attr_u64 = |name: &str| -> Result<u64> {
        g.attr(name)
            .and_then(|a| a.read_scalar::<u64>())
            .at(&at.dataset(name))
    };
    let attr_u8 = |name: &str| -> Result<u8> {
        g.attr(name)
            .and_then(|a| a.read_scalar::<u8>())
            .at(&at.dataset(name))
    };
    let attr_str = |name: &str| -> Result<String> {
        g.attr(name)
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .map(|s| s.as_str().to_string())
            .at(&at.dataset(name))
    };
    let known = |s: String| {
        if s == UNKNOWN_POPULATION {
            None
        } else {
            Some(s)
        }
    };
    let nsyns = if g.link_exists("target_nsyns_total") {
        Some(u64s("target_nsyns_total")?)
    } else {
        None
    };
    Ok(Census {
        population: population.to_string(),
        source_population: known(attr_str("source_node_population")?),
        target_population: known(attr_str("target_node_population")?),
        edge_count: attr_u64("edge_count")?,
        n_targets: attr_u64("n_targets")?,
        sortedness: super::Sortedness {
            by_target: attr_u8("sorted_by_target")? != 0,
            by_target_source: attr_u8("sorted_by_target_source")? != 0,
        },
        target_synapse_count: u64s("target_synapse_count")?,
        target_connection_count: u64s("target_connection_count")?,
        target_offsets: u64s("connections/target_offsets")?,
        source_node_id: u64s("connections/source_node_id")?,
        synapse_count: g
            .dataset("connections/synapse_count")
            .and_then(|d| d.read_raw::<u32>())
            .at(&at.dataset("connections/synapse_count"))?,
        synapses_per_connection: u64s("synapses_per_connection")?,
        target_nsyns_total: nsyns,
        // Not recorded in the file: it is the same whichever engine counted.
        backend: super::CountedBy::Unrecorded,
    })
}
