"""`sonata_census.count(..., shard=(i, n))` and `sonata_census.merge`: every shard of a count
merged gives, byte for byte, the file `count(..., output=)` writes in one process, and the same
arrays, for 1 to 5 shards of sorted and shuffled generated edge files (with shards left empty by
a population smaller than their number), on both engines; a circuit config with node sets,
`direction="both"` and pathways; partial files of the module and of the tool mixed; mistakes as
Python exceptions that name the files and leave no output."""

import filecmp
import shutil

import numpy as np
import pytest

import sonata_census
from sonata_census._census import TABLES
from test_count_node_sets import _write_edges, circuit  # noqa: F401 - the fixture

#: What a census says beside its tables; `backend` is left out (a merged census is read back
#: from its file, which does not record the engine).
FIELDS = (
    "population",
    "source_population",
    "target_population",
    "edges",
    "connections",
    "n_targets",
    "order",
    "table_kind",
    "target_node_set",
    "source_node_set",
    "population_edges",
    "direction",
)


def _assert_same_census(got, want):
    """Every field and table of the Census `got` equals `want`'s (dtypes included), efferent
    tables and pathway matrices too."""
    name = want.population
    for field in FIELDS:
        assert getattr(got, field) == getattr(want, field), f"{name}: {field}"
    for table in TABLES:
        a, b = getattr(got, table), getattr(want, table)
        assert (a is None) == (b is None), f"{name}: {table}"
        if b is not None:
            assert a.dtype == b.dtype, f"{name}: {table}: {a.dtype} != {b.dtype}"
            np.testing.assert_array_equal(a, b, err_msg=f"{name}: {table}")
    assert (got.efferent is None) == (want.efferent is None), f"{name}: efferent"
    if want.efferent is not None:
        for key in sonata_census.Efferent.__slots__:
            np.testing.assert_array_equal(
                getattr(got.efferent, key), getattr(want.efferent, key), err_msg=f"{name}: {key}"
            )
    # As read_tables gives them: a file's pathway groups in name order, not in the order asked.
    assert sorted(got.pathways) == sorted(want.pathways), f"{name}: pathways"
    for attribute, p in want.pathways.items():
        q = got.pathways[attribute]
        for key in sonata_census.Pathway.__slots__[1:]:
            np.testing.assert_array_equal(
                getattr(q, key), getattr(p, key), err_msg=f"{name}: {attribute}: {key}"
            )


def _sharded(path, folder, n, backend="cpu", **kwargs):
    """Every shard of `count(path, **kwargs)` in `n` shards, written to `folder`; returns the
    partial files written, checking the path each shard says it wrote."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "census.h5"
    written = []
    for i in range(n):
        w = sonata_census.count(path, backend=backend, output=out, shard=(i, n), **kwargs)
        assert isinstance(w, str) and w == str(folder / f"census.shard-{i}-of-{n}.h5")
        written.append(w)
    return written


def _assert_merges_to_whole(path, folder, shards, **kwargs):
    """For each number of shards: every shard counted, then merged, equals the whole count,
    the file byte for byte and the returned censuses (files written under `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    whole_file = folder / "whole.h5"
    whole = sonata_census.count(path, backend="cpu", output=whole_file, **kwargs)
    for n in shards:
        parts = _sharded(path, folder / f"parts-{n}", n, **kwargs)
        merged_file = folder / f"merged-{n}.h5"
        # In reverse order: merge takes the files in any order.
        merged = sonata_census.merge(parts[::-1], merged_file)
        assert filecmp.cmp(merged_file, whole_file, shallow=False), f"{n} shards"
        assert list(merged) == list(whole), f"{n} shards"
        for name, c in whole.items():
            assert merged[name].backend is None
            _assert_same_census(merged[name], c)


def test_every_shard_count_merges_to_the_whole_edge_file(circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    edge_file = config.parent / "edges.h5"
    _assert_merges_to_whole(edge_file, tmp_path / "out", range(1, 6))


def test_a_config_with_node_sets_both_directions_and_pathways(circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    # `local` only: `input` comes from `virtual`, which has no mtype.
    kwargs = dict(populations="local", direction="both", pathways=["mtype", "layer"])
    _assert_merges_to_whole(config, tmp_path / "all", (1, 3, 5), **kwargs)
    # Restricted to node sets: the sets are recorded in the partial files and applied by merge.
    _assert_merges_to_whole(
        config, tmp_path / "sets", (2, 4),
        target_node_set="Layer5", source_node_set="First", **kwargs,
    )
    # Both populations, efferent tables only (sized by each source node population).
    _assert_merges_to_whole(config, tmp_path / "efferent", (3,), direction="efferent")


def test_more_shards_than_edges_and_rank_in_the_name(tmp_path):
    edge_file = tmp_path / "tiny.h5"
    _write_edges(edge_file, "tiny", [2, 0, 1], [1, 1, 0], "cells", "cells")
    whole_file = tmp_path / "whole.h5"
    whole = sonata_census.count(edge_file, backend="cpu", output=whole_file)
    # {rank} in the output names each shard's file; shards 0 and 2 of 5 own no edge.
    out = tmp_path / "part-{rank}.h5"
    parts = [
        sonata_census.count(edge_file, backend="cpu", output=out, shard=(i, 5)) for i in range(5)
    ]
    assert parts == [str(tmp_path / f"part-{i}.h5") for i in range(5)]
    # One glob pattern names them all.
    merged = sonata_census.merge(str(tmp_path / "part-*.h5"), tmp_path / "merged.h5")
    assert filecmp.cmp(tmp_path / "merged.h5", whole_file, shallow=False)
    _assert_same_census(merged["tiny"], whole["tiny"])


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_shards_counted_on_either_engine(circuit, tmp_path, backend, count_on):  # noqa: F811
    config, _ = circuit
    edge_file = config.parent / "edges.h5"
    whole_file = tmp_path / "whole.h5"
    sonata_census.count(edge_file, backend="cpu", output=whole_file)
    out = tmp_path / "census.h5"
    # count_on skips when no GPU adapter exists and silences the software-adapter warning.
    parts = [count_on(backend, edge_file, output=out, shard=(i, 3)) for i in range(3)]
    sonata_census.merge(parts, tmp_path / "merged.h5")
    assert filecmp.cmp(tmp_path / "merged.h5", whole_file, shallow=False)


def test_partial_files_of_the_module_and_of_the_tool_mix(cli, circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    whole_file = tmp_path / "whole.h5"
    flags = ["-p", "local", "--direction", "both", "--pathways", "mtype,layer",
             "--target-node-set", "Layer5"]
    kwargs = dict(populations="local", direction="both", pathways=["mtype", "layer"],
                  target_node_set="Layer5")
    sonata_census.count(config, backend="cpu", output=whole_file, **kwargs)
    module, tool = tmp_path / "module", tmp_path / "tool"
    module.mkdir()
    tool.mkdir()
    by_module = _sharded(config, module, 3, **kwargs)
    for i in range(3):
        cli.run("count", config, "--backend", "cpu", "--shard", f"{i}/3",
                "-o", tool / "census.h5", *flags)
    by_tool = [str(tool / f"census.shard-{i}-of-3.h5") for i in range(3)]
    for a, b in zip(by_module, by_tool):
        assert filecmp.cmp(a, b, shallow=False), f"{a} differs from the tool's {b}"
    # Shard 1 of the tool's with shards 0 and 2 of the module's, merged by each.
    mixed = [by_module[0], by_tool[1], by_module[2]]
    sonata_census.merge(mixed, tmp_path / "merged.h5")
    assert filecmp.cmp(tmp_path / "merged.h5", whole_file, shallow=False)
    cli.run("merge", *mixed, "-o", tmp_path / "merged-by-tool.h5")
    assert filecmp.cmp(tmp_path / "merged-by-tool.h5", whole_file, shallow=False)


def test_shard_mistakes_raise_and_write_nothing(circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    edge_file = config.parent / "edges.h5"
    # The circuit's files are in tmp_path: what is written goes to its own folder.
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out.h5"
    cases = [
        (dict(shard=(3, 3)), ValueError, r"i must be in \[0, n\)"),
        (dict(shard=(-1, 3)), ValueError, r"i must be in \[0, n\)"),
        (dict(shard=(0, 0)), ValueError, "n must be at least 1"),
        (dict(shard=(0, 1 << 64)), ValueError, "less than 2\\*\\*64"),
        (dict(shard=(1,)), ValueError, "a pair"),
        (dict(shard=(0, 1, 2)), ValueError, "a pair"),
        (dict(shard="0/4"), TypeError, "shard must be a tuple"),
        (dict(shard=3), TypeError, "shard must be a tuple"),
        (dict(shard=(0.0, 2)), TypeError, "two ints"),
        (dict(shard=(True, 2)), TypeError, "two ints"),
        (dict(shard=(0, 2), output=None), ValueError, "shard needs output="),
        (dict(shard=(0, 2), populations="nope"), KeyError, "nope"),
        (dict(shard=(0, 2), direction="sideways"), ValueError, "direction must be one of"),
    ]
    for kwargs, error, says in cases:
        kwargs.setdefault("output", out)
        with pytest.raises(error, match=says):
            sonata_census.count(edge_file, backend="cpu", **kwargs)
        assert list(work.iterdir()) == [], kwargs
    # The partial file is not replaced without force.
    part = sonata_census.count(edge_file, backend="cpu", output=out, shard=(0, 2))
    with pytest.raises(FileExistsError, match="force=True"):
        sonata_census.count(edge_file, backend="cpu", output=out, shard=(0, 2))
    assert sonata_census.count(edge_file, backend="cpu", output=out, shard=(0, 2),
                               force=True) == part


def test_merge_mistakes_name_the_files_and_write_nothing(circuit, tmp_path):  # noqa: F811
    config, _ = circuit
    edge_file = config.parent / "edges.h5"
    parts = _sharded(edge_file, tmp_path / "a", 3)
    # The same count of a copy of the input: another input.
    other_input = tmp_path / "other.h5"
    shutil.copy(edge_file, other_input)
    other = _sharded(other_input, tmp_path / "b", 3)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "merged.h5"
    cases = [
        (parts[:2], "shard 2 of 3 missing", [parts[0]]),
        ([parts[0], parts[0], parts[1], parts[2]], "are both shard 0/3", [parts[0]]),
        ([parts[0], other[1], parts[2]], "shards of different counts", [parts[0], other[1]]),
        ([*parts, edge_file], "not a partial table file", [str(edge_file)]),
        ([*parts, config], "not an HDF5 file", [str(config)]),
        ([parts[0], str(tmp_path / "missing.h5")], "missing.h5", []),
        (str(tmp_path / "nothing-*.h5"), "no file matches", []),
        ([], "parts is empty", []),
    ]
    for given, says, named in cases:
        with pytest.raises((ValueError, OSError), match=says) as e:
            sonata_census.merge(given, out)
        for path in named:
            assert path in str(e.value), (given, str(e.value))
        # Not even the temporary file the output is written under.
        assert list(work.iterdir()) == [], given
    with pytest.raises(TypeError, match="parts must be a path"):
        sonata_census.merge([3], out)
    with pytest.raises(TypeError, match="parts must be a path"):
        sonata_census.merge(3, out)
    # An existing output is replaced only with force.
    out.write_bytes(b"")
    with pytest.raises(FileExistsError, match="force=True"):
        sonata_census.merge(parts, out)
    assert out.read_bytes() == b""
    merged = sonata_census.merge(parts, out, force=True)
    assert set(merged) == {"local", "input"}
    # The output may not be one of the partial files.
    with pytest.raises(ValueError, match=r"one of the partial files \(choose another output\)"):
        sonata_census.merge(parts, parts[0], force=True)
    # spill_dir must be a folder.
    with pytest.raises(OSError, match="spill_dir"):
        sonata_census.merge(parts, work / "m2.h5", spill_dir=tmp_path / "nowhere")
    assert not (work / "m2.h5").exists()
