"""sonata-census against its Python peers, whole process, on generated circuits.

Usage: python benches/compare.py [--sizes 1e6,1e7,1e8] [--compressed-sizes 1e7] [--reps N] [--work DIR]
       [--no-write] ...
(`./dev.sh bench` makes the virtual environment, builds the release binary and runs this.)

For every size and order (sorted, shuffled) it generates the circuit once into --work (reused
later), warms the page cache, then runs every contender alternately --reps times (the starting
contender rotates each repetition, so machine noise hits all alike):

- census cpu: `sonata-census -q count FILE -o OUT --force --backend cpu`, the whole process;
- census gpu: the same with `--backend gpu`, only when `--backend auto` finds a real GPU;
- neurodamus: neurodamus 4.2.9's get_counts + get_conn_counts over every target (libsonata);
- h5py+numpy: the best hand-written h5py + numpy census (bincount, run-length or np.unique);
- h5py+numpy in-process: the same runs' own in-process total (read, count, write; no interpreter
  start, no imports): the cost in a running notebook, the peer to beat;
- floor: h5py reading both id columns and nothing else.

Circuits have --nodes targets below 1e8 edges and --nodes-large from 1e8 on; --compressed-sizes
adds circuits whose id columns are chunked and deflate-compressed (`generate --id-storage
deflate`), with the census, the numpy peer and the floor only. Every output is removed before
each run (replacing a file costs the file system a flush on ext4, which is not census work).

Every contender but the floor writes its tables to a file, and the harness checks after the first
repetition that every table equals the census's exactly (integers, no tolerance); any difference
stops the bench with exit code 1. Times are medians of whole-process wall times (interpreter
start, imports, reading, counting, writing); the floor's time is its in-process read (the
strictest floor: no interpreter start, no import). Peak RSS is each child's own maximum resident
set (os.wait4). The table goes to stdout and, unless --no-write, into BENCHMARKS.md between the
`compare:begin` / `compare:end` markers, with the date, the machine and the library versions.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
sys.path.insert(0, PEERS)
import results  # noqa: E402  (benches/peers/results.py)

POPULATION = "All__All__chemical"
NUMPY_IN_PROCESS = "h5py+numpy in-process"
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


class Failure(Exception):
    """A contender failed or disagreed with the census."""


def size_arg(text):
    return [int(float(x)) for x in text.split(",") if x]


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


def versions(binary):
    from importlib import metadata

    out = {}
    try:
        out["sonata-census"] = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        out["sonata-census"] = "?"
    for pkg in ("libsonata", "h5py", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    out["HDF5 (h5py)"] = h5py.version.hdf5_version
    out["Python"] = platform.python_version()
    return out


# Runs one command and reports its wall time and its own peak RSS. It runs in a small, fresh
# interpreter: on Linux a child's ru_maxrss starts at the RSS of the process it was forked from
# (exec keeps the old address space's high-water mark), so forking straight from this harness,
# which holds the reference tables, would report the harness's memory for every contender.
LAUNCHER = """
import os, sys, time
out, err = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(out, 1); os.dup2(err, 2)
    try:
        os.execvp(sys.argv[3], sys.argv[3:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss)
"""


def run(cmd, log):
    """Runs cmd with stdout/stderr into log files; returns (wall s, peak RSS MiB, stdout)."""
    p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, log + ".out", log + ".err", *cmd],
                       capture_output=True, text=True, check=True)
    code, wall, maxrss = p.stdout.split()
    if int(code) != 0:
        with open(log + ".err") as f:
            tail = f.read()[-2000:]
        raise Failure(f"{' '.join(cmd)} exited with {code}:\n{tail}")
    with open(log + ".out") as f:
        return float(wall), int(maxrss) / 1024, f.read()


def ensure_circuit(binary, work, edges, order, nodes, storage="contiguous"):
    """The generated circuit (made once, reused). libsonata cannot open a population without an
    attribute group and `edge_type_id`, which `generate --attributes none` leaves out, so an
    empty group `0` and an unallocated `edge_type_id` (no data written) are added; the census
    does not read them. `storage` is `generate --id-storage` (how the id columns are stored)."""
    suffix = "" if storage == "contiguous" else f"_{storage}"
    path = os.path.join(work, f"circuit_{order}{suffix}_{edges:.0e}_{nodes:.0e}n.h5".replace("+", ""))
    if os.path.exists(path):
        return path
    partial = path + ".partial"
    t0 = time.perf_counter()
    extra = [] if storage == "contiguous" else ["--id-storage", storage]
    subprocess.run(
        [binary, "-q", "generate", partial, "--nodes", str(nodes), "--edges", str(edges), "--order", order,
         "--attributes", "none", *extra],
        check=True,
    )
    with h5py.File(partial, "a") as f:
        g = f["edges"][POPULATION]
        g.create_group("0")
        g.create_dataset("edge_type_id", shape=(edges,), dtype="i8")
    os.replace(partial, path)
    print(f"  generated {os.path.basename(path)} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def n_targets_of(path):
    with h5py.File(path, "r") as f:
        return f["edges"][POPULATION]["indices/target_to_source/node_id_to_ranges"].shape[0]


def gpu_adapter(binary, circuit, work):
    """The real GPU `--backend auto` would use, or None (software adapters do not count)."""
    out = os.path.join(work, "probe.h5")
    p = subprocess.run([binary, "count", circuit, "-o", out, "--force"], capture_output=True, text=True)
    if os.path.exists(out):
        os.remove(out)
    line = next((ln for ln in p.stderr.splitlines() if ln.startswith("backend:")), "")
    m = re.match(r"backend: gpu \(auto: (.*)\)$", line)
    return (m.group(1) if m else None), line


def census_tables(path):
    with h5py.File(path, "r") as f:
        g = f[POPULATION]
        inside = {"target_offsets", "source_node_id", "synapse_count"}
        return {name: g[f"connections/{name}" if name in inside else name][()] for name in results.NAMES}


def peer_tables(path):
    with np.load(path) as z:
        return {name: z[name] for name in results.NAMES}


def check_equal(reference, tables, who):
    """Exact integer equality of every table; raises Failure naming the first difference."""
    for name in results.NAMES:
        a, b = reference[name], tables[name]
        for arr in (a, b):
            if arr.dtype.kind not in "iu":
                raise Failure(f"{who}: {name} has dtype {arr.dtype}, not an integer type")
            if arr.dtype.kind == "i" and len(arr) and arr.min() < 0:
                raise Failure(f"{who}: {name} has negative values")
        if a.shape != b.shape:
            raise Failure(f"{who}: {name} has shape {b.shape}, the census {a.shape}")
        diff = np.flatnonzero(a.astype(np.uint64, copy=False) != b.astype(np.uint64, copy=False))
        if len(diff):
            i = diff[0]
            raise Failure(f"{who}: {name}[{i}] = {b[i]}, the census says {a[i]} ({len(diff)} entries differ)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=size_arg, default=[10**6, 10**7, 10**8], help="edge counts (default 1e6,1e7,1e8)")
    ap.add_argument("--orders", default="sorted,shuffled")
    ap.add_argument("--nodes", type=int, default=100_000, help="target nodes below 1e8 edges (default 100000)")
    ap.add_argument("--nodes-large", type=int, default=1_000_000,
                    help="target nodes from 1e8 edges on (default 1000000: the issue's 1e8 / 1e6 case)")
    ap.add_argument("--compressed-sizes", type=size_arg, default=[10**7],
                    help="edge counts of the extra circuits whose id columns are chunked and deflate-compressed "
                         "(`generate --id-storage deflate`; default 1e7; empty to skip)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions below 1e8 edges (default 5)")
    ap.add_argument("--reps-large", type=int, default=3, help="repetitions from 1e8 edges on (default 3)")
    ap.add_argument("--neurodamus-reps", type=int, default=3,
                    help="repetitions of the (slow) neurodamus peer, at most --reps (default 3)")
    ap.add_argument("--neurodamus-max-edges", type=float, default=1e7,
                    help="skip the neurodamus peer above this many edges (default 1e7: at 1e8 it needs "
                         "minutes and several GB per order; it is skipped with the reason in the table)")
    ap.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                                                     "release", "sonata-census"))
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench"),
                    help="circuits (kept and reused) and outputs (default target/bench)")
    ap.add_argument("--no-gpu", action="store_true", help="leave out the GPU column even when a GPU exists")
    ap.add_argument("--no-write", action="store_true", help="print the table only; leave BENCHMARKS.md alone")
    ap.add_argument("--benchmarks", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    orders = [o for o in args.orders.split(",") if o]
    started = time.time()
    print(f"machine: {machine()}", flush=True)
    vers = versions(args.binary)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()), flush=True)

    rows, phase_rows, targets_seen = [], [], {}
    gpu = None
    gpu_line = ""
    cases = [(e, o, "contiguous") for e in sorted(args.sizes) for o in orders]
    cases += [(e, o, "deflate") for e in sorted(args.compressed_sizes) for o in orders]
    for edges, order, storage in cases:
        reps = args.reps if edges < 10**8 else args.reps_large
        nodes = args.nodes if edges < 10**8 else args.nodes_large
        compressed = storage != "contiguous"
        label = order if not compressed else f"{order}, {storage}"
        circuit = ensure_circuit(args.binary, args.work, edges, order, nodes, storage)
        n_targets = n_targets_of(circuit)
        if gpu is None and not args.no_gpu:
            gpu, gpu_line = gpu_adapter(args.binary, circuit, args.work)
            gpu = gpu or ""
            print(f"  gpu probe: {gpu_line or '(no backend line)'}", flush=True)
        warm(circuit)
        tag = f"{order}_{storage}_{edges:.0e}".replace("+", "")
        out = {k: os.path.join(args.work, f"out_{k}_{tag}") for k in ("cpu", "gpu", "neurodamus", "numpy")}
        contenders = [("census cpu", [args.binary, "-q", "count", circuit, "-o", out["cpu"] + ".h5", "--force",
                                      "--backend", "cpu"], out["cpu"] + ".h5")]
        if gpu:
            contenders.append(("census gpu", [args.binary, "-q", "count", circuit, "-o", out["gpu"] + ".h5",
                                              "--force", "--backend", "gpu"], out["gpu"] + ".h5"))
        nd_note = None
        if compressed:
            nd_note = None
        elif edges <= args.neurodamus_max_edges:
            contenders.append(("neurodamus 4.2.9", [sys.executable, os.path.join(PEERS, "neurodamus_counts.py"),
                                                    circuit, POPULATION, str(n_targets), out["neurodamus"] + ".npz"],
                               out["neurodamus"] + ".npz"))
        else:
            nd_note = (f"skipped: {edges:.0e} edges > --neurodamus-max-edges {args.neurodamus_max_edges:.0e} "
                       "(its pair sort and dicts grow faster than the edges: minutes and several GB per "
                       "run at 1e8; raise --neurodamus-max-edges to run it)")
        contenders.append(("h5py+numpy", [sys.executable, os.path.join(PEERS, "h5py_numpy.py"), circuit,
                                          POPULATION, str(n_targets), out["numpy"] + ".npz"], out["numpy"] + ".npz"))
        contenders.append(("floor (h5py read)", [sys.executable, os.path.join(PEERS, "h5py_floor.py"), circuit,
                                                 POPULATION], None))
        times = {c[0]: [] for c in contenders}
        rss = {c[0]: 0.0 for c in contenders}
        floor_process = []
        phases = {c[0]: [] for c in contenders}
        loads = [os.getloadavg()[0]]
        reference = None
        print(f"{edges:.0e} edges, {label}: {reps} alternating repetitions "
              f"(load {loads[0]:.2f})", flush=True)
        for rep in range(reps):
            k = rep % len(contenders)
            for name, cmd, result in contenders[k:] + contenders[:k]:
                if name.startswith("neurodamus") and rep >= min(args.neurodamus_reps, reps):
                    continue
                # Every contender writes a new file: replacing the last run's output would add
                # the file system's cost of dropping it (on ext4, replacing a file by rename
                # or truncation also flushes the new one: 40 ms for the 29 MB census at 1e7).
                if result is not None and os.path.exists(result):
                    os.remove(result)
                wall, peak, stdout = run(cmd, os.path.join(args.work, "log"))
                rss[name] = max(rss[name], peak)
                if name.startswith("floor"):
                    times[name].append(float(stdout))
                    floor_process.append(wall)
                else:
                    times[name].append(wall)
                if stdout.strip().startswith("{"):
                    phases[name].append(json.loads(stdout))
                if rep == 0 and result is not None:
                    tables = census_tables(result) if result.endswith(".h5") else peer_tables(result)
                    if reference is None:
                        reference = tables  # census cpu runs first in repetition 0
                    else:
                        check_equal(reference, tables, f"{name}, {edges:.0e} {order}")
                        print(f"  {name}: every table equals the census", flush=True)
            loads.append(os.getloadavg()[0])
        floor = statistics.median(times["floor (h5py read)"])
        cpu = statistics.median(times["census cpu"])
        # The numpy census inside a running Python session (a notebook's cost: no interpreter
        # start, no imports): its own in-process total, from the same runs.
        if phases["h5py+numpy"]:
            times[NUMPY_IN_PROCESS] = [r["total"] for r in phases["h5py+numpy"]]
            rss[NUMPY_IN_PROCESS] = rss["h5py+numpy"]
            at = [c[0] for c in contenders].index("h5py+numpy") + 1
            contenders.insert(at, (NUMPY_IN_PROCESS, None, None))
        for name, _, _ in contenders:
            med = statistics.median(times[name])
            note = ""
            if name.startswith("floor"):
                note = f"whole process {statistics.median(floor_process):.3f} s"
            elif name == NUMPY_IN_PROCESS:
                note = "read, count and write inside the session (the peer's own timer)"
            elif name.startswith("neurodamus") and len(times[name]) < reps:
                note = f"{len(times[name])} run(s)"
            rows.append((edges, label, nodes, name, med, med / floor, cpu / med, rss[name], note))
            targets_seen[(edges, label, name)] = (med, rss[name])
        if nd_note:
            rows.append((edges, label, nodes, "neurodamus 4.2.9", None, None, None, None, nd_note))
        load_text = f"{min(loads):.2f}–{max(loads):.2f}"
        rows.append((edges, label, nodes, "load average (1 min)", None, None, None, None, load_text))
        for name, runs in phases.items():
            if runs and name[0] in "nh":
                keys = list(runs[0].keys())
                phase_rows.append((edges, label, name, {key: statistics.median(r[key] for r in runs) for key in keys}))
        for k in out.values():
            for ext in (".h5", ".npz"):
                if os.path.exists(k + ext):
                    os.remove(k + ext)

    elapsed = time.time() - started
    table = render(rows, phase_rows, targets_seen, args, gpu, vers, elapsed)
    print()
    print(table)
    if not args.no_write:
        write_benchmarks(args.benchmarks, table)
        print(f"\nwrote the table into {args.benchmarks}")


def fmt(x, spec):
    return "–" if x is None else format(x, spec)


def render(rows, phase_rows, seen, args, gpu, vers, elapsed):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown, skip = [], False
    for a in sys.argv[1:]:  # bench.sh passes --binary; it is not what the reader types
        if skip or a.startswith("--binary"):
            skip = a == "--binary"
            continue
        shown.append(a)
    lines = [
        f"Run {date} with `{' '.join(['./dev.sh bench', *shown])}` ({elapsed / 60:.1f} min; the load "
        "average during each circuit's runs is in the table).",
        "",
        f"Machine: {machine()}; GPU: {gpu or 'none (no real adapter; software adapters do not count)'}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".",
        "",
        f"Circuits: `sonata-census generate --nodes N --edges E --order sorted|shuffled --attributes none` "
        f"(N = {args.nodes} below 1e8 edges, {args.nodes_large} from 1e8 on; the `deflate` rows add "
        "`--id-storage deflate`: chunked id columns compressed as h5py's `compression=\"gzip\"`), warm "
        "page cache, every output removed before each run. Median of alternating repetitions "
        f"({args.reps}, {args.reps_large} from 1e8 edges; neurodamus at most {args.neurodamus_reps}). "
        "Times are whole processes (start-up, reading, counting, writing the tables), except the floor "
        "(h5py's in-process read of both id columns) and `h5py+numpy in-process` (the numpy census's "
        "own timer inside its session: read, count, write; what a notebook user waits for). "
        "`× floor` = time / floor; `census ÷` = census cpu time / this time (0.4 = the census takes "
        "40 % of this one's time). Every table of every contender equalled the census's exactly.",
        "",
        "| edges | nodes | order | program | median s | × floor | census ÷ | peak RSS MiB | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for edges, order, nodes, name, med, xf, ratio, rss, note in rows:
        lines.append(f"| {edges:.0e} | {nodes:.0e} | {order} | {name} | {fmt(med, '.3f')} | {fmt(xf, '.2f')} | "
                     f"{fmt(ratio, '.3f')} | {fmt(rss, '.0f')} | {note} |".replace("e+0", "e"))
    if phase_rows:
        lines += ["", "In-process phases of the peers (median seconds):", ""]
        for edges, order, name, ph in phase_rows:
            parts = ", ".join(f"{k} {v:.3f}" for k, v in ph.items())
            lines.append(f"- {edges:.0e} {order}, {name}: {parts}".replace("e+0", "e"))
    lines += ["", "Targets (issue 13; census cpu, whole process, against the in-process floor):", ""]
    for text, value, ok, form in target_checks(seen):
        if value is None:
            lines.append(f"- {text}: not measured in this run")
        else:
            lines.append(f"- {text}: {form.format(value)} — {'met' if ok else '**missed**'}")
    return "\n".join(lines)


def target_checks(seen):
    """(text, value, met, format) for each target of issue 13 this run can judge."""
    mb = 1.048576  # MiB -> MB
    checks = []

    def ratio(text, edges, order, name, other, limit):
        a, b = seen.get((edges, order, name)), seen.get((edges, order, other))
        value = a[0] / b[0] if a and b else None
        checks.append((text, value, value is not None and value <= limit, "{:.2f}×"))

    def rss(text, edges, order, limit_mb):
        a = seen.get((edges, order, "census cpu"))
        value = a[1] * mb if a else None
        checks.append((text, value, value is not None and value <= limit_mb, "{:.0f} MB"))

    floor, cpu, npin = "floor (h5py read)", "census cpu", NUMPY_IN_PROCESS
    ratio("1e7 sorted: census ≤ 2.0× floor", 10**7, "sorted", cpu, floor, 2.0)
    ratio("1e7 shuffled: census ≤ 3.0× floor", 10**7, "shuffled", cpu, floor, 3.0)
    ratio("1e7 shuffled: census ≤ 0.3× the in-process numpy census", 10**7, "shuffled", cpu, npin, 0.3)
    rss("1e7 sorted: peak RSS ≤ 64 MB", 10**7, "sorted", 64)
    rss("1e7 shuffled: peak RSS ≤ 256 MB", 10**7, "shuffled", 256)
    small, big = seen.get((10**7, "sorted", cpu)), seen.get((10**8, "sorted", cpu))
    value = big[1] / small[1] if small and big else None
    checks.append(("sorted: peak RSS flat 1e7 → 1e8 (≤ 1.25×)", value, value is not None and value <= 1.25, "{:.2f}×"))
    ratio("1e8 sorted: census ≤ 2.0× floor", 10**8, "sorted", cpu, floor, 2.0)
    ratio("1e8 shuffled: census ≤ 6.0× floor", 10**8, "shuffled", cpu, floor, 6.0)
    rss("1e8 sorted: peak RSS ≤ 64 MB", 10**8, "sorted", 64)
    rss("1e8 shuffled: peak RSS ≤ 1.2 GB", 10**8, "shuffled", 1200)
    for order in ("sorted", "shuffled"):
        label = f"{order}, deflate"
        sizes = sorted({e for (e, o, _) in seen if o == label})
        for e in sizes:
            ratio(f"{e:.0e} {label}: census ≤ 0.7× h5py's read".replace("e+0", "e"), e, label, cpu, floor, 0.7)
    return checks


def write_benchmarks(path, table):
    with open(path) as f:
        text = f.read()
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        sys.exit(1)
