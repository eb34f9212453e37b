"""The supervisor's bookkeeping on real processes and real lock files (the restarts themselves
are shown on a live lab: tests/integration/test_runtime_faults.py): which daemons it takes for
dead, and the lab lock that keeps it from restarting what another command is changing."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

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



def _holding(name: str, seconds: float, log: list | None = None):
    """A thread holding lab `name`'s lock for `seconds` (a command changing the lab)."""
    held = threading.Event()

    def hold():
        with lab_lock(name):
            held.set()
            time.sleep(seconds)
            if log is not None:
                log.append("change done")

    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(5)
    return t


def test_down_waits_for_a_command_changing_the_lab(state_root, monkeypatch):
    from harness.runtime import local

    order = []
    monkeypatch.setattr(local.LocalRuntime, "_down", lambda self, name, ns, stopped: order.append(f"removed {name}") or [])
    holder = _holding("x", 1.0, order)
    local.LocalRuntime().down("x")
    holder.join()
    assert order == ["change done", "removed x"]  # removed only once the change had finished


def test_down_says_so_when_the_change_does_not_end(state_root, monkeypatch):
    from harness.runtime import local

    removed = []
    monkeypatch.setattr(local.LocalRuntime, "_down", lambda self, name, ns, stopped: removed.append(name) or [])
    monkeypatch.setattr(local, "DOWN_WAIT", 1.0)
    holder = _holding("x", 4.0)
    try:
        with pytest.raises(LabBusy, match=r"lab x is still being changed by another command after 1s: stop that command"):
            local.LocalRuntime().down("x")
        assert removed == []
        (state_root / "labs" / "x").mkdir(parents=True)  # a lab `down --all` finds
        monkeypatch.setattr(local, "DOWN_ALL_WAIT", 0.5)
        local.LocalRuntime().down_all()  # the way out: a short wait, then removed all the same
        assert removed == ["x"] and holder.is_alive()
    finally:
        holder.join()
