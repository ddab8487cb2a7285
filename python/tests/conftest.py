"""Fixtures of the Python module's tests: the `sonata-census` tool (the reference the module is
compared with, and the generator of test circuits) and the shared sample files.

The tool is found through SONATA_CENSUS_CLI (``./dev.sh test`` sets it to the binary the Rust
tests built, and then a missing binary is a failure), else in ``target/{debug,release}``; without
it the tests that need it skip, saying so. The samples are ``../shared/sonata_samples`` beside the
repository (skipped with a message when absent, as the Rust tests do).
"""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

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
