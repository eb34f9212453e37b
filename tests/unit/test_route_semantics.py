"""Junos's meaning of the hub's kernel routes (the Linux driver): a route via a next hop on the
multipoint st0 is active only with an NHTB entry for that next hop; st0's own subnet is Direct and
active; the best route is the longest match. The kernel's answers here are fixed data."""
from __future__ import annotations

import time

from harness.drivers.linux import LinuxDriver
from harness.model.lab import load_lab

from ..conftest import THREE_SITE

LAB = load_lab(THREE_SITE)
KERNEL = [  # as LocalRuntime.routes returns them for the hub (interface names are Linux's)
    {"prefix": "0.0.0.0/0", "gateway": "1.1.1.1", "ifname": "eth4", "kernel": False},
    {"prefix": "1.1.1.0/30", "gateway": None, "ifname": "eth4", "kernel": True},
    {"prefix": "10.11.11.0/24", "gateway": None, "ifname": "st0.0", "kernel": True},
    {"prefix": "192.168.168.0/24", "gateway": "10.11.11.11", "ifname": "st0.0", "kernel": False},
    {"prefix": "192.168.178.0/24", "gateway": "10.11.11.12", "ifname": "st0.0", "kernel": False},
]


class Kernel:
    def __init__(self, bound: list[str]):
        self.bound = bound

    def routes(self, lab, node):
        return KERNEL

    def nhtb(self, lab, node):
        return [{"next_hop": h, "interface": "st0.0", "vpn": "v", "flag": "Static"} for h in self.bound]


def answer(bound, address):
    return LinuxDriver(Kernel(bound), LAB.name, LAB.hub().name, LAB).route_answer(address)


def test_with_both_bindings_every_route_is_active():
    a = answer(["10.11.11.11", "10.11.11.12"], "192.168.168.10")
    assert (a.destinations, a.active, a.hidden) == (5, 5, 0)
    assert (a.route.prefix, a.route.next_hop, a.route.interface, a.route.protocol, a.route.active) == \
           ("192.168.168.0/24", "10.11.11.11", "st0.0", "Static", True)


def test_a_next_hop_without_a_binding_makes_its_route_inactive_but_not_st0s_own_subnet():
    a = answer(["10.11.11.12"], "192.168.168.10")
    assert a.route.active is False and a.hidden == 1
    direct = answer(["10.11.11.12"], "10.11.11.11").route
    assert (direct.prefix, direct.protocol, direct.active) == ("10.11.11.0/24", "Direct", True)
    assert answer([], "8.8.8.8").route.interface == "ge-0/0/3.0"  # the default route, by device name


class CountingKernel(Kernel):
    reads = 0

    def routes(self, lab, node):
        self.reads += 1
        time.sleep(0.05)  # a read takes a while: route checks running side by side must share it
        return KERNEL


def test_the_route_checks_of_a_node_share_one_read_of_its_table_and_a_retry_reads_again():
    from harness.verify.checks import spoke_routes

    hub = LAB.hub()
    tunnel_routes = {str(r.prefix) for r in hub.routes if r.next_hop and hub.connected_unit_for(r.next_hop).tunnel}
    kernel = CountingKernel(["10.11.11.11", "10.11.11.12"])
    results = spoke_routes(LAB, LinuxDriver(kernel, LAB.name, hub.name, LAB))
    assert {r.step for r in results} == {f"route {p}" for p in tunnel_routes} and len(results) >= 2
    assert all(r.ok for r in results) and kernel.reads == 1
    kernel = CountingKernel(["10.11.11.12"])  # Sunnyvale's binding missing: its route stays inactive
    results = spoke_routes(LAB, LinuxDriver(kernel, LAB.name, hub.name, LAB), timeout=1.2)
    assert [r.step for r in results if not r.ok] == ["route 192.168.168.0/24"]
    assert "inactive" in next(r.seen for r in results if not r.ok)
    assert kernel.reads >= 3  # the failing route was read again until its deadline


class Device:
    """A device asked per address (`show route A`): its table, written as the SRX would print it."""

    reads_table_at_once = False

    def __init__(self, node, rows):
        self.node, self.rows = node, rows

    def route(self, address):
        from ipaddress import IPv4Address, IPv4Network
        fits = [r for r in self.rows if IPv4Address(address) in IPv4Network(r.prefix)]
        return max(fits, key=lambda r: IPv4Network(r.prefix).prefixlen, default=None)


def test_a_summary_route_over_the_spokes_own_lan_is_asked_about_an_address_it_routes(tmp_path):
    """`spoke scale` gives spokes 172.16.0.0/12 through the hub, and a generated spoke's own LAN
    is 172.16.0.0/24 inside it: the check must ask about an address the summary routes, not the
    summary's first address, which the device answers with its own LAN."""
    from harness.junos.records import Route
    from harness.model.spoke import grow
    from harness.verify.checks import spoke_routes

    lab = load_lab(grow(THREE_SITE, 3, tmp_path))
    rows = [Route("0.0.0.0/0", "100.64.0.1", "ge-0/0/0.0", "Static", True),
            Route("100.64.0.0/30", None, "ge-0/0/0.0", "Direct", True),
            Route("172.16.0.0/24", None, "ge-0/0/3.0", "Direct", True),
            Route("10.11.11.0/24", None, "st0.0", "Direct", True)]
    rows += [Route(p, "10.11.11.10", "st0.0", "Static", True)
             for p in ("10.10.10.0/24", "192.168.168.0/24", "192.168.178.0/24", "172.16.0.0/12")]
    results = spoke_routes(lab, Device("spoke001", rows), timeout=0.5)
    assert {r.step for r in results} == {"route 172.16.0.0/12", "route 10.10.10.0/24", "route 192.168.168.0/24",
                                         "route 192.168.178.0/24"}
    assert all(r.ok for r in results), [str(r) for r in results if not r.ok]
    rows[-1] = Route("172.16.0.0/12", "10.11.11.10", "st0.0", "Static", False)  # the summary inactive
    assert [r.step for r in spoke_routes(lab, Device("spoke001", rows), timeout=0.5) if not r.ok] == \
           ["route 172.16.0.0/12"]


def test_a_host_route_through_the_tunnel_is_asked_about_its_one_address(lab_copy):
    """A /32 has no address past its first: the check asks about that address itself."""
    from harness.junos.records import Route
    from harness.verify.checks import spoke_routes

    from .test_validate import edit
    edit(lab_copy.parents[1] / "lab" / "westford.junos", "route 10.10.10.0/24 next-hop 10.11.11.10;",
         "route 10.10.10.0/24 next-hop 10.11.11.10; route 10.99.0.5/32 next-hop 10.11.11.10;")
    lab = load_lab(lab_copy)
    rows = [Route(p, "10.11.11.10", "st0.0", "Static", True)
            for p in ("10.10.10.0/24", "192.168.168.0/24", "10.99.0.5/32")]
    results = {r.step: r for r in spoke_routes(lab, Device("westford", rows), timeout=0.5)}
    assert results["route 10.99.0.5/32"].ok, results["route 10.99.0.5/32"]
