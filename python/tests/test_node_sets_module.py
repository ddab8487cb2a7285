"""``sonata_census.NodeSets`` against libsonata's ``NodeSets`` and ``sonata-census nodes select``.

The node sets and node files are test_node_sets.py's (the sample ``node_sets*.json`` files and
``HAND_WRITTEN``), with its ``DIFFERENCES``: ``materialize`` gives libsonata's
``materialize(...).flatten()`` and the tool's ids; where libsonata raises, the module raises
``ValueError`` with the tool's one-line message.
"""

import json

import numpy as np
import pytest
from test_node_sets import (
    DIFFERENCES,
    HAND_WRITTEN,
    S,
    libsonata_population,
    materialize,
    sample_cases,
)

import sonata_census
from sonata_census import NodeSets

libsonata = pytest.importorskip("libsonata")

PREFIX = "sonata-census: "


def ours(sets, name, nodes, pop_name):
    """The module's ids as a sorted list of ints, or the exception it raised."""
    try:
        ids = sets.materialize(name, nodes, pop_name)
    except Exception as e:
        return e
    assert isinstance(ids, np.ndarray) and ids.dtype == np.uint64 and ids.ndim == 1
    assert list(ids) == sorted(ids)
    return [int(i) for i in ids]


def loaded(loader, *args):
    """``loader(*args)``, or the exception it raised."""
    try:
        return loader(*args)
    except Exception as e:
        return e


def tool(cli, nodes, pop_name, sets_path, name):
    """The tool's ids, or its one-line message (without the prefix) when it exits 2."""
    proc = cli.run(
        "nodes", "select", nodes, name, "--node-sets", sets_path, "-p", pop_name, check=False
    )
    if proc.returncode == 0:
        return json.loads(proc.stdout)[pop_name]
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), proc.stderr
    return lines[0][len(PREFIX) :]


def check(cli, nodes, pop_name, sets_path, name, want, difference=None):
    """The module, from the file and from its text, against libsonata's ``want`` and the tool."""
    what = f"{nodes.name}:{pop_name} {name} ({sets_path.read_text()[:200]})"
    from_file = loaded(NodeSets.from_file, sets_path)
    from_text = loaded(NodeSets, sets_path.read_text())
    got = from_file if isinstance(from_file, Exception) else ours(from_file, name, nodes, pop_name)
    got_text = (
        from_text if isinstance(from_text, Exception) else ours(from_text, name, nodes, pop_name)
    )
    by_tool = tool(cli, nodes, pop_name, sets_path, name)
    if difference is not None:
        assert difference in DIFFERENCES
        assert not isinstance(want, Exception), what
        want = ValueError
    if isinstance(want, Exception) or want is ValueError:
        assert type(got) is ValueError, f"{what}: libsonata raised {want!r}, module gave {got!r}"
        assert type(got_text) is ValueError, f"{what}: module from text gave {got_text!r}"
        assert isinstance(by_tool, str), f"{what}: the tool gave {by_tool}"
        assert str(got) == by_tool, what
        assert "\n" not in str(got_text), what
    else:
        assert got == want, f"{what}: module {got!r}, libsonata {want}"
        assert got_text == want, f"{what}: module from text {got_text!r}, libsonata {want}"
        assert by_tool == want, f"{what}: tool {by_tool!r}, libsonata {want}"


@pytest.mark.parametrize("sets,nodes,pop_name", sample_cases())
def test_sample_node_sets_files(cli, sets, nodes, pop_name):
    pop = libsonata_population(nodes, pop_name)
    if pop is None:
        pytest.skip(DIFFERENCES["unreadable-by-libsonata"])
    text = sets.read_text()
    names = json.loads(text)
    module_sets = NodeSets.from_file(sets)
    assert module_sets.names == libsonata.NodeSets(text).names
    for name in sorted(names):
        check(cli, nodes, pop_name, sets, name, materialize(text, name, pop))


@pytest.mark.parametrize(
    "nodes,pop_name,sets,name,difference",
    [
        pytest.param(*c, id=f"{k}-{c[0].rsplit('/', 1)[-1][:-3]}-{json.dumps(c[2])[:60]}")
        for k, c in enumerate(HAND_WRITTEN)
    ],
)
def test_hand_written_node_sets(cli, samples, tmp_path, nodes, pop_name, sets, name, difference):
    nodes = samples / nodes
    pop = libsonata_population(nodes, pop_name)
    assert pop is not None, f"libsonata cannot open {nodes}:{pop_name}"
    text = json.dumps(sets)
    path = tmp_path / "node_sets.json"
    path.write_text(text)
    check(cli, nodes, pop_name, path, name, materialize(text, name, pop), difference)


#: (base node sets, node sets laid over them) for update and names.
UPDATES = [
    ({"a": {"layer": 2}, "b": ["a"]}, {"a": {"layer": 6}, "c": {"mtype": "L6_Y"}}),
    ({"a": {"layer": 2}}, {"a": {}}),
    ({"a": {"layer": 2}, "e": {}}, {"e": {"layer": 6}}),
    ({}, {"x": {"node_id": [0, 1]}}),
    ({"x": {"node_id": [0, 1]}}, {}),
    ({"a": {"layer": 2}, "b": ["a"], "c": ["b", "a"]}, {"a": {"layer": [2, 6]}, "b": {"x": 1}}),
    ({"a": {"layer": 2}, "b": ["a"]}, {"a": ["d"], "d": {"mtype": {"$regex": "^L6"}}}),
]


@pytest.mark.parametrize("base,over", UPDATES, ids=[json.dumps(u)[:60] for u in UPDATES])
def test_update_and_names_as_libsonata(samples, base, over):
    nodes = samples / S / "nodes.h5"
    pop = libsonata.NodeStorage(str(nodes)).open_population("default")
    theirs = libsonata.NodeSets(json.dumps(base))
    mine = NodeSets(json.dumps(base))
    assert isinstance(mine.names, set) and mine.names == theirs.names
    replaced = mine.update(NodeSets(json.dumps(over)))
    assert isinstance(replaced, set)
    assert replaced == theirs.update(libsonata.NodeSets(json.dumps(over)))
    assert mine.names == theirs.names
    for name in sorted(theirs.names):
        want = loaded(lambda: sorted(int(i) for i in theirs.materialize(name, pop).flatten()))
        got = ours(mine, name, nodes, "default")
        if isinstance(want, Exception):
            assert type(got) is ValueError, f"{name}: libsonata raised {want!r}, module {got!r}"
        else:
            assert got == want, name


def test_update_with_itself(samples):
    text = json.dumps({"a": {"layer": 2}, "b": ["a"]})
    theirs = libsonata.NodeSets(text)
    mine = NodeSets(text)
    assert mine.update(mine) == theirs.update(theirs) == {"a", "b"}
    assert mine.names == theirs.names


def test_update_takes_node_sets_only():
    with pytest.raises(TypeError):
        NodeSets("{}").update({"a": {"layer": 2}})
    with pytest.raises(TypeError):
        NodeSets("{}").update(libsonata.NodeSets("{}"))


def test_exported_and_documented():
    assert "NodeSets" in sonata_census.__all__
    assert sonata_census.NodeSets is sonata_census._native.NodeSets
    doc = NodeSets.__doc__
    assert "libsonata" in doc and "Selection" in doc and "uint64" in doc
    sets = NodeSets(json.dumps({"a": {"layer": 2}, "b": ["a"], "e": {}}))
    assert len(sets) == 2 and "a" in sets and "e" not in sets and "z" not in sets
    assert repr(sets) == 'NodeSets(names=["a", "b"])'


def test_errors(samples, tmp_path):
    nodes = samples / S / "nodes.h5"
    sets = NodeSets(json.dumps({"a": {"layer": 2}}))
    with pytest.raises(FileNotFoundError, match="nope.json"):
        NodeSets.from_file(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="not valid JSON"):
        NodeSets("{")
    with pytest.raises(ValueError, match="top level"):
        NodeSets("[]")
    with pytest.raises(ValueError, match="no node set 'zz'"):
        sets.materialize("zz", nodes, "default")
    with pytest.raises(KeyError, match="nope"):
        sets.materialize("a", nodes, "nope")
    with pytest.raises(FileNotFoundError):
        sets.materialize("a", tmp_path / "missing.h5", "default")
    not_hdf5 = tmp_path / "not.h5"
    not_hdf5.write_text("text")
    with pytest.raises(OSError) as raised:
        sets.materialize("a", not_hdf5, "default")
    assert type(raised.value) is not FileNotFoundError


def test_update_refuses_too_deep_chain(samples):
    """libsonata checks compound depth only when parsing (DIFFERENCES["compound-depth-order"]):
    its ``update`` accepts a replacement that makes a chain of more than 10 compounds. The
    module refuses it with ValueError and leaves the sets as they were."""
    deep = {"base": {"layer": 2}, **{f"c{i}": [f"c{i - 1}" if i else "base"] for i in range(10)}}
    over = {"base": ["x"], "x": ["y"], "y": {"layer": 2}}
    theirs = libsonata.NodeSets(json.dumps(deep))
    assert theirs.update(libsonata.NodeSets(json.dumps(over))) == {"base"}
    mine = NodeSets(json.dumps(deep))
    before = mine.names
    with pytest.raises(ValueError, match="allowed") as raised:
        mine.update(NodeSets(json.dumps(over)))
    assert "\n" not in str(raised.value)
    assert mine.names == before
    assert list(mine.materialize("c9", samples / S / "nodes.h5", "default")) == [0]



def test_update_while_materializing_in_threads(samples):
    """``materialize`` runs off the GIL: ``update`` from another thread meanwhile neither fails
    nor disturbs it (each call sees the sets before or after the update)."""
    from concurrent.futures import ThreadPoolExecutor

    nodes = samples / S / "nodes.h5"
    sets = NodeSets(json.dumps({"a": {"layer": 2}}))
    layer2 = list(sets.materialize("a", nodes, "default"))
    layer6 = list(NodeSets(json.dumps({"a": {"layer": 6}})).materialize("a", nodes, "default"))
    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(sets.materialize, "a", nodes, "default") for _ in range(40)]
        for i in range(20):
            sets.update(NodeSets(json.dumps({"a": {"layer": 6 if i % 2 == 0 else 2}})))
        for call in calls:
            assert list(call.result()) in (layer2, layer6)
