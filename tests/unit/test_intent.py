"""Judging a change by its intent: every difference between before and after is one line; the
intent's `expect` patterns must each match one, and a difference neither expected nor allowed
fails the rehearsal. Intents derived from a config difference say what that difference implies."""
from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.model.change import write_changed_lab
from harness.model.lab import load_lab
from harness.model.spoke import add_spoke
from harness.render.diff import diff
from harness.verify.intent import INCONCLUSIVE, KINDS, Intent, derived_intent, differences, judge, load_intent
from harness.verify.rehearse import Snapshot

from ..conftest import BOSTON, THREE_SITE
from .test_validate import edit

BEFORE = Snapshot(
    ike={"corporate": {"westford-vpn": "a/b", "sunnyvale-vpn": "c/d"}, "westford": {"corp-vpn": "a/b"}},
    ipsec={"corporate": {"westford-vpn": "1/2", "sunnyvale-vpn": "3/4"}, "westford": {"corp-vpn": "2/1"}},
    nhtb={"corporate": ["10.11.11.12 st0.0 westford-vpn Auto"], "westford": []},
    routes={"corporate": {"192.168.178.0/24": "via 10.11.11.12 on st0.0, active"}},
    reach={"corp-pc -> westford-pc": True, "westford-pc -> corp-pc": True},
    tcp={"corp-pc -> westford-pc": True, "westford-pc -> corp-pc": True})


def after(**changes) -> Snapshot:
    import copy

    snap = copy.deepcopy(BEFORE)
    for k, v in changes.items():
        setattr(snap, k, v)
    return snap


def test_nothing_changed_is_no_difference():
    assert differences(BEFORE, after(), {"corp-pc -> westford-pc": (0, 25)}, {"corp-pc -> westford-pc":
                       {"connected": True, "broken": False, "max_gap": 0.2}}) == []


def test_each_kind_of_difference_is_one_line():
    snap = after(ike={"corporate": {"westford-vpn": "x/y"}, "westford": {"corp-vpn": "a/b"}},
                 nhtb={"corporate": [], "westford": []},
                 tcp={"corp-pc -> westford-pc": False, "westford-pc -> corp-pc": True})
    got = differences(BEFORE, snap, {"corp-pc -> westford-pc": (3, 25), "westford-pc -> corp-pc": (-1, 0)},
                      {"corp-pc -> westford-pc": {"connected": True, "broken": True},
                       "westford-pc -> corp-pc": {"connected": True, "broken": False, "max_gap": 2.5}})
    assert got == ["ike-gone corporate/sunnyvale-vpn", "ike-renegotiated corporate/westford-vpn",
                   "nhtb-removed corporate 10.11.11.12 st0.0 westford-vpn Auto",
                   "reach-lost corp-pc -> westford-pc tcp",
                   "pings-lost corp-pc -> westford-pc", "pings-unmeasured westford-pc -> corp-pc",
                   "tcp-broken corp-pc -> westford-pc"]


def test_a_difference_nobody_declared_fails_and_an_expected_one_must_happen():
    diffs = ["ike-renegotiated corporate/westford-vpn", "pings-lost corp-pc -> westford-pc"]
    j = judge(diffs, Intent(expect=["ike-renegotiated corporate/*"]))
    assert not j.ok and j.unexpected == ["pings-lost corp-pc -> westford-pc"] and j.missing == []
    j = judge(diffs[:1], Intent(expect=["ike-renegotiated corporate/*", "ipsec-renegotiated corporate/*"]))
    assert not j.ok and j.missing == ["ipsec-renegotiated corporate/*"]
    assert judge(diffs, Intent(expect=["ike-renegotiated *"], allow=["pings-lost *"])).ok


def test_an_intent_file_is_read_and_checked(tmp_path):
    f = tmp_path / "intent.yml"
    f.write_text("expect:\n  - ike-renegotiated corporate/*\nallow:\n  - pings-lost *\n")
    assert load_intent(f).as_dict() == {"expect": ["ike-renegotiated corporate/*"], "allow": ["pings-lost *"]}
    f.write_text("expect:\n  - reachability-lost *\n")
    with pytest.raises(ConfigError, match="starts with one of"):
        load_intent(f)
    f.write_text("expect: [\n")
    with pytest.raises(ConfigError, match=f"{f}:"):
        load_intent(f)


def test_a_new_spoke_implies_new_sas_and_allows_nothing_on_the_existing_ones(tmp_path):
    grown = write_changed_lab(THREE_SITE, add_spoke(load_lab(THREE_SITE), BOSTON), tmp_path / "boston")
    old, new = load_lab(THREE_SITE), load_lab(grown)
    intent = derived_intent(old, new, diff(old, new))
    assert "ike-new corporate/boston-vpn" in intent.expect and "ipsec-new corporate/boston-vpn" in intent.expect
    assert judge(["ike-renegotiated corporate/westford-vpn"], intent).unexpected
    assert judge(["reach-gained corp-pc -> boston-pc icmp"], intent).unexpected == []
    assert judge(["reach-lost corp-pc -> westford-pc icmp"], intent).unexpected


def test_a_key_rotation_allows_that_vpn_to_renegotiate_on_both_ends(lab_copy):
    for site in ("corporate", "westford"):
        cfg = lab_copy.parent.parent / "lab" / f"{site}.junos"
        line = next(ln for ln in cfg.read_text().splitlines() if "pre-shared-key" in ln)
        edit(cfg, line.strip(), 'pre-shared-key ascii-text "rotated-key-1";')
    old, new = load_lab(THREE_SITE), load_lab(lab_copy)
    intent = derived_intent(old, new, diff(old, new))
    ok = judge(["ike-renegotiated corporate/westford-vpn", "ike-renegotiated westford/corp-vpn"], intent)
    assert ok.unexpected == [] and intent.expect == []
    assert judge(["route-changed sunnyvale 10.10.10.0/24"], intent).unexpected


def test_the_verdicts():
    from harness.verify.intent import BROKEN, INCONCLUSIVE, MATCHED, UNDECLARED

    intent = Intent(expect=["ike-renegotiated corporate/*"], allow=["ipsec-renegotiated *"])
    assert judge(["ike-renegotiated corporate/westford-vpn"], intent).verdict() == MATCHED
    assert judge(["ike-renegotiated corporate/westford-vpn"], intent).verdict(checks_ok=False) == BROKEN
    lost = judge(["ike-renegotiated corporate/westford-vpn", "reach-lost corp-pc -> westford-pc icmp"], intent)
    assert lost.verdict() == BROKEN
    extra = judge(["ike-renegotiated corporate/westford-vpn", "route-new corporate 10.9.9.0/24"], intent)
    assert extra.verdict() == UNDECLARED
    assert judge([], intent).verdict() == UNDECLARED  # the declared renegotiation did not happen
    assert judge(["ike-renegotiated corporate/westford-vpn"], intent).verdict(
        unverifiable=["lab/corporate.junos:71: dead-peer-detection (not emulated)"]) == INCONCLUSIVE


def test_every_kind_of_difference_has_a_place_in_the_blast_radius():
    from harness.verify.rehearse import BLAST_AREAS
    assert {k.split("-", 1)[0] for k in KINDS} == set(BLAST_AREAS)


def test_a_lab_that_failed_before_the_change_cannot_judge_it():
    from harness.verify.checks import CheckResult
    from harness.verify.intent import BROKEN, INCONCLUSIVE
    from harness.verify.rehearse import Rehearsal

    snap = Snapshot({}, {}, {}, {}, {})
    failed = CheckResult("ping 192.168.178.10", "corp-pc", False, "replies", "0 of 3")
    r = Rehearsal("a change", "lab", [], [], {}, snap, snap, {}, [failed], None, {}, Intent(), judge([], Intent()))
    assert r.verdict == BROKEN  # failing after the change, healthy before: the change broke it
    r.before_failed = [str(failed)]
    assert r.verdict == INCONCLUSIVE


def test_the_blast_radius_groups_every_difference_and_marks_the_undeclared_ones():
    from harness.verify.rehearse import Rehearsal

    snap = Snapshot({}, {}, {}, {}, {})
    diffs = ["ike-renegotiated corporate/westford-vpn", "route-changed corporate 172.31.2.0/24",
             "pings-lost corp-pc -> westford-pc", "pings-unmeasured corp-pc -> sunnyvale-pc"]
    intent = Intent(expect=["ike-renegotiated corporate/*"], allow=["pings-* *"])
    pings = {"corp-pc -> westford-pc": (3, 30), "corp-pc -> sunnyvale-pc": (-1, 0), "a -> b": (0, 30)}
    r = Rehearsal("c", "lab", [], [], {}, snap, snap, pings, [], None, {}, intent, judge(diffs, intent))
    radius = r.blast_radius()
    assert radius["IKE and IPsec SAs"] == [("ike-renegotiated corporate/westford-vpn", True)]
    assert radius["routes"] == [("route-changed corporate 172.31.2.0/24", False)]
    assert radius["NHTB table"] == [] and len(radius["pings lost during the change"]) == 2
    assert r.pings_lost == (3, 60)  # the unmeasured pair is not counted as zero loss...
    assert r.verdict == INCONCLUSIVE  # ...it makes the rehearsal unable to judge
