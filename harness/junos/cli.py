"""A small Junos-style operational CLI over a stand-in's driver: what the stand-ins answer on SSH.

    show security ike security-associations [index N] [detail]
    show security ipsec security-associations [index N] [detail]
    show security ipsec next-hop-tunnels
    show security ipsec statistics [index N]
    show route <prefix>
    show security nat source | destination | static rule all
    show log kmd
    ping <host> [interface X] [count N]

each with `| display xml`, `| display json` or `| no-more`. Commands may be abbreviated as on
Junos (`sh sec ike sec`) where the abbreviation is unambiguous. Text answers are in the layout
asked for: "current" (what SRX/vSRX releases print today, the default) or "2009" (the note's);
`| display xml` follows the real replies' element nesting either way.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

from . import ike, ipsec, kmd, nat, nhtb, route, stats
from .records import IpsecStats, RouteAnswer
from .textreply import check_layout
from .xmlreply import to_json

# The command tree: each word's completions (None: a value).
TREE = {
    "show": {
        "security": {
            "ike": {"security-associations": {}},
            "ipsec": {"security-associations": {}, "next-hop-tunnels": {}, "statistics": {}},
            "nat": {kind: {"rule": {}} for kind in ("source", "destination", "static")},
        },
        "route": {},
        "log": {"kmd": {}},
    },
    "ping": {},
}
OPTIONS = {"index": int, "detail": None, "interface": str, "count": int, "brief": None}


class CliError(ValueError):
    pass


class Answers(Protocol):
    """What the CLI asks of a node (a driver: drivers.base.NodeDriver has all of these)."""

    def ike_sas(self) -> list: ...
    def ipsec_sas(self) -> list: ...
    def ipsec_stats(self, index: int) -> IpsecStats: ...
    def next_hop_tunnels(self) -> list: ...
    def route_answer(self, address: str) -> RouteAnswer: ...
    def log(self, lines: int | None = 50) -> str: ...
    def nat_rules(self, kind: str) -> list: ...
    def ping(self, address: str, count: int = 5, source: str | None = None): ...


@dataclass
class Command:
    path: tuple[str, ...]
    args: list[str]
    options: dict
    display: str  # text | xml | json


def _complete(word: str, choices: dict, where: str) -> str:
    if word in choices:
        return word
    hits = [c for c in choices if c.startswith(word)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise CliError(f"syntax error, expecting one of: {' '.join(sorted(choices))} (after '{where}')")
    raise CliError(f"'{word}' is ambiguous: {' '.join(sorted(hits))}")


def parse(line: str) -> Command:
    head, *pipes = [p.strip() for p in line.split("|")]
    words = head.split()
    if not words:
        raise CliError("empty command")
    node, path, i = TREE, [], 0
    while i < len(words) and node:
        path.append(_complete(words[i], node, " ".join(path) or "top"))
        node = node[path[-1]]
        i += 1
    if node:  # stopped early: the command is incomplete
        raise CliError(f"incomplete command: '{' '.join(path)}' expects one of: {' '.join(sorted(node))}")
    args, options = [], {}
    rest = words[i:]
    j = 0
    while j < len(rest):
        w = rest[j]
        kind = OPTIONS.get(w, "arg")
        if kind is None:
            options[w] = True
        elif kind == "arg":
            args.append(w)
        else:
            if j + 1 >= len(rest):
                raise CliError(f"'{w}' needs a value")
            try:
                options[w] = kind(rest[j + 1])
            except ValueError:
                raise CliError(f"'{w}': bad value '{rest[j + 1]}'") from None
            j += 1
        j += 1
    display = "text"
    for p in pipes:
        pw = p.split()
        if pw[:1] == ["no-more"]:
            continue
        if len(pw) == 2 and pw[0] == "display" and pw[1] in ("xml", "json"):
            display = pw[1]
            continue
        raise CliError(f"unsupported pipe '| {p}' (display xml, display json, no-more)")
    return Command(tuple(path), args, options, display)


def _shown(cmd: Command, text: str, xml: str | None) -> str:
    if cmd.display == "text" or xml is None:
        if cmd.display != "text":
            raise CliError(f"'| display {cmd.display}' is not offered for this command")
        return text
    return xml if cmd.display == "xml" else to_json(xml)


def total_stats(per_sa: list[IpsecStats]) -> IpsecStats:
    """`show security ipsec statistics` without an index: every SA's counters added up."""
    names = [f.name for f in fields(IpsecStats) if f.name != "index"]
    return IpsecStats(index=0, **{n: sum(getattr(s, n) for s in per_sa) for n in names})


def _sas(cmd: Command, family, sas: list, layout: str) -> str:
    """The IKE or IPsec SA command: `index N` selects one and implies detail, as on Junos."""
    if "index" in cmd.options:
        sas = [s for s in sas if s.index == cmd.options["index"]]
    detail = "detail" in cmd.options or "index" in cmd.options
    return _shown(cmd, family.text(sas, detail=detail, layout=layout), family.xml(sas, detail=detail))


def run(node: Answers, line: str, layout: str = "current") -> str:
    """Answer one command line in `layout` ("current" or "2009"); CliError for what a Junos CLI
    would refuse."""
    check_layout(layout)
    cmd = parse(line)
    path, opt = cmd.path, cmd.options
    if path == ("show", "security", "ike", "security-associations"):
        return _sas(cmd, ike, node.ike_sas(), layout)
    if path == ("show", "security", "ipsec", "security-associations"):
        return _sas(cmd, ipsec, node.ipsec_sas(), layout)
    if path == ("show", "security", "ipsec", "next-hop-tunnels"):
        entries = node.next_hop_tunnels()
        return _shown(cmd, nhtb.text(entries, layout), nhtb.xml(entries))
    if path == ("show", "security", "ipsec", "statistics"):
        if "index" in opt:
            st = node.ipsec_stats(opt["index"])
        else:
            st = total_stats([node.ipsec_stats(s.index) for s in node.ipsec_sas()])
        return _shown(cmd, stats.text(st, layout), stats.xml(st))
    if path == ("show", "route"):
        if len(cmd.args) != 1:
            raise CliError("show route <destination>")
        answer = node.route_answer(cmd.args[0])
        return _shown(cmd, route.text(answer, layout), route.xml(answer))
    if path[:3] == ("show", "security", "nat") and len(path) == 5:
        if cmd.args != ["all"]:
            raise CliError(f"{' '.join(path)} all (the stand-in shows every rule)")
        return _shown(cmd, nat.text(node.nat_rules(path[3]), path[3]), None)
    if path == ("show", "log", "kmd"):
        return _shown(cmd, kmd.kmd(node.log(None)) + "\n", None)
    if path == ("ping",):
        if len(cmd.args) != 1:
            raise CliError("ping <host> [interface X] [count N]")
        r = node.ping(cmd.args[0], count=opt.get("count", 5), source=opt.get("interface"))
        return _shown(cmd, r.output, None)
    raise CliError(f"unknown command: {' '.join(path)}")
