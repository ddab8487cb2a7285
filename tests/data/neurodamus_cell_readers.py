"""Produces tests/data/neurodamus_cell_readers.json from neurodamus 4.2.9's own functions
(NEURON and libsonata stubbed). Run once; the Rust tests read the JSON.

Usage: pip download --no-deps neurodamus==4.2.9 && unzip neurodamus-4.2.9-py3-none-any.whl -d ND
       python3 tests/data/neurodamus_cell_readers.py ND      (needs numpy and scipy)
"""
import os, sys, types, json
import numpy as np
ND = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))

class Selection:
    def __init__(self, ids): self.ids = np.asarray(ids)
class NodePopulation:
    def __init__(self, cols): self.cols = cols; self.attribute_names = set(cols)
    def get_attribute(self, name, sel): return [self.cols[name][i] for i in sel.ids]
lib = types.ModuleType("libsonata"); lib.Selection = Selection; lib.NodePopulation = NodePopulation
class SonataError(Exception): pass
lib.SonataError = SonataError
sys.modules["libsonata"] = lib
core = types.ModuleType("neurodamus.core")
core.NeuronWrapper = types.SimpleNamespace()
core.run_only_rank0 = lambda f: f
sys.modules["neurodamus.core"] = core
cfg = types.ModuleType("neurodamus.core.configuration"); cfg.SimConfig = types.SimpleNamespace(dry_run=False)
sys.modules["neurodamus.core.configuration"] = cfg
met = types.ModuleType("neurodamus.metype"); met.METypeManager = dict
sys.modules["neurodamus.metype"] = met
lg = types.ModuleType("neurodamus.utils.logging"); lg.log_verbose = lambda *a, **k: None
sys.modules["neurodamus.utils.logging"] = lg
import importlib.util
spec = importlib.util.spec_from_file_location("cell_readers", os.path.join(ND, "neurodamus/io/cell_readers.py"))
cr = importlib.util.module_from_spec(spec); spec.loader.exec_module(cr)

out = {"source": "neurodamus 4.2.9 wheel, neurodamus/io/cell_readers.py, libsonata/NEURON stubbed",
       "split_round_robin": [], "dry_run_distribution": [], "retrieve_unique_metypes": [], "rotations": []}
gid_cases = [[5,3,9,1,7], list(range(10)), [8,8,2,6,0,4,2], [], [42]]
for gids in gid_cases:
    for stride in [1,2,3,4]:
        for off in range(0, stride+1):
            r = cr.split_round_robin(np.array(gids, dtype="int64"), stride, off)
            out["split_round_robin"].append({"gids": gids, "stride": stride, "offset": off, "total": None, "result": [int(x) for x in r]})
for total in [1, 7, 10]:
    for stride in [1,2,3]:
        for off in range(0, stride+2):
            r = cr.split_round_robin(None, stride, off, total)
            out["split_round_robin"].append({"gids": None, "stride": stride, "offset": off, "total": total, "result": [int(x) for x in r], "dtype": str(r.dtype)})
bundles_cases = [[[1,2,3],[4,5,6],[7,8,9],[10]], [[9,1],[3],[0,2,4,6],[5],[8,7]], [], [[4]]]
for b in bundles_cases:
    for stride in [1,2,3]:
        for off in range(0, stride+1):
            r = cr.dry_run_distribution([np.array(x, dtype="uint32") for x in b], stride, off)
            out["dry_run_distribution"].append({"bundles": b, "stride": stride, "offset": off, "result": [int(x) for x in r]})
rng = np.random.default_rng(5)
meta_cases = [
    (["m1","m2","m1","m2","m1"], ["e1","e2","e1","e2","e1"], [0,1,2,3,4], []),
    (["L4_PC","L4_MC","L4_PC","L4_PC","L23_BTC","L4_MC"], ["cADpyr","cNAC","cADpyr","bNAC","cNAC","cNAC"], [5,0,3,1,4,2], ["L4_MC-cNAC"]),
]
ms = [str(x) for x in rng.choice(["A","B","C-D"], 60)]; es = [str(x) for x in rng.choice(["x","D-y"], 60)]
meta_cases.append((ms, es, [int(x) for x in rng.permutation(60)[:40]], ["B-x"]))
for mt, et, gids, skip in meta_cases:
    pop = NodePopulation({"mtype": mt, "etype": et})
    g, c = cr._retrieve_unique_metypes(pop, gids, skip)
    out["retrieve_unique_metypes"].append({"mtypes": mt, "etypes": et, "gids": gids, "skip": skip,
        "metype_gids": [[k, [int(x) for x in v]] for k, v in g.items()], "counts": [[k, int(v)] for k, v in c.items()]})
angles = rng.uniform(-3.2, 3.2, size=(12, 3)).tolist() + [[0,0,0],[1.5707963267948966,0,0],[0,0.74036867,0],[-0.24526736,0.23011372,2.67073769]]
for ax, ay, az in angles:
    pop = NodePopulation({"rotation_angle_xaxis": [ax], "rotation_angle_yaxis": [ay], "rotation_angle_zaxis": [az]})
    q = cr._get_rotations(pop, Selection([0]))[0]
    out["rotations"].append({"angles": [ax, ay, az], "quat_xyzw": [float(v) for v in q]})
json.dump(out, open(os.path.join(HERE, "neurodamus_cell_readers.json"), "w"), separators=(",", ":"))
print(len(out["split_round_robin"]), len(out["dry_run_distribution"]))
