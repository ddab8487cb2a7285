"""What the Python bench scripts share (no third-party imports: `shards.py` runs on the system
Python): the launcher that measures each run's own peak RSS, and the writer of a table between
its markers in BENCHMARKS.md."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each run is launched by a small fresh interpreter (`python -S -c LAUNCHER CMD...`), which
# prints `exit-code wall-seconds max-rss-KiB`: on Linux a child's ru_maxrss starts at the RSS of
# the process it was forked from (exec keeps the old address space's high-water mark), so forking
# from a bench script holding arrays would report its memory.
LAUNCHER = """
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - t0, usage.ru_maxrss)
"""


def write_block(begin, end, heading, report):
    """Puts `report` between the markers `begin` and `end` of BENCHMARKS.md, or, without them,
    at its end under a new section `heading`."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    block = f"{begin}\n{report}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
