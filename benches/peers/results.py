"""Result files of the bench peers: what every peer computes, in one layout the harness compares.

A result is an uncompressed `.npz` holding the census tables of one edge population, named as in
the census output (README "Output layout"):

- `target_synapse_count[n_targets]`, `target_connection_count[n_targets]`;
- the connection table in CSR form: `target_offsets[n_targets + 1]`, `source_node_id`,
  `synapse_count` (sources ascending within a target);
- `synapses_per_connection[k + 1]` (entry i: connections with exactly i synapses).
"""
import numpy as np

NAMES = (
    "target_synapse_count",
    "target_connection_count",
    "target_offsets",
    "source_node_id",
    "synapse_count",
    "synapses_per_connection",
)


def write(path, *, synapses, connections, sources, counts):
    """Writes a result from per-target synapse and connection counts and the connection table
    (sources and synapse counts in (target, source) order); offsets and the histogram are
    derived here the same way for every peer."""
    offsets = np.zeros(len(connections) + 1, dtype=np.uint64)
    np.cumsum(connections, out=offsets[1:])
    histogram = np.bincount(np.asarray(counts).astype(np.int64, copy=False), minlength=1)
    with open(path, "wb") as f:
        np.savez(
            f,
            target_synapse_count=np.asarray(synapses),
            target_connection_count=np.asarray(connections),
            target_offsets=offsets,
            source_node_id=np.asarray(sources),
            synapse_count=np.asarray(counts),
            synapses_per_connection=histogram,
        )
