"""The Python module against neurodamus 4.2.9's readers, in one Python process (issue 14's speed
targets).

Usage: python benches/python_readers.py [--edges 1e7] [--nodes 1e5] [--calls 100] [--reps 3]
       [--work DIR] [--no-write]
(`./dev.sh bench-python` builds the module into target/py-venv, the release tool, and runs this.)

On a generated circuit (sorted, with indices; made once into --work with the release tool) it
measures, in this one process, with the page cache warm:

- `get_conn_counts(all gids)` on a fresh reader: neurodamus vs `sonata_census.neurodamus`;
- neurodamus's dry-run pattern: --calls calls of 100 random gids each (the same lists for every
  contender; each repetition on a fresh reader, opened outside the timing), per call, for `get_conn_counts` and for `get_counts`: neurodamus,
  ours from the edge file, ours from a census table file (`census_tables=`);
- `sonata_census.count(path, output=...)` in-process against the tool's whole process
  (`sonata-census -q count FILE -o OUT --force --backend cpu`).

Every answer of ours is compared with neurodamus's (equal dicts) before anything is timed; a
difference stops the bench with exit code 1. Times are medians over --reps repetitions. The table
goes to stdout and, unless --no-write, into BENCHMARKS.md between the `python-readers:begin` /
`python-readers:end` markers, with the date and the machine.
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types

from harness import write_block

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POPULATION = "All__All__chemical"
BEGIN, END = "<!-- python-readers:begin -->", "<!-- python-readers:end -->"
TARGETS = {
    "get_conn_counts, all gids": 50,
    "get_conn_counts, 100 gids, edge file": 20,
    "get_counts, 100 gids, edge file": 20,
    "get_conn_counts, 100 gids, table file": 50,
    "get_counts, 100 gids, table file": 300,
}


def neurodamus_reader_module():
    """neurodamus 4.2.9's synapse_reader, NEURON replaced by a namespace holding dt."""
    import neurodamus
    from neurodamus.io import synapse_reader

    if neurodamus.__version__ != "4.2.9":
        sys.exit(f"neurodamus {neurodamus.__version__} is installed, not 4.2.9")
    synapse_reader.Nd = types.SimpleNamespace(dt=0.025, load_hoc=lambda *a: None)
    return synapse_reader


def plain(d):
    """A reader answer with plain ints, for comparisons."""
    if isinstance(d, dict):
        return {int(k): plain(v) for k, v in d.items()}
    return int(d)


def timed(fn, reps):
    """Median wall time of `fn()` over `reps` runs, and its last result."""
    times, result = [], None
    for _ in range(reps):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=float, default=1e7)
    ap.add_argument("--nodes", type=float, default=1e5)
    ap.add_argument("--calls", type=int, default=100, help="calls of the dry-run pattern")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "target", "release", "sonata-census"))
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    edges, nodes = int(args.edges), int(args.nodes)

    import sonata_census
    from sonata_census.neurodamus import SonataReader as Ours

    nd = neurodamus_reader_module()
    os.makedirs(args.work, exist_ok=True)
    circuit = os.path.join(args.work, f"circuit_sorted_{edges:.0e}_{nodes:.0e}n.h5".replace("+", ""))
    if not os.path.exists(circuit):
        print(f"generating {circuit}", file=sys.stderr)
        subprocess.run(
            [args.tool, "-q", "generate", circuit, "--nodes", str(nodes), "--edges", str(edges)],
            check=True,
        )
    with open(circuit, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    out = tempfile.mkdtemp(prefix="python-readers-")
    tables = os.path.join(out, "tables.h5")
    rows = []

    # The census: in-process module vs the tool's whole process, both writing the file.
    def tool_count():
        if os.path.exists(tables):
            os.remove(tables)
        subprocess.run([args.tool, "-q", "count", circuit, "-o", tables, "--backend", "cpu"],
                       check=True)

    module_tables = os.path.join(out, "module.h5")

    def module_count():
        if os.path.exists(module_tables):
            os.remove(module_tables)
        return sonata_census.count(circuit, backend="cpu", output=module_tables)

    tool_s, _ = timed(tool_count, args.reps)
    module_s, _ = timed(module_count, args.reps)
    with open(tables, "rb") as a, open(module_tables, "rb") as b:
        if a.read() != b.read():
            sys.exit("the module's table file differs from the tool's")
    rows.append(("count (census + table file)", tool_s, module_s, None, 1.2, "tool / module"))

    rng = np.random.default_rng(7)
    calls = [rng.integers(0, nodes, size=100).tolist() for _ in range(args.calls)]
    every = list(range(nodes))

    def check(ours, theirs, method, lists):
        for gids in lists:
            a, b = getattr(ours, method)(gids), getattr(theirs, method)(gids)
            if plain(a) != plain(b):
                sys.exit(f"{method}: answers differ from neurodamus's")

    check(Ours(circuit, POPULATION), nd.SonataReader(circuit, POPULATION), "get_conn_counts",
          calls[:5] + [every])
    check(Ours(circuit, POPULATION, census_tables=tables), nd.SonataReader(circuit, POPULATION),
          "get_conn_counts", calls[:5] + [every])
    for census_tables in (None, tables):
        check(Ours(circuit, POPULATION, census_tables=census_tables),
              nd.SonataReader(circuit, POPULATION), "get_counts", calls[:5])

    def per_call(make, method, lists):
        """Median over --reps fresh readers (opened outside the timing) of the time per call."""
        times = []
        for _ in range(args.reps):
            fn = getattr(make(), method)
            t = time.perf_counter()
            for gids in lists:
                fn(gids)
            times.append((time.perf_counter() - t) / len(lists))
        return statistics.median(times)

    theirs = lambda: nd.SonataReader(circuit, POPULATION)  # noqa: E731
    ours = lambda: Ours(circuit, POPULATION)  # noqa: E731
    ours_tables = lambda: Ours(circuit, POPULATION, census_tables=tables)  # noqa: E731
    nd_all = per_call(theirs, "get_conn_counts", [every])
    rows.append(("get_conn_counts, all gids", nd_all, per_call(ours, "get_conn_counts", [every]),
                 per_call(ours_tables, "get_conn_counts", [every]), 50, "neurodamus / ours"))
    for method in ("get_conn_counts", "get_counts"):
        nd_s = per_call(theirs, method, calls)
        rows.append((f"{method}, 100 gids", nd_s, per_call(ours, method, calls),
                     per_call(ours_tables, method, calls),
                     TARGETS[f"{method}, 100 gids, table file"], "neurodamus / ours"))

    report = render(rows, edges, nodes, args)
    print(report)
    if not args.no_write:
        write_benchmarks(report)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    os.rmdir(out)


def fmt(s):
    return "—" if s is None else (f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s")


def render(rows, edges, nodes, args):
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    lines = [
        f"Run {when} on {platform.node()} ({os.cpu_count()} cores, {cpu}), Python "
        f"{platform.python_version()}; circuit: {edges:.0e} edges sorted over {nodes:.0e} "
        f"nodes; {args.calls} calls of 100 random gids; medians of {args.reps}.",
        "",
        "| call | neurodamus 4.2.9 (or the tool) | ours, edge file | ours, table file | "
        "speed-up (edge / table) | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, theirs, ours, ours_tables, target, _ in rows:
        if name.startswith("count"):
            ratio = ours / theirs
            lines.append(f"| `sonata_census.count` vs the tool's process | {fmt(theirs)} | "
                         f"{fmt(ours)} | — | module / tool = {ratio:.2f}× | ≤ 1.2× "
                         f"{'met' if ratio <= 1.2 else 'missed'} |")
            continue
        edge_x = theirs / ours
        table_x = theirs / ours_tables if ours_tables else None
        if name.endswith("all gids"):
            goal = f"≥ 50× (edge file) {'met' if edge_x >= 50 else 'missed'}"
        else:
            edge_goal = "met" if edge_x >= 20 else "missed"
            table_goal = "met" if table_x >= target else "missed"
            goal = f"≥ 20× edge file {edge_goal}; ≥ {target}× table file {table_goal}"
        per = "" if name.endswith("all gids") else " per call"
        lines.append(f"| `{name}`{per} | {fmt(theirs)} | {fmt(ours)} | {fmt(ours_tables)} | "
                     f"{edge_x:.0f}× / {table_x:.0f}× | {goal} |")
    return "\n".join(lines)


def write_benchmarks(report):
    write_block(BEGIN, END, "Python module vs neurodamus (issue 14)", report)

if __name__ == "__main__":
    main()
