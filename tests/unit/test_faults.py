"""Faults as data (lab/faults.yml): each applies to a copy of the lab, changes what it says, and the
pre-flight predicts the ones it can see before anything runs."""
from __future__ import annotations

import pytest

from harness.model.change import as_set_commands
from harness.model.faults import apply_fault, load_faults
from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.parse.junos import load_junos, parse_junos

from ..conftest import LAB, THREE_SITE, strip_sources

FAULTS = load_faults(LAB / "faults.yml")

# What the pre-flight says about each fault (None: only the running lab shows it).
PREDICTED = {
    "phase1-proposal-mismatch": "no common phase-1 proposal",
    "psk-mismatch": "pre-shared keys differ",
    "peer-not-recognized": "belongs to no site",
    "phase2-proposal-mismatch": "no common phase-2 proposal",
    "proxy-id-mismatch": "proxy IDs do not match",
    "wrong-external-interface": "not the gateway's external-interface",
    "missing-bind-interface": "no bind-interface",
    "missing-static-nhtb": "sends no next-hop tunnel information",
    "missing-intra-zone-policy": None,
    "missing-tcp-mss": None,
}


def test_the_notes_ten_faults_are_all_there():
    assert set(FAULTS) == set(PREDICTED)


def test_junos_configs_round_trip_through_set_commands():
    for name in ("corporate", "westford"):
        original = load_junos(LAB / f"{name}.junos")
        again = parse_junos(as_set_commands(LAB / f"{name}.junos"), "again")
        assert [s.words for s in again.statements] == [s.words for s in original.statements]


@pytest.mark.parametrize("name", sorted(PREDICTED))
def test_a_fault_applies_and_is_predicted_where_it_can_be(name, tmp_path):
    fault = FAULTS[name]
    healthy = load_lab(THREE_SITE)
    broken = load_lab(apply_fault(THREE_SITE, fault, tmp_path))
    for node in fault.edits:  # the edit took effect on each node it names...
        assert strip_sources(broken.sites[node]) != strip_sources(healthy.sites[node]), node
    for node in set(healthy.sites) - set(fault.edits):  # ...and nowhere else
        assert strip_sources(broken.sites[node]) == strip_sources(healthy.sites[node]), node
    found = [str(f) for f in preflight(broken)]
    if PREDICTED[name] is None:
        assert found == []
    else:
        assert any(PREDICTED[name] in f for f in found), found


def test_a_fault_naming_an_unknown_node_is_refused(tmp_path):
    from harness.errors import ConfigError
    from harness.model.faults import Fault

    with pytest.raises(ConfigError, match="no device node 'boston'"):
        apply_fault(THREE_SITE, Fault("x", "phase 1", "", {"boston": ["set system host-name b"]}), tmp_path)
