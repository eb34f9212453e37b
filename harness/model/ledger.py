"""The statement ledger: every statement of a config is emulated, inert, not-emulated or invalid.

- emulated: it changes what the stand-in does (a model builder read it, or the grammar says so);
- inert: it changes nothing the lab reproduces (syslog, login, traceoptions...);
- not-emulated: real Junos (ScreenOS) whose behaviour the stand-in does not reproduce;
- invalid: no pattern of the grammar matches: not Junos (not ScreenOS).

The grammar is data (grammar/junos.yml, grammar/screenos.yml; their header says the pattern
syntax). A statement the current SRX no longer accepts is flagged `obsolete` besides its class.
Pure functions: the caller decides what is a warning and what is an error.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from ..errors import REDACTED, redact
from ..parse.clab import compose_yaml, plain
from ..parse.statements import ParsedConfig, Statement

CLASSES = ("emulated", "inert", "not-emulated", "invalid")
OBSOLETE_REASON = "SRX 24.4 has no such statement"
NOT_READ = "the lab does not read this hierarchy"
READ_BY_BUILDER = "read by the model builder"
_NOT = {"junos": "not a Junos statement", "screenos": "not a ScreenOS command"}

# The word after these is a secret: shown as <redacted> (keys must never leave through a ledger).
_SECRET_AFTER = {
    "junos": {"ascii-text", "hexadecimal", "encrypted-password", "secret", "authentication-key"},
    "screenos": {"preshare", "password"},
}


@dataclass(frozen=True)
class Entry:
    file: str
    line: int
    statement: str  # secrets redacted
    class_: str  # one of CLASSES
    reason: str
    obsolete: bool = False


@dataclass(frozen=True)
class Rule:
    pattern: str
    class_: str
    reason: str
    obsolete: bool = False


@dataclass
class _Node:
    """A trie level: patterns keyed by their words, so a statement is matched in one walk down
    its words (not a scan of every pattern)."""

    words: dict[str, _Node] = field(default_factory=dict)
    any: _Node | None = None  # `*`
    end: Rule | None = None  # a pattern ends here
    rest: Rule | None = None  # `**` here


class Grammar:
    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self._root = _Node()
        for rule in rules:
            self._add(rule)

    def _add(self, rule: Rule) -> None:
        words = rule.pattern.split()
        if not words or "**" in words[:-1]:
            raise ValueError(f"grammar pattern '{rule.pattern}': `**` may only end a pattern")
        node = self._root
        for w in words[:-1] if words[-1] == "**" else words:
            if w == "*":
                node.any = node.any or _Node()
                node = node.any
            else:
                node = node.words.setdefault(w, _Node())
        slot = "rest" if words[-1] == "**" else "end"
        if getattr(node, slot) is not None:
            raise ValueError(f"grammar pattern '{rule.pattern}' is listed twice")
        setattr(node, slot, rule)

    def match(self, words: tuple[str, ...]) -> Rule | None:
        """The most specific rule matching `words`: a literal word beats `*`, which beats `**`."""
        return _match(self._root, words, 0)


def _match(node: _Node, words: tuple[str, ...], i: int) -> Rule | None:
    if i == len(words):
        return node.end or node.rest
    nxt = node.words.get(words[i])
    found = _match(nxt, words, i + 1) if nxt else None
    if found is None and node.any is not None:
        found = _match(node.any, words, i + 1)
    return found or node.rest


def _rules(tree: dict, class_: str, obsolete: bool = False) -> list[Rule]:
    return [Rule(p, class_, reason, obsolete) for reason, patterns in (tree or {}).items() for p in patterns]


@lru_cache(maxsize=None)
def load_grammar(os: str) -> Grammar:
    """The grammar of `os` ("junos" or "screenos") from grammar/<os>.yml (duplicate keys refused)."""
    if os not in _NOT:
        raise ValueError(f"no statement grammar for OS '{os}' (known: {', '.join(_NOT)})")
    name = f"{os}.yml"
    data = plain(compose_yaml(files(__package__).joinpath("grammar", name).read_text(), name), name)
    rules = [r for c in ("emulated", "inert", "not-emulated") for r in _rules(data.get(c), c)]
    rules += [r for c, tree in (data.get("obsolete") or {}).items() for r in _rules(tree, c, True)]
    rules += [Rule(f"{h} **", "not-emulated", NOT_READ) for h in data.get("other-hierarchies") or ()]
    return Grammar(rules)


def shown(st: Statement, os: str) -> str:
    """The statement as text with every secret replaced, word by word, then by the errors'
    patterns as the last guard (a misspelt `preshare` too)."""
    secret_after = _SECRET_AFTER[os]
    words, quote = [], ""
    for i, w in enumerate(st.words):
        if quote:  # inside a key the parser split at its spaces ('my secret key' is not Junos quoting)
            quote = "" if w.endswith(quote) else quote
            continue
        if i and st.words[i - 1] in secret_after:
            words.append(REDACTED)
            quote = w[0] if w[:1] in "'\"" and not (len(w) > 1 and w.endswith(w[0])) else ""
        else:
            words.append(w)
    return redact(str(Statement(tuple(words), st.source)))


def classify(parsed: ParsedConfig, os: str, emulated_used: set[Statement] | None = None) -> list[Entry]:
    """One entry per (active) statement, in file order. A statement no pattern matches is invalid
    whoever read it (a builder reading `security ipsec vpn X **` does not make `frobnicate`
    Junos); otherwise one a builder read (`emulated_used`, its Reader's `used`) is emulated, and
    the grammar decides the rest."""
    grammar = load_grammar(os)
    out = []
    for st in parsed.statements:
        rule = grammar.match(st.words)
        if rule is None:
            class_, reason = "invalid", _NOT[os]
        elif emulated_used is not None and st in emulated_used:
            class_, reason = "emulated", rule.reason if rule.class_ == "emulated" else READ_BY_BUILDER
        else:
            class_, reason = rule.class_, rule.reason
        obsolete = rule is not None and rule.obsolete
        if obsolete:
            reason = f"{reason}; {OBSOLETE_REASON}"
        out.append(Entry(st.source.file, st.source.line, shown(st, os), class_, reason, obsolete))
    return out


def counts(entries: list[Entry]) -> dict[str, int]:
    """Entries per class (every class present, zero or not), and how many are obsolete."""
    c = Counter(e.class_ for e in entries)
    return {**{k: c.get(k, 0) for k in CLASSES}, "obsolete": sum(e.obsolete for e in entries)}


def as_records(entries: list[Entry]) -> list[dict]:
    """JSON-able: {"file", "line", "statement", "class", "reason"} (+ "obsolete": true when it is)."""
    out = []
    for e in entries:
        rec = {"file": e.file, "line": e.line, "statement": e.statement, "class": e.class_, "reason": e.reason}
        if e.obsolete:
            rec["obsolete"] = True
        out.append(rec)
    return out


def not_emulated(lab) -> list[str]:
    """`file:line: statement` of every statement the stand-in does not emulate: what a verdict on
    this lab does not cover."""
    return [f"{e.file}:{e.line}: {e.statement}" for es in lab_ledger(lab).values() for e in es
            if e.class_ == "not-emulated"]


def lab_ledger(lab) -> dict[str, list[Entry]]:
    """Every site's statements classified (by the grammar), node -> entries, in file order. A
    statement SRX 24.4 no longer accepts is for the caller to judge: a warning on a stand-in, an
    error on a node that boots as a real SRX."""
    from ..parse.junos import load_junos
    from ..parse.screenos import load_screenos

    out = {}
    for node, site in lab.sites.items():
        path = lab.topology.nodes[node].startup_config
        parsed = load_junos(path) if site.os == "junos" else load_screenos(path)
        out[node] = classify(parsed, site.os)
    return out
