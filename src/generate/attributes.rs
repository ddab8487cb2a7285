//! The attribute columns the generator writes (BBP chemical synapses, bmtk `nsyns` and
//! `syn_weight`): their storage types, value distributions and the column sets of each group.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Value of one attribute row from the row's "source is inhibitory" flag.
pub(super) type ValueFn<T> = fn(&mut StdRng, bool) -> T;

/// How an attribute column is stored and drawn.
#[derive(Clone, Copy)]
pub(super) enum ColumnKind {
    F32(ValueFn<f32>),
    F64(ValueFn<f64>),
    U32(ValueFn<u32>),
    U16(ValueFn<u16>),
}

/// One attribute column of a group.
#[derive(Clone, Copy)]
pub(super) struct ColumnSpec {
    pub(super) name: &'static str,
    pub(super) kind: ColumnKind,
}

/// One chunk of one attribute column.
pub(super) enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32(Vec<u32>),
    U16(Vec<u16>),
}

impl ColumnKind {
    pub(super) fn create(
        self,
        group: &hdf5::Group,
        name: &str,
        rows: usize,
    ) -> hdf5::Result<hdf5::Dataset> {
        match self {
            ColumnKind::F32(_) => create_1d::<f32>(group, name, rows),
            ColumnKind::F64(_) => create_1d::<f64>(group, name, rows),
            ColumnKind::U32(_) => create_1d::<u32>(group, name, rows),
            ColumnKind::U16(_) => create_1d::<u16>(group, name, rows),
        }
    }

    pub(super) fn draw(self, rng: &mut StdRng, inhibitory: &[bool]) -> Values {
        fn fill<T>(rng: &mut StdRng, inhibitory: &[bool], f: ValueFn<T>) -> Vec<T> {
            inhibitory.iter().map(|&inh| f(rng, inh)).collect()
        }
        match self {
            ColumnKind::F32(f) => Values::F32(fill(rng, inhibitory, f)),
            ColumnKind::F64(f) => Values::F64(fill(rng, inhibitory, f)),
            ColumnKind::U32(f) => Values::U32(fill(rng, inhibitory, f)),
            ColumnKind::U16(f) => Values::U16(fill(rng, inhibitory, f)),
        }
    }
}

impl Values {
    pub(super) fn write(&self, ds: &hdf5::Dataset, start: usize) -> hdf5::Result<()> {
        match self {
            Values::F32(v) => write_rows(ds, start, v),
            Values::F64(v) => write_rows(ds, start, v),
            Values::U32(v) => write_rows(ds, start, v),
            Values::U16(v) => write_rows(ds, start, v),
        }
    }
}

pub(super) fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    mean + sd * z
}

pub(super) fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    median * (sigma * z).exp()
}

// BBP chemical synapse parameters: excitatory / inhibitory values after the SSCx model's
// typical magnitudes (nS, ms, probability), with some spread.
pub(super) fn bbp_conductance(rng: &mut StdRng, inh: bool) -> f32 {
    lognormal(rng, if inh { 1.5 } else { 0.8 }, 0.5) as f32
}
pub(super) fn bbp_decay_time(rng: &mut StdRng, inh: bool) -> f32 {
    let mean = if inh { 8.3 } else { 1.74 };
    normal(rng, mean, 0.1 * mean).max(0.1) as f32
}
pub(super) fn bbp_depression_time(rng: &mut StdRng, inh: bool) -> f32 {
    normal(rng, if inh { 700.0 } else { 671.0 }, 120.0).max(1.0) as f32
}
pub(super) fn bbp_facilitation_time(rng: &mut StdRng, inh: bool) -> f32 {
    normal(rng, if inh { 21.0 } else { 17.0 }, 5.0).max(0.0) as f32
}
pub(super) fn bbp_u_syn(rng: &mut StdRng, inh: bool) -> f32 {
    let (mean, sd) = if inh { (0.25, 0.05) } else { (0.5, 0.1) };
    normal(rng, mean, sd).clamp(0.01, 1.0) as f32
}
pub(super) fn bbp_delay(rng: &mut StdRng, _inh: bool) -> f32 {
    let e: f64 = Exp1.sample(rng);
    (0.1 + e) as f32
}
pub(super) fn bbp_section_pos(rng: &mut StdRng, _inh: bool) -> f32 {
    rng.random::<f32>()
}
pub(super) fn bbp_segment_offset(rng: &mut StdRng, _inh: bool) -> f32 {
    3.0 * rng.random::<f32>()
}
pub(super) fn bbp_syn_type_id(rng: &mut StdRng, inh: bool) -> u32 {
    if inh {
        rng.random_range(0..10)
    } else {
        100 + rng.random_range(0..20)
    }
}
pub(super) fn bbp_n_rrp_vesicles(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(1..=3)
}
pub(super) fn bbp_section_id(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(0..250)
}
pub(super) fn bbp_section_type(rng: &mut StdRng, inh: bool) -> u32 {
    // soma = 1, basal = 3, apical = 4 (axo-axonic synapses are left out).
    let soma = if inh { 20 } else { 2 };
    match rng.random_range(0..100) {
        r if r < soma => 1,
        r if r < 60 => 3,
        _ => 4,
    }
}
pub(super) fn bbp_segment_id(rng: &mut StdRng, _inh: bool) -> u32 {
    rng.random_range(0..40)
}

// bmtk columns.
pub(super) fn bmtk_nsyns(rng: &mut StdRng, _inh: bool) -> u16 {
    rng.random_range(1..=8)
}
pub(super) fn bmtk_syn_weight(rng: &mut StdRng, inh: bool) -> f64 {
    lognormal(rng, if inh { 4e-4 } else { 2e-4 }, 0.5)
}
pub(super) fn bmtk_delay(rng: &mut StdRng, _inh: bool) -> f64 {
    let e: f64 = Exp1.sample(rng);
    1.0 + e
}

pub(super) const fn col(name: &'static str, kind: ColumnKind) -> ColumnSpec {
    ColumnSpec { name, kind }
}

pub(super) const BBP_FULL: &[ColumnSpec] = &[
    col("conductance", ColumnKind::F32(bbp_conductance)),
    col("decay_time", ColumnKind::F32(bbp_decay_time)),
    col("depression_time", ColumnKind::F32(bbp_depression_time)),
    col("facilitation_time", ColumnKind::F32(bbp_facilitation_time)),
    col("u_syn", ColumnKind::F32(bbp_u_syn)),
    col("delay", ColumnKind::F32(bbp_delay)),
    col("afferent_section_pos", ColumnKind::F32(bbp_section_pos)),
    col(
        "afferent_segment_offset",
        ColumnKind::F32(bbp_segment_offset),
    ),
    col("syn_type_id", ColumnKind::U32(bbp_syn_type_id)),
    col("n_rrp_vesicles", ColumnKind::U32(bbp_n_rrp_vesicles)),
    col("afferent_section_id", ColumnKind::U32(bbp_section_id)),
    col("afferent_section_type", ColumnKind::U32(bbp_section_type)),
    col("afferent_segment_id", ColumnKind::U32(bbp_segment_id)),
];

pub(super) const BBP_SUBSET: &[ColumnSpec] = &[
    col("conductance", ColumnKind::F32(bbp_conductance)),
    col("syn_type_id", ColumnKind::U32(bbp_syn_type_id)),
];

pub(super) const BMTK_FULL: &[ColumnSpec] = &[
    col(schema::NSYNS, ColumnKind::U16(bmtk_nsyns)),
    col("syn_weight", ColumnKind::F64(bmtk_syn_weight)),
    col("delay", ColumnKind::F64(bmtk_delay)),
];

pub(super) const BMTK_SUBSET: &[ColumnSpec] = &[
    col(schema::NSYNS, ColumnKind::U16(bmtk_nsyns)),
    col("syn_weight", ColumnKind::F64(bmtk_syn_weight)),
];

/// The columns of attribute group `group`.
pub(super) fn group_columns(attributes: AttributeSet, group: u32) -> &'static [ColumnSpec] {
    match (attributes, group) {
        (AttributeSet::None, _) => &[],
        (AttributeSet::Bbp, 0) => BBP_FULL,
        (AttributeSet::Bbp, _) => BBP_SUBSET,
        (AttributeSet::Bmtk, 0) => BMTK_FULL,
        (AttributeSet::Bmtk, _) => BMTK_SUBSET,
    }
}
