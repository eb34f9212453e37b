"""The daemons a lab runs beside its namespaces, started and stopped in this one place: one charon
per stand-in site (loaded over vici), the binder on a hub (next-hop tunnel binding), and one
management daemon per lab (the stand-ins' SSH CLI). Each is its own process group, so a lab's
`down` can always stop it; their pids live in the lab's state."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..files import write_file
from ..model.lab import Lab
from ..render import strongswan
from . import charon, paths, process
from .state import LabState, NodeState, save

BINDER = "harness.runtime.binder"
MGMTD = "harness.drivers.mgmtd"  # a driver (it answers as the node): started by name, never imported here
SUPERVISOR = "harness.runtime.supervisor"  # it drives LocalRuntime, which imports this module
SUPERVISOR_GRACE = 60.0  # seconds `down` lets the supervisor finish a restart (its IKE wait is 30)


_zygote = None  # a zygote.Zygote where one runs (the lab VM's agent): daemons are forked from it


def use_zygote(zygote) -> None:
    global _zygote
    _zygote = zygote


def _spawn_module(module: str, args: list[str], log: Path) -> int:
    """`python -m module args`: forked from the zygote where there is one, else a new process."""
    if _zygote is not None:
        try:
            return _zygote.spawn(module, args, str(log))
        except OSError as e:
            print(f"daemons: {e}; starting a new process instead", file=sys.stderr, flush=True)
    return _spawn([sys.executable, "-m", module, *args], log)


def _spawn(argv: list[str], log: Path) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it exits
    return proc.pid


def start_charons(lab: Lab, state: LabState, nodes: list[str], deadline_s: float = 60) -> dict:
    """Start charon on `nodes` and load each one's connections and secrets; returns vici sessions."""
    spawn_charons(lab, state, nodes)
    return load_charons(lab, state, nodes, deadline_s)


def spawn_charons(lab: Lab, state: LabState, nodes: list[str]) -> None:
    """Start charon on `nodes` without waiting for it: it loads its plugins (seconds under
    emulation) while the caller goes on; its kernel interface follows addresses added later."""
    # The state is written once for them all (writing it after each cost a hub of 100 spokes
    # seconds); a charon started when the command is killed before that write is still found by
    # `down`, in its node's namespace (netns.destroy).
    try:
        for node in nodes:
            conf = strongswan.strongswan_conf(strongswan.retransmission(lab.sites[node]))
            state.nodes[node].charon_pid = charon.start(state.nodes[node].ns, paths.charon_run(state.name, node), conf)
    finally:
        save(state)


def load_charons(lab: Lab, state: LabState, nodes: list[str], deadline_s: float = 60) -> dict:
    """Wait for each started charon's vici socket and load its connections and secrets; returns
    vici sessions."""
    deadline = time.monotonic() + deadline_s
    sessions = {}
    for node in nodes:
        site = lab.sites[node]
        s = charon.session(paths.charon_run(state.name, node), state.nodes[node].charon_pid, deadline)
        for conn_name, conn in strongswan.connections(site).items():
            s.load_conn({conn_name: conn})
        for sid, sec in strongswan.secrets(site).items():
            s.load_shared({"id": sid, **sec})
        sessions[node] = s
    return sessions


def session(state: LabState, node: str, timeout: float = 5):
    """A vici session with the node's charon."""
    return charon.session(paths.charon_run(state.name, node), state.nodes[node].charon_pid,
                          time.monotonic() + timeout)


def start_binder(state: LabState, node: str, specs: list[dict]) -> int:
    ndir = paths.node_dir(state.name, node)
    spec_path = write_file(ndir / "binding.json", json.dumps(specs, indent=2))
    args = ["--ns", state.nodes[node].ns, "--spec", str(spec_path),
            "--vici", str(paths.charon_run(state.name, node) / charon.VICI_IN_RUN), "--table", str(ndir / "nhtb.json")]
    pid = _spawn_module(BINDER, args, ndir / "binder.log")
    state.nodes[node].binder_pid = pid
    save(state)
    return pid


def rebind(state: LabState, node: str, specs: list[dict]) -> None:
    """Hand the hub's binder its new spec (it re-reads it on SIGHUP), or start one; none when the
    node no longer binds anything."""
    pid = state.nodes[node].binder_pid
    if not specs:
        process.stop(pid)
        state.nodes[node].binder_pid = None
        save(state)
    elif process.alive(pid):
        write_file(paths.node_dir(state.name, node) / "binding.json", json.dumps(specs, indent=2))
        os.kill(pid, signal.SIGHUP)
    else:
        start_binder(state, node, specs)


def start_mgmtd(state: LabState) -> None:
    """The SSH daemon serving every stand-in site's Junos-style CLI on its management address."""
    args = ["--lab", state.name, "--state", str(paths.lab_dir(state.name) / "lab.json")]
    state.mgmtd_pid = _spawn_module(MGMTD, args, paths.lab_dir(state.name) / "mgmtd.log")
    save(state)


def restart_mgmtd(state: LabState) -> None:
    process.stop(state.mgmtd_pid)
    start_mgmtd(state)


def start_supervisor(state: LabState) -> None:
    """The process that starts again a daemon of the lab that died (supervisor.py); saves the state."""
    args = ["--lab", state.name, "--state", str(paths.lab_dir(state.name) / "lab.json")]
    state.supervisor_pid = _spawn_module(SUPERVISOR, args, paths.lab_dir(state.name) / "supervisor.log")
    save(state)


def stop_supervisor(state: LabState) -> None:
    """Stopped before the daemons it watches (it would start them again), and waited for."""
    process.stop(state.supervisor_pid, timeout=SUPERVISOR_GRACE)
    state.supervisor_pid = None


def stop_node(node: NodeState) -> None:
    process.stop(node.binder_pid)
    process.stop(node.charon_pid)
    node.binder_pid = node.charon_pid = None


def stop_all(state: LabState) -> None:
    stop_supervisor(state)
    process.stop(state.mgmtd_pid)
    state.mgmtd_pid = None
    for node in state.nodes.values():
        stop_node(node)
