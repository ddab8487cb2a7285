"""`sonata_census.neurodamus.cell_readers` against neurodamus 4.2.9's `io.cell_readers`, in the
same process, on every sample node population: `load_sonata` (normal and dry-run paths, strides,
gid lists with duplicates and in any order, dynamic properties), `split_round_robin`,
`dry_run_distribution` and `_retrieve_unique_metypes`; results equal down to dtypes and order,
and where neurodamus raises ours raises. Deliberate differences: the EXEMPT cases of
conftest.py."""

import collections
import types

import h5py
import numpy as np
import pytest

from conftest import EXEMPT, SAMPLES
from sonata_census.neurodamus import cell_readers as ours


@pytest.fixture(scope="session")
def ndc(nd):
    """neurodamus's cell_readers, with METypeItem's coordinate matrix replaced by the
    (position, rotation) it is built from (so that they can be compared without NEURON), and
    `_retrieve_unique_metypes` without its MPI decorator."""
    import neurodamus.metype as metype
    from neurodamus.io import cell_readers

    metype.METypeItem._make_coord_map_matrix = staticmethod(lambda p, r, s: (p, r))
    # Its rank-0 decorator needs NEURON's MPI: the function itself (one process is rank 0).
    wrapped = getattr(cell_readers._retrieve_unique_metypes, "__wrapped__", None)
    if wrapped is not None:
        cell_readers._retrieve_unique_metypes = wrapped
    return cell_readers


def node_populations():
    found = []
    if SAMPLES.is_dir():
        for p in sorted(SAMPLES.rglob("*.h5")):
            with h5py.File(p, "r") as f:
                if "nodes" in f:
                    found += [(p, pop) for pop in f["nodes"]]
    return found or [pytest.param(None, None, marks=pytest.mark.skip("samples absent"))]


def population_size(path, population):
    with h5py.File(path, "r") as f:
        pop = f["nodes"][population]
        for name in ("node_type_id", "node_group_id"):
            if name in pop:
                return len(pop[name])
        # A population without ids (broken): a few ids, which both readers must refuse.
        return 4


def outcome(call):
    try:
        return "ok", call()
    except Exception as e:  # noqa: BLE001 - compared by the caller
        return "raised", e


def assert_same_array(got, want, what):
    assert isinstance(got, np.ndarray), what
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want, err_msg=str(what))


def assert_same_value(got, want, what):
    """Equal values; numbers compared as floats (EXEMPT "dynamic property types")."""
    if isinstance(want, (str, bytes)):
        assert got == want, what
    elif want is None:
        assert got is None, what
    else:
        assert "dynamic property types" in EXEMPT
        assert float(got) == float(want), (what, got, want)


def assert_same_cells(got, want, what):
    assert isinstance(got, ours.METypeManager), what
    assert list(got) == list(want), what
    for gid, item in want.items():
        mine = got[gid]
        label = f"{what} gid {gid}"
        for field in ("morph_name", "etype", "emodel_tpl", "mtype"):
            assert getattr(mine, field) == getattr(item, field), (label, field)
        for field in (
            "threshold_current",
            "holding_current",
            "exc_mini_frequency",
            "inh_mini_frequency",
        ):
            assert type(getattr(mine, field)) is float, (label, field)
            assert getattr(mine, field) == getattr(item, field), (label, field)
        position, rotation = item.local_to_global_matrix
        for name, values in (("position", position), ("rotation", rotation)):
            if values is None:
                assert getattr(mine, name) is None, (label, name)
            else:
                np.testing.assert_array_equal(getattr(mine, name), values, err_msg=label)
        assert list(mine.extra_attrs) == list(item.extra_attrs), label
        for key, value in item.extra_attrs.items():
            assert_same_value(mine.extra_attrs[key], value, (label, key))


def gid_cases(n, seed):
    rng = np.random.default_rng(seed)
    some = rng.integers(0, n, size=2 * n).tolist()
    return [
        None,
        list(range(n)),
        np.arange(n, dtype=np.uint32)[::-1].copy(),
        np.array(some, dtype=np.int64),
        some[::-1],
        [n - 1],
    ]


def props_of(path, population):
    """Some attributes and dynamics attributes of the population, for load_dynamic_props."""
    with h5py.File(path, "r") as f:
        group = f["nodes"][population].get("0")
        if group is None:
            return []
        plain = sorted(k for k, v in group.items() if isinstance(v, h5py.Dataset))[:3]
        dynamics = sorted(group.get("dynamics_params", {}))[:2]
    return plain + [f"@dynamics:{d}" for d in dynamics]


@pytest.mark.parametrize(
    "path,population",
    node_populations(),
    ids=lambda v: v if isinstance(v, str) else (v and "/".join(v.parts[-2:])),
)
def test_load_sonata_equals_neurodamus(ndc, path, population):
    conf = types.SimpleNamespace(CellLibraryFile=str(path), METypePath=None)
    n = population_size(path, population)
    compared = 0
    for gids in gid_cases(n, seed=n):
        for stride, offset in ((1, 0), (2, 0), (2, 1), (3, 2), (4, 7)):
            for props in ((), tuple(props_of(path, population))):
                what = (path.name, population, gids, stride, offset, props)
                want = outcome(
                    lambda: ndc.load_sonata(
                        conf, gids, stride, offset, node_population=population,
                        load_dynamic_props=props,
                    )
                )
                got = outcome(
                    lambda: ours.load_sonata(
                        str(path), gids, stride, offset, node_population=population,
                        load_dynamic_props=props,
                    )
                )
                if want[0] == "raised":
                    assert got[0] == "raised", (what, want[1])
                    assert isinstance(got[1], (ValueError, KeyError, OSError)), got[1]
                    continue
                assert got[0] == "ok", (what, got[1])
                assert_same_array(got[1][0], want[1][0], what)
                assert_same_cells(got[1][1], want[1][1], what)
                assert got[1][2] == want[1][2] == n
                compared += 1
    print(f"{path.name}:{population}: {compared} loads compared")


@pytest.mark.parametrize(
    "path,population",
    node_populations(),
    ids=lambda v: v if isinstance(v, str) else (v and "/".join(v.parts[-2:])),
)
def test_dry_run_path_and_metypes_equal_neurodamus(ndc, path, population):
    import libsonata

    conf = types.SimpleNamespace(CellLibraryFile=str(path), METypePath=None)
    n = population_size(path, population)
    for gids in gid_cases(n, seed=n + 1)[1:]:
        for skip in ((), ("no-such-metype",)):
            want = outcome(
                lambda: ndc._retrieve_unique_metypes(
                    libsonata.NodeStorage(str(path)).open_population(population), gids, skip
                )
            )
            got = outcome(lambda: ours.retrieve_unique_metypes(path, population, gids, skip))
            if want[0] == "raised":
                assert got[0] == "raised" and isinstance(got[1], (ValueError, OSError)), want
                continue
            assert got[0] == "ok", got[1]
            assert list(got[1][0]) == list(want[1][0])
            for metype, g in want[1][0].items():
                assert_same_array(got[1][0][metype], g, metype)
            assert isinstance(got[1][1], collections.defaultdict)
            assert list(got[1][1].items()) == list(want[1][1].items())
            if skip == () and want[1][0]:
                # Skipping the first me-type: left out of the gids, still counted.
                first = next(iter(want[1][0]))
                mine = ours.retrieve_unique_metypes(path, population, gids, (first,))
                theirs = ndc._retrieve_unique_metypes(
                    libsonata.NodeStorage(str(path)).open_population(population), gids, (first,)
                )
                assert list(mine[0]) == list(theirs[0]) and first not in mine[0]
                assert dict(mine[1]) == dict(theirs[1])
        for stride, offset in ((1, 0), (2, 1), (3, 0)):
            stats = [types.SimpleNamespace(metype_counts=collections.Counter(), pop_metype_gids={})
                     for _ in range(2)]
            want = outcome(
                lambda: ndc.load_sonata(
                    conf, gids, stride, offset, node_population=population,
                    dry_run_stats=stats[0], load_mode="load_nodes_metype",
                )
            )
            got = outcome(
                lambda: ours.load_sonata(
                    path, gids, stride, offset, node_population=population,
                    dry_run_stats=stats[1], load_mode="load_nodes_metype",
                )
            )
            if want[0] == "raised":
                assert got[0] == "raised", want[1]
                continue
            assert got[0] == "ok", got[1]
            assert_same_array(got[1][0], want[1][0], "dry run gidvec")
            assert_same_cells(got[1][1], want[1][1], "dry run")
            assert stats[1].metype_counts == stats[0].metype_counts
            assert list(stats[1].pop_metype_gids[population]) == list(
                stats[0].pop_metype_gids[population]
            )


def test_distribution_functions_equal_neurodamus(ndc):
    rng = np.random.default_rng(2)
    cases = [
        [5, 3, 9, 1, 7],
        list(range(10)),
        np.array([8, 8, 2, 6, 0, 4, 2], dtype=np.int64),
        np.array([8, 2, 6], dtype=np.uint32),
        np.array([], dtype=np.uint32),
        rng.integers(0, 10**9, 500, dtype=np.uint64),
    ]
    for gids in cases:
        for stride in (1, 2, 3, 7):
            for offset in range(stride + 1):
                want = ndc.split_round_robin(gids, stride, offset)
                assert_same_array(ours.split_round_robin(gids, stride, offset), want, gids)
    for total in (1, 7, 10):
        for stride in (1, 2, 3):
            for offset in range(stride + 2):
                want = ndc.split_round_robin(None, stride, offset, total)
                got = ours.split_round_robin(None, stride, offset, total)
                assert_same_array(got, want, (total, stride, offset))
    assert "split_round_robin without total_cells" in EXEMPT
    with pytest.raises(AssertionError):
        ndc.split_round_robin(None, 2, 0)
    with pytest.raises(ValueError, match="total_cells"):
        ours.split_round_robin(None, 2, 0)
    bundles_cases = [
        [np.array(b, dtype=np.uint32) for b in ([1, 2, 3], [4, 5, 6], [7, 8, 9], [10])],
        [np.array(b, dtype=np.uint32) for b in ([9, 1], [3], [0, 2, 4, 6], [5], [8, 7])],
        [[4, 1], [2]],
        [],
    ]
    for bundles in bundles_cases:
        for stride in (1, 2, 3, 6):
            for offset in range(stride + 1):
                want = ndc.dry_run_distribution(bundles, stride, offset)
                got = ours.dry_run_distribution(bundles, stride, offset)
                assert_same_array(got, want, (bundles, stride, offset))
    with pytest.raises(ValueError):
        ndc.dry_run_distribution(bundles_cases[0], 0, 0)
    with pytest.raises(ValueError):
        ours.dry_run_distribution(bundles_cases[0], 0, 0)


def test_missing_dynamic_property_raises_as_neurodamus(ndc, samples):
    path = samples / "BlueBrain/sonata-extension/source/usecases/usecase3/nodes_A.h5"
    conf = types.SimpleNamespace(CellLibraryFile=str(path), METypePath=None)
    for prop, message in (
        ("@dynamics:nope", "Required Dynamics property @dynamics:nope not present"),
        ("nope", "Required extra property nope not present"),
    ):
        with pytest.raises(Exception, match=message):
            ndc.load_sonata(conf, [0], node_population="NodeA", load_dynamic_props=[prop])
        with pytest.raises(ValueError, match=message):
            ours.load_sonata(conf, [0], node_population="NodeA", load_dynamic_props=[prop])
    with pytest.raises(KeyError):
        ours.load_sonata(path, [0], node_population="NoSuchPopulation")
    with pytest.raises(FileNotFoundError):
        ours.load_sonata(path.parent / "absent.h5", [0], node_population="NodeA")
    with pytest.raises(ValueError, match="NEURON"):
        ours.load_sonata(path, [0], node_population="NodeA", has_extra_data=True)
