"""Junos's meaning of the hub's kernel routes (the Linux driver): a route via a next hop on the
multipoint st0 is active only with an NHTB entry for that next hop; st0's own subnet is Direct and
active; the best route is the longest match. The kernel's answers here are fixed data."""
from __future__ import annotations

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
