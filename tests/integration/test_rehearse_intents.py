"""Rehearsals of the changes a team makes, on the live lab, each judged against an intent as the
user runs it (`nhtb-lab rehearse --before DIR --after DIR [--intent FILE]`, exit 0 only for INTENT
MATCHED): a key rotated on both ends, a key rotated on one end, a spoke decommissioned, a route
nobody declared, and a statement the stand-in does not emulate."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from harness.cli import main
from harness.model.change import edited_config
from harness.runtime import backend

from ..conftest import LAB, REPO, THREE_SITE, TOPOLOGIES
from .conftest import MODE, unique_name

WATCH = "6"  # seconds of pings and held TCP around the change
EXAMPLE = REPO / "examples" / "changes" / "westford-key-rotation.set"


def repo_copy(where: Path) -> Path:
    """A folder laid out like the repository: topologies/ and lab/."""
    shutil.copytree(LAB, where / "lab")
    shutil.copytree(TOPOLOGIES, where / "topologies")
    return where


def commit(folder: Path, node: str, *commands: str) -> None:
    """`commands` typed on `node`, as the config the folder's lab boots with."""
    path = folder / "lab" / f"{node}.junos"
    path.write_text(edited_config(path, "junos", "the change", list(commands)))


def rehearse(tmp_path: Path, capsys, *args: str, intent: dict | None = None) -> tuple[int, str, dict]:
    """The CLI's exit code, what it printed, and the JSON document written beside the report."""
    name = unique_name("intent")
    extra = []
    if intent is not None:
        (tmp_path / "intent.yml").write_text(yaml.safe_dump(intent))
        extra = ["--intent", str(tmp_path / "intent.yml")]
    report = tmp_path / "report.html"
    try:
        rc = main(["-t", str(THREE_SITE), "rehearse", *args, *extra, "--name", name, "--watch", WATCH,
                   "--runtime", MODE, "--report", str(report)])
    finally:
        if name in [state["name"] for _, state in backend.all_labs()]:
            backend.down(name)  # the CLI failed before removing it: clean up, and say so below
            raise AssertionError(f"rehearse left its lab {name} running")
    text = capsys.readouterr()
    printed = text.out + text.err
    assert report.with_suffix(".json").exists(), f"exit {rc}, no verdict:\n{printed}"
    return rc, printed, json.loads(report.with_suffix(".json").read_text())


def before_after(tmp_path: Path) -> tuple[Path, Path]:
    return repo_copy(tmp_path / "before"), repo_copy(tmp_path / "after")


WESTFORD_KEY = "set security ike policy {p} pre-shared-key ascii-text rotated-key-2026"


def test_a_key_rotated_on_both_ends_renegotiates_that_vpn_only(tmp_path, capsys):
    """The example in examples/changes, as the README tells a user to run it."""
    folder = tmp_path / "key-rotation"
    assert main(["-t", str(THREE_SITE), "change", str(EXAMPLE.with_suffix(".set")), "--out", str(folder)]) == 0
    assert "rotated-key-2026" not in capsys.readouterr().out  # the commands are printed, the key is not
    intent = yaml.safe_load(EXAMPLE.with_suffix(".intent.yml").read_text())
    rc, text, doc = rehearse(tmp_path, capsys, str(folder), "--intent", str(EXAMPLE.with_suffix(".intent.yml")))
    assert (rc, doc["verdict"]) == (0, "INTENT MATCHED"), text
    assert sorted(d for d in doc["judgement"]["differences"] if "renegotiated" in d) == sorted(intent["expect"])
    assert "rotated-key-2026" not in text


def test_a_key_rotated_on_one_end_is_broken_and_names_the_vpn_and_both_sites(tmp_path, capsys):
    before, after = before_after(tmp_path)
    commit(after, "westford", WESTFORD_KEY.format(p="ike-policy1"))
    rc, text, doc = rehearse(tmp_path, capsys, "--before", str(before), "--after", str(after))
    assert (rc, doc["verdict"]) == (1, "BROKEN"), text
    lost = [d for d in doc["judgement"]["unexpected"] if d.startswith(("ike-gone", "ipsec-gone"))]
    assert "ike-gone corporate/westford-vpn" in lost and "ike-gone westford/corp-vpn" in lost, lost
    assert "pre-shared keys differ" in text  # the pre-flight says why, naming both configs
    assert "corporate.junos" in text and "westford.junos" in text
    assert not any("sunnyvale" in d for d in lost)


def test_spoke_remove_sunnyvale_matches_its_intent_and_nothing_else_renegotiates(tmp_path, capsys):
    folder = tmp_path / "remove-sunnyvale"
    assert main(["-t", str(THREE_SITE), "spoke", "remove", "sunnyvale", "--out", str(folder)]) == 0
    capsys.readouterr()
    rc, text, doc = rehearse(tmp_path, capsys, str(folder))
    assert (rc, doc["verdict"]) == (0, "INTENT MATCHED"), text
    differences = doc["judgement"]["differences"]
    assert "nhtb-removed corporate 10.11.11.11 st0.0 sunnyvale-vpn Static" in differences
    assert not [d for d in differences if "renegotiated" in d]
    assert not [d for d in differences if d.startswith(("pings-lost", "tcp-broken"))]
    assert doc["applied"]["removed"] == ["sunnyvale", "sunnyvale-pc"]


def test_a_route_the_intent_does_not_declare_is_an_undeclared_change(tmp_path, capsys):
    before, after = before_after(tmp_path)
    commit(after, "corporate", "set routing-options static route 172.31.1.0/24 next-hop 10.11.11.12",
           "set routing-options static route 172.31.2.0/24 next-hop 10.11.11.12")
    intent = {"expect": ["route-changed corporate 172.31.1.0/24"]}
    rc, text, doc = rehearse(tmp_path, capsys, "--before", str(before), "--after", str(after), intent=intent)
    assert (rc, doc["verdict"]) == (1, "UNDECLARED CHANGES"), text
    assert doc["judgement"]["unexpected"] == ["route-changed corporate 172.31.2.0/24"]
    assert doc["judgement"]["missing"] == []


def test_a_change_to_a_statement_the_stand_in_does_not_emulate_is_inconclusive(tmp_path, capsys):
    before, after = before_after(tmp_path)
    # The DF bit of the tunnel's outer header is not emulated (the kernel's xfrm decides it), so
    # the rehearsal cannot judge a change to it.
    statement = "security ipsec vpn westford-vpn df-bit copy"
    commit(after, "corporate", f"set {statement}")
    rc, text, doc = rehearse(tmp_path, capsys, "--before", str(before), "--after", str(after), intent={})
    assert (rc, doc["verdict"]) == (1, "INCONCLUSIVE"), text
    touched = doc["touched"]
    assert any("corporate.junos:" in t and "df-bit" in t for t in touched), touched
    assert "df-bit" in text


def test_a_lab_that_fails_before_the_change_is_inconclusive_and_says_what_failed(tmp_path, capsys):
    before, after = before_after(tmp_path)
    commit(before, "westford", WESTFORD_KEY.format(p="ike-policy1"))  # the keys differ before the change
    rc, text, doc = rehearse(tmp_path, capsys, "--before", str(before), "--after", str(after))
    assert (rc, doc["verdict"]) == (1, "INCONCLUSIVE"), text
    assert doc["before_failed"] and any("westford" in f for f in doc["before_failed"]), doc["before_failed"]
    assert "nothing can be judged" in text
