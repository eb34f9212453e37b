"""One entry point for a saved answer of any command the drivers use: `parse_any(command, text)`
reads text (either layout) or `| display xml` into the harness's records (what `nhtb-lab parse`
prints), and `as_data` makes them JSON-ready."""
from __future__ import annotations

import dataclasses

from . import cli, ike, ipsec, kmd, nhtb, route, stats


def _is_xml(cmd: cli.Command, text: str) -> bool:
    return cmd.display == "xml" or text.lstrip().startswith("<")


def parse_any(command: str, text: str):
    """The records in `text`, the answer to `command` (abbreviations and `| display xml` as the
    CLI takes them): list[IkeSA] / list[IpsecSA] / IpsecStats / list[NhtbEntry] / RouteAnswer /
    list[IkeEvent]. UnknownField for an answer the parsers do not know, CliError for a command
    that is not one of these."""
    cmd = cli.parse(command)
    xml, path, opt = _is_xml(cmd, text), cmd.path, cmd.options
    detail = "detail" in opt or "index" in opt
    if path == ("show", "security", "ike", "security-associations"):
        return ike.parse_xml(text) if xml else ike.parse_text(text) if detail else ike.table_records(text)
    if path == ("show", "security", "ipsec", "security-associations"):
        # the 2009 detail names no index: parse_text says so (give the brief table with it)
        return ipsec.parse_xml(text) if xml else ipsec.parse_text(text) if detail else ipsec.table_records(text)
    if path == ("show", "security", "ipsec", "statistics"):
        index = opt.get("index", 0)
        return stats.parse_xml(text, index) if xml else stats.parse_text(text, index)
    if path == ("show", "security", "ipsec", "next-hop-tunnels"):
        return nhtb.parse_xml(text) if xml else nhtb.parse_text(text)
    if path == ("show", "route"):
        return route.parse_xml(text) if xml else route.parse_text(text)
    if path == ("show", "log", "kmd"):
        return kmd.parse(text)
    raise cli.CliError(f"no parser for '{' '.join(path)}'")


def as_data(parsed):
    """Records as plain dicts and lists (for `--format json`); an event's evidence included."""
    if isinstance(parsed, list):
        return [as_data(p) for p in parsed]
    return dataclasses.asdict(parsed) if dataclasses.is_dataclass(parsed) else parsed
