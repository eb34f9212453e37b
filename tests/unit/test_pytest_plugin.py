"""The pytest plugin a team loads for its own checks: registered as a `pytest11` entry point, and a
check against a lab that is not running fails saying which lab and what to do (never a skip)."""
from __future__ import annotations

import tomllib
from importlib.metadata import entry_points

from ..conftest import REPO


def test_the_plugin_is_an_entry_point_pytest_loads():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert declared == {"nhtb_lab": "harness.cli.pytest_plugin"}
    installed = {e.name: e.value for e in entry_points(group="pytest11")}
    assert installed.get("nhtb_lab") == "harness.cli.pytest_plugin", "reinstall: pip install -e ."


def test_a_check_against_a_lab_that_is_not_up_fails_and_says_so(pytester):
    pytester.makepyfile(test_mine="""
        def test_branch_reaches_the_hub(nhtb_ping):
            assert nhtb_ping("westford-pc", "corp-pc").received > 0
    """)
    result = pytester.runpytest_subprocess("--nhtb-lab", "no-such-lab-here")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*nhtb-lab: no lab named 'no-such-lab-here' is up*--nhtb-topology*"])


def test_the_fixtures_are_offered(pytester):
    result = pytester.runpytest_subprocess("--fixtures")
    for name in ("nhtb_lab", "nhtb_driver", "nhtb_ping", "nhtb_tcp"):  # pytest lists them in no fixed order
        result.stdout.fnmatch_lines([f"{name} *"])
