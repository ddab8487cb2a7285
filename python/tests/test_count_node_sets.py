"""`sonata_census.count(config, target_node_set=, source_node_set=, node_sets=)`: the census of
the edges between node sets, against a numpy recount of those edges, on both engines, for
sorted and shuffled edge files, two edge populations (one of them between two node
populations) and a set that is empty on a population; the table file equal, byte for byte, to
the tool's; mistakes as Python exceptions with no output."""

import json

import h5py
import libsonata
import numpy as np
import pytest

import sonata_census

N_SRC, N_TGT = 120, 150


def _write_nodes(path, pop, n, layer):
    with h5py.File(path, "a") as f:
        g = f.create_group(f"nodes/{pop}")
        g["node_type_id"] = np.full(n, -1, dtype=np.int64)
        g0 = g.create_group("0")
        if layer:
            g0["layer"] = (np.arange(n) % 6 + 1).astype(np.int64)
            g0["mtype"] = (np.arange(n) % 4).astype(np.uint32)
            g0["@library/mtype"] = np.array(["L23_PC", "L4_SS", "L5_TPC", "L6_BC"],
                                            dtype=h5py.string_dtype())


def _write_edges(path, pop, src, tgt, src_pop, tgt_pop):
    with h5py.File(path, "a") as f:
        g = f.create_group(f"edges/{pop}")
        for name, data, node_pop in (("source_node_id", src, src_pop),
                                     ("target_node_id", tgt, tgt_pop)):
            ds = g.create_dataset(name, data=np.asarray(data, dtype=np.uint64))
            ds.attrs["node_population"] = node_pop


@pytest.fixture(params=["sorted", "shuffled"])
def circuit(request, tmp_path):
    """Node populations `cells` (N_TGT, with `layer` and an `@library` `mtype`) and `virtual`
    (N_SRC, no attributes); edge populations `local` (cells -> cells) and `input` (virtual ->
    cells). Returns the config path and {population: (sources, targets)}."""
    rng = np.random.default_rng(7)
    _write_nodes(tmp_path / "nodes.h5", "cells", N_TGT, True)
    _write_nodes(tmp_path / "nodes.h5", "virtual", N_SRC, False)
    edges = {}
    for pop, src_pop, n_src, n in (("local", "cells", N_TGT, 4000), ("input", "virtual", N_SRC, 2500)):
        src = rng.integers(0, n_src, n)
        tgt = rng.integers(0, N_TGT, n)
        if request.param == "sorted":
            order = np.lexsort((src, tgt))
            src, tgt = src[order], tgt[order]
        _write_edges(tmp_path / "edges.h5", pop, src, tgt, src_pop, "cells")
        edges[pop] = (src, tgt)
    (tmp_path / "node_sets.json").write_text(json.dumps({
        "Layer5": {"layer": 5},
        "TPC": {"mtype": "L5_TPC"},
        "First": {"node_id": list(range(30))},
        "Nobody": {"node_id": []},
    }))
    config = tmp_path / "circuit_config.json"
    config.write_text(json.dumps({
        "manifest": {"$BASE_DIR": "."},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "networks": {"nodes": [{"nodes_file": "$BASE_DIR/nodes.h5"}],
                     "edges": [{"edges_file": "$BASE_DIR/edges.h5"}]},
    }))
    return config, edges


def _ids(config, node_set, population):
    """libsonata's materialization of `node_set` on `population` (the reference)."""
    folder = config.parent
    sets = libsonata.NodeSets.from_file(str(folder / "node_sets.json"))
    pop = libsonata.NodeStorage(str(folder / "nodes.h5")).open_population(population)
    return sets.materialize(node_set, pop).flatten()


def _recount(src, tgt, keep):
    """Per-target synapses and connections, the connection table and the histogram of the
    edges `keep` selects, with numpy."""
    src, tgt = src[keep], tgt[keep]
    syn = np.bincount(tgt, minlength=N_TGT).astype(np.uint64)
    pairs = np.unique(np.stack([tgt, src], axis=1), axis=0, return_counts=True)
    (pt, ps), counts = pairs[0].T if len(pairs[0]) else (np.zeros(0, int), np.zeros(0, int)), pairs[1]
    conn = np.bincount(pt, minlength=N_TGT).astype(np.uint64)
    hist = np.bincount(counts).astype(np.uint64) if len(counts) else np.zeros(1, np.uint64)
    return syn, conn, ps.astype(np.uint64), counts.astype(np.uint32), hist


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_counts_between_node_sets_equal_a_numpy_recount(circuit, backend, count_on):
    config, edges = circuit
    layer5 = _ids(config, "Layer5", "cells")
    first_cells = _ids(config, "First", "cells")
    first_virtual = _ids(config, "First", "virtual")
    got = count_on(backend, config, target_node_set="Layer5", source_node_set="First")
    assert set(got) == {"local", "input"}
    for pop, sources in (("local", first_cells), ("input", first_virtual)):
        src, tgt = edges[pop]
        keep = np.isin(tgt, layer5) & np.isin(src, sources)
        syn, conn, ps, counts, hist = _recount(src, tgt, keep)
        c = got[pop]
        assert c.table_kind == "restricted"
        assert (c.target_node_set, c.source_node_set) == ("Layer5", "First")
        assert c.edges == int(keep.sum()) and c.population_edges == len(src)
        assert 0 < c.edges < len(src)
        np.testing.assert_array_equal(c.target_synapse_count, syn)
        np.testing.assert_array_equal(c.target_connection_count, conn)
        np.testing.assert_array_equal(c.source_node_id, ps)
        np.testing.assert_array_equal(c.synapse_count, counts)
        np.testing.assert_array_equal(c.synapses_per_connection, hist)
        assert "restricted" not in repr(c) and "target node set 'Layer5'" in repr(c)


def test_an_empty_set_counts_nothing_and_an_attribute_set_uses_the_library(circuit, tmp_path):
    config, edges = circuit
    got = sonata_census.count(config, backend="cpu", target_node_set="Nobody")
    for pop, (src, _) in edges.items():
        c = got[pop]
        assert c.edges == 0 and c.connections == 0 and c.population_edges == len(src)
        assert c.n_targets == N_TGT and not c.target_synapse_count.any()
    # An @library attribute, the set from a second file laid over the circuit's.
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"Nobody": {"mtype": "L5_TPC"}}))
    got = sonata_census.count(config, "local", backend="cpu", target_node_set="Nobody",
                              node_sets=extra)
    src, tgt = edges["local"]
    tpc = np.arange(N_TGT)[np.arange(N_TGT) % 4 == 2]
    assert got["local"].edges == int(np.isin(tgt, tpc).sum())


def test_the_table_file_equals_the_tools(cli, circuit, tmp_path):
    config, _ = circuit
    by_tool, by_module = tmp_path / "tool.h5", tmp_path / "module.h5"
    cli.run("count", config, "--target-node-set", "Layer5", "--source-node-set", "First",
            "-o", by_tool, "--backend", "cpu")
    sonata_census.count(config, backend="cpu", target_node_set="Layer5", source_node_set="First",
                        output=by_module)
    assert by_module.read_bytes() == by_tool.read_bytes()
    back = sonata_census.read_tables(by_module)
    assert back["input"].table_kind == "restricted"
    assert back["input"].target_node_set == "Layer5"
    assert back["input"].population_edges == 2500


def test_node_set_mistakes_raise_and_write_nothing(circuit, tmp_path):
    config, _ = circuit
    out = tmp_path / "out.h5"
    edge_file = config.parent / "edges.h5"
    cases = [
        (dict(path=edge_file, target_node_set="Layer5"), ValueError, "need a circuit config"),
        (dict(path=config, target_node_set="Nope"), ValueError, "no node set 'Nope'"),
        # `virtual` has no layer: an error, not a skipped population.
        (dict(path=config, source_node_set="Layer5"), ValueError, "layer"),
        (dict(path=config, node_sets=config.parent / "node_sets.json"), ValueError,
         "node_sets is used with"),
        (dict(path=config, target_node_set=5), TypeError, "target_node_set must be a str"),
    ]
    for kwargs, error, says in cases:
        path = kwargs.pop("path")
        with pytest.raises(error, match=says):
            sonata_census.count(path, backend="cpu", output=out, **kwargs)
        assert not out.exists()
