"""Shared paths and helpers for the test suite."""
from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
import shutil
import re
from pathlib import Path

import pytest

from harness.model.spoke import SpokeRequest

pytest_plugins = ["pytester"]  # the nhtb-lab pytest plugin is tested as a user's own run would load it

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "lab"
TOPOLOGIES = REPO / "topologies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
THREE_SITE = TOPOLOGIES / "three-site.clab.yml"
SHARED = REPO.parent / "shared"  # vendor schemas and references: test oracles, never copied here


def shared_oracle(relative: str) -> Path:
    """A file of ../shared (a vendor's schema or reference); the test skips, saying why, where it is
    absent (a user's plain clone). CI has it beside the checkout, so there the test runs."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{relative} is not at {path} (the project's shared/ folder beside the checkout): "
                    "this oracle is checked in CI")
    return path


def yang_numbers(block: str, leaves: tuple[str, ...] = ("interval", "threshold")) -> dict[str, tuple[int, int, int]]:
    """leaf -> (default, low, high) of each uint leaf in a block of Juniper's YANG: the first
    `leaf NAME` after the block's start, its `default` and its `range`."""
    out = {}
    for leaf in leaves:
        at = block.index(f"leaf {leaf}")
        default = int(re.search(r'default "(\d+)"', block[at:]).group(1))
        lo, hi = map(int, re.search(r'range "(\d+) \.\. (\d+)"', block[at:]).groups())
        out[leaf] = (default, lo, hi)
    return out


# Two spokes to add, as `nhtb-lab spoke add` would: one like Westford (a Junos peer: Auto NHTB) and
# one like Sunnyvale (ScreenOS: a static next-hop-tunnel on the hub). Test data, used by the unit
# and the rehearsal tests alike.
BOSTON = SpokeRequest("boston", IPv4Interface("4.4.4.2/30"), IPv4Network("192.168.188.0/24"),
                      IPv4Address("10.11.11.13"), "westford", "auto")
AUSTIN = SpokeRequest("austin", IPv4Interface("5.5.5.2/30"), IPv4Network("192.168.198.0/24"),
                      IPv4Address("10.11.11.14"), "sunnyvale", "static")


def pytest_addoption(parser):
    parser.addoption("--driver", default="linux", choices=["linux", "junos-ssh"],
                     help="how the verification tests ask the sites: linux (vici, netlink) or junos-ssh "
                          "(their Junos CLI over SSH, parsed as a vSRX's would be)")


def strip_sources(obj):
    """A model as plain data without where it came from (file, line), for comparing two syntaxes."""
    if dataclasses.is_dataclass(obj):
        return {f.name: strip_sources(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.name not in ("source", "file") and not f.name.endswith("_source") and f.name != "address_sources"}
    if isinstance(obj, dict):
        return {k: strip_sources(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strip_sources(v) for v in obj]
    if isinstance(obj, set):
        return sorted(obj)
    return obj


@pytest.fixture
def lab_copy(tmp_path: Path) -> Path:
    """A writable copy of lab/ and topologies/ (same relative layout): returns the topology path."""
    shutil.copytree(LAB, tmp_path / "lab")
    shutil.copytree(TOPOLOGIES, tmp_path / "topologies")
    return tmp_path / "topologies" / THREE_SITE.name


NEEDS_NFT = pytest.mark.skipif(shutil.which("nft") is None or shutil.which("ip") is None,
                               reason="needs nft and ip (Debian nftables, iproute2)")


@contextlib.contextmanager
def scratch_netns(name: str):
    """A network namespace of the test's own (for `nft` to load or check a ruleset in the kernel),
    removed afterwards whatever happens. Yields a function running argv inside it."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield lambda *argv: subprocess.run(["ip", "netns", "exec", name, *argv], capture_output=True, text=True)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)
