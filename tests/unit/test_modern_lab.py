"""The second lab (topologies/modern.clab.yml, lab/modern/): a hub-and-spoke network as one is
built this decade. It reads clean, every statement emulated; what it is made of is what issue 14
asks for, read from the model (not from this file): custom AES-256/SHA-256 proposals with DH
group 14 or more, DPD on every gateway, tunnels established at once, vpn-monitor on one spoke, an
IKEv2 spoke, NAT rule-sets and no J-series policy NAT; both spokes get Auto NHTB entries."""
from __future__ import annotations

from harness.model.lab import load_lab
from harness.model.ledger import not_emulated
from harness.render import strongswan
from harness.render.binding import binding_specs
from harness.model.topology import ends

from ..conftest import TOPOLOGIES

MODERN = TOPOLOGIES / "modern.clab.yml"


def test_the_modern_lab_reads_clean_and_is_all_emulated():
    lab = load_lab(MODERN)
    assert not_emulated(lab) == [] and lab.warnings == []


def test_the_modern_lab_is_made_of_what_a_current_network_runs():
    lab = load_lab(MODERN)
    sites = lab.sites.values()
    assert all(s.os == "junos" for s in sites) and [s.name for s in sites if s.is_hub] == ["hq"]
    for s in sites:
        for e in ends(s):
            ike = s.ike_policies[e.gateway.ike_policy]
            esp = s.ipsec_policies[e.vpn.ipsec_policy]
            assert {p.encryption for p in ike.proposals} == {"aes-256-cbc"}
            assert {p.authentication for p in ike.proposals} == {"sha-256"}
            assert all(int(str(p.dh_group).removeprefix("group")) >= 14 for p in ike.proposals)
            assert {p.authentication for p in esp.proposals} == {"hmac-sha-256-128"} and esp.pfs_group >= 14
            assert e.gateway.dpd is not None, f"{s.name} {e.gateway.name}: no DPD"
            assert e.vpn.establish_tunnels == "immediately"
        assert s.nat_rules and not [p for p in s.policies if p.source_nat]  # rule-sets, no policy NAT
    monitored = {(s.name, v.name) for s in sites for v in s.vpns.values() if v.monitor}
    v2 = {(s.name, g.name) for s in sites for g in s.gateways.values() if g.version == "v2-only"}
    assert monitored == {("boston", "hq-vpn")}
    assert v2 == {("hq", "austin-gate"), ("austin", "hq-gate")}
    assert strongswan.connections(lab.sites["austin"])["hq-vpn"]["version"] == "2"
    [spec] = binding_specs(lab, lab.sites["hq"])
    assert {v: bool(d["auto_next_hop"]) for v, d in spec["vpns"].items()} == {"boston-vpn": True, "austin-vpn": True}
    assert spec["static"] == []
