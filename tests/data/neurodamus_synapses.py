"""Expected outputs of neurodamus 4.2.9 for generated edge files (tests/neurodamus_synapses.rs).

Regenerate (not needed by the test suite, which only reads the JSON):
    pip install neurodamus==4.2.9 libsonata
    cargo build --bin sonata-census
    NPY_DISABLE_CPU_FEATURES="AVX512_SPR AVX512_ICL X86_V4" \
        python3 tests/data/neurodamus_synapses.py target/debug/sonata-census > tests/data/neurodamus_synapses.json

numpy's float64 `power` on AVX-512 CPUs (SVML) is up to 1 ulp off the correctly rounded `K**4`
of the Hill formula; on other CPUs it is libm's `pow`. The expected outputs use the latter (the
CPU features above disabled), which the Rust code reproduces everywhere.

neurodamus runs without NEURON: `synapse_reader.Nd` is replaced by an object with `dt` (0.025),
a no-op `load_hoc`, a plain progress bar and the ModOverride helper's attribute lists. The test generates the same
files with `sonata_census::generate` (same options and seed) and applies the same edits.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import neurodamus.io.synapse_reader as sr

POP = "All__All__chemical"
DT = 0.025
sr.Nd = SimpleNamespace(
    dt=DT,
    load_hoc=lambda *a: None,
    OvrHelper_NeededAttributes="afferent_section_type;u_syn",
    OvrHelper_UHillScaleVariables="u_syn",
)
# The progress bar asks MPI (NEURON) for the rank.
sr.ProgressBar = SimpleNamespace(iter=lambda it, **kw: it)

# name, generate flags, edits, calcium values, override, preload-minimal gids
CASES = [
    ("sorted", ["--nodes", "60", "--edges", "600", "--seed", "11", "--order", "sorted"], [], ["None", "1.2"], False, False),
    ("shuffled", ["--nodes", "60", "--edges", "600", "--seed", "12", "--order", "shuffled"], [], ["None", "1.2"], False, False),
    ("uhill_target_sorted", ["--nodes", "60", "--edges", "600", "--seed", "13", "--order", "target-sorted"], ["u_hill"], ["None", "1.2", "2.0", "1.25"], True, False),
    ("uhill_shuffled", ["--nodes", "60", "--edges", "600", "--seed", "16", "--order", "shuffled"], ["u_hill"], ["1.2"], False, False),
    ("legacy_segments_i64", ["--nodes", "60", "--edges", "600", "--seed", "14", "--order", "sorted", "--id-dtype", "i64"], ["legacy"], ["None"], False, False),
    ("variants", ["--nodes", "40", "--edges", "800", "--seed", "17", "--order", "target-sorted"], ["variants"], ["None"], False, False),
    ("minimal_sorted", ["--nodes", "1200", "--edges", "2500", "--seed", "15", "--order", "sorted"], [], ["None"], False, True),
]


def u_hill_values(n):
    return np.array([1.0 + ((i * 7919) % 1000) / 500.0 for i in range(n)], dtype=np.float64).astype(np.float32)


def variant_columns(n):
    """Columns the other reader classes need (the test writes the same)."""
    i = np.arange(n)
    return {
        "efferent_junction_id": (i * 3 + 1).astype(np.int64),
        "afferent_junction_id": ((i * 5) % 97).astype(np.int64),
        "neuromod_strength": (0.5 + (i % 13) / 8).astype(np.float32),
        "neuromod_dtc": (10 + (i % 7) * 1.5).astype(np.float32),
        "tau1": (0.1 + (i % 5) * 0.05).astype(np.float32),
        "tau2": (3 + (i % 11) * 0.25).astype(np.float32),
        "erev": (-70 + (i % 3) * 70.0).astype(np.float32),
        "synapse_id": (i * 2).astype(np.int64),
        "astrocyte_section_id": (i % 17).astype(np.uint32),
        "astrocyte_segment_id": (i % 9).astype(np.uint32),
        "astrocyte_segment_offset": ((i % 23) / 4).astype(np.float32),
    }


READERS = {
    "gap-junction": "neurodamus.gap_junction:GapJunctionSynapseReader",
    "neuromodulation": "neurodamus.neuromodulation_manager:NeuroModulationSynapseReader",
    "point-process": "neurodamus.allen_point:PointProcessSynSynapseReader",
    "exp2syn": "neurodamus.allen_point:Exp2SynSynapseReader",
    "neuroglial": "neurodamus.ngv:NeuroGlialSynapseReader",
}


def reader_class(spec):
    import importlib
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def edit(path, edits):
    with h5py.File(path, "r+") as f:
        g = f[f"edges/{POP}/0"]
        n = f[f"edges/{POP}/source_node_id"].shape[0]
        for e in edits:
            if e == "u_hill":
                g.create_dataset("u_hill_coefficient", data=u_hill_values(n))
            elif e == "legacy":
                del g["afferent_section_pos"]
            elif e == "variants":
                for name, values in variant_columns(n).items():
                    g.create_dataset(name, data=values)


def records(rec):
    out = {"_dtype": [[n, rec.dtype[n].str] for n in rec.dtype.names]}
    for n in rec.dtype.names:
        out[n] = rec[n].tolist()
    return out


def main():
    exe = sys.argv[1]
    result = {"_meta": {"neurodamus": "4.2.9", "dt": DT, "population": POP,
                        "u_hill": "float32(1 + ((i * 7919) % 1000) / 500) for edge i",
                        "numpy_cpu_features_disabled": os.environ.get("NPY_DISABLE_CPU_FEATURES", "")}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, flags, edits, cas, override, minimal in CASES:
            path = str(Path(tmp) / f"{name}.h5")
            subprocess.run([exe, "-q", "generate", path, *flags], check=True)
            edit(path, edits)
            nodes = int(flags[flags.index("--nodes") + 1])
            tgids = list(range(nodes)) + [nodes + 5]
            r = sr.SonataReader(path, POP)
            counts = r.get_counts(np.array(tgids, dtype="int64"))
            conn = r.get_conn_counts(np.array(tgids, dtype="uint32"))
            entry = {
                "generate": flags,
                "edits": edits,
                "get_counts": [[int(k), int(v)] for k, v in counts.items()],
                "get_conn_counts": [[int(k), [[int(s), int(c)] for s, c in v.items()]] for k, v in conn.items()],
            }
            with_edges = [g for g in tgids if counts.get(g, 0) > 0]
            gids = with_edges[:2] + with_edges[-1:] + [nodes + 5]
            entry["gids"] = gids
            params = {}
            for ca in cas:
                r = sr.SonataReader(path, POP, extracellular_calcium=None if ca == "None" else float(ca))
                params[ca] = {str(g): records(r.get_synapse_parameters(g)) for g in gids}
                for g in gids:
                    params[ca][str(g)]["_synapse_index"] = [int(x) for x in r._data[g].get("synapse_index", [])] if r._data[g] else []
            entry["get_synapse_parameters"] = params
            if override:
                r = sr.SonataReader(path, POP, extracellular_calcium=1.2)
                r.configure_override("Ovr")
                entry["override"] = {
                    "calcium": 1.2,
                    "needed_attributes": ["afferent_section_type", "u_syn"],
                    "uhill_scale_variables": ["u_syn"],
                    "records": {str(g): records(r.get_synapse_parameters(g)) for g in gids},
                }
            if minimal:
                r = sr.SonataReader(path, POP)
                r.preload_data(list(range(nodes)), minimal_mode=True)
                entry["minimal"] = {str(g): records(r.get_synapse_parameters(g)) for g in gids}
            if "variants" in edits:
                entry["readers"] = {}
                for cli_name, spec in READERS.items():
                    r = reader_class(spec)(path, POP, extracellular_calcium=1.2)
                    entry["readers"][cli_name] = {str(g): records(r.get_synapse_parameters(g)) for g in gids}
            result[name] = entry
    json.dump(result, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
