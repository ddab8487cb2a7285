"""Times `sonata-census count --backend cpu` against the h5py floor on generated circuits.

Usage: python3 benches/floor.py [--edges E] [--nodes N] [--reps R] [--binary PATH] [--work DIR]

For each order (sorted, shuffled): generates the circuit once, warms the page cache, then runs the
census and the floor alternately R times (so machine noise hits both alike) and reports medians:
whole-process wall time and peak RSS of the census (output writing included), the floor's
in-process read time and its whole-process time (interpreter + h5py import + read).
"""
import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB of this child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all waited-for children: only trust it when it grew.
    return wall, max(after, before) / 1024, after > before, p.stdout


def peak_rss(cmd):
    """Peak RSS (MiB) of one run of cmd, measured in a fresh Python parent."""
    code = (
        "import resource,subprocess,sys;"
        "subprocess.run(sys.argv[1:],check=True,capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout) / 1024


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "sonata-census"))
    ap.add_argument("--work", default=os.path.join(HERE, "..", "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    population = "All__All__chemical"
    print(f"machine: {machine()}")
    rows = []
    for order in ["sorted", "shuffled"]:
        circuit = os.path.join(args.work, f"circuit_{order}_{args.edges}.h5")
        if not os.path.exists(circuit):
            subprocess.run(
                [args.binary, "-q", "generate", circuit, "--nodes", str(args.nodes), "--edges", str(args.edges),
                 "--order", order, "--attributes", "none"],
                check=True,
            )
        with open(circuit, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        out = os.path.join(args.work, f"census_{order}.h5")
        census_cmd = [args.binary, "-q", "count", circuit, "-o", out, "--force", "--backend", "cpu"]
        floor_cmd = [sys.executable, os.path.join(HERE, "peers", "h5py_floor.py"), circuit, population]
        census_t, floor_read, floor_proc = [], [], []
        for _ in range(args.reps):
            census_t.append(run(census_cmd)[0])
            wall, _, _, stdout = run(floor_cmd)
            floor_proc.append(wall)
            floor_read.append(float(stdout))
        rss = peak_rss(census_cmd)
        rows.append((order, statistics.median(census_t), rss, statistics.median(floor_read), statistics.median(floor_proc)))
    print(f"\n{args.edges:.0e} edges, {args.nodes} nodes, warm page cache, median of {args.reps} alternating runs\n")
    print("| order | census (cpu) s | peak RSS MiB | h5py read s (floor) | h5py process s | census / floor |")
    print("|---|---|---|---|---|---|")
    for order, c, rss, fr, fp in rows:
        print(f"| {order} | {c:.3f} | {rss:.0f} | {fr:.3f} | {fp:.3f} | {c / fr:.2f}× |")


if __name__ == "__main__":
    main()
