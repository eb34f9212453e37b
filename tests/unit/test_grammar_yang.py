"""The project's Junos grammar (harness/model/grammar/junos.yml) against Juniper's YANG for SRX
24.4R1 (../shared/reference/junos-yang-24.4R1, read in place, never copied): every pattern is a
real statement, the obsolete ones are not (that is what makes them obsolete), every statement of
the vSRX configs is, an invented one is not.

The YANG reader below is small on purpose: modules -> statement trees; `uses` resolved against the
module's groupings (or junos-common-types'), `choice`/`case` transparent; a statement path is
walked word by word through container (its name), list (its name, then its key value), leaf (its
name, then one value; none for `type empty`) and leaf-list (name, value). A few Junos CLI habits
the plain YANG does not record (its `-with-extensions` variant would, it is not in ../shared) are
listed in CLI_RENAMED / CLI_POSITIONAL, and lists without a description are keyword-less.
"""
from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path

import pytest

from harness.model.ledger import load_grammar
from harness.parse.junos import load_junos, parse_junos

from ..conftest import LAB, shared_oracle

YANG = "reference/junos-yang-24.4R1"

# YANG node names the CLI spells otherwise (their XML element names).
CLI_RENAMED = {"src-nat-rule-match": "match", "dest-nat-rule-match": "match", "static-nat-rule-match": "match"}
# (parent, leaf) whose value the CLI writes without the leaf's keyword: `address NAME 10.0.0.0/24`,
# `pool NAME`, `preference 5`, `default-policy deny-all`, `as-path NAME "regex"`.
CLI_POSITIONAL = {
    ("address", "ip-prefix"), ("pool", "pool-name"), ("preference", "metric-value"), ("metric", "metric-value"),
    ("tag", "metric-value"), ("default-policy", "default-action"), ("as-path", "path"),
    # NAT: `pool P address 10.0.0.1/32 port 80`, `address A to B`, `match destination-address A`,
    # `then static-nat prefix B` (the other leaves of the container may follow the value).
    ("address", "ipaddr"), ("to", "ipaddr"), ("destination-address", "dst-addr"), ("prefix", "addr-prefix"),
}
# Positional leaves the container's other statements may follow on the same line.
CLI_POSITIONAL_THEN_MORE = {("address", "ipaddr")}
_DATA = {"container", "list", "leaf", "leaf-list"}
_TOKEN = re.compile(r'''\s+|//[^\n]*|/\*.*?\*/|"((?:\\.|[^"\\])*)"|'([^']*)'|([{};+])|([^\s{};"']+)''', re.S)


def parse_yang(text: str) -> list:
    """A module as nested (keyword, argument, children) tuples."""
    root: list = []
    stack, pending = [root], []
    for m in _TOKEN.finditer(text):
        dq, sq, punct, word = m.groups()
        if punct in (";", "{"):
            node = (pending[0], "".join(pending[1:]) or None, [])  # `"a" + "b"` concatenated
            stack[-1].append(node)
            pending = []
            if punct == "{":
                stack.append(node[2])
        elif punct == "}":
            stack.pop()
        elif punct is None and (dq, sq, word) != (None, None, None):
            pending.append(next(x for x in (dq, sq, word) if x is not None))
    return root


def _sub(stmt, keyword):
    return next((s for s in stmt[2] if s[0] == keyword), None)


class Schema:
    """The configuration tree of the YANG modules, answering "is this statement path Junos?"."""

    def __init__(self, folder: Path):
        modules = {p.name: next(s for s in parse_yang(p.read_text()) if s[0] == "module")
                   for p in [*sorted((folder / "conf").glob("*.yang")), *sorted((folder / "common").glob("*types*.yang"))]}
        self.groupings = {n: {s[1]: s for s in m[2] if s[0] == "grouping"} for n, m in modules.items()}
        self.common = {k: v for n, g in self.groupings.items() if n.startswith("junos-common") for k, v in g.items()}
        self.top: list = []  # the children of `configuration`: the root's own and every module's augment
        for name, m in modules.items():
            for s in m[2]:
                if (s[0], s[1]) in (("container", "configuration"), ("augment", "/jc:configuration")):
                    self.top += self._flat(s[2], name)
        self._children: dict[int, list] = {}

    def _flat(self, stmts, module) -> list:
        """Data nodes as (kind, name, statement, module), through uses / choice / case."""
        out = []
        for s in stmts:
            if s[0] in _DATA:
                out.append((s[0], s[1], s, module))
            elif s[0] in ("choice", "case"):
                out += self._flat(s[2], module)
            elif s[0] == "uses":
                name = s[1].split(":")[-1]
                out += self._flat((self.groupings[module].get(name) or self.common[name])[2], module)
        return out

    def children(self, node) -> list:
        if node is None:
            return self.top
        if id(node[2]) not in self._children:
            self._children[id(node[2])] = self._flat(node[2][2], node[3])
        return self._children[id(node[2])]

    def _value_ok(self, leaf, word: str) -> bool:
        """`*` is any value; an enumeration admits its enums only."""
        t = _sub(leaf[2], "type") if leaf else None
        return word == "*" or t is None or t[1] != "enumeration" or word in {e[1] for e in t[2] if e[0] == "enum"}

    def _key_leaf(self, lst, name):
        return next((c for c in self.children(lst) if c[0] == "leaf" and c[1] == name), None)

    def _step(self, state, word: str) -> list:
        """States after `word`: ("node", n) inside a container or list entry, ("key", list, i)
        before a key value, ("keyword", list, i) before a keyword-spelt key (`from-zone X
        to-zone Y`), ("value", leaf) before a value, ("done",) after a leaf's value."""
        kind, keyword = state[0], word != "*"  # `*` in a pattern is always a value
        if kind == "node":
            out = []
            for c in self.children(state[1]):
                name = CLI_RENAMED.get(c[1], c[1])
                if c[0] == "list":
                    keys = _sub(c[2], "key")[1].split()
                    if keyword and name == word:
                        out.append(("key", c, 0))
                    if len(keys) == 1 and _sub(c[2], "description") is None and self._value_ok(self._key_leaf(c, keys[0]), word):
                        out.append(("node", c))  # keyword-less (`interfaces ge-0/0/0`, syslog `any any`)
                    if len(keys) > 1 and keyword and word == keys[0].removesuffix("-name"):
                        out.append(("key", c, 0))
                elif c[0] == "leaf" and (state[1] and state[1][1], c[1]) in CLI_POSITIONAL:
                    if self._value_ok(c, word):
                        out.append(("done",))
                        if (state[1][1], c[1]) in CLI_POSITIONAL_THEN_MORE:  # `address A port N`, `address A to B`
                            out.append(("node", state[1]))
                elif keyword and name == word:
                    t = _sub(c[2], "type")
                    out.append(("node", c) if c[0] == "container" else
                               ("done",) if c[0] == "leaf" and t is not None and t[1] == "empty" else ("value", c))
            return out
        if kind == "key":
            lst, i = state[1], state[2]
            keys = _sub(lst[2], "key")[1].split()
            if not self._value_ok(self._key_leaf(lst, keys[i]), word):
                return []
            return [("node", lst) if i + 1 == len(keys) else ("keyword", lst, i + 1)]
        if kind == "keyword":
            lst, i = state[1], state[2]
            return [("key", lst, i)] if keyword and word == _sub(lst[2], "key")[1].split()[i].removesuffix("-name") else []
        if kind == "value":
            return [("done",)] if self._value_ok(state[1], word) else []
        return []

    def exists(self, words) -> bool:
        """Is this statement path (pattern syntax: `*` a value, a final `**` any subtree) Junos?"""
        words = list(words)
        subtree = bool(words) and words[-1] == "**"
        states = [("node", None)]
        for w in words[:-1] if subtree else words:
            states = [n for s in states for n in self._step(s, w)]
            if not states:
                return False
        ends = ("node", "value", "key", "keyword") if subtree else ("node", "done")
        return any(s[0] in ends for s in states)


@lru_cache(maxsize=1)
def _schema(folder: Path) -> Schema:
    return Schema(folder)


@pytest.fixture(scope="module")
def schema() -> Schema:
    folder = shared_oracle(YANG)
    start = time.monotonic()
    s = _schema(folder)
    print(f"YANG for SRX 24.4R1 read in {time.monotonic() - start:.2f} s")
    return s


def _grammar_rules():
    return load_grammar("junos").rules


def test_every_grammar_pattern_is_a_junos_statement(schema):
    top = {c[1] for c in schema.top}
    checked = [r for r in _grammar_rules() if not r.obsolete and r.pattern.split()[0] in top]
    missing = [f"{r.class_}: {r.pattern}" for r in checked if not schema.exists(r.pattern.split())]
    assert not missing, "not in Juniper's YANG for SRX 24.4R1:\n" + "\n".join(missing)
    # The others are the top-level hierarchies ../shared's subset does not hold (snmp, chassis...).
    unchecked = {r.pattern for r in _grammar_rules() if r.pattern.split()[0] not in top}
    assert all(len(p.split()) == 2 and p.endswith(" **") for p in unchecked), unchecked
    print(f"{len(checked)} patterns checked, {len(unchecked)} other top-level hierarchies not in the subset")


def test_the_obsolete_patterns_are_not_in_srx_24_4(schema):
    obsolete = [r.pattern for r in _grammar_rules() if r.obsolete]
    assert obsolete, "the grammar lists the note's statements SRX 24.4 no longer has"
    present = [p for p in obsolete if schema.exists(p.split())]
    assert not present, f"obsolete but in SRX 24.4's YANG: {present}"


@pytest.mark.parametrize("name", ["corporate.junos", "westford.junos"])
def test_every_statement_of_the_vsrx_configs_is_junos(schema, name):
    cfg = load_junos(LAB / "vsrx" / name)
    assert cfg.statements
    bad = [f"{st.source}: {st}" for st in cfg.statements if not schema.exists(st.words)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ["corporate.junos", "westford.junos"])
def test_the_lab_configs_differ_from_srx_24_4_by_their_obsolete_statements_only(schema, name):
    """A statement of lab/*.junos is in the YANG exactly when the grammar neither calls it
    invalid nor obsolete: the grammar's verdicts agree with Juniper's on the lab's own configs."""
    grammar = load_grammar("junos")
    for st in load_junos(LAB / name).statements:
        rule = grammar.match(st.words)
        assert schema.exists(st.words) == (rule is not None and not rule.obsolete), f"{st.source}: {st}"


def test_invented_statements_are_not_junos(schema):
    for text in ("security ipsec vpn westford-vpn frobnicate yes", "security frobnicate",
                 "system services frobnicate", "interfaces ge-0/0/0 unit 0 family inet frobnicate",
                 "security zones security-zone trust host-inbound-traffic system-services frobnicate"):
        assert not schema.exists(text.split()), text
    # ...while their real neighbours are.
    for text in ("security ipsec vpn westford-vpn establish-tunnels immediately",
                 "security zones security-zone trust host-inbound-traffic system-services ike"):
        assert schema.exists(text.split()), text


def test_the_faults_junos_commands_are_junos(schema):
    """lab/faults.yml's `set` commands for the Junos sites are real statements too."""
    import yaml
    faults = yaml.safe_load((LAB / "faults.yml").read_text())["faults"]
    lines = [c for f in faults.values() for node, cmds in f["edits"].items() if node != "sunnyvale"
             for c in cmds if c.startswith("set ")]
    assert lines
    cfg = parse_junos("\n".join(lines), "faults.yml")
    bad = [str(st) for st in cfg.statements if not schema.exists(st.words)]
    assert not bad, bad
