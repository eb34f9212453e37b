"""The CI files lint clean before they reach GitHub: every workflow under .github/workflows/ with
actionlint, the stand-in image's Dockerfile with hadolint (both binaries come from PyPI wheels,
installed with the test dependencies). Each linter is first shown to catch a known mistake."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
DOCKERFILE = REPO / "lab" / "images" / "strongswan" / "Dockerfile"


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: it comes with the test dependencies (pip install -e '.[test]')"
    return found


def run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_lint_clean(workflow):
    res = run(tool("actionlint"), "-no-color", str(workflow))
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_catches_an_action_on_a_removed_runtime(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n")
    res = run(tool("actionlint"), "-no-color", str(bad))
    assert res.returncode != 0 and "node20" in res.stdout


def test_the_dockerfile_lints_clean():
    res = run(tool("hadolint"), str(DOCKERFILE))
    assert res.returncode == 0, res.stdout + res.stderr


def test_hadolint_catches_an_unpinned_base_and_apt_without_cleanup(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n")
    res = run(tool("hadolint"), str(bad))
    assert res.returncode != 0 and "DL3007" in res.stdout
