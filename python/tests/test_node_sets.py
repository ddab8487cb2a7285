"""Node sets: ``sonata-census nodes select`` against libsonata's ``NodeSets.materialize``.

Every ``node_sets*.json`` of the samples is evaluated on the node files of its folder tree, and a
list of hand-written node sets on the sample node files; libsonata raising must mean the tool
exits 2 with one line, except for the documented differences in ``DIFFERENCES``.
"""

import json
import subprocess
from pathlib import Path

import h5py
import pytest

libsonata = pytest.importorskip("libsonata")

#: Where sonata-census and libsonata knowingly differ, and why. Cases name their key.
DIFFERENCES = {
    "unreadable-by-libsonata": (
        "libsonata refuses some populations sonata-census reads (several attribute groups, "
        "an @library dataset of an unexpected type: nodes1.h5 of libsonata's tests): they are "
        "not compared"
    ),
    "regex-dialect": (
        "$regex is Rust's regex crate, not ECMAScript std::regex: lookaround and "
        "backreferences are refused (exit 2) where libsonata accepts them"
    ),
    "compound-depth-order": (
        "libsonata's compound depth check memoises in name order, so a chain of more than 10 "
        "compounds passes when names sort bottom-up; sonata-census refuses every such chain"
    ),
}

S = "BlueBrain/snap/tests/data"


def node_files_under(folder):
    """The SONATA node files (an /nodes group) in ``folder`` and below, sorted."""
    found = []
    for p in sorted(folder.rglob("*.h5")):
        try:
            with h5py.File(p, "r") as f:
                if "nodes" in f:
                    found.append(p)
        except OSError:
            pass
    return found


def libsonata_population(path, name):
    try:
        return libsonata.NodeStorage(str(path)).open_population(name)
    except libsonata.SonataError:
        return None


def materialize(text, name, pop):
    """libsonata's ids, or the exception it raised."""
    try:
        return sorted(int(i) for i in libsonata.NodeSets(text).materialize(name, pop).flatten())
    except Exception as e:  # SonataError, RuntimeError (JSON, regex), ...
        return e


def compare(cli, nodes, pop_name, sets_path, name, want, difference=None):
    proc = cli.run(
        "nodes", "select", nodes, name, "--node-sets", sets_path, "-p", pop_name, check=False
    )
    what = f"{nodes.name}:{pop_name} {name} ({sets_path.read_text()[:200]})"
    if difference is not None:
        assert difference in DIFFERENCES
        if difference == "regex-dialect":
            assert not isinstance(want, Exception), what
            assert proc.returncode == 2, f"{what}: {proc.stdout}{proc.stderr}"
            return
        if difference == "compound-depth-order":
            assert not isinstance(want, Exception), what
            assert proc.returncode == 2 and "allowed" in proc.stderr, what
            return
    if isinstance(want, Exception):
        assert proc.returncode == 2, f"{what}: libsonata raised {want!r}, tool gave {proc.stdout}"
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sonata-census: "), proc.stderr
    else:
        assert proc.returncode == 0, f"{what}: libsonata gave {want}, tool: {proc.stderr}"
        assert json.loads(proc.stdout) == {pop_name: want}, what


def sample_cases():
    root = Path(__file__).resolve().parents[3] / "shared" / "sonata_samples"
    cases = []
    for sets in sorted(root.rglob("node_sets*.json")):
        for nodes in node_files_under(sets.parent):
            with h5py.File(nodes, "r") as f:
                pops = sorted(f["nodes"])
            for pop in pops:
                case_id = f"{sets.parent.name}-{nodes.stem}-{pop}"
                cases.append(pytest.param(sets, nodes, pop, id=case_id))
    return cases or [pytest.param(None, None, None, marks=pytest.mark.skip("samples absent"))]


@pytest.mark.parametrize("sets,nodes,pop_name", sample_cases())
def test_sample_node_sets_files_match_libsonata(cli, sets, nodes, pop_name):
    pop = libsonata_population(nodes, pop_name)
    if pop is None:
        pytest.skip(DIFFERENCES["unreadable-by-libsonata"])
    text = sets.read_text()
    for name in sorted(json.loads(text)):
        compare(cli, nodes, pop_name, sets, name, materialize(text, name, pop))


def chain(n, reverse=False):
    """A basic set under a chain of n compounds; names sort top-down unless ``reverse``."""
    names = [f"c{chr(ord('a') + (n - i if reverse else i))}" for i in range(n)]
    sets = {"base": {"layer": 2}}
    prev = "base"
    for name in names:
        sets[name] = [prev]
        prev = name
    return sets, prev


#: (node file relative to the samples, population, node sets, name, difference key or None)
HAND_WRITTEN = [
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": [2, 6]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2.0}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2.5}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": [2, 2.5]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": "2"}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": True}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": None}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": [None]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": [2, "x"]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": -5}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": []}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": "L6_Y"}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": ["L2_X", "L6_Y"]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": 2}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": ["L2_X", 1]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": 101}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$gt": 101}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$gte": 101}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$lt": 201.5}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$lte": 201}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": {"$gt": 2.5}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$gt": 1, "$lt": 500}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$and": 1}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$or": "a"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"x": {"$gt": True}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$gt": "a"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$gt": 3}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "L"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "^L2"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "Y$"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": ""}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "\\d_[XY]"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "("}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"mtype": {"$regex": "L(?=6)"}}}, "s", "regex-dialect"),
    (f"{S}/nodes.h5", "default", {"s": {"layer": {"$regex": "2"}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"nope": 1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"population": "default", "nope": 1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"population": "default"}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"population": "default2"}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"population": ["x", "default"]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"population": 1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": [2, 0, 99]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": 1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": -1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": [1.5]}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": "1"}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"node_id": {"$gt": 1}}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {}, "t": {"layer": 2}}, "s", None),
    (f"{S}/nodes.h5", "default", {"e": {}, "s": ["e"]}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": []}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": ["s"]}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": ["t"], "t": ["s"]}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": ["x"]}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": [1]}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": 1}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2}}, "t", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2}, "bad": {"layer": 2.5}}, "s", None),
    (f"{S}/nodes.h5", "default", {"s": {"layer": 2}, "bad": {"nope": 1}}, "s", None),
    (f"{S}/nodes.h5", "default", {"a": {"layer": 2}, "s": ["a", "a"]}, "s", None),
    (f"{S}/nodes.h5", "default", chain(11)[0], chain(11)[1], None),
    (f"{S}/nodes.h5", "default", chain(12, reverse=True)[0], chain(12, reverse=True)[1], None),
    (f"{S}/nodes.h5", "default", chain(12)[0], chain(12)[1], "compound-depth-order"),
    (f"{S}/nodes.h5", "default2", {"s": {"other1": "A", "layer": 7}}, "s", None),
    (f"{S}/nodes.h5", "default2", {"s": {"other2": [10, 11]}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"categorical": "A"}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"categorical": ["B", "C"]}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"categorical": 0}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"categorical": {"$gt": 0}}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default",
     {"s": {"categorical": {"$regex": "^[B]"}}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"string": {"$regex": "A"}}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"string": {"$gt": 0}}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"int": [0, 1]}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"int": "0"}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"float": 0}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"float": {"$lte": 1}}}, "s", None),
    (f"{S}/nodes_with_library_small.h5", "default", {"s": {"float": {"$gt": 1.05}}}, "s", None),
    ("BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5", "NodeA",
     {"s": {"synapse_class": "INH", "mtype": {"$regex": "PC"}}}, "s", None),
    ("BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5", "NodeA",
     {"e": {"synapse_class": "EXC"}, "i": {"synapse_class": "INH"}, "s": ["e", "i"]}, "s", None),
    ("BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5", "NodeA",
     {"s": {"z": {"$lt": 0}, "region": ["RB", "RA"]}}, "s", None),
    ("AllenInstitute/sonata/examples/300_intfire/network/v1_nodes.h5", "v1",
     {"s": {"node_id": [0, 299, 300]}}, "s", None),
    ("AllenInstitute/sonata/examples/300_intfire/network/v1_nodes.h5", "v1",
     {"s": {"model_type": "point_process"}}, "s", None),
]


@pytest.mark.parametrize(
    "nodes,pop_name,sets,name,difference",
    [
        pytest.param(*c, id=f"{k}-{Path(c[0]).stem}-{json.dumps(c[2])[:60]}")
        for k, c in enumerate(HAND_WRITTEN)
    ],
)
def test_hand_written_node_sets_match_libsonata(
    cli, samples, tmp_path, nodes, pop_name, sets, name, difference
):
    nodes = samples / nodes
    pop = libsonata_population(nodes, pop_name)
    assert pop is not None, f"libsonata cannot open {nodes}:{pop_name}"
    text = json.dumps(sets)
    path = tmp_path / "node_sets.json"
    path.write_text(text)
    compare(cli, nodes, pop_name, path, name, materialize(text, name, pop), difference)


def test_circuit_config_warns_and_leaves_out_populations(cli, samples):
    """Circuit-wide: every population libsonata evaluates is in the output; one where it says
    "No such attribute" is left out with a warning (neurodamus's behaviour)."""
    config = samples / S / "circuit_config.json"
    text = (samples / S / "node_sets.json").read_text()
    storage = libsonata.NodeStorage(str(samples / S / "nodes.h5"))
    for name in sorted(json.loads(text)):
        proc = cli.run("nodes", "select", config, name, check=False)
        assert proc.returncode == 0, proc.stderr
        want = {}
        for pop_name in ("default", "default2"):
            got = materialize(text, name, storage.open_population(pop_name))
            assert not isinstance(got, Exception), got
            want[pop_name] = got
        assert json.loads(proc.stdout) == want, name


def test_missing_attribute_circuit_wide(cli, samples, tmp_path):
    config = samples / S / "circuit_config.json"
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"o": {"other1": "A"}}))
    storage = libsonata.NodeStorage(str(samples / S / "nodes.h5"))
    want = materialize(extra.read_text(), "o", storage.open_population("default2"))
    missing = materialize(extra.read_text(), "o", storage.open_population("default"))
    assert isinstance(missing, Exception) and "No such attribute" in str(missing)
    proc = subprocess_run(cli, "nodes", "select", config, "o", "--node-sets", extra)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"default2": want}
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: "), proc.stderr
    assert "'default'" in warnings[0] and "other1" in warnings[0]
    proc = cli.run(
        "nodes", "select", config, "o", "--node-sets", extra, "-p", "default", check=False
    )
    assert proc.returncode == 2


def subprocess_run(cli, *args):
    """The tool without ``-q`` (warnings are printed either way)."""
    return subprocess.run([str(cli.path), *map(str, args)], capture_output=True, text=True)
