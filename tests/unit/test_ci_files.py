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


def _commands(workflow: Path) -> list[tuple[str, list[str]]]:
    """Every `nhtb-lab ...` and `pytest ...` a workflow runs, as argv (continuations joined)."""
    import re
    import shlex

    import yaml

    out = []
    for job in yaml.safe_load(workflow.read_text())["jobs"].values():
        for step in job.get("steps", []):
            text = re.sub(r"\\\n\s*", " ", step.get("run", "")).replace("\n", " ; ") if step.get("run") else ""
            for cmd in re.split(r" ; |&&|\|\|", text.replace("\n", " ; ")):
                words = shlex.split(cmd)
                for tool_name in ("nhtb-lab", "pytest"):
                    at = next((i for i, w in enumerate(words) if w.endswith(f"/{tool_name}")), None)
                    if at is not None:
                        out.append((tool_name, words[at + 1:]))
    return out


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_a_workflow_runs_is_one_the_harness_knows(workflow):
    """What runs only on GitHub is checked here as far as it can be: each `nhtb-lab` command line
    parses with the CLI's own parser, and each test file and example it names exists."""
    from harness.cli.parser import build_parser

    commands = _commands(workflow)
    assert commands, f"{workflow.name}: no nhtb-lab or pytest command found (the extraction is broken)"
    for tool_name, argv in commands:
        argv = [a.replace('"$TOPO"', "x").replace("$TOPO", "topologies/three-site.clab.yml") for a in argv]
        if tool_name == "nhtb-lab":
            try:
                build_parser().parse_args(argv)
            except SystemExit:
                pytest.fail(f"{workflow.name}: nhtb-lab {' '.join(argv)}: the CLI does not take this")
        for word in argv:
            if word.startswith(("tests/", "examples/", "topologies/")) and "$" not in word:
                assert (REPO / word.split("::")[0]).exists(), f"{workflow.name}: {word} does not exist"


def test_the_command_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("jobs:\n  j:\n    steps:\n      - run: sudo .venv/bin/nhtb-lab rehearse x --no-such-option\n")
    with pytest.raises(pytest.fail.Exception, match="does not take this"):
        test_every_command_a_workflow_runs_is_one_the_harness_knows(bad)
