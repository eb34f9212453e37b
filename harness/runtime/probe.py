"""Can this kernel run the lab? Probed in a scratch namespace: an xfrm interface and an ESP state."""
from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass, field

from pyroute2 import netns as pnetns

from ..model.emulation import kernel_esp
from ..model.site import IpsecProposal
from . import nsexec, process

# The scratch namespaces' names: nhtb-probe-PID-THREAD, nhtb-warm-PID-THREAD (PID: the process that made it).
SCRATCH = re.compile(r"nhtb-(?:probe|warm)-(\d+)-\d+")
MODULES = ["esp4", "xfrm_interface", "xfrm_user", "authenc", "cbc", "des3_ede", "aes", "hmac", "sha1"]


@dataclass
class KernelReport:
    release: str
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        if self.ok:
            return f"kernel {self.release} has ESP and xfrm interfaces"
        return f"kernel {self.release} lacks {' and '.join(self.missing)}"


def load_modules() -> None:
    """Load what the lab needs where modules exist (no-op on a monolithic kernel)."""
    subprocess.run(["modprobe", "-a", *MODULES], capture_output=True)


def probe() -> KernelReport:
    report = KernelReport(os.uname().release)
    load_modules()
    ns = scratch_name("probe")
    pnetns.create(ns)
    try:
        with nsexec.iproute(ns) as ipr:
            try:
                ipr.link("add", ifname="probe0", kind="xfrm", xfrm_if_id=1)
            except Exception:
                report.missing.append("xfrm interfaces (CONFIG_XFRM_INTERFACE)")
    finally:
        pnetns.remove(ns)
    # An ESP state, as the warm-up adds them (documentation addresses; nothing is sent).
    if warm_esp([kernel_esp(IpsecProposal("probe", "esp", "hmac-sha1-96", "aes-128-cbc"))]):
        report.missing.append("ESP (CONFIG_INET_ESP)")
    return report


def warm_esp(algorithms: list[list[str]]) -> list[str]:
    """Add, then drop, one scratch ESP state per algorithm set (`ip xfrm state` arguments), one
    after another, in a scratch namespace: the kernel builds and self-tests each crypto instance
    (echainiv(authenc(hmac(sha1),cbc(des3_ede))), ...) now. Otherwise every charon's first SA builds
    it at once: with 100 spokes the kernel's module requests were throttled ("kmod busy with 50
    threads") and SA installs stalled past the peers' retransmissions. Returns what failed."""
    failed = []
    if not algorithms:
        return failed
    ns = scratch_name("warm")
    pnetns.create(ns)
    try:
        for spi, algs in enumerate(algorithms, start=0x200):
            res = nsexec.run(ns, ["ip", "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2",
                                  "proto", "esp", "spi", hex(spi), "mode", "tunnel", *algs])
            if res.returncode != 0:
                failed.append(f"{' '.join(a for a in algs if not a.startswith('0x'))}: {res.stderr.strip()}")
    finally:
        pnetns.remove(ns)  # its states go with it
    return failed


def scratch_name(kind: str) -> str:
    """A scratch namespace of this process and thread (SCRATCH's form)."""
    return f"nhtb-{kind}-{os.getpid()}-{threading.get_ident()}"


def scratch_owner(ns: str) -> int | None:
    """The pid of the process that made scratch namespace `ns`; None for any other namespace."""
    m = SCRATCH.fullmatch(ns)
    return int(m.group(1)) if m else None


def remove_orphans() -> list[str]:
    """The scratch namespaces whose process is gone (killed between making and removing one):
    `down --all` removes them. A live process's are its own business."""
    gone = []
    for ns in pnetns.listnetns():
        owner = scratch_owner(ns)
        if owner is not None and not process.alive(owner):
            try:
                pnetns.remove(ns)
                gone.append(ns)
            except OSError:
                pass  # removed meanwhile (another `down --all`)
    return gone
