"""Rendering: strongSwan, nftables and the network plan from the site models."""
from __future__ import annotations


import pytest

from harness.model.lab import load_lab
from harness.model.proposals import IKE_PROPOSAL_SETS, IKE_PROPOSALS, IPSEC_PROPOSAL_SETS, IPSEC_PROPOSALS
from harness.render import nftables, strongswan
from harness.render.netplan import lab_plan

from ..conftest import NEEDS_NFT, THREE_SITE, scratch_netns


@pytest.fixture(scope="module")
def lab():
    return load_lab(THREE_SITE)


def test_hub_has_one_connection_per_spoke_on_one_if_id(lab):
    hub = lab.sites["corporate"]
    conns = strongswan.connections(hub)
    assert set(conns) == set(hub.vpns)
    children = [c["children"][name] for name, c in conns.items()]
    assert len({ch["reqid"] for ch in children}) == len(children) == 2
    assert {ch["if_id_in"] for ch in children} == {ch["if_id_out"] for ch in children} == {"1"}
    assert {ch["policies"] for ch in children} == {"no"}
    ike = [strongswan.ike_proposal(IKE_PROPOSALS[n]) for n in IKE_PROPOSAL_SETS["standard"]]
    esp = [strongswan.esp_proposal(IPSEC_PROPOSALS[n], 2) for n in IPSEC_PROPOSAL_SETS["standard"]]
    assert ike == ["aes128-sha1-modp1024", "3des-sha1-modp1024"]
    assert esp == ["3des-sha1-modp1024", "aes128-sha1-modp1024"]
    for name, c in conns.items():
        assert c["version"] == "1" and c["aggressive"] == "no"
        assert c["proposals"] == ike
        assert c["children"][name]["esp_proposals"] == esp
        assert c["children"][name]["local_ts"] == c["children"][name]["remote_ts"] == ["0.0.0.0/0"]
        assert c["remote_addrs"] == [str(hub.gateways[hub.vpns[name].gateway].address)]


def test_spokes_have_one_point_to_point_connection(lab):
    for name in ("westford", "sunnyvale"):
        (conn,) = strongswan.connections(lab.sites[name]).values()
        (child,) = conn["children"].values()
        assert child["policies"] == "yes"  # a point-to-point unit: charon installs the 0/0 policies


def windows(conn: dict) -> tuple[int, int]:
    """When charon rekeys (IKEv1: reauthenticates) the connection's IKE SA: rekey_time less up to
    rand_time (strongSwan's jitter), in seconds."""
    late, jitter = (int(conn[k].rstrip("s")) for k in ("rekey_time", "rand_time"))
    return late - jitter, late


def test_a_soaks_lifetimes_replace_the_configs_and_only_in_the_copy(lab):
    """The note's configs use proposal-set standard: Junos's default lifetimes, IKE 28800 s and
    IPsec 3600 s (rekeyed at 90%). A soak's shorter ones replace them in a copy."""
    hub = lab.sites["corporate"]
    conns = strongswan.connections(hub)
    short = strongswan.with_lifetimes(hub, ike=120, ipsec=20)
    for name, c in conns.items():
        child = c["children"][name]
        assert (child["life_time"], child["rekey_time"]) == ("3600s", "3240s")
        assert windows(c) == (31680, 34560)  # the hub's IKEv1 end: after the lifetime (below)
        s = short[name]
        assert (s["children"][name]["life_time"], s["children"][name]["rekey_time"]) == ("20s", "18s")
        assert windows(s) == (132, 144)
        assert s["children"][name]["esp_proposals"] == child["esp_proposals"]  # nothing else changes
    assert strongswan.connections(hub) == conns  # the configs' own, untouched
    only_ipsec = strongswan.with_lifetimes(hub, ipsec=20)
    assert {name: windows(c) for name, c in only_ipsec.items()} == {name: windows(c) for name, c in conns.items()}


@pytest.mark.parametrize("ike", [None, 30])
def test_of_an_ikev1_vpns_two_ends_the_spokes_reauthenticates_in_the_lifetime_and_the_hubs_after(ike):
    """Both ends reauthenticating at once lost the CHILD SAs for seconds (soak, IKE 30 s): of each
    IKEv1 pair the spoke's window is the lifetime's last tenth, the hub's starts after it, decided
    by the hub's multipoint unit and not by addresses (NAT changes those). An IKEv2 end rekeys its
    IKE SA in the lifetime's last tenth: its peer and it agree which rekey wins."""
    from harness.model.topology import vpn_pairs

    for topology in (THREE_SITE, THREE_SITE.parent / "modern.clab.yml"):
        model = load_lab(topology)
        for a, b in vpn_pairs(model):
            got = {}
            for e in (a, b):
                got[e.site.is_hub] = windows(strongswan.with_lifetimes(e.site, ike=ike)[e.vpn.name])
            lifetime = ike or min(p.lifetime for p in a.site.ike_policies[a.site.gateways[a.vpn.gateway].ike_policy].proposals)
            in_lifetime = (lifetime - lifetime // 10, lifetime)
            assert got[False] == in_lifetime, (a.label, b.label)  # the spoke
            if a.site.gateways[a.vpn.gateway].version == "v2-only":
                assert got[True] == in_lifetime, (a.label, b.label)
            else:
                assert got[True][0] > got[False][1], (a.label, b.label, got)


def test_swanctl_conf_hides_keys_unless_revealed(lab):
    hub = lab.sites["corporate"]
    psk = hub.ike_policies["ike-policy1"].psk.reveal()
    hidden = strongswan.swanctl_conf(hub)
    assert psk not in hidden and hidden.count("connections {") == 1
    assert hidden.count("        children {") == 2
    assert psk in strongswan.swanctl_conf(hub, reveal=True)
    assert psk not in repr(hub)


def test_nftables_mirror_zones_policies_nat_and_mss(lab):
    rules = nftables.ruleset(lab.sites["corporate"])
    assert "policy drop" in rules and 'comment "default policy: deny"' in rules
    assert "iifname @zone_vpn oifname @zone_vpn jump from_vpn_to_vpn" in rules  # the intra-zone policy
    assert "masquerade" in rules and "maxseg size set 1350" in rules
    assert "udp dport { 500, 4500 }" in rules and "meta l4proto esp" in rules
    without = lab.sites["westford"]
    assert "from_vpn_to_vpn" not in nftables.ruleset(without)  # no intra-zone policy: denied by default


@NEEDS_NFT
@pytest.mark.parametrize("site", ["corporate", "westford", "sunnyvale"])
def test_nft_accepts_the_rendered_rulesets(lab, site, tmp_path):
    """`nft -c` (check only) in a scratch namespace: the kernel's own parser accepts the ruleset."""
    path = tmp_path / "rules.nft"
    path.write_text(nftables.ruleset(lab.sites[site]))
    with scratch_netns(f"nhtb-unit-nftcheck-{site}") as run:
        res = run("nft", "-c", "-f", str(path))
    assert res.returncode == 0, res.stderr


def test_network_plan(lab):
    plans = lab_plan(lab)
    hub = plans["corporate"]
    (st0,) = hub.tunnels
    assert st0.multipoint and set(st0.vpns) == set(lab.sites["corporate"].vpns)
    assert st0.underlay == next(ln.ifname for ln in hub.links if ln.unit == "ge-0/0/3.0")
    assert all(r.dev == "st0.0" for r in hub.routes if r.gateway and any(r.gateway in a.network for a in st0.addresses))
    assert hub.sysctls["net/ipv4/conf/all/send_redirects"] == hub.sysctls["net/ipv4/conf/st0.0/send_redirects"] == "0"
    assert not any(t.multipoint for n in ("westford", "sunnyvale") for t in plans[n].tunnels)
    assert plans["internet"].sysctls["net/ipv4/ip_forward"] == "1"
    assert all(len(p.tunnels) == 0 for n, p in plans.items() if n not in lab.sites)
