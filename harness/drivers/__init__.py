"""Drivers: how the verification asks a node what the note asks. One interface (base.py), one
implementation per kind of node; `for_lab` picks them."""
from __future__ import annotations

from ..model.lab import load_lab
from ..runtime import backend
from .base import NodeDriver
from .linux import LinuxDriver


def for_lab(lab_name: str) -> dict[str, NodeDriver]:
    """A driver for every node of the running lab `lab_name`."""
    rt = backend.find(lab_name)
    state = next(s for s in rt.labs() if s["name"] == lab_name)
    model = load_lab(state["topology"], name=lab_name)
    return {node: LinuxDriver(rt, lab_name, node, model) for node in model.nodes}
