"""The blast radius of a rehearsal: what changed between the snapshots, and what was lost."""
from __future__ import annotations

from harness.verify.rehearse import Snapshot, compare

BEFORE = Snapshot(ike={"corporate": {"westford-vpn": "a/b"}}, ipsec={"corporate": {"westford-vpn": "c1/c2"}},
                  nhtb={"corporate": ["10.11.11.12 st0.0 westford-vpn Auto"]},
                  routes={"corporate": {"192.168.178.0/24": "192.168.178.0/24 via 10.11.11.12 on st0.0, active"}},
                  reach={"corp-pc -> westford-pc": True})


def test_an_untouched_lab_has_no_impact():
    imp = compare(BEFORE, BEFORE, {"corp-pc -> westford-pc": (0, 60)})
    assert imp.none and imp.unmeasured == []


def test_every_kind_of_impact_is_seen():
    after = Snapshot(ike={"corporate": {"westford-vpn": "x/y"}}, ipsec={"corporate": {}},
                     nhtb={"corporate": []},
                     routes={"corporate": {"192.168.178.0/24": "192.168.178.0/24 via 10.11.11.12 on st0.0, inactive"}},
                     reach={"corp-pc -> westford-pc": False})
    imp = compare(BEFORE, after, {"corp-pc -> westford-pc": (3, 60)})
    assert len(imp.renegotiated) == 2 and "gone" in imp.renegotiated[1]
    assert any("inactive" in r for r in imp.routes_changed) and any("removed" in r for r in imp.routes_changed)
    assert imp.unreachable == ["corp-pc -> westford-pc"] and not imp.none


def test_pings_not_measured_are_not_zero_loss():
    imp = compare(BEFORE, BEFORE, {"corp-pc -> westford-pc": (-1, 0)})
    assert imp.unmeasured == ["corp-pc -> westford-pc"] and not imp.none
