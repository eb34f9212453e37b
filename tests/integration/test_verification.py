"""The reference note's "Verifying VPN Connection" section, step by step, on the live lab, through
the driver interface only (the same tests run against any kind of node)."""
from __future__ import annotations

import json

import pytest

from harness.drivers import for_lab
from harness.model.topology import ends
from harness.render.strongswan import reqid
from harness.verify import checks

from .conftest import unique_name
from .test_lab_lifecycle import _variant


@pytest.fixture(scope="module")
def drivers(lab, request):
    """The sites' drivers as `--driver` asks (the LAN hosts are Linux either way)."""
    return for_lab(lab.name, request.config.getoption("--driver"))


def sites(lab):
    return list(lab.model.sites)


def test_confirm_ike_phase_1_status(lab, drivers):
    for node in sites(lab):
        result = checks.phase1(lab.model, drivers[node])
        assert result.ok, str(result)
    hub = lab.model.hub()
    up = [s for s in drivers[hub.name].ike_sas() if s.state == "UP"]
    assert sorted(s.remote for s in up) == sorted(str(e.gateway.address) for e in ends(hub))
    assert len({s.index for s in up}) == len(up)  # distinct indexes


def test_confirm_ipsec_phase_2_status(lab, drivers):
    for node in sites(lab):
        result = checks.phase2(lab.model, drivers[node])
        assert result.ok, str(result)


def test_confirm_next_hop_tunnel_bindings(lab, drivers):
    for node in sites(lab):
        result = checks.next_hop_tunnels(lab.model, drivers[node])
        assert result.ok, str(result)


def test_confirm_static_routes_for_remote_peer_local_lans(lab, drivers):
    results = [r for node in sites(lab) for r in checks.spoke_routes(lab.model, drivers[node])]
    assert results, "no route through a tunnel in the configs?"
    assert all(r.ok for r in results), "\n".join(map(str, results))


def test_check_statistics_and_errors_for_an_ipsec_sa(lab, drivers):
    hub = lab.model.hub()
    d = drivers[hub.name]
    corp_pc = drivers[lab.model.lan_host(hub.name)]
    for spoke in (s for s in lab.model.sites.values() if not s.is_hub):
        vpn = next(e.vpn.name for e in ends(hub) if e.gateway.address == spoke.public_address())
        before = d.ipsec_stats(reqid(vpn))
        result = checks.ping(corp_pc, lab.model.host_address(lab.model.lan_host(spoke.name)), count=3)
        assert result.ok, str(result)
        after = d.ipsec_stats(reqid(vpn))
        assert after.encrypted_packets >= before.encrypted_packets + 3, (vpn, before, after)
        assert after.decrypted_packets >= before.decrypted_packets + 3, (vpn, before, after)
        assert after.encrypted_bytes > before.encrypted_bytes and after.decrypted_bytes > before.decrypted_bytes
    for node in sites(lab):
        for r in checks.sa_errors(lab.model, drivers[node]):
            assert r.ok, str(r)


def traffic_cases(lab):
    hub = lab.model.hub()
    spokes = [s.name for s in lab.model.sites.values() if not s.is_hub]
    cases = []
    for spoke in spokes:  # PC to PC, hub <-> each spoke, both ways
        cases += [(lab.model.lan_host(hub.name), lab.model.lan_host(spoke), None), (lab.model.lan_host(spoke), lab.model.lan_host(hub.name), None)]
        # the device itself, sourced from its LAN interface (`ping ... interface ge-0/0/0`)
        cases.append((hub.name, lab.model.lan_host(spoke), hub.lan_units()[0].name))
        cases.append((spoke, lab.model.lan_host(hub.name), lab.model.sites[spoke].lan_units()[0].name))
    for a in spokes:  # spoke to spoke through the hub, both ways
        for b in spokes:
            if a != b:
                cases.append((lab.model.lan_host(a), lab.model.lan_host(b), None))
    return cases


def test_traffic_flow_across_the_vpn(lab, drivers):
    failures = []
    for src, dst, source in traffic_cases(lab):
        r = checks.ping(drivers[src], lab.model.host_address(dst), count=3, source=source)
        if not r.ok:
            failures.append(str(r))
    assert not failures, "\n".join(failures)


def nft_counter(lab, node: str, chain: str, comment_prefix: str, lab_name: str | None = None) -> int:
    res = lab.rt.exec(lab_name or lab.name, node, ["nft", "-j", "list", "chain", "inet", "nhtb", chain])
    assert res["returncode"] == 0, res["stderr"]
    total = 0
    for item in json.loads(res["stdout"])["nftables"]:
        rule = item.get("rule")
        if rule and rule.get("comment", "").startswith(comment_prefix):
            total += sum(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
    return total


def test_untrust_answers_ike_but_not_ping(lab, drivers):
    hub = lab.model.hub()
    internet = next(h for h, host in lab.model.hosts.items() if host.forwarding)
    assert checks.phase1(lab.model, drivers[hub.name]).ok  # IKE is answered on untrust...
    r = drivers[internet].ping(str(hub.public_address()), count=2)
    assert r.received == 0, r.output  # ...ping is not (host-inbound-traffic: ike only)


def test_lan_to_internet_is_source_natted_tunnel_traffic_is_not(lab, drivers):
    hub = lab.model.hub()
    internet = next(h for h, host in lab.model.hosts.items() if host.forwarding)
    corp_pc = drivers[lab.model.lan_host(hub.name)]
    # An address of the router's far side: it has no route back to the LAN, so a reply proves NAT.
    hub_side = hub.connected_unit_for(hub.public_address()).addresses[0].network
    far = next(str(a.ip) for _, a, _ in lab.model.hosts[internet].addresses if a.ip not in hub_side)
    nat_before = nft_counter(lab, hub.name, "srcnat", "policy")
    r = checks.ping(corp_pc, far, count=2)
    assert r.ok, str(r)
    nat_after = nft_counter(lab, hub.name, "srcnat", "policy")
    assert nat_after > nat_before
    spoke = next(s for s in lab.model.sites.values() if not s.is_hub)
    r = checks.ping(corp_pc, lab.model.host_address(lab.model.lan_host(spoke.name)), count=2)
    assert r.ok, str(r)
    assert nft_counter(lab, hub.name, "srcnat", "policy") == nat_after  # tunnel traffic is not translated


def test_tcp_syn_through_the_tunnel_is_clamped(lab, drivers):
    hub = lab.model.hub()
    spoke = next(s for s in lab.model.sites.values() if not s.is_hub and s.os == "junos")
    src, dst = lab.model.lan_host(hub.name), lab.model.lan_host(spoke.name)
    mss = drivers[src].syn_mss(dst, lab.model.host_address(dst))  # seen by tcpdump on arrival
    assert mss is not None and mss <= hub.tcp_mss, mss


def _without_block(text: str, opener: str) -> str:
    """A curly config without the block that starts with `opener` (brace-matched)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith(opener))
    depth, end = 0, start
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth == 0:
            break
    return "".join(lines[:start] + lines[end + 1:])


def test_spoke_to_spoke_needs_the_intra_zone_policy(lab, tmp_path):
    """Without `from-zone vpn to-zone vpn` on the hub: spoke to spoke is dropped (counted by the
    hub's default deny), hub to spoke still works."""
    hub = lab.model.hub()
    config = tmp_path / "corporate.junos"
    config.write_text(_without_block(open(hub.file).read(), "from-zone vpn to-zone vpn"))
    name = unique_name("nointra")
    lab.rt.up(_variant(tmp_path, lambda doc: doc["topology"]["nodes"][hub.name].__setitem__("startup-config", str(config))),
              name=name)
    try:
        d = for_lab(name)
        spokes = [s.name for s in lab.model.sites.values() if not s.is_hub]
        a, b = lab.model.lan_host(spokes[0]), lab.model.lan_host(spokes[1])
        denied = nft_counter(lab, hub.name, "forward", "default policy", lab_name=name)
        r = d[a].ping(lab.model.host_address(b), count=2)
        assert r.received == 0, r.output
        assert nft_counter(lab, hub.name, "forward", "default policy", lab_name=name) >= denied + 2
        ok = checks.ping(d[lab.model.lan_host(hub.name)], lab.model.host_address(b), count=2)
        assert ok.ok, str(ok)
    finally:
        lab.rt.down(name)


def test_a_broken_spoke_fails_its_own_checks_by_name(lab):
    """Cut Westford's Internet link and kill its charon: its phase-1 and traffic checks fail naming
    Westford, the rest pass. (A killed charon alone is healed: the lab's supervisor starts it
    again within a second, as Junos restarts kmd; the cut keeps the new one from its hub.)"""
    name = unique_name("broken")
    lab.rt.up(str(lab.model.topology.file.resolve()), name=name)
    try:
        d = for_lab(name)
        lab.rt.inject(name, "link-cut", "westford")
        lab.rt.inject(name, "kill-charon", "westford")
        west = checks.phase1(lab.model, d["westford"], timeout=5)
        assert (west.ok, west.node) == (False, "westford") and west.expected.startswith("UP")
        assert " UP " not in f" {west.seen} ", west.seen  # what it saw: no SA up
        west_pc = lab.model.lan_host("westford")
        hub_pc = lab.model.lan_host(lab.model.hub().name)
        traffic = checks.ping(d[west_pc], lab.model.host_address(hub_pc), count=2, timeout=5)
        assert (traffic.ok, traffic.node) == (False, west_pc) and traffic.seen.startswith("0 of "), traffic.seen
        other = next(s.name for s in lab.model.sites.values() if not s.is_hub and s.name != "westford")
        assert checks.phase1(lab.model, d[other]).ok
        assert checks.ping(d[lab.model.lan_host(other)], lab.model.host_address(hub_pc), count=2).ok
    finally:
        lab.rt.down(name)
