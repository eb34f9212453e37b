"""`show security ipsec next-hop-tunnels`: the NHTB table, text and `| display xml`.

Text: the note's columns (Next-hop gateway, interface, IPsec VPN name, Flag), laid out as the
JUNOS ES 9.3 documentation prints them in the current layout; a header may add IKE-ID and XAUTH
username columns (later releases document them; no public sample prints them).
XML: the YANG declares no output for get-ipsec-next-hop-tunnel-information and no real reply is
public, so every element name here is the harness's own (in Junos's style).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from . import xmlreply
from .records import NhtbEntry
from .textreply import UnknownField, check_layout, collapse, columns, content, table

COMMAND = "show security ipsec next-hop-tunnels"
HEADER = ("Next-hop gateway", "interface", "IPsec VPN name", "Flag")
# Every column a header may hold, by the record's field.
COLUMNS = {"Next-hop gateway": "next_hop", "interface": "interface", "IPsec VPN name": "vpn", "Flag": "flag",
           "IKE-ID": "ike_id", "XAUTH username": "xauth_user"}
_STOPS = (0, 18, 30, 64)  # the 9.3 documentation's column starts
HEADER_FIELDS = {COLUMNS[c] for c in HEADER}  # what every form carries


def rows(entries: list[NhtbEntry]) -> list[tuple[str, str, str, str]]:
    """The table's rows, in the header's order (one place for the NHTB row's layout)."""
    return [(e.next_hop, e.interface, e.vpn, e.flag) for e in entries]


def text(entries: list[NhtbEntry], layout: str = "current") -> str:
    """Nothing at all on a spoke, as on Westford."""
    if not entries:
        return ""
    return table(rows(entries), HEADER) if check_layout(layout) == "2009" else columns([HEADER, *rows(entries)], _STOPS)


def _header(n: int, line: str) -> list[str]:
    """The header's columns, left to right; a word that starts no known column is unknown."""
    rest, out = collapse(line), []
    while rest:
        name = next((c for c in COLUMNS if rest == c or rest.startswith(c + " ")), None)
        if name is None:
            raise UnknownField(COMMAND, n, line, "header")
        out.append(name)
        rest = rest[len(name):].lstrip()
    if not set(HEADER) <= set(out):
        raise UnknownField(COMMAND, n, line, "header")
    return out


def parse_text(text: str) -> list[NhtbEntry]:
    found = content(text)
    if not found:
        return []  # a spoke prints nothing
    (n0, head), *body = found
    names = _header(n0, head)
    out = []
    for n, ln in body:
        cells = ln.split()
        if len(cells) != len(names):
            raise UnknownField(COMMAND, n, ln, "row")
        out.append(NhtbEntry(**{COLUMNS[c]: v for c, v in zip(names, cells)}))
    return out


ROOT, ITEM = "ipsec-next-hop-tunnel-information", "ipsec-next-hop-tunnel"
FIELDS = {"next_hop": "next-hop-gateway", "interface": "interface-name", "vpn": "ipsec-vpn-name", "flag": "flag",
          "ike_id": "ike-id", "xauth_user": "xauth-username"}


def xml(entries: list[NhtbEntry]) -> str:
    root = ET.Element(ROOT)
    for e in entries:
        xmlreply.leaves(ET.SubElement(root, ITEM), {tag: getattr(e, f) or None for f, tag in FIELDS.items()})
    return xmlreply.to_string(root)


def parse_xml(text: str) -> list[NhtbEntry]:
    cmd = f"{COMMAND} | display xml"
    out = []
    for root in xmlreply.roots(text, ROOT, cmd):
        xmlreply.children(root, {ITEM}, cmd)
        for el in root:
            found = xmlreply.children(el, set(FIELDS.values()), cmd)
            missing = [tag for f, tag in FIELDS.items() if f in HEADER_FIELDS and tag not in found]
            if missing:
                raise UnknownField(cmd, 0, ", ".join(missing), "missing element")
            out.append(NhtbEntry(**{f: xmlreply.text_of(found, tag, "") for f, tag in FIELDS.items()}))
    return out

