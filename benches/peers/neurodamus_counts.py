"""The neurodamus 4.2.9 algorithm: `SonataReader.get_counts` and `get_conn_counts` over every
target of a population, as neurodamus would answer a census.

Usage: neurodamus_counts.py CIRCUIT POPULATION N_TARGETS OUT.npz

The two methods below are neurodamus 4.2.9's `io/synapse_reader.py` code (quoted in
shared/spec/neurodamus-io.md §1.3), statement for statement, on a libsonata population opened the
way `SonataReader._open_file` does; only timers were added between statements, so the phase
breakdown (printed as JSON on stdout) shows where its time goes. The caller passes every target
id at once (`range(N_TARGETS)`, Python ints, as neurodamus callers pass gid lists). Turning the
answers (dicts of numpy scalars) into the result file is timed as its own phase, `export`.
"""
import json
import sys
import time

import libsonata
import numpy as np

import results


class SonataReaderCounts:
    """The counting part of neurodamus 4.2.9's `SonataReader`."""

    EMPTY_DATA = {}

    def __init__(self, src, population, phases):
        storage = libsonata.EdgeStorage(src)
        self._population = storage.open_population(population)
        self._counts = {}
        self.phases = phases

    def _tick(self, name, since):
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - since
        return now

    def get_counts(self, tgids):
        t = time.perf_counter()
        edge_ids = self._population.afferent_edges(tgids)
        t = self._tick("get_counts: afferent_edges", t)
        target_nodes = self._population.target_nodes(edge_ids)
        t = self._tick("get_counts: target_nodes", t)
        unique_nodes, counts = np.unique(target_nodes, return_counts=True)
        t = self._tick("get_counts: np.unique(targets)", t)
        counts_dict = dict(zip(unique_nodes, counts, strict=True))
        for gid in tgids:
            counts_dict.setdefault(gid, 0)
        self._tick("get_counts: dict", t)
        return counts_dict

    def get_conn_counts(self, tgids):
        t = time.perf_counter()
        if missing_gids := set(tgids) - set(self._counts):
            missing_gids = np.fromiter(missing_gids, dtype="uint32")
            missing_gids.sort()
            t = self._tick("get_conn_counts: missing gids", t)
            edge_ids = self._population.afferent_edges(missing_gids)
            t = self._tick("get_conn_counts: afferent_edges", t)
            tgids_ = self._population.target_nodes(edge_ids)
            t = self._tick("get_conn_counts: target_nodes", t)
            sgids = self._population.source_nodes(edge_ids)
            t = self._tick("get_conn_counts: source_nodes", t)
            conns = np.empty(len(tgids_), dtype="uint64,uint64")
            conns["f0"] = tgids_
            conns["f1"] = sgids
            t = self._tick("get_conn_counts: pairs array", t)
            pairs, counts = np.unique(conns, return_counts=True)
            t = self._tick("get_conn_counts: np.unique(pairs)", t)
            starts = np.diff(pairs["f0"], prepend=np.nan, append=np.nan).nonzero()[0]
            for i, st in enumerate(starts[:-1]):
                self._counts[pairs["f0"][st]] = {pairs["f1"][j]: counts[j] for j in range(st, starts[i + 1])}
            t = self._tick("get_conn_counts: dicts", t)
        answer = {tgid: self._counts.get(tgid, self.EMPTY_DATA) for tgid in tgids}
        self._tick("get_conn_counts: answer", t)
        return answer


def main() -> None:
    path, population, n_targets, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    phases = {}
    t0 = time.perf_counter()
    reader = SonataReaderCounts(path, population, phases)
    phases["open"] = time.perf_counter() - t0
    tgids = list(range(n_targets))
    counts = reader.get_counts(tgids)
    conn_counts = reader.get_conn_counts(tgids)
    t1 = time.perf_counter()
    synapses = np.fromiter((counts[t] for t in tgids), dtype=np.int64, count=n_targets)
    connections = np.fromiter((len(conn_counts[t]) for t in tgids), dtype=np.int64, count=n_targets)
    total = int(connections.sum())
    sources = np.fromiter((s for t in tgids for s in conn_counts[t]), dtype=np.uint64, count=total)
    syn_counts = np.fromiter((c for t in tgids for c in conn_counts[t].values()), dtype=np.int64, count=total)
    results.write(out, synapses=synapses, connections=connections, sources=sources, counts=syn_counts)
    phases["export"] = time.perf_counter() - t1
    phases["total"] = time.perf_counter() - t0
    print(json.dumps(phases))


if __name__ == "__main__":
    main()
