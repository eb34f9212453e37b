"""Where lab state lives.

Each lab has one state directory on the machine that runs it (the host natively, the guest's tmpfs
in VM mode: unix sockets cannot live on the 9p share). Per node: the rendered files and a `run/`
directory that charon sees as its /run (pid file, vici socket, log, strongswan.conf).
The VM's own files (console log, control port and token) live on the host under VM_DIR, which
the guest also sees, read-only, through the shared root file system.
"""
from __future__ import annotations

import os
from pathlib import Path

STATE_ROOT = Path(os.environ.get("NHTB_STATE_ROOT", "/run/nhtb-lab"))
VM_DIR = Path(os.environ.get("NHTB_VM_DIR", "/var/lib/nhtb-lab/vm"))


def labs_dir() -> Path:
    return STATE_ROOT / "labs"


def lab_dir(lab: str) -> Path:
    return labs_dir() / lab


def node_dir(lab: str, node: str) -> Path:
    return lab_dir(lab) / "nodes" / node


def charon_run(lab: str, node: str) -> Path:
    """The directory bind-mounted on /run for this node's charon."""
    return node_dir(lab, node) / "run"


def ns_name(lab: str, node: str) -> str:
    return f"{lab}-{node}"


def mgmt_ns(lab: str) -> str:
    """The namespace holding the lab's management bridge (containerlab's docker network)."""
    return f"{lab}-mgmt"
