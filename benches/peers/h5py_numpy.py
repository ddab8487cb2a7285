"""The best hand-written h5py + numpy census: what a careful Python user would write.

Usage: h5py_numpy.py CIRCUIT POPULATION N_TARGETS OUT.npz

Reads both id columns with h5py, counts synapses per target with `np.bincount`, packs each edge
into one uint64 key `target << 32 | source` and finds the connections by run-length encoding the
keys when they are already ascending (a file sorted by (target, source)), else with
`np.unique(keys, return_counts=True)` (a sort). Prints a JSON object of in-process phase times
(seconds) on stdout.
"""
import json
import sys
import time

import h5py
import numpy as np

import results


def main() -> None:
    path, population, n_targets, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    phases = {}
    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        g = f["edges"][population]
        sources = g["source_node_id"][()]
        targets = g["target_node_id"][()]
    t1 = time.perf_counter()
    phases["read"] = t1 - t0
    # Ids are below 2^63 (checked by the max below for sources; targets by bincount's length).
    synapses = np.bincount(targets.view(np.int64), minlength=n_targets)
    if len(synapses) != n_targets:
        sys.exit(f"target id beyond {n_targets}")
    if len(sources) and int(sources.max()) >= 1 << 32:
        sys.exit("source ids of 2^32 or more do not fit the packed key")
    t2 = time.perf_counter()
    phases["synapses (bincount)"] = t2 - t1
    keys = targets << np.uint64(32)
    keys |= sources
    del sources, targets
    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        phases["order check"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        starts = np.concatenate(([0], starts)) if len(keys) else starts
        unique = keys[starts]
        counts = np.diff(np.append(starts, len(keys)))
        phases["connections (run-length)"] = time.perf_counter() - t3
    else:
        phases["order check"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        unique, counts = np.unique(keys, return_counts=True)
        phases["connections (np.unique)"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    conn_targets = (unique >> np.uint64(32)).view(np.int64)
    conn_sources = unique & np.uint64(0xFFFFFFFF)
    connections = np.bincount(conn_targets, minlength=n_targets)
    phases["per-target connections (bincount)"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    results.write(out, synapses=synapses, connections=connections, sources=conn_sources, counts=counts)
    phases["write"] = time.perf_counter() - t5
    phases["total"] = time.perf_counter() - t0
    print(json.dumps(phases))


if __name__ == "__main__":
    main()
