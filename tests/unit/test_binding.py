"""Next-hop tunnel binding as data: the NHTB table and the XFRM policies it calls for."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from harness.model.lab import load_lab
from harness.render.binding import ANY, binding_specs, desired_policies, nhtb_table, route_active
from harness.render.strongswan import reqid

from ..conftest import THREE_SITE


def hub_spec():
    lab = load_lab(THREE_SITE)
    (spec,) = binding_specs(lab, lab.hub())
    return lab, spec


def test_static_from_config_auto_only_for_junos_peers():
    lab, spec = hub_spec()
    hub = lab.hub()
    (static,) = hub.units[spec["unit"]].next_hop_tunnels
    assert spec["static"] == [{"next_hop": str(static.next_hop), "vpn": static.vpn}]
    # The Junos spoke's VPN learns its next hop (its st0 address); the ScreenOS spoke's cannot.
    westford_st0 = lab.sites["westford"].units["st0.0"].addresses[0].ip
    assert spec["vpns"]["westford-vpn"]["auto_next_hop"] == str(westford_st0)
    assert spec["vpns"]["sunnyvale-vpn"]["auto_next_hop"] is None
    assert {v["reqid"] for v in spec["vpns"].values()} == {reqid(n) for n in spec["vpns"]}


def test_table_as_in_the_note():
    _, spec = hub_spec()
    rows = [(str(e.next_hop), e.interface, e.vpn, e.flag) for e in nhtb_table(spec, {"westford-vpn", "sunnyvale-vpn"})]
    assert rows == [("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static"), ("10.11.11.12", "st0.0", "westford-vpn", "Auto")]
    # An Auto entry lives only while its SA is up; a Static one always.
    assert [e.flag for e in nhtb_table(spec, set())] == ["Static"]


def test_policies_per_prefix_and_next_hop_three_directions():
    _, spec = hub_spec()
    entries = nhtb_table(spec, {"westford-vpn"})
    hop = {e.vpn: e.next_hop for e in entries}
    routes = [(IPv4Network("192.168.168.0/24"), hop["sunnyvale-vpn"]), (IPv4Network("172.16.0.0/16"), hop["sunnyvale-vpn"]),
              (IPv4Network("192.168.178.0/24"), hop["westford-vpn"]), (IPv4Network("10.99.0.0/24"), IPv4Address("10.11.11.99"))]
    pols = desired_policies(spec, entries, routes)
    out = {(p.dst, p.reqid) for p in pols if p.dir == "out"}
    assert out == {(IPv4Network("192.168.168.0/24"), reqid("sunnyvale-vpn")), (IPv4Network("172.16.0.0/16"), reqid("sunnyvale-vpn")),
                   (IPv4Network(f"{hop['sunnyvale-vpn']}/32"), reqid("sunnyvale-vpn")),
                   (IPv4Network("192.168.178.0/24"), reqid("westford-vpn")), (IPv4Network(f"{hop['westford-vpn']}/32"), reqid("westford-vpn"))}
    assert all(p.src == ANY for p in pols if p.dir == "out") and all(p.dst == ANY for p in pols if p.dir != "out")
    assert len(pols) == 3 * len(out)  # out, fwd, in for each
    prio = {p.dst: p.priority for p in pols if p.dir == "out"}
    assert prio[IPv4Network("192.168.168.0/24")] < prio[IPv4Network("172.16.0.0/16")]  # longer prefix wins
    # The route via a next hop with no entry gets no policy at all: it carries no traffic.
    assert not any(IPv4Network("10.99.0.0/24") in (p.src, p.dst) for p in pols)


def test_route_active_needs_an_entry():
    _, spec = hub_spec()
    entries = nhtb_table(spec, set())
    assert route_active(entries, entries[0].next_hop)
    assert not route_active(entries, IPv4Address("10.11.11.12"))
    assert not route_active(entries, None)


@pytest.mark.parametrize("states,up", [
    (["INSTALLED"], True),
    (["REKEYING"], True),  # being rekeyed: its SAs carry the traffic until the new one is in
    (["REKEYED", "INSTALLED"], True),
    (["REKEYED"], True),  # the old SA of a rekey, kept for what the peer still sends on it
    (["UPDATING"], True),
    (["CREATED"], False), (["INSTALLING"], False), (["DELETING"], False), ([], False),
])
def test_a_child_sa_being_rekeyed_is_still_up(states, up):
    """strongSwan's CHILD_SA states (child_sa_state_t, as vici's list-sas names them): an Auto NHTB
    entry stays while a rekey is under way, as on Junos (a rekey does not take the tunnel down)."""
    from harness.runtime.charon import child_installed
    ike = {"child-sas": {f"vpn-{i}": {"name": "vpn", "state": s} for i, s in enumerate(states)}}
    assert child_installed(ike) is up
