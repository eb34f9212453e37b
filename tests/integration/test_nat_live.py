"""NAT as a current SRX configures it, on the live lab: the hub's J-series policy NAT replaced by
a source rule-set to a pool, destination NAT of a port to the hub's LAN host, and static NAT of a
second LAN address. What the Internet router sees (the source address a connection comes from,
which connections reach the LAN) is compared with what the commands say; the hits `show security
nat ... rule all` prints are the kernel's counters. The ISP's routes to the pool and the static
address (on the Internet router) and the LAN host's second address are test setup, as an ISP and
a server would provide them."""
from __future__ import annotations

import re
from ipaddress import IPv4Interface

import pytest

from harness.cli import main
from harness.runtime.injected import upstream

from ..conftest import THREE_SITE
from .conftest import variant_lab

POOL, STATIC = "203.0.113.10", "203.0.113.20"  # documentation addresses: the ISP routes them to the hub
WEB, WEB_INSIDE = 8080, 5080


def lan(model):
    hub = model.hub()
    pc = model.lan_host(hub.name)
    address = IPv4Interface(f"{model.host_address(pc)}/{hub.lan_networks()[0].prefixlen}")
    return hub, pc, address


def second_address(address: IPv4Interface) -> IPv4Interface:
    """Another address of the LAN host's subnet (the static NAT's inside host)."""
    return IPv4Interface(f"{address.ip + 10}/{address.network.prefixlen}")


def commands(model):
    hub, pc, address = lan(model)
    inside = second_address(address).ip
    policy = next(p for p in hub.policies if p.source_nat)  # the note's J-series NAT: not on a current SRX
    return {hub.name: [
        f"delete security policies from-zone {policy.from_zone} to-zone {policy.to_zone} policy {policy.name} "
        "then permit source-nat",
        f"set security nat source pool out-pool address {POOL}/32",
        f"set security nat source rule-set to-net from zone {policy.from_zone}",
        f"set security nat source rule-set to-net to zone {policy.to_zone}",
        f"set security nat source rule-set to-net rule pooled match source-address {address.network}",
        "set security nat source rule-set to-net rule pooled then source-nat pool out-pool",
        f"set security nat destination pool web address {address.ip}/32 port {WEB_INSIDE}",
        f"set security nat destination rule-set in from zone {policy.to_zone}",
        f"set security nat destination rule-set in rule web match destination-address {hub.public_address()}/32",
        f"set security nat destination rule-set in rule web match destination-port {WEB}",
        "set security nat destination rule-set in rule web then destination-nat pool web",
        f"set security nat static rule-set one-to-one from zone {policy.to_zone}",
        f"set security nat static rule-set one-to-one rule cam match destination-address {STATIC}/32",
        f"set security nat static rule-set one-to-one rule cam then static-nat prefix {inside}/32",
        f"set security zones security-zone {policy.from_zone} address-book address servers {address.network}",
        f"set security policies from-zone {policy.to_zone} to-zone {policy.from_zone} policy to-servers "
        "match source-address any",
        f"set security policies from-zone {policy.to_zone} to-zone {policy.from_zone} policy to-servers "
        "match destination-address servers",
        f"set security policies from-zone {policy.to_zone} to-zone {policy.from_zone} policy to-servers "
        "match application any",
        f"set security policies from-zone {policy.to_zone} to-zone {policy.from_zone} policy to-servers then permit",
    ]}


@pytest.fixture(scope="module")
def nat_lab(tmp_path_factory):
    with variant_lab(tmp_path_factory.mktemp("nat"), "nat", commands) as lab:
        hub, pc, address = lan(lab.model)
        isp = upstream(lab.model, hub.name).node
        for extra in (POOL, STATIC):
            assert lab.exec(isp, "ip", "route", "add", f"{extra}/32", "via", str(hub.public_address()))["returncode"] == 0
        (own, _), = lab.model.topology.links_of(pc)  # the LAN host's one cable
        assert lab.exec(pc, "ip", "addr", "add", str(second_address(address)), "dev", own.iface)["returncode"] == 0
        yield lab


def isp_address(lab) -> str:
    """The Internet router's address on the hub's link."""
    hub = lab.model.hub()
    isp = upstream(lab.model, hub.name).node
    net = hub.units[next(g.external_interface for g in hub.gateways.values())].addresses[0].network
    return next(str(a.ip) for _, a, _ in lab.model.hosts[isp].addresses if a.ip in net)


def hits(lab, capsys, kind: str) -> dict[str, int]:
    capsys.readouterr()
    assert main(["-t", str(THREE_SITE), "show", f"nat-{kind}-rules", "--name", lab.name]) == 0
    text = capsys.readouterr().out
    names = re.findall(r"NAT rule: (\S+)", text)
    return dict(zip(names, map(int, re.findall(r"Translation hits\s+: (\d+)", text))))


def test_a_lan_host_leaves_with_the_pools_address(nat_lab, capsys):
    hub, pc, address = lan(nat_lab.model)
    isp = upstream(nat_lab.model, hub.name).node
    before = hits(nat_lab, capsys, "source")["pooled"]
    seen = nat_lab.rt.tcp_handshake(nat_lab.name, pc, isp, isp_address(nat_lab), 5101, source=str(address.ip))
    assert seen["connected"] and seen["seen_from"] == POOL, seen
    assert hits(nat_lab, capsys, "source")["pooled"] == before + 1


def test_the_static_host_leaves_as_its_public_address_and_is_reached_there(nat_lab, capsys):
    hub, pc, address = lan(nat_lab.model)
    isp = upstream(nat_lab.model, hub.name).node
    inside = str(second_address(address).ip)
    out = nat_lab.rt.tcp_handshake(nat_lab.name, pc, isp, isp_address(nat_lab), 5102, source=inside)
    assert out["connected"] and out["seen_from"] == STATIC, out  # the static reverse wins over the pool
    into = nat_lab.rt.tcp_handshake(nat_lab.name, isp, pc, STATIC, 5103)
    assert into["connected"] and into["seen_from"] == isp_address(nat_lab), into
    assert hits(nat_lab, capsys, "static")["cam"] >= 2


def test_destination_nat_takes_the_port_to_the_lan_host_and_nothing_else(nat_lab, capsys):
    hub, pc, _ = lan(nat_lab.model)
    isp = upstream(nat_lab.model, hub.name).node
    public = str(hub.public_address())
    web = nat_lab.rt.tcp_handshake(nat_lab.name, isp, pc, public, WEB, listen_port=WEB_INSIDE)
    assert web["connected"] and web["seen_from"] == isp_address(nat_lab), web
    # Another port is not translated: with the LAN host listening where the rule would send it,
    # the connection still does not open.
    other = nat_lab.rt.tcp_handshake(nat_lab.name, isp, pc, public, WEB + 1, timeout=2, listen_port=WEB_INSIDE)
    assert not other["connected"], other
    assert hits(nat_lab, capsys, "destination")["web"] >= 1


def test_the_vpns_still_verify(nat_lab, capsys):
    capsys.readouterr()
    rc = main(["-t", str(THREE_SITE), "verify", "--name", nat_lab.name])
    assert rc == 0, capsys.readouterr().out
