"""lab/vsrx/: the vSRX startup-configs in current Junos syntax describe the same sites as the note's
configs: the same VPNs, bindings, zones, routes and policies, and the same source NAT (a rule-set
where the note uses policy NAT)."""
from __future__ import annotations

import pytest

from harness.model.lab import load_lab

from ..conftest import TOPOLOGIES, strip_sources

NOTE = load_lab(TOPOLOGIES / "three-site.clab.yml")
VSRX = load_lab(TOPOLOGIES / "three-site-vsrx.clab.yml")


def nat(site) -> list[tuple]:
    """What source NAT does, not how it is written."""
    return [(n.from_zone, n.to_zone, n.sources, n.translate) for n in site.source_nat()]


def without_nat(site) -> dict:
    doc = strip_sources(site)
    for pol in doc["policies"]:
        pol.pop("source_nat")
    doc.pop("nat_rules")
    return doc


@pytest.mark.parametrize("node", [n for n in VSRX.sites if VSRX.kind(n) == "juniper_vsrx"])
def test_a_vsrx_config_is_the_notes_site(node):
    assert without_nat(VSRX.sites[node]) == without_nat(NOTE.sites[node])
    assert nat(VSRX.sites[node]) == nat(NOTE.sites[node]) != []
    assert VSRX.sites[node].nat_rules and not any(p.source_nat for p in VSRX.sites[node].policies)


def test_a_nat_rule_set_is_rendered_as_the_policy_nat_it_replaces():
    from harness.render.nftables import ruleset

    def masquerades(lab, node):
        return [ln.split(" comment ")[0].strip() for ln in ruleset(lab.sites[node]).splitlines() if "masquerade" in ln]

    for node in ("corporate", "westford"):
        assert masquerades(VSRX, node) == masquerades(NOTE, node) != []
