"""The statement ledger (harness/model/ledger.py): every statement of the lab's configs gets one
class; the note's statements SRX 24.4 lacks are flagged obsolete at their lines; an invented
statement is invalid and real but unemulated ones are not-emulated, at their lines; no key shows;
and the grammar agrees with the model builders on what is emulated."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from harness.model import junos_site, screenos_site
from harness.model.junos_site import build_junos_site
from harness.model.ledger import CLASSES, OBSOLETE_REASON, Grammar, Rule, as_records, classify, counts, load_grammar
from harness.model.reader import Reader
from harness.model.screenos_site import build_screenos_site
from harness.model.secrets import junos_secret
from harness.parse.junos import load_junos, parse_junos
from harness.parse.screenos import load_screenos, parse_screenos

from ..conftest import FIXTURES, LAB
from .test_validate import edit

JUNOS = [LAB / "corporate.junos", LAB / "westford.junos", LAB / "vsrx" / "corporate.junos",
         LAB / "vsrx" / "westford.junos", FIXTURES / "set" / "corporate.junos", FIXTURES / "set" / "westford.junos"]
SCREENOS = [LAB / "sunnyvale.screenos"]


@pytest.fixture
def builder_reads(monkeypatch):
    """What the model builders read: their Readers' `used`, collected by wrapping the Reader the
    builders construct (the builders do not return it; see the report for the integration)."""
    readers: list[Reader] = []

    class Recording(Reader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr(junos_site, "_Reader", Recording)
    monkeypatch.setattr(screenos_site, "Reader", Recording)

    def used(build, cfg) -> set:
        readers.clear()
        build("site", cfg)
        return set().union(*(r.used for r in readers))
    return used


def _line_of(path: Path, text: str, after: str | None = None) -> int:
    """1-based line of the first line containing `text` (after the first containing `after`)."""
    lines = path.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) + 1 if after else 0
    return next(i for i in range(start, len(lines)) if text in lines[i]) + 1


@pytest.mark.parametrize("path", JUNOS + SCREENOS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_statement_of_the_labs_configs_gets_exactly_one_class(path):
    os = "screenos" if path.suffix == ".screenos" else "junos"
    cfg = load_screenos(path) if os == "screenos" else load_junos(path)
    entries = classify(cfg, os)
    assert len(entries) == len(cfg.statements)
    assert [(e.file, e.line) for e in entries] == [(st.source.file, st.source.line) for st in cfg.statements]
    assert all(e.class_ in CLASSES for e in entries)
    assert counts(entries)["invalid"] == 0, [e for e in entries if e.class_ == "invalid"]
    assert counts(entries)["emulated"] > 0


@pytest.mark.parametrize("path", [LAB / "corporate.junos", FIXTURES / "set" / "corporate.junos", LAB / "westford.junos"])
def test_the_notes_statements_srx_24_4_lacks_are_flagged_obsolete_at_their_lines(path):
    entries = classify(load_junos(path), "junos")
    obsolete = {(e.line, e.statement): e for e in entries if e.obsolete}
    if path.parent == LAB:  # curly: the statement's line is its last word's (`interface;`)
        web = _line_of(path, "interface ge-0/0/0.0;", after="http {")
        nat = _line_of(path, "interface;", after="source-nat {")
    else:
        web = _line_of(path, "web-management http")
        nat = _line_of(path, "then permit source-nat interface")
    assert set(obsolete) == {
        (web, "system services web-management http interface ge-0/0/0.0"),
        (nat, "security policies from-zone trust to-zone untrust policy any-permit then permit source-nat interface"),
    }
    assert all(e.file == str(path) and OBSOLETE_REASON in e.reason for e in obsolete.values())
    # Obsolete is a flag besides the class: the policy NAT is emulated, J-Web over HTTP inert.
    assert {e.class_ for e in obsolete.values()} == {"emulated", "inert"}
    assert counts(entries)["obsolete"] == 2


@pytest.mark.parametrize("name", ["corporate.junos", "westford.junos"])
def test_the_vsrx_configs_have_nothing_obsolete(name):
    assert counts(classify(load_junos(LAB / "vsrx" / name), "junos"))["obsolete"] == 0


def test_an_invented_statement_is_invalid_at_its_line(lab_copy, builder_reads):
    path = lab_copy.parents[1] / "lab" / "corporate.junos"
    line = edit(path, "vpn westford-vpn {", "vpn westford-vpn {\n            frobnicate yes;") + 1
    cfg = load_junos(path)
    used = builder_reads(build_junos_site, cfg)
    for entries in (classify(cfg, "junos"), classify(cfg, "junos", used)):  # whoever read it
        bad = [e for e in entries if e.class_ == "invalid"]
        assert [(e.file, e.line, e.statement) for e in bad] == [
            (str(path), line, "security ipsec vpn westford-vpn frobnicate yes")]
        assert bad[0].reason == "not a Junos statement"


def test_real_statements_the_stand_in_does_not_emulate_are_not_emulated_at_their_lines(lab_copy):
    path = lab_copy.parents[1] / "lab" / "corporate.junos"
    edit(path, "gateway westford-gate {", "gateway westford-gate {\n            dead-peer-detection { always-send; }")
    edit(path, "vpn westford-vpn {", "vpn westford-vpn {\n            vpn-monitor { verify-path; }")
    # The builder reads source NAT rule-sets and their pools; a pool's port option is not emulated.
    edit(path, "    flow {", "    nat {\n        source {\n            pool p1 { address { 5.5.5.5/32; }\n"
         "                port no-translation; }\n"
         "            rule-set rs1 { from zone trust; to zone untrust;\n"
         "                rule r1 { match { source-address 10.10.10.0/24; } then { source-nat { pool { p1; } } } } }\n"
         "        }\n    }\n    flow {")
    edit(path, "routing-options {", "protocols {\n    ospf {\n        area 0.0.0.0 {\n            interface st0.0;\n"
         "        }\n    }\n}\nrouting-options {")
    expected = {  # statement -> its line in the edited file
        "security ike gateway westford-gate dead-peer-detection always-send": _line_of(path, "dead-peer-detection"),
        "security ipsec vpn westford-vpn vpn-monitor verify-path": _line_of(path, "verify-path;"),
        "security nat source pool p1 port no-translation": _line_of(path, "port no-translation;"),
        "protocols ospf area 0.0.0.0 interface st0.0": _line_of(path, "interface st0.0;", after="area 0.0.0.0"),
    }
    entries = classify(load_junos(path), "junos")
    found = {e.statement: e for e in entries if e.class_ == "not-emulated"}
    assert {s: e.line for s, e in found.items()} == expected
    assert all(e.reason and e.file == str(path) for e in found.values())
    # The rule-set's zones and source match are read by the builder: emulated.
    by_text = {e.statement: e.class_ for e in entries}
    assert by_text["security nat source rule-set rs1 from zone trust"] == "emulated"
    assert by_text["security nat source rule-set rs1 rule r1 match source-address 10.10.10.0/24"] == "emulated"
    assert by_text["security nat source rule-set rs1 rule r1 then source-nat pool p1"] == "emulated"
    assert by_text["security nat source pool p1 address 5.5.5.5/32"] == "emulated"
    assert counts(entries)["invalid"] == 0


def _keys() -> set[str]:
    """Every key the lab's configs hold, as written and as the device reads it."""
    keys = {"secretkey"}
    for path in JUNOS:
        for value in re.findall(r'pre-shared-key ascii-text "([^"]+)"', path.read_text()):
            keys |= {value, junos_secret(value).reveal()}
    return keys


def test_no_entry_shows_a_pre_shared_key():
    keys = _keys()
    assert any(k.startswith("$9$") for k in keys)
    records = []
    for path in JUNOS:
        records += as_records(classify(load_junos(path), "junos"))
    records += as_records(classify(load_screenos(SCREENOS[0]), "screenos"))
    text = json.dumps(records)
    assert not [k for k in keys if k in text]
    assert "pre-shared-key ascii-text <redacted>" in text and 'preshare \\"<redacted>\\"' in text
    # A hexadecimal key and a key with spaces, too.
    cfg = parse_junos('set security ike policy p pre-shared-key hexadecimal 0a0b0c\n'
                      'set security ike policy q pre-shared-key ascii-text "two words"', "k.junos")
    shown = " ".join(e.statement for e in classify(cfg, "junos"))
    assert "0a0b0c" not in shown and "two" not in shown and "words" not in shown


@pytest.mark.parametrize("path", JUNOS + SCREENOS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_what_the_builders_read_the_grammar_calls_emulated(path, builder_reads):
    """The grammar and the builders agree: every statement a builder read in the lab's configs is
    emulated by the grammar alone, so passing `used` changes no class."""
    os = "screenos" if path.suffix == ".screenos" else "junos"
    cfg = load_screenos(path) if os == "screenos" else load_junos(path)
    used = builder_reads(build_screenos_site if os == "screenos" else build_junos_site, cfg)
    assert used
    grammar = load_grammar(os)
    disagree = [f"{st.source}: {st} ({(grammar.match(st.words) or Rule('', 'invalid', '')).class_})"
                for st in used if (grammar.match(st.words) or Rule("", "", "")).class_ != "emulated"]
    assert not disagree, "\n".join(disagree)
    assert [e.class_ for e in classify(cfg, os, used)] == [e.class_ for e in classify(cfg, os)]


def test_the_builder_reads_no_statement_it_does_not_emulate(lab_copy, builder_reads):
    path = lab_copy.parents[1] / "lab" / "corporate.junos"
    edit(path, "gateway westford-gate {", "gateway westford-gate {\n            dead-peer-detection { always-send; }")
    edit(path, "vpn westford-vpn {", "vpn westford-vpn {\n            vpn-monitor { verify-path; }")
    cfg = load_junos(path)
    used = builder_reads(build_junos_site, cfg)
    assert {e.class_ for e in classify(cfg, "junos", used) if "dead-peer" in e.statement or "monitor" in e.statement} \
        == {"not-emulated"}


def test_the_faults_commands_are_statements_of_the_grammar():
    """lab/faults.yml's commands (Junos set, ScreenOS set) are never invalid."""
    faults = yaml.safe_load((LAB / "faults.yml").read_text())["faults"]
    junos, screenos = [], []
    for fault in faults.values():
        for node, cmds in fault["edits"].items():
            (screenos if node == "sunnyvale" else junos).extend(c for c in cmds if c.startswith("set "))
    entries = classify(parse_junos("\n".join(junos), "j"), "junos") + classify(parse_screenos("\n".join(screenos), "s"), "screenos")
    assert entries and not [e for e in entries if e.class_ == "invalid"]


@pytest.mark.parametrize("text", [
    "security frobnicate", "system frobnicate yes", "interfaces ge-0/0/0 unit 0 family inet frobnicate",
    "routing-options frobnicate", "protocols frobnicate", "policy-options frobnicate x",
    "security ike gateway g frobnicate", "security zones security-zone trust frobnicate",
    "security policies from-zone a to-zone b policy p then frobnicate", "security nat source frobnicate",
    "security flow tcp-mss ipsec-vpn frobnicate 1", "frobnicate",
])
def test_an_invented_keyword_under_any_hierarchy_is_invalid(text):
    assert classify(parse_junos(f"set {text}", "x.junos"), "junos")[0].class_ == "invalid"


def test_screenos_classes():
    cfg = parse_screenos('set ntp server "1.2.3.4"\nset vpn "v" monitor\nset frobnicate yes\n'
                         'set ike gateway "g" address 1.1.1.1 Main outgoing-interface ethernet0/0 preshare "k3y" sec-level standard\n', "s")
    got = [(e.class_, e.statement) for e in classify(cfg, "screenos")]
    assert got == [("inert", "ntp server 1.2.3.4"), ("not-emulated", "vpn v monitor"), ("invalid", "frobnicate yes"),
                   ("emulated", 'ike gateway g address 1.1.1.1 Main outgoing-interface ethernet0/0 preshare "<redacted>" '
                                "sec-level standard")]


def test_the_most_specific_pattern_wins_and_records_are_json():
    g = Grammar([Rule("a **", "not-emulated", "r1"), Rule("a * c", "inert", "r2"), Rule("a b c", "emulated", "r3"),
                 Rule("a b **", "inert", "r4")])
    assert [g.match(tuple(w.split())).reason for w in ("a b c", "a x c", "a b d", "a x d", "a")] == ["r3", "r2", "r4", "r1", "r1"]
    assert g.match(("b",)) is None
    with pytest.raises(ValueError):
        Grammar([Rule("a ** b", "inert", "x")])
    with pytest.raises(ValueError):
        Grammar([Rule("a *", "inert", "x"), Rule("a *", "emulated", "y")])
    entries = classify(load_junos(LAB / "corporate.junos"), "junos")
    records = json.loads(json.dumps(as_records(entries)))
    assert set(records[0]) == {"file", "line", "statement", "class", "reason"}
    assert sum("obsolete" in r for r in records) == 2
    c = counts(entries)
    assert set(c) == set(CLASSES) | {"obsolete"} and sum(c[k] for k in CLASSES) == len(entries)


def test_the_grammar_files_load_and_unknown_os_is_refused():
    assert load_grammar("junos").rules and load_grammar("screenos").rules
    with pytest.raises(ValueError):
        load_grammar("ios")
