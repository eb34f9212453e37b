"""Validation: each broken reference or impossible setting is an error naming file and line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model.lab import load_lab

from ..conftest import FIXTURES, THREE_SITE


def edit(path: Path, old: str, new: str) -> int:
    """Replace one line's text in a config; returns the 1-based line number changed."""
    lines = path.read_text().splitlines(keepends=True)
    idx = next(i for i, ln in enumerate(lines) if old in ln)
    lines[idx] = lines[idx].replace(old, new)
    path.write_text("".join(lines))
    return idx + 1


def expect_error(topology: Path, file: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_lab(topology)
    text = str(e.value)
    assert re.search(rf"{re.escape(file)}:{line}: .*{re.escape(message)}", text), text


def test_the_lab_as_shipped_is_valid():
    lab = load_lab(THREE_SITE)
    assert set(lab.sites) | set(lab.hosts) == set(lab.topology.nodes)
    assert [s.name for s in lab.sites.values() if s.is_hub] == ["corporate"]
    assert lab.warnings == []


def test_the_notes_westford_default_route_is_rejected(lab_copy):
    """The note's Westford sends 0/0 to 1.1.1.1, which is not on its 3.3.3.0/30 link."""
    note = FIXTURES / "note" / "westford.junos"
    (lab_copy.parent.parent / "lab" / "westford.junos").write_text(note.read_text())
    line = next(i for i, ln in enumerate(note.read_text().splitlines(), 1) if "route 0.0.0.0/0" in ln)
    expect_error(lab_copy, "westford.junos", line, "next hop 1.1.1.1 is not on a connected subnet")


@pytest.mark.parametrize("file,old,new,message", [
    ("corporate.junos", "next-hop-tunnel 10.11.11.11 ipsec-vpn sunnyvale-vpn", "next-hop-tunnel 10.11.11.11 ipsec-vpn nowhere-vpn",
     "ipsec-vpn 'nowhere-vpn' is not defined"),
    ("corporate.junos", "next-hop-tunnel 10.11.11.11", "next-hop-tunnel 10.99.0.1", "outside st0.0's subnet"),
    ("corporate.junos", "gateway westford-gate;", "gateway westford-gte;", "ike gateway 'westford-gte' is not defined"),
    ("corporate.junos", "ipsec-policy vpn-policy1;", "ipsec-policy vpn-polcy1;", "ipsec-policy 'vpn-polcy1' is not defined"),
    ("westford.junos", "bind-interface st0.0;", "bind-interface st0.1;", "bind-interface st0.1 is not a configured tunnel unit"),
    ("corporate.junos", "destination-address [ sunnyvale-net westford-net ];", "destination-address [ sunnyvale-net westfrd-net ];",
     "destination-address 'westfrd-net' is not in zone vpn's address book"),
    ("corporate.junos", "ike-policy ike-policy1;", "ike-policy ike-policy9;", "ike-policy 'ike-policy9' is not defined"),
    ("corporate.junos", "            multipoint;", "", "binds 2 VPNs (sunnyvale-vpn, westford-vpn) but is not multipoint"),
    ("westford.junos", "address 192.168.178.1/24;", "address 10.10.10.1/24;", "address 10.10.10.1 is claimed by"),
    ("sunnyvale.screenos", "set vpn \"corp-vpn\" bind interface tunnel.1", "set vpn \"corp-vpn\" bind interface tunnel.2",
     "bind-interface tunnel.2 is not a configured tunnel unit"),
])
def test_broken_configs_name_file_and_line(lab_copy, file, old, new, message):
    line = edit(lab_copy.parent.parent / "lab" / file, old, new)
    with pytest.raises(ConfigError) as e:
        load_lab(lab_copy)
    assert message in str(e.value)
    # The message points at the file it is about (the line is the statement's own, not always the edited one).
    assert re.search(rf"{re.escape(file)}:\d+: .*{re.escape(message)}", str(e.value)), str(e.value)
    assert line > 0


def test_an_unknown_next_hop_tunnel_vpn_points_at_its_line(lab_copy):
    line = edit(lab_copy.parent.parent / "lab" / "corporate.junos", "ipsec-vpn sunnyvale-vpn", "ipsec-vpn nowhere-vpn")
    expect_error(lab_copy, "corporate.junos", line, "ipsec-vpn 'nowhere-vpn' is not defined")


def test_every_problem_is_reported_at_once(lab_copy):
    labdir = lab_copy.parent.parent / "lab"
    edit(labdir / "corporate.junos", "gateway westford-gate;", "gateway westford-gte;")
    edit(labdir / "westford.junos", "route 0.0.0.0/0 next-hop 3.3.3.1;", "route 0.0.0.0/0 next-hop 1.1.1.1;")
    with pytest.raises(ConfigError) as e:
        load_lab(lab_copy)
    assert len(e.value.problems) == 2


def test_a_stand_in_output_layout_label_must_be_one_the_cli_has(lab_copy):
    import yaml

    doc = yaml.safe_load(lab_copy.read_text())
    doc["topology"]["nodes"]["corporate"]["labels"]["nhtb-lab.junos-output"] = "1999"
    lab_copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError, match=r"nhtb-lab.junos-output is '1999': one of current, 2009"):
        load_lab(lab_copy)
