"""`sonata_census.count` of a circuit config: the same table file, byte for byte, as the tool's
`count CONFIG -o`, and `nodes_count` refused with a config."""

import json

import h5py
import numpy as np
import pytest

import sonata_census


def _circuit(tmp_path):
    """Node populations src (25) and tgt (40); edge populations pa (a.h5), pb (b.h5)."""
    with h5py.File(tmp_path / "nodes.h5", "w") as f:
        for pop, n in (("src", 25), ("tgt", 40)):
            g = f.create_group(f"nodes/{pop}")
            g["node_type_id"] = np.full(n, -1, dtype=np.int64)
            g.create_group("0")
    rng = np.random.default_rng(3)
    for file, pop, edges in (("a.h5", "pa", 300), ("b.h5", "pb", 120)):
        with h5py.File(tmp_path / file, "w") as f:
            g = f.create_group(f"edges/{pop}")
            for name, node_pop, hi in (("source_node_id", "src", 25), ("target_node_id", "tgt", 30)):
                ds = g.create_dataset(name, data=rng.integers(0, hi, edges, dtype=np.uint64))
                ds.attrs["node_population"] = node_pop
    config = tmp_path / "circuit_config.json"
    config.write_text(
        json.dumps(
            {
                "manifest": {"$BASE_DIR": "./"},
                "networks": {
                    "nodes": [{"nodes_file": "$BASE_DIR/nodes.h5"}],
                    "edges": [
                        {"edges_file": "$BASE_DIR/b.h5"},
                        {"edges_file": "$BASE_DIR/a.h5"},
                    ],
                },
            }
        )
    )
    return config


def test_config_count_equals_the_tools_table_file(cli, tmp_path):
    config = _circuit(tmp_path)
    by_tool = tmp_path / "tool.h5"
    cli.run("count", config, "-o", by_tool, "--backend", "cpu")
    by_module = tmp_path / "module.h5"
    got = sonata_census.count(config, backend="cpu", output=by_module)
    assert list(got) == ["pb", "pa"]
    assert all(c.n_targets == 40 for c in got.values())
    assert by_module.read_bytes() == by_tool.read_bytes()
    # One population, named.
    one_tool, one_module = tmp_path / "one_tool.h5", tmp_path / "one_module.h5"
    cli.run("count", config, "-p", "pa", "-o", one_tool, "--backend", "cpu")
    got = sonata_census.count(str(config), "pa", backend="cpu", output=one_module)
    assert list(got) == ["pa"]
    assert one_module.read_bytes() == one_tool.read_bytes()


def test_config_count_of_the_snap_sample_equals_the_tool(cli, samples, tmp_path):
    config = samples / "BlueBrain/snap/tests/data/circuit_config.json"
    by_tool, by_module = tmp_path / "tool.h5", tmp_path / "module.h5"
    cli.run("count", config, "-o", by_tool, "--backend", "cpu")
    sonata_census.count(config, backend="cpu", output=by_module)
    assert by_module.read_bytes() == by_tool.read_bytes()


def test_nodes_count_with_a_config_is_a_value_error(tmp_path):
    config = _circuit(tmp_path)
    out = tmp_path / "out.h5"
    with pytest.raises(ValueError, match="nodes_count does not apply to a circuit config"):
        sonata_census.count(config, nodes_count=40, output=out)
    assert not out.exists()


def test_a_missing_edge_file_names_the_config(tmp_path):
    config = _circuit(tmp_path)
    (tmp_path / "a.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"a\.h5.*named by .*circuit_config\.json"):
        sonata_census.count(config)
