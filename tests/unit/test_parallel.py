"""verify/parallel.each: probes several at a time, in the items' order, and a failure starts no
further probe (diagnose's traffic layer: a SYN that never arrives waits out its capture)."""
import threading
import time

import pytest

from harness.verify import parallel
from harness.verify.parallel import each


def test_results_come_in_the_items_order_with_several_running_at_once():
    running, most, lock = 0, 0, threading.Lock()

    def slow(x):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05 * (5 - x % 5))  # later items finish first
        with lock:
            running -= 1
        return x * 10

    assert each(slow, range(10), at_once=4) == [x * 10 for x in range(10)]
    assert most == 4


def test_a_result_that_meets_stop_starts_no_further_item():
    started = []

    def probe(x):
        started.append(x)
        time.sleep(0.02)
        return x != 3  # item 3 fails

    got = each(probe, range(20), at_once=2, stop=lambda ok: not ok)
    assert got[3] is False and all(got[:3])
    assert len(started) <= 5  # 3 and at most the one beside it, and the one taken as it failed
    assert all(r is None for i, r in enumerate(got) if i not in started)
    assert min(i for i in range(20) if i not in started) > 3  # what did not run comes after the failure


def test_an_error_is_raised_and_stops_the_rest():
    started = []

    def probe(x):
        started.append(x)
        if x == 1:
            raise OSError("agent went away")
        time.sleep(0.02)
        return x

    with pytest.raises(OSError, match="agent went away"):
        each(probe, range(30), at_once=2)
    assert len(started) < 30


def test_an_error_in_stop_is_raised_not_lost_in_a_thread():
    def stop(r):
        if r == 2:
            raise ValueError("stop could not judge")
        return False

    with pytest.raises(ValueError, match="could not judge"):
        each(lambda x: x, range(6), at_once=2, stop=stop)


def test_pair_ports_are_distinct_among_many_and_never_reach_the_ephemeral_range():
    from harness.verify.parallel import pair_port

    ports = [pair_port(5001, i) for i in range(100_000)]
    assert len(set(ports[:parallel.AT_ONCE * 100])) == parallel.AT_ONCE * 100
    assert min(ports) == 5001 and max(ports) < 32768
