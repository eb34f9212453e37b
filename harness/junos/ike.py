"""`show security ike security-associations [index N] [detail]`: text in the current layout and
the note's 2009 one, and `| display xml`, rendered from IkeSA records and parsed back into them.

XML follows Juniper's RPC YANG (get-ike-security-associations-information, junos-es-rpc-security
24.4R1): brief rows are `ike-security-associations` under `ike-security-associations-information`;
the detail form is one `ike-security-associations-block` per peer (ike-sa-remote-address,
ike-sa-index, ike-gw-name) holding an `ike-security-associations` with the SA's fields and its
ike-sa-algorithms / ike-sa-traffic-statistics / ike-sa-misc containers. Junos names the gateway,
never the VPN: the record's `name` comes from the caller's `vpn_for(remote, gateway)`.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Callable

from . import xmlreply
from .records import IkeSA
from .textreply import (DH_WORDS, UnknownField, Words, check_layout, collapse, columns, expires, key_values,
                        lines, nonempty, seconds, table, table_rows)

COMMAND = "show security ike security-associations"
HEADERS = {
    "current": ("Index", "State", "Initiator cookie", "Responder cookie", "Mode", "Remote Address"),
    "2009": ("Index", "Remote Address", "State", "Initiator cookie", "Responder cookie", "Mode"),
}
_STOPS = (0, 8, 15, 33, 51, 66)  # the current table's column starts (an 8-digit index pushes the rest)
_ROW_KEYS = {"Index": "index", "Remote Address": "remote_address", "State": "state",
             "Initiator cookie": "initiator_cookie", "Responder cookie": "responder_cookie", "Mode": "mode"}

VpnFor = Callable[[str, str], str]  # (remote address, gateway name or "") -> VPN name


def _no_vpn(remote: str, gateway: str) -> str:
    return ""


# What current releases print for the configuration's words (the 2009 note prints them as configured).
AUTH_WORDS = Words(((r"(sha1|md5)", r"hmac-\1-96", r"hmac-(sha1|md5)-96", r"\1"),
                    (r"sha-(256|384|512)", r"hmac-sha\1-128", r"hmac-sha(256|384|512)-128", r"sha-\1")))
ENC_WORDS = Words(((r"aes-(\d+)-(cbc|gcm)", r"aes\1-\2", r"aes(\d+)-(cbc|gcm)", r"aes-\1-\2"),))


def _cells(s: IkeSA, layout: str) -> tuple:
    by_key = {"index": s.index, "remote_address": s.remote, "state": s.state,
              "initiator_cookie": s.initiator_cookie, "responder_cookie": s.responder_cookie, "mode": s.mode}
    return tuple(by_key[_ROW_KEYS[h]] for h in HEADERS[layout])


# ---- text --------------------------------------------------------------------------------------
def text(sas: list[IkeSA], detail: bool = False, layout: str = "current") -> str:
    check_layout(layout)
    if detail:
        return "\n".join((_detail_current if layout == "current" else _detail_2009)(s) for s in sas)
    if layout == "2009":
        return table([_cells(s, layout) for s in sas], HEADERS[layout])
    return columns([HEADERS[layout], *(_cells(s, layout) for s in sas)], _STOPS) if sas else ""


def _detail_2009(s: IkeSA) -> str:
    return f"""IKE peer {s.remote}, Index {s.index},
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
"""


def _detail_current(s: IkeSA) -> str:
    """As 15.1X49 and later print it (the 2018 cluster sample, with its spacing restored)."""
    return f"""IKE peer {s.remote}, Index {s.index}, Gateway Name: {s.gateway}
  Role: {s.role}, State: {s.state}
  Initiator cookie: {s.initiator_cookie}, Responder cookie: {s.responder_cookie}
  Exchange type: {s.mode}, Authentication method: Pre-shared-keys
  Local: {s.local}:{s.local_port}, Remote: {s.remote}:{s.remote_port}
  Lifetime: {expires(s.lifetime_remaining)}
  Reauth Lifetime: Disabled
  IKE Fragmentation: Disabled, Size: 0
  Remote Access Client Info: Unknown Client
  Peer ike-id: {s.remote}
  AAA assigned IP: 0.0.0.0
  Algorithms:
   Authentication        : {AUTH_WORDS.printed(s.authentication)}
   Encryption            : {ENC_WORDS.printed(s.encryption)}
   Pseudo random function: {s.prf}
   Diffie-Hellman group  : {DH_WORDS.printed(s.dh_group)}
  Traffic statistics:
   Input  bytes  :            {s.input_bytes:>12}
   Output bytes  :            {s.output_bytes:>12}
   Input  packets:            {s.input_packets:>12}
   Output packets:            {s.output_packets:>12}
   Input  fragmentated packets: 0
   Output fragmentated packets: 0
  IPSec security associations: {s.ipsec_created} created, {s.ipsec_deleted} deleted
  Phase 2 negotiations in progress: 0
"""


def parse_table(text: str) -> list[dict]:
    """The brief table in either layout, one dict per row, fields as printed."""
    layout, rows = table_rows(text, COMMAND, HEADERS)
    out = []
    for n, cells in rows:
        if len(cells) != 6:
            raise UnknownField(COMMAND, n, " ".join(cells), "row")
        row = {_ROW_KEYS[h]: c for h, c in zip(HEADERS[layout], cells)}
        if not row["index"].isdigit():
            raise UnknownField(COMMAND, n, " ".join(cells), "row")
        out.append({**row, "index": int(row["index"])})
    return out


_KEYS = {
    "Role": "role", "State": "state", "Initiator cookie": "initiator_cookie", "Responder cookie": "responder_cookie",
    "Exchange type": "exchange_type", "Authentication method": "authentication_method", "Local": "local",
    "Remote": "remote", "Lifetime": "lifetime", "Flags": "flags",
    "IPsec security associations": "ipsec_security_associations",
    "IPSec security associations": "ipsec_security_associations",  # current releases spell it so
    "Phase 2 negotiations in progress": "phase2_negotiations_in_progress",
    # current releases
    "Reauth Lifetime": "reauth_lifetime", "IKE Fragmentation": "ike_fragmentation", "Size": "fragmentation_size",
    "Remote Access Client Info": "remote_access_client_info", "Peer ike-id": "peer_ike_id",
    "AAA assigned IP": "aaa_assigned_ip", "Local gateway interface": "local_gateway_interface",
    "Routing instance": "routing_instance",
}
_NEGOTIATION_KEYS = {"Negotiation type": "negotiation_type", "Role": "role", "Message ID": "message_id",
                     "Local": "local", "Remote": "remote", "Local identity": "local_identity",
                     "Remote identity": "remote_identity", "Flags": "flags"}
_SECTIONS = {
    "Algorithms": {"Authentication": "authentication", "Encryption": "encryption",
                   "Pseudo random function": "prf", "Diffie-Hellman group": "dh_group"},
    "Traffic statistics": {"Input bytes": "input_bytes", "Output bytes": "output_bytes",
                           "Input packets": "input_packets", "Output packets": "output_packets",
                           "Input fragmentated packets": "input_fragmented_packets",
                           "Output fragmentated packets": "output_fragmented_packets"},
}
_PEER = re.compile(r"^IKE peer (\S+), Index (\d+),(?: Gateway Name: ?(\S*))?$")
_NUMBERS = {"phase2_negotiations_in_progress", "message_id", "fragmentation_size"}


def _peer_value(target: dict, name: str, value: str, cmd: str, n: int, ln: str) -> None:
    if name == "lifetime":
        target["lifetime_seconds"] = seconds(value)
    elif name == "flags":
        target["flags"] = [f.strip() for f in value.split(",")]
    elif name == "ipsec_security_associations":
        m = re.match(r"^(\d+) created, (\d+) deleted$", value)
        if not m:
            raise UnknownField(cmd, n, ln, "value")
        target["ipsec_sas_created"], target["ipsec_sas_deleted"] = int(m.group(1)), int(m.group(2))
    elif name in _NUMBERS:
        if not value.isdigit():
            raise UnknownField(cmd, n, ln, "value")
        target[name] = int(value)
    else:
        target[name] = value


def _section_line(cur: dict, section: str, ln: str) -> bool:
    """A line of an Algorithms/Traffic statistics block, stored; False when the line is not one
    (the block ended: a whitespace-collapsed copy has no indentation to say so)."""
    pairs = key_values(ln)
    known = _SECTIONS[section]
    if len(pairs) != 1 or pairs[0][0] not in known:
        return False
    name, value = known[pairs[0][0]], pairs[0][1]
    if section == "Algorithms":
        cur["algorithms"][name] = value
    elif value.isdigit():
        cur["traffic"][name] = int(value)
    else:
        return False
    return True


def parse_detail(text: str) -> list[dict]:
    """The detail form in either layout: one dict per IKE peer, fields as printed (the current
    layout adds gateway_name and the lines 2009 lacked)."""
    cmd = f"{COMMAND} detail"
    peers: list[dict] = []
    cur: dict | None = None
    target: dict | None = None
    section = None
    for n, ln in lines(text):
        if not ln.strip():
            section = None
            continue
        if m := _PEER.match(collapse(ln)):
            cur = {"peer": m.group(1), "index": int(m.group(2)), "algorithms": {}, "traffic": {}, "negotiations": []}
            if m.group(3) is not None:
                cur["gateway_name"] = m.group(3)
            peers.append(cur)
            target, section = cur, None
            continue
        if cur is None:
            raise UnknownField(cmd, n, ln, "line")
        if collapse(ln).rstrip(":") in _SECTIONS and collapse(ln).endswith(":"):
            section = collapse(ln)[:-1]
            continue
        if section and _section_line(cur, section, ln):
            continue
        section = None
        pairs = key_values(ln)
        if pairs[0][0] == "Negotiation type":
            target = {}
            cur["negotiations"].append(target)
        keys = _NEGOTIATION_KEYS if target is not cur else _KEYS
        for key, value in pairs:
            if key not in keys:
                raise UnknownField(cmd, n, ln)
            _peer_value(target, keys[key], value, cmd, n, ln)
    return nonempty(text, peers, cmd)


_DEFAULTS = dict(name="", role="", local="", local_port=500, remote_port=500, lifetime_remaining=None,
                 authentication="", encryption="", prf="", dh_group="", input_bytes=0, output_bytes=0,
                 input_packets=0, output_packets=0, ipsec_created=0, ipsec_deleted=0)


def _record(values: dict) -> IkeSA:
    """A record from what a form carries; what it does not carry stays empty (0, "", None)."""
    return IkeSA(**{**_DEFAULTS, **values})


def _port(address_port: str) -> tuple[str, int]:
    address, _, port = address_port.partition(":")
    return address, int(port or 500)


def parse_text(detail: str, vpn_for: VpnFor = _no_vpn) -> list[IkeSA]:
    """The detail form (either layout) as records. The current layout's words are read back into
    the configuration's (hmac-sha1-96 -> sha1, DH-group-2 -> group2)."""
    out = []
    for d in parse_detail(detail):
        current = "gateway_name" in d
        local, lport = _port(d["local"])
        _, rport = _port(d["remote"])
        alg, traffic = d["algorithms"], d["traffic"]
        read = (lambda w, _words: w) if not current else (lambda w, words: words.read(w))
        out.append(_record(dict(
            index=d["index"], name=vpn_for(d["peer"], d.get("gateway_name", "")), remote=d["peer"],
            state=d["state"], initiator_cookie=d["initiator_cookie"], responder_cookie=d["responder_cookie"],
            mode=d["exchange_type"], role=d["role"], local=local, local_port=lport, remote_port=rport,
            lifetime_remaining=d.get("lifetime_seconds"),
            authentication=read(alg.get("authentication", ""), AUTH_WORDS),
            encryption=read(alg.get("encryption", ""), ENC_WORDS), prf=alg.get("prf", ""),
            dh_group=read(alg.get("dh_group", ""), DH_WORDS),
            **{k: traffic.get(k, 0) for k in ("input_bytes", "output_bytes", "input_packets", "output_packets")},
            ipsec_created=d.get("ipsec_sas_created", 0), ipsec_deleted=d.get("ipsec_sas_deleted", 0),
            gateway=d.get("gateway_name", ""))))
    return out


def table_records(text: str, vpn_for: VpnFor = _no_vpn) -> list[IkeSA]:
    """The brief table as records: index, remote, state, cookies and mode; the rest stays empty."""
    return [_record(dict(index=r["index"], name=vpn_for(r["remote_address"], ""), remote=r["remote_address"],
                         state=r["state"], initiator_cookie=r["initiator_cookie"],
                         responder_cookie=r["responder_cookie"], mode=r["mode"]))
            for r in parse_table(text)]


# ---- | display xml -----------------------------------------------------------------------------
ROOT, ROW, BLOCK = "ike-security-associations-information", "ike-security-associations", "ike-security-associations-block"
BRIEF = {"index": "ike-sa-index", "remote": "ike-sa-remote-address", "state": "ike-sa-state",
         "initiator_cookie": "ike-sa-initiator-cookie", "responder_cookie": "ike-sa-responder-cookie",
         "mode": "ike-sa-exchange-type"}
SA = {"role": "ike-sa-role", "state": "ike-sa-state", "initiator_cookie": "ike-sa-initiator-cookie",
      "responder_cookie": "ike-sa-responder-cookie", "mode": "ike-sa-exchange-type",
      "local": "ike-sa-local-address", "local_port": "ike-sa-local-port",
      "remote": "ike-sa-remote-address", "remote_port": "ike-sa-remote-port"}
ALGORITHMS = {"authentication": "ike-sa-authentication-algorithm", "encryption": "ike-sa-encryption-algorithm",
              "prf": "ike-sa-prf-algorithm", "dh_group": "ike-sa-dhgroup"}
TRAFFIC = {"input_bytes": "ike-sa-input-bytes", "output_bytes": "ike-sa-output-bytes",
           "input_packets": "ike-sa-input-packets", "output_packets": "ike-sa-output-packets"}
MISC = {"ipsec_created": "ike-sa-num-ipsec-sas-created", "ipsec_deleted": "ike-sa-num-ipsec-sas-deleted"}
_WORDS = {"authentication": AUTH_WORDS, "encryption": ENC_WORDS, "dh_group": DH_WORDS}

# Every name the YANG puts at each level; those the records do not carry are read past.
_YANG_COMMON = {"ike-sa-algorithms", "ike-sa-traffic-statistics", "ike-sa-misc", "ike-sa-payload-statistics",
                "ike-sa-stats-information", "ike-sa-reauthlifetime", "ike-sa-ike-frag", "ike-sa-frag-size",
                "ike-sa-routing-instance", "ike-sa-local-gateway-interface", "ike-ike-id"}
_KNOWN = {
    ROOT: {ROW, BLOCK, "ike-sa-stats-information"},
    ROW: set(BRIEF.values()) | _YANG_COMMON,
    BLOCK: {"ike-sa-remote-address", "ike-sa-index", "ike-gw-name", "ike-sa-location", "ike-sa-advpn-info",
            "ike-sa-advpn-suggester-shortcut-statistics", "ike-sa-advpn-partner-shortcut-statistics", ROW},
    "sa": set(SA.values()) | _YANG_COMMON | {
        "ike-sa-authentication-method", "ike-sa-lifetime", "ike-sa-srg-id", "ike-sa-remote-client-info",
        "ike-trusted-ca-profile-name", "ike-trusted-ca-group-name", "ike-ppk-profile", "ike-xauth-user-info",
        "ike-sa-phase2-information"},
    "ike-sa-algorithms": set(ALGORITHMS.values()) | {"ike-sa-sign-hash-algo", "ike-sa-sig-key-length"},
    "ike-sa-misc": set(MISC.values()) | {
        "ike-sa-flags", "ike-sa-num-phase2-negotiations", "ike-ipsec-sa-tunnel-ids", "ike-sa-num-ipsec-rekeys",
        "ike-sa-exchange-type", "ike-sa-r-u-there-ack-payloads-missed", "ike-sa-r-u-there-ack-payloads-maximum-delay",
        "ike-sa-r-u-there-ack-seq-payloads-missed", "ike-sa-dpd-response-payloads-missed",
        "ike-sa-dpd-response-payloads-maximum-delay", "ike-sa-dpd-response-seq-payloads-missed"} | {
        f"ike-sa-{what}-{way}" for way in ("received", "sent") for what in (
            "delete-payloads", "r-u-there-payloads", "r-u-there-ack-payloads", "dpd-request-payloads",
            "dpd-response-payloads", "invalid-spi-notifications")},
    "ike-sa-traffic-statistics": set(TRAFFIC.values()) | {
        "ike-sa-input-frag-packets", "ike-sa-output-frag-packets", "ike-sa-input-invalid-spi-packets",
        "ike-sa-output-invalid-spi-packets"},
}


def xml(sas: list[IkeSA], detail: bool = False) -> str:
    root = ET.Element(ROOT)
    for s in sas:
        if not detail:
            xmlreply.leaves(ET.SubElement(root, ROW), {tag: getattr(s, f) for f, tag in BRIEF.items()})
            continue
        block = xmlreply.leaves(ET.SubElement(root, BLOCK), {"ike-sa-remote-address": s.remote,
                                                              "ike-sa-index": s.index, "ike-gw-name": s.gateway})
        sa = xmlreply.leaves(ET.SubElement(block, ROW), {tag: getattr(s, f) for f, tag in SA.items()})
        xmlreply.leaves(sa, {"ike-sa-authentication-method": "Pre-shared-keys",
                             "ike-sa-lifetime": expires(s.lifetime_remaining)})
        xmlreply.leaves(ET.SubElement(sa, "ike-sa-algorithms"),
                        {tag: _WORDS[f].printed(getattr(s, f)) if f in _WORDS else getattr(s, f)
                         for f, tag in ALGORITHMS.items()})
        xmlreply.leaves(ET.SubElement(sa, "ike-sa-traffic-statistics"), {tag: getattr(s, f) for f, tag in TRAFFIC.items()})
        xmlreply.leaves(ET.SubElement(sa, "ike-sa-misc"), {tag: getattr(s, f) for f, tag in MISC.items()})
    return xmlreply.to_string(root)


def _values(el: ET.Element, names: dict[str, str], known: set[str], cmd: str, numbers=()) -> dict:
    found = xmlreply.children(el, known, cmd)
    return {f: (xmlreply.number(found, tag, cmd) if f in numbers else xmlreply.text_of(found, tag, ""))
            for f, tag in names.items() if tag in found}


def _from_block(block: ET.Element, vpn_for: VpnFor, cmd: str) -> IkeSA:
    head = xmlreply.children(block, _KNOWN[BLOCK], cmd)
    sa = head.get(ROW)
    if sa is None or "ike-sa-index" not in head:
        raise UnknownField(cmd, 0, BLOCK, f"block without ike-sa-index or {ROW}")
    values = _values(sa, SA, _KNOWN["sa"], cmd, numbers=("local_port", "remote_port"))
    found = xmlreply.children(sa, _KNOWN["sa"], cmd)
    for container, names, numbers in (("ike-sa-algorithms", ALGORITHMS, ()),
                                      ("ike-sa-traffic-statistics", TRAFFIC, TRAFFIC),
                                      ("ike-sa-misc", MISC, MISC)):
        if container in found:
            values |= _values(found[container], names, _KNOWN[container], cmd, numbers)
    values = {f: _WORDS[f].read(v) if f in _WORDS else v for f, v in values.items()}
    remote = xmlreply.text_of(head, "ike-sa-remote-address", values.get("remote", ""))
    gateway = xmlreply.text_of(head, "ike-gw-name", "")
    lifetime = xmlreply.text_of(found, "ike-sa-lifetime")
    return _record({**values, "index": xmlreply.number(head, "ike-sa-index", cmd), "remote": remote,
                    "gateway": gateway, "name": vpn_for(remote, gateway),
                    "lifetime_remaining": seconds(lifetime) if lifetime else None})


def parse_xml(text: str, vpn_for: VpnFor = _no_vpn) -> list[IkeSA]:
    """Brief rows and detail blocks, from every cluster node's answer."""
    cmd = f"{COMMAND} | display xml"
    out = []
    for root in xmlreply.roots(text, ROOT, cmd):
        xmlreply.children(root, _KNOWN[ROOT], cmd)
        for el in root:
            if el.tag == ROW:
                v = _values(el, BRIEF, _KNOWN[ROW], cmd, numbers=("index",))
                out.append(_record({**v, "name": vpn_for(v.get("remote", ""), "")}))
            elif el.tag == BLOCK:
                out.append(_from_block(el, vpn_for, cmd))
        if len(root) and not out:
            raise UnknownField(cmd, 0, root.tag, "answer (nothing parsed)")
    return out
