"""Fuzzing (hypothesis): mutated configs and topologies never crash the harness or leak a key.

Each test mutates one of the lab's real files (bytes and lines deleted, words and braces inserted)
and runs it through the real functions. Only LabError (ConfigError among them) may escape, and no
message or warning may quote a pre-shared key. Derandomized and bounded, so CI is reproducible
and quick; the number of cases run is printed at the end of the module.
"""
from __future__ import annotations

import shutil
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import LabError
from harness.model.junos_site import build_junos_site
from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.model.screenos_site import build_screenos_site
from harness.model.validate import validate_site
from harness.parse.clab import parse_topology
from harness.parse.junos import parse_junos
from harness.parse.screenos import parse_screenos

from ..conftest import LAB, THREE_SITE, TOPOLOGIES
from .test_bad_input import KEYS

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CASES: Counter[str] = Counter()

CORPORATE = (LAB / "corporate.junos").read_text()
SUNNYVALE = (LAB / "sunnyvale.screenos").read_text()
TOPOLOGY = THREE_SITE.read_text()
# What gets inserted: structure, keywords the parsers and the model react to, odd values.
WORDS = ["{", "}", ";", "[", "]", '"', "#", "/*", "*/", "\n", "inactive:", "set", "delete", "unset", "exit",
         "edit", "[ a b c ]", "unit x", "st0", "group15", "aes-256-gcm", "lifetime-seconds", "0", "²", "-1",
         "ascii-text", "preshare", "pre-shared-key", "address", "zone", "policy id 9", "application bogus",
         "\xff", "\x00", "10.0.0.1/33", "999.1.1.1", ":", "- ", "&a", "*a", "!tag", "{x: [", "  ", "\t"]


@st.composite
def mutated(draw, text: str) -> str:
    """`text` with up to 4 mutations: a byte or a line deleted, a word inserted."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["byte", "line", "insert", "insert"]))
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "byte":
            text = text[:at] + text[at + 1:]
        elif kind == "line":
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            text = text[:start] + (text[end + 1:] if end >= 0 else "")
        else:
            text = text[:at] + " " + draw(st.sampled_from(WORDS)) + " " + text[at:]
    return text


def no_key(*texts: str) -> None:
    for text in texts:
        for key in KEYS:
            assert key not in text, text


def survives(name: str, run) -> None:
    """Run one case: a LabError is fine (with no key in it), anything else fails the test."""
    CASES[name] += 1
    try:
        warnings = run() or []
    except LabError as e:
        no_key(str(e))
        return
    no_key(*(msg for _, msg in warnings))


@pytest.fixture(scope="module", autouse=True)
def report(request):
    yield
    line = f"fuzz: {sum(CASES.values())} cases run ({', '.join(f'{k} {v}' for k, v in CASES.items())})"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown whether or not -s is given
            reporter.write_line(line)


@FUZZ
@given(mutated(CORPORATE))
def test_the_junos_parser_and_model(text):
    def run():
        site, warnings = build_junos_site("corporate", parse_junos(text, "corporate.junos"))
        validate_site(site)
        return []  # the raw warnings quote statements: load_lab redacts them (the last test checks)
    survives("junos", run)


@FUZZ
@given(mutated(SUNNYVALE))
def test_the_screenos_parser_and_model(text):
    def run():
        site, warnings = build_screenos_site("sunnyvale", parse_screenos(text, "sunnyvale.screenos"))
        validate_site(site)
        return warnings  # ScreenOS warnings cut `ike` lines themselves
    survives("screenos", run)


@FUZZ
@given(mutated(TOPOLOGY))
def test_the_topology_reader(text):
    survives("topology", lambda: parse_topology(text, TOPOLOGIES / "fuzz.clab.yml", env={}) and None)


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzzlab")
    shutil.copytree(LAB, root / "lab")
    shutil.copytree(TOPOLOGIES, root / "topologies")
    return root


@FUZZ
@given(file=st.sampled_from(["corporate.junos", "sunnyvale.screenos", "topology"]), data=st.data())
def test_load_lab_and_check(lab_dir, file, data):
    """What `check` runs (load_lab, then the pre-flight) on the lab with one file mutated."""
    topology = lab_dir / "topologies" / THREE_SITE.name
    original = {"corporate.junos": CORPORATE, "sunnyvale.screenos": SUNNYVALE, "topology": TOPOLOGY}[file]
    path = topology if file == "topology" else lab_dir / "lab" / file
    path.write_text(data.draw(mutated(original)), errors="surrogateescape")

    def run():
        lab = load_lab(topology, env={})
        findings = preflight(lab)
        no_key(*(str(f) for f in findings))
        return lab.warnings
    try:
        survives("load_lab", run)
    finally:
        path.write_text(original)
