"""`sonata_census.count`, `read_tables` and `info` equal the tool's table files and JSON for the
same input: generated circuits of every order and layout, and the shared sample files."""

import json
import os
import warnings

import h5py
import numpy as np
import pytest

import sonata_census
from sonata_census._census import TABLES
from conftest import (
    assert_census_equals_file,
    read_table_file,
    sample_edge_files,
)

# Generated circuits: every order, int64 ids, several attribute groups and populations, bmtk
# spellings (nsyns), chunked and compressed id columns, no index.
CIRCUITS = {
    "sorted": {},
    "target_sorted": {"order": "target-sorted"},
    "shuffled": {"order": "shuffled"},
    "int64_ids": {"order": "shuffled", "id_dtype": "i64"},
    "groups": {"groups": 3},
    "populations": {"populations": 3, "order": "shuffled"},
    "bmtk": {"attributes": "bmtk", "index_spelling": "bmtk"},
    "deflate_chunks": {"id_storage": "shuffle-deflate", "chunk_rows": 1000},
    "no_index": {"no_index": True, "order": "shuffled"},
    "more_sources": {"source_nodes": 1000},
}


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_count_equals_the_tools_table_file(cli, tmp_path, name):
    edges = cli.generate(tmp_path / "edges.h5", **CIRCUITS[name])
    cli.run("count", edges, "-o", tmp_path / "tool.h5")

    censuses = sonata_census.count(edges, output=tmp_path / "py.h5")

    tool = read_table_file(tmp_path / "tool.h5")
    assert list(censuses) == list(tool)
    for pop, census in censuses.items():
        assert_census_equals_file(census, tool[pop])
        assert census.backend == "cpu"
        assert census.edges == int(census.target_synapse_count.sum())
        assert census.connections == len(census.source_node_id)
    # Written as the tool writes it: the same bytes (no time stamps, no engine recorded).
    assert (tmp_path / "py.h5").read_bytes() == (tmp_path / "tool.h5").read_bytes()
    # And read back into the same tables.
    back = sonata_census.read_tables(tmp_path / "py.h5")
    assert list(back) == list(censuses)
    for pop, census in back.items():
        assert census.backend is None
        assert census.order == censuses[pop].order
        assert_census_equals_file(census, tool[pop])
    if name == "bmtk":
        assert all(c.target_nsyns_total is not None for c in censuses.values())


def test_census_equals_numpy_on_the_id_columns(cli, tmp_path):
    """An oracle independent of the tool: the tables computed with numpy from the raw ids."""
    edges = cli.generate(tmp_path / "edges.h5", order="shuffled", nodes=300, edges=20000)
    [census] = sonata_census.count(edges).values()
    with h5py.File(edges, "r") as f:
        [group] = f["edges"].values()
        src = group["source_node_id"][()].astype(np.uint64)
        tgt = group["target_node_id"][()].astype(np.uint64)
    n = census.n_targets
    np.testing.assert_array_equal(census.target_synapse_count, np.bincount(tgt, minlength=n))
    pairs, per_pair = np.unique(np.stack([tgt, src]), axis=1, return_counts=True)
    np.testing.assert_array_equal(
        census.target_connection_count, np.bincount(pairs[0], minlength=n)
    )
    np.testing.assert_array_equal(census.source_node_id, pairs[1])
    np.testing.assert_array_equal(census.synapse_count, per_pair)
    np.testing.assert_array_equal(
        census.synapses_per_connection, np.bincount(per_pair, minlength=per_pair.max() + 1)
    )
    assert census.order == "unsorted"
    for t in (0, n // 2, n - 1):
        sources, counts = census.connections_of(t)
        assert int(counts.sum()) == int(census.target_synapse_count[t])
        assert len(sources) == int(census.target_connection_count[t])


def test_options_equal_the_tools(cli, tmp_path):
    edges = cli.generate(tmp_path / "edges.h5", order="shuffled", nodes=100, edges=30000)
    cli.run("count", edges, "-o", tmp_path / "tool.h5", "--nodes-count", 150)
    spill = tmp_path / "spill"
    spill.mkdir()
    # 1 MiB for 30000 unsorted edges: still in memory; the spilled path is the tool's own test.
    [census] = sonata_census.count(
        edges, nodes_count=150, memory_budget_mib=1, spill_dir=spill, backend="cpu"
    ).values()
    assert census.n_targets == 150
    [tool] = read_table_file(tmp_path / "tool.h5").values()
    assert_census_equals_file(census, tool)
    assert list(spill.iterdir()) == []


def test_populations_select_and_order(cli, tmp_path):
    edges = cli.generate(tmp_path / "edges.h5", populations=3)
    names = list(sonata_census.count(edges))
    assert len(names) == 3
    picked = sonata_census.count(edges, [names[2], names[0], names[2]])
    assert list(picked) == [names[2], names[0]]
    assert list(sonata_census.count(edges, names[1])) == [names[1]]
    cli.run("count", edges, "-o", tmp_path / "t.h5")
    assert list(sonata_census.read_tables(tmp_path / "t.h5", names[1])) == [names[1]]


def test_info_equals_the_tools_json(cli, tmp_path):
    edges = cli.generate(tmp_path / "edges.h5", groups=2, attributes="bmtk", order="shuffled")
    for flags, scan in (([], True), (["--no-scan"], False)):
        tool = json.loads(cli.run("info", edges, "--json", *flags).stdout)
        assert sonata_census.info(edges, scan=scan) == tool
    assert sonata_census.info(edges)["populations"][0]["sortedness"] == {
        "by_target": False,
        "by_target_source": False,
    }


def test_arrays_are_handed_over_without_copies(cli, tmp_path):
    edges = cli.generate(tmp_path / "edges.h5")
    [census] = sonata_census.count(edges).values()
    for key in ("target_synapse_count", "source_node_id", "synapse_count"):
        array = getattr(census, key)
        # A numpy copy owns its data; an array over the library's vector does not.
        assert not array.flags.owndata and array.base is not None, key
        assert array.flags.c_contiguous and array.flags.writeable, key


@pytest.mark.parametrize(
    "edge_file",
    sample_edge_files() or [pytest.param(None, marks=pytest.mark.skip("samples absent"))],
    ids=lambda p: p and "/".join(p.parts[-3:]),
)
def test_samples_equal_the_tool(cli, tmp_path, edge_file):
    """Every population of every sample: the census equals the tool's, and where the tool
    refuses a population the module raises with the same message."""
    with h5py.File(edge_file, "r") as f:
        populations = list(f["edges"])
    for pop in populations:
        out = tmp_path / f"{pop}.h5"
        proc = cli.run("count", edge_file, "-p", pop, "-o", out, check=False)
        if proc.returncode == 0:
            census = sonata_census.count(edge_file, pop)[pop]
            assert_census_equals_file(census, read_table_file(out)[pop])
            continue
        message = cli.error("count", edge_file, "-p", pop, "-o", out)
        with pytest.raises((ValueError, OSError, KeyError)) as raised:
            sonata_census.count(edge_file, pop)
        assert raised.value.args[0] == message
    tool = cli.run("info", edge_file, "--json", check=False)
    if tool.stdout:
        assert sonata_census.info(edge_file) == json.loads(tool.stdout)


def test_the_gpu_engine_counts_the_same(cli, tmp_path):
    """On whatever adapter exists (Mesa's lavapipe on a machine without a GPU); without one,
    skipped, or failed under SONATA_CENSUS_REQUIRE_GPU=1 as the Rust GPU tests."""
    edges = cli.generate(tmp_path / "edges.h5", order="shuffled", populations=2)
    cpu = sonata_census.count(edges, backend="cpu")
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            gpu = sonata_census.count(edges, backend="gpu")
    except RuntimeError as e:
        if os.environ.get("SONATA_CENSUS_REQUIRE_GPU") == "1":
            raise
        pytest.skip(f"no GPU adapter: {e}")
    software = [w for w in said if "software one" in str(w.message)]
    for pop, census in gpu.items():
        assert census.backend.startswith("gpu: ")
        # The tool's warning about a software adapter, once, as a RuntimeWarning.
        if "llvmpipe" in census.backend or "lavapipe" in census.backend:
            assert len(software) == 1 and software[0].category is RuntimeWarning, said
        for key in TABLES:
            a, b = getattr(census, key), getattr(cpu[pop], key)
            assert (a is None and b is None) or np.array_equal(a, b), key
