"""scripts/collect_answers.py (what the nightly's vsrx job saves as parser fixtures), run against
the stand-ins' SSH CLI: every answer it saves reads back with the parsers."""
from __future__ import annotations

import subprocess
import sys

from harness.junos import parse_any

from ..conftest import REPO


def test_the_saved_answers_parse(lab, tmp_path):
    hub = lab.model.hub().name
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "collect_answers.py"), "--lab", lab.name,
                          "--out", str(tmp_path), "--node", hub], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    readme = (tmp_path / "README.md").read_text()
    saved = [ln.split("|")[1].strip() for ln in readme.splitlines() if ln.endswith("| saved |")]
    assert len(saved) >= 8, readme
    for file in saved:
        if "show_version" in file:
            continue
        command = next(ln.split("`")[1] for ln in readme.splitlines() if ln.startswith(f"| {file} "))
        parsed = parse_any(command, (tmp_path / file).read_text())
        assert parsed, (file, command)
