"""Sharded counts on one machine (issue 16): `count --shard i/N` per shard, N shards at once,
and `merge`, against one process's `count` of the same edge file.

Usage: python benches/shards.py [--edges 1e7] [--nodes 1e5] [--orders sorted,shuffled]
       [--shards 1,2,4,8] [--reps 3] [--work DIR] [--tool PATH] [--no-write]
(`./dev.sh bench-shards` builds the release tool and runs this.)

The edge file is made once into --work by the release tool (`generate`). Every run is the
tool's whole process (`sonata-census -q ... --backend cpu`), page cache warm, its output removed
before it runs. For each N: each shard alone (the per-shard time and rate: edges of the shard per
second), then the N shards launched together as a launcher would start them (each with
SLURM_CPUS_PER_TASK = cores / N, at least 1: on a machine of fewer cores than shards they share
them), then `merge` of the N partial files, whose output must equal one process's byte for byte
(checked every time). Times are medians of --reps rounds; peak RSS is each child's own (`wait4`
in a small launcher process), the largest of any run. The table goes to stdout and, unless
--no-write, into BENCHMARKS.md between the `shards:begin` / `shards:end` markers.
"""
import argparse
import datetime
import filecmp
import glob
import os
import platform
import statistics
import subprocess
import sys
import time

from harness import LAUNCHER, ROOT, write_block

BEGIN, END = "<!-- shards:begin -->", "<!-- shards:end -->"



def start(cmd, env=None):
    return subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, *cmd], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p, cmd):
    """(wall seconds, peak RSS in MB) of a run started with `start`."""
    out, err = p.communicate()
    code, wall, maxrss = out.split()
    if int(code) != 0:
        sys.exit(f"{' '.join(cmd)} failed ({code}): {err}")
    return float(wall), int(maxrss) / 1024


def run(cmd, env=None):
    return finish(start(cmd, env), cmd)


def cpu_model():
    """The processor's name (Linux), for the table's first line."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def make_edges(tool, work, edges, nodes, order):
    folder = os.path.join(work, f"shards_{order}_{edges:.0e}_{nodes:.0e}n".replace("+", ""))
    path = os.path.join(folder, "edges.h5")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        print(f"generating {path}", file=sys.stderr)
        subprocess.run([tool, "-q", "generate", path, "--nodes", str(nodes), "--edges",
                        str(edges), "--order", order, "--force"], check=True)
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
    return folder, path


def remove(pattern):
    for p in glob.glob(pattern):
        os.remove(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=float, default=1e7)
    ap.add_argument("--nodes", type=float, default=1e5)
    ap.add_argument("--orders", default="sorted,shuffled")
    ap.add_argument("--shards", default="1,2,4,8")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "target", "release", "sonata-census"))
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    edges, nodes = int(args.edges), int(args.nodes)
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    lines = [
        f"{datetime.date.today()}, {platform.node()} ({cpu_model()}, {cores} cores, load "
        f"{load:.2f} before the "
        f"run), `sonata-census -q count EDGES --backend cpu [--shard i/N]` and `merge`, "
        f"{edges:.0e} edges onto {nodes:.0e} nodes, median of {args.reps}; every merged file "
        f"equal to one process's, byte for byte:",
        "",
        "| order | N | one shard alone (s) | per-shard rate (M edges/s) | N shards at once (s) "
        "| merge (s) | shards at once + merge (s) | one process (s) | peak RSS shard / merge / "
        "one (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for order in args.orders.split(","):
        folder, path = make_edges(args.tool, args.work, edges, nodes, order)
        whole = os.path.join(folder, "whole.h5")
        one_cmd = [args.tool, "-q", "count", path, "-o", whole, "--backend", "cpu"]
        for n in (int(x) for x in args.shards.split(",")):
            parts = os.path.join(folder, f"part.{n}.{{rank}}.h5")
            merged = os.path.join(folder, f"merged.{n}.h5")
            one, alone, together, merge = [], [], [], []
            rss_one = rss_shard = rss_merge = 0.0
            threads = str(max(1, cores // n))
            for _ in range(args.reps):
                # One process, the reference and the baseline (round-robin with the shards).
                remove(whole)
                t, r = run(one_cmd)
                one.append(t)
                rss_one = max(rss_one, r)
                # Shard 0 alone, on the whole machine: the per-shard time and rate.
                remove(os.path.join(folder, f"part.{n}.*.h5"))
                cmd = [args.tool, "-q", "count", path, "--backend", "cpu", "--shard", f"0/{n}",
                       "-o", parts]
                t, r = run(cmd)
                alone.append(t)
                rss_shard = max(rss_shard, r)
                # Every shard at once, as a launcher starts them.
                remove(os.path.join(folder, f"part.{n}.*.h5"))
                env = dict(os.environ, SLURM_CPUS_PER_TASK=threads)
                t0 = time.perf_counter()
                running = []
                for i in range(n):
                    cmd = [args.tool, "-q", "count", path, "--backend", "cpu", "--shard",
                           f"{i}/{n}", "-o", parts]
                    running.append((start(cmd, env), cmd))
                for p, cmd in running:
                    rss_shard = max(rss_shard, finish(p, cmd)[1])
                together.append(time.perf_counter() - t0)
                remove(merged)
                t, r = run([args.tool, "-q", "merge", os.path.join(folder, f"part.{n}.*.h5"),
                            "-o", merged])
                merge.append(t)
                rss_merge = max(rss_merge, r)
                if not filecmp.cmp(merged, whole, shallow=False):
                    sys.exit(f"{order}, {n} shards: the merged file differs from one process's")
            remove(os.path.join(folder, f"part.{n}.*.h5"))
            remove(merged)
            m = statistics.median
            shard_edges = edges / n
            lines.append(
                f"| {order} | {n} | {m(alone):.3f} | {shard_edges / m(alone) / 1e6:.0f} | "
                f"{m(together):.3f} | {m(merge):.3f} | {m(together) + m(merge):.3f} | "
                f"{m(one):.3f} | {rss_shard:.0f} / {rss_merge:.0f} / {rss_one:.0f} |")
            print(lines[-1], file=sys.stderr)
        remove(whole)
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_block(BEGIN, END, "Scaling out (issue 16)", report)

if __name__ == "__main__":
    main()
