"""Fixtures of the Python module's tests: the `sonata-census` tool (the reference the module is
compared with, and the generator of test circuits) and the shared sample files.

The tool is found through SONATA_CENSUS_CLI (``./dev.sh test`` sets it to the binary the Rust
tests built, and then a missing binary is a failure), else in ``target/{debug,release}``; without
it the tests that need it skip, saying so. The samples are ``../shared/sonata_samples`` beside the
repository (skipped with a message when absent, as the Rust tests do).
"""

import os
import subprocess
import types
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import sonata_census

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "sonata_samples"

#: The datasets of a census table file, relative to a population's group.
DATASETS = {
    "target_synapse_count": "target_synapse_count",
    "target_connection_count": "target_connection_count",
    "target_offsets": "connections/target_offsets",
    "source_node_id": "connections/source_node_id",
    "synapse_count": "connections/synapse_count",
    "synapses_per_connection": "synapses_per_connection",
    "target_nsyns_total": "target_nsyns_total",
}


def _find_cli():
    given = os.environ.get("SONATA_CENSUS_CLI")
    if given:
        if not os.access(given, os.X_OK):
            pytest.fail(f"SONATA_CENSUS_CLI={given} is not an executable file")
        return Path(given)
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "sonata-census"
        if os.access(p, os.X_OK):
            return p
    return None


class Cli:
    """The `sonata-census` tool."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, check=True):
        """Runs the tool; returns the completed process (stdout, stderr as text)."""
        proc = subprocess.run(
            [str(self.path), "-q", *map(str, args)], capture_output=True, text=True
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sonata-census {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr}"
            )
        return proc

    def generate(self, path, *, nodes=200, edges=5000, **options):
        """A synthetic circuit (`generate PATH --nodes N --edges E --key value ...`)."""
        args = ["generate", path, "--nodes", nodes, "--edges", edges]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            args += [flag] if value is True else [flag, value]
        self.run(*args)
        return path

    def error(self, *args):
        """The one-line message of a failing run, without the `sonata-census: ` prefix."""
        proc = self.run(*args, check=False)
        assert proc.returncode != 0, f"sonata-census {args} succeeded"
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sonata-census: "), proc.stderr
        return lines[0][len("sonata-census: ") :]


@pytest.fixture(scope="session")
def cli():
    path = _find_cli()
    if path is None:
        pytest.skip(
            "no sonata-census binary (build it with `cargo build`, or set SONATA_CENSUS_CLI): "
            "comparisons with the tool skipped"
        )
    return Cli(path)


@pytest.fixture(scope="session")
def samples():
    if not SAMPLES.is_dir():
        pytest.skip(f"{SAMPLES} is absent: sample-file tests skipped")
    return SAMPLES


def sample_edge_files():
    """The sample files with an /edges group (empty when the samples are absent)."""
    if not SAMPLES.is_dir():
        return []
    found = []
    for p in sorted(SAMPLES.rglob("*.h5")):
        with h5py.File(p, "r") as f:
            if "edges" in f:
                found.append(p)
    return found


def read_table_file(path):
    """{population: {table: array}} of a census table file, read with h5py."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, group in f.items():
            out[name] = {
                key: group[ds][()] for key, ds in DATASETS.items() if ds in group
            }
    return out


def assert_census_equals_file(census, tables):
    """Every table of `census` (a Census) equals `tables` (arrays read with h5py): same dtype,
    same values; target_nsyns_total absent from both or equal."""
    for key in DATASETS:
        got = getattr(census, key)
        if key not in tables:
            assert got is None, f"{census.population}: {key} is not in the file"
            continue
        want = tables[key]
        assert got is not None, f"{census.population}: {key} is missing"
        assert got.dtype == want.dtype, f"{census.population}: {key}: {got.dtype} != {want.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=f"{census.population}: {key}")


# The README's deliberate differences from neurodamus 4.2.9 that the differential tests
# (test_neurodamus_*.py) meet, in one place: each test that takes one names it here.
EXEMPT = {
    "id >= 2**32 in get_conn_counts": "neurodamus: OverflowError (uint32 cast); here: {}",
    "no population, several in the file": "neurodamus: AssertionError; "
    "here: ValueError naming them",
    "bmtk index spelling": "neurodamus (libsonata) cannot open indices named node_id_to_range; "
    "here they are read (README: bmtk spellings); compared with neurodamus on a copy whose "
    "index has SONATA's names",
    "several attribute groups": "neurodamus (libsonata) refuses populations of several groups; "
    "here they are read (README); the counts, which read no attribute, are compared with "
    "neurodamus on a copy with one empty group",
    "extra field order": "neurodamus appends the override's extra fields in set order (random "
    "across runs); here sorted by name: records are compared field by field, and the dtype "
    "equals Parameters.dtype(sorted(extra fields))",
    "configure_override after records were built": "neurodamus keeps the stale record (and fails "
    "with 'Missing mandatory attribute' on data loaded earlier); here the records are rebuilt "
    "with the new fields",
    "minimal mode on a file not grouped by target": "neurodamus keeps the first synapse of each "
    "run of equal targets; here the first synapse (lowest edge id) of each target",
    "neuromodulation reader in minimal mode": "neurodamus never sets weight ('Missing mandatory "
    "attribute weight'); here weight = 1",
    "Hill power": "numpy's power can be 1 ulp off libm's pow on AVX-512 CPUs (README): "
    "where calcium-scaled fields differ, ours equals the formula with libm's K⁴ exactly and "
    "neurodamus's lies within 4 ulp of it (measured: 2)",
    "NaN delay": "the delay patch casts delay / dt to int32: numpy's cast of NaN is undefined "
    "(INT_MIN on x86), ours saturates (NaN gives 0)",
    "dynamic property types": "load_sonata's dynamic properties keep their HDF5 type in "
    "neurodamus (float32); here numbers are float64 (the same values)",
    "split_round_robin without total_cells": "neurodamus: AssertionError; here: ValueError",
    "configure_override without NEURON": "neurodamus loads the hoc helper <name>Helper; here "
    "its NeededAttributes / UHillScaleVariables are keywords (or override_helpers)",
}


@pytest.fixture(scope="session")
def nd():
    """neurodamus 4.2.9's synapse_reader, with NEURON replaced by a namespace holding dt (and
    the attributes of ModOverride helpers the tests set) and its progress bar by a loop."""
    try:
        import neurodamus
        from neurodamus.io import synapse_reader
    except ImportError:
        pytest.skip(
            "neurodamus 4.2.9 is not installed (pip install neurodamus==4.2.9 libsonata): "
            "differential tests skipped"
        )
    assert neurodamus.__version__ == "4.2.9", neurodamus.__version__
    synapse_reader.Nd = types.SimpleNamespace(dt=0.025, load_hoc=lambda *a: None)
    # Its progress bar needs NEURON's MPI: a plain iteration instead.
    synapse_reader.ProgressBar = types.SimpleNamespace(iter=lambda items, **_: items)
    return synapse_reader


def target_index_nodes(path, population):
    with h5py.File(path, "r") as f:
        group = f["edges"][population].get("indices/target_to_source")
        if group is None:
            return None
        for name in ("node_id_to_ranges", "node_id_to_range"):
            if name in group:
                return len(group[name])
    return None


def sample_populations():
    found = []
    for path in sample_edge_files():
        with h5py.File(path, "r") as f:
            found += [(path, pop) for pop in f["edges"]]
    return found or [pytest.param(None, None, marks=pytest.mark.skip("samples absent"))]


def neurodamus_readable_copy(path, folder):
    """A copy of `path` that libsonata opens, with the same ids and index, or None when it
    would be the same file: bmtk's index names (node_id_to_range) renamed as SONATA's, and
    several attribute groups replaced by one empty group (the counts read no attribute)."""
    copy = folder / path.name
    changed = False
    with h5py.File(path, "r") as src, h5py.File(copy, "w") as dst:
        for name in src:
            src.copy(src[name], dst, name=name)
        for pop in dst["edges"].values():
            for direction in ("target_to_source", "source_to_target"):
                index = pop.get(f"indices/{direction}")
                if index is not None and "node_id_to_range" in index:
                    index.move("node_id_to_range", "node_id_to_ranges")
                    changed = True
            groups = [g for g in pop if g.isdigit()]
            # (A population without ids is broken either way: left as it is.)
            if len(groups) > 1 and "source_node_id" in pop:
                for g in groups:
                    del pop[g]
                pop.create_group("0")
                n = len(pop["source_node_id"])
                for name, values in (
                    ("edge_group_id", np.zeros(n, dtype=np.int64)),
                    ("edge_group_index", np.arange(n, dtype=np.uint64)),
                ):
                    del pop[name]
                    pop.create_dataset(name, data=values)
                changed = True
    return copy if changed else None




@pytest.fixture
def count_on():
    """`sonata_census.count(*args, backend=BACKEND, **kwargs)` for census tests written once for
    both engines: the GPU engine on whatever adapter exists (its software-adapter warning
    silenced); without one the test is skipped, or fails under SONATA_CENSUS_REQUIRE_GPU=1 as
    the Rust GPU tests."""

    def run(backend, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                return sonata_census.count(*args, backend=backend, **kwargs)
            except RuntimeError as e:
                if backend != "gpu" or os.environ.get("SONATA_CENSUS_REQUIRE_GPU") == "1":
                    raise
                pytest.skip(f"no GPU adapter: {e}")

    return run
