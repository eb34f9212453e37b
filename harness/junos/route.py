"""`show route <address>`: text in the current layout (`>  to X via st0.1`, 24.4R1) and the note's
2009 one (`> to X via st0.0`); an inactive route without '*'. `| display xml` follows
get-route-information (route-table, rt, rt-destination, rt-entry, active-tag, protocol-name,
preference, nh, to, via; Juniper's RPC YANG junos-es-rpc-route, 24.4R1)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import xmlreply
from .records import Route, RouteAnswer
from .textreply import UnknownField, check_layout, content

COMMAND = "show route"
LEGEND = "+ = Active Route, - = Last Active, * = Both"
INACTIVE = "(inactive: no next-hop tunnel binding for {})"  # the stand-in's explanation of a missing '*'


def preference(protocol: str) -> int:
    return 0 if protocol == "Direct" else 5


def text(answer: RouteAnswer, layout: str = "current") -> str:
    current = check_layout(layout) == "current"
    head = (f"inet.0: {answer.destinations} destinations, {answer.destinations} routes "
            f"({answer.active} active, 0 holddown, {answer.hidden} hidden)\n{LEGEND}\n\n")
    r = answer.route
    if r is None:
        return head
    mark = "*" if r.active else " "
    line = f"{r.prefix:<19}{mark}[{r.protocol}/{preference(r.protocol)}]\n" if current else \
        f"{r.prefix:<20}{mark}[{r.protocol}/{preference(r.protocol)}]\n"
    hop = f"to {r.next_hop} via {r.interface}" if r.next_hop else f"via {r.interface}"
    line += f"{'':20}>  {hop}\n" if current else f"{'':18}> {hop}\n"
    if not r.active:
        line += f"                    {INACTIVE.format(r.next_hop)}\n"
    return head + line


_SUMMARY = re.compile(r"^(\S+): (\d+) destinations, (\d+) routes \((\d+) active, (\d+) holddown, (\d+) hidden\)$")
# `10.0.100.0/24      *[BGP/170] 02:27:21, MED 0, localpref 100`; a second route to the same
# destination starts with its `[Direct/0]` alone.
_ENTRY = re.compile(r"^(\S+/\d+)?\s*([*+\- ]?)\[(\w+)/(\d+)\]\s*([^,]*)((?:, .*)?)$")
_ATTRIBUTE = re.compile(r"^(MED|localpref) (\d+)$")
_HOP = re.compile(r"^(>)?\s*(?:to (\S+) )?(Local )?via (\S+)$")
_TABLE_HOP = re.compile(r"^(>)?\s*to table (\S+)$")
_AS_PATH = re.compile(r"^AS path: (.+?)(?:, validation-state: (\S+))?$")
_INACTIVE = re.compile(r"^" + re.escape(INACTIVE).replace(r"\{\}", r"\S+") + "$")


def _entry(m: re.Match, prefix: str, n: int, ln: str) -> dict:
    attributes = {}
    for part in filter(None, (p.strip() for p in m.group(6).split(","))):
        a = _ATTRIBUTE.match(part)
        if not a:
            raise UnknownField(COMMAND, n, ln, "route attribute")
        attributes[a.group(1).lower()] = int(a.group(2))
    return {"prefix": prefix, "active": m.group(2) in ("*", "+"), "protocol": m.group(3),
            "preference": int(m.group(4)), "age": m.group(5).strip() or None, **attributes, "next_hops": []}


def _next_hop(entry: dict, s: str) -> bool:
    """A next-hop (or AS path) line of the entry; False when the line is none of them."""
    if m := _HOP.match(s):
        hop = {"selected": bool(m.group(1)), "to": m.group(2), "via": m.group(4)}
        entry["next_hops"].append({**hop, "local": True} if m.group(3) else hop)
    elif m := _TABLE_HOP.match(s):
        entry["next_hops"].append({"selected": bool(m.group(1)), "table": m.group(2)})
    elif m := _AS_PATH.match(s):
        entry["as_path"], entry["validation_state"] = m.group(1), m.group(2)
    else:
        return False
    return True


def parse_tables(text: str) -> list[dict]:
    """One dict per routing table printed; its entries with their next hops (either layout)."""
    tables: list[dict] = []
    entry = None
    for n, ln in content(text):
        s = ln.strip()
        if s == LEGEND or _INACTIVE.match(s):
            continue
        if m := _SUMMARY.match(s):
            tables.append({"table": m.group(1), "destinations": int(m.group(2)), "routes": int(m.group(3)),
                           "active": int(m.group(4)), "holddown": int(m.group(5)), "hidden": int(m.group(6)),
                           "entries": []})
            entry = None
        elif (m := _ENTRY.match(s)) and tables and (m.group(1) or entry is not None):
            entry = _entry(m, m.group(1) or entry["prefix"], n, ln)
            tables[-1]["entries"].append(entry)
        elif entry is None or not _next_hop(entry, s):
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
COUNTS = ("destination-count", "total-route-count", "active-route-count", "holddown-route-count", "hidden-route-count")
# What the YANG puts under route-table, rt, rt-entry and nh that a `show route <address>` reply
# may carry; the rest of the (large) YANG is protocol detail this harness does not read.
_KNOWN = {
    "route-table": {"table-name", *COUNTS, "restart-state", "protocols", "rt"},
    "rt": {"rt-destination", "rt-prefix-length", "rt-entry"},
    "rt-entry": {"active-tag", "current-active", "last-active", "protocol-name", "preference", "preference2", "age",
                 "metric", "metric2", "local-preference", "as-path", "validation-state", "learned-from", "nh",
                 "nh-type", "rt-tag", "announce-bits", "announce-tasks", "task-name"},
    "nh": {"selected-next-hop", "to", "via", "nh-local-interface", "nh-table", "nh-type", "nh-index"},
}


def xml(answer: RouteAnswer) -> str:
    root = ET.Element(ROOT)
    table = xmlreply.leaves(ET.SubElement(root, "route-table"), {
        "table-name": "inet.0", "destination-count": answer.destinations, "total-route-count": answer.destinations,
        "active-route-count": answer.active, "holddown-route-count": 0, "hidden-route-count": answer.hidden})
    r = answer.route
    if r:
        rt = xmlreply.leaves(ET.SubElement(table, "rt"), {"rt-destination": r.prefix})
        entry = xmlreply.leaves(ET.SubElement(rt, "rt-entry"), {
            "active-tag": "*" if r.active else "", "protocol-name": r.protocol, "preference": preference(r.protocol)})
        nh = ET.SubElement(entry, "nh")
        if r.active:
            ET.SubElement(nh, "selected-next-hop")
        xmlreply.leaves(nh, {"to": r.next_hop, "via": r.interface})
    return xmlreply.to_string(root)


def parse_xml(text: str) -> RouteAnswer:
    cmd = f"{COMMAND} | display xml"
    root = xmlreply.roots(text, ROOT, cmd)[0]
    xmlreply.children(root, {"route-table"}, cmd)
    table = root.find("route-table")
    if table is None:
        raise UnknownField(cmd, 0, root.tag, "reply without route-table")
    found = xmlreply.children(table, _KNOWN["route-table"], cmd)
    rt = found.get("rt")
    route = None
    if rt is not None:
        entry = xmlreply.children(rt, _KNOWN["rt"], cmd).get("rt-entry")
        if entry is None or xmlreply.children(entry, _KNOWN["rt-entry"], cmd).get("nh") is None:
            raise UnknownField(cmd, 0, "rt", "route without rt-entry/nh")
        nh = xmlreply.children(entry.find("nh"), _KNOWN["nh"], cmd)
        route = Route(rt.findtext("rt-destination") or "", xmlreply.text_of(nh, "to"),
                      xmlreply.text_of(nh, "via", ""), entry.findtext("protocol-name") or "",
                      (entry.findtext("active-tag") or "").strip() == "*")
    return RouteAnswer(route, *(xmlreply.number(found, tag, cmd) for tag in
                                ("destination-count", "active-route-count", "hidden-route-count")))
