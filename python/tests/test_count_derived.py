"""`sonata_census.count(config, direction=, pathways=)`: efferent tables and pathway matrices
against a naive numpy recount on generated circuits (sorted and shuffled, two edge populations,
one of them from a population without the attribute, node sets including an empty one), from
one test body on both engines; the table file equal, byte for byte, to the tool's, and read
back by `read_tables`; mistakes as Python exceptions with no output."""

import numpy as np
import pytest

import sonata_census
from test_count_node_sets import N_SRC, N_TGT, _ids, circuit  # noqa: F401 - the fixture

#: The `@library` enumeration of `mtype` in the generated node file (its order is the values').
MTYPES = ["L23_PC", "L4_SS", "L5_TPC", "L6_BC"]


def _node_values(attribute):
    """Per node of `cells`, the value of `attribute` as the node file holds it, and the
    attribute's order of values."""
    nodes = np.arange(N_TGT)
    if attribute == "layer":
        return nodes % 6 + 1, list(range(1, 7))
    return np.array(MTYPES, dtype=object)[nodes % 4], MTYPES


def _expected_pathway(src, tgt, attribute, sources, targets):
    """The pathway matrices of `attribute` for the edges (src, tgt) of `cells` onto itself,
    counted over the nodes `sources` and `targets` (arrays of ids), naively."""
    values, order = _node_values(attribute)
    s_vals = [v for v in order if v in set(values[sources])]
    t_vals = [v for v in order if v in set(values[targets])]
    s_index = {v: i for i, v in enumerate(s_vals)}
    t_index = {v: j for j, v in enumerate(t_vals)}
    syn = np.zeros((len(s_vals), len(t_vals)), dtype=np.uint64)
    conn = np.zeros_like(syn)
    for s, t in zip(src, tgt):
        syn[s_index[values[s]], t_index[values[t]]] += 1
    for s, t in {(int(s), int(t)) for s, t in zip(src, tgt)}:
        conn[s_index[values[s]], t_index[values[t]]] += 1
    n_s = np.array([sum(values[n] == v for n in sources) for v in s_vals], dtype=np.uint64)
    n_t = np.array([sum(values[n] == v for n in targets) for v in t_vals], dtype=np.uint64)
    pairs = np.outer(n_s, n_t)
    # One node population onto itself: a node in both selections is not its own pair.
    for n in np.intersect1d(sources, targets):
        pairs[s_index[values[n]], t_index[values[n]]] -= 1
    return s_vals, t_vals, n_s, n_t, syn, conn, pairs


def _expected_efferent(src, tgt, n_sources):
    """Per-source synapses and connections, the efferent connection table (targets ascending
    within a source) and its offsets."""
    pairs, counts = np.unique(np.stack([src, tgt], axis=1), axis=0, return_counts=True)
    ps = pairs[:, 0] if len(pairs) else np.zeros(0, int)
    pt = pairs[:, 1] if len(pairs) else np.zeros(0, int)
    conn = np.bincount(ps, minlength=n_sources).astype(np.uint64)
    offsets = np.concatenate([[0], np.cumsum(conn)]).astype(np.uint64)
    syn = np.bincount(src, minlength=n_sources).astype(np.uint64)
    return syn, conn, offsets, pt.astype(np.uint64), counts.astype(np.uint32)


def _assert_pathway(p, expected):
    s_vals, t_vals, n_s, n_t, syn, conn, pairs = expected
    assert list(p.source_values) == s_vals and list(p.target_values) == t_vals
    np.testing.assert_array_equal(p.source_node_count, n_s)
    np.testing.assert_array_equal(p.target_node_count, n_t)
    for name, want in (("synapses", syn), ("connections", conn), ("pair_count", pairs)):
        got = getattr(p, name)
        assert got.dtype == np.uint64 and got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def _assert_efferent(e, src, tgt, n_sources):
    syn, conn, offsets, targets, counts = _expected_efferent(src, tgt, n_sources)
    assert e.n_sources == n_sources
    np.testing.assert_array_equal(e.source_synapse_count, syn)
    np.testing.assert_array_equal(e.source_connection_count, conn)
    np.testing.assert_array_equal(e.source_offsets, offsets)
    np.testing.assert_array_equal(e.target_node_id, targets)
    np.testing.assert_array_equal(e.synapse_count, counts)


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_efferent_tables_and_pathways_equal_a_numpy_recount(circuit, backend, count_on):  # noqa: F811
    config, edges = circuit
    got = count_on(backend, config, direction="both")
    assert set(got) == {"local", "input"}
    # Sized by the source node population: cells for `local`, virtual for `input`.
    for pop, n_sources in (("local", N_TGT), ("input", N_SRC)):
        src, tgt = edges[pop]
        c = got[pop]
        assert c.direction == "both" and c.table_kind == "full" and c.pathways == {}
        assert c.n_targets == N_TGT and c.target_synapse_count is not None
        _assert_efferent(c.efferent, src, tgt, n_sources)
        s, t = c.efferent.connections_of(3)
        assert list(s) == sorted(set(tgt[src == 3].tolist()))
    # Pathways of `local` (cells onto cells), an @library and an integer attribute.
    got = count_on(backend, config, "local", pathways=["mtype", "layer"])
    c = got["local"]
    assert c.direction == "afferent" and c.efferent is None
    assert list(c.pathways) == ["mtype", "layer"]
    src, tgt = edges["local"]
    every = np.arange(N_TGT)
    for attribute in ("mtype", "layer"):
        _assert_pathway(
            c.pathways[attribute], _expected_pathway(src, tgt, attribute, every, every)
        )
    assert c.pathways["layer"].source_values.dtype == np.int64
    p = c.pathways["mtype"]
    assert p.synapses.sum() == len(src) and p.connections.sum() == c.connections
    np.testing.assert_array_equal(p.connection_probability, p.connections / p.pair_count)


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_pathways_between_node_sets(circuit, backend, count_on):  # noqa: F811
    config, edges = circuit
    layer5 = _ids(config, "Layer5", "cells")
    first = _ids(config, "First", "cells")
    got = count_on(backend, config, "local", target_node_set="Layer5", source_node_set="First",
                   direction="both", pathways="mtype")
    c = got["local"]
    src, tgt = edges["local"]
    keep = np.isin(tgt, layer5) & np.isin(src, first)
    assert c.table_kind == "restricted" and c.edges == int(keep.sum()) > 0
    _assert_pathway(c.pathways["mtype"],
                    _expected_pathway(src[keep], tgt[keep], "mtype", first, layer5))
    _assert_efferent(c.efferent, src[keep], tgt[keep], N_TGT)
    # An empty target set: no target value, nothing counted, the source side still described.
    got = count_on(backend, config, "local", target_node_set="Nobody", pathways=["layer"])
    p = got["local"].pathways["layer"]
    assert p.synapses.shape == (6, 0) and p.target_values.size == 0
    assert p.source_node_count.sum() == N_TGT and p.pair_count.size == 0


def test_efferent_only_has_no_per_target_tables(circuit, tmp_path):  # noqa: F811
    config, edges = circuit
    out = tmp_path / "efferent.h5"
    got = sonata_census.count(config, backend="cpu", direction="efferent", output=out)
    back = sonata_census.read_tables(out)
    for pop, n_sources in (("local", N_TGT), ("input", N_SRC)):
        for c in (got[pop], back[pop]):
            assert c.direction == "efferent" and c.table_kind == "efferent"
            assert c.n_targets is None and c.target_offsets is None
            assert c.target_synapse_count is None and c.source_node_id is None
            _assert_efferent(c.efferent, *edges[pop], n_sources)
            assert c.connections == int(c.efferent.source_connection_count.sum())
            assert c.synapses_per_connection.sum() == c.connections
        with pytest.raises(ValueError, match="no per-target tables"):
            got[pop].connections_of(0)


def test_the_table_file_equals_the_tools_and_reads_back(cli, circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    for args, kwargs in (
        (["--direction", "both", "--pathways", "mtype,layer", "-p", "local"],
         dict(populations="local", direction="both", pathways=["mtype", "layer"])),
        (["--direction", "efferent", "--target-node-set", "Layer5"],
         dict(direction="efferent", target_node_set="Layer5")),
    ):
        by_tool, by_module = tmp_path / "tool.h5", tmp_path / "module.h5"
        cli.run("count", config, "-o", by_tool, "--backend", "cpu", "--force", *args)
        counted = sonata_census.count(config, backend="cpu", output=by_module, force=True,
                                      **kwargs)
        assert by_module.read_bytes() == by_tool.read_bytes(), args
        back = sonata_census.read_tables(by_tool)
        for name, c in counted.items():
            b = back[name]
            assert (b.direction, b.table_kind, b.edges) == (c.direction, c.table_kind, c.edges)
            assert sorted(b.pathways) == sorted(c.pathways)
            for attribute, p in c.pathways.items():
                q = b.pathways[attribute]
                assert list(q.source_values) == list(p.source_values)
                np.testing.assert_array_equal(q.connections, p.connections)
                np.testing.assert_array_equal(q.pair_count, p.pair_count)
            if c.efferent is not None:
                np.testing.assert_array_equal(b.efferent.target_node_id, c.efferent.target_node_id)


def test_derived_table_mistakes_raise_and_write_nothing(circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    out = tmp_path / "out.h5"
    edge_file = config.parent / "edges.h5"
    cases = [
        (dict(path=edge_file, pathways="mtype"), ValueError, "pathways needs a circuit config"),
        # `input` comes from `virtual`, which has no mtype: an error naming the attribute.
        (dict(path=config, pathways="mtype"), ValueError, "mtype"),
        (dict(path=config, pathways=["nope"]), ValueError, "nope"),
        (dict(path=config, pathways=[]), ValueError, "pathways is empty"),
        (dict(path=config, pathways=["layer", "layer"]), ValueError, "named twice"),
        (dict(path=config, pathways=[3]), TypeError, "str attribute names"),
        (dict(path=config, direction="sideways"), ValueError, "direction must be one of"),
        (dict(path=config, direction=None), TypeError, "direction must be a str"),
    ]
    for kwargs, error, says in cases:
        path = kwargs.pop("path")
        with pytest.raises(error, match=says):
            sonata_census.count(path, backend="cpu", output=out, **kwargs)
        assert not out.exists()
    # An edge file counts its efferent tables too (sized by the source index or largest id).
    got = sonata_census.count(edge_file, "local", backend="cpu", direction="efferent")
    assert got["local"].efferent.n_sources_origin
