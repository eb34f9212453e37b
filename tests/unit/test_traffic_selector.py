"""`traffic-selector` on a VPN: the stand-in does not emulate it (the ledger names every such
statement by file and line), and the pre-flight says where Junos does not support it, as
Juniper's "Traffic Selectors in Route-Based VPNs" lists: a point-to-multipoint st0, VPN
monitoring, and a remote-ip of 0.0.0.0/0 on a site-to-site VPN."""
from __future__ import annotations

from harness.model.lab import load_lab
from harness.model.ledger import not_emulated
from harness.model.preflight import preflight

from .test_validate import edit, expect_error


def config(lab_copy, name):
    return lab_copy.parents[1] / "lab" / name


def ts_findings(lab):
    return [f for f in preflight(lab) if "traffic-selector" in f.message]


def test_a_traffic_selector_on_the_hubs_multipoint_st0_is_a_finding_and_not_emulated(lab_copy):
    line = edit(config(lab_copy, "corporate.junos"), "vpn westford-vpn {",
                "vpn westford-vpn { traffic-selector ts1 { local-ip 10.10.10.0/24; remote-ip 192.168.178.0/24; }")
    lab = load_lab(lab_copy)
    [f] = ts_findings(lab)
    assert f.vpn == "corporate/westford-vpn" and "point-to-multipoint" in f.message and "st0.0" in f.message
    assert str(f.sources[0]).endswith(f"corporate.junos:{line}") and not f.blocks_sa
    uncovered = [u for u in not_emulated(lab) if "traffic-selector" in u]
    assert len(uncovered) == 2 and all(f"corporate.junos:{line}: " in u for u in uncovered), uncovered


def test_a_spokes_traffic_selector_with_vpn_monitor_or_a_default_remote_is_a_finding(lab_copy):
    path = config(lab_copy, "westford.junos")
    line = edit(path, "vpn corp-vpn {", "vpn corp-vpn { vpn-monitor; traffic-selector ts1 { local-ip 192.168.178.0/24; "
                "remote-ip 0.0.0.0/0; }")
    messages = sorted(f.message for f in ts_findings(load_lab(lab_copy)))
    assert len(messages) == 2 and "vpn-monitor" in messages[1] and "remote-ip of 0.0.0.0/0" in messages[0], messages
    assert all(str(f.sources[0]).endswith(f"westford.junos:{line}") for f in ts_findings(load_lab(lab_copy)))


def test_a_spokes_traffic_selector_on_its_point_to_point_st0_is_no_finding_but_still_not_emulated(lab_copy):
    line = edit(config(lab_copy, "westford.junos"), "vpn corp-vpn {",
                "vpn corp-vpn { traffic-selector ts1 { local-ip 192.168.178.0/24; remote-ip 10.10.10.0/24; }")
    lab = load_lab(lab_copy)
    assert ts_findings(lab) == []
    [vpn] = lab.sites["westford"].vpns.values()
    assert [(t.name, str(t.local), str(t.remote)) for t in vpn.traffic_selectors] == \
           [("ts1", "192.168.178.0/24", "10.10.10.0/24")]
    assert any(f"westford.junos:{line}: " in u and "traffic-selector ts1 remote-ip" in u for u in not_emulated(lab))


def test_a_traffic_selector_that_is_not_a_prefix_names_file_and_line(lab_copy):
    line = edit(config(lab_copy, "westford.junos"), "vpn corp-vpn {",
                "vpn corp-vpn { traffic-selector ts1 { local-ip 192.168.178.0/33; remote-ip 10.10.10.0/24; }")
    expect_error(lab_copy, "westford.junos", line, "192.168.178.0/33")
