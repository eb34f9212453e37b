"""Integration tests run the real lab: namespaces, charon, the kernel's XFRM (in the lab VM where
the host kernel lacks it). One lab per session (per xdist worker), reused when already up."""
from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass

import pytest

from harness.errors import LabError
from harness.model.lab import Lab, load_lab
from harness.runtime import backend

from ..conftest import THREE_SITE

MODE = os.environ.get("NHTB_RUNTIME", "auto")


def worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def unique_name(tag: str) -> str:
    """A lab name of this test's own: another worker's labs never collide with it."""
    return f"t{worker()}-{tag}-{uuid.uuid4().hex[:4]}"


@dataclass
class RunningLab:
    name: str
    model: Lab
    rt: object  # NativeRuntime or RemoteRuntime: the same calls

    def exec(self, node: str, *argv: str, timeout: float = 60) -> dict:
        return self.rt.exec(self.name, node, list(argv), timeout=timeout)


@pytest.fixture(scope="session")
def lab():
    default = load_lab(THREE_SITE).name
    try:  # `make lab-up` ran first: use that lab and leave it running
        rt = backend.find(default)
        yield RunningLab(default, load_lab(THREE_SITE, name=default), rt)
        return
    except LabError:
        pass
    name = default if worker() == "main" else f"{default}-{worker()}"
    rt = backend.choose(MODE, lambda phase, message: None)
    rt.up(str(THREE_SITE), name=name)
    try:
        yield RunningLab(name, load_lab(THREE_SITE, name=name), rt)
    finally:
        backend.down(name)


def host_snapshot() -> dict[str, str]:
    """The host's own network state, as `ip` and `nft` print it."""
    cmds = {
        "links": ["ip", "-d", "link", "show"], "addresses": ["ip", "addr", "show"],
        "routes": ["ip", "route", "show", "table", "all"], "rules": ["ip", "rule", "show"],
        "nftables": ["nft", "list", "ruleset"], "xfrm state": ["ip", "xfrm", "state"],
        "xfrm policy": ["ip", "xfrm", "policy"], "netns": ["ip", "netns", "list"],
    }
    return {k: subprocess.run(v, capture_output=True, text=True).stdout for k, v in cmds.items()}
