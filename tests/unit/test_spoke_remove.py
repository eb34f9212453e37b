"""`spoke remove`: a spoke decommissioned as an engineer would, written as a change folder with its
intent. The oracles are the lab before the change (what named the spoke's LAN, VPN and next hop)
and `spoke add`: adding a spoke and removing it again is no change at all."""
from __future__ import annotations

import yaml

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.model.change import write_changed_lab
from harness.model.decommission import remove_spoke
from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.model.spoke import add_spoke
from harness.render.diff import diff

from ..conftest import AUSTIN, BOSTON, THREE_SITE


def removed(tmp_path, name, topology=THREE_SITE):
    before = load_lab(topology)
    return before, load_lab(write_changed_lab(topology, remove_spoke(before, name), tmp_path / f"rm-{name}"))


def _lan(site):
    return site.lan_units()[0].addresses[0].network


@pytest.mark.parametrize("name", ["sunnyvale", "westford"])
def test_nothing_of_the_spoke_is_left_and_the_rest_is_untouched(tmp_path, name):
    before, after = removed(tmp_path, name)
    gone, lan = before.sites[name], _lan(before.sites[name])
    assert name not in after.nodes and before.lan_host(name) not in after.nodes
    assert preflight(after) == []
    hub_before, hub = before.hub(), after.hub()
    spoke_gateways = {g.name for g in hub_before.gateways.values() if g.address == gone.public_address()}
    assert spoke_gateways and not spoke_gateways & set(hub.gateways)
    assert not any(v.gateway in spoke_gateways for v in hub.vpns.values())
    tunnel_ips = {a.ip for u in gone.tunnel_units for a in u.addresses}
    assert not any(t.next_hop in tunnel_ips for u in hub.tunnel_units for t in u.next_hop_tunnels)
    for site in after.sites.values():
        assert not any(r.prefix == lan for r in site.routes), site.name
        names = {n for z in site.zones.values() for n, a in z.address_book.items() if a == lan}
        assert names == set(), site.name
        assert not any(set(p.sources + p.destinations) & {n for z in before.sites[site.name].zones.values()
                                                          for n, a in z.address_book.items() if a == lan}
                       for p in site.policies), site.name
    # The other spoke's VPN is not touched: no connection or key of it reloaded anywhere.
    change = diff(before, after)
    assert change.removed == (name, before.lan_host(name))
    reloaded = {c for w in change.changed.values() for c in (*w.connections_loaded, *w.secrets_loaded)}
    assert reloaded == set(), reloaded
    # The Internet router's address on the spoke's link went with the link.
    hop = next(r.next_hop for r in gone.routes if r.prefix.prefixlen == 0)
    assert not any(a.ip == hop for h in after.hosts.values() for _, a, _ in h.addresses)


@pytest.mark.parametrize("req", [BOSTON, AUSTIN], ids=lambda r: r.name)
def test_adding_a_spoke_then_removing_it_is_no_change(tmp_path, req):
    base = load_lab(THREE_SITE)
    grown = write_changed_lab(THREE_SITE, add_spoke(base, req), tmp_path / "add")
    back = load_lab(write_changed_lab(grown, remove_spoke(load_lab(grown), req.name), tmp_path / "remove"))
    assert diff(base, back).empty(), diff(base, back)


def test_what_is_not_a_spoke_is_refused():
    lab = load_lab(THREE_SITE)
    with pytest.raises(ConfigError, match=r"nosuch is not a spoke of lab \w+ \(spokes: "):
        remove_spoke(lab, "nosuch")
    with pytest.raises(ConfigError, match=f"{lab.hub().name} is not a spoke"):
        remove_spoke(lab, lab.hub().name)


def test_cli_writes_the_folder_with_its_intent(tmp_path, capsys):
    out = tmp_path / "rm"
    assert main(["-t", str(THREE_SITE), "spoke", "remove", "sunnyvale", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "delete security ipsec vpn sunnyvale-vpn" in printed
    assert "delete interfaces st0 unit 0 family inet next-hop-tunnel 10.11.11.11 ipsec-vpn sunnyvale-vpn" in printed
    intent = yaml.safe_load((out / "intent.yml").read_text())
    # The hub's end and the spoke's end of the one VPN go; nothing else is expected.
    assert sorted(intent["expect"]) == ["ike-gone corporate/sunnyvale-vpn", "ike-gone sunnyvale/corp-vpn",
                                        "ipsec-gone corporate/sunnyvale-vpn", "ipsec-gone sunnyvale/corp-vpn"]
    assert not any("renegotiated" in a for a in intent["allow"])
    assert (out / "lab" / "corporate.junos").stat().st_mode & 0o777 == 0o600


def test_cli_bad_name_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "rm"
    assert main(["-t", str(THREE_SITE), "spoke", "remove", "nosuch", "--out", str(out)]) != 0
    assert "nosuch is not a spoke" in capsys.readouterr().err
    assert not out.exists()


def _sunnyvale(lab_copy):
    return lab_copy.parents[1] / "lab" / "sunnyvale.screenos"


def test_a_screenos_policy_for_the_removed_lan_only_goes_whole_and_one_still_needed_stays(lab_copy):
    path = _sunnyvale(lab_copy)
    path.write_text(path.read_text() + 'set policy id 9 from "Trust" to "VPN" "sunnyvale-net" "westford-net" "ANY" permit\n')
    commands = remove_spoke(load_lab(lab_copy), "westford").commands["sunnyvale"]
    assert "unset policy id 9" in commands  # it allowed nothing but traffic to Westford's LAN
    assert "unset policy id 2" not in commands and 'unset dst-address "westford-net"' in commands  # corp-net stays


def test_a_screenos_policy_whose_own_line_names_the_lan_beside_others_is_left_to_the_engineer(lab_copy):
    from .test_validate import edit

    path = _sunnyvale(lab_copy)
    edit(path, 'set policy id 2 from "Trust" to "VPN" "sunnyvale-net" "corp-net" "ANY" permit',
         'set policy id 2 from "Trust" to "VPN" "sunnyvale-net" "westford-net" "ANY" permit')
    line = edit(path, 'set dst-address "westford-net"', 'set dst-address "corp-net"')
    with pytest.raises(ConfigError, match="policy id 2's first line names westford-net") as e:
        remove_spoke(load_lab(lab_copy), "westford")
    assert "sunnyvale.screenos:" in str(e.value) and line > 1
