"""`diff(old, new)`: what applying a changed lab in place must do, removals included. The
expectations are the config edits themselves (the line changed), not the renderers' output."""
from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network

from harness.model.change import write_changed_lab
from harness.model.lab import load_lab
from harness.model.topology import ends
from harness.model.spoke import add_spoke
from harness.render.diff import diff

from ..conftest import BOSTON, THREE_SITE
from .test_validate import edit


def corporate(topology):
    return topology.parent.parent / "lab" / "corporate.junos"


def test_the_same_lab_changes_nothing():
    assert diff(load_lab(THREE_SITE), load_lab(THREE_SITE)).empty()


def test_a_statement_moved_to_another_line_changes_nothing(lab_copy):
    path = corporate(lab_copy)
    path.write_text("/* a comment moves every line */\n\n" + path.read_text())
    assert diff(load_lab(THREE_SITE), load_lab(lab_copy)).empty()


def test_removing_a_route(lab_copy):
    edit(corporate(lab_copy), "route 192.168.168.0/24 next-hop 10.11.11.11;", "")
    d = diff(load_lab(THREE_SITE), load_lab(lab_copy))
    assert list(d.changed) == ["corporate"] and not d.added and not d.removed
    change = d.changed["corporate"]
    assert [str(r.prefix) for r in change.routes_removed] == ["192.168.168.0/24"]
    assert not change.routes_set and not change.addresses_removed and not change.connections_unloaded


def test_adding_then_removing_an_address(lab_copy):
    edit(corporate(lab_copy), "address 10.10.10.1/24;", "address 10.10.10.1/24; address 10.10.30.1/24;")
    with_extra, original = load_lab(lab_copy), load_lab(THREE_SITE)
    added = diff(original, with_extra).changed["corporate"]
    assert [(i, a) for i, a in added.addresses_added] == [("eth1", IPv4Interface("10.10.30.1/24"))]
    removed = diff(with_extra, original).changed["corporate"]
    assert [(i, a) for i, a in removed.addresses_removed] == [("eth1", IPv4Interface("10.10.30.1/24"))]
    assert not removed.addresses_added and not removed.routes_set


def test_a_new_route_through_another_next_hop_is_set_again(lab_copy):
    edit(corporate(lab_copy), "route 192.168.168.0/24 next-hop 10.11.11.11;", "route 192.168.168.0/24 next-hop 10.11.11.12;")
    change = diff(load_lab(THREE_SITE), load_lab(lab_copy)).changed["corporate"]
    assert [(str(r.prefix), str(r.gateway)) for r in change.routes_set] == [("192.168.168.0/24", "10.11.11.12")]
    assert not change.routes_removed and not change.ruleset and not change.connections_loaded


def test_a_key_rotation_reloads_one_secret_and_no_route(lab_copy):
    cfg = corporate(lab_copy)
    line = next(ln for ln in cfg.read_text().splitlines() if "pre-shared-key" in ln)
    lineno = edit(cfg, line.strip(), 'pre-shared-key ascii-text "rotated-key-1";')
    changed = diff(load_lab(THREE_SITE), load_lab(lab_copy)).changed
    hub = load_lab(THREE_SITE).sites["corporate"]
    policy = next(name for name, p in hub.ike_policies.items() if p.psk_source.line == lineno)
    using = {f"ike-{v.name}" for v in hub.vpns.values() if hub.gateways[v.gateway].ike_policy == policy}
    assert list(changed) == ["corporate"]
    change = changed["corporate"]
    assert set(change.secrets_loaded) == using and not change.links() and not change.connections_unloaded
    assert "rotated-key-1" not in " ".join(change.summary())


def test_adding_and_removing_a_spoke_and_its_vpn(tmp_path):
    grown = write_changed_lab(THREE_SITE, add_spoke(load_lab(THREE_SITE), BOSTON), tmp_path / "boston")
    base, bigger = load_lab(THREE_SITE), load_lab(grown)
    up = diff(base, bigger)
    assert set(up.added) == {"boston", "boston-pc"} and not up.removed
    spoke_ends = {e.label for e in ends(bigger.sites["boston"])}
    assert up.vpns_added == spoke_ends | {"corporate/boston-vpn"}
    assert "boston-vpn" in up.changed["corporate"].connections_loaded
    internet = up.changed["internet"]  # the router's end of the new link comes up with its address
    assert internet.interfaces_added == ("eth4",) and [i for i, _ in internet.addresses_added] == ["eth4"]
    down = diff(bigger, base)
    assert set(down.removed) == {"boston", "boston-pc"} and not down.added
    assert down.vpns_removed == up.vpns_added
    hub = down.changed["corporate"]
    assert hub.connections_unloaded == ("boston-vpn",) and hub.binding
    assert IPv4Network(BOSTON.lan) in {r.prefix for r in hub.routes_removed}
    assert "internet" not in down.changed  # its interface toward Boston goes with Boston's namespace


def test_a_key_changed_on_one_end_renegotiates_that_vpn_at_both_ends_and_nothing_else(lab_copy):
    westford = lab_copy.parent.parent / "lab" / "westford.junos"
    line = next(ln for ln in westford.read_text().splitlines() if "pre-shared-key" in ln)
    edit(westford, line.strip(), 'pre-shared-key ascii-text "rotated-key-1";')
    d = diff(load_lab(THREE_SITE), load_lab(lab_copy))
    # The note's VPN between the two: its hub end and its spoke end; the Sunnyvale VPN stays.
    assert d.reconfigured == {"corporate/westford-vpn", "westford/corp-vpn"}
    assert not d.vpns_added and not d.vpns_removed


def test_a_new_spoke_renegotiates_nothing(tmp_path):
    d = diff(load_lab(THREE_SITE), load_lab(write_changed_lab(THREE_SITE, add_spoke(load_lab(THREE_SITE), BOSTON),
                                                              tmp_path / "b")))
    assert d.reconfigured == frozenset() and d.vpns_added
