"""Runtime faults, as data: where a cut or a lossy line is made (the far end of a site's Internet
link, as the topology file cables it), which site a fault is made on, and refusals before the
lab is touched."""
from __future__ import annotations

import re

import pytest
import yaml

from harness.errors import LabError
from harness.model.lab import load_lab
from harness.runtime.injected import RUNTIME_FAULTS, netem_argv, target, upstream

from ..conftest import THREE_SITE


@pytest.fixture(scope="module")
def lab():
    return load_lab(THREE_SITE)


def cabled() -> set[frozenset[str]]:
    doc = yaml.safe_load(THREE_SITE.read_text())
    return {frozenset(link["endpoints"]) for link in doc["topology"]["links"]}


@pytest.mark.parametrize("site", ["corporate", "westford", "sunnyvale"])
def test_a_sites_internet_link_is_cut_at_the_internet_router(lab, site):
    up = upstream(lab, site)
    assert up.node == "internet"
    assert any(f"{up.node}:{up.iface}" in pair and any(e.startswith(f"{site}:") for e in pair) for pair in cabled())


def test_the_fault_goes_where_an_operator_expects(lab):
    assert target(lab, "link-cut", None) == "westford"  # the first spoke when none is named
    assert target(lab, "kill-charon", "sunnyvale") == "sunnyvale"
    assert target(lab, "kill-binder", None) == "corporate"
    assert target(lab, "kill-mgmtd", None) is None


@pytest.mark.parametrize("fault,node,says", [
    ("unplug", None, "no runtime fault 'unplug'"),
    ("kill-binder", "westford", "only the hub runs a binder (corporate)"),
    ("link-cut", "boston", "has no site 'boston'"),
    ("link-cut", "corp-pc", "has no site 'corp-pc'"),
])
def test_a_fault_that_cannot_be_made_is_refused(lab, fault, node, says):
    with pytest.raises(LabError, match=re.escape(says)):
        target(lab, fault, node)


def test_netem_takes_loss_and_delay_as_tc_does():
    assert netem_argv("eth2", 10, 100) == ["tc", "qdisc", "replace", "dev", "eth2", "root", "netem", "loss", "10%",
                                          "delay", "100ms"]
    with pytest.raises(LabError, match="loss must be 0-100"):
        netem_argv("eth2", 120, 100)
    assert set(RUNTIME_FAULTS) >= {"link-cut", "netem", "kill-charon", "kill-binder", "kill-mgmtd"}
