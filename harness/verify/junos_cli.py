"""A small Junos-style operational CLI over a stand-in's driver: what the stand-ins answer on SSH.

    show security ike security-associations [index N] [detail]
    show security ipsec security-associations [index N] [detail]
    show security ipsec next-hop-tunnels
    show security ipsec statistics [index N]
    show route <prefix>
    show log kmd
    ping <host> [interface X] [count N]

each with `| display xml`, `| display json` or `| no-more`. Commands may be abbreviated as on
Junos (`sh sec ike sec`) where the abbreviation is unambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..drivers import junos_xml
from ..drivers.linux import LinuxDriver
from . import ikelog, junos_show

# The command tree: each word's completions (None: a value).
TREE = {
    "show": {
        "security": {
            "ike": {"security-associations": {}},
            "ipsec": {"security-associations": {}, "next-hop-tunnels": {}, "statistics": {}},
        },
        "route": {},
        "log": {"kmd": {}},
    },
    "ping": {},
}
OPTIONS = {"index": int, "detail": None, "interface": str, "count": int, "brief": None}


class CliError(ValueError):
    pass


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
    return xml if cmd.display == "xml" else junos_xml.to_json(xml)


def run(driver: LinuxDriver, line: str) -> str:
    """Answer one command line; CliError for what a Junos CLI would refuse."""
    cmd = parse(line)
    path, opt = cmd.path, cmd.options
    if path == ("show", "security", "ike", "security-associations"):
        sas = driver.ike_sas()
        if "index" in opt:
            sas = [s for s in sas if s.index == opt["index"]]
        return _shown(cmd, junos_show.ike_sas(sas, detail="detail" in opt or "index" in opt), junos_xml.ike_sas_xml(sas))
    if path == ("show", "security", "ipsec", "security-associations"):
        sas = driver.ipsec_sas()
        if "index" in opt:
            sas = [s for s in sas if s.index == opt["index"]]
        return _shown(cmd, junos_show.ipsec_sas(sas, detail="detail" in opt or "index" in opt), junos_xml.ipsec_sas_xml(sas))
    if path == ("show", "security", "ipsec", "next-hop-tunnels"):
        entries = driver.next_hop_tunnels()
        return _shown(cmd, junos_show.next_hop_tunnels([e.__dict__ for e in entries]), junos_xml.nhtb_xml(entries))
    if path == ("show", "security", "ipsec", "statistics"):
        if "index" not in opt:
            raise CliError("the stand-in keeps statistics per SA: show security ipsec statistics index N")
        st = driver.ipsec_stats(opt["index"])
        return _shown(cmd, junos_show.ipsec_stats(st), junos_xml.stats_xml(st))
    if path == ("show", "route"):
        if len(cmd.args) != 1:
            raise CliError("show route <destination>")
        answer = driver.route_answer(cmd.args[0])
        return _shown(cmd, junos_show.route(answer), junos_xml.route_xml(answer))
    if path == ("show", "log", "kmd"):
        return _shown(cmd, ikelog.kmd(driver.log(5000)) + "\n", None)
    if path == ("ping",):
        if len(cmd.args) != 1:
            raise CliError("ping <host> [interface X] [count N]")
        r = driver.ping(cmd.args[0], count=opt.get("count", 5), source=opt.get("interface"))
        return _shown(cmd, r.output, None)
    raise CliError(f"unknown command: {' '.join(path)}")
