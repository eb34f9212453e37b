"""The command line as an engineer runs it: real process, real exit status, file:line on errors."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

from ..conftest import REPO, THREE_SITE
from .test_validate import edit


def nhtb(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_check_passes_on_the_lab():
    res = nhtb("-t", str(THREE_SITE), "check")
    assert res.returncode == 0, res.stderr
    assert "configs valid" in res.stdout
    for node in ("corporate", "westford", "sunnyvale"):
        assert node in res.stdout


def test_an_unclosed_brace_is_file_line_and_exit_1(lab_copy):
    path = lab_copy.parent.parent / "lab" / "westford.junos"
    path.write_text(path.read_text().rstrip().rstrip("}") + "\n")  # drop the final closing brace
    res = nhtb("-t", str(lab_copy), "check")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    line = res.stderr.strip().splitlines()[0]
    assert line.startswith(str(path)) or line.startswith("westford.junos") or "westford.junos:" in line, res.stderr
    assert "unclosed '{'" in line


def test_an_unknown_vpn_in_next_hop_tunnel_is_file_line_and_exit_1(lab_copy):
    lineno = edit(lab_copy.parent.parent / "lab" / "corporate.junos", "ipsec-vpn sunnyvale-vpn", "ipsec-vpn nowhere-vpn")
    res = nhtb("-t", str(lab_copy), "check")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"corporate.junos:{lineno}: next-hop-tunnel 10.11.11.11: ipsec-vpn 'nowhere-vpn' is not defined" in res.stderr


def test_a_topology_that_does_not_parse_is_file_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.clab.yml"
    bad.write_text("name: x\ntopology:\n  nodes:\n    a: {kind: linux\n")
    res = nhtb("-t", str(bad), "check")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"{bad}:" in res.stderr and "not valid YAML" in res.stderr


def test_check_reports_preflight_problems_with_exit_1(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "westford.junos", "keys group2;", "keys group5;")
    res = nhtb("-t", str(lab_copy), "check")
    assert res.returncode == 1 and "PFS differs" in res.stderr


def test_render_hides_keys_and_writes_secret_files_0600(tmp_path):
    psk_line = "secret = "
    shown = nhtb("-t", str(THREE_SITE), "render", "corporate", "--what", "swanctl")
    assert shown.returncode == 0
    secrets = [ln for ln in shown.stdout.splitlines() if psk_line in ln]
    assert secrets and all("<hidden" in ln for ln in secrets)
    res = nhtb("-t", str(THREE_SITE), "render", "corporate", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    mode = stat.S_IMODE((tmp_path / "swanctl.conf").stat().st_mode)
    assert mode == 0o600
    assert "<hidden" not in (tmp_path / "swanctl.conf").read_text()
    assert {p.name for p in tmp_path.iterdir()} == {"swanctl.conf", "strongswan.conf", "nftables.conf", "plan.json"}


def test_render_of_an_unknown_node(tmp_path):
    res = nhtb("-t", str(THREE_SITE), "render", "boston")
    assert res.returncode == 1 and "no node 'boston'" in res.stderr and "Traceback" not in res.stderr


def test_exec_without_a_running_lab_says_so(tmp_path):
    """Options after the node are options, not part of the command (a lab that is not up is named)."""
    res = nhtb("-t", str(THREE_SITE), "exec", "westford", "--name", "no-such-lab", "--", "true")
    assert res.returncode == 1 and "no lab named 'no-such-lab' is up" in res.stderr, res.stderr
