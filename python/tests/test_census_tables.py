"""Census table files answering the readers in place of their edge files
(``SonataReader(..., census_tables=...)``, ``get_conn_counts_arrays``): equal to neurodamus 4.2.9
itself on every sample population and generated circuit (the same comparison as
test_neurodamus_counts.py: types, order, caches, errors), and refused, naming both files, when
they are not a full census of the very edge file."""

import h5py
import numpy as np
import pytest

import sonata_census
from conftest import neurodamus_readable_copy, sample_populations, target_index_nodes
from sonata_census.neurodamus import SonataReader
from test_neurodamus_counts import CIRCUITS, compare_readers


def tables_of(path, population, folder):
    """A census table file of `population` of `path`, written by the module as `count` writes."""
    tables = folder / "tables.h5"
    sonata_census.count(path, [population], backend="cpu", output=tables, force=True)
    return tables


@pytest.mark.parametrize(
    "path,population",
    sample_populations(),
    ids=lambda v: v if isinstance(v, str) else (v and "/".join(v.parts[-2:])),
)
def test_samples_from_tables_equal_neurodamus(nd, tmp_path, path, population):
    n = target_index_nodes(path, population)
    reference = path
    try:
        nd.SonataReader(str(path), population).get_counts([0])
    except Exception:  # noqa: BLE001 - compared on a readable copy, as the edge-file test does
        reference = neurodamus_readable_copy(path, tmp_path)
    if reference is None or n is None:
        pytest.skip(f"{path.name}:{population}: neurodamus cannot read it (edge-file test covers it)")
    try:
        tables = tables_of(path, population, tmp_path)
    except ValueError as e:
        pytest.skip(f"{path.name}:{population}: no census of it ({e})")
    compare_readers(nd, path, population, n, reference=reference, census_tables=tables)


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_generated_circuits_from_tables_equal_neurodamus(nd, cli, tmp_path, name):
    path = cli.generate(tmp_path / "edges.h5", nodes=300, edges=20000, **CIRCUITS[name])
    with h5py.File(path, "r") as f:
        [population] = f["edges"]
    n = target_index_nodes(path, population)
    tables = tables_of(path, population, tmp_path)
    # The tool's tables answer the same (the module's and the tool's files are the same bytes).
    cli.run("count", path, "-o", tmp_path / "tool.h5")
    assert (tmp_path / "tool.h5").read_bytes() == tables.read_bytes()
    compare_readers(nd, path, population, n, seed=11, census_tables=tables)


def test_arrays_form_equals_the_dicts(cli, tmp_path):
    path = cli.generate(tmp_path / "edges.h5", nodes=200, edges=8000, order="shuffled")
    population = "All__All__chemical"
    tables = tables_of(path, population, tmp_path)
    rng = np.random.default_rng(3)
    gids = rng.integers(0, 210, size=300).tolist() + [5, 5, 10**12]
    for census_tables in (None, tables):
        reader = SonataReader(path, population, census_tables=census_tables)
        offsets, sources, synapses = reader.get_conn_counts_arrays(gids)
        assert offsets.dtype == np.uint64 and sources.dtype == np.uint64
        assert synapses.dtype == np.int64
        assert len(offsets) == len(gids) + 1 and offsets[0] == 0
        dicts = SonataReader(path, population).get_conn_counts(gids)
        for i, gid in enumerate(gids):
            a, b = offsets[i], offsets[i + 1]
            want = dicts[gid]
            assert dict(zip(sources[a:b].tolist(), synapses[a:b].tolist())) == {
                int(k): int(v) for k, v in want.items()
            }, gid
        assert sum(len(d) for d in (dicts[g] for g in gids)) == len(sources)


def test_tables_of_another_input_are_refused(cli, tmp_path):
    population = "All__All__chemical"
    a = cli.generate(tmp_path / "a.h5", nodes=100, edges=3000, seed=1)
    (tmp_path / "b").mkdir()
    b = cli.generate(tmp_path / "b" / "a.h5", nodes=100, edges=3000, seed=2, order="shuffled")
    tables = tables_of(a, population, tmp_path)
    with pytest.raises(ValueError) as e:
        SonataReader(b, population, census_tables=tables)
    message = str(e.value)
    assert str(tables) in message and str(b) in message, message
    assert "were not counted from" in message
    # An edge file is not a table file; a missing one is FileNotFoundError.
    with pytest.raises(ValueError, match="not a census table file"):
        SonataReader(a, population, census_tables=a)
    with pytest.raises(FileNotFoundError):
        SonataReader(a, population, census_tables=tmp_path / "missing.h5")
    # Tables of another kind (a shard's, a restricted census) cannot answer every target.
    partial = tmp_path / "partial.h5"
    partial.write_bytes(tables.read_bytes())
    with h5py.File(partial, "r+") as f:
        f[population].attrs["table_kind"] = "partial"
    with pytest.raises(ValueError, match="only a full census"):
        SonataReader(a, population, census_tables=partial)


def test_get_counts_reads_every_kind_of_id_list_alike(nd, cli, tmp_path):
    """Lists and tuples of plain ints are read in Rust without numpy; anything else goes through
    the numpy conversion: the answers (and errors) are neurodamus's either way."""
    path = cli.generate(tmp_path / "edges.h5", nodes=100, edges=3000, order="shuffled")
    population = "All__All__chemical"
    tables = tables_of(path, population, tmp_path)
    theirs = nd.SonataReader(str(path), population)
    for census_tables in (None, tables):
        ours = SonataReader(path, population, census_tables=census_tables)
        for ids in (
            [5, 3, 5, 200, 0],
            (5, 3, 5, 200, 0),
            [np.int64(5), 3, 7],
            np.array([5, 3, 200], dtype=np.uint32),
            [2**63],
            [],
        ):
            got, want = ours.get_counts(ids), theirs.get_counts(ids)
            assert [(type(k), k, type(v), v) for k, v in got.items()] == [
                (type(k), k, type(v), v) for k, v in want.items()
            ], ids
        for bad in ([1, -1], (1, -1), [1.5], [2**64]):
            with pytest.raises(TypeError):
                ours.get_counts(bad)


def test_large_batches_leave_the_garbage_collector_as_they_found_it(cli, tmp_path):
    import gc

    path = cli.generate(tmp_path / "edges.h5", nodes=12000, edges=40000, order="shuffled")
    every = list(range(12000))
    assert gc.isenabled()
    answer = SonataReader(path).get_conn_counts(every)
    assert gc.isenabled() and sum(len(v) for v in answer.values()) > 0
    gc.disable()
    try:
        SonataReader(path).get_conn_counts(every)
        assert not gc.isenabled()
    finally:
        gc.enable()
