"""`| display xml` (and `| display json`) for the note's operational commands: rendering the
driver's data as Junos RPC replies (the stand-ins' CLI) and parsing them back (the SSH driver).

Element names follow Junos where they are publicly documented: get-ike-security-associations-
information (ike-security-associations, ike-sa-index, ike-sa-remote-address, ike-sa-state,
ike-sa-initiator-cookie, ike-sa-responder-cookie, ike-sa-exchange-type), get-security-
associations-information (ipsec-security-associations-block, ipsec-security-associations,
sa-direction, sa-tunnel-index, sa-spi, sa-remote-gateway, sa-port, sa-protocol,
sa-esp-encryption-algorithm, sa-hmac-algorithm, sa-hard-lifetime, sa-lifesize-remaining,
sa-virtual-system) and get-route-information (route-table, rt, rt-destination, rt-entry,
active-tag, protocol-name, nh, to, via). The rest (detail fields, next-hop tunnels, statistics)
are named in the same style but are this harness's own: a reply with an element the parser does
not know raises UnknownField, and the SSH driver then reads the text table instead.
"""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from typing import get_type_hints

from .base import IkeSA, IpsecSA, IpsecStats, NhtbEntry, Route
from .junos_text import UnknownField

IKE_ROOT, IKE_ITEM = "ike-security-associations-information", "ike-security-associations"
IKE_FIELDS = {
    "index": "ike-sa-index", "remote": "ike-sa-remote-address", "state": "ike-sa-state",
    "initiator_cookie": "ike-sa-initiator-cookie", "responder_cookie": "ike-sa-responder-cookie",
    "mode": "ike-sa-exchange-type", "name": "ike-sa-vpn-name", "role": "ike-sa-role",
    "local": "ike-sa-local-address", "local_port": "ike-sa-local-port", "remote_port": "ike-sa-remote-port",
    "lifetime_remaining": "ike-sa-lifetime-remaining", "authentication": "ike-sa-authentication-algorithm",
    "encryption": "ike-sa-encryption-algorithm", "prf": "ike-sa-prf-algorithm", "dh_group": "ike-sa-dhgroup",
    "input_bytes": "ike-sa-input-bytes", "output_bytes": "ike-sa-output-bytes",
    "input_packets": "ike-sa-input-packets", "output_packets": "ike-sa-output-packets",
    "ipsec_created": "ike-sa-ipsec-sa-created", "ipsec_deleted": "ike-sa-ipsec-sa-deleted",
}
IPSEC_ROOT, IPSEC_BLOCK, IPSEC_DIR = ("ipsec-security-associations-information", "ipsec-security-associations-block",
                                      "ipsec-security-associations")
IPSEC_FIELDS = {
    "index": "sa-tunnel-index", "name": "sa-vpn-name", "local_gateway": "sa-local-gateway",
    "gateway": "sa-remote-gateway", "port": "sa-port", "protocol": "sa-protocol",
    "encryption": "sa-esp-encryption-algorithm", "authentication": "sa-hmac-algorithm",
    "life_seconds": "sa-hard-lifetime", "life_kb": "sa-lifesize-remaining", "monitoring": "sa-vpn-monitoring-state",
    "vsys": "sa-virtual-system", "local_identity": "sa-local-identity", "remote_identity": "sa-remote-identity",
    "mode": "sa-mode", "pfs_group": "sa-pfs-group", "state": "sa-block-state", "replay_window": "sa-replay-window-size",
    "soft_lifetime": "sa-soft-lifetime",
}
NHTB_ROOT, NHTB_ITEM = "ipsec-next-hop-tunnel-information", "ipsec-next-hop-tunnel"
NHTB_FIELDS = {"next_hop": "next-hop-gateway", "interface": "interface-name", "vpn": "ipsec-vpn-name", "flag": "flag"}
STATS_ROOT, STATS_ITEM = "ipsec-statistics-information", "ipsec-statistics"
STATS_FIELDS = {f.name: f.name.replace("_", "-") for f in dataclasses.fields(IpsecStats)}
ROUTE_ROOT = "route-information"


def _text(value) -> str:
    return "" if value is None else str(value)


def _record(parent: ET.Element, tag: str, obj, fields: dict[str, str], skip: tuple[str, ...] = ()) -> ET.Element:
    el = ET.SubElement(parent, tag)
    for attr, name in fields.items():
        if attr not in skip:
            ET.SubElement(el, name).text = _text(getattr(obj, attr))
    return el


def _to_string(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def ike_sas_xml(sas: list[IkeSA]) -> str:
    root = ET.Element(IKE_ROOT)
    for s in sas:
        _record(root, IKE_ITEM, s, IKE_FIELDS)
    return _to_string(root)


def ipsec_sas_xml(sas: list[IpsecSA]) -> str:
    root = ET.Element(IPSEC_ROOT)
    ET.SubElement(root, "total-active-tunnels").text = str(len(sas))
    for s in sas:
        block = _record(root, IPSEC_BLOCK, s, IPSEC_FIELDS)
        block.tag = IPSEC_BLOCK
        for direction, spi in (("<", s.spi_in), (">", s.spi_out)):
            d = ET.SubElement(block, IPSEC_DIR)
            ET.SubElement(d, "sa-direction").text = direction
            ET.SubElement(d, "sa-spi").text = spi
    return _to_string(root)


def nhtb_xml(entries: list[NhtbEntry]) -> str:
    root = ET.Element(NHTB_ROOT)
    for e in entries:
        _record(root, NHTB_ITEM, e, NHTB_FIELDS)
    return _to_string(root)


def stats_xml(st: IpsecStats) -> str:
    root = ET.Element(STATS_ROOT)
    _record(root, STATS_ITEM, st, STATS_FIELDS)
    return _to_string(root)


def route_xml(answer: dict) -> str:
    root = ET.Element(ROUTE_ROOT)
    table = ET.SubElement(root, "route-table")
    for tag, value in (("table-name", "inet.0"), ("destination-count", answer["destinations"]),
                       ("total-route-count", answer["destinations"]), ("active-route-count", answer["active"]),
                       ("holddown-route-count", 0), ("hidden-route-count", answer["hidden"])):
        ET.SubElement(table, tag).text = str(value)
    r = answer.get("route")
    if r:
        rt = ET.SubElement(table, "rt")
        ET.SubElement(rt, "rt-destination").text = r["prefix"]
        entry = ET.SubElement(rt, "rt-entry")
        ET.SubElement(entry, "active-tag").text = "*" if r["active"] else ""
        ET.SubElement(entry, "protocol-name").text = r["protocol"]
        ET.SubElement(entry, "preference").text = "0" if r["protocol"] == "Direct" else "5"
        nh = ET.SubElement(entry, "nh")
        if r["next_hop"]:
            ET.SubElement(nh, "to").text = r["next_hop"]
        ET.SubElement(nh, "via").text = r["interface"]
    return _to_string(root)


# ---- parsing ---------------------------------------------------------------------------------
def _root(text: str, want: str, command: str) -> ET.Element:
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as e:
        raise UnknownField(command, 0, text[:80], f"XML ({e})") from None
    if root.tag == "rpc-reply" and len(root):
        root = root[0]
    if root.tag != want:
        raise UnknownField(command, 0, root.tag, "reply element")
    return root


def _convert(cls, attr: str, text: str | None):
    kind = get_type_hints(cls)[attr]
    if text is None or text == "":
        return None if "None" in str(kind) else ("" if kind is str else 0)
    return int(text) if kind in (int, int | None) else text


def _fields_of(el: ET.Element, cls, fields: dict[str, str], command: str, extra: tuple[str, ...] = ()) -> dict:
    by_name = {v: k for k, v in fields.items()}
    values = {}
    for child in el:
        if child.tag in extra:
            continue
        attr = by_name.get(child.tag)
        if attr is None:
            raise UnknownField(command, 0, child.tag, "element")
        try:
            values[attr] = _convert(cls, attr, child.text)
        except ValueError:
            raise UnknownField(command, 0, f"{child.tag}={child.text}", "value") from None
    missing = [f.name for f in dataclasses.fields(cls) if f.name in fields and f.name not in values
               and f.default is dataclasses.MISSING]
    if missing:
        raise UnknownField(command, 0, ", ".join(fields[m] for m in missing), "missing element")
    return values


def parse_ike_sas(text: str) -> list[IkeSA]:
    cmd = "show security ike security-associations | display xml"
    root = _root(text, IKE_ROOT, cmd)
    return [IkeSA(**_fields_of(el, IkeSA, IKE_FIELDS, cmd)) for el in root.findall(IKE_ITEM)]


def parse_ipsec_sas(text: str) -> list[IpsecSA]:
    cmd = "show security ipsec security-associations | display xml"
    root = _root(text, IPSEC_ROOT, cmd)
    out = []
    for block in root.findall(IPSEC_BLOCK):
        values = _fields_of(block, IpsecSA, IPSEC_FIELDS, cmd, extra=(IPSEC_DIR,))
        spis = {d.findtext("sa-direction"): d.findtext("sa-spi") or "" for d in block.findall(IPSEC_DIR)}
        out.append(IpsecSA(**values, spi_in=spis.get("<", ""), spi_out=spis.get(">", "")))
    return out


def parse_nhtb(text: str) -> list[NhtbEntry]:
    cmd = "show security ipsec next-hop-tunnels | display xml"
    root = _root(text, NHTB_ROOT, cmd)
    return [NhtbEntry(**_fields_of(el, NhtbEntry, NHTB_FIELDS, cmd)) for el in root.findall(NHTB_ITEM)]


def parse_stats(text: str) -> IpsecStats:
    cmd = "show security ipsec statistics | display xml"
    el = _root(text, STATS_ROOT, cmd).find(STATS_ITEM)
    if el is None:
        raise UnknownField(cmd, 0, "", f"no {STATS_ITEM}")
    return IpsecStats(**_fields_of(el, IpsecStats, STATS_FIELDS, cmd))


def parse_route(text: str) -> Route | None:
    cmd = "show route | display xml"
    root = _root(text, ROUTE_ROOT, cmd)
    rt = root.find("route-table/rt")
    if rt is None:
        return None
    entry = rt.find("rt-entry")
    if entry is None or entry.find("nh") is None:
        raise UnknownField(cmd, 0, "rt", "route without rt-entry/nh")
    nh = entry.find("nh")
    return Route(rt.findtext("rt-destination") or "", nh.findtext("to"), nh.findtext("via") or "",
                 entry.findtext("protocol-name") or "", (entry.findtext("active-tag") or "").strip() == "*")


# ---- `| display json`: Junos's JSON rendering of the same reply ------------------------------------
def _json_of(el: ET.Element):
    if len(el) == 0:
        return [{"data": el.text or ""}]
    out: dict = {}
    for child in el:
        out.setdefault(child.tag, []).extend(_json_of(child) if len(child) == 0 else [_json_of(child)])
    return out


def to_json(xml_text: str) -> str:
    root = ET.fromstring(xml_text)
    return json.dumps({root.tag: [_json_of(root)]}, indent=4) + "\n"
