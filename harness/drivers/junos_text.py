"""Parsers for Junos operational output in text form (the fallback where `| display xml` is not
available), for the vSRX driver. Each returns plain data with the fields as the device printed
them; a field or line it does not know raises UnknownField with the line, never a guess.
Tested on the outputs printed in the reference note (tests/fixtures/junos_outputs/)."""
from __future__ import annotations

import re


class UnknownField(ValueError):
    def __init__(self, command: str, lineno: int, line: str, what: str = "field"):
        super().__init__(f"{command}: line {lineno}: unknown {what}: {line.strip()!r}")


def _lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines without the CLI prompt (`user@host> command`)."""
    return [(n, ln.rstrip()) for n, ln in enumerate(text.splitlines(), 1) if not re.match(r"^\S+@\S+[>#]", ln)]


def _split_top(line: str) -> list[str]:
    """Split at ', ' outside parentheses/brackets (identities contain commas)."""
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(line):
        c = line[i]
        depth += c in "([" 
        depth -= c in ")]"
        if depth == 0 and line.startswith(", ", i):
            parts.append(cur)
            cur, i = "", i + 2
            continue
        cur += c
        i += 1
    return parts + [cur]


def _key_values(line: str) -> list[tuple[str, str]]:
    """`A: 1, B: x y, more` -> [(A, 1), (B, 'x y, more')]: a part without a colon continues the value."""
    out: list[tuple[str, str]] = []
    for part in _split_top(line.strip()):
        m = re.match(r"^([A-Za-z][A-Za-z0-9 \-]*?)\s*:\s*(.*)$", part)
        if m and not re.match(r"^(ipv4|ipv6)", part):
            out.append((m.group(1).strip(), m.group(2).strip()))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]}, {part.strip()}")
        else:
            out.append(("", part.strip()))
    return out


def _int(value: str) -> int:
    return int(value.strip())


def _seconds(value: str) -> int | None:
    m = re.match(r"Expires in (\d+) seconds", value)
    return int(m.group(1)) if m else None


def _table_rows(text: str, command: str, header: list[str]) -> list[tuple[int, list[str]]]:
    rows, seen_header = [], False
    for n, ln in _lines(text):
        if not ln.strip():
            continue
        if re.sub(r"\s+", " ", ln.strip()) == " ".join(header):
            seen_header = True
            continue
        if not seen_header:
            raise UnknownField(command, n, ln, "header")
        rows.append((n, ln.split()))
    return rows


# ---- show security ike security-associations --------------------------------------------------
IKE_TABLE = ["Index", "Remote Address", "State", "Initiator cookie", "Responder cookie", "Mode"]


def ike_sa_table(text: str) -> list[dict]:
    cmd = "show security ike security-associations"
    out = []
    for n, cells in _table_rows(text, cmd, IKE_TABLE):
        if len(cells) != 6:
            raise UnknownField(cmd, n, " ".join(cells), "row")
        out.append({"index": int(cells[0]), "remote_address": cells[1], "state": cells[2],
                    "initiator_cookie": cells[3], "responder_cookie": cells[4], "mode": cells[5]})
    return out


_IKE_KEYS = {
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


def ike_sa_detail(text: str) -> list[dict]:
    """`show security ike security-associations [index N] detail`: one dict per IKE peer."""
    cmd = "show security ike security-associations detail"
    peers: list[dict] = []
    cur: dict | None = None
    target: dict | None = None
    section, section_indent = None, 0
    for n, ln in _lines(text):
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
            table = _ALGORITHMS if section == "Algorithms" else _TRAFFIC
            if not m or m.group(1).strip() not in table:
                raise UnknownField(cmd, n, ln)
            value = m.group(2).strip()
            (cur["algorithms"] if section == "Algorithms" else cur["traffic"])[table[m.group(1).strip()]] = \
                int(value) if section != "Algorithms" else value
            continue
        pairs = _key_values(ln)
        if pairs[0][0] == "Negotiation type":
            target = {}
            cur["negotiations"].append(target)
        keys = _NEGOTIATION_KEYS if target is not cur else _IKE_KEYS
        for key, value in pairs:
            if key not in keys:
                raise UnknownField(cmd, n, ln)
            name = keys[key]
            if name == "lifetime":
                target["lifetime_seconds"] = _seconds(value)
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
    return peers


# ---- show security ipsec security-associations -------------------------------------------------
IPSEC_TABLE = ["ID", "Gateway", "Port", "Algorithm", "SPI", "Life:sec/kb", "Mon", "vsys"]
_IPSEC_ROW = re.compile(r"^([<>])(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+([0-9a-fA-F]+)\s+(\d+|-)/\s*(\S+)\s+(\S+)\s+(\d+)$")


def ipsec_sa_table(text: str) -> list[dict]:
    cmd = "show security ipsec security-associations"
    out = []
    for n, ln in _lines(text):
        s = ln.strip()
        if not s or s.startswith("total configured sa:") or re.sub(r"\s+", " ", s) == " ".join(IPSEC_TABLE):
            continue
        m = _IPSEC_ROW.match(s)
        if not m:
            raise UnknownField(cmd, n, ln, "row")
        out.append({"id": int(m.group(2)), "direction": "inbound" if m.group(1) == "<" else "outbound",
                    "gateway": m.group(3), "port": int(m.group(4)), "algorithm": m.group(5), "spi": m.group(6),
                    "life_seconds": None if m.group(7) == "-" else int(m.group(7)), "life_kb": m.group(8),
                    "monitoring": m.group(9), "vsys": int(m.group(10))})
    return out


_SA_KEYS = {"Virtual-system": "virtual_system", "Local Gateway": "local_gateway", "Remote Gateway": "remote_gateway",
            "Local Identity": "local_identity", "Remote Identity": "remote_identity", "DF-bit": "df_bit"}
_DIR_KEYS = {"Direction": "direction", "SPI": "spi", "AUX-SPI": "aux_spi", "Hard lifetime": "hard_lifetime",
             "Lifesize Remaining": "lifesize_remaining", "Soft lifetime": "soft_lifetime", "Mode": "mode",
             "Type": "type", "State": "state", "VPN Monitoring": "vpn_monitoring", "Protocol": "protocol",
             "Authentication": "authentication", "Encryption": "encryption",
             "Anti-replay service": "anti_replay_service", "Replay window size": "replay_window_size"}


def ipsec_sa_detail(text: str) -> list[dict]:
    """`show security ipsec security-associations index N detail`: one dict per SA, with its
    inbound and outbound directions."""
    cmd = "show security ipsec security-associations detail"
    sas: list[dict] = []
    cur: dict | None = None
    for n, ln in _lines(text):
        if not ln.strip():
            continue
        pairs = _key_values(ln)
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
                    d[name + "_seconds"] = _seconds(value)
                elif name in ("spi", "aux_spi", "replay_window_size"):
                    d[name] = int(value)
                else:
                    d[name] = value
            elif key in _SA_KEYS:
                cur[_SA_KEYS[key]] = value
            else:
                raise UnknownField(cmd, n, ln)
    return sas


# ---- show security ipsec next-hop-tunnels -----------------------------------------------------
def next_hop_tunnels(text: str) -> list[dict]:
    cmd = "show security ipsec next-hop-tunnels"
    if not any(ln.strip() for _, ln in _lines(text)):
        return []  # a spoke prints nothing
    out = []
    for n, cells in _table_rows(text, cmd, ["Next-hop gateway", "interface", "IPsec VPN name", "Flag"]):
        if len(cells) != 4:
            raise UnknownField(cmd, n, " ".join(cells), "row")
        out.append({"next_hop": cells[0], "interface": cells[1], "vpn": cells[2], "flag": cells[3]})
    return out


# ---- show route <prefix> ----------------------------------------------------------------------
_SUMMARY = re.compile(r"^(\S+): (\d+) destinations, (\d+) routes \((\d+) active, (\d+) holddown, (\d+) hidden\)$")
_ENTRY = re.compile(r"^(\S+/\d+)\s+([*+\- ]?)\[(\w+)/(\d+)\]\s*(\S+)?$")
_HOP = re.compile(r"^(>)?\s*(?:to (\S+) )?via (\S+)$")


def show_route(text: str) -> list[dict]:
    """One dict per routing table printed; its entries with their next hops."""
    cmd = "show route"
    tables: list[dict] = []
    entry = None
    for n, ln in _lines(text):
        s = ln.strip()
        if not s or s == "+ = Active Route, - = Last Active, * = Both":
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
            raise UnknownField(cmd, n, ln, "line")
    return tables


# ---- show security ipsec statistics -----------------------------------------------------------
_STATS = {
    "ESP Statistics": {"Encrypted bytes": "encrypted_bytes", "Decrypted bytes": "decrypted_bytes",
                       "Encrypted packets": "encrypted_packets", "Decrypted packets": "decrypted_packets"},
    "AH Statistics": {"Input bytes": "ah_input_bytes", "Output bytes": "ah_output_bytes",
                      "Input packets": "ah_input_packets", "Output packets": "ah_output_packets"},
    "Errors": {"AH authentication failures": "ah_authentication_failures", "Replay errors": "replay_errors",
               "ESP authentication failures": "esp_authentication_failures",
               "ESP decryption failures": "esp_decryption_failures", "Bad headers": "bad_headers",
               "Bad trailers": "bad_trailers"},
}


def ipsec_statistics(text: str) -> dict:
    cmd = "show security ipsec statistics"
    out: dict[str, int] = {}
    section = None
    for n, ln in _lines(text):
        s = ln.strip()
        if not s:
            continue
        if s.endswith(":") and s[:-1] in _STATS:
            section = s[:-1]
            continue
        if section is None:
            raise UnknownField(cmd, n, ln, "line")
        for key, value in _key_values(s):
            if key not in _STATS[section]:
                raise UnknownField(cmd, n, ln)
            out[_STATS[section][key]] = _int(value)
    return out


def ping_summary(text: str) -> tuple[int, int] | None:
    """(transmitted, received) from a ping's summary line (Junos or Linux wording)."""
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", text)
    return (int(m.group(1)), int(m.group(2))) if m else None
