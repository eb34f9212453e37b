"""`show security ipsec security-associations [index N] [detail]`: text in the current layout and
the note's 2009 one, and `| display xml`, rendered from IpsecSA records (an inbound/outbound pair
each) and parsed back into them.

XML follows the real replies (an SRX 18.4R3 cluster's, tests/fixtures/junos_outputs/current/) and
Juniper's RPC YANG (grouping ipsec-security-associations-information-block, 24.4R1):
`ipsec-security-associations-information` holds total-active-tunnels, total-ipsec-sas and one
`ipsec-security-associations-block` per tunnel (sa-block-state, the detail form's per-tunnel
leaves) with an `ipsec-security-associations` element per direction carrying the SA's fields.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Callable

from . import xmlreply
from .records import IpsecSA
from .textreply import (DH_WORDS, UnknownField, Words, check_layout, collapse, content, expires, key_values,
                        nonempty, seconds, table)

COMMAND = "show security ipsec security-associations"
HEADERS = {"current": ("ID", "Algorithm", "SPI", "Life:sec/kb", "Mon", "lsys", "Port", "Gateway"),
           "2009": ("ID", "Gateway", "Port", "Algorithm", "SPI", "Life:sec/kb", "Mon", "vsys")}
_HEADER_KEYS = {"ID": "id", "Gateway": "gateway", "Port": "port", "Algorithm": "algorithm", "SPI": "spi",
                "Life:sec/kb": "life", "Mon": "monitoring", "vsys": "vsys", "lsys": "lsys"}

VpnFor = Callable[[str, str], str]  # (gateway address, "") -> VPN name, for forms that print none


def _no_vpn(gateway: str, _: str) -> str:
    return ""


# The configuration's words and what the table's Algorithm column / the detail form print.
BRIEF_ENC = Words(((r"aes-(\d+)-(cbc|gcm)", r"aes-\2-\1", r"aes-(cbc|gcm)-(\d+)", r"aes-\2-\1"),
                   (r"(3?des)-cbc", r"\1", r"(3?des)", r"\1-cbc")))
BRIEF_AUTH = Words(((r"hmac-(sha1|md5)-96", r"\1", r"(sha1|md5)", r"hmac-\1-96"),
                    (r"hmac-sha-(\d+)-128", r"sha\1", r"sha(256|384|512)", r"hmac-sha-\1-128")))
DETAIL_ENC = Words(((r"aes-(\d+)-(cbc|gcm)", r"aes-\2 (\1 bits)", r"aes-(cbc|gcm) \((\d+) bits\)", r"aes-\2-\1"),))
DETAIL_AUTH = Words(((r"hmac-sha-(\d+)-128", r"hmac-sha\1-128", r"hmac-sha(256|384|512)-128", r"hmac-sha-\1-128"),))
LIFESIZE = Words(((r"unlim", "Unlimited", r"Unlimited", "unlim"),))
MODE = Words(((r"tunnel", "Tunnel(0 0)", r"Tunnel\(\d+ \d+\)", "tunnel"),
              (r"transport", "Transport(0 0)", r"Transport\(\d+ \d+\)", "transport")))


def _algorithm(s: IpsecSA) -> str:
    """The table's Algorithm column: ESP:3des/sha1, ESP:aes-cbc-128/sha256."""
    return f"{s.protocol}:{BRIEF_ENC.printed(s.encryption)}/{BRIEF_AUTH.printed(s.authentication)}"


def _life(s: IpsecSA) -> str:
    """`3564/ unlim`, `28756/unlim`: seconds and slash in six columns, then the kilobytes."""
    return f"{'-' if s.life_seconds is None else s.life_seconds}/".ljust(6) + s.life_kb


# ---- text --------------------------------------------------------------------------------------
def text(sas: list[IpsecSA], detail: bool = False, layout: str = "current") -> str:
    check_layout(layout)
    if detail:
        render = _detail_current if layout == "current" else _detail_2009
        return "\n".join(render(s) for s in sas)
    if layout == "2009":  # the note prints its count and header above every SA
        return "".join(f"total configured sa: {len(sas)}\n" + table(
            [(f"{d}{s.index}", s.gateway, s.port, _algorithm(s), spi, _life(s), s.monitoring, s.vsys)
             for d, spi in (("<", s.spi_in), (">", s.spi_out))], HEADERS["2009"]) for s in sas)
    rows = [f"  {d}{s.index} {_algorithm(s)} {spi} {_life(s)} {s.monitoring} {s.lsys} {s.port} {s.gateway}\n"
            for s in sas for d, spi in (("<", s.spi_in), (">", s.spi_out))]
    tunnels = len({s.index for s in sas})
    return (f"  Total active tunnels: {tunnels}     Total Ipsec sas: {len(sas)}\n"
            + ("  ID    Algorithm       SPI      Life:sec/kb  Mon lsys Port  Gateway\n" if sas else "") + "".join(rows))


def _directions_2009(s: IpsecSA) -> list[str]:
    return [f"""  Direction: {direction}, SPI: {int(spi, 16) if spi else '-'}, AUX-SPI: 0
  Hard lifetime: {expires(s.life_seconds)}
  Lifesize Remaining: Unlimited
  Soft lifetime: {expires(s.soft_lifetime)}
  Mode: {s.mode}, Type: dynamic, State: {s.state}, VPN Monitoring: {s.monitoring}
  Protocol: {s.protocol}, Authentication: {s.authentication}, Encryption: {s.encryption}
  Anti-replay service: {'enabled' if s.replay_window else 'disabled'}, Replay window size: {s.replay_window}
""" for direction, spi in (("inbound", s.spi_in), ("outbound", s.spi_out))]


def _detail_2009(s: IpsecSA) -> str:
    return f"""Virtual-system: Root
Local Gateway: {s.local_gateway}, Remote Gateway: {s.gateway}
Local Identity: {s.local_identity}
Remote Identity: {s.remote_identity}
  PFS group: {s.pfs_group}
""" + "\n".join(_directions_2009(s))


def _anti_replay(s: IpsecSA) -> str:
    return f"counter-based enabled, Replay window size: {s.replay_window}" if s.replay_window else "disabled"


def _detail_current(s: IpsecSA) -> str:
    """As 24.4R1 prints it (the vSRX cluster sample), with 25.2's PFS group line; no tunnel events
    (the stand-in keeps none)."""
    dirs = "".join(f"""  Direction: {direction}, SPI: {spi}, AUX-SPI: 0
                              , VPN Monitoring: {s.monitoring}
    Hard lifetime: {expires(s.life_seconds)}
    Lifesize Remaining:  {LIFESIZE.printed(s.life_kb)}
    Soft lifetime: {expires(s.soft_lifetime)}
    Mode: {MODE.printed(s.mode)}, Type: dynamic, State: {s.state}
    Protocol: {s.protocol}, Authentication: {DETAIL_AUTH.printed(s.authentication)}, Encryption: {DETAIL_ENC.printed(s.encryption)}
    Anti-replay service: {_anti_replay(s)}
""" for direction, spi in (("inbound", s.spi_in), ("outbound", s.spi_out)))
    return f"""ID: {s.index} Virtual-system: {s.lsys}, VPN Name: {s.name}
  Local Gateway: {s.local_gateway}, Remote Gateway: {s.gateway}
  Local Identity: {s.local_identity}
  Remote Identity: {s.remote_identity}
  Version: {s.ike_version}
  PFS group: {DH_WORDS.printed(s.pfs_group)}, Packet Encapsulation: None, Dest port: 0
  DF-bit: clear, Copy-Outer-DSCP Disabled, Bind-interface: {s.bind_interface}
  Port: {s.port}, Nego#: 0, Fail#: 0, Def-Del#: 0 Flag: 0
""" + dirs


_TOTALS = {"total configured sa": "total_configured_sa", "Total active tunnels": "total_active_tunnels",
           "Total Ipsec sas": "total_ipsec_sas"}
_TOTAL = re.compile(rf"({'|'.join(_TOTALS)}): (\d+)")
_TOTALS_LINE = re.compile(rf"(\s*{_TOTAL.pattern})+\s*")


def _row(n: int, ln: str, layout: str) -> dict:
    cells = re.sub(r"/\s+", "/", collapse(ln)).split(" ")  # `3564/ unlim` is one cell
    if len(cells) != len(HEADERS[layout]):
        raise UnknownField(COMMAND, n, ln, "row")
    raw = {_HEADER_KEYS[h]: c for h, c in zip(HEADERS[layout], cells)}
    m_id, m_life = re.match(r"^([<>])(\d+)$", raw.pop("id")), re.match(r"^(\d+|-)/(\S+)$", raw.pop("life"))
    if not (m_id and m_life and raw["port"].isdigit() and re.fullmatch(r"(0x)?[0-9a-fA-F]+", raw["spi"])
            and re.fullmatch(r"\w+:[^/]+/\S+", raw["algorithm"]) and (layout != "2009" or raw["vsys"].isdigit())):
        raise UnknownField(COMMAND, n, ln, "row")
    row = {"id": int(m_id.group(2)), "direction": "inbound" if m_id.group(1) == "<" else "outbound", **raw,
           "port": int(raw["port"]), "life_seconds": None if m_life.group(1) == "-" else int(m_life.group(1)),
           "life_kb": m_life.group(2)}
    if layout == "2009":
        row["vsys"] = int(row["vsys"])
    return row


def parse_summary(text: str) -> dict:
    """The brief form in either layout: its layout, its totals as printed and one dict per
    direction (fields as printed)."""
    out: dict = {"layout": None, "rows": []}
    by_header = {" ".join(h): name for name, h in HEADERS.items()}
    for n, ln in content(text):
        if _TOTALS_LINE.fullmatch(ln):  # `Total active tunnels: 6     Total Ipsec sas: 6`: no comma
            out.update({_TOTALS[k]: int(v) for k, v in _TOTAL.findall(ln)})
        elif collapse(ln) in by_header and out["layout"] in (None, by_header[collapse(ln)]):
            out["layout"] = by_header[collapse(ln)]
        elif out["layout"] is None:
            raise UnknownField(COMMAND, n, ln, "header")
        else:
            out["rows"].append(_row(n, ln, out["layout"]))
    said = out.get("total_active_tunnels", out.get("total_configured_sa", 0))
    if said and not out["rows"]:
        raise UnknownField(COMMAND, content(text)[0][0], content(text)[0][1], "answer (its SAs are missing)")
    if not said and not out["rows"]:
        nonempty(text, [k for k in out if k.startswith("total")], COMMAND)
    return out


def parse_table(text: str) -> list[dict]:
    """The brief table: one dict per direction, fields as printed."""
    return parse_summary(text)["rows"]


def _pairs(dirs: list, direction_of) -> list[tuple]:
    """(inbound, outbound) pairs in order: a tunnel rekeyed lists two pairs under one index."""
    pairs: list[list] = []
    for d in dirs:
        if direction_of(d) == "inbound" or not pairs or pairs[-1][1] is not None:
            pairs.append([None, None])
        pairs[-1][0 if direction_of(d) == "inbound" else 1] = d
    return [tuple(p) for p in pairs]


def table_records(text: str, vpn_for: VpnFor = _no_vpn) -> list[IpsecSA]:
    """The brief table as records: what a table carries (index, gateway, port, algorithms, SPIs,
    life, monitoring, vsys or lsys); the rest stays empty."""
    out = []
    for inb, outb in _pairs(parse_table(text), lambda r: r["direction"]):
        r = inb or outb
        proto, _, algs = r["algorithm"].partition(":")
        enc, _, auth = algs.partition("/")
        out.append(_record(dict(
            index=r["id"], name=vpn_for(r["gateway"], ""), gateway=r["gateway"], port=r["port"], protocol=proto,
            encryption=BRIEF_ENC.read(enc), authentication=BRIEF_AUTH.read(auth),
            spi_in=inb["spi"] if inb else "", spi_out=outb["spi"] if outb else "", life_seconds=r["life_seconds"],
            life_kb=r["life_kb"], monitoring=r["monitoring"], vsys=r.get("vsys", 0), lsys=r.get("lsys", "root"))))
    return out


_SA_KEYS = {"Virtual-system": "virtual_system", "Local Gateway": "local_gateway", "Remote Gateway": "remote_gateway",
            "Local Identity": "local_identity", "Remote Identity": "remote_identity", "DF-bit": "df_bit",
            "PFS group": "pfs_group",
            # current releases
            "Version": "version", "Copy-Outer-DSCP": "copy_outer_dscp", "Bind-interface": "bind_interface",
            "Port": "port", "Nego#": "nego", "Fail#": "fail", "Def-Del#": "def_del", "Flag": "flag",
            "TS Type": "ts_type", "Quantum Secured": "quantum_secured", "Hardware Offloaded": "hardware_offloaded",
            "Packet Encapsulation": "packet_encapsulation", "Dest port": "dest_port",
            "Passive mode tunneling": "passive_mode_tunneling", "Policy-name": "policy_name",
            "Location": "location", "Anchorship": "anchorship", "Distribution-Profile": "distribution_profile"}
_DIR_KEYS = {"Direction": "direction", "SPI": "spi", "AUX-SPI": "aux_spi", "Hard lifetime": "hard_lifetime",
             "Lifesize Remaining": "lifesize_remaining", "Soft lifetime": "soft_lifetime", "Mode": "mode",
             "Type": "type", "State": "state", "VPN Monitoring": "vpn_monitoring", "Protocol": "protocol",
             "Authentication": "authentication", "Encryption": "encryption",
             "Anti-replay service": "anti_replay_service", "Replay window size": "replay_window_size",
             # current releases
             "Extended-Sequence-Number": "extended_sequence_number", "tunnel-establishment": "tunnel_establishment",
             "IKE SA Index": "ike_sa_index"}
_NUMBERS = {"aux_spi", "replay_window_size", "port", "nego", "fail", "def_del", "dest_port", "ike_sa_index"}
_ID_LINE = re.compile(r"^ID: (\d+) Virtual-system: (\S+), VPN Name: ?(.*)$")
_MULTI_SA = re.compile(r"^Multi-sa, Configured SAs#:? (\d+), Negotiated SAs#:? (\d+)$")
_EVENT = re.compile(r"^(\w{3} \w{3} +\d+ \d{4} \d\d:\d\d:\d\d(?: [+-]\d{4})?): (.+) \((\d+) times\)$")


def _normalised(line: str) -> str:
    """A current detail line as `Key: value, ...`: `Copy-Outer-DSCP Disabled` lacks its colon
    before 25.2, `Def-Del#: 0 Flag: 0x600a21` its comma, the `, VPN Monitoring: -` continuation
    line starts with one."""
    line = re.sub(r"Copy-Outer-DSCP (\w)", r"Copy-Outer-DSCP: \1", collapse(line))
    return re.sub(r"(Def-Del#: \d+) Flag:", r"\1, Flag:", line).lstrip(", ")


def _value(name: str, value: str, spi_hex: bool):
    if name in ("hard_lifetime", "soft_lifetime"):
        return name + "_seconds", seconds(value)
    if name == "spi":
        return name, value if spi_hex else int(value)
    if name in _NUMBERS:
        return name, int(value)
    return name, value


def _special(sa: dict | None, line: str) -> dict | None:
    """The current form's lines that are not `Key: value` lists; the SA they start or fill, or
    None when the line is not one of them."""
    if m := _ID_LINE.match(line):
        return {"layout": "current", "id": int(m.group(1)), "virtual_system": m.group(2), "vpn_name": m.group(3),
                "directions": []}
    if sa is None:
        return None
    if m := _MULTI_SA.match(line):
        sa.update(multi_sa_configured=int(m.group(1)), multi_sa_negotiated=int(m.group(2)))
    elif line == "Tunnel events:":
        sa["tunnel_events"] = []
    elif (m := _EVENT.match(line)) and "tunnel_events" in sa and not sa["directions"]:
        sa["tunnel_events"].append({"time": m.group(1), "event": m.group(2), "times": int(m.group(3))})
    else:
        return None
    return sa


def parse_detail(text: str) -> list[dict]:
    """The detail form in either layout: one dict per SA, with its directions (fields as printed;
    `layout` says which: the 2009 SPI is decimal, the current one hex)."""
    cmd = f"{COMMAND} detail"
    sas: list[dict] = []
    cur: dict | None = None
    for n, raw in content(text):
        ln = _normalised(raw)
        try:
            special = _special(cur, ln)
            if special is not None:
                if special is not cur:
                    cur = special
                    sas.append(cur)
                continue
            pairs = key_values(ln)
            if pairs[0][0] == "Virtual-system":
                cur = {"layout": "2009", "directions": []}
                sas.append(cur)
            if cur is None:
                raise UnknownField(cmd, n, raw, "line")
            if pairs[0][0] == "Direction":
                cur["directions"].append({})
            for key, value in pairs:
                if key in _DIR_KEYS and cur["directions"]:
                    name, v = _value(_DIR_KEYS[key], value, cur["layout"] == "current")
                    cur["directions"][-1][name] = v
                elif key in _SA_KEYS and not cur["directions"]:
                    name, v = _value(_SA_KEYS[key], value, True)
                    cur[name] = v
                else:
                    raise UnknownField(cmd, n, raw)
        except ValueError as e:
            if isinstance(e, UnknownField):
                raise
            raise UnknownField(cmd, n, raw, "value") from None
    return nonempty(text, sas, cmd)


def _spi(value) -> str:
    """An SPI as the table prints it: 8 hex digits (the 2009 detail prints it in decimal)."""
    if isinstance(value, int):
        return f"{value:08x}"
    return value.lower().removeprefix("0x").zfill(8) if value else ""


_DEFAULTS = dict(name="", local_gateway="", port=500, protocol="ESP", encryption="", authentication="", spi_in="",
                 spi_out="", life_seconds=None, life_kb="unlim", monitoring="-", vsys=0, local_identity="",
                 remote_identity="", mode="tunnel", pfs_group="", state="", replay_window=0, soft_lifetime=None)


def _record(values: dict) -> IpsecSA:
    """A record from what a form carries; what it does not carry keeps its default."""
    return IpsecSA(**{**_DEFAULTS, **values})


def _from_detail(d: dict, row: dict | None, vpn_for: VpnFor) -> IpsecSA:
    current = d["layout"] == "current"
    dirs = {x["direction"]: x for x in d["directions"]}
    inb = dirs.get("inbound", {})
    read = (lambda words, w: words.read(w)) if current else (lambda words, w: w)
    where = {"index": d["id"], "port": d.get("port", 500), "life_kb": LIFESIZE.read(inb.get("lifesize_remaining", "Unlimited")),
             "lsys": d["virtual_system"]} if current else \
        {"index": row["id"], "port": row["port"], "life_kb": row["life_kb"], "vsys": row["vsys"]}
    return _record(dict(
        where, name=d.get("vpn_name") or vpn_for(d["remote_gateway"], ""), local_gateway=d["local_gateway"],
        gateway=d["remote_gateway"], protocol=inb.get("protocol", "ESP"),
        encryption=read(DETAIL_ENC, inb.get("encryption", "")),
        authentication=read(DETAIL_AUTH, inb.get("authentication", "")),
        spi_in=_spi(inb.get("spi")), spi_out=_spi(dirs.get("outbound", {}).get("spi")),
        life_seconds=inb.get("hard_lifetime_seconds"), monitoring=inb.get("vpn_monitoring", "-"),
        local_identity=d["local_identity"], remote_identity=d["remote_identity"],
        mode=read(MODE, inb.get("mode", "tunnel")), pfs_group=read(DH_WORDS, d.get("pfs_group", "")),
        state=inb.get("state", ""), replay_window=inb.get("replay_window_size", 0),
        soft_lifetime=inb.get("soft_lifetime_seconds"), bind_interface=d.get("bind_interface", ""),
        ike_version=d.get("version", "")))


def parse_text(detail: str, brief: str | Callable[[], str] | None = None, vpn_for: VpnFor = _no_vpn) -> list[IpsecSA]:
    """Records from the detail form. The current layout carries everything (ID, VPN Name, Port);
    the 2009 one names no index, port or vsys: those come from the brief table (text, or a
    callable fetching it, asked only then), matched by the inbound SPI, else by the gateway."""
    sas = parse_detail(detail)
    rows: list[dict] = []
    if any(d["layout"] == "2009" for d in sas):
        if brief is None:
            raise UnknownField(COMMAND, 0, "detail", "2009 layout without its brief table (the index is only there)")
        rows = parse_table(brief() if callable(brief) else brief)
    out = []
    for d in sas:
        row = None
        if d["layout"] == "2009":
            spi_in = _spi(next((x.get("spi") for x in d["directions"] if x.get("direction") == "inbound"), None))
            row = next((r for r in rows if r["spi"].lower() == spi_in and r["direction"] == "inbound"),
                       next((r for r in rows if r["gateway"] == d["remote_gateway"]), None))
            if row is None:
                raise UnknownField(COMMAND, 0, d["remote_gateway"], "SA in the detail but not in the table")
        out.append(_from_detail(d, row, vpn_for))
    return out


# ---- | display xml -----------------------------------------------------------------------------
ROOT, BLOCK, DIRECTION = ("ipsec-security-associations-information", "ipsec-security-associations-block",
                          "ipsec-security-associations")
# Per direction: the brief reply's elements, in the real reply's order ...
BRIEF = {"index": "sa-tunnel-index", "spi": None, "aux": "sa-aux-spi", "gateway": "sa-remote-gateway",
         "port": "sa-port", "monitoring": "sa-vpn-monitoring-state", "protocol": "sa-protocol",
         "encryption": "sa-esp-encryption-algorithm", "authentication": "sa-hmac-algorithm",
         "life_seconds": "sa-hard-lifetime", "life_kb": "sa-lifesize-remaining", "lsys": "sa-virtual-system"}
# ... and the detail form's (YANG names).
DETAIL = {"mode": "sa-mode", "type": "sa-type", "state": "sa-state",
          "authentication": "sa-authentication-algorithm", "encryption": "sa-encryption-algorithm",
          "soft_lifetime": "sa-soft-lifetime", "anti_replay": "sa-anti-replay-service",
          "replay_window": "sa-replay-window-size"}
# Per tunnel, the detail form's (YANG names).
TUNNEL = {"index": "sa-tunnel-index", "lsys": "sa-virtual-system", "name": "sa-vpn-name",
          "local_gateway": "sa-local-gateway", "gateway": "sa-remote-gateway", "local_identity": "sa-local-identity",
          "remote_identity": "sa-remote-identity", "ike_version": "sa-ike-version", "pfs_group": "sa-pfs-group"}
_KNOWN = {
    ROOT: {"total-active-tunnels", "total-ipsec-sas", BLOCK, DIRECTION},
    BLOCK: set(TUNNEL.values()) | {
        "sa-block-state", DIRECTION, "sa-traffic-selector-name", "sa-ts-type", "sa-is-quantum-secured",
        "sa-packet-encapsulation-protocol", "sa-packet-encapsulation-destination-port",
        "sa-passive-mode-tunneling", "sa-srg-id", "sa-configuration-type", "sa-df-bit-policy-name", "sa-dev-info",
        "multi-sa-info", "sa-location", "sa-anchorship", "sa-tunnel-dist", "sa-advpn-info", "sa-ts-local-identity",
        "sa-ts-remote-identity", "sa-ipsec-tunnel-event", "sa-ipsec-tunnel-events", "sa-ha-link-encryption"},
    DIRECTION: {v for v in BRIEF.values() if v} | set(DETAIL.values()) | {
        "sa-direction", "sa-spi", "sa-installation-state", "sa-nego-num", "sa-nego-fail", "sa-del-num",
        "stats-name", "sa-flag", "sa-pair-location", "sa-pair-anchorship", "sa-ipsec-tunnel-event-list",
        "sa-tunnel-event-time", "sa-vpn-monitoring-mode", "sa-vpn-monitoring-interval",
        "sa-vpn-monitoring-threshold", "sa-extended-seq-number", "sa-tunnel-establishment", "sa-ike-index"},
    "sa-df-bit-policy-name": {"sa-df-bit", "sa-copy-outer-dscp", "sa-bind-interface", "sa-tunnel-mtu",
                              "sa-policy-name", "sa-anchor-interface"},
}


def _direction(block: ET.Element, s: IpsecSA, arrow: str, spi: str, detail: bool) -> None:
    d = xmlreply.leaves(ET.SubElement(block, DIRECTION), {
        "sa-direction": arrow, "sa-tunnel-index": s.index, "sa-spi": spi, "sa-aux-spi": 0,
        "sa-remote-gateway": s.gateway, "sa-port": s.port, "sa-vpn-monitoring-state": s.monitoring,
        "sa-protocol": s.protocol, "sa-esp-encryption-algorithm": BRIEF_ENC.printed(s.encryption),
        "sa-hmac-algorithm": BRIEF_AUTH.printed(s.authentication),
        "sa-hard-lifetime": "-" if s.life_seconds is None else s.life_seconds, "sa-lifesize-remaining": s.life_kb,
        "sa-virtual-system": s.lsys})
    if detail:
        xmlreply.leaves(d, {"sa-mode": MODE.printed(s.mode), "sa-type": "dynamic", "sa-state": s.state,
                            "sa-authentication-algorithm": DETAIL_AUTH.printed(s.authentication),
                            "sa-encryption-algorithm": DETAIL_ENC.printed(s.encryption),
                            "sa-soft-lifetime": "-" if s.soft_lifetime is None else s.soft_lifetime,
                            "sa-anti-replay-service": _anti_replay(s).split(",")[0],
                            "sa-replay-window-size": s.replay_window})


def xml(sas: list[IpsecSA], detail: bool = False) -> str:
    root = xmlreply.leaves(ET.Element(ROOT), {"total-active-tunnels": len({s.index for s in sas}),
                                              "total-ipsec-sas": len(sas)})
    for s in sas:
        block = xmlreply.leaves(ET.SubElement(root, BLOCK), {"sa-block-state": "up"})
        if detail:
            xmlreply.leaves(block, {tag: DH_WORDS.printed(s.pfs_group) if f == "pfs_group" else getattr(s, f)
                                    for f, tag in TUNNEL.items()})
            xmlreply.leaves(ET.SubElement(block, "sa-df-bit-policy-name"),
                            {"sa-df-bit": "clear", "sa-copy-outer-dscp": "Disabled", "sa-bind-interface": s.bind_interface})
        for arrow, spi in (("<", s.spi_in), (">", s.spi_out)):
            _direction(block, s, arrow, spi, detail)
    return xmlreply.to_string(root)


def _int_or_none(value: str | None, cmd: str, tag: str) -> int | None:
    if value in (None, "", "-"):
        return None
    got = seconds(value)
    if got is None:
        raise UnknownField(cmd, 0, f"{tag}={value}", "value")
    return got


def _from_xml_pair(block: dict, inb: ET.Element | None, outb: ET.Element | None, vpn_for: VpnFor, cmd: str) -> IpsecSA:
    first = xmlreply.children(inb if inb is not None else outb, _KNOWN[DIRECTION], cmd)
    t = lambda found, tag, default="": xmlreply.text_of(found, tag, default)  # noqa: E731
    spi = lambda el: "" if el is None else _spi(el.findtext("sa-spi") or "")  # noqa: E731
    enc = DETAIL_ENC.read(t(first, DETAIL["encryption"])) if DETAIL["encryption"] in first \
        else BRIEF_ENC.read(t(first, BRIEF["encryption"]))
    auth = DETAIL_AUTH.read(t(first, DETAIL["authentication"])) if DETAIL["authentication"] in first \
        else BRIEF_AUTH.read(t(first, BRIEF["authentication"]))
    gateway = t(first, BRIEF["gateway"], t(block, TUNNEL["gateway"]))
    df = xmlreply.children(block["sa-df-bit-policy-name"], _KNOWN["sa-df-bit-policy-name"], cmd) \
        if "sa-df-bit-policy-name" in block else {}
    return _record(dict(
        index=xmlreply.number(first, BRIEF["index"], cmd, None) or xmlreply.number(block, TUNNEL["index"], cmd),
        name=t(block, TUNNEL["name"]) or vpn_for(gateway, ""), local_gateway=t(block, TUNNEL["local_gateway"]),
        gateway=gateway, port=xmlreply.number(first, BRIEF["port"], cmd, 500), protocol=t(first, BRIEF["protocol"], "ESP"),
        encryption=enc, authentication=auth, spi_in=spi(inb), spi_out=spi(outb),
        life_seconds=_int_or_none(t(first, BRIEF["life_seconds"], None), cmd, BRIEF["life_seconds"]),
        life_kb=t(first, BRIEF["life_kb"], "unlim"), monitoring=t(first, BRIEF["monitoring"], "-"),
        lsys=t(first, BRIEF["lsys"], t(block, TUNNEL["lsys"], "root")),
        local_identity=t(block, TUNNEL["local_identity"]), remote_identity=t(block, TUNNEL["remote_identity"]),
        mode=MODE.read(t(first, DETAIL["mode"], "tunnel")), pfs_group=DH_WORDS.read(t(block, TUNNEL["pfs_group"])),
        state=t(first, DETAIL["state"]), replay_window=xmlreply.number(first, DETAIL["replay_window"], cmd),
        soft_lifetime=_int_or_none(t(first, DETAIL["soft_lifetime"], None), cmd, DETAIL["soft_lifetime"]),
        bind_interface=t(df, "sa-bind-interface"), ike_version=t(block, TUNNEL["ike_version"])))


def parse_xml(text: str, vpn_for: VpnFor = _no_vpn) -> list[IpsecSA]:
    """Brief or detail replies, every cluster node's: a record per inbound/outbound pair."""
    cmd = f"{COMMAND} | display xml"
    out = []
    for root in xmlreply.roots(text, ROOT, cmd):
        top = xmlreply.children(root, _KNOWN[ROOT], cmd)
        found = []
        for block in root.findall(BLOCK):
            head = xmlreply.children(block, _KNOWN[BLOCK], cmd)
            dirs = block.findall(DIRECTION)
            for d in dirs:
                if d.findtext("sa-direction") not in ("<", ">"):
                    raise UnknownField(cmd, 0, f"sa-direction={d.findtext('sa-direction')}", "value")
            for inb, outb in _pairs(dirs, lambda d: "inbound" if d.findtext("sa-direction") == "<" else "outbound"):
                found.append(_from_xml_pair(head, inb, outb, vpn_for, cmd))
        said = xmlreply.number(top, "total-active-tunnels", cmd)
        if (said or root.find(BLOCK) is not None) and not found:
            raise UnknownField(cmd, 0, root.tag, "answer (nothing parsed)")
        out += found
    return out
