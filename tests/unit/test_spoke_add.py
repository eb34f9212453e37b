"""`spoke add`: a new spoke duplicated from an existing one, and the change on everything else, as
set commands; the result must be a lab the pre-flight finds nothing wrong with."""
from __future__ import annotations

import shutil
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.model.change import change_script, write_changed_lab
from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.model.spoke import add_spoke
from harness.render import strongswan
from harness.render.binding import binding_specs
from harness.render.netplan import lab_plan

from ..conftest import AUSTIN, BOSTON, THREE_SITE



def written(tmp_path, req, topology=THREE_SITE):
    change = add_spoke(load_lab(topology), req)
    return change, write_changed_lab(topology, change, tmp_path / req.name)


def test_a_spoke_like_westford_is_a_lab_with_nothing_to_fix(tmp_path):
    before = load_lab(THREE_SITE)
    change, topo = written(tmp_path, BOSTON)
    lab = load_lab(topo)
    assert preflight(lab) == []
    assert set(lab.sites) == set(before.sites) | {"boston"} and "boston-pc" in lab.hosts
    hub = lab.hub()
    # The hub: one more VPN on the same st0, an Auto binding (a Junos peer), a route via its st0 address.
    spec = binding_specs(lab, hub)[0]
    assert spec["vpns"]["boston-vpn"]["auto_next_hop"] == "10.11.11.13"
    assert not any("next-hop-tunnel" in c for c in change.commands[hub.name])
    assert len(lab_plan(lab)[hub.name].tunnels) == 1
    # Existing VPNs keep their reqids and connections exactly (their SAs need not be touched).
    old_conns, new_conns = strongswan.connections(before.hub()), strongswan.connections(hub)
    assert {k: new_conns[k] for k in old_conns} == old_conns
    # Every site reaches the new LAN; the new spoke reaches every other LAN through the hub.
    for site in lab.sites.values():
        if site.name != "boston":
            assert any(r.prefix == BOSTON.lan for r in site.routes), site.name
    boston = lab.sites["boston"]
    assert {str(r.prefix) for r in boston.routes} >= {str(u.addresses[0].network) for s in before.sites.values()
                                                      for u in s.lan_units()}
    assert str(boston.public_address()) == "4.4.4.2" and boston.hostname == "boston"


def test_a_spoke_like_sunnyvale_gets_a_static_binding(tmp_path):
    change, topo = written(tmp_path, AUSTIN)
    lab = load_lab(topo)
    assert preflight(lab) == []
    assert "set interfaces st0 unit 0 family inet next-hop-tunnel 10.11.11.14 ipsec-vpn austin-vpn" in change.commands["corporate"]
    assert lab.sites["austin"].os == "screenos"
    # ScreenOS spokes get their lines in ScreenOS syntax, multi-address policies included.
    sunny = change.commands["sunnyvale"]
    assert 'set address "VPN" "austin-net" 192.168.198.0 255.255.255.0' in sunny and "exit" in sunny


def test_spokes_can_be_added_one_after_the_other(tmp_path):
    _, first = written(tmp_path, BOSTON)
    _, second = written(tmp_path, AUSTIN, topology=first)
    lab = load_lab(second)
    assert preflight(lab) == [] and {"boston", "austin"} <= set(lab.sites)
    assert any(r.prefix == AUSTIN.lan for r in lab.sites["boston"].routes)


def test_the_change_folder_moves_and_holds_keys_privately(tmp_path):
    _, topo = written(tmp_path, BOSTON)
    moved = tmp_path / "elsewhere"
    shutil.move(str(topo.parent), moved)
    lab = load_lab(moved / topo.name)
    assert "boston" in lab.sites
    for f in (moved / "lab").iterdir():
        assert f.stat().st_mode & 0o777 == 0o600, f


def test_the_change_reads_as_commands_to_paste():
    change = add_spoke(load_lab(THREE_SITE), BOSTON)
    text = change_script(change)
    assert "# on corporate:\nset security ike gateway boston-gate ike-policy ike-policy1" in text
    assert "secretkey" not in text and "$9$" not in text  # no key in what is printed


@pytest.mark.parametrize("changes,message", [
    ({"lan": IPv4Network("192.168.178.0/24")}, "overlaps"),
    ({"public": IPv4Interface("3.3.3.2/30")}, "overlaps"),
    ({"tunnel_ip": IPv4Address("10.99.0.1")}, "tunnel subnet"),
    ({"tunnel_ip": IPv4Address("10.11.11.12")}, "free address"),
    ({"name": "westford"}, "already exists"),
    ({"like": "corporate"}, "not a spoke"),
    ({"like": "sunnyvale", "nhtb": "auto"}, "no next-hop tunnel information"),
])
def test_bad_requests_are_refused(changes, message):
    from dataclasses import replace

    with pytest.raises(ConfigError, match=message):
        add_spoke(load_lab(THREE_SITE), replace(BOSTON, **changes))


def test_cli_spoke_add_writes_the_folder_and_prints_the_commands(tmp_path, capsys):
    out = tmp_path / "boston"
    rc = main(["-t", str(THREE_SITE), "spoke", "add", "--name", "boston", "--public", "4.4.4.2/30",
               "--lan", "192.168.188.0/24", "--tunnel-ip", "10.11.11.13", "--out", str(out)])
    assert rc == 0
    assert "set routing-options static route 192.168.188.0/24 next-hop 10.11.11.13" in capsys.readouterr().out
    assert (out / "change.set").exists() and (out / "change.json").exists()


def test_cli_spoke_add_bad_input_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "bad"
    rc = main(["-t", str(THREE_SITE), "spoke", "add", "--name", "bad", "--public", "4.4.4.2/30",
               "--lan", "192.168.178.0/24", "--tunnel-ip", "10.11.11.13", "--out", str(out)])
    assert rc == 1 and not out.exists()
    assert "overlaps" in capsys.readouterr().err
