"""The lab VM's life as several processes share it: the agent stops the VM for "no lab left"
only when no lab is in it and none is being brought up, decided in one step, and refuses a new
`up` once it is closing; a VM whose qemu runs is never taken for absent because its agent is
slow to answer (a second VM booted over it orphaned every lab in the first)."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from harness.errors import LabError, VMDied
from harness.runtime import agent, backend, vm


class BlockingRuntime:
    """The agent's runtime reduced to what its life-cycle bookkeeping asks: the labs it lists,
    and an `up` that lasts until the test lets it finish."""

    def __init__(self, labs=()):
        self.listed = list(labs)
        self.release = threading.Event()
        self.started = threading.Event()

    def labs(self):
        return self.listed

    def up(self, progress, **params):
        self.started.set()
        self.release.wait(10)
        return {"lab": params["name"]}

    def down_all(self):
        return []


@pytest.fixture
def handler(monkeypatch):
    powered_off = []
    monkeypatch.setattr(agent, "_poweroff", lambda: powered_off.append(True))
    monkeypatch.setattr(agent.Handler, "closing", False)
    monkeypatch.setattr(agent.Handler, "bringing_up", 0)
    h = agent.Handler.__new__(agent.Handler)  # dispatch only: no connection behind it

    def dispatch(runtime, method, params=None):
        monkeypatch.setattr(agent.Handler, "runtime", runtime, raising=False)
        return h.dispatch(method, params or {}, lambda phase, message: None)

    dispatch.powered_off = powered_off
    return dispatch


def test_a_vm_with_a_lab_is_not_idle(handler):
    assert handler(BlockingRuntime([{"name": "nhtb"}]), "shutdown_if_idle") is False
    assert handler.powered_off == []


def test_a_lab_being_brought_up_keeps_the_vm(handler):
    rt = BlockingRuntime()  # the lab is not listed until its `up` is done
    up = threading.Thread(target=handler, args=(rt, "up", {"name": "second"}))
    up.start()
    assert rt.started.wait(5)
    try:
        assert handler(rt, "shutdown_if_idle") is False
        assert handler.powered_off == []
    finally:
        rt.release.set()
        up.join(5)
    assert handler(rt, "shutdown_if_idle") is True
    up.join(5)
    deadline = time.monotonic() + 5  # the power-off runs in a thread of its own
    while not handler.powered_off and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handler.powered_off == [True]


def test_a_closing_vm_refuses_a_new_lab(handler):
    rt = BlockingRuntime()
    assert handler(rt, "shutdown_if_idle") is True
    rt.release.set()
    with pytest.raises(agent.VMClosing):
        handler(rt, "up", {"name": "late"})


@pytest.fixture
def vm_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(vm, "VM_DIR", tmp_path)
    monkeypatch.setattr(vm, "EVENTS", tmp_path / "events.log")
    (tmp_path / "token").write_text("t\n")
    (tmp_path / "port").write_text(str(vm._free_port()))  # nothing answers there
    return tmp_path


def test_a_running_vm_whose_agent_is_silent_is_not_absent(vm_dir):
    qemu = subprocess.Popen(["sleep", "30"])  # a process that lives, as qemu would
    try:
        (vm_dir / "qemu.pid").write_text(str(qemu.pid))
        with pytest.raises(LabError, match="its agent has not answered"):
            vm.LabVM().agent(patience=1)
        assert "agent silent" in (vm_dir / "events.log").read_text()
    finally:
        qemu.kill()
        qemu.wait()
    assert vm.LabVM().agent(patience=1) is None  # qemu gone: no VM


def test_down_of_a_lab_whose_vm_died_says_so_and_clears_the_vm(vm_dir, capsys):
    from harness.cli import main

    gone = subprocess.Popen(["true"])
    gone.wait()  # a qemu that is no more
    (vm_dir / "qemu.pid").write_text(str(gone.pid))
    (vm_dir / "console.log").write_text("[   68.8] reboot: Power down\n")
    assert main(["down", "--name", "a-lab-in-a-dead-vm"]) == 0
    said = capsys.readouterr().out
    assert "lab a-lab-in-a-dead-vm and every other lab in it went with it" in said
    assert not (vm_dir / "qemu.pid").exists() and not (vm_dir / "token").exists()
    kept = list(vm_dir.glob("console-crash-*.log"))
    assert len(kept) == 1 and "Power down" in kept[0].read_text() and kept[0].name in said


def _runtime_of_vm(vm_dir, qemu_pid: int):
    """A RemoteRuntime bound to the VM whose files vm_dir holds (nothing answers on its port)."""
    from harness.runtime.backend import RemoteRuntime
    from harness.runtime.rpc import AgentClient

    (vm_dir / "qemu.pid").write_text(str(qemu_pid))
    (vm_dir / "console.log").write_text("[  587.1] watchdog: BUG: soft lockup - CPU#0 stuck for 156s!\n")
    return RemoteRuntime(AgentClient(int((vm_dir / "port").read_text()), "t"))


def test_a_call_whose_vm_died_says_so_and_keeps_the_console(vm_dir):
    gone = subprocess.Popen(["true"])
    gone.wait()  # the qemu of a guest that panicked: `-no-reboot` ended it
    rt = _runtime_of_vm(vm_dir, gone.pid)
    with pytest.raises(VMDied, match=r"^the lab VM died during 'labs'.*console kept in .*console-crash-") as e:
        rt.labs()
    assert isinstance(e.value.__cause__, OSError)  # what the connection said stays attached
    kept = list(vm_dir.glob("console-crash-*.log"))
    assert len(kept) == 1 and "soft lockup" in kept[0].read_text()
    assert not (vm_dir / "qemu.pid").exists()  # the next `up` boots a fresh VM


def test_a_vm_death_is_told_even_when_another_thread_moved_on_to_the_next_vm(vm_dir):
    """Two threads' calls meet the VM's death: one follows the VM booted since (the runtime's pid
    moves on to it) while the other's call is still failing. That call's VM died, and it says so,
    rather than "no answer" from a VM that runs."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    rt = _runtime_of_vm(vm_dir, gone.pid)
    qemu = subprocess.Popen(["sleep", "30"])  # the VM another thread's call has moved on to

    def call(method, params, timeout=None):
        rt.qemu_pid = qemu.pid  # what that thread's _follow did meanwhile
        raise ConnectionResetError("the agent's connection closed")

    rt.client.call = call
    try:
        with pytest.raises(VMDied, match=r"^the lab VM died during 'labs'"):
            rt.labs()
    finally:
        qemu.kill()
        qemu.wait()


def test_a_vm_stopped_by_down_did_not_die(vm_dir):
    gone = subprocess.Popen(["true"])
    gone.wait()
    rt = _runtime_of_vm(vm_dir, gone.pid)
    vm.event(f"stop: pid {gone.pid}, labs in it: none")
    with pytest.raises(OSError):
        rt.labs()
    assert not list(vm_dir.glob("console-crash-*.log"))


def test_a_running_vm_that_refuses_a_call_is_not_dead(vm_dir):
    qemu = subprocess.Popen(["sleep", "30"])
    try:
        rt = _runtime_of_vm(vm_dir, qemu.pid)
        with pytest.raises(ConnectionRefusedError):  # not VMDied: its qemu runs
            rt.labs()
    finally:
        qemu.kill()
        qemu.wait()


def test_a_runtime_kept_across_a_vm_death_talks_to_the_vm_booted_since(vm_dir):
    """A test module's drivers outlive a VM that died: their calls go to the VM that runs now."""
    import json
    import socket

    gone = subprocess.Popen(["true"])
    gone.wait()
    rt = _runtime_of_vm(vm_dir, gone.pid)  # bound to the dead VM's port
    server = socket.create_server(("127.0.0.1", 0))
    qemu = subprocess.Popen(["sleep", "30"])  # the new VM

    def agent():  # the new VM's agent, answering one call
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile("r").readline())
            conn.sendall((json.dumps({"result": [{"name": "nhtb", "asked": request["method"]}]}) + "\n").encode())

    t = threading.Thread(target=agent, daemon=True)
    t.start()
    try:
        (vm_dir / "qemu.pid").write_text(str(qemu.pid))
        (vm_dir / "port").write_text(str(server.getsockname()[1]))
        assert rt.labs() == [{"name": "nhtb", "asked": "labs"}]
        assert rt.client.port == server.getsockname()[1]
    finally:
        qemu.kill()
        qemu.wait()
        server.close()


def test_a_check_does_not_take_a_dead_vm_for_a_node_that_does_not_answer():
    """A node that does not answer is an observation (the check fails, saying so); a VM that died
    took the whole lab: the check stops at once and the death is what is reported."""
    from harness.errors import VMDied
    from harness.verify.checks import run_and_expect

    def silent():
        raise ConnectionRefusedError("the node's charon does not answer")

    seen = run_and_expect("phase 1", "westford", silent, bool, "UP", timeout=0)
    assert (seen.ok, seen.seen) == (False, "no answer (the node's charon does not answer)")

    def died():
        raise VMDied("the lab VM died during 'ike_sas'")

    t0 = time.monotonic()
    with pytest.raises(VMDied):
        run_and_expect("phase 1", "westford", died, bool, "UP", timeout=30)
    assert time.monotonic() - t0 < 5  # not the 30 s a silent node is given


def test_a_held_vm_outlives_its_last_lab_until_its_holder_releases_it(vm_dir, monkeypatch):
    """A test session holds the VM: the down of its last lab (stop only if idle) leaves it running
    and asks the agent nothing; a holder that died holds nothing; the release stops it."""
    qemu = subprocess.Popen(["sleep", "30"])
    asked = []

    class Agent:
        def call(self, name, timeout=None, **kw):
            asked.append(name)
            if name == "shutdown_if_idle":
                qemu.kill()  # the guest powers off
                qemu.wait()
            return {"labs": [], "kernel_log": ""}.get(name, True)

    monkeypatch.setattr(vm.LabVM, "client", lambda self: Agent())
    (vm_dir / "qemu.pid").write_text(str(qemu.pid))
    try:
        vm.LabVM.hold()
        assert vm.LabVM().stop(only_if_idle=True) is False
        assert asked == [] and qemu.poll() is None
        gone = subprocess.Popen(["true"])
        gone.wait()
        (vm_dir / "holds" / str(gone.pid)).touch()  # a holder killed before its release
        # A holder killed, its pid given since to another process (here: the stand-in qemu).
        (vm_dir / "holds" / str(qemu.pid)).write_text("1")
        assert vm.LabVM.holders() == [os.getpid()]
        assert vm.LabVM().release() is True
        assert "shutdown_if_idle" in asked and qemu.poll() is not None
        assert not list((vm_dir / "holds").iterdir())
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()


def test_a_failed_up_in_a_held_vm_does_not_wait_for_it_to_stop(vm_dir, monkeypatch):
    """The undo of a failed `up` stops the VM when its lab was the last (waiting while the agent
    still counts the bring-up); a held VM is not stopped, and there is nothing to wait for."""
    from harness.runtime import backend

    qemu = subprocess.Popen(["sleep", "30"])
    asked = []
    monkeypatch.setattr(vm.LabVM, "stop", lambda self, only_if_idle=False: asked.append(only_if_idle) or False)

    class Runtime:
        where = "vm"

        def labs(self):
            return []

    (vm_dir / "qemu.pid").write_text(str(qemu.pid))
    try:
        vm.LabVM.hold()
        assert backend.stop_vm_if_idle(Runtime(), wait_for="failed-lab", timeout=30) is False
        assert asked == []  # not even tried: it would be refused, and read as a bring-up in progress
    finally:
        (vm_dir / "holds" / str(os.getpid())).unlink(missing_ok=True)
        qemu.kill()
        qemu.wait()


@pytest.mark.parametrize("kind, waits", [("LabBusy", False), ("", True), ("ConfigError", True)])
def test_an_up_refused_for_another_commands_bring_up_does_not_wait_for_that_lab(monkeypatch, capsys, kind, waits):
    """`up` while another `up` of the same lab runs is refused at once by the agent. That refused
    command made nothing, so it must not wait (120 s) for the lab to go: the lab is the other
    command's. Any other failure still waits for the agent's undo of its own bring-up."""
    from harness.cli import main
    from harness.runtime.rpc import AgentError

    class Runtime:
        where = "vm"

        def up(self, *a, **kw):
            raise AgentError("lab nhtb is being brought up by another command right now", kind)

    asked = []
    monkeypatch.setattr(backend, "choose", lambda *a, **kw: Runtime())
    monkeypatch.setattr(backend, "stop_vm_if_idle", lambda rt, wait_for=None, **kw: asked.append(wait_for) or False)
    assert main(["up"]) != 0
    assert "being brought up by another command" in capsys.readouterr().err
    assert asked == (["nhtb"] if waits else [None])
