"""Integration tests run the real lab: namespaces, charon, the kernel's XFRM (in the lab VM where
the host kernel lacks it). One lab per session (per xdist worker), reused when already up."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass

import pytest

from harness.errors import LabError
from harness.polling import wait_until  # noqa: F401  (the tests import it from here)
from harness.model.change import edited_config
from harness.model.lab import Lab, load_lab
from harness.runtime import backend
from harness.runtime.vm import LabVM

from ..conftest import LAB, THREE_SITE, TOPOLOGIES

MODE = os.environ.get("NHTB_RUNTIME", "auto")
# The lab the suite verifies: the three stand-ins, or (the nightly's vsrx job) NHTB_TOPOLOGY.
TOPOLOGY = Path(os.environ.get("NHTB_TOPOLOGY") or THREE_SITE).resolve()


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
    topology: Path = TOPOLOGY  # what it was brought up from: what a revival brings up again

    def __post_init__(self):
        self.vm_pid = self._vm_pid()

    def exec(self, node: str, *argv: str, timeout: float = 60) -> dict:
        return self.rt.exec(self.name, node, list(argv), timeout=timeout)

    def _vm_pid(self) -> str | None:
        return LabVM()._read("qemu.pid") if self.rt.where == "vm" else None

    def revive_if_its_vm_died(self) -> str | None:
        """Bring the lab up again when the VM that held it has died (a guest kernel lockup, #17):
        without it, every later test of the session fails for want of a lab. Returns what
        happened, for the report; None when the lab's VM still runs."""
        if self.rt.where != "vm":
            return None
        vm = LabVM()
        if self.vm_pid is not None and self._vm_pid() == self.vm_pid and vm.qemu_alive():
            return None  # the same VM still runs (a cheap check: no call to the agent)
        if any(s["name"] == self.name for s in (self.rt.labs() if vm.qemu_alive() else [])):
            self.vm_pid = self._vm_pid()
            return None  # another VM, and the lab is in it (brought up again by someone else)
        died = vm.died()
        self.rt = backend.choose(MODE, lambda phase, message: None)  # keeps a dead VM's console
        self.rt.up(str(self.topology), name=self.name)
        self.vm_pid = self._vm_pid()
        return (f"the lab VM holding lab '{self.name}' {'died' if died else 'was gone'} (console kept in "
                f"{vm.last_crash_console()}); the lab was brought up again in a new VM")


# Every lab this worker brought up and still holds (the session's, and a module's own): revived
# before the next test when the VM that held it died, so one death fails one test, not the rest.
LIVE: list[RunningLab] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for running in list(LIVE):
        said = running.revive_if_its_vm_died()
        if said:
            warnings.warn(said)  # shown in the session's warnings summary, under this test


@pytest.fixture(scope="session", autouse=True)
def vm_held():
    """One lab VM for the whole run: held between labs by every worker that runs an integration
    test (a test's last lab going down would otherwise stop it, and the next test's up boot
    another, ~45 s under emulation). The last worker to let go stops it, unless a lab is left in
    it (`make lab-up`'s). Natively, in a lab VM's guest (test-native), there is no VM to hold."""
    if MODE == "native":
        yield
        return
    LabVM.hold()
    try:
        yield
    finally:
        LabVM().release()


@pytest.fixture(scope="session")
def lab():
    default = load_lab(TOPOLOGY).name
    if worker() == "main":  # `make lab-up` ran first: use that lab and leave it running
        try:
            rt = backend.find(default)
            with _held(RunningLab(default, load_lab(TOPOLOGY, name=default), rt)) as running:
                yield running
            return
        except LabError:
            pass
    # Under pytest-xdist every worker has a lab of its own: tests that count packets must not see
    # another worker's traffic.
    name = default if worker() == "main" else f"{default}-{worker()}"
    rt = backend.choose(MODE, lambda phase, message: None)
    rt.up(str(TOPOLOGY), name=name)
    try:
        with _held(RunningLab(name, load_lab(TOPOLOGY, name=name), rt)) as running:
            yield running
    finally:  # the VM, held for the session (tests/conftest.py), goes when the session ends
        backend.down(name)


@contextmanager
def variant_lab(where: Path, tag: str, commands):
    """The note's lab with commands typed on some of its Junos sites (`commands(model)` gives
    node -> commands), brought up under a name of its own and taken down afterwards."""
    shutil.copytree(LAB, where / "lab")
    shutil.copytree(TOPOLOGIES, where / "topologies")
    topo = where / "topologies" / THREE_SITE.name
    for node, cmds in commands(load_lab(topo)).items():
        path = where / "lab" / f"{node}.junos"
        path.write_text(edited_config(path, "junos", tag, cmds))
    with own_lab(topo, tag) as lab:
        yield lab


@contextmanager
def own_lab(topology: Path, tag: str):
    """A lab of `topology` under a name of this test's own, taken down afterwards."""
    name = unique_name(tag)
    rt = backend.choose(MODE, lambda phase, message: None)
    rt.up(str(topology), name=name)
    try:
        with _held(RunningLab(name, load_lab(topology, name=name), rt, topology)) as running:
            yield running
    finally:
        backend.down(name)


@contextmanager
def _held(running: RunningLab):
    """`running` is revived by `pytest_runtest_setup` while the caller holds it."""
    LIVE.append(running)
    try:
        yield running
    finally:
        LIVE.remove(running)


def host_snapshot() -> dict[str, str]:
    """The host's own network state, as `ip` and `nft` print it."""
    cmds = {
        "links": ["ip", "-d", "link", "show"], "addresses": ["ip", "addr", "show"],
        "routes": ["ip", "route", "show", "table", "all"], "rules": ["ip", "rule", "show"],
        "nftables": ["nft", "list", "ruleset"], "xfrm state": ["ip", "xfrm", "state"],
        "xfrm policy": ["ip", "xfrm", "policy"], "netns": ["ip", "netns", "list"],
    }
    return {k: subprocess.run(v, capture_output=True, text=True).stdout for k, v in cmds.items()}


def _evidence(lab: RunningLab) -> dict[str, str]:
    """Every node as the driver and the kernel see it: the report of a failed test."""
    from harness.drivers import for_lab
    from harness.junos import ike, ipsec, nhtb

    out = {}
    for node, d in for_lab(lab.name).items():
        parts = []
        for title, fn in (("ike security-associations", lambda: ike.text(d.ike_sas(), detail=True)),
                          ("ipsec security-associations", lambda: ipsec.text(d.ipsec_sas(), detail=True)),
                          ("next-hop-tunnels", lambda: nhtb.text(d.next_hop_tunnels())),
                          ("routes", lambda: lab.exec(node, "ip", "route")["stdout"]),
                          ("xfrm state", lambda: lab.exec(node, "ip", "-s", "xfrm", "state")["stdout"]),
                          ("xfrm policy", lambda: lab.exec(node, "ip", "xfrm", "policy")["stdout"]),
                          ("nft counters", lambda: lab.exec(node, "nft", "list", "table", "inet", "nhtb")["stdout"]),
                          ("charon log", lambda: d.log(80))):
            try:
                parts.append(f"==== {title} ====\n{fn()}")
            except Exception as e:  # a node without charon, or one that died: say so
                parts.append(f"==== {title} ====\n(unavailable: {e})")
        out[node] = "\n".join(parts)
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test that used the lab, save every node's view under build/evidence/<test>/."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "lab" not in item.fixturenames:
        return
    lab = item.funcargs.get("lab")
    if lab is None:
        return
    from ..conftest import REPO

    folder = REPO / "build" / "evidence" / item.nodeid.replace("/", "_").replace("::", "__")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for node, text in _evidence(lab).items():
            (folder / f"{node}.txt").write_text(text)
        report.sections.append(("lab evidence", f"saved in {folder}"))
    except Exception as e:
        report.sections.append(("lab evidence", f"could not be collected: {e}"))
