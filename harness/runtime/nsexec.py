"""Running things inside a node's network namespace."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

NETNS_DIR = Path("/run/netns")


def ns_path(ns: str) -> str:
    return str(NETNS_DIR / ns)


def in_ns(ns: str, argv: list[str]) -> list[str]:
    """argv prefixed to run in `ns` (nsenter: enters only the network namespace)."""
    return ["nsenter", f"--net={ns_path(ns)}", "--", *argv]


def run(ns: str, argv: list[str], timeout: float | None = 60, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(in_ns(ns, argv), capture_output=True, text=True, timeout=timeout, input=input)


@contextlib.contextmanager
def inside(ns: str):
    """This thread inside `ns` for the block (setns is per thread), then back where it was. A
    namespace that is gone raises FileNotFoundError and is never made again: pyroute2's pushns
    creates a missing one, so a probe racing `down` would leave an empty namespace behind."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        there = os.open(ns_path(ns), os.O_RDONLY)
        try:
            pnetns.setns(there)
        finally:
            os.close(there)
        try:
            yield
        finally:
            pnetns.setns(here)
    finally:
        os.close(here)


@contextlib.contextmanager
def iproute(ns: str):
    """pyroute2's IPRoute on `ns`, its socket opened by this thread inside it (a netlink socket
    stays in the namespace it was made in). pyroute2 0.9's NetNS forks a child process to open
    each socket: cheap on a host, but in the lab VM's agent under emulation a route read took 4.3 s
    on average (25 spokes), and cabling forked once per link. Never makes the namespace."""
    with inside(ns):
        ipr = IPRoute()
    with ipr:
        yield ipr


def write_sysctls(ns: str, sysctls: dict[str, str]) -> None:
    """Write /proc/sys keys (net/ipv4/ip_forward) as seen from `ns`: they are per namespace, and
    this thread enters it for the writes."""
    with inside(ns):
        for key, value in sysctls.items():
            (Path("/proc/sys") / key).write_text(value)
