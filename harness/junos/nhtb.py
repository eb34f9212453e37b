"""`show security ipsec next-hop-tunnels`: the NHTB table, text and `| display xml` (the XML
names are the harness's own, in Junos's style)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from . import xmlreply
from .records import NhtbEntry
from .textreply import UnknownField, lines, table, table_rows

COMMAND = "show security ipsec next-hop-tunnels"
HEADER = ("Next-hop gateway", "interface", "IPsec VPN name", "Flag")


def rows(entries: list[NhtbEntry]) -> list[tuple[str, str, str, str]]:
    """The table's rows, in the header's order (one place for the NHTB row's layout)."""
    return [(e.next_hop, e.interface, e.vpn, e.flag) for e in entries]


def text(entries: list[NhtbEntry]) -> str:
    """Nothing at all on a spoke, as on Westford."""
    return table(rows(entries), HEADER) if entries else ""


def parse_text(text: str) -> list[NhtbEntry]:
    if not any(ln.strip() for _, ln in lines(text)):
        return []  # a spoke prints nothing
    out = []
    for n, cells in table_rows(text, COMMAND, list(HEADER)):
        if len(cells) != 4:
            raise UnknownField(COMMAND, n, " ".join(cells), "row")
        out.append(NhtbEntry(*cells))
    return out


ROOT, ITEM = "ipsec-next-hop-tunnel-information", "ipsec-next-hop-tunnel"
FIELDS = {"next_hop": "next-hop-gateway", "interface": "interface-name", "vpn": "ipsec-vpn-name", "flag": "flag"}


def xml(entries: list[NhtbEntry]) -> str:
    root = ET.Element(ROOT)
    for e in entries:
        xmlreply.record(root, ITEM, e, FIELDS)
    return xmlreply.to_string(root)


def parse_xml(text: str) -> list[NhtbEntry]:
    cmd = f"{COMMAND} | display xml"
    root = xmlreply.root(text, ROOT, cmd)
    return [NhtbEntry(**xmlreply.fields_of(el, NhtbEntry, FIELDS, cmd)) for el in root.findall(ITEM)]
