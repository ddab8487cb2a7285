//! The generator's random streams (seeds derived from the options' seed, stateless draws) and
//! the shapes they give a population: in-degrees per target, connections of a target from
//! distinct sources, and the row store of a shuffled population.

#[allow(clippy::wildcard_imports)]
use super::*;

/// splitmix64's finalizer: a bijective 64-bit mix.
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of random stream `stream`, sub-streams `a` and `b`, of a population seeded `seed`.
pub(super) fn stream_seed(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    mix(mix(mix(seed) ^ stream) ^ mix(a).wrapping_add(b.rotate_left(32)))
}

/// The attribute group of edge `edge` among `groups` (pseudo-random, uniform, stateless).
pub(super) fn group_of(group_seed: u64, edge: u64, groups: u32) -> u32 {
    (((mix(group_seed ^ edge) >> 32) * u64::from(groups)) >> 32) as u32
}

/// Whether source node `source` is inhibitory (a property of the node, the same in every file).
pub(super) fn is_inhibitory(source: u64) -> bool {
    mix(source ^ 0x5EED_1A7E) % 100 < INHIBITORY_PERCENT
}

/// Synapse counts per target, in target order, summing exactly to the edge count.
///
/// Weights are regenerated from their seed in a second pass instead of being stored, so memory
/// does not grow with the node count.
pub(super) struct InDegrees {
    pub(super) rng: StdRng,
    pub(super) nodes: u64,
    pub(super) edges: u64,
    pub(super) next: u64,
    pub(super) total: f64,
    pub(super) uniform: bool,
    pub(super) cumulative: f64,
    pub(super) assigned: u64,
}

impl InDegrees {
    pub(super) fn new(nodes: u64, edges: u64, seed: u64) -> Self {
        let seed = stream_seed(seed, STREAM_WEIGHTS, 0, 0);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut total = 0.0;
        for _ in 0..nodes {
            total += Self::weight(&mut rng);
        }
        // All weights zero (tiny node counts): share evenly instead.
        let uniform = total <= 0.0;
        InDegrees {
            rng: StdRng::seed_from_u64(seed),
            nodes,
            edges,
            next: 0,
            total: if uniform { nodes as f64 } else { total },
            uniform,
            cumulative: 0.0,
            assigned: 0,
        }
    }

    pub(super) fn weight(rng: &mut StdRng) -> f64 {
        let empty = rng.random::<f64>() < EMPTY_TARGET_FRACTION;
        let z: f64 = StandardNormal.sample(rng);
        if empty {
            0.0
        } else {
            (IN_DEGREE_SIGMA * z).exp()
        }
    }

    /// The synapse count of the next target.
    pub(super) fn next_target(&mut self) -> u64 {
        let w = Self::weight(&mut self.rng);
        self.cumulative += if self.uniform { 1.0 } else { w };
        self.next += 1;
        let upto = if self.next >= self.nodes {
            self.edges
        } else {
            let share = (self.edges as f64 * (self.cumulative / self.total)).floor() as u64;
            share.clamp(self.assigned, self.edges)
        };
        let n = upto - self.assigned;
        self.assigned = upto;
        n
    }
}

/// Splits a target's synapses into connections from distinct sources.
pub(super) struct ConnectionSampler {
    pub(super) rng: StdRng,
    pub(super) poisson: Option<Poisson<f64>>,
    pub(super) source_nodes: u64,
    /// Sources of the connections, ascending.
    pub(super) sources: Vec<u64>,
    /// Synapses of each connection (>= 1), parallel to `sources`.
    pub(super) sizes: Vec<u64>,
}

impl ConnectionSampler {
    pub(super) fn new(source_nodes: u64, seed: u64) -> Self {
        ConnectionSampler {
            rng: StdRng::seed_from_u64(stream_seed(seed, STREAM_STRUCTURE, 0, 0)),
            poisson: Poisson::new(EXTRA_SYNAPSES_MEAN).ok(),
            source_nodes,
            sources: Vec::new(),
            sizes: Vec::new(),
        }
    }

    pub(super) fn sample(&mut self, synapses: u64) {
        self.sizes.clear();
        self.sources.clear();
        if synapses == 0 || self.source_nodes == 0 {
            return;
        }
        let mut sum = 0u64;
        while sum < synapses && (self.sizes.len() as u64) < self.source_nodes {
            let extra = match &self.poisson {
                Some(p) => p.sample(&mut self.rng) as u64,
                None => 3,
            };
            let size = (1 + extra).min(synapses - sum);
            self.sizes.push(size);
            sum += size;
        }
        let k = self.sizes.len();
        if sum < synapses {
            // Every source is used: the remaining synapses go evenly to the connections.
            let rest = synapses - sum;
            let (each, extra) = (rest / k as u64, (rest % k as u64) as usize);
            for (i, size) in self.sizes.iter_mut().enumerate() {
                *size += each + u64::from(i < extra);
            }
        } else if k > 1 {
            // The last connection was trimmed to fit; do not always give it the highest source.
            let j = self.rng.random_range(0..k);
            self.sizes.swap(j, k - 1);
        }
        sample_distinct_sorted(&mut self.rng, self.source_nodes, k, &mut self.sources);
    }
}

/// Draws `k` distinct values of `0..n` (k <= n), ascending, into `out`.
pub(super) fn sample_distinct_sorted(rng: &mut StdRng, n: u64, k: usize, out: &mut Vec<u64>) {
    out.clear();
    let k64 = k as u64;
    if k == 0 {
        return;
    }
    if k64 >= n {
        out.extend(0..n);
    } else if k64.saturating_mul(4) >= n {
        // Dense: selection sampling (Knuth's algorithm S), one pass over n <= 4k values.
        let mut needed = k64;
        for i in 0..n {
            if needed == 0 {
                break;
            }
            if rng.random_range(0..n - i) < needed {
                out.push(i);
                needed -= 1;
            }
        }
    } else {
        // Sparse: draw, sort, drop duplicates, top up (few duplicates since k < n/4).
        while out.len() < k {
            while out.len() < k {
                out.push(rng.random_range(0..n));
            }
            out.sort_unstable();
            out.dedup();
        }
    }
}

/// All rows of a shuffled population, held in memory.
pub(super) enum RowStore {
    /// `target << 32 | source` when both fit in u32.
    Packed(Vec<u64>),
    /// `[source, target]`.
    Wide(Vec<[u64; 2]>),
}

impl RowStore {
    pub(super) fn with_capacity(rows: usize, packed: bool) -> Option<Self> {
        if packed {
            let mut v = Vec::new();
            v.try_reserve_exact(rows).ok()?;
            Some(RowStore::Packed(v))
        } else {
            let mut v = Vec::new();
            v.try_reserve_exact(rows).ok()?;
            Some(RowStore::Wide(v))
        }
    }

    pub(super) fn push_run(&mut self, source: u64, target: u64, count: u64) {
        match self {
            RowStore::Packed(v) => {
                v.extend(std::iter::repeat_n(target << 32 | source, count as usize))
            }
            RowStore::Wide(v) => v.extend(std::iter::repeat_n([source, target], count as usize)),
        }
    }

    pub(super) fn shuffle(&mut self, rng: &mut StdRng) {
        match self {
            RowStore::Packed(v) => v.shuffle(rng),
            RowStore::Wide(v) => v.shuffle(rng),
        }
    }

    pub(super) fn drain_into(self, sink: &mut RowSink<'_>) -> Result<()> {
        match self {
            RowStore::Packed(v) => {
                for chunk in v.chunks(CHUNK_ROWS) {
                    for &row in chunk {
                        sink.push(row & 0xFFFF_FFFF, row >> 32)?;
                    }
                }
            }
            RowStore::Wide(v) => {
                for &[source, target] in &v {
                    sink.push(source, target)?;
                }
            }
        }
        Ok(())
    }
}
