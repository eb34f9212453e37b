"""`nhtb-lab soak`'s pure parts: durations as a user types them, and its verdict: nothing lost
means every ping answered and every TCP connection made and held, and a pair not measured is
never taken for one that lost nothing."""
from __future__ import annotations

import pytest

from harness.cli import main
from harness.errors import LabError
from harness.verify.soak import SoakReport, VpnRekeys, parse_duration


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("10m", 600), ("1h", 3600), ("45", 45), ("1.5m", 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10 minutes", "0s", "-5m", "m"])
def test_a_duration_that_is_not_one_is_refused(text):
    with pytest.raises(LabError, match="is not a time"):
        parse_duration(text)


def report(pings, tcp) -> SoakReport:
    return SoakReport("lab", 60.0, 120, 20, [VpnRekeys("a <-> b", ipsec=6, ike=1)], pings, tcp, [], {})


HELD = {"connected": True, "broken": False, "exchanges": 290, "max_gap": 0.4, "stalls": 0}


def test_nothing_lost_is_ok_and_says_so():
    r = report({"pc1 -> pc2": (0, 300), "pc2 -> pc1": (0, 300)}, {"pc1 -> pc2": HELD})
    assert r.ok
    assert r.summary() == "soak: 6 IPsec rekeys, 1 IKE rekeys, 0 of 600 pings lost"


def test_a_lost_ping_a_broken_connection_or_an_unmeasured_pair_fails():
    assert not report({"pc1 -> pc2": (2, 300)}, {"pc1 -> pc2": HELD}).ok
    assert not report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD | {"broken": True}}).ok
    unmeasured = report({"pc1 -> pc2": (-1, 0)}, {"pc1 -> pc2": HELD})
    assert not unmeasured.ok and unmeasured.unmeasured == ["pc1 -> pc2"]
    assert not report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": {"connected": False, "error": "refused"}}).ok


def test_lifetimes_under_ten_seconds_are_refused_before_anything_runs(capsys):
    assert main(["soak", "--ipsec-lifetime", "5", "--name", "no-such-lab"]) == 1
    assert "--ipsec-lifetime must be at least 10 seconds" in capsys.readouterr().err


def test_a_soak_in_which_a_vpn_never_rekeyed_tested_nothing_of_it():
    r = report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD})
    r.rekeys.append(VpnRekeys("westford/corp-vpn <-> corporate/westford-vpn", ipsec=0, ike=0))
    assert not r.ok and r.not_rekeyed == ["westford/corp-vpn <-> corporate/westford-vpn"]
    r.not_soaked = ["westford"]  # a device end: its lifetimes are its own, its rekeys not counted
    assert r.ok


def test_the_last_line_names_broken_tcp_connections():
    r = report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD | {"broken": True}, "pc1 -> pc3": HELD})
    assert r.summary().endswith("0 of 300 pings lost, 1 of 2 TCP connections broken")
