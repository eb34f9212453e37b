"""The supervisor's bookkeeping on real processes and real lock files (the restarts themselves
are shown on a live lab: tests/integration/test_runtime_faults.py): which daemons it takes for
dead, and the lab lock that keeps it from restarting what another command is changing."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from harness.runtime import paths
from harness.runtime.local import LabBusy, lab_lock
from harness.runtime.state import LabState, NodeState
from harness.runtime.supervisor import dead


def a_dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_only_daemons_that_were_started_and_are_gone_count_as_dead():
    state = LabState("x", "t.yml", "netns", "now", mgmtd_pid=a_dead_pid())
    state.nodes = {"hub": NodeState("x-hub", "linux", "hub", charon_pid=os.getpid(), binder_pid=a_dead_pid()),
                   "spoke": NodeState("x-spoke", "linux", "spoke", charon_pid=a_dead_pid()),
                   "pc": NodeState("x-pc", "linux", "host")}  # no daemon: never "dead"
    assert sorted(dead(state)) == ["binder on hub", "charon on spoke", "management daemon"]


@pytest.fixture
def state_root(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    return tmp_path


def test_the_lab_lock_refuses_another_holder_and_lets_its_own_thread_in(state_root):
    held, release, refused = threading.Event(), threading.Event(), []

    def other():
        with lab_lock("lab1"):
            with lab_lock("lab1"):  # the same thread re-enters (up's own undo calls down)
                held.set()
                release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert held.wait(10)
    with pytest.raises(LabBusy, match="lab lab1 is being changed by another command"):
        with lab_lock("lab1", wait=0.5):
            refused.append("entered")
    with lab_lock("lab2"):  # another lab's lock is its own
        pass
    release.set()
    t.join()
    with lab_lock("lab1"):  # free again
        pass
    assert refused == []


def test_the_lab_lock_holds_across_processes(state_root):
    code = ("import sys, time; from harness.runtime import paths; from pathlib import Path; "
            f"paths.STATE_ROOT = Path({str(state_root)!r}); from harness.runtime.local import lab_lock\n"
            "with lab_lock('lab1'):\n    print('held', flush=True); time.sleep(30)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        assert p.stdout.readline().strip() == "held"
        with pytest.raises(LabBusy):
            with lab_lock("lab1"):
                pass
    finally:
        p.kill()
        p.wait()
    with lab_lock("lab1"):  # a holder that died leaves the lock free
        pass

