"""The verification's checks judge what a node answers: a statistics check fails when the SA it
names does not exist or carried nothing, and the NHTB expectation read from the configs is the
table the note prints."""
from __future__ import annotations

from dataclasses import replace

from harness.junos import nhtb
from harness.junos.records import IpsecStats
from harness.model.lab import load_lab
from harness.model.topology import ends
from harness.verify import checks

from ..conftest import FIXTURES, THREE_SITE
from .test_junos_xml_and_cli import IPSEC

LAB = load_lab(THREE_SITE)


class Answers:
    """A node's answers as records (the checks' input), fixed for the test."""

    node = "westford"

    def __init__(self, sas, stats: IpsecStats | None = None):
        self.sas, self.stats = sas, stats

    def ipsec_sas(self):
        return self.sas

    def ipsec_stats(self, index):
        assert self.stats is not None and index == self.stats.index, f"asked for index {index}"
        return self.stats


def westford_sa():
    (end,) = ends(LAB.sites["westford"])
    return replace(IPSEC, name=end.vpn.name, index=131073)  # a device's own index, not the stand-in's


def test_statistics_fail_when_the_vpn_has_no_sa():
    (r,) = checks.sa_errors(LAB, Answers([]))
    assert not r.ok and r.seen == "no IPsec SA for this VPN"


def test_statistics_fail_when_nothing_was_counted():
    (r,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 0, 0, 0, 0)))
    assert not r.ok and "0 packets encrypted" in r.seen


def test_statistics_fail_on_an_error_counter_and_pass_without():
    (bad,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 920, 6208, 5, 87, replay_errors=2)))
    assert not bad.ok and "replay_errors=2" in bad.seen
    (good,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 920, 6208, 5, 87)))
    assert good.ok and "index 131073" in good.seen


def test_the_expected_bindings_are_the_notes_table():
    note = nhtb.parse_text((FIXTURES / "junos_outputs" / "next_hop_tunnels.txt").read_text())
    assert checks.expected_bindings(LAB, LAB.hub().name) == set(nhtb.rows(note))
    assert checks.expected_bindings(LAB, "westford") == set()
