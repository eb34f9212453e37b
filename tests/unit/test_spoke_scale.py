"""`spoke scale`: N spokes on the one hub. With summary routes (the default) each spoke routes the
generated LANs' pool through the hub once, so a spoke added later changes only the hub and itself
and the configs grow linearly; with a route per LAN they grow with the square of the spokes."""
from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.model.spoke import grow

from ..conftest import THREE_SITE


def route_counts(topo) -> dict[str, int]:
    return {s.name: len(s.routes) for s in load_lab(topo).sites.values()}


def reaches_every_lan_through_its_tunnel(topo) -> list[str]:
    """Sites that would send some other site's LAN anywhere but their tunnel: their own route
    lookup, longest match over connected subnets and static routes, as the device does."""
    lab = load_lab(topo)
    lans = {s.name: s.lan_networks() for s in lab.sites.values()}
    wrong = []
    for site in lab.sites.values():
        for other, nets in lans.items():
            for net in nets if other != site.name else []:
                unit, _ = site.route_lookup(net.network_address + 1)
                if unit is None or not site.units[unit].tunnel:
                    wrong.append(f"{site.name} -> {other} {net}: {unit}")
    return wrong


def test_summary_routes_leave_existing_spokes_alone_and_grow_linearly(tmp_path):
    small, big = grow(THREE_SITE, 5, tmp_path / "n5"), grow(THREE_SITE, 10, tmp_path / "n10")
    for topo in (small, big):
        assert preflight(load_lab(topo)) == []
        assert reaches_every_lan_through_its_tunnel(topo) == []
    # After the first step (the summary on the note's spokes), each step changes the hub only.
    steps = sorted((tmp_path / "n10").glob("step-*"))
    assert len(steps) == 1 + 8
    first = json.loads((steps[0] / "change.json").read_text())
    assert set(first["commands"]) == {"westford", "sunnyvale"} and first["new_nodes"] == []
    for step in steps[1:]:
        change = json.loads((step / "change.json").read_text())
        assert set(change["commands"]) == {"corporate"} and len(change["new_nodes"]) == 1, step
    # A spoke's routes do not grow with the number of spokes; the hub's grow by one per spoke.
    a, b = route_counts(small), route_counts(big)
    hub = load_lab(big).hub().name
    assert {n: c for n, c in b.items() if n in a and n != hub} == {n: c for n, c in a.items() if n != hub}
    assert b[hub] - a[hub] == 5


def test_a_route_per_lan_grows_every_spoke(tmp_path):
    topo = grow(THREE_SITE, 5, tmp_path / "each", spoke_routes="each")
    assert preflight(load_lab(topo)) == [] and reaches_every_lan_through_its_tunnel(topo) == []
    counts = route_counts(topo)
    hub = load_lab(topo).hub().name
    # Every site routes every other site's LAN: a default route plus one per other site.
    assert set(counts.values()) == {1 + len(counts) - 1}, counts
    assert not any("spoke-pool" in c for step in (tmp_path / "each").glob("step-*/change.json")
                   for c in json.dumps(json.loads(step.read_text())["commands"]))
    assert counts[hub] == len(counts)


def test_the_cli_takes_the_routing_and_refuses_an_unknown_one(tmp_path, capsys):
    for routes in ("each", "summary"):
        assert main(["--topology", str(THREE_SITE), "spoke", "scale", "--spokes", "4", "--spoke-routes", routes,
                     "--out", str(tmp_path / routes)]) == 0
        assert "4 spokes" in capsys.readouterr().out
        summary = "spoke-pool-net" in (tmp_path / routes / "step-001" / "change.json").read_text()
        assert summary == (routes == "summary"), routes
    with pytest.raises(ConfigError, match="--spoke-routes bad"):
        grow(THREE_SITE, 4, tmp_path / "bad", spoke_routes="bad")
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("argv, refused", [
    (["add", "--name", "x", "--public", "100.64.0.2/30", "--lan", "172.16.9.0/24", "--tunnel-ip", "10.11.11.50",
      "--spoke-routes", "each"], "spoke add does not take --spoke-routes"),
    (["add", "--name", "x", "--spokes", "4"], "spoke add does not take --spokes"),
    (["remove", "westford", "--like", "sunnyvale"], "spoke remove does not take --like"),
    (["scale", "--spokes", "4", "--lan", "172.16.9.0/24"], "spoke scale does not take --lan"),
    (["scale", "--spokes", "4", "--name", "x"], "spoke scale does not take --name"),
    (["scale", "westford", "--spokes", "4"], "spoke scale does not take a NAME"),
    (["scale", "--spokes", "4", "--allow-findings"], "spoke scale does not take --allow-findings"),
    (["add", "x"], "spoke add takes the new spoke's name as --name, not as 'x'"),
])
def test_an_option_of_another_spoke_action_is_refused_not_ignored(tmp_path, capsys, argv, refused):
    out = tmp_path / "out"
    assert main(["--topology", str(THREE_SITE), "spoke", *argv, "--out", str(out)]) != 0
    assert refused in capsys.readouterr().err
    assert not out.exists()


def test_a_spoke_counts_as_reaching_a_lan_only_through_its_tunnel_zone_and_policies(lab_copy):
    """The note's Westford with a covering route, written three ways that do not carry the LAN to
    the hub as the config stands, and the way `spoke scale` writes it."""
    from ipaddress import IPv4Network

    from harness.model.spoke import reaches_through_tunnel

    from harness.model.change import edited_config

    path = lab_copy.parents[1] / "lab" / "westford.junos"
    lan = IPv4Network("172.16.5.0/24")
    original = path.read_text()

    def westford(route: str, *commands: str):
        path.write_text(original)
        path.write_text(edited_config(path, "junos", "test", [f"set routing-options static {route}", *commands]))
        return load_lab(lab_copy).sites["westford"]

    vpn_entry = "set security zones security-zone vpn address-book address pool 172.16.0.0/12"
    to_corp = "set security policies from-zone trust to-zone vpn policy to-corp match destination-address pool"
    via_tunnel = "route 172.16.0.0/12 next-hop 10.11.11.10"
    # Through the Internet, with an entry and a policy of the Internet's zone:
    untrust_entry = "set security zones security-zone untrust address-book address pool 172.16.0.0/12"
    to_internet = "set security policies from-zone trust to-zone untrust policy any-permit match destination-address pool"
    assert not reaches_through_tunnel(westford("route 172.16.0.0/12 next-hop 3.3.3.1", untrust_entry, to_internet), lan)
    # Through the tunnel, but the entry (named by a policy) is in the trust zone:
    trust_entry = "set security zones security-zone trust address-book address pool 172.16.0.0/12"
    from_pool = "set security policies from-zone trust to-zone vpn policy to-corp match source-address pool"
    assert not reaches_through_tunnel(westford(via_tunnel, trust_entry, from_pool), lan)
    # Through the tunnel, the entry in its zone, but no policy names it:
    assert not reaches_through_tunnel(westford(via_tunnel, vpn_entry), lan)
    # The upper half of the LAN routed to the Internet by a more specific route:
    split = westford(via_tunnel, vpn_entry, to_corp, "set routing-options static route 172.16.5.128/25 next-hop 3.3.3.1")
    assert not reaches_through_tunnel(split, lan)
    assert reaches_through_tunnel(westford(via_tunnel, vpn_entry, to_corp), lan)
