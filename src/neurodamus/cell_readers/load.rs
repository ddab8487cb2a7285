//! neurodamus `load_sonata`: the cells one rank instantiates, normal and dry-run paths
//! (neurodamus-io.md §1.1).
//!
//! Every attribute is read once for the whole selection with block reads, not once per cell.
//!
//! Deliberate differences from neurodamus 4.2.9 (also in the README):
//! - `_get_rotations` reads the z angle only when `rotation_angle_yaxis` exists (a typo); here
//!   each Euler angle is read when its own column exists, a missing one is 0 for every cell
//!   (neurodamus fails on the ragged array instead).
//! - The dry-run path with no gids uses every cell (neurodamus fails building a Selection from
//!   `None`).
//! - `_getNeededAttributes` (extra data named by hoc templates) needs NEURON and is not done.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sonata::attributes::AttributeValues;
use crate::sonata::nodes::NodePopulation;

use super::distribution::{
    Metypes, dry_run_distribution, retrieve_unique_metypes, split_round_robin,
};

/// Cells per me-type whose info the dry run loads (`CELL_NODE_INFO_LIMIT`).
pub const CELL_NODE_INFO_LIMIT: usize = 100;

/// Prefix of dynamic properties read from `dynamics_params`.
pub const DYNAMICS_PREFIX: &str = "@dynamics:";

/// Options of [`load_sonata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Number of ranks (`stride`).
    pub stride: u64,
    /// This rank (`stride_offset`).
    pub stride_offset: u64,
    /// Extra properties: attribute names, or `@dynamics:<name>` for `dynamics_params`.
    pub dynamic_props: Vec<String>,
    /// The dry-run path (`SimConfig.dry_run` or `load_mode == "load_nodes_metype"`).
    pub dry_run: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            stride: 1,
            stride_offset: 0,
            dynamic_props: Vec::new(),
            dry_run: false,
        }
    }
}

/// What neurodamus's `METypeItem` holds for one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellInfo {
    /// `morphology`.
    pub morphology: String,
    /// `mtype`.
    pub mtype: String,
    /// `etype`; `None` when the population has none (normal path only).
    pub etype: Option<String>,
    /// `model_template` without its `hoc:` prefix.
    pub emodel: String,
    /// `dynamics_params/threshold_current`; 0.0 unless both currents exist.
    pub threshold_current: f64,
    /// `dynamics_params/holding_current`; 0.0 unless both currents exist.
    pub holding_current: f64,
    /// `exc_mini_frequency`; `None` unless both mini frequencies exist.
    pub exc_mini_frequency: Option<f64>,
    /// `inh_mini_frequency`; `None` unless both mini frequencies exist.
    pub inh_mini_frequency: Option<f64>,
    /// `(x, y, z)`; `None` on the dry-run path, which reads no positions.
    pub position: Option<[f64; 3]>,
    /// Quaternion `(x, y, z, w)`; `None` when the population has no orientation columns, and on
    /// the dry-run path.
    pub rotation: Option<[f64; 4]>,
    /// Dynamic properties, keyed by name without the `@dynamics:` prefix.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The result of [`load_sonata`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedCells {
    /// The gids this rank instantiates (`gidvec`).
    pub gids: Vec<u64>,
    /// Cell info in neurodamus's `METypeManager` insertion order. Normal path: the distinct
    /// gids of `gids`. Dry run: the first [`CELL_NODE_INFO_LIMIT`] gids of **every** me-type, so
    /// the keys differ from `gids`.
    pub cells: Vec<(u64, CellInfo)>,
    /// The population size (not the number of gids asked for).
    pub total_cells: u64,
    /// Dry run: the me-types of all gids (`pop_metype_gids` and `metype_counts`).
    pub metypes: Option<Metypes>,
}

/// neurodamus `load_sonata(circuit_conf, all_gids, stride, stride_offset, node_population=...,
/// load_dynamic_props=..., dry_run_stats=...)` on an open population.
///
/// `gids = None` means every cell.
///
/// # Errors
/// - [`Error::InvalidData`] with neurodamus's messages when a dynamic property is missing:
///   `Required Dynamics property @dynamics:X not present`, `Required extra property X not
///   present` (checked before anything is loaded);
/// - read errors (a missing `morphology`, `mtype` or `model_template`; a missing `etype` on the
///   dry-run path), ids out of range, a stride of 0 without gids.
pub fn load_sonata(
    pop: &NodePopulation,
    gids: Option<&[u64]>,
    options: &LoadOptions,
) -> Result<LoadedCells> {
    let total_cells = pop.size();
    validate_props(pop, &options.dynamic_props)?;
    if options.dry_run {
        return load_dry_run(pop, gids, options, total_cells);
    }
    let gidvec = split_round_robin(
        gids,
        options.stride,
        options.stride_offset,
        Some(total_cells),
    )?;
    if gidvec.is_empty() {
        return Ok(LoadedCells {
            gids: gidvec,
            cells: Vec::new(),
            total_cells,
            metypes: None,
        });
    }
    let morphology = pop.strings("morphology", &gidvec)?;
    let mtype = pop.strings("mtype", &gidvec)?;
    // neurodamus catches the missing etype (Allen V1 RingB) and goes on without one.
    let etype = if pop.has_attribute("etype")? {
        Some(pop.strings("etype", &gidvec)?)
    } else {
        None
    };
    let emodel = emodels(pop, &gidvec)?;
    let minis =
        if pop.has_attribute("exc_mini_frequency")? && pop.has_attribute("inh_mini_frequency")? {
            Some((
                floats(pop.attribute("exc_mini_frequency", &gidvec)?),
                floats(pop.attribute("inh_mini_frequency", &gidvec)?),
            ))
        } else {
            None
        };
    let currents = if pop.has_dynamics_attribute("threshold_current")?
        && pop.has_dynamics_attribute("holding_current")?
    {
        Some((
            floats(pop.dynamics_attribute("threshold_current", &gidvec)?),
            floats(pop.dynamics_attribute("holding_current", &gidvec)?),
        ))
    } else {
        None
    };
    let x = floats(pop.attribute("x", &gidvec)?);
    let y = floats(pop.attribute("y", &gidvec)?);
    let z = floats(pop.attribute("z", &gidvec)?);
    let rotations = rotations(pop, &gidvec)?;
    let mut cells: Vec<(u64, CellInfo)> = Vec::with_capacity(gidvec.len());
    for (k, &gid) in gidvec.iter().enumerate() {
        // METypeManager is a dict: a repeated gid keeps its first slot, the last value wins.
        let info = CellInfo {
            morphology: morphology[k].clone(),
            mtype: mtype[k].clone(),
            etype: etype.as_ref().map(|e| e[k].clone()),
            emodel: emodel[k].clone(),
            threshold_current: currents.as_ref().map_or(0.0, |c| c.0[k]),
            holding_current: currents.as_ref().map_or(0.0, |c| c.1[k]),
            exc_mini_frequency: minis.as_ref().map(|m| m.0[k]),
            inh_mini_frequency: minis.as_ref().map(|m| m.1[k]),
            position: Some([x[k], y[k], z[k]]),
            rotation: rotations.as_ref().map(|r| r[k]),
            extra: BTreeMap::new(),
        };
        match cells.last() {
            Some((last, _)) if *last == gid => {
                if let Some(slot) = cells.last_mut() {
                    slot.1 = info;
                }
            }
            _ => cells.push((gid, info)),
        }
    }
    load_props(pop, &options.dynamic_props, &mut cells)?;
    Ok(LoadedCells {
        gids: gidvec,
        cells,
        total_cells,
        metypes: None,
    })
}

fn load_dry_run(
    pop: &NodePopulation,
    gids: Option<&[u64]>,
    options: &LoadOptions,
    total_cells: u64,
) -> Result<LoadedCells> {
    let all: Vec<u64>;
    let gids = match gids {
        Some(g) => g,
        None => {
            all = (0..total_cells).collect();
            &all
        }
    };
    let metypes = retrieve_unique_metypes(pop, gids, &[])?;
    let gidvec = dry_run_distribution(&metypes.bundles(), options.stride, options.stride_offset)?;
    // The first CELL_NODE_INFO_LIMIT cells of every me-type, whatever this rank owns.
    let mut info_gids: Vec<u64> = Vec::new();
    for (_, g) in &metypes.gids {
        info_gids.extend(g.iter().take(CELL_NODE_INFO_LIMIT));
    }
    let morphology = pop.strings("morphology", &info_gids)?;
    let mtype = pop.strings("mtype", &info_gids)?;
    let etype = pop.strings("etype", &info_gids)?;
    let emodel = emodels(pop, &info_gids)?;
    let mut cells: Vec<(u64, CellInfo)> = Vec::with_capacity(info_gids.len());
    let mut seen = std::collections::HashSet::new();
    for (k, &gid) in info_gids.iter().enumerate() {
        if !seen.insert(gid) {
            continue;
        }
        cells.push((
            gid,
            CellInfo {
                morphology: morphology[k].clone(),
                mtype: mtype[k].clone(),
                etype: Some(etype[k].clone()),
                emodel: emodel[k].clone(),
                threshold_current: 0.0,
                holding_current: 0.0,
                exc_mini_frequency: None,
                inh_mini_frequency: None,
                position: None,
                rotation: None,
                extra: BTreeMap::new(),
            },
        ));
    }
    load_props(pop, &options.dynamic_props, &mut cells)?;
    Ok(LoadedCells {
        gids: gidvec,
        cells,
        total_cells,
        metypes: Some(metypes),
    })
}

/// Checks every dynamic property exists, with neurodamus's messages.
fn validate_props(pop: &NodePopulation, props: &[String]) -> Result<()> {
    if props.is_empty() {
        return Ok(());
    }
    let attrs = pop.attribute_names()?;
    let dynamics = pop.dynamics_attribute_names()?;
    for p in props {
        match p.strip_prefix(DYNAMICS_PREFIX) {
            Some(name) if !dynamics.iter().any(|d| d == name) => {
                return Err(Error::invalid(
                    pop.location().clone(),
                    format!("Required Dynamics property {p} not present"),
                ));
            }
            None if !attrs.iter().any(|a| a == p) => {
                return Err(Error::invalid(
                    pop.location().clone(),
                    format!("Required extra property {p} not present"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads every dynamic property for the cells' gids and stores them in `extra`.
fn load_props(pop: &NodePopulation, props: &[String], cells: &mut [(u64, CellInfo)]) -> Result<()> {
    if props.is_empty() || cells.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = cells.iter().map(|(g, _)| *g).collect();
    for p in props {
        let (name, values) = match p.strip_prefix(DYNAMICS_PREFIX) {
            Some(name) => (name, pop.dynamics_attribute(name, &ids)?),
            None => (p.as_str(), pop.attribute(p, &ids)?),
        };
        let values = json_values(values);
        for ((_, cell), v) in cells.iter_mut().zip(values) {
            cell.extra.insert(name.to_string(), v);
        }
    }
    Ok(())
}

fn json_values(values: AttributeValues) -> Vec<serde_json::Value> {
    use serde_json::Value;
    match values {
        AttributeValues::Int(v) => v.into_iter().map(Value::from).collect(),
        AttributeValues::UInt(v) => v.into_iter().map(Value::from).collect(),
        // Non-finite floats have no JSON form; they become null.
        AttributeValues::Float(v) => v.into_iter().map(Value::from).collect(),
        AttributeValues::Str(v) => v.into_iter().map(Value::from).collect(),
    }
}

/// `model_template` values without their `hoc:` prefix (Python's `removeprefix`).
fn emodels(pop: &NodePopulation, ids: &[u64]) -> Result<Vec<String>> {
    Ok(pop
        .strings("model_template", ids)?
        .into_iter()
        .map(|s| match s.strip_prefix("hoc:") {
            Some(rest) => rest.to_string(),
            None => s,
        })
        .collect())
}

/// Numbers as `f64` (strings give NaN; callers read numeric columns).
fn floats(values: AttributeValues) -> Vec<f64> {
    match values {
        AttributeValues::Int(v) => v.into_iter().map(|x| x as f64).collect(),
        AttributeValues::UInt(v) => v.into_iter().map(|x| x as f64).collect(),
        AttributeValues::Float(v) => v,
        AttributeValues::Str(v) => v.iter().map(|s| s.parse().unwrap_or(f64::NAN)).collect(),
    }
}

/// neurodamus `_get_rotations`, without its z-angle typo: quaternions `(x, y, z, w)` from
/// `orientation_{x,y,z,w}`, else from the extrinsic `xyz` Euler angles
/// `rotation_angle_{x,y,z}axis` (a missing axis is 0), else `None`.
///
/// # Errors
/// Read errors of the columns.
pub fn rotations(pop: &NodePopulation, ids: &[u64]) -> Result<Option<Vec<[f64; 4]>>> {
    let names = pop.attribute_names()?;
    let has = |n: &str| names.iter().any(|a| a == n);
    if [
        "orientation_x",
        "orientation_y",
        "orientation_z",
        "orientation_w",
    ]
    .iter()
    .all(|n| has(n))
    {
        let ox = floats(pop.attribute("orientation_x", ids)?);
        let oy = floats(pop.attribute("orientation_y", ids)?);
        let oz = floats(pop.attribute("orientation_z", ids)?);
        let ow = floats(pop.attribute("orientation_w", ids)?);
        return Ok(Some(
            (0..ids.len())
                .map(|k| [ox[k], oy[k], oz[k], ow[k]])
                .collect(),
        ));
    }
    let axes = [
        "rotation_angle_xaxis",
        "rotation_angle_yaxis",
        "rotation_angle_zaxis",
    ];
    if !axes.iter().any(|n| has(n)) {
        return Ok(None);
    }
    let mut angles: Vec<Vec<f64>> = Vec::with_capacity(3);
    for axis in axes {
        angles.push(if has(axis) {
            floats(pop.attribute(axis, ids)?)
        } else {
            vec![0.0; ids.len()]
        });
    }
    Ok(Some(
        (0..ids.len())
            .map(|k| euler_xyz_extrinsic(angles[0][k], angles[1][k], angles[2][k]))
            .collect(),
    ))
}

/// scipy `Rotation.from_euler("xyz", [ax, ay, az]).as_quat()`: extrinsic rotations about x,
/// then y, then z (R = Rz·Ry·Rx), as `(x, y, z, w)`.
pub fn euler_xyz_extrinsic(ax: f64, ay: f64, az: f64) -> [f64; 4] {
    let elementary = |axis: usize, angle: f64| {
        let mut q = [0.0, 0.0, 0.0, (angle / 2.0).cos()];
        q[axis] = (angle / 2.0).sin();
        q
    };
    let qx = elementary(0, ax);
    let qy = elementary(1, ay);
    let qz = elementary(2, az);
    // Extrinsic x then y then z: q = qz * qy * qx (scipy composes the same way).
    quat_mul(quat_mul(qz, qy), qx)
}

/// Hamilton product of quaternions stored `(x, y, z, w)`.
fn quat_mul(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    let [ax, ay, az, aw] = a;
    let [bx, by, bz, bw] = b;
    [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]
}
