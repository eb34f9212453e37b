"""Drivers: how the verification asks a node what the note asks. One interface (base.py), one
implementation per kind of node; `for_lab` picks them."""
from __future__ import annotations

from ..model.mgmt import credentials
from ..runtime import backend
from ..runtime.provider import is_device
from ..runtime.state import LabState
from .base import NodeDriver
from .linux import LinuxDriver

DRIVERS = ("linux", "junos-ssh")


def running(lab_name: str):
    """(the runtime holding the running lab, the lab's model as it was brought up)."""
    rt = backend.find(lab_name)
    state = next(s for s in rt.labs() if s["name"] == lab_name)
    return rt, LabState.from_dict(state).model()


def for_lab(lab_name: str, driver: str = "linux") -> dict[str, NodeDriver]:
    """A driver for every node of the running lab `lab_name`. With driver="junos-ssh" the sites
    are asked over SSH, through their management addresses (a vSRX's CLI, or a stand-in's); the
    LAN hosts are Linux either way."""
    if driver not in DRIVERS:
        raise ValueError(f"unknown driver '{driver}' (drivers: {', '.join(DRIVERS)})")
    rt, model = running(lab_name)
    out: dict[str, NodeDriver] = {node: LinuxDriver(rt, lab_name, node, model) for node in model.nodes}
    devices = [n for n in model.sites if is_device(model, n)]  # a vSRX only has its CLI
    if driver == "junos-ssh" or devices:
        from .junos_ssh import JunosSshDriver

        for node in (model.sites if driver == "junos-ssh" else devices):
            user, password = credentials(model, node)
            out[node] = JunosSshDriver(node, model, lambda n=node: rt.mgmt_socket(lab_name, n), user, password)
    return out
