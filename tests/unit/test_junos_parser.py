"""Junos configs in both syntaxes: one flat statement list, file:line on everything."""
from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.model.junos_site import build_junos_site
from harness.parse.junos import load_junos, parse_junos

from ..conftest import FIXTURES, LAB, strip_sources


@pytest.mark.parametrize("site", ["corporate", "westford"])
def test_curly_and_set_forms_give_the_same_model(site):
    curly = load_junos(LAB / f"{site}.junos")
    setform = load_junos(FIXTURES / "set" / f"{site}.junos")
    # Same statements, but for the key's encoding ($9$ in the curly file, plain in the set file).
    def words(cfg):
        return {s.words[:-1] if "pre-shared-key" in s.words else s.words for s in cfg.statements}
    assert words(curly) == words(setform)
    model_curly, _ = build_junos_site(site, curly)
    model_set, _ = build_junos_site(site, setform)
    assert strip_sources(model_curly) == strip_sources(model_set)
    # The curly file's key is $9$-obfuscated, the set file's is plain: the same key all the same.
    assert model_curly.ike_policies["ike-policy1"].psk == model_set.ike_policies["ike-policy1"].psk


def test_every_statement_keeps_its_line():
    cfg = load_junos(LAB / "corporate.junos")
    lines = (LAB / "corporate.junos").read_text().splitlines()
    for st in cfg.statements:
        # The line a statement is attributed to holds its last word (a leaf) in the file.
        assert st.words[-1] in lines[st.source.line - 1], (st, st.source)


def test_lists_quotes_comments_and_secret_markers():
    text = """
    /* a block comment
       over two lines */
    security {
        policies { from-zone a to-zone b { policy p {
            match { source-address [ x y ]; destination-address any; application any; }
            then { permit; }
        } } }
        ike { policy k { pre-shared-key ascii-text "with space; and {braces}"; ## SECRET-DATA
        } }
    }
    # a hash comment
    """
    cfg = parse_junos(text, "t.conf")
    words = {s.words for s in cfg.statements}
    assert ("security", "policies", "from-zone", "a", "to-zone", "b", "policy", "p", "match", "source-address", "x") in words
    assert ("security", "policies", "from-zone", "a", "to-zone", "b", "policy", "p", "match", "source-address", "y") in words
    assert ("security", "ike", "policy", "k", "pre-shared-key", "ascii-text", "with space; and {braces}") in words
    psk = next(s for s in cfg.statements if s.words[-2] == "ascii-text")
    assert psk.source.line == 9


def test_inactive_and_deactivate_drop_the_subtree():
    curly = parse_junos("interfaces { inactive: ge-0/0/1 { unit 0 { family inet { address 1.0.0.1/24; } } }\n"
                        " ge-0/0/2 { unit 0 { family inet { address 1.0.1.1/24; } } } }", "c.conf")
    assert [s.words[1] for s in curly.statements] == ["ge-0/0/2"]
    assert [s.words[1] for s in curly.inactive] == ["ge-0/0/1"]
    setform = parse_junos("set interfaces ge-0/0/1 unit 0 family inet address 1.0.0.1/24\n"
                          "set interfaces ge-0/0/2 unit 0 family inet address 1.0.1.1/24\n"
                          "deactivate interfaces ge-0/0/1\n"
                          "set interfaces ge-0/0/3 unit 0 family inet address 1.0.2.1/24\n"
                          "delete interfaces ge-0/0/3\n", "s.conf")
    assert [s.words[1] for s in setform.statements] == ["ge-0/0/2"]


def test_a_delete_under_a_presence_container_leaves_it_as_junos_does():
    """`delete ... then permit source-nat` on an SRX leaves `then permit;` (the policy still
    permits); deleting the whole `then permit` or the policy leaves nothing of it."""
    base = ("set security policies from-zone trust to-zone untrust policy p match source-address any\n"
            "set security policies from-zone trust to-zone untrust policy p then permit source-nat interface\n")
    words = lambda text: [" ".join(s.words[8:]) for s in parse_junos(text, "s.conf").statements]  # noqa: E731
    assert words(base + "delete security policies from-zone trust to-zone untrust policy p then permit source-nat\n") \
        == ["match source-address any", "then permit"]
    assert words(base + "delete security policies from-zone trust to-zone untrust policy p then permit\n") \
        == ["match source-address any"]
    assert words(base + "delete security policies from-zone trust to-zone untrust policy p\n") == []
    # Deeper below it, and a later delete of the policy itself (nothing left then).
    tunnel = base.replace("then permit source-nat interface", "then permit tunnel ipsec-vpn v")
    assert words(tunnel + "delete security policies from-zone trust to-zone untrust policy p then permit tunnel\n") \
        == ["match source-address any", "then permit"]
    assert words(base + "delete security policies from-zone trust to-zone untrust policy p then permit source-nat\n"
                 "delete security policies from-zone trust to-zone untrust policy p\n") == []
    dpd = "set security ike gateway g dead-peer-detection interval 10\n"
    assert [" ".join(s.words) for s in parse_junos(dpd + "delete security ike gateway g dead-peer-detection interval\n",
                                                   "s.conf").statements] == ["security ike gateway g dead-peer-detection"]


@pytest.mark.parametrize("text,line,message", [
    ("interfaces {\n  ge-0/0/0 {\n    unit 0;\n", 2, "unclosed '{'"),
    ("interfaces {\n}\n}\n", 3, "'}' without a matching '{'"),
    ("system {\n  host-name x\n}\n", 3, "expected ';' or '{'"),
    ('system {\n  host-name "x;\n}\n', 2, "unclosed quoted string"),
    ("set system host-name x\nshow system\n", 2, "unknown command 'show'"),
    ("/* never closed\nsystem { }\n", 1, "unclosed comment"),
])
def test_malformed_configs_name_file_and_line(text, line, message):
    with pytest.raises(ConfigError) as e:
        parse_junos(text, "bad.conf")
    assert str(e.value).startswith(f"bad.conf:{line}: ")
    assert message in str(e.value)
