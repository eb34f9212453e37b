"""Multipoint st0 with next-hop tunnel binding, on the live lab: the note's sections
"Route-to-Tunnel Mapping" and "Confirm Next-Hop Tunnel Bindings"."""
from __future__ import annotations

import time

import pytest

from harness.drivers import for_lab
from harness.junos import nhtb
from harness.model.topology import ends
from harness.render.binding import binding_specs
from harness.render.strongswan import reqid

from ..conftest import FIXTURES
from .conftest import unique_name
from .test_lab_lifecycle import _variant


def hub_packets(lab) -> dict[str, int]:
    """Packets through each VPN's SAs on the hub (both directions), by VPN name."""
    hub = lab.model.hub()
    states = lab.rt.xfrm_states(lab.name, hub.name)
    return {vpn: sum(st["packets"] for st in states if st["reqid"] == reqid(vpn)) for vpn in hub.vpns}


def ping(lab, src: str, dst_ip: str, count: int = 3) -> dict:
    return lab.exec(src, "ping", "-c", str(count), "-i", "0.3", "-W", "2", dst_ip)


def test_next_hop_tunnels_as_in_the_note(lab):
    """The hub's table is the one the note prints (a golden file, not the binder's own spec), as
    the hub's stand-in prints it; a spoke prints nothing, as Westford does."""
    hub = lab.model.hub()
    drivers = for_lab(lab.name)
    note = nhtb.parse_text((FIXTURES / "junos_outputs" / "next_hop_tunnels.txt").read_text())
    assert sorted(drivers[hub.name].next_hop_tunnels(), key=str) == sorted(note, key=str)
    for spoke in (s for s in lab.model.sites.values() if not s.is_hub):
        assert nhtb.text(drivers[spoke.name].next_hop_tunnels()) == ""


def test_routes_to_spoke_lans_are_active_via_st0(lab):
    hub = lab.model.hub()
    for r in hub.routes:
        unit = hub.connected_unit_for(r.next_hop) if r.next_hop else None
        if unit is None or not unit.multipoint:
            continue
        got = for_lab(lab.name)[hub.name].route(str(r.prefix.network_address + 10))
        assert got.prefix == str(r.prefix) and got.next_hop == str(r.next_hop)
        assert got.interface == unit.name and got.active, got


@pytest.mark.parametrize("case", ["hub-to-sunnyvale", "hub-to-westford", "spoke-to-spoke"])
def test_sa_counters_prove_the_mapping(lab, case):
    hub = lab.model.hub()
    corp_pc = lab.model.lan_host(hub.name)
    src, dst, moved = {
        "hub-to-sunnyvale": (corp_pc, lab.model.lan_host("sunnyvale"), {"sunnyvale-vpn"}),
        "hub-to-westford": (corp_pc, lab.model.lan_host("westford"), {"westford-vpn"}),
        "spoke-to-spoke": (lab.model.lan_host("sunnyvale"), lab.model.lan_host("westford"), {"sunnyvale-vpn", "westford-vpn"}),
    }[case]
    before = hub_packets(lab)
    res = ping(lab, src, lab.model.host_address(dst), count=3)
    assert res["returncode"] == 0 and " 0% packet loss" in res["stdout"], res["stdout"]
    after = hub_packets(lab)
    delta = {vpn: after[vpn] - before[vpn] for vpn in after}
    for vpn, d in delta.items():
        if vpn in moved:
            assert d == 6, f"{case}: {vpn} moved {d} packets, expected 3 requests + 3 replies ({delta})"
        else:
            assert d == 0, f"{case}: {vpn} moved {d} packets but should not have ({delta})"


def test_the_hub_has_exactly_one_tunnel_interface(lab):
    hub = lab.model.hub()
    res = lab.exec(hub.name, "ip", "-o", "-d", "link", "show", "type", "xfrm")
    assert len(res["stdout"].strip().splitlines()) == 1, res["stdout"]


def wait_for(predicate, timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout, "not within the deadline"
        time.sleep(0.05)
    return time.monotonic() - t0


def test_a_new_route_is_bound_and_unbound(lab):
    """A route added on the hub via st0 gets the policies of its next hop's VPN; they go with it.
    (The latency is printed by scripts/bench_binding.py; here it only has to happen.)"""
    hub = lab.model.hub()
    (spec,) = binding_specs(lab.model, hub)
    static = spec["static"][0]
    prefix = "172.16.0.0/24"

    def bound() -> bool:
        return any(p["dir"] == "out" and p["dst"] == prefix and p["reqid"] == reqid(static["vpn"])
                   for p in lab.rt.xfrm_policies(lab.name, hub.name))

    assert not bound()
    res = lab.exec(hub.name, "ip", "route", "add", prefix, "via", static["next_hop"], "dev", spec["ifname"])
    assert res["returncode"] == 0, res
    try:
        wait_for(bound)
    finally:
        lab.exec(hub.name, "ip", "route", "del", prefix)
    wait_for(lambda: not bound())


def test_without_the_static_entry_sunnyvale_is_inactive(lab, tmp_path):
    """The hub config minus `next-hop-tunnel ... ipsec-vpn sunnyvale-vpn`: SAs up, route inactive,
    Sunnyvale's LAN unreachable, Westford unaffected."""
    hub = lab.model.hub()
    (nh,) = hub.units["st0.0"].next_hop_tunnels
    config = (tmp_path / "corporate.junos")
    config.write_text("".join(ln for ln in open(hub.file).readlines() if "next-hop-tunnel" not in ln))

    def no_static(doc):
        doc["topology"]["nodes"][hub.name]["startup-config"] = str(config)
    name = unique_name("nonhtb")
    lab.rt.up(_variant(tmp_path, no_static), name=name)
    try:
        rows = lab.rt.nhtb(name, hub.name)
        assert [r["vpn"] for r in rows] == ["westford-vpn"]
        sunny_pc, west_pc = lab.model.host_address(lab.model.lan_host("sunnyvale")), lab.model.host_address(lab.model.lan_host("westford"))
        route = for_lab(name)[hub.name].route(sunny_pc)
        assert route.next_hop == str(nh.next_hop) and route.active is False
        corp_pc = lab.model.lan_host(hub.name)
        lost = lab.rt.exec(name, corp_pc, ["ping", "-c", "2", "-W", "1", sunny_pc])
        assert lost["returncode"] != 0 and "100% packet loss" in lost["stdout"]
        ok = lab.rt.exec(name, corp_pc, ["ping", "-c", "2", "-i", "0.3", "-W", "2", west_pc])
        assert ok["returncode"] == 0, ok["stdout"]
        sas = {c for sa in lab.rt.sas(name, hub.name) for c, ike in sa.items() if ike["state"] == "ESTABLISHED"}
        assert nh.vpn in sas  # the SA itself is up: only the binding is missing
    finally:
        lab.rt.down(name)


def test_a_rekey_keeps_traffic_on_its_binding(lab):
    """Rekeying a spoke's CHILD SA on the hub changes its SPIs, not its reqid: the binding holds and
    traffic keeps flowing through the new SA."""
    hub = lab.model.hub()
    spoke = next(s for s in lab.model.sites.values() if not s.is_hub and s.os == "junos")
    vpn = next(e.vpn.name for e in ends(hub) if e.gateway.address == spoke.public_address())

    def spis() -> set[int]:
        return {st["spi"] for st in lab.rt.xfrm_states(lab.name, hub.name) if st["reqid"] == reqid(vpn)}

    def bound() -> set[tuple]:
        return {(p["dir"], p["src"], p["dst"]) for p in lab.rt.xfrm_policies(lab.name, hub.name) if p["reqid"] == reqid(vpn)}

    before_spis, before_policies = spis(), bound()
    lab.rt.rekey(lab.name, hub.name, vpn)
    wait_for(lambda: spis() - before_spis, timeout=30)  # a new SA pair is installed
    res = ping(lab, lab.model.lan_host(hub.name), lab.model.host_address(lab.model.lan_host(spoke.name)))
    assert res["returncode"] == 0 and " 0% packet loss" in res["stdout"], res["stdout"]
    assert bound() == before_policies
