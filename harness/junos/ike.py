"""`show security ike security-associations [index N] [detail]`: text and `| display xml`,
rendered from IkeSA records and parsed back into them.

XML names follow Junos's get-ike-security-associations-information reply where it is publicly
documented (ike-security-associations, ike-sa-index, ike-sa-remote-address, ike-sa-state,
ike-sa-initiator-cookie, ike-sa-responder-cookie, ike-sa-exchange-type); the detail fields are
named in the same style but are this harness's own.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Callable

from . import xmlreply
from .records import IkeSA
from .textreply import UnknownField, expires, key_values, lines, nonempty, seconds, table, table_rows

COMMAND = "show security ike security-associations"
TABLE = ["Index", "Remote Address", "State", "Initiator cookie", "Responder cookie", "Mode"]


# ---- text --------------------------------------------------------------------------------------
def text(sas: list[IkeSA], detail: bool = False) -> str:
    if not detail:
        return table([(s.index, s.remote, s.state, s.initiator_cookie, s.responder_cookie, s.mode) for s in sas],
                     tuple(TABLE))
    return "\n".join(f"""IKE peer {s.remote}, Index {s.index},
  Role: {s.role}, State: {s.state}
  Initiator cookie: {s.initiator_cookie}, Responder cookie: {s.responder_cookie}
  Exchange type: {s.mode}, Authentication method: Pre-shared-keys
  Local: {s.local}:{s.local_port}, Remote: {s.remote}:{s.remote_port}
  Lifetime: {expires(s.lifetime_remaining)}
  Algorithms:
    Authentication        : {s.authentication}
    Encryption            : {s.encryption}
    Pseudo random function: {s.prf}
    Diffie-Hellman group  : {s.dh_group}
  Traffic statistics:
    Input bytes   : {s.input_bytes:>12}
    Output bytes  : {s.output_bytes:>12}
    Input packets : {s.input_packets:>12}
    Output packets: {s.output_packets:>12}
  IPsec security associations: {s.ipsec_created} created, {s.ipsec_deleted} deleted
""" for s in sas)


def parse_table(text: str) -> list[dict]:
    """The brief table, one dict per row, fields as printed."""
    out = []
    for n, cells in table_rows(text, COMMAND, TABLE):
        if len(cells) != 6:
            raise UnknownField(COMMAND, n, " ".join(cells), "row")
        out.append({"index": int(cells[0]), "remote_address": cells[1], "state": cells[2],
                    "initiator_cookie": cells[3], "responder_cookie": cells[4], "mode": cells[5]})
    return nonempty(text, out, COMMAND)


_KEYS = {
    "Role": "role", "State": "state", "Initiator cookie": "initiator_cookie", "Responder cookie": "responder_cookie",
    "Exchange type": "exchange_type", "Authentication method": "authentication_method", "Local": "local",
    "Remote": "remote", "Lifetime": "lifetime", "Flags": "flags",
    "IPsec security associations": "ipsec_security_associations",
    "Phase 2 negotiations in progress": "phase2_negotiations_in_progress",
}
_NEGOTIATION_KEYS = {"Negotiation type": "negotiation_type", "Role": "role", "Message ID": "message_id",
                     "Local": "local", "Remote": "remote", "Local identity": "local_identity",
                     "Remote identity": "remote_identity", "Flags": "flags"}
_ALGORITHMS = {"Authentication": "authentication", "Encryption": "encryption",
               "Pseudo random function": "prf", "Diffie-Hellman group": "dh_group"}
_TRAFFIC = {"Input bytes": "input_bytes", "Output bytes": "output_bytes", "Input packets": "input_packets",
            "Output packets": "output_packets"}


def parse_detail(text: str) -> list[dict]:
    """The detail form: one dict per IKE peer, fields as printed."""
    cmd = f"{COMMAND} detail"
    peers: list[dict] = []
    cur: dict | None = None
    target: dict | None = None
    section, section_indent = None, 0
    for n, ln in lines(text):
        if not ln.strip():
            section = None
            continue
        m = re.match(r"^IKE peer (\S+), Index (\d+),?$", ln.strip())
        if m:
            cur = {"peer": m.group(1), "index": int(m.group(2)), "algorithms": {}, "traffic": {}, "negotiations": []}
            peers.append(cur)
            target, section = cur, None
            continue
        if cur is None:
            raise UnknownField(cmd, n, ln, "line")
        stripped = ln.strip()
        indent = len(ln) - len(ln.lstrip())
        if stripped in ("Algorithms:", "Traffic statistics:"):
            section, section_indent = stripped[:-1], indent
            continue
        if section and indent <= section_indent:  # the block ends where the indentation drops back
            section = None
        if section:
            m = re.match(r"^(.+?)\s*:\s*(.+)$", stripped)
            known = _ALGORITHMS if section == "Algorithms" else _TRAFFIC
            if not m or m.group(1).strip() not in known:
                raise UnknownField(cmd, n, ln)
            value = m.group(2).strip()
            (cur["algorithms"] if section == "Algorithms" else cur["traffic"])[known[m.group(1).strip()]] = \
                int(value) if section != "Algorithms" else value
            continue
        pairs = key_values(ln)
        if pairs[0][0] == "Negotiation type":
            target = {}
            cur["negotiations"].append(target)
        keys = _NEGOTIATION_KEYS if target is not cur else _KEYS
        for key, value in pairs:
            if key not in keys:
                raise UnknownField(cmd, n, ln)
            name = keys[key]
            if name == "lifetime":
                target["lifetime_seconds"] = seconds(value)
            elif name == "flags":
                target["flags"] = [f.strip() for f in value.split(",")]
            elif name == "ipsec_security_associations":
                m2 = re.match(r"(\d+) created, (\d+) deleted", value)
                if not m2:
                    raise UnknownField(cmd, n, ln, "value")
                target["ipsec_sas_created"], target["ipsec_sas_deleted"] = int(m2.group(1)), int(m2.group(2))
            elif name in ("phase2_negotiations_in_progress", "message_id"):
                target[name] = int(value)
            else:
                target[name] = value
    return nonempty(text, peers, cmd)


def parse_text(detail: str, vpn_for: Callable[[str], str] = lambda remote: "") -> list[IkeSA]:
    """The detail form as records; `vpn_for` names the VPN of a remote address (Junos names the
    peer, not the VPN, per IKE SA)."""
    out = []
    for d in parse_detail(detail):
        local, _, lport = d["local"].partition(":")
        _, _, rport = d["remote"].partition(":")
        alg, traffic = d.get("algorithms", {}), d.get("traffic", {})
        out.append(IkeSA(d["index"], vpn_for(d["peer"]), d["peer"], d["state"], d["initiator_cookie"],
                         d["responder_cookie"], d["exchange_type"], d["role"], local, int(lport or 500),
                         int(rport or 500), d.get("lifetime_seconds"), alg.get("authentication", ""),
                         alg.get("encryption", ""), alg.get("prf", ""), alg.get("dh_group", ""),
                         traffic.get("input_bytes", 0), traffic.get("output_bytes", 0),
                         traffic.get("input_packets", 0), traffic.get("output_packets", 0),
                         d.get("ipsec_sas_created", 0), d.get("ipsec_sas_deleted", 0)))
    return out


# ---- | display xml -----------------------------------------------------------------------------
ROOT, ITEM = "ike-security-associations-information", "ike-security-associations"
FIELDS = {
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


def xml(sas: list[IkeSA]) -> str:
    root = ET.Element(ROOT)
    for s in sas:
        xmlreply.record(root, ITEM, s, FIELDS)
    return xmlreply.to_string(root)


def parse_xml(text: str) -> list[IkeSA]:
    cmd = f"{COMMAND} | display xml"
    root = xmlreply.root(text, ROOT, cmd)
    return [IkeSA(**xmlreply.fields_of(el, IkeSA, FIELDS, cmd)) for el in root.findall(ITEM)]
