"""The module in one process with h5py (which brings its own HDF5): files open in h5py meanwhile,
files h5py wrote, table files h5py reads back."""

import h5py
import numpy as np

import sonata_census


def write_edges(path, source, target, nodes):
    """A minimal SONATA edge file, written with h5py: one population 'hand', no index."""
    with h5py.File(path, "w") as f:
        pop = f.create_group("edges/hand")
        src = pop.create_dataset("source_node_id", data=np.asarray(source, dtype=np.uint64))
        src.attrs["node_population"] = "a"
        tgt = pop.create_dataset("target_node_id", data=np.asarray(target, dtype=np.uint64))
        tgt.attrs["node_population"] = "b"
        n = len(source)
        pop.create_dataset("edge_type_id", data=np.zeros(n, dtype=np.int64))
        pop.create_dataset("edge_group_id", data=np.zeros(n, dtype=np.int64))
        pop.create_dataset("edge_group_index", data=np.arange(n, dtype=np.uint64))
        pop.create_group("0")
    return path


def test_a_file_h5py_wrote(tmp_path):
    # Target 0: source 5 twice, source 1 once; target 2: source 5 once; target 1: none.
    edges = write_edges(tmp_path / "hand.h5", [5, 1, 5, 5], [0, 0, 2, 0], nodes=3)
    census = sonata_census.count(edges, output=tmp_path / "t.h5")["hand"]
    assert (census.source_population, census.target_population) == ("a", "b")
    assert census.order == "unsorted"
    assert census.target_synapse_count.tolist() == [3, 0, 1]
    assert census.target_connection_count.tolist() == [2, 0, 1]
    assert census.target_offsets.tolist() == [0, 2, 2, 3]
    assert census.source_node_id.tolist() == [1, 5, 5]
    assert census.synapse_count.tolist() == [1, 2, 1]
    assert census.synapses_per_connection.tolist() == [0, 2, 1]
    # h5py reads what the module wrote.
    with h5py.File(tmp_path / "t.h5", "r") as f:
        group = f["hand"]
        assert group.attrs["edge_count"] == 4
        assert group.attrs["source_node_population"] == "a"
        assert group["connections/synapse_count"].dtype == np.uint32
        np.testing.assert_array_equal(group["connections/source_node_id"][()], [1, 5, 5])


def test_files_open_in_h5py_meanwhile(cli, tmp_path):
    edges = cli.generate(tmp_path / "edges.h5", order="shuffled")
    with h5py.File(edges, "r") as f:
        [group] = f["edges"].values()
        targets = group["target_node_id"][()]
        # The module opens, reads and closes the same file while h5py holds it open.
        [census] = sonata_census.count(edges, output=tmp_path / "t.h5").values()
        info = sonata_census.info(edges)
        # And h5py still reads it.
        np.testing.assert_array_equal(group["target_node_id"][()], targets)
    np.testing.assert_array_equal(
        census.target_synapse_count, np.bincount(targets, minlength=census.n_targets)
    )
    assert info["populations"][0]["edge_count"] == len(targets)
    with h5py.File(tmp_path / "t.h5", "r") as tables:
        back = sonata_census.read_tables(tmp_path / "t.h5")[census.population]
        np.testing.assert_array_equal(
            tables[census.population]["target_synapse_count"][()], back.target_synapse_count
        )


def test_each_keeps_its_own_hdf5():
    # The module's HDF5 is linked in (2.2); h5py's is its own. Both were used above in one
    # process; here only that each reports a release.
    assert sonata_census.HDF5_VERSION.count(".") == 2
    assert h5py.version.hdf5_version.count(".") == 2


def test_threads_count_at_once(cli, tmp_path):
    """Counts in several Python threads at once (the GIL released in each) give each its own
    census, equal to the same counts made one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    files = [
        cli.generate(tmp_path / f"edges{i}.h5", order=order, seed=i + 1)
        for i, order in enumerate(["sorted", "shuffled", "target-sorted", "shuffled"])
    ]
    alone = [sonata_census.count(f) for f in files]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(
            pool.map(lambda f: sonata_census.count(f, output=f.with_suffix(".t.h5")), files)
        )
    for a, b in zip(alone, together):
        [ca], [cb] = a.values(), b.values()
        for key in ("target_synapse_count", "source_node_id", "synapse_count"):
            np.testing.assert_array_equal(getattr(ca, key), getattr(cb, key))
    for f, census in zip(files, together):
        [back] = sonata_census.read_tables(f.with_suffix(".t.h5")).values()
        [counted] = census.values()
        np.testing.assert_array_equal(back.target_offsets, counted.target_offsets)
