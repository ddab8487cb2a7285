"""`sonata_census.neurodamus.SonataReader.get_counts` / `get_conn_counts` against neurodamus 4.2.9
itself, in the same process: every sample edge population and generated circuits, random gid
lists (duplicates, unsorted, absent), as lists and numpy arrays of several dtypes, repeated calls
(its caches); the dicts must be equal down to key and value types, order and the identity of
EMPTY_DATA. Deliberate differences (README, "neurodamus parity") are the EXEMPT cases of conftest.py,
each tested for the README's behaviour instead."""

import h5py
import numpy as np
import pytest

from conftest import (
    EXEMPT,
    neurodamus_readable_copy,
    sample_populations,
    target_index_nodes,
)
from sonata_census.neurodamus import SonataReader


def typed(value, empty=None):
    """A dict as a comparable list: keys and values with their Python types, in order; nested
    dicts the same way, EMPTY_DATA (by identity) as a marker."""
    if empty is not None and value is empty:
        return "EMPTY_DATA"
    if isinstance(value, dict):
        return [(type(k).__name__, int(k), typed(v, empty)) for k, v in value.items()]
    return (type(value).__name__, int(value))


def gid_lists(n, seed):
    """Gid lists for a population with `n` target-index rows: all of them plus one beyond, and
    random ones with duplicates, unsorted, absent, in several containers."""
    rng = np.random.default_rng(seed)
    every = list(range(n)) + [n + 5]
    some = rng.integers(0, n + 10, size=min(40, 2 * n + 1)).tolist()
    return [
        every,
        np.array(every, dtype=np.int64),
        np.array(every, dtype=np.uint32),
        some,
        some[::-1] + some[:3],
        np.array(some, dtype=np.uint64),
        [n + 1, n + 2],
        [],
        [int(rng.integers(0, max(n, 1)))],
    ]


def compare_readers(nd, path, population, n, seed=0, reference=None, census_tables=None):
    """Ours on `path` (answering from `census_tables` when given) against neurodamus on
    `reference` (default: the same file)."""
    ours = SonataReader(path, population, census_tables=census_tables)
    theirs = nd.SonataReader(str(reference or path), population)
    for ids in gid_lists(n, seed):
        assert typed(ours.get_counts(ids)) == typed(theirs.get_counts(ids)), ids
        # Twice: the second call is served by the caches of both.
        for _ in range(2):
            got = ours.get_conn_counts(ids)
            want = theirs.get_conn_counts(ids)
            assert typed(got, ours.EMPTY_DATA) == typed(want, theirs.EMPTY_DATA), ids
    # Cached answers are the same dict objects on the next call, as in neurodamus.
    with_edges = [g for g, v in theirs.get_conn_counts(list(range(n))).items() if v]
    if with_edges:
        g = with_edges[0]
        assert (ours.get_conn_counts([g])[g] is ours.get_conn_counts([g, 0])[g]) == (
            theirs.get_conn_counts([g])[g] is theirs.get_conn_counts([g, 0])[g]
        )
    for ours_call, theirs_call, error in (
        (ours.get_counts, theirs.get_counts, TypeError),
        (ours.get_conn_counts, theirs.get_conn_counts, OverflowError),
    ):
        with pytest.raises(error):
            theirs_call([1, -1])
        with pytest.raises(error):
            ours_call([1, -1])


@pytest.mark.parametrize(
    "path,population",
    sample_populations(),
    ids=lambda v: v if isinstance(v, str) else (v and "/".join(v.parts[-2:])),
)
def test_samples_equal_neurodamus(nd, tmp_path, path, population):
    n = target_index_nodes(path, population)
    reference = path
    try:
        nd.SonataReader(str(path), population).get_counts([0])
    except Exception as e:  # noqa: BLE001 - whatever neurodamus raises, ours must raise too
        reference = neurodamus_readable_copy(path, tmp_path)
        if reference is None:
            with pytest.raises((ValueError, KeyError, OSError)):
                SonataReader(path, population).get_counts([0])
            print(f"{path.name}:{population}: both raise (neurodamus: {type(e).__name__}: {e})")
            return
        # What libsonata refuses and this reader reads (EXEMPT).
        print(f"{path.name}:{population}: compared on a copy (neurodamus: {e})")
    assert n is not None, "neurodamus answered without a target index"
    compare_readers(nd, path, population, n, reference=reference)


CIRCUITS = {
    "sorted": {},
    "target_sorted": {"order": "target-sorted"},
    "shuffled": {"order": "shuffled"},
    "int64_ids": {"order": "shuffled", "id_dtype": "i64"},
}


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_generated_circuits_equal_neurodamus(nd, cli, tmp_path, name):
    path = cli.generate(tmp_path / "edges.h5", nodes=300, edges=20000, **CIRCUITS[name])
    with h5py.File(path, "r") as f:
        [population] = f["edges"]
    compare_readers(nd, path, population, target_index_nodes(path, population), seed=7)


@pytest.mark.parametrize(
    "exemption,options,refusal",
    [
        ("bmtk index spelling", {"index_spelling": "bmtk"}, "node_id_to_ranges"),
        ("several attribute groups", {"groups": 3, "order": "shuffled"}, "single-group"),
    ],
    ids=["bmtk_index", "groups"],
)
def test_what_libsonata_refuses_is_read(nd, cli, tmp_path, exemption, options, refusal):
    assert exemption in EXEMPT
    path = cli.generate(tmp_path / "edges.h5", nodes=300, edges=20000, **options)
    with h5py.File(path, "r") as f:
        [population] = f["edges"]
    with pytest.raises(Exception, match=refusal):
        nd.SonataReader(str(path), population).get_counts([0])
    (tmp_path / "copy").mkdir()
    reference = neurodamus_readable_copy(path, tmp_path / "copy")
    compare_readers(
        nd, path, population, target_index_nodes(path, population), reference=reference
    )


def test_without_an_index_both_raise(nd, cli, tmp_path):
    path = cli.generate(tmp_path / "edges.h5", no_index=True)
    with h5py.File(path, "r") as f:
        [population] = f["edges"]
    with pytest.raises(Exception, match="index"):
        nd.SonataReader(str(path), population).get_counts([0])
    with pytest.raises(ValueError, match="index"):
        SonataReader(path, population).get_counts([0])


def test_exempt_cases_follow_the_readme(nd, cli, tmp_path):
    path = cli.generate(tmp_path / "edges.h5", populations=2)
    with h5py.File(path, "r") as f:
        first = next(iter(f["edges"]))
    huge = 2**32 + 1
    assert "id >= 2**32 in get_conn_counts" in EXEMPT
    with pytest.raises(OverflowError):
        nd.SonataReader(str(path), first).get_conn_counts([huge])
    reader = SonataReader(path, first)
    assert reader.get_conn_counts([huge]) == {huge: {}}
    assert reader.get_conn_counts([huge])[huge] is SonataReader.EMPTY_DATA
    assert reader.get_counts([huge]) == {huge: 0}

    assert "no population, several in the file" in EXEMPT
    with pytest.raises(AssertionError):
        nd.SonataReader(str(path))
    with pytest.raises(ValueError, match="2 edge populations .*: name one"):
        SonataReader(path)


def test_unknown_population_raises_as_neurodamus(nd, cli, tmp_path):
    path = cli.generate(tmp_path / "edges.h5")
    with pytest.raises(Exception):  # noqa: B017 - libsonata's own error type
        nd.SonataReader(str(path), "nope")
    with pytest.raises(KeyError, match="no population 'nope'"):
        SonataReader(path, "nope")


def test_syn_read_counts(samples):
    """neurodamus's own tests/unit/test_synapse_reader.py::test_syn_read_counts, on the reader."""
    path = samples / "BlueBrain/sonata-extension/source/usecases/usecase3/local_edges_A.h5"
    reader = SonataReader(path, "NodeA__NodeA__chemical")
    counts = reader.get_counts([0, 1, 2])
    assert counts == {0: 2, 1: 2, 2: 0}
    assert len(counts) == 3
    assert reader.get_conn_counts([0]) == {0: {1: 2}}
    assert reader.get_conn_counts([0, 1]) == {0: {1: 2}, 1: {0: 2}}
    assert reader.get_conn_counts([1]) == {1: {0: 2}}
    assert reader.has_property("synapse_index")
    assert not reader.has_property("no_such_attribute")
