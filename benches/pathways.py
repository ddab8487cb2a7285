"""What the tables of issue 15 cost over the plain census: `count CIRCUIT` against `count CIRCUIT
--pathways mtype,layer`, `--direction both` and `--target-node-set` on one generated circuit.

Usage: python benches/pathways.py [--edges 1e7] [--nodes 1e5] [--orders sorted,shuffled]
       [--reps 5] [--work DIR] [--tool PATH] [--no-write]
(`./dev.sh bench-pathways` builds the release tool and runs this in target/py-venv.)

The circuit is made once into --work: the edge file by the release tool (`generate`, one node
population onto itself), the node file by this script with h5py (`mtype`, an `@library`
attribute of 60 values, and `layer`, an int attribute of 6), a node-sets file and a circuit
config. Every run is the tool's whole process (`sonata-census -q count ... --backend cpu`), its
output removed before each run (no `--force`: replacing a file costs an ext4 flush), page cache
warm; the variants run round-robin, --reps rounds; times are medians, with the largest peak RSS
of the runs (each child's
own, from `wait4` in a small launcher process). The extra tables are checked once against a numpy
recount from the edge file before anything is timed. The table goes to stdout and, unless
--no-write, into BENCHMARKS.md between the `pathways:begin` / `pathways:end` markers.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import h5py
import numpy as np

from harness import LAUNCHER, write_block

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POPULATION = "All__All__chemical"
BEGIN, END = "<!-- pathways:begin -->", "<!-- pathways:end -->"
MTYPES = 60
LAYERS = 6


def make_circuit(tool, work, edges, nodes, order):
    """The circuit folder for (edges, nodes, order), made when missing; returns its config."""
    folder = os.path.join(work, f"pathways_{order}_{edges:.0e}_{nodes:.0e}n".replace("+", ""))
    config = os.path.join(folder, "circuit_config.json")
    if os.path.exists(config):
        return config
    os.makedirs(folder, exist_ok=True)
    print(f"generating {folder}", file=sys.stderr)
    subprocess.run([tool, "-q", "generate", os.path.join(folder, "edges.h5"), "--nodes",
                    str(nodes), "--edges", str(edges), "--order", order, "--force"], check=True)
    with h5py.File(os.path.join(folder, "edges.h5"), "r") as f:
        node_pop = f[f"edges/{POPULATION}/target_node_id"].attrs["node_population"]
        node_pop = node_pop.decode() if isinstance(node_pop, bytes) else str(node_pop)
    rng = np.random.default_rng(15)
    with h5py.File(os.path.join(folder, "nodes.h5"), "w") as f:
        g = f.create_group(f"nodes/{node_pop}")
        g["node_type_id"] = np.full(nodes, -1, dtype=np.int64)
        g0 = g.create_group("0")
        g0["mtype"] = rng.integers(0, MTYPES, nodes, dtype=np.uint32)
        g0["@library/mtype"] = np.array([f"L{i % LAYERS + 1}_MTYPE{i:02d}" for i in range(MTYPES)],
                                        dtype=h5py.string_dtype())
        g0["layer"] = (np.arange(nodes) % LAYERS + 1).astype(np.int64)
    with open(os.path.join(folder, "node_sets.json"), "w") as f:
        json.dump({"Layer5": {"layer": 5}}, f)
    with open(config, "w") as f:
        json.dump({"manifest": {"$BASE_DIR": "."}, "node_sets_file": "$BASE_DIR/node_sets.json",
                   "networks": {"nodes": [{"nodes_file": "$BASE_DIR/nodes.h5"}],
                                "edges": [{"edges_file": "$BASE_DIR/edges.h5"}]}}, f)
    return config


def warm(folder):
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as f:
            while f.read(1 << 24):
                pass




def timed_run(cmd, out, reps):
    """Median wall seconds of `cmd` over `reps` runs (its output removed before each) and the
    largest peak RSS of any run, in MB."""
    times, rss = [], 0
    for _ in range(reps):
        if os.path.exists(out):
            os.remove(out)
        p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *cmd],
                           capture_output=True, text=True, check=True)
        code, wall, maxrss = p.stdout.split()
        if int(code) != 0:
            sys.exit(f"{' '.join(cmd)} failed ({code})")
        times.append(float(wall))
        rss = max(rss, int(maxrss))
    return statistics.median(times), rss / 1024


def check_tables(config, out):
    """The pathway matrices and efferent tables of `out` against a numpy recount."""
    folder = os.path.dirname(config)
    with h5py.File(os.path.join(folder, "edges.h5"), "r") as f:
        src = f[f"edges/{POPULATION}/source_node_id"][:].astype(np.int64)
        tgt = f[f"edges/{POPULATION}/target_node_id"][:].astype(np.int64)
    with h5py.File(os.path.join(folder, "nodes.h5"), "r") as f:
        g0 = next(iter(f["nodes"].values()))["0"]
        mtype, layer = g0["mtype"][:].astype(np.int64), g0["layer"][:]
    with h5py.File(out, "r") as f:
        g = f[POPULATION]
        for attr, codes, n in (("mtype", mtype, MTYPES), ("layer", layer - 1, LAYERS)):
            p = g[f"pathways/{attr}"]
            syn = np.zeros((n, n), dtype=np.int64)
            np.add.at(syn, (codes[src], codes[tgt]), 1)
            pairs = np.unique(tgt * (src.max() + 1) + src)
            conn = np.zeros((n, n), dtype=np.int64)
            ps, pt = pairs % (src.max() + 1), pairs // (src.max() + 1)
            np.add.at(conn, (codes[ps], codes[pt]), 1)
            # The file keeps only values some node has: every one here.
            # Possible pairs: n_i * n_j less the nodes of both values (no autapses).
            n_of = np.bincount(codes, minlength=n)
            pair = np.outer(n_of, n_of) - np.diag(n_of)
            if not (np.array_equal(p["synapses"][:], syn) and np.array_equal(p["connections"][:], conn)
                    and np.array_equal(p["pair_count"][:], pair)):
                sys.exit(f"pathways/{attr} differ from the numpy recount")
        e = g["efferent"]
        n_nodes = len(mtype)
        if not (np.array_equal(e["source_synapse_count"][:], np.bincount(src, minlength=n_nodes))
                and np.array_equal(e["source_connection_count"][:],
                                   np.bincount(ps, minlength=n_nodes))):
            sys.exit("efferent per-source counts differ from the numpy recount")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=float, default=1e7)
    ap.add_argument("--nodes", type=float, default=1e5)
    ap.add_argument("--orders", default="sorted,shuffled")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "target", "release", "sonata-census"))
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    edges, nodes = int(args.edges), int(args.nodes)
    out = os.path.join(args.work, "pathways_out.h5")
    lines = [
        f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores), "
        f"`sonata-census -q count CIRCUIT -o OUT --backend cpu` plus the options below, "
        f"{edges:.0e} edges onto {nodes:.0e} nodes (one node population onto itself; `mtype` "
        f"{MTYPES} `@library` values, `layer` {LAYERS} integers), median of {args.reps}:",
        "",
        "| order | options | time (s) | over plain | peak RSS (MB) | target |",
        "|---|---|---|---|---|---|",
    ]
    variants = [
        ("(plain census)", []),
        ("`--pathways mtype,layer`", ["--pathways", "mtype,layer"]),
        ("`--direction both`", ["--direction", "both"]),
        ("`--direction both --pathways mtype,layer`",
         ["--direction", "both", "--pathways", "mtype,layer"]),
        ("`--target-node-set Layer5`", ["--target-node-set", "Layer5"]),
    ]
    for order in args.orders.split(","):
        config = make_circuit(args.tool, args.work, edges, nodes, order)
        warm(os.path.dirname(config))
        base = [args.tool, "-q", "count", config, "-o", out, "--backend", "cpu"]
        if os.path.exists(out):
            os.remove(out)
        subprocess.run(base + ["--direction", "both", "--pathways", "mtype,layer"], check=True)
        check_tables(config, out)
        os.remove(out)
        # Round-robin: every rep runs each variant once, so drift of the machine (other load,
        # page cache, CPU clocks) falls on every variant alike.
        times = {label: [] for label, _ in variants}
        peaks = {label: 0.0 for label, _ in variants}
        for _ in range(args.reps):
            for label, extra in variants:
                seconds, rss = timed_run(base + extra, out, 1)
                times[label].append(seconds)
                peaks[label] = max(peaks[label], rss)
        plain = None
        for label, extra in variants:
            seconds, rss = statistics.median(times[label]), peaks[label]
            plain = plain or seconds
            over = seconds / plain - 1
            target = ""
            if extra == ["--pathways", "mtype,layer"]:
                target = f"< 25 % {'met' if over < 0.25 else 'missed'}"
            lines.append(f"| {order} | {label} | {seconds:.3f} | {over * 100:+.1f} % | "
                         f"{rss:.0f} | {target} |")
            print(lines[-1], file=sys.stderr)
    if os.path.exists(out):
        os.remove(out)
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_block(BEGIN, END, "Pathway matrices, efferent tables and node sets (issue 15)",
                    report)

if __name__ == "__main__":
    main()
