"""The floor: h5py reading both id columns of one edge population, and nothing else.

Prints the in-process read time in seconds (the import of h5py and the interpreter's start are
not included; the bench driver measures the whole process separately).
"""
import sys
import time

import h5py


def main() -> None:
    path, population = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        g = f["edges"][population]
        sources = g["source_node_id"][()]
        targets = g["target_node_id"][()]
    elapsed = time.perf_counter() - t0
    assert len(sources) == len(targets)
    print(f"{elapsed:.6f}")


if __name__ == "__main__":
    main()
