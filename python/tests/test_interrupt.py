"""Ctrl-C stops a count (KeyboardInterrupt, nothing left behind, the next call runs) and a
neurodamus reader's preload (between chunks), and the GIL is released while the library counts or
preloads."""

import _thread
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import sonata_census


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python's own SIGINT handler for every test here. A process started with SIGINT ignored
    (a runner launched in the background by a non-interactive shell, `nohup ... &`) keeps it
    ignored: `_thread.interrupt_main` then does nothing and a real SIGINT is lost, whatever the
    module does. The tests are about the module, so they set the handler a user's Python has."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def big(cli, tmp_path_factory):
    """An unsorted circuit that takes the (debug-built) module well over a second to count
    with a 1 MiB memory budget (its partitions spill to disk)."""
    path = tmp_path_factory.mktemp("big") / "edges.h5"
    return cli.generate(path, nodes=20000, edges=2_000_000, order="shuffled", attributes="none")


def counted_seconds(edges, **kw):
    started = time.monotonic()
    sonata_census.count(edges, **kw)
    return time.monotonic() - started


def test_ctrl_c_stops_a_count_and_leaves_nothing(big, tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    out = tmp_path / "out.h5"
    full = counted_seconds(big, memory_budget_mib=1, spill_dir=spill, backend="cpu")
    # Signals are checked every 50 ms: a count of 0.2 s is interrupted well before its end.
    assert full > 0.2, f"the count took {full:.2f} s: too short to interrupt reliably"
    # Ctrl-C as Python sees it: the SIGINT handler's flag, raised by the next signal check.
    timer = threading.Timer(full / 5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sonata_census.count(big, memory_budget_mib=1, spill_dir=spill, output=out, backend="cpu")
    stopped = time.monotonic() - started
    timer.join()
    assert stopped < full, f"stopped after {stopped:.2f} s, a whole count takes {full:.2f} s"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spill"]
    assert list(spill.iterdir()) == []
    # The interruption was cleared: the next count runs to the end.
    assert len(sonata_census.count(big, output=out, backend="cpu")) == 1
    assert out.exists()


def test_a_real_sigint_raises_keyboard_interrupt(big, tmp_path):
    script = (
        # Python's SIGINT handler, even when this runner was started with SIGINT ignored
        # (which the child would inherit): see ctrl_c_raises.
        "import signal, sys, sonata_census\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "print('start', flush=True)\n"
        "sonata_census.count(sys.argv[1], memory_budget_mib=1, spill_dir=sys.argv[2], "
        "output=sys.argv[3], backend='cpu')\n"
    )
    spill = tmp_path / "spill"
    spill.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(big), str(spill), str(tmp_path / "out.h5")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "start\n"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert err.rstrip().splitlines()[-1] == "KeyboardInterrupt", err
    assert "PanicException" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spill"]
    assert os.listdir(spill) == []


def test_the_gil_is_released_while_counting(big):
    ticks = []
    worker = threading.Thread(
        target=sonata_census.count,
        args=(big,),
        kwargs={"backend": "cpu", "memory_budget_mib": 1},
    )
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
        time.sleep(0.002)
    worker.join()
    took = time.monotonic() - started
    # This thread ticks every 2 ms or so: a count of 50 ms already shows a stall.
    assert took > 0.05, f"the count took {took:.2f} s: too short to tell"
    gaps = [b - a for a, b in zip([started] + ticks, ticks)]
    # Holding the GIL for the count would stop this thread for the whole count.
    assert max(gaps) < took / 3, f"this thread stalled {max(gaps):.2f} s of {took:.2f} s"


@pytest.fixture(scope="module")
def many_targets(cli, tmp_path_factory):
    """100,000 targets: a minimal-mode preload of all of them is 100 chunks (over a second in
    the debug build)."""
    path = tmp_path_factory.mktemp("many") / "edges.h5"
    return cli.generate(path, nodes=100_000, edges=1_000_000)


def test_ctrl_c_stops_a_preload(many_targets):
    from sonata_census.neurodamus import SonataReader

    gids = list(range(100_000))
    started = time.monotonic()
    SonataReader(many_targets).preload_data(gids, minimal_mode=True)
    full = time.monotonic() - started
    assert full > 0.2, f"the preload took {full:.2f} s: too short to interrupt reliably"
    reader = SonataReader(many_targets)
    timer = threading.Timer(full / 5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        reader.preload_data(gids, minimal_mode=True)
    stopped = time.monotonic() - started
    timer.join()
    assert stopped < full * 0.8, f"stopped after {stopped:.2f} s, a whole preload takes {full:.2f} s"
    # The interruption was cleared: the same reader goes on, the chunks read before are kept.
    reader.preload_data(gids, minimal_mode=True)
    assert len(reader.get_synapse_parameters(99_999)) == 1
    assert reader.get_property(99_999, "isec") == 0


def test_the_gil_is_released_while_preloading(many_targets):
    from sonata_census.neurodamus import SonataReader

    reader = SonataReader(many_targets)
    worker = threading.Thread(
        target=reader.preload_data, args=(list(range(100_000)),), kwargs={"minimal_mode": True}
    )
    ticks = []
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
        time.sleep(0.002)
    worker.join()
    took = time.monotonic() - started
    assert took > 0.05, f"the preload took {took:.2f} s: too short to tell"
    gaps = [b - a for a, b in zip([started] + ticks, ticks)]
    assert max(gaps) < took / 3, f"this thread stalled {max(gaps):.2f} s of {took:.2f} s"
