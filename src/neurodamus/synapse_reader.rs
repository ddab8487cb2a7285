//! `SonataReader` of neurodamus 4.2.9 and its variants, parameterised by data.
//!
//! A neurodamus reader subclass differs from `SonataReader` only in its record layout
//! (`Parameters`), its `custom_parameters`, its `parameter_mapping`, its lookup direction
//! (`LOOKUP_BY_TARGET_IDS`) and, for neuromodulation, a constant `weight`. A [`ReaderVariant`]
//! holds exactly these, and [`SonataReader`] runs any of them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::census::Census;
use crate::census::lookup::TableLookup;
use crate::error::{Error, Location, Result, Setting};
use crate::progress::Progress;
use crate::selection::Selection;
use crate::sonata::attributes::AttributeValues;
use crate::sonata::index::{EdgeIndex, IndexDirection};
use crate::sonata::{EdgeFile, EdgePopulation};

use super::synapse_params::{
    DataColumn, EXP2SYN, GAP_JUNCTION, GidData, NEUROGLIA, NEUROMODULATION, POINT_PROCESS,
    ParameterSet, SYNAPSE, SynapseParameters,
};

mod counts;

/// `SYNAPSE_INDEX_NAMES`: computed properties that are always available.
pub const SYNAPSE_INDEX_NAMES: &[&str] = &["synapse_index"];

/// Gids per chunk of [`SonataReader::preload_data`] (`CHUNK_SIZE`); also the smallest batch it
/// preloads at all.
pub const PRELOAD_CHUNK_SIZE: usize = 1000;

/// Populations of at least this many edges answer batches covering half of their edges from one
/// census (see [`SonataReader::get_counts`]); smaller ones always take the index path.
pub const AUTO_CENSUS_MIN_EDGES: u64 = 1 << 20;

/// Fields that are computed, never read as attributes (`compute_fields`).
const COMPUTE_FIELDS: &[&str] = &["sgid", "tgid", "synapse_index"];

/// `SonataReader.parameter_mapping`: record field → SONATA attribute.
const SONATA_MAPPING: &[(&str, &str)] = &[
    ("weight", "conductance"),
    ("U", "u_syn"),
    ("D", "depression_time"),
    ("F", "facilitation_time"),
    ("DTC", "decay_time"),
    ("synType", "syn_type_id"),
    ("nrrp", "n_rrp_vesicles"),
    ("conductance_ratio", "conductance_scale_factor"),
];

/// `custom_parameters` of `SonataReader`: the synapse position, computed by the fallback chain.
const POSITION_PARAMETERS: &[&str] = &["isec", "ipt", "offset"];

/// What distinguishes a neurodamus reader class from `SonataReader`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReaderVariant {
    /// Name on the command line (`sonata`, `gap-junction`, ...).
    pub name: &'static str,
    /// The neurodamus class.
    pub class_name: &'static str,
    /// The record layout (`Parameters`).
    pub parameters: &'static ParameterSet,
    /// Fields not read directly (`custom_parameters`): when non-empty, the position fields
    /// `isec`, `ipt`, `offset` come from the fallback chain and `constants` are set.
    pub custom_parameters: &'static [&'static str],
    /// Record field → SONATA attribute (`parameter_mapping`).
    pub parameter_mapping: &'static [(&'static str, &'static str)],
    /// `LOOKUP_BY_TARGET_IDS`: gids are targets (afferent edges, `sgid` computed) or, when false,
    /// sources (efferent edges, `tgid` computed).
    pub lookup_by_target: bool,
    /// Custom fields set to a constant for every synapse (neuromodulation's `weight = 1`).
    pub constants: &'static [(&'static str, i64)],
}

/// `SonataReader`.
pub const SONATA_READER: ReaderVariant = ReaderVariant {
    name: "sonata",
    class_name: "SonataReader",
    parameters: &SYNAPSE,
    custom_parameters: POSITION_PARAMETERS,
    parameter_mapping: SONATA_MAPPING,
    lookup_by_target: true,
    constants: &[],
};

/// `GapJunctionSynapseReader` (only `weight` is mapped).
pub const GAP_JUNCTION_READER: ReaderVariant = ReaderVariant {
    name: "gap-junction",
    class_name: "GapJunctionSynapseReader",
    parameters: &GAP_JUNCTION,
    custom_parameters: POSITION_PARAMETERS,
    parameter_mapping: &[("weight", "conductance")],
    lookup_by_target: true,
    constants: &[],
};

/// `NeuroModulationSynapseReader` (`weight` is custom and always 1).
pub const NEUROMODULATION_READER: ReaderVariant = ReaderVariant {
    name: "neuromodulation",
    class_name: "NeuroModulationSynapseReader",
    parameters: &NEUROMODULATION,
    custom_parameters: &["isec", "ipt", "offset", "weight"],
    parameter_mapping: SONATA_MAPPING,
    lookup_by_target: true,
    constants: &[("weight", 1)],
};

/// `PointProcessSynSynapseReader` (Allen point neurons).
pub const POINT_PROCESS_READER: ReaderVariant = ReaderVariant {
    name: "point-process",
    class_name: "PointProcessSynSynapseReader",
    parameters: &POINT_PROCESS,
    custom_parameters: POSITION_PARAMETERS,
    parameter_mapping: SONATA_MAPPING,
    lookup_by_target: true,
    constants: &[],
};

/// `Exp2SynSynapseReader` (Allen Exp2Syn).
pub const EXP2SYN_READER: ReaderVariant = ReaderVariant {
    name: "exp2syn",
    class_name: "Exp2SynSynapseReader",
    parameters: &EXP2SYN,
    custom_parameters: POSITION_PARAMETERS,
    parameter_mapping: SONATA_MAPPING,
    lookup_by_target: true,
    constants: &[],
};

/// `NeuroGlialSynapseReader`: gids are sources, no custom parameters.
pub const NEUROGLIAL_READER: ReaderVariant = ReaderVariant {
    name: "neuroglial",
    class_name: "NeuroGlialSynapseReader",
    parameters: &NEUROGLIA,
    custom_parameters: &[],
    parameter_mapping: SONATA_MAPPING,
    lookup_by_target: false,
    constants: &[],
};

/// Every variant, `sonata` first.
pub const READER_VARIANTS: &[ReaderVariant] = &[
    SONATA_READER,
    GAP_JUNCTION_READER,
    NEUROMODULATION_READER,
    POINT_PROCESS_READER,
    EXP2SYN_READER,
    NEUROGLIAL_READER,
];

impl ReaderVariant {
    /// The variant called `name` (command-line name or neurodamus class name).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] listing the known names.
    pub fn from_name(name: &str) -> Result<&'static ReaderVariant> {
        READER_VARIANTS
            .iter()
            .find(|v| v.name == name || v.class_name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = READER_VARIANTS.iter().map(|v| v.name).collect();
                Error::InvalidArgument(format!(
                    "unknown reader '{name}' (expected one of: {})",
                    names.join(", ")
                ))
            })
    }

    /// The SONATA attribute of record field `field` (the mapping, else the field name).
    pub fn sonata_name<'a>(&self, field: &'a str) -> &'a str {
        self.parameter_mapping
            .iter()
            .find(|(k, _)| *k == field)
            .map_or(field, |(_, v)| v)
    }

    fn computed_field(&self) -> &'static str {
        if self.lookup_by_target {
            "sgid"
        } else {
            "tgid"
        }
    }
}

/// How a [`SonataReader`] is opened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReaderOptions {
    /// The reader class.
    pub variant: &'static ReaderVariant,
    /// `extracellular_calcium`: scales `U` (and the override's scale variables) when the file has
    /// `u_hill_coefficient`.
    pub extracellular_calcium: Option<f64>,
    /// NEURON's `h.dt`, used by the delay patch.
    pub dt: f64,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            variant: &SONATA_READER,
            extracellular_calcium: None,
            dt: 0.025,
        }
    }
}

/// What `_data` holds for a gid: nothing found (`EMPTY_DATA`) or its loaded fields.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Empty,
    Data(GidData),
}

/// Edges of some gids and, for each, the id it was looked up by.
struct Fetched {
    /// Edge ids, ascending.
    edges: Vec<u64>,
    /// Positions in `edges` of each lookup id, in edge order.
    groups: BTreeMap<u64, Vec<usize>>,
}

impl Fetched {
    fn selection(&self) -> Selection {
        Selection::from_values(&self.edges)
    }
}

/// neurodamus's `SonataReader` (and, through [`ReaderVariant`], its subclasses) on one edge
/// population: synapse parameters per gid, cached, and the counts of the dry run.
#[derive(Debug)]
pub struct SonataReader {
    pop: EdgePopulation,
    options: ReaderOptions,
    attribute_names: BTreeSet<String>,
    uhill_available: bool,
    extra_fields: BTreeSet<String>,
    extra_scale_vars: Vec<String>,
    data: HashMap<u64, Entry>,
    syn_params: HashMap<u64, SynapseParameters>,
    counts: HashMap<u64, BTreeMap<u64, u64>>,
    census: Option<Census>,
    /// A census table file answering the counts ([`SonataReader::use_census_tables`]).
    tables: Option<TableLookup>,
    /// The target and source indices, opened (and held in memory when small) at their first use.
    indices: [std::cell::OnceCell<EdgeIndex>; 2],
    /// The data refused an automatic census (see `census_for_large_batch`): do not try again.
    census_refused: bool,
}

impl SonataReader {
    /// Opens `population` of the edge file `path`; without a population the file must hold
    /// exactly one.
    ///
    /// # Errors
    /// Errors of [`EdgeFile::open`]; [`Error::InvalidArgument`] naming the populations when none
    /// is given and the file has several or none; [`Error::PopulationNotFound`].
    pub fn open(
        path: impl AsRef<Path>,
        population: Option<&str>,
        options: ReaderOptions,
    ) -> Result<Self> {
        let file = EdgeFile::open(path)?;
        let pop = match population {
            Some(name) => file.population(name)?,
            None => {
                let names = file.population_names()?;
                match names.as_slice() {
                    [one] => file.population(one)?,
                    _ => {
                        return Err(Error::InvalidArgument(format!(
                            "{}: the file has {} edge populations ({}): name one",
                            file.path().display(),
                            names.len(),
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        )));
                    }
                }
            }
        };
        Self::from_population(pop, options)
    }

    /// A reader on an already opened population.
    ///
    /// # Errors
    /// [`Error::Hdf5`] when the attribute groups cannot be listed, [`Error::InvalidArgument`]
    /// when `dt` is not positive and finite.
    pub fn from_population(pop: EdgePopulation, options: ReaderOptions) -> Result<Self> {
        if !(options.dt.is_finite() && options.dt > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "dt must be a positive number, got {}",
                options.dt
            )));
        }
        let attribute_names: BTreeSet<String> = pop.attribute_names()?.into_iter().collect();
        let uhill_available = attribute_names.contains("u_hill_coefficient");
        Ok(SonataReader {
            pop,
            options,
            attribute_names,
            uhill_available,
            extra_fields: BTreeSet::new(),
            extra_scale_vars: Vec::new(),
            data: HashMap::new(),
            syn_params: HashMap::new(),
            counts: HashMap::new(),
            census: None,
            tables: None,
            indices: Default::default(),
            census_refused: false,
        })
    }

    /// The population read.
    pub fn population(&self) -> &EdgePopulation {
        &self.pop
    }

    /// The reader class.
    pub fn variant(&self) -> &'static ReaderVariant {
        self.options.variant
    }

    /// `has_property`: `synapse_index`, or an attribute of the population.
    pub fn has_property(&self, name: &str) -> bool {
        SYNAPSE_INDEX_NAMES.contains(&name) || self.attribute_names.contains(name)
    }

    /// `configure_override`: the ModOverride helper's `NeededAttributes` (extra `f64` fields, read
    /// from attributes of the same name or their mapping, mandatory) and `UHillScaleVariables`
    /// (fields scaled like `U`). As in neurodamus, an empty list leaves the earlier setting in
    /// place. Unlike neurodamus, a change drops the cached records, so later
    /// [`SonataReader::get_synapse_parameters`] calls include the new fields.
    pub fn configure_override<S: AsRef<str>>(
        &mut self,
        needed_attributes: &[S],
        uhill_scale_variables: &[S],
    ) {
        if !needed_attributes.is_empty() {
            self.extra_fields = needed_attributes
                .iter()
                .map(|s| s.as_ref().to_string())
                .collect();
            self.syn_params.clear();
        }
        if !uhill_scale_variables.is_empty() {
            self.extra_scale_vars = uhill_scale_variables
                .iter()
                .map(|s| s.as_ref().to_string())
                .collect();
            self.syn_params.clear();
        }
    }

    /// The extra fields of the override, in the order they are appended to records (by name).
    pub fn extra_fields(&self) -> Vec<String> {
        self.extra_fields.iter().cloned().collect()
    }

    /// `get_property(gid, name)`: a loaded field of a loaded gid; `None` when the gid has no
    /// edges or the field was not loaded.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the gid was never loaded.
    pub fn get_property(&self, gid: u64, name: &str) -> Result<Option<&DataColumn>> {
        match self.data.get(&gid) {
            None => Err(Error::InvalidArgument(format!(
                "gid {gid} was not loaded (call get_synapse_parameters or preload_data first)"
            ))),
            Some(Entry::Empty) => Ok(None),
            Some(Entry::Data(d)) => Ok(d.get(name)),
        }
    }

    /// `get_synapse_parameters(gid)`: the record table of `gid`, loaded on first use and cached.
    /// Rows are its synapses in ascending edge id, all of them whatever the file's order.
    ///
    /// # Errors
    /// Read errors; [`Error::InvalidData`] "missing attribute ... in the SONATA edge file" when a
    /// mandatory attribute (extra fields included) is absent; [`Error::InvalidData`] when the
    /// population has no index in the lookup direction.
    pub fn get_synapse_parameters(&mut self, gid: u64) -> Result<&SynapseParameters> {
        if !self.syn_params.contains_key(&gid) {
            if !self.data.contains_key(&gid) {
                self.preload_chunk(&[gid], false)?;
            }
            self.load_missing_extras(gid)?;
            let data = match self.data.get(&gid) {
                Some(Entry::Data(d)) => d.clone(),
                _ => GidData::new(),
            };
            let ca = if self.uhill_available {
                self.options.extracellular_calcium
            } else {
                None
            };
            let extra: Vec<String> = self.extra_fields.iter().cloned().collect();
            let table = self
                .options
                .variant
                .parameters
                .make_synapse_parameters_array(
                    &data,
                    &extra,
                    ca,
                    &self.extra_scale_vars,
                    self.options.dt,
                )
                .map_err(|e| match e {
                    Error::InvalidArgument(reason) => {
                        Error::invalid(self.pop.location().dataset("0"), reason)
                    }
                    other => other,
                })?;
            self.syn_params.insert(gid, table);
        }
        self.syn_params.get(&gid).ok_or_else(|| {
            Error::InvalidArgument(format!("gid {gid}: synapse parameters were not built"))
        })
    }

    /// `preload_data(gids, minimal_mode)`: only in minimal mode (neurodamus's crash-test mode)
    /// and for at least [`PRELOAD_CHUNK_SIZE`] gids, loads them in chunks of that size with a
    /// progress bar; otherwise does nothing (loading is lazy, per gid). Minimal mode keeps the
    /// first synapse (lowest edge id) of each gid, with `isec = 0`, `ipt = -1`, `offset = 0`.
    ///
    /// # Errors
    /// As [`SonataReader::get_synapse_parameters`].
    pub fn preload_data(
        &mut self,
        gids: &[u64],
        minimal_mode: bool,
        progress: &Progress,
    ) -> Result<()> {
        if !minimal_mode || gids.len() < PRELOAD_CHUNK_SIZE {
            return Ok(());
        }
        let chunks = gids.len().div_ceil(PRELOAD_CHUNK_SIZE);
        progress.phase("Prefetching", chunks as u64);
        for chunk in gids.chunks(PRELOAD_CHUNK_SIZE) {
            self.preload_chunk(chunk, minimal_mode)?;
            progress.inc(1);
        }
        progress.finish();
        Ok(())
    }

    /// The edges of `ids` through the population's index in `direction` (libsonata's
    /// `afferent_edges` / `efferent_edges`), the index opened once and held in memory when it
    /// takes at most [`INDEX_IN_MEMORY_BYTES`].
    fn lookup(&self, direction: IndexDirection, ids: &[u64]) -> Result<Selection> {
        let cell = &self.indices[usize::from(direction == IndexDirection::SourceToTarget)];
        if cell.get().is_none()
            && let Some(index) = EdgeIndex::open(&self.pop, direction)?
        {
            // A table that cannot be read whole stays in the file: lookups then report what
            // they cannot read, for the rows they need.
            let held = index.held_in_memory(INDEX_IN_MEMORY_BYTES);
            let _ = cell.set(held.unwrap_or(index));
        }
        match (cell.get(), direction) {
            (Some(index), _) => index.resolve(ids),
            // No index: the population's own error.
            (None, IndexDirection::TargetToSource) => self.pop.afferent_edges(ids),
            (None, IndexDirection::SourceToTarget) => self.pop.efferent_edges(ids),
        }
    }

    fn location(&self, dataset: &str) -> Location {
        self.pop.location().dataset(dataset)
    }

    /// Edges of `ids` in the lookup direction; with `first_only`, only the first edge of each
    /// looked-up id.
    fn fetch(&self, ids: &[u64], first_only: bool) -> Result<Fetched> {
        let (selection, column) = if self.options.variant.lookup_by_target {
            (
                self.lookup(IndexDirection::TargetToSource, ids)?,
                self.pop.target_ids(),
            )
        } else {
            (
                self.lookup(IndexDirection::SourceToTarget, ids)?,
                self.pop.source_ids(),
            )
        };
        let mut lookup = column.read_selection(&selection)?;
        let mut edges = selection.flatten();
        if first_only {
            // One synapse per gid: its first edge, wherever its edges are (neurodamus keeps the
            // first edge of each run of equal ids, one per run on files not grouped by target).
            let mut seen = HashSet::new();
            let keep: Vec<bool> = lookup.iter().map(|g| seen.insert(*g)).collect();
            let mut k = keep.iter();
            edges.retain(|_| k.next().copied().unwrap_or(false));
            let mut k = keep.iter();
            lookup.retain(|_| k.next().copied().unwrap_or(false));
        }
        let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, g) in lookup.iter().enumerate() {
            groups.entry(*g).or_default().push(i);
        }
        Ok(Fetched { edges, groups })
    }

    /// `_read`: attribute `name` over the fetched edges; an absent optional one is the scalar -1.
    fn read(&self, fetched: &Fetched, name: &str, optional: bool) -> Result<DataColumn> {
        if self.attribute_names.contains(name) {
            let values = self.pop.attribute(name, &fetched.selection())?;
            if let AttributeValues::Str(_) = values {
                // Every record field is a number: name the column that holds strings.
                return Err(Error::invalid(
                    self.location(&self.column_path(name)),
                    format!(
                        "attribute {name} holds strings but the synapse parameter records \
                         need numbers"
                    ),
                ));
            }
            return Ok(DataColumn::Values(values));
        }
        if optional {
            return Ok(DataColumn::Scalar(-1));
        }
        // neurodamus's words, and which reader fits the file when another one does (a
        // gap-junction file read by the default reader lacks `depression_time`).
        let fitting: Vec<String> = READER_VARIANTS
            .iter()
            .filter(|v| v.name != self.options.variant.name && self.fits(v))
            .map(|v| v.name.to_string())
            .collect();
        let hint = if fitting.is_empty() {
            String::new()
        } else {
            format!(
                " (the {} reader needs it; this population has every attribute another reader \
                 needs: try the {} reader)",
                self.options.variant.name,
                fitting.join(" or the ")
            )
        };
        let err = Error::invalid(
            self.location(&format!("0/{name}")),
            format!("Missing attribute {name} in the SONATA edge file{hint}"),
        );
        Err(if fitting.is_empty() {
            err
        } else {
            err.about(Setting::ReaderVariant { fitting })
        })
    }

    /// Whether the population has every attribute `variant` must read (its mandatory fields,
    /// through its mapping; computed and position fields aside).
    fn fits(&self, variant: &ReaderVariant) -> bool {
        let mut exclude: Vec<&str> = variant.custom_parameters.to_vec();
        exclude.extend_from_slice(COMPUTE_FIELDS);
        variant
            .parameters
            .fields(&exclude, variant.parameter_mapping)
            .iter()
            .filter(|f| !f.optional)
            .all(|f| self.attribute_names.contains(&f.sonata_name))
    }

    /// `<group>/<name>` of the first attribute group holding `name` (`0/<name>` when unknown),
    /// for messages.
    fn column_path(&self, name: &str) -> String {
        let group = self
            .pop
            .attribute_columns()
            .ok()
            .and_then(|cols| cols.into_iter().find(|c| c.name == name).map(|c| c.group))
            .unwrap_or_else(|| "0".to_string());
        format!("{group}/{name}")
    }

    /// `_populate`: stores `values` (split per gid) as field `name` of every fetched gid.
    fn populate(&mut self, fetched: &Fetched, name: &str, values: &DataColumn) {
        for (gid, rows) in &fetched.groups {
            let part = match values {
                DataColumn::Scalar(s) => DataColumn::Scalar(*s),
                DataColumn::Values(v) => DataColumn::Values(gather(v, rows)),
            };
            let entry = self
                .data
                .entry(*gid)
                .or_insert_with(|| Entry::Data(GidData::new()));
            if let Entry::Empty = entry {
                *entry = Entry::Data(GidData::new());
            }
            if let Entry::Data(d) = entry {
                d.insert(name, part);
            }
        }
    }

    /// `_preload_data_chunk`.
    fn preload_chunk(&mut self, gids: &[u64], minimal_mode: bool) -> Result<()> {
        let mut needed: Vec<u64> = gids
            .iter()
            .copied()
            .filter(|g| !self.data.contains_key(g))
            .collect();
        needed.sort_unstable();
        needed.dedup();
        if needed.is_empty() {
            return Ok(());
        }
        let fetched = self.fetch(&needed, minimal_mode)?;
        for gid in &needed {
            if !fetched.groups.contains_key(gid) {
                self.data.entry(*gid).or_insert(Entry::Empty);
            }
        }
        let variant = self.options.variant;

        // (a) the opposite node id, (b) the edge ids.
        let opposite = if variant.lookup_by_target {
            self.pop.source_ids()
        } else {
            self.pop.target_ids()
        };
        let ids = opposite.read_selection(&fetched.selection())?;
        let ids = AttributeValues::Int(ids.into_iter().map(|v| v as i64).collect());
        self.populate(&fetched, variant.computed_field(), &DataColumn::Values(ids));
        let edge_ids = AttributeValues::UInt(fetched.edges.clone());
        for name in SYNAPSE_INDEX_NAMES {
            self.populate(&fetched, name, &DataColumn::Values(edge_ids.clone()));
        }

        // (c) generic fields, sorted by field name.
        let mut exclude: Vec<&str> = variant.custom_parameters.to_vec();
        exclude.extend_from_slice(COMPUTE_FIELDS);
        let mut generic = variant
            .parameters
            .fields(&exclude, variant.parameter_mapping);
        generic.sort_by(|a, b| a.name.cmp(b.name));
        for field in &generic {
            let values = self.read(&fetched, &field.sonata_name, field.optional)?;
            self.populate(&fetched, field.name, &values);
        }

        // (d) custom fields.
        if !variant.custom_parameters.is_empty() {
            if minimal_mode {
                for (name, v) in [("isec", 0), ("ipt", -1), ("offset", 0)] {
                    self.populate(&fetched, name, &DataColumn::Scalar(v));
                }
            } else {
                self.load_position(&fetched)?;
            }
            for (name, v) in variant.constants {
                self.populate(&fetched, name, &DataColumn::Scalar(*v));
            }
        }
        if minimal_mode {
            // As neurodamus: minimal mode skips the extra fields.
            return Ok(());
        }

        // (e) extra fields of the override, sorted, mandatory.
        for field in self.pending_extras() {
            let values = self.read(&fetched, variant.sonata_name(&field), false)?;
            self.populate(&fetched, &field, &values);
        }
        Ok(())
    }

    /// Extra fields that are not base fields, by name.
    fn pending_extras(&self) -> Vec<String> {
        let base = self.options.variant.parameters.all_fields();
        self.extra_fields
            .iter()
            .filter(|f| !base.contains(&f.as_str()) && !COMPUTE_FIELDS.contains(&f.as_str()))
            .cloned()
            .collect()
    }

    /// Reads the extra fields `gid` lacks (an override configured after it was loaded; neurodamus
    /// fails with "Missing mandatory attribute" there).
    fn load_missing_extras(&mut self, gid: u64) -> Result<()> {
        let missing: Vec<String> = match self.data.get(&gid) {
            Some(Entry::Data(d)) => self
                .pending_extras()
                .into_iter()
                .filter(|f| !d.contains(f))
                .collect(),
            _ => return Ok(()),
        };
        if missing.is_empty() {
            return Ok(());
        }
        let fetched = self.fetch(&[gid], false)?;
        let variant = self.options.variant;
        for field in missing {
            let values = self.read(&fetched, variant.sonata_name(&field), false)?;
            self.populate(&fetched, &field, &values);
        }
        Ok(())
    }

    /// `_load_params_custom`: the synapse position, from the SONATA attributes or the legacy ones.
    fn load_position(&mut self, fetched: &Fetched) -> Result<()> {
        let has = |n: &str| self.has_property(n);
        let (isec, ipt, offset) = if has("afferent_section_id") {
            if has("afferent_section_pos") {
                ("afferent_section_id", None, "afferent_section_pos")
            } else if has("afferent_section_fraction") {
                ("afferent_section_id", None, "afferent_section_fraction")
            } else {
                (
                    "afferent_section_id",
                    Some("afferent_segment_id"),
                    "afferent_segment_offset",
                )
            }
        } else if has("morpho_section_fraction_post") {
            (
                "morpho_section_id_post",
                None,
                "morpho_section_fraction_post",
            )
        } else {
            (
                "morpho_section_id_post",
                Some("morpho_segment_id_post"),
                "morpho_offset_segment_post",
            )
        };
        let values = self.read(fetched, isec, false)?;
        self.populate(fetched, "isec", &values);
        let values = match ipt {
            // -1: `offset` is a section fraction.
            None => DataColumn::Scalar(-1),
            Some(name) => self.read(fetched, name, false)?,
        };
        self.populate(fetched, "ipt", &values);
        let values = self.read(fetched, offset, false)?;
        self.populate(fetched, "offset", &values);
        Ok(())
    }
}

/// The values at `rows`, in that order.
fn gather(values: &AttributeValues, rows: &[usize]) -> AttributeValues {
    fn pick<T: Clone>(v: &[T], rows: &[usize]) -> Vec<T> {
        rows.iter().filter_map(|&i| v.get(i).cloned()).collect()
    }
    match values {
        AttributeValues::Int(v) => AttributeValues::Int(pick(v, rows)),
        AttributeValues::UInt(v) => AttributeValues::UInt(pick(v, rows)),
        AttributeValues::Float(v) => AttributeValues::Float(pick(v, rows)),
        AttributeValues::Str(v) => AttributeValues::Str(pick(v, rows)),
    }
}

/// Largest index (both tables, 16 B per row) a reader holds in memory: 64 MiB, an index of about
/// two million nodes of a file sorted by target. Larger ones are read from the file at each
/// lookup, only the rows needed.
pub const INDEX_IN_MEMORY_BYTES: u64 = 64 << 20;
