"""What the commands print where nobody watches a terminal (a CI log, a pipe): one line a row, no
box drawing, no cell wrapped across lines; and with --format json a document with the same facts.
The exit status is the same in every form. `check` runs through the real CLI; `verify` and
`diagnose` need a running lab, so their listings are built here from results made by hand."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from harness.runtime.injected import RUNTIME_FAULTS
from harness.cli import COMMANDS
from harness.cli.output import json_text, plain_lines, print_listing
from harness.cli.verify import (diagnosis_document, diagnosis_listing, verification_document,
                                verification_listing)
from harness.cli.parser import build_parser
from harness.model.faults import load_faults
from harness.model.lab import load_lab
from harness.verify.checks import CheckResult
from harness.verify.diagnose import Diagnosis, Step

from ..conftest import REPO, THREE_SITE
from .test_cli import nhtb
from .test_validate import edit

BOX = set("─│┃━┏┓┗┛┡┩└┘")
NODES = load_lab(THREE_SITE).nodes


def in_a_narrow_log(*args: str) -> subprocess.CompletedProcess:
    """The command with stdout and stderr a pipe 40 columns wide: a wrapped line would show."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "40"})


def no_box(text: str) -> bool:
    return not BOX & set(text)


def lines_naming(text: str, word: str) -> list[str]:
    return [ln for ln in text.splitlines() if word in ln.split()]


def break_the_westford_key(topology) -> int:
    """A pre-shared key on Westford that is not the hub's: a finding the pre-flight names."""
    path = topology.parent.parent / "lab" / "westford.junos"
    line = next(ln for ln in path.read_text().splitlines() if "pre-shared-key ascii-text" in ln)
    key = line.split('"')[1]
    return edit(path, f'"{key}"', '"not-the-hubs-key"')


# check, through the real command (stdout is a pipe here, never a terminal)

def test_check_in_a_log_is_one_line_a_node_and_no_table():
    res = in_a_narrow_log("-t", str(THREE_SITE), "check")
    assert res.returncode == 0, res.stderr
    assert no_box(res.stdout), res.stdout
    for node in NODES:
        assert len(lines_naming(res.stdout, node)) == 1, (node, res.stdout)
    # the title, a line a node, the verdict, the statement counts: nothing wrapped onto a line of its own
    assert len(res.stdout.splitlines()) == 1 + len(NODES) + 2, res.stdout
    assert res.stdout.splitlines()[-2].startswith("configs valid; pre-flight: every VPN")
    assert res.stdout.splitlines()[-1].startswith("statements: ")


def test_check_plain_on_a_terminal_too_and_a_table_otherwise():
    """On a terminal the table stays; --format plain asks for the lines there as well."""
    def on_a_terminal(*args: str) -> str:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "-t", str(THREE_SITE), "check", *args],
                                cwd=REPO, stdout=follower, stderr=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "200"})
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.wait(timeout=60) == 0
        return b"".join(chunks).decode()

    assert not no_box(on_a_terminal())
    plain = on_a_terminal("--format", "plain")
    assert no_box(plain) and all(len(lines_naming(plain, n)) == 1 for n in NODES), plain


def test_check_json_names_the_topologys_nodes():
    res = nhtb("-t", str(THREE_SITE), "check", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [n["node"] for n in doc["nodes"]] == list(NODES)
    assert doc["valid"] is True and doc["findings"] == []
    hub = next(n for n in doc["nodes"] if n["role"] == "hub")
    assert hub["config"].endswith("corporate.junos") and hub["public_address"] != "-"


def test_a_finding_is_one_line_with_file_line_and_exit_1(lab_copy):
    lineno = break_the_westford_key(lab_copy)
    res = in_a_narrow_log("-t", str(lab_copy), "check")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert no_box(res.stdout)
    assert res.stderr.splitlines()[-1].startswith("1 pre-flight problem(s): the lab would come up, but these")
    found = [ln for ln in res.stderr.splitlines() if "pre-shared keys differ" in ln]
    assert len(found) == 1, res.stderr
    assert f"westford.junos:{lineno}" in found[0] and "corporate.junos:" in found[0], found
    assert "not-the-hubs-key" not in res.stdout + res.stderr  # keys are never shown


def test_a_finding_is_an_object_in_json_and_exit_1(lab_copy):
    lineno = break_the_westford_key(lab_copy)
    res = nhtb("-t", str(lab_copy), "check", "--format", "json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["valid"] is False
    [finding] = doc["findings"]
    assert "pre-shared keys differ" in finding["message"] and "westford" in finding["vpn"]
    assert finding["file"].endswith("corporate.junos") and isinstance(finding["line"], int)
    assert any(s.endswith(f"westford.junos:{lineno}") for s in finding["see_also"]), finding
    assert "not-the-hubs-key" not in res.stdout


def test_fault_list_is_a_line_a_fault_or_a_json_list():
    faults = load_faults(REPO / "lab" / "faults.yml")
    res = nhtb("fault", "list")
    assert res.returncode == 0 and no_box(res.stdout), res.stderr
    # The note's faults (lab/faults.yml), then the runtime faults `fault inject` makes: a title each.
    assert len(res.stdout.splitlines()) == 1 + len(faults) + 1 + len(RUNTIME_FAULTS)
    assert all(len(lines_naming(res.stdout, name)) == 1 for name in [*faults, *RUNTIME_FAULTS]), res.stdout
    doc = json.loads(nhtb("fault", "list", "--format", "json").stdout)
    assert [(f["name"], f["layer"], f["nodes"]) for f in doc if f["layer"] != "runtime"] == [
        (f.name, f.layer, list(f.edits)) for f in faults.values()]
    assert [f["name"] for f in doc if f["layer"] == "runtime"] == list(RUNTIME_FAULTS)


def test_every_command_is_dispatched():
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    assert set(sub.choices) == set(COMMANDS)


# verify and diagnose, from results made by hand

RESULTS = [
    CheckResult("phase 1 (IKE SAs)", "corporate", True, "UP, Main mode, to 2.2.2.2, 3.3.3.2 (aes-256-cbc)",
                "2.2.2.2 UP Main aes-256-cbc; 3.3.3.2 UP Main aes-256-cbc"),
    CheckResult("phase 2 (IPsec SAs)", "westford", False, "an ESP pair to 1.1.1.2, PFS group2, " + "x" * 150,
                "no IPsec SA [yet]"),
    CheckResult("route 192.168.168.0/24", "corporate", True, "via st0.0 10.11.11.11, active", "via st0.0, active"),
]


def test_verification_lines_one_per_check_verdict_first():
    lines = plain_lines(verification_listing("lab1", RESULTS))
    assert lines[0] == "lab lab1: the note's verification steps"
    rows = lines[1:]
    assert len(rows) == len(RESULTS) and all(no_box(ln) for ln in lines)
    assert [ln.split()[0] for ln in rows] == ["ok", "FAILED", "ok"]
    failed = rows[1]
    assert "phase 2 (IPsec SAs)" in failed and "westford" in failed
    assert "expected: an ESP pair to 1.1.1.2, PFS group2, " + "x" * 150 in failed  # long cells are never cut
    assert failed.endswith("seen: no IPsec SA [yet]")  # text as it is: brackets are not markup
    # the short cells line up, so the log reads as columns
    assert len({ln.index("corporate" if "corporate" in ln else "westford") for ln in rows}) == 1


def test_verification_printed_in_a_log_is_those_lines(capsys):
    print_listing(verification_listing("lab1", RESULTS))  # stdout is captured: not a terminal
    printed = capsys.readouterr().out
    assert printed.splitlines() == plain_lines(verification_listing("lab1", RESULTS)) and no_box(printed)


def test_verification_json_round_trips():
    doc = json.loads(json_text(verification_document(RESULTS)))
    assert doc == [{"step": r.step, "node": r.node, "ok": r.ok, "expected": r.expected, "seen": r.seen}
                   for r in RESULTS]


DIAGNOSIS = Diagnosis("phase 1", node="westford", cause="psk-mismatch", summary="pre-shared keys differ",
                      advice="set the same key on both ends", role="responder",
                      evidence=["Phase-1 [responder] failed with error(Invalid payload type)"],
                      steps=[Step("link", True, "corporate: 1.1.1.1 answers"), Step("IKE peer", True, "3.3.3.2 routed"),
                             Step("phase 1", False, "westford <-> corporate: no IKE SA\nsecond line")])


def test_diagnosis_lines_one_per_layer_verdict_first():
    lines = plain_lines(diagnosis_listing("lab1", DIAGNOSIS, "westford"))
    assert lines[0] == "lab lab1: bottom-up, as the note troubleshoots (around westford)"
    rows = lines[1:]
    assert len(rows) == len(DIAGNOSIS.steps) and all(no_box(ln) for ln in lines)
    assert [ln.split()[0] for ln in rows] == ["ok", "ok", "FAILED"]
    assert rows[2].endswith("westford <-> corporate: no IKE SA; second line")  # a cell's lines stay on its row


def test_diagnosis_json_round_trips():
    doc = json.loads(json_text(diagnosis_document(DIAGNOSIS)))
    assert doc["healthy"] is False and doc["layer"] == "phase 1" and doc["cause"] == "psk-mismatch"
    assert [(s["layer"], s["ok"]) for s in doc["steps"]] == [("link", True), ("IKE peer", True), ("phase 1", False)]
    assert doc["evidence"] == DIAGNOSIS.evidence
    assert json.loads(json_text(diagnosis_document(Diagnosis(None))))["healthy"] is True


def test_a_command_with_its_own_command_argument_is_dispatched():
    """`ssh NODE COMMAND...` takes a command of its own: it must not shadow which subcommand ran."""
    args = build_parser().parse_args(["ssh", "corporate", "show", "security", "ike", "security-associations"])
    assert COMMANDS[args.verb].__name__ == "cmd_ssh" and args.command[0] == "show"


def test_a_file_and_line_prints_as_written_never_as_an_emoji(lab_copy):
    """Rich reads `:100:` as an emoji code: `corporate.junos:100:` must reach the user as it is."""
    path = lab_copy.parents[1] / "lab" / "corporate.junos"
    lines = path.read_text().splitlines(keepends=True)
    assert "gateway westford-gate;" in lines[99]
    lines[99] = lines[99].replace("gateway westford-gate;", "gateway westford-gate; idle-time 60;")
    path.write_text("".join(lines))
    res = nhtb("-t", str(lab_copy), "check")
    assert "corporate.junos:100: " in res.stdout + res.stderr, res.stdout + res.stderr
    assert "\N{HUNDRED POINTS SYMBOL}" not in res.stdout + res.stderr
