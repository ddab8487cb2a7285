//! `SynapseParameters` of neurodamus 4.2.9 as a typed columnar record table.
//!
//! neurodamus describes synapse parameters with numpy record arrays whose dtype is built from a
//! class attribute `_fields` (name → dtype, in order), `_optional` (name → default) and
//! `_reserved` (name → constant). Subclasses only swap these dictionaries, so here they are data:
//! a [`ParameterSet`] is a static list of [`FieldSpec`]s, and every subclass is one constant
//! ([`SYNAPSE`], [`GAP_JUNCTION`], [`NEUROMODULATION`], [`POINT_PROCESS`], [`EXP2SYN`],
//! [`NEUROGLIA`]). The record array itself is a [`SynapseParameters`] table: one `ndarray` column
//! per field, in field order, the first one being `sgid` (or `tgid` for neuroglia), then the
//! extra `f64` fields.

use ndarray::Array1;

use crate::error::{Error, Result};
use crate::sonata::attributes::AttributeValues;

/// Storage type of one field (numpy dtype).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `int32` (`<i4`).
    I32,
    /// `int64` (`<i8`).
    I64,
    /// `float64` (`<f8`).
    F64,
}

impl FieldType {
    /// The numpy dtype string (`"<i4"`, `"<i8"`, `"<f8"`), as `np.dtype(...).str` prints it.
    pub fn numpy_str(self) -> &'static str {
        match self {
            FieldType::I32 => "<i4",
            FieldType::I64 => "<i8",
            FieldType::F64 => "<f8",
        }
    }

    /// Whether values of this type are integers.
    pub fn is_integer(self) -> bool {
        !matches!(self, FieldType::F64)
    }
}

/// How a field gets its values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRole {
    /// Read from the data; missing data is an error.
    Mandatory,
    /// Read from the data when present, else this default (`_optional`).
    Optional(f64),
    /// Always this constant (`_reserved`); never read.
    Reserved(f64),
}

/// One field of a record layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// Field name.
    pub name: &'static str,
    /// Storage type.
    pub dtype: FieldType,
    /// Where the value comes from.
    pub role: FieldRole,
}

const fn mandatory(name: &'static str, dtype: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        dtype,
        role: FieldRole::Mandatory,
    }
}

const fn optional(name: &'static str, dtype: FieldType, default: f64) -> FieldSpec {
    FieldSpec {
        name,
        dtype,
        role: FieldRole::Optional(default),
    }
}

const fn reserved(name: &'static str, value: f64) -> FieldSpec {
    FieldSpec {
        name,
        dtype: FieldType::F64,
        role: FieldRole::Reserved(value),
    }
}

use FieldType::{F64, I32, I64};

/// A record layout: neurodamus's `SynapseParameters` class or one of its subclasses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterSet {
    /// The neurodamus class name.
    pub class_name: &'static str,
    /// Fields in record order (`_fields`), each with its `_optional`/`_reserved` role.
    pub fields: &'static [FieldSpec],
}

/// `SynapseParameters`: the 16 fields of chemical synapses.
pub const SYNAPSE: ParameterSet = ParameterSet {
    class_name: "SynapseParameters",
    fields: &[
        mandatory("sgid", I64),
        mandatory("delay", F64),
        mandatory("isec", I32),
        mandatory("ipt", I32),
        mandatory("offset", F64),
        mandatory("weight", F64),
        mandatory("U", F64),
        mandatory("D", F64),
        mandatory("F", F64),
        mandatory("DTC", F64),
        mandatory("synType", I32),
        mandatory("nrrp", I32),
        optional("u_hill_coefficient", F64, 0.0),
        optional("conductance_ratio", F64, -1.0),
        reserved("maskValue", -1.0),
        reserved("location", 0.5),
    ],
};

/// `GapJunctionConnParameters` (gap_junction.py).
pub const GAP_JUNCTION: ParameterSet = ParameterSet {
    class_name: "GapJunctionConnParameters",
    fields: &[
        mandatory("sgid", I64),
        mandatory("isec", I64),
        mandatory("offset", F64),
        mandatory("weight", F64),
        mandatory("efferent_junction_id", I64),
        mandatory("afferent_junction_id", I64),
        mandatory("ipt", F64),
        reserved("location", 0.5),
    ],
};

/// `ModulationConnParameters` (neuromodulation_manager.py).
pub const NEUROMODULATION: ParameterSet = ParameterSet {
    class_name: "ModulationConnParameters",
    fields: &[
        mandatory("sgid", I64),
        mandatory("delay", F64),
        mandatory("isec", I64),
        mandatory("offset", F64),
        mandatory("neuromod_strength", F64),
        mandatory("neuromod_dtc", F64),
        mandatory("ipt", F64),
        reserved("location", 0.5),
        mandatory("weight", F64),
    ],
};

/// `PointProcessConnParameters` (allen_point.py).
pub const POINT_PROCESS: ParameterSet = ParameterSet {
    class_name: "PointProcessConnParameters",
    fields: &[
        mandatory("sgid", I64),
        mandatory("delay", F64),
        mandatory("isec", I32),
        mandatory("ipt", I32),
        mandatory("offset", F64),
        mandatory("weight", F64),
    ],
};

/// `Exp2SynConnParameters` (allen_point.py); its `_optional` is `{conductance_ratio: -1.0,
/// synType: -1}`.
pub const EXP2SYN: ParameterSet = ParameterSet {
    class_name: "Exp2SynConnParameters",
    fields: &[
        mandatory("sgid", I64),
        mandatory("delay", F64),
        mandatory("isec", I32),
        mandatory("ipt", I32),
        mandatory("offset", F64),
        mandatory("weight", F64),
        optional("synType", I32, -1.0),
        optional("conductance_ratio", F64, -1.0),
        reserved("location", 0.5),
        mandatory("tau1", F64),
        mandatory("tau2", F64),
        mandatory("erev", F64),
    ],
};

/// `NeuroGliaConnParameters` (ngv.py): looked up by source, so the first field is `tgid`.
pub const NEUROGLIA: ParameterSet = ParameterSet {
    class_name: "NeuroGliaConnParameters",
    fields: &[
        mandatory("tgid", I64),
        mandatory("synapse_id", I64),
        mandatory("astrocyte_section_id", I64),
        mandatory("astrocyte_segment_id", I64),
        mandatory("astrocyte_segment_offset", F64),
    ],
};

/// A field to load, as `SynapseParameters.fields(exclude, with_translation)` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadField {
    /// The record field.
    pub name: &'static str,
    /// The SONATA attribute it is read from (the translation, or the field name).
    pub sonata_name: String,
    /// Whether it is optional (absent attributes are then stored as -1 by the reader).
    pub optional: bool,
}

impl ParameterSet {
    /// Every field name, in record order (`all_fields()`; neurodamus returns a set).
    pub fn all_fields(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }

    /// Every field that is not reserved, in record order (`load_fields()`).
    pub fn load_fields(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter(|f| !matches!(f.role, FieldRole::Reserved(_)))
            .map(|f| f.name)
            .collect()
    }

    /// The field `name`, if this layout has it.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The record dtype: every field in order, then `extra_fields` as `f64` in the order given.
    ///
    /// neurodamus appends extra fields in the iteration order of a Python `set` (random across
    /// processes); [`super::SonataReader`] passes them sorted by name, so the layout is
    /// deterministic.
    pub fn dtype(&self, extra_fields: &[String]) -> Vec<(String, FieldType)> {
        self.fields
            .iter()
            .map(|f| (f.name.to_string(), f.dtype))
            .chain(extra_fields.iter().map(|n| (n.clone(), F64)))
            .collect()
    }

    /// `fields(exclude, with_translation)`: the loadable fields not in `exclude`, in record order
    /// (neurodamus returns set order and its caller sorts by name), each with its SONATA name
    /// (`translation` maps field → attribute; unmapped fields keep their name) and whether it is
    /// optional.
    pub fn fields(&self, exclude: &[&str], translation: &[(&str, &str)]) -> Vec<LoadField> {
        self.fields
            .iter()
            .filter(|f| !matches!(f.role, FieldRole::Reserved(_)) && !exclude.contains(&f.name))
            .map(|f| LoadField {
                name: f.name,
                sonata_name: translation
                    .iter()
                    .find(|(k, _)| *k == f.name)
                    .map_or(f.name, |(_, v)| *v)
                    .to_string(),
                optional: matches!(f.role, FieldRole::Optional(_)),
            })
            .collect()
    }

    /// `make_synapse_parameters_array`: builds the record table of one gid from `data`, then
    /// applies the delay patch ([`patch_delay`] with `dt`) and, when `extracellular_calcium` is
    /// given and the layout has `u_hill_coefficient`, the constrained-Hill scaling of `U` and of
    /// every `extra_scale_vars` column ([`constrained_hill`]).
    ///
    /// Empty `data` gives an empty table of the base layout (extra fields dropped, as in
    /// neurodamus). Reserved fields are their constant, optional fields take the data or their
    /// default, every other field (extra fields included) must be in `data`. Values are cast
    /// as numpy casts into the record: integers wrap, floats to integers truncate toward zero
    /// (saturating where numpy's result is undefined).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] "missing mandatory attribute NAME in the SONATA edge file" when
    /// a mandatory or extra field is absent from `data`, when columns of `data` have different
    /// lengths or hold strings, and when a scale variable is not a field of the record.
    pub fn make_synapse_parameters_array(
        &self,
        data: &GidData,
        extra_fields: &[String],
        extracellular_calcium: Option<f64>,
        extra_scale_vars: &[String],
        dt: f64,
    ) -> Result<SynapseParameters> {
        let Some(n) = data.len() else {
            return Ok(SynapseParameters::empty(self));
        };
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for (name, dtype) in self.dtype(extra_fields) {
            let role = self.field(&name).map_or(FieldRole::Mandatory, |f| f.role);
            let column = match (role, data.get(&name)) {
                (FieldRole::Reserved(v), _) => Column::filled(dtype, n, v),
                (FieldRole::Optional(default), None) => Column::filled(dtype, n, default),
                (_, Some(values)) => Column::from_data(dtype, values, n, &name)?,
                (FieldRole::Mandatory, None) => {
                    return Err(Error::InvalidArgument(format!(
                        "missing mandatory attribute {name} in the SONATA edge file"
                    )));
                }
            };
            names.push(name);
            columns.push(column);
        }
        let mut table = SynapseParameters {
            names,
            columns,
            len: n,
        };
        table.patch_delay(dt);
        table.scale_u(extracellular_calcium, extra_scale_vars)?;
        Ok(table)
    }
}

/// The delay patch of neurodamus (`_patch_delay_fp_inaccuracies`):
/// `(delay / dt + 1e-5).astype("i4") * dt`, i.e. the delay truncated down to a multiple of `dt`
/// after adding 1e-5 steps. Bit-exact with numpy in f64 (the cast saturates where numpy's is
/// undefined: NaN and values beyond `i32`).
pub fn patch_delay(delay: f64, dt: f64) -> f64 {
    f64::from((delay / dt + 1e-5) as i32) * dt
}

/// The constrained Hill function `(K^4 + 16) / 16 * y^4 / (K^4 + y^4)` of neurodamus
/// (`_constrained_hill`), evaluated in numpy's order with `pow` as numpy and Python call it.
/// It is 1 at `y = 2`.
pub fn constrained_hill(k_half: f64, y: f64) -> f64 {
    let k4 = k_half.powf(4.0);
    let y4 = y.powf(4.0);
    (k4 + 16.0) / 16.0 * y4 / (k4 + y4)
}

/// Values loaded for one field of one gid: a column in edge order, or a scalar that broadcasts
/// (-1 for an absent optional attribute, the constants of minimal mode, the neuromodulation
/// weight 1).
#[derive(Debug, Clone, PartialEq)]
pub enum DataColumn {
    /// One value for every row.
    Scalar(i64),
    /// One value per row.
    Values(AttributeValues),
}

impl DataColumn {
    /// The number of rows, `None` for a scalar.
    pub fn len(&self) -> Option<usize> {
        match self {
            DataColumn::Scalar(_) => None,
            DataColumn::Values(v) => Some(v.len()),
        }
    }

    /// Whether this is a column of no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// The loaded fields of one gid in load order (neurodamus's per-gid dict of `_data`); the
/// first entry gives the row count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GidData {
    entries: Vec<(String, DataColumn)>,
}

impl GidData {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` (replacing an earlier value, keeping its position).
    pub fn insert(&mut self, name: &str, values: DataColumn) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = values,
            None => self.entries.push((name.to_string(), values)),
        }
    }

    /// The values of `name`.
    pub fn get(&self, name: &str) -> Option<&DataColumn> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `name` is loaded.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Field names in load order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The row count: the length of the first entry (`None` when there is none; a first entry
    /// that is a scalar counts one row, as `len()` of a numpy scalar would fail).
    pub fn len(&self) -> Option<usize> {
        self.entries.first().map(|(_, v)| v.len().unwrap_or(1))
    }

    /// Whether no field is loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One typed column of a [`SynapseParameters`] table.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// `int32` values.
    I32(Array1<i32>),
    /// `int64` values.
    I64(Array1<i64>),
    /// `float64` values.
    F64(Array1<f64>),
}

/// One value of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An integer field's value.
    Int(i64),
    /// A float field's value.
    Float(f64),
}

impl Column {
    fn filled(dtype: FieldType, n: usize, v: f64) -> Column {
        match dtype {
            I32 => Column::I32(Array1::from_elem(n, v as i32)),
            I64 => Column::I64(Array1::from_elem(n, v as i64)),
            F64 => Column::F64(Array1::from_elem(n, v)),
        }
    }

    fn from_data(dtype: FieldType, data: &DataColumn, n: usize, name: &str) -> Result<Column> {
        let values = match data {
            DataColumn::Scalar(s) => {
                return Ok(match dtype {
                    I32 => Column::I32(Array1::from_elem(n, *s as i32)),
                    I64 => Column::I64(Array1::from_elem(n, *s)),
                    F64 => Column::F64(Array1::from_elem(n, *s as f64)),
                });
            }
            DataColumn::Values(v) => v,
        };
        if values.len() != n {
            return Err(Error::InvalidArgument(format!(
                "field {name} has {} values but the record has {n} rows",
                values.len()
            )));
        }
        // numpy's unsafe casts on assignment: integers wrap, floats truncate toward zero.
        Ok(match (dtype, values) {
            (I32, AttributeValues::Int(v)) => Column::I32(v.iter().map(|&x| x as i32).collect()),
            (I32, AttributeValues::UInt(v)) => Column::I32(v.iter().map(|&x| x as i32).collect()),
            (I32, AttributeValues::Float(v)) => Column::I32(v.iter().map(|&x| x as i32).collect()),
            (I64, AttributeValues::Int(v)) => Column::I64(Array1::from_vec(v.clone())),
            (I64, AttributeValues::UInt(v)) => Column::I64(v.iter().map(|&x| x as i64).collect()),
            (I64, AttributeValues::Float(v)) => Column::I64(v.iter().map(|&x| x as i64).collect()),
            (F64, AttributeValues::Int(v)) => Column::F64(v.iter().map(|&x| x as f64).collect()),
            (F64, AttributeValues::UInt(v)) => Column::F64(v.iter().map(|&x| x as f64).collect()),
            (F64, AttributeValues::Float(v)) => Column::F64(Array1::from_vec(v.clone())),
            (_, AttributeValues::Str(_)) => {
                return Err(Error::InvalidArgument(format!(
                    "field {name} holds strings, not numbers"
                )));
            }
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::I32(a) => a.len(),
            Column::I64(a) => a.len(),
            Column::F64(a) => a.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage type.
    pub fn dtype(&self) -> FieldType {
        match self {
            Column::I32(_) => I32,
            Column::I64(_) => I64,
            Column::F64(_) => F64,
        }
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<Value> {
        match self {
            Column::I32(a) => a.get(i).map(|&v| Value::Int(i64::from(v))),
            Column::I64(a) => a.get(i).map(|&v| Value::Int(v)),
            Column::F64(a) => a.get(i).map(|&v| Value::Float(v)),
        }
    }
}

/// A record table: the Rust form of neurodamus's `SynapseParameters` record array for one gid.
/// Columns are in record order (`sgid`, or `tgid` for neuroglia, first; extra `f64` fields
/// last); rows are synapses in ascending edge id.
#[derive(Debug, Clone, PartialEq)]
pub struct SynapseParameters {
    names: Vec<String>,
    columns: Vec<Column>,
    len: usize,
}

impl SynapseParameters {
    /// A table of no rows with the base layout of `set`.
    pub fn empty(set: &ParameterSet) -> Self {
        SynapseParameters {
            names: set.fields.iter().map(|f| f.name.to_string()).collect(),
            columns: set
                .fields
                .iter()
                .map(|f| Column::filled(f.dtype, 0, 0.0))
                .collect(),
            len: 0,
        }
    }

    /// Number of rows (synapses).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Field names in record order.
    pub fn field_names(&self) -> &[String] {
        &self.names
    }

    /// `(name, type)` of every field in record order.
    pub fn dtype(&self) -> Vec<(&str, FieldType)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.columns.iter().map(Column::dtype))
            .collect()
    }

    /// Columns with their names, in record order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.columns.iter())
    }

    /// The column `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.position(name).map(|i| &self.columns[i])
    }

    /// The column `name` when it is `f64`.
    pub fn f64_column(&self, name: &str) -> Option<&Array1<f64>> {
        match self.column(name)? {
            Column::F64(a) => Some(a),
            _ => None,
        }
    }

    /// The column `name` widened to `i64` when it is an integer column.
    pub fn int_column(&self, name: &str) -> Option<Vec<i64>> {
        match self.column(name)? {
            Column::I32(a) => Some(a.iter().map(|&v| i64::from(v)).collect()),
            Column::I64(a) => Some(a.to_vec()),
            Column::F64(_) => None,
        }
    }

    /// Row `i` as `(field, value)` pairs in record order.
    pub fn row(&self, i: usize) -> Option<Vec<(&str, Value)>> {
        if i >= self.len {
            return None;
        }
        self.columns()
            .map(|(n, c)| c.get(i).map(|v| (n, v)))
            .collect()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn patch_delay(&mut self, dt: f64) {
        if let Some(i) = self.position("delay")
            && let Column::F64(d) = &mut self.columns[i]
        {
            d.mapv_inplace(|v| patch_delay(v, dt));
        }
    }

    fn scale_u(&mut self, calcium: Option<f64>, extra_scale_vars: &[String]) -> Result<()> {
        let Some(ca) = calcium else { return Ok(()) };
        if self.len == 0 {
            return Ok(());
        }
        let Some(Column::F64(k)) = self
            .position("u_hill_coefficient")
            .map(|i| &self.columns[i])
        else {
            return Ok(());
        };
        let factors: Vec<f64> = k.iter().map(|&k| constrained_hill(k, ca)).collect();
        // U first, then the scale variables in the order given (a repeated name scales twice, as
        // in numpy).
        for var in std::iter::once("U").chain(extra_scale_vars.iter().map(String::as_str)) {
            let i = self.position(var).ok_or_else(|| {
                Error::InvalidArgument(format!("scale variable {var} is not a record field"))
            })?;
            match &mut self.columns[i] {
                Column::F64(a) => a.iter_mut().zip(&factors).for_each(|(x, s)| *x *= s),
                // numpy multiplies in f64 and casts back on assignment.
                Column::I32(a) => a
                    .iter_mut()
                    .zip(&factors)
                    .for_each(|(x, s)| *x = (f64::from(*x) * s) as i32),
                Column::I64(a) => a
                    .iter_mut()
                    .zip(&factors)
                    .for_each(|(x, s)| *x = (*x as f64 * s) as i64),
            }
        }
        Ok(())
    }
}
