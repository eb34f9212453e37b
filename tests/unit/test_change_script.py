"""`nhtb-lab change SCRIPT`: the commands an engineer would paste, per device, become a change
folder to rehearse. The script format is the one `spoke add` writes (change.set)."""
from __future__ import annotations

import yaml

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.model.change import change_script, read_change_script
from harness.model.lab import load_lab
from harness.model.spoke import add_spoke

from ..conftest import BOSTON, REPO, THREE_SITE

EXAMPLE = REPO / "examples" / "changes" / "westford-key-rotation.set"


def test_what_spoke_add_writes_reads_back_as_the_same_commands(tmp_path):
    lab = load_lab(THREE_SITE)
    change = add_spoke(lab, BOSTON)
    script = tmp_path / "change.set"
    script.write_text(change_script(change))
    title, commands = read_change_script(script, lab.nodes)
    assert title == change.title and commands == change.commands


@pytest.mark.parametrize("text, line, message", [
    ("# on nowhere:\nset system host-name x\n", 1, "no node 'nowhere'"),
    ("# a title\nset system host-name x\n", 2, "before any `# on NODE:`"),
    ("# on corporate:\n\n", 1, "no commands"),
])
def test_a_script_that_says_no_device_is_refused_by_line(tmp_path, text, line, message):
    script = tmp_path / "c.set"
    script.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        read_change_script(script, load_lab(THREE_SITE).nodes)
    assert f"{script}:{line}" in str(e.value)


def test_the_example_key_rotation_becomes_a_folder_whose_intent_covers_the_hand_written_one(tmp_path, capsys):
    out = tmp_path / "kr"
    assert main(["-t", str(THREE_SITE), "change", str(EXAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rotated-key-2026" not in printed and "pre-shared-key ascii-text <redacted>" in printed
    for secret in (out / "change.set", out / "lab" / "corporate.junos", out / "lab" / "westford.junos"):
        assert secret.stat().st_mode & 0o777 == 0o600, secret
    derived = yaml.safe_load((out / "intent.yml").read_text())
    by_hand = yaml.safe_load(EXAMPLE.with_suffix(".intent.yml").read_text())
    # The configs imply what the engineer declared: Westford's VPN may renegotiate, Sunnyvale's not.
    assert set(by_hand["expect"]) | set(by_hand["allow"]) <= set(derived["allow"])
    assert not any("sunnyvale" in p for p in derived["allow"])


def test_bad_input_leaves_nothing(tmp_path, capsys):
    script = tmp_path / "c.set"
    script.write_text("# on corporate:\nset security ipsec vpn westford-vpn ike gateway no-such-gate\n")
    out = tmp_path / "out"
    assert main(["-t", str(THREE_SITE), "change", str(script), "--out", str(out)]) == 1
    assert "no-such-gate" in capsys.readouterr().err
    assert not out.exists()
