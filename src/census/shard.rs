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
//! Status: the counting of a shard, its partial file and `merge` are not written yet; this file
//! is what they will build on (see the notes of issue 16).

use std::path::{Path, PathBuf};

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
