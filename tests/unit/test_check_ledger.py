"""`check` and the statement ledger, through the real command line: the counts, every statement
the stand-in does not emulate by file:line, --strict, --coverage, invalid statements as errors, and
statements SRX 24.4 no longer has as warnings on a stand-in and errors on a vSRX node."""
from __future__ import annotations

import json

import yaml

from ..conftest import THREE_SITE, TOPOLOGIES
from .test_cli import nhtb
from .test_validate import edit


def westford(lab_copy):
    return lab_copy.parent.parent / "lab" / "westford.junos"


def test_check_counts_statements_and_warns_of_what_srx_no_longer_has():
    res = nhtb("-t", str(THREE_SITE), "check")
    assert res.returncode == 0, res.stderr
    assert "statements: " in res.stdout and " 0 invalid" in res.stdout
    assert "corporate.junos:10: system services web-management http" in res.stderr and "SRX 24.4" in res.stderr


def test_the_vsrx_configs_have_nothing_srx_no_longer_has():
    res = nhtb("-t", str(TOPOLOGIES / "three-site-vsrx.clab.yml"), "check")
    assert res.returncode == 0 and "SRX 24.4" not in res.stderr, res.stderr


def test_a_statement_that_is_not_junos_is_an_error_at_its_line(lab_copy):
    line = edit(westford(lab_copy), "bind-interface st0.0;", "bind-interface st0.0; frobnicate yes;")
    res = nhtb("-t", str(lab_copy), "check")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"westford.junos:{line}: " in res.stderr and "frobnicate" in res.stderr and "not a Junos statement" in res.stderr


def test_a_not_emulated_statement_is_named_and_strict_fails_on_it(lab_copy):
    edit(westford(lab_copy), "ike-policy ike-policy1;", "ike-policy ike-policy1; dead-peer-detection { always-send; }")
    res = nhtb("-t", str(lab_copy), "check")
    assert res.returncode == 0 and "not emulated: " in res.stdout and "dead-peer-detection" in res.stdout, res.stdout
    strict = nhtb("-t", str(lab_copy), "check", "--strict")
    assert strict.returncode == 1 and "--strict" in strict.stderr
    cov = nhtb("-t", str(lab_copy), "check", "--coverage", "--format", "json")
    records = json.loads(cov.stdout)
    assert {r["class"] for r in records} <= {"emulated", "inert", "not-emulated", "invalid"}
    dpd = [r for r in records if "dead-peer-detection" in r["statement"]]
    assert dpd and all(r["class"] == "not-emulated" and r["file"].endswith("westford.junos") for r in dpd)
    assert "$9$" not in cov.stdout


def test_an_obsolete_statement_is_an_error_on_a_vsrx_node(lab_copy):
    topo = lab_copy.parent / "three-site-vsrx.clab.yml"
    doc = yaml.safe_load(topo.read_text())
    doc["topology"]["nodes"]["westford"]["startup-config"] = "../lab/westford.junos"  # the note's, with policy NAT
    topo.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = nhtb("-t", str(topo), "check")
    assert res.returncode == 1 and "westford.junos:137: security policies" in res.stderr, res.stderr


def test_what_a_verdict_does_not_cover_is_named_by_file_and_line(lab_copy):
    from harness.model.lab import load_lab
    from harness.model.ledger import not_emulated

    assert not_emulated(load_lab(THREE_SITE)) == []
    line = edit(westford(lab_copy), "ike-policy ike-policy1;", "ike-policy ike-policy1; dead-peer-detection { always-send; }")
    uncovered = not_emulated(load_lab(lab_copy))
    assert uncovered and all(f"westford.junos:{line}: " in u and "dead-peer-detection" in u for u in uncovered), uncovered
