//! Which part of the edges one process of a sharded census counts (issue 16's `count --shard
//! i/N`): the shard from its text or from the launcher's variables, the edge range it owns, and
//! the path of its partial table file.
//!
//! One scheme for every file, so that ranks never need to agree on anything: shard `k` of `N`
//! owns the edge rows `[k·E/N, (k+1)·E/N)` (integer division, computed in 128 bits), which tile
//! `[0, E)` whatever `E` and `N` (empty shards when `E < N`).
//!
//! The launcher's variables are read by the caller (the binary) and handed in as a lookup: the
//! library reads no environment variable. MPI launchers come first, since an `mpirun` inside an
//! sbatch script inherits the batch shell's `SLURM_PROCID=0`.
//!
//! A shard's census is an ordinary census of its rows ([`crate::sonata::EdgePopulation::rows`]),
//! written as a *partial* table file: its per-target synapse counts and its connection table,
//! which holds the shard's (target, source, synapses) runs sorted by (target, source), plus what
//! [`ShardHeader`] (file root) and [`PartialRecord`] (each population) record. What is not
//! additive across shards (per-target connection counts, the histogram, efferent tables,
//! pathway matrices) is computed by [`super::merge`] only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The launcher variables `--shard auto` reads, in order: (rank, size) pairs.
pub const LAUNCHER_VARIABLES: [(&str, &str); 3] = [
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("PMI_RANK", "PMI_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS"),
];

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u64,
    /// Number of shards, at least 1.
    pub count: u64,
}

/// How a shard is given: `i/N`, or `auto` (from the launcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// An explicit shard.
    Given(Shard),
    /// From the launcher's variables ([`Shard::from_launcher`]).
    Auto,
}

impl std::str::FromStr for ShardSpec {
    type Err = Error;

    /// `i/N` (0-based `i < N`) or `auto`.
    fn from_str(text: &str) -> Result<Self> {
        if text == "auto" {
            return Ok(ShardSpec::Auto);
        }
        let bad = |why: &str| {
            Error::InvalidArgument(format!(
                "shard '{text}': {why} (give i/N with 0 <= i < N, e.g. 0/4, or auto)"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let number = |s: &str| -> Result<u64> {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad(&format!("'{s}' is not a whole number")))
        };
        let (index, count) = (number(i)?, number(n)?);
        Shard::new(index, count).map(ShardSpec::Given).map_err(|_| {
            bad(if count == 0 {
                "N must be at least 1"
            } else {
                "i must be below N (shards are 0-based)"
            })
        })
    }
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `count` is 0 or `index >= count`.
    pub fn new(index: u64, count: u64) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::InvalidArgument(format!(
                "shard {index}/{count}: needs 0 <= i < N"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard the launcher gives this process, from `lookup` (the environment, read by the
    /// caller): the first pair of [`LAUNCHER_VARIABLES`] of which either variable is set.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the variables when one of a pair is set without the
    /// other, a value is not a whole number or out of range, or no launcher variable is set
    /// (`auto` outside a launcher is an error, never a silent single shard).
    pub fn from_launcher(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        for (rank_var, size_var) in LAUNCHER_VARIABLES {
            let (rank, size) = (lookup(rank_var), lookup(size_var));
            let (rank, size) = match (rank, size) {
                (None, None) => continue,
                (Some(r), Some(s)) => (r, s),
                (r, _) => {
                    let (set, unset) = if r.is_some() {
                        (rank_var, size_var)
                    } else {
                        (size_var, rank_var)
                    };
                    return Err(Error::InvalidArgument(format!(
                        "--shard auto: {set} is set but {unset} is not"
                    )));
                }
            };
            let number = |name: &str, value: &str| -> Result<u64> {
                value.trim().parse::<u64>().map_err(|_| {
                    Error::InvalidArgument(format!(
                        "--shard auto: {name}={value:?} is not a whole number"
                    ))
                })
            };
            let (index, count) = (number(rank_var, &rank)?, number(size_var, &size)?);
            return Shard::new(index, count).map_err(|_| {
                Error::InvalidArgument(format!(
                    "--shard auto: {rank_var}={index} and {size_var}={count} do not name a \
                     shard (needs 0 <= rank < size)"
                ))
            });
        }
        Err(Error::InvalidArgument(format!(
            "--shard auto: no launcher variable is set ({}): run under mpirun or srun, or give \
             --shard i/N",
            LAUNCHER_VARIABLES
                .iter()
                .map(|(r, s)| format!("{r}/{s}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// The edge rows this shard owns out of `edges`: `[k·E/N, (k+1)·E/N)`.
    pub fn edge_range(&self, edges: u64) -> std::ops::Range<u64> {
        let at = |k: u64| -> u64 {
            // k <= N and the product fits 128 bits; the quotient is at most E.
            (u128::from(k) * u128::from(edges) / u128::from(self.count)) as u64
        };
        at(self.index)..at(self.index + 1)
    }

    /// The partial table file of this shard for the output `out`: `{rank}` in the path replaced
    /// by the index, else `OUT.shard-<i>-of-<N>.h5` (the extension kept when there is one).
    pub fn output_path(&self, out: &Path) -> PathBuf {
        let text = out.to_string_lossy();
        if text.contains("{rank}") {
            return PathBuf::from(text.replace("{rank}", &self.index.to_string()));
        }
        let tag = format!("shard-{}-of-{}", self.index, self.count);
        let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = match (stem, out.extension()) {
            (Some(stem), Some(ext)) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
            (Some(stem), None) => format!("{stem}.{tag}"),
            (None, _) => tag,
        };
        out.with_file_name(name)
    }
}

/// The variables that give a rank's index among the ranks of its node, in order (Open MPI,
/// MPICH/Hydra, Slurm): a sharded run's rank takes that GPU of the node.
pub const LOCAL_RANK_VARIABLES: [&str; 3] = [
    "OMPI_COMM_WORLD_LOCAL_RANK",
    "MPI_LOCALRANKID",
    "SLURM_LOCALID",
];

/// The variable that gives a Slurm task's CPUs (`--cpus-per-task`): a rank's threads.
pub const CPUS_PER_TASK_VARIABLE: &str = "SLURM_CPUS_PER_TASK";

/// This rank's index among the ranks of its node, from the first of [`LOCAL_RANK_VARIABLES`]
/// set (`lookup` reads the environment, in the caller); `None` outside a launcher.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the variable when its value is not a whole number.
pub fn local_rank(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<(usize, &'static str)>> {
    for name in LOCAL_RANK_VARIABLES {
        if let Some(value) = lookup(name) {
            let rank = value.trim().parse::<usize>().map_err(|_| {
                Error::InvalidArgument(format!("{name}={value:?} is not a whole number"))
            })?;
            return Ok(Some((rank, name)));
        }
    }
    Ok(None)
}

/// The threads a rank may use: [`CPUS_PER_TASK_VARIABLE`] when set (at least 1).
///
/// # Errors
/// [`Error::InvalidArgument`] naming the variable when its value is not a positive number.
pub fn cpus_per_task(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<usize>> {
    let Some(value) = lookup(CPUS_PER_TASK_VARIABLE) else {
        return Ok(None);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(Error::InvalidArgument(format!(
            "{CPUS_PER_TASK_VARIABLE}={value:?} is not a positive number of CPUs"
        ))),
    }
}

/// Version of the [`ShardHeader`] layout; `merge` refuses others.
pub const SHARD_FORMAT: u32 = 1;

/// The count a partial file is a shard of, recorded at its root ([`super::schema::SHARD_HEADER`],
/// JSON): `merge` plans the same count again from it, so that the merged file is written by the
/// code `count` writes with (record, restriction, derived tables), and refuses shards of
/// different counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardHeader {
    /// [`SHARD_FORMAT`].
    pub format: u32,
    /// This file's shard index `i`.
    pub shard_index: u64,
    /// The number of shards `N`.
    pub shard_count: u64,
    /// What was asked; equal in every shard of one count.
    pub request: RecordedRequest,
}

/// A count request as recorded in a partial file: paths absolute (merge may run elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The edge file or circuit config counted.
    pub input: PathBuf,
    /// The populations asked for (none: every one).
    pub populations: Vec<String>,
    /// The number of targets given (an edge file only).
    pub nodes_count: Option<u64>,
    /// The node set the targets were restricted to.
    pub target_node_set: Option<String>,
    /// The node set the sources were restricted to.
    pub source_node_set: Option<String>,
    /// A node-sets file laid over the circuit's.
    pub node_sets: Option<PathBuf>,
    /// Which tables the merged file has (`afferent`, `efferent`, `both`).
    pub direction: String,
    /// The node attributes of pathway matrices.
    pub pathways: Vec<String>,
}

impl RecordedRequest {
    /// The record of `request`, its paths made absolute against the working folder.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a path is not valid UTF-8 (the record is JSON) or the
    /// working folder cannot be read.
    pub fn of(request: &super::count_plan::CountRequest<'_>) -> Result<Self> {
        let absolute = |p: &Path| -> Result<PathBuf> {
            let abs = std::path::absolute(p).map_err(|e| {
                Error::InvalidArgument(format!("{}: cannot make it absolute: {e}", p.display()))
            })?;
            if abs.to_str().is_none() {
                return Err(Error::InvalidArgument(format!(
                    "{}: a sharded count records its input's path as text, and this one is \
                     not valid UTF-8",
                    abs.display()
                )));
            }
            Ok(abs)
        };
        Ok(RecordedRequest {
            input: absolute(request.path)?,
            populations: request.populations.to_vec(),
            nodes_count: request.nodes_count,
            target_node_set: request.restriction.target_node_set.clone(),
            source_node_set: request.restriction.source_node_set.clone(),
            node_sets: request
                .restriction
                .node_sets_file
                .as_deref()
                .map(absolute)
                .transpose()?,
            direction: request.direction.as_str().to_string(),
            pathways: request.pathways.to_vec(),
        })
    }

    /// The node-set restriction recorded.
    pub fn restriction(&self) -> super::circuit::NodeSetRestriction {
        super::circuit::NodeSetRestriction {
            target_node_set: self.target_node_set.clone(),
            source_node_set: self.source_node_set.clone(),
            node_sets_file: self.node_sets.clone(),
        }
    }

    /// The direction recorded.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a value this version does not know.
    pub fn direction(&self) -> Result<super::derived::Direction> {
        self.direction.parse()
    }
}

impl ShardHeader {
    /// The header of shard `shard` of `request`.
    ///
    /// # Errors
    /// As [`RecordedRequest::of`].
    pub fn new(shard: Shard, request: &super::count_plan::CountRequest<'_>) -> Result<Self> {
        Ok(ShardHeader {
            format: SHARD_FORMAT,
            shard_index: shard.index,
            shard_count: shard.count,
            request: RecordedRequest::of(request)?,
        })
    }

    /// The shard.
    pub fn shard(&self) -> Shard {
        Shard {
            index: self.shard_index,
            count: self.shard_count,
        }
    }

    /// As JSON text (the attribute's value).
    pub fn to_json(&self) -> String {
        // Plain data with text paths (checked in `RecordedRequest::of`): it always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What each population group of a partial file records beside its tables: the shard, and the
/// population's edge count, from which its edge range follows ([`PartialRecord::range`]; both
/// ends are written, so that `merge` checks them against the shard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialRecord {
    /// The shard.
    pub shard: Shard,
    /// Every edge of the population.
    pub population_edges: u64,
}

impl PartialRecord {
    /// The edge rows the shard counts.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.shard.edge_range(self.population_edges)
    }
}

/// One shard's census, ready for [`super::output::CensusWriter::write_partial`].
#[derive(Debug)]
pub struct ShardCensus {
    /// The census of the shard's rows.
    pub census: super::Census,
    /// Its connection table, when it went to disk.
    pub spilled: Option<super::SpilledConnections>,
    /// The group's record: the whole population's input (kind partial) and restriction.
    pub record: super::output::Record,
    /// The shard's attributes.
    pub partial: PartialRecord,
}

/// Counts shard `shard` of `work`'s population with either engine: the census of its rows
/// [`Shard::edge_range`] of the population (the caller sets `options`' node count and edge
/// filter from `work`, as for a whole count). With `spill_above`, as
/// [`super::census_population_spilled`].
///
/// # Errors
/// As [`super::census_population`] and [`super::provenance::Provenance::of`].
pub fn count_shard(
    work: &super::count_plan::PopulationWork,
    shard: Shard,
    options: &super::CensusOptions,
    progress: &crate::progress::Progress,
    notes: &mut Vec<super::Note>,
    spill_above: Option<u64>,
) -> Result<ShardCensus> {
    let pop = &work.population;
    let partial = PartialRecord {
        shard,
        population_edges: pop.size(),
    };
    let range = partial.range();
    let rows = pop.rows(range.start, range.end);
    let (census, spilled) = match spill_above {
        Some(bytes) => super::census_population_spilled(&rows, options, progress, notes, bytes)?,
        None => (
            super::census_population_noted(&rows, options, progress, notes)?,
            None,
        ),
    };
    let record = super::output::Record {
        input: Some(super::provenance::Provenance::of(
            pop,
            super::provenance::TableKind::Partial,
        )?),
        restriction: work.restricted.as_ref().map(|(_, r)| r.clone()),
        direction: super::derived::Direction::Afferent,
    };
    Ok(ShardCensus {
        census,
        spilled,
        record,
        partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn shards_tile_the_edges_for_every_count() {
        for edges in [0u64, 1, 2, 7, 100, 1001, u64::MAX] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard::new(index, count).unwrap().edge_range(edges);
                    assert_eq!(r.start, next, "{index}/{count} of {edges}");
                    assert!(r.end >= r.start);
                    // Balanced: sizes differ by at most one.
                    assert!(r.end - r.start <= edges.div_ceil(count));
                    next = r.end;
                }
                assert_eq!(next, edges, "{count} shards of {edges}");
            }
        }
        // E < N: some shards are empty.
        let empty = (0..5)
            .filter(|&i| Shard::new(i, 5).unwrap().edge_range(3).is_empty())
            .count();
        assert_eq!(empty, 2);
    }

    #[test]
    fn local_ranks_and_cpus_per_task() {
        assert_eq!(local_rank(env(&[])).unwrap(), None);
        assert_eq!(
            local_rank(env(&[
                ("SLURM_LOCALID", "3"),
                ("OMPI_COMM_WORLD_LOCAL_RANK", "1")
            ]))
            .unwrap(),
            Some((1, "OMPI_COMM_WORLD_LOCAL_RANK"))
        );
        assert_eq!(
            local_rank(env(&[("SLURM_LOCALID", "3")])).unwrap(),
            Some((3, "SLURM_LOCALID"))
        );
        let e = local_rank(env(&[("MPI_LOCALRANKID", "x")])).unwrap_err();
        assert!(e.to_string().contains("MPI_LOCALRANKID=\"x\""), "{e}");
        assert_eq!(cpus_per_task(env(&[])).unwrap(), None);
        assert_eq!(
            cpus_per_task(env(&[("SLURM_CPUS_PER_TASK", "8")])).unwrap(),
            Some(8)
        );
        for bad in ["0", "-1", "two"] {
            let e = cpus_per_task(env(&[("SLURM_CPUS_PER_TASK", bad)])).unwrap_err();
            assert!(e.to_string().contains("SLURM_CPUS_PER_TASK"), "{e}");
        }
    }

    #[test]
    fn specs_parse_and_refuse() {
        assert_eq!(
            "2/4".parse::<ShardSpec>().unwrap(),
            ShardSpec::Given(Shard { index: 2, count: 4 })
        );
        assert_eq!("auto".parse::<ShardSpec>().unwrap(), ShardSpec::Auto);
        for (bad, says) in [
            ("4/4", "below N"),
            ("1/0", "at least 1"),
            ("1", "no '/'"),
            ("a/2", "'a' is not a whole number"),
            ("-1/2", "not a whole number"),
            ("", "no '/'"),
        ] {
            let e = bad.parse::<ShardSpec>().unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn launchers_mpi_first_and_errors_named() {
        // mpirun inside sbatch: the batch shell's SLURM_PROCID=0 is inherited, MPI wins.
        let s = Shard::from_launcher(env(&[
            ("SLURM_PROCID", "0"),
            ("SLURM_NTASKS", "1"),
            ("OMPI_COMM_WORLD_RANK", "2"),
            ("OMPI_COMM_WORLD_SIZE", "3"),
        ]))
        .unwrap();
        assert_eq!(s, Shard { index: 2, count: 3 });
        let s = Shard::from_launcher(env(&[("PMI_RANK", "1"), ("PMI_SIZE", "4")])).unwrap();
        assert_eq!(s, Shard { index: 1, count: 4 });
        let s = Shard::from_launcher(env(&[("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8")])).unwrap();
        assert_eq!(s, Shard { index: 5, count: 8 });
        for (vars, says) in [
            (vec![], "no launcher variable is set"),
            (
                vec![("PMI_RANK", "1")],
                "PMI_RANK is set but PMI_SIZE is not",
            ),
            (
                vec![("SLURM_NTASKS", "4")],
                "SLURM_NTASKS is set but SLURM_PROCID is not",
            ),
            (
                vec![("SLURM_PROCID", "4"), ("SLURM_NTASKS", "4")],
                "do not name a shard",
            ),
            (
                vec![("PMI_RANK", "x"), ("PMI_SIZE", "4")],
                "PMI_RANK=\"x\" is not a whole number",
            ),
        ] {
            let e = Shard::from_launcher(env(&vars)).unwrap_err().to_string();
            assert!(e.contains(says), "{vars:?}: {e}");
        }
    }

    #[test]
    fn output_paths_expand_rank_or_tag_the_name() {
        let s = Shard {
            index: 3,
            count: 16,
        };
        assert_eq!(
            s.output_path(Path::new("out/census.h5")),
            Path::new("out/census.shard-3-of-16.h5")
        );
        assert_eq!(
            s.output_path(Path::new("census")),
            Path::new("census.shard-3-of-16")
        );
        assert_eq!(
            s.output_path(Path::new("parts/{rank}/c-{rank}.h5")),
            Path::new("parts/3/c-3.h5")
        );
    }
}
