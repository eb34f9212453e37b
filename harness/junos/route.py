"""`show route <address>`: text (the note's layout; an inactive route without '*') and `| display
xml` (get-route-information: route-table, rt, rt-destination, rt-entry, active-tag,
protocol-name, nh, to, via)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import xmlreply
from .records import Route, RouteAnswer
from .textreply import UnknownField, lines

COMMAND = "show route"
LEGEND = "+ = Active Route, - = Last Active, * = Both"
INACTIVE = "(inactive: no next-hop tunnel binding for {})"  # the stand-in's explanation of a missing '*'


def preference(protocol: str) -> int:
    return 0 if protocol == "Direct" else 5


def text(answer: RouteAnswer) -> str:
    head = (f"inet.0: {answer.destinations} destinations, {answer.destinations} routes "
            f"({answer.active} active, 0 holddown, {answer.hidden} hidden)\n{LEGEND}\n\n")
    r = answer.route
    if r is None:
        return head
    mark = "*" if r.active else " "
    line = f"{r.prefix:<20}{mark}[{r.protocol}/{preference(r.protocol)}]\n"
    hop = f"to {r.next_hop} via {r.interface}" if r.next_hop else f"via {r.interface}"
    line += f"                  > {hop}\n"
    if not r.active:
        line += f"                    {INACTIVE.format(r.next_hop)}\n"
    return head + line


_SUMMARY = re.compile(r"^(\S+): (\d+) destinations, (\d+) routes \((\d+) active, (\d+) holddown, (\d+) hidden\)$")
_ENTRY = re.compile(r"^(\S+/\d+)\s+([*+\- ]?)\[(\w+)/(\d+)\]\s*(\S+)?$")
_HOP = re.compile(r"^(>)?\s*(?:to (\S+) )?via (\S+)$")
_INACTIVE = re.compile(r"^" + re.escape(INACTIVE).replace(r"\{\}", r"\S+") + "$")


def parse_tables(text: str) -> list[dict]:
    """One dict per routing table printed; its entries with their next hops."""
    tables: list[dict] = []
    entry = None
    for n, ln in lines(text):
        s = ln.strip()
        if not s or s == LEGEND or _INACTIVE.match(s):
            continue
        if m := _SUMMARY.match(s):
            tables.append({"table": m.group(1), "destinations": int(m.group(2)), "routes": int(m.group(3)),
                           "active": int(m.group(4)), "holddown": int(m.group(5)), "hidden": int(m.group(6)),
                           "entries": []})
        elif (m := _ENTRY.match(s)) and tables:
            entry = {"prefix": m.group(1), "active": m.group(2) in ("*", "+"), "protocol": m.group(3),
                     "preference": int(m.group(4)), "age": m.group(5), "next_hops": []}
            tables[-1]["entries"].append(entry)
        elif (m := _HOP.match(s)) and entry is not None:
            entry["next_hops"].append({"selected": bool(m.group(1)), "to": m.group(2), "via": m.group(3)})
        else:
            raise UnknownField(COMMAND, n, ln, "line")
    return tables


def parse_text(text: str) -> RouteAnswer:
    tables = parse_tables(text)
    if not tables:
        raise UnknownField(COMMAND, 1, text[:80], "answer without a routing table")
    t = tables[0]
    route = None
    if t["entries"]:
        e = t["entries"][0]
        nh = next((h for h in e["next_hops"] if h["selected"]), e["next_hops"][0] if e["next_hops"] else {})
        route = Route(e["prefix"], nh.get("to"), nh.get("via", ""), e["protocol"], e["active"])
    return RouteAnswer(route, t["destinations"], t["active"], t["hidden"])


ROOT = "route-information"


def xml(answer: RouteAnswer) -> str:
    root = ET.Element(ROOT)
    table = ET.SubElement(root, "route-table")
    for tag, value in (("table-name", "inet.0"), ("destination-count", answer.destinations),
                       ("total-route-count", answer.destinations), ("active-route-count", answer.active),
                       ("holddown-route-count", 0), ("hidden-route-count", answer.hidden)):
        ET.SubElement(table, tag).text = str(value)
    r = answer.route
    if r:
        rt = ET.SubElement(table, "rt")
        ET.SubElement(rt, "rt-destination").text = r.prefix
        entry = ET.SubElement(rt, "rt-entry")
        ET.SubElement(entry, "active-tag").text = "*" if r.active else ""
        ET.SubElement(entry, "protocol-name").text = r.protocol
        ET.SubElement(entry, "preference").text = str(preference(r.protocol))
        nh = ET.SubElement(entry, "nh")
        if r.next_hop:
            ET.SubElement(nh, "to").text = r.next_hop
        ET.SubElement(nh, "via").text = r.interface
    return xmlreply.to_string(root)


def parse_xml(text: str) -> RouteAnswer:
    cmd = f"{COMMAND} | display xml"
    root = xmlreply.root(text, ROOT, cmd)
    table = root.find("route-table")
    if table is None:
        raise UnknownField(cmd, 0, root.tag, "reply without route-table")
    counts = {tag: int(table.findtext(tag) or 0) for tag in ("destination-count", "active-route-count",
                                                             "hidden-route-count")}
    rt = table.find("rt")
    route = None
    if rt is not None:
        entry = rt.find("rt-entry")
        if entry is None or entry.find("nh") is None:
            raise UnknownField(cmd, 0, "rt", "route without rt-entry/nh")
        nh = entry.find("nh")
        route = Route(rt.findtext("rt-destination") or "", nh.findtext("to"), nh.findtext("via") or "",
                      entry.findtext("protocol-name") or "", (entry.findtext("active-tag") or "").strip() == "*")
    return RouteAnswer(route, counts["destination-count"], counts["active-route-count"], counts["hidden-route-count"])
