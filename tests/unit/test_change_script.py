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
    title, commands, _ = read_change_script(script, {n: s.os for n, s in lab.sites.items()})
    assert title == change.title and commands == change.commands


@pytest.mark.parametrize("text, line, message", [
    ("# on nowhere:\nset system host-name x\n", 1, "no device .nowhere."),
    ("# a title\nset system host-name x\n", 2, "before any `# on NODE:`"),
    ("# on corporate:\n\n", 1, "no commands"),
])
def test_a_script_that_says_no_device_is_refused_by_line(tmp_path, text, line, message):
    script = tmp_path / "c.set"
    script.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        read_change_script(script, {n: s.os for n, s in load_lab(THREE_SITE).sites.items()})
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


def test_an_error_at_an_appended_command_names_the_scripts_line(tmp_path, capsys):
    script = tmp_path / "c.set"
    script.write_text("# mss\n# on corporate:\nset security flow tcp-mss ipsec-vpn mss 99999\n")
    assert main(["-t", str(THREE_SITE), "change", str(script), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{script}:3: " in err and "99999" in err, err


def test_bad_input_leaves_nothing(tmp_path, capsys):
    script = tmp_path / "c.set"
    script.write_text("# on corporate:\nset security ipsec vpn westford-vpn ike gateway no-such-gate\n")
    out = tmp_path / "out"
    assert main(["-t", str(THREE_SITE), "change", str(script), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    # Said of the changed config's statement, not of a line in a folder removed with the failure.
    assert "corporate's config with the change, at `set security ipsec vpn westford-vpn" in err, err
    assert "ike gateway 'no-such-gate' is not defined" in err and str(tmp_path / "out") not in err
    assert not out.exists()


@pytest.mark.parametrize("written", ["'my secret key'", '"my secret key"', "mysecretkey"])
def test_a_key_is_never_printed_however_it_is_quoted(tmp_path, capsys, written):
    script = tmp_path / "k.set"
    script.write_text(f"# on westford:\nset security ike policy ike-policy1 pre-shared-key ascii-text {written}\n")
    main(["-t", str(THREE_SITE), "change", str(script), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr()
    for word in ("secret", "mysecretkey"):
        assert word not in printed.out + printed.err, printed


def test_a_statement_no_device_would_take_is_refused_at_the_scripts_line(tmp_path, capsys):
    script = tmp_path / "c.set"
    script.write_text("# a typo\n\n# on corporate:\nset security ike gateway westford-gate address 3.3.3.2\n"
                      "set securityy ike policy x mode main\n# on sunnyvale:\nset frobnicate 1\n")
    out = tmp_path / "out"
    assert main(["-t", str(THREE_SITE), "change", str(script), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{script}:5: securityy ike policy x mode main" in err and f"{script}:7: frobnicate 1" in err, err
    assert f"{script}:4" not in err and not out.exists()


def test_the_example_reads_as_its_sections_say():
    sites = {n: s.os for n, s in load_lab(THREE_SITE).sites.items()}
    title, commands, _ = read_change_script(EXAMPLE, sites)
    assert title == "Westford's pre-shared key rotated on both ends"
    assert sorted(commands) == ["corporate", "westford"]
    assert commands["corporate"][-1] == "set security ike gateway westford-gate ike-policy westford-ike"
    assert commands["westford"] == ["set security ike policy ike-policy1 pre-shared-key ascii-text rotated-key-2026"]
