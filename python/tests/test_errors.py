"""Bad input and bad arguments raise typed Python exceptions carrying the library's one-line
message (the tool's, with the keyword where the tool names its flag), never a PanicException,
and leave no file behind."""

import json
import os

import numpy as np
import pytest

import sonata_census


def leftovers(folder):
    """Files in `folder` other than those a test made on purpose (temporary names included)."""
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def edges(cli, tmp_path):
    return cli.generate(tmp_path / "edges.h5")


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.h5"
    with pytest.raises(FileNotFoundError) as raised:
        sonata_census.count(missing)
    assert raised.value.args[0] == f"{missing}: No such file or directory (os error 2)"
    with pytest.raises(FileNotFoundError):
        sonata_census.info(missing)
    with pytest.raises(FileNotFoundError):
        sonata_census.read_tables(missing)


def test_files_that_are_not_edge_files(cli, tmp_path, edges):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5\n")
    for path, message in (
        (empty, f"{empty}: cannot open as an HDF5 file (empty file: 0 bytes)"),
        (text, f"{text}: cannot open as an HDF5 file (not an HDF5 file: no HDF5 signature)"),
    ):
        with pytest.raises(OSError) as raised:
            sonata_census.count(path)
        assert raised.value.args[0] == message
        assert cli.error("count", path, "-o", tmp_path / "x.h5") == message
    # A table file is not an edge file, and an edge file is not a table file.
    sonata_census.count(edges, output=tmp_path / "tables.h5")
    with pytest.raises(ValueError, match="this is a sonata-census table file"):
        sonata_census.count(tmp_path / "tables.h5")
    with pytest.raises(ValueError, match="not a census table file"):
        sonata_census.read_tables(edges)


def test_unknown_population(cli, tmp_path, edges):
    with pytest.raises(KeyError) as raised:
        sonata_census.count(edges, "nope")
    message = raised.value.args[0]
    assert message == cli.error("count", edges, "-p", "nope", "-o", tmp_path / "x.h5")
    assert "no population 'nope' (the file has: " in message
    sonata_census.count(edges, output=tmp_path / "t.h5")
    with pytest.raises(KeyError, match="no population 'nope'"):
        sonata_census.read_tables(tmp_path / "t.h5", ["nope"])


def test_outputs(tmp_path, edges):
    out = tmp_path / "out.h5"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError) as raised:
        sonata_census.count(edges, output=out)
    assert raised.value.args[0] == f"{out}: output exists (pass force=True to replace it)"
    assert out.read_bytes() == b"keep"
    sonata_census.count(edges, output=out, force=True)
    assert list(sonata_census.read_tables(out)) == list(sonata_census.count(edges))

    with pytest.raises(ValueError, match="the output is the input edge file"):
        sonata_census.count(edges, output=edges, force=True)
    with pytest.raises(ValueError, match="folder"):
        sonata_census.count(edges, output=tmp_path, force=True)
    with pytest.raises(FileNotFoundError):
        sonata_census.count(edges, output=tmp_path / "no" / "such" / "out.h5")
    with pytest.raises(FileNotFoundError, match="spill_dir"):
        sonata_census.count(edges, spill_dir=tmp_path / "no-such-dir")
    assert leftovers(tmp_path) == ["edges.h5", "out.h5"]


def test_invalid_arguments(tmp_path, edges):
    with pytest.raises(ValueError, match="unknown backend 'fast'"):
        sonata_census.count(edges, backend="fast")
    with pytest.raises(TypeError, match="nodes_count must be an int"):
        sonata_census.count(edges, nodes_count="10")
    with pytest.raises(TypeError, match="nodes_count must be an int"):
        sonata_census.count(edges, nodes_count=True)
    with pytest.raises(ValueError, match="nodes_count must be at least 0"):
        sonata_census.count(edges, nodes_count=-1)
    with pytest.raises(ValueError, match="memory_budget_mib must be at least 1"):
        sonata_census.count(edges, memory_budget_mib=0)
    with pytest.raises(ValueError, match="populations is empty"):
        sonata_census.count(edges, [])
    with pytest.raises(TypeError, match="path must be a path"):
        sonata_census.count(42)
    with pytest.raises(TypeError, match="populations must hold str"):
        sonata_census.count(edges, [1])
    # A node count below the largest target id names the keyword.
    with pytest.raises(ValueError) as raised:
        sonata_census.count(edges, nodes_count=3)
    assert raised.value.args[0].endswith("(node count from nodes_count=)")
    # numpy integers are whole numbers too.
    [plain] = sonata_census.count(edges).values()
    [census] = sonata_census.count(edges, nodes_count=np.int64(plain.n_targets + 5)).values()
    assert census.n_targets == plain.n_targets + 5
    assert census.connections == plain.connections


def test_damaged_table_file_is_refused(tmp_path, edges):
    import h5py

    out = tmp_path / "t.h5"
    sonata_census.count(edges, output=out)
    with h5py.File(out, "r+") as f:
        [group] = f.values()
        counts = group["target_synapse_count"]
        counts[0] = counts[0] + 1
    with pytest.raises(ValueError, match="target_synapse_count.*sums to"):
        sonata_census.read_tables(out)


def test_pathlike_and_relative_paths(tmp_path, edges, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_str = sonata_census.count("edges.h5", output="rel.h5")
    by_path = sonata_census.count(edges)
    assert list(by_str) == list(by_path)
    assert os.path.exists(tmp_path / "rel.h5")


def test_info_of_broken_populations(cli, tmp_path):
    """As `info --json`: broken populations are listed beside the described ones; a file whose
    every population is broken raises the tool's error line."""
    import h5py

    good = cli.generate(tmp_path / "good.h5")
    broken = tmp_path / "broken.h5"
    with h5py.File(broken, "w") as f:
        f.create_dataset("edges/lonely/target_node_id", data=np.zeros(3, dtype=np.uint64))
    with pytest.raises(ValueError) as raised:
        sonata_census.info(broken)
    assert raised.value.args[0] == cli.error("info", broken, "--json")
    assert "source_node_id" in raised.value.args[0]

    with h5py.File(good, "a") as f:
        f.create_dataset("edges/lonely/target_node_id", data=np.zeros(3, dtype=np.uint64))
    described = sonata_census.info(good)
    assert [b["name"] for b in described["broken_populations"]] == ["lonely"]
    assert len(described["populations"]) == 1
    assert described == json.loads(cli.run("info", good, "--json", check=False).stdout)
