"""`show security ipsec security-associations [index N] [detail]`: text and `| display xml`,
rendered from IpsecSA records and parsed back into them.

XML names follow Junos's get-security-associations-information reply where publicly documented
(ipsec-security-associations-block, ipsec-security-associations, sa-direction, sa-tunnel-index,
sa-spi, sa-remote-gateway, sa-port, sa-protocol, sa-esp-encryption-algorithm, sa-hmac-algorithm,
sa-hard-lifetime, sa-lifesize-remaining, sa-virtual-system); the rest are the harness's own.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Callable

from . import xmlreply
from .records import IpsecSA
from .textreply import UnknownField, expires, key_values, lines, nonempty, seconds, table

COMMAND = "show security ipsec security-associations"
TABLE = ["ID", "Gateway", "Port", "Algorithm", "SPI", "Life:sec/kb", "Mon", "vsys"]
_ROW = re.compile(r"^([<>])(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+([0-9a-fA-F]+)\s+(\d+|-)/\s*(\S+)\s+(\S+)\s+(\d+)$")


def _short(s: IpsecSA) -> str:
    """The table's Algorithm column: ESP:3des/sha1."""
    enc = s.encryption.split("-")[0] if s.encryption.startswith("3des") else s.encryption
    auth = s.authentication.split("-")[1] if s.authentication.startswith("hmac-") else s.authentication
    return f"{s.protocol}:{enc}/{auth}"


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


# ---- text --------------------------------------------------------------------------------------
def text(sas: list[IpsecSA], detail: bool = False) -> str:
    if not detail:
        blocks = []
        for s in sas:
            life = f"{_or_dash(s.life_seconds)}/{s.life_kb}"
            rows = [(f"{d}{s.index}", s.gateway, s.port, _short(s), spi, life, s.monitoring, s.vsys)
                    for d, spi in (("<", s.spi_in), (">", s.spi_out))]
            blocks.append(f"total configured sa: {len(sas)}\n" + table(rows, tuple(TABLE)))
        return "".join(blocks)
    out = []
    for s in sas:
        dirs = [f"""  Direction: {direction}, SPI: {int(spi, 16) if spi else '-'}, AUX-SPI: 0
  Hard lifetime: {expires(s.life_seconds)}
  Lifesize Remaining: Unlimited
  Soft lifetime: {expires(s.soft_lifetime)}
  Mode: {s.mode}, Type: dynamic, State: {s.state}, VPN Monitoring: {s.monitoring}
  Protocol: {s.protocol}, Authentication: {s.authentication}, Encryption: {s.encryption}
  Anti-replay service: {'enabled' if s.replay_window else 'disabled'}, Replay window size: {s.replay_window}
""" for direction, spi in (("inbound", s.spi_in), ("outbound", s.spi_out))]
        out.append(f"""Virtual-system: Root
Local Gateway: {s.local_gateway}, Remote Gateway: {s.gateway}
Local Identity: {s.local_identity}
Remote Identity: {s.remote_identity}
  PFS group: {s.pfs_group}
""" + "\n".join(dirs))
    return "\n".join(out)


def parse_table(text: str) -> list[dict]:
    """The brief table: one dict per direction, fields as printed."""
    out = []
    for n, ln in lines(text):
        s = ln.strip()
        if not s or s.startswith("total configured sa:") or re.sub(r"\s+", " ", s) == " ".join(TABLE):
            continue
        m = _ROW.match(s)
        if not m:
            raise UnknownField(COMMAND, n, ln, "row")
        out.append({"id": int(m.group(2)), "direction": "inbound" if m.group(1) == "<" else "outbound",
                    "gateway": m.group(3), "port": int(m.group(4)), "algorithm": m.group(5), "spi": m.group(6),
                    "life_seconds": None if m.group(7) == "-" else int(m.group(7)), "life_kb": m.group(8),
                    "monitoring": m.group(9), "vsys": int(m.group(10))})
    return out


_SA_KEYS = {"Virtual-system": "virtual_system", "Local Gateway": "local_gateway", "Remote Gateway": "remote_gateway",
            "Local Identity": "local_identity", "Remote Identity": "remote_identity", "DF-bit": "df_bit",
            "PFS group": "pfs_group"}
_DIR_KEYS = {"Direction": "direction", "SPI": "spi", "AUX-SPI": "aux_spi", "Hard lifetime": "hard_lifetime",
             "Lifesize Remaining": "lifesize_remaining", "Soft lifetime": "soft_lifetime", "Mode": "mode",
             "Type": "type", "State": "state", "VPN Monitoring": "vpn_monitoring", "Protocol": "protocol",
             "Authentication": "authentication", "Encryption": "encryption",
             "Anti-replay service": "anti_replay_service", "Replay window size": "replay_window_size"}


def parse_detail(text: str) -> list[dict]:
    """The detail form: one dict per SA, with its inbound and outbound directions."""
    cmd = f"{COMMAND} detail"
    sas: list[dict] = []
    cur: dict | None = None
    for n, ln in lines(text):
        if not ln.strip():
            continue
        pairs = key_values(ln)
        if pairs[0][0] == "Virtual-system":
            cur = {"directions": []}
            sas.append(cur)
        if cur is None:
            raise UnknownField(cmd, n, ln, "line")
        if pairs[0][0] == "Direction":
            cur["directions"].append({})
        for key, value in pairs:
            if key in _DIR_KEYS and cur["directions"] and key not in _SA_KEYS:
                name = _DIR_KEYS[key]
                d = cur["directions"][-1]
                if name in ("hard_lifetime", "soft_lifetime"):
                    d[name + "_seconds"] = seconds(value)
                elif name in ("spi", "aux_spi", "replay_window_size"):
                    d[name] = int(value)
                else:
                    d[name] = value
            elif key in _SA_KEYS:
                cur[_SA_KEYS[key]] = value
            else:
                raise UnknownField(cmd, n, ln)
    return nonempty(text, sas, cmd)


def parse_text(detail: str, brief: str, vpn_for: Callable[[str], str] = lambda remote: "") -> list[IpsecSA]:
    """Records from the detail form and the brief table (the table has the index, port and vsys,
    the detail the rest), matched by the inbound SPI."""
    rows = parse_table(brief)
    out = []
    for d in parse_detail(detail):
        gw = d["remote_gateway"]
        dirs = {x["direction"]: x for x in d["directions"]}
        inb, outb = dirs.get("inbound", {}), dirs.get("outbound", {})
        spi_in, spi_out = (f"{x['spi']:08x}" if "spi" in x else "" for x in (inb, outb))
        row = next((r for r in rows if r["spi"].lower() == spi_in and r["direction"] == "inbound"),
                   next((r for r in rows if r["gateway"] == gw), None))
        if row is None:
            raise UnknownField(COMMAND, 0, gw, "SA in the detail but not in the table")
        out.append(IpsecSA(row["id"], vpn_for(gw), d["local_gateway"], gw, row["port"],
                           inb.get("protocol", "ESP"), inb.get("encryption", ""), inb.get("authentication", ""),
                           spi_in, spi_out, inb.get("hard_lifetime_seconds"), row["life_kb"],
                           inb.get("vpn_monitoring", "-"), row["vsys"], d["local_identity"], d["remote_identity"],
                           inb.get("mode", "tunnel"), d.get("pfs_group", ""), inb.get("state", ""),
                           inb.get("replay_window_size", 0), inb.get("soft_lifetime_seconds")))
    return out


# ---- | display xml -----------------------------------------------------------------------------
ROOT, BLOCK, DIRECTION = ("ipsec-security-associations-information", "ipsec-security-associations-block",
                          "ipsec-security-associations")
FIELDS = {
    "index": "sa-tunnel-index", "name": "sa-vpn-name", "local_gateway": "sa-local-gateway",
    "gateway": "sa-remote-gateway", "port": "sa-port", "protocol": "sa-protocol",
    "encryption": "sa-esp-encryption-algorithm", "authentication": "sa-hmac-algorithm",
    "life_seconds": "sa-hard-lifetime", "life_kb": "sa-lifesize-remaining", "monitoring": "sa-vpn-monitoring-state",
    "vsys": "sa-virtual-system", "local_identity": "sa-local-identity", "remote_identity": "sa-remote-identity",
    "mode": "sa-mode", "pfs_group": "sa-pfs-group", "state": "sa-block-state", "replay_window": "sa-replay-window-size",
    "soft_lifetime": "sa-soft-lifetime",
}


def xml(sas: list[IpsecSA]) -> str:
    root = ET.Element(ROOT)
    ET.SubElement(root, "total-active-tunnels").text = str(len(sas))
    for s in sas:
        block = xmlreply.record(root, BLOCK, s, FIELDS)
        for direction, spi in (("<", s.spi_in), (">", s.spi_out)):
            d = ET.SubElement(block, DIRECTION)
            ET.SubElement(d, "sa-direction").text = direction
            ET.SubElement(d, "sa-spi").text = spi
    return xmlreply.to_string(root)


def parse_xml(text: str) -> list[IpsecSA]:
    cmd = f"{COMMAND} | display xml"
    root = xmlreply.root(text, ROOT, cmd)
    for child in root:
        if child.tag not in (BLOCK, "total-active-tunnels"):
            raise UnknownField(cmd, 0, child.tag, "element")
    out = []
    for block in root.findall(BLOCK):
        values = xmlreply.fields_of(block, IpsecSA, FIELDS, cmd, extra=(DIRECTION,))
        spis = {d.findtext("sa-direction"): d.findtext("sa-spi") or "" for d in block.findall(DIRECTION)}
        out.append(IpsecSA(**values, spi_in=spis.get("<", ""), spi_out=spis.get(">", "")))
    return out
