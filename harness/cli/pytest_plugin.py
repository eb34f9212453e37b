"""A pytest plugin (entry point `pytest11`) for a team's own checks against the same lab, in its own
repository: `pip install nhtb-lab`, then

    def test_branch_reaches_the_datacenter(nhtb_ping):
        assert nhtb_ping("westford-pc", "corp-pc").received > 0

Fixtures: `nhtb_lab` (the running lab: name, model, drivers), `nhtb_driver` (a node's driver by
name: the note's questions, `ike_sas()`, `next_hop_tunnels()`, `route()`...), `nhtb_ping` and
`nhtb_tcp` (`nhtb_ping` between two nodes, or a node and an address; `nhtb_tcp` between two LAN
hosts). Options: `--nhtb-lab NAME` (default:
the topology's lab name, `nhtb`) and `--nhtb-topology FILE` (brings the lab up when it is not
running, and takes it down after the session). Imports are lazy: loading the plugin costs nothing
to a pytest run that does not use it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("nhtb-lab", "nhtb-lab: checks against a running lab")
    group.addoption("--nhtb-lab", default=os.environ.get("NHTB_LAB"), metavar="NAME",
                    help="the running lab to check (default: the topology's lab name)")
    # No environment default: NHTB_TOPOLOGY, which the CLI reads, must not make every pytest run
    # bring a lab up.
    group.addoption("--nhtb-topology", default=None, metavar="FILE",
                    help="bring this topology's lab up when it is not running (and down afterwards)")


@dataclass
class LabHandle:
    name: str
    model: object  # harness.model.lab.Lab
    drivers: dict = field(repr=False)

    def driver(self, node: str):
        if node not in self.drivers:
            raise KeyError(f"lab {self.name} has no node '{node}' (nodes: {', '.join(self.drivers)})")
        return self.drivers[node]

    def address(self, node_or_address: str) -> str:
        """A LAN host's address, a site's first LAN address, or the address itself."""
        model = self.model
        if node_or_address in model.hosts:
            return model.host_address(node_or_address)
        if node_or_address in model.sites:
            return str(model.sites[node_or_address].lan_units()[0].addresses[0].ip)
        return node_or_address


@pytest.fixture(scope="session")
def nhtb_lab(request) -> LabHandle:
    from ..drivers import for_lab, running
    from ..errors import USER_ERRORS
    from ..model.lab import load_lab
    from ..runtime import backend
    from .parser import default_topology

    name, topology = request.config.getoption("nhtb_lab"), request.config.getoption("nhtb_topology")
    brought_up = None
    try:
        try:
            # The lab's name comes from its topology (the CLI's default one when none is given).
            name = name or load_lab(Path(topology or default_topology())).name
            try:
                backend.find(name)
            except USER_ERRORS:
                if not topology:
                    raise
                runtime = os.environ.get("NHTB_RUNTIME", "auto")
                backend.choose(runtime, lambda phase, msg: None, topology).up(topology, name=name)
                brought_up = name
            _, model = running(name)
            handle = LabHandle(name, model, for_lab(name))
        except USER_ERRORS as e:
            pytest.fail(f"nhtb-lab: {e} (bring it up with `nhtb-lab up`, or pass --nhtb-topology FILE)", pytrace=False)
        yield handle
    finally:
        if brought_up:
            backend.down(brought_up)  # what this session brought up, whatever happened


@pytest.fixture(scope="session")
def nhtb_driver(nhtb_lab):
    """`nhtb_driver("corporate").next_hop_tunnels()`: a node's driver by its topology name."""
    return nhtb_lab.driver


@pytest.fixture(scope="session")
def nhtb_ping(nhtb_lab):
    """`nhtb_ping(src, dst, count=3)`: ping from node `src` to node or address `dst` (PingResult)."""
    def ping(src: str, dst: str, count: int = 3, **kw):
        return nhtb_lab.driver(src).ping(nhtb_lab.address(dst), count=count, **kw)
    return ping


@pytest.fixture(scope="session")
def nhtb_tcp(nhtb_lab):
    """`nhtb_tcp(src_host, dst_host, port=5002)`: whether a TCP connection opens between LAN hosts."""
    def tcp(src: str, dst: str, port: int = 5002) -> bool:
        return nhtb_lab.driver(src).tcp_open(dst, nhtb_lab.address(dst), port)
    return tcp
