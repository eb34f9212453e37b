"""`show security ipsec statistics [index N]`: text in the current layout (25.2R1 adds Invalid SPI,
TS check fail, Exceeds tunnel MTU and Discarded) and the note's 2009 one, and `| display xml`.

XML follows Juniper's RPC YANG (get-ipsec-statistics-information, 24.4R1) and a real reply
(tests/fixtures/junos_outputs/current/): `usp-ipsec-total-statistics-information` with
esp-statistics, ah-statistics and error-statistics containers; `tunnel-index` is a leaf of the
same element in the YANG (the renderer writes it for `index N`; the parser does not need it).
"""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from . import xmlreply
from .records import IpsecStats
from .textreply import UnknownField, check_layout, key_values, lines, nonempty

COMMAND = "show security ipsec statistics"

_SECTIONS = {
    "ESP Statistics": {"Encrypted bytes": "encrypted_bytes", "Decrypted bytes": "decrypted_bytes",
                       "Encrypted packets": "encrypted_packets", "Decrypted packets": "decrypted_packets"},
    "AH Statistics": {"Input bytes": "ah_input_bytes", "Output bytes": "ah_output_bytes",
                      "Input packets": "ah_input_packets", "Output packets": "ah_output_packets"},
    "Errors": {"AH authentication failures": "ah_authentication_failures", "Replay errors": "replay_errors",
               "ESP authentication failures": "esp_authentication_failures",
               "ESP decryption failures": "esp_decryption_failures", "Bad headers": "bad_headers",
               "Bad trailers": "bad_trailers",
               # current releases
               "Invalid SPI": "invalid_spi", "TS check fail": "ts_check_fail",
               "Exceeds tunnel MTU": "exceeds_tunnel_mtu", "Discarded": "discarded"},
}
_ERROR_LINES = {  # the Errors block's lines, two counters to a line as Junos prints them
    "2009": (("AH authentication failures", "Replay errors"), ("ESP authentication failures", "ESP decryption failures"),
             ("Bad headers", "Bad trailers")),
}
_ERROR_LINES["current"] = _ERROR_LINES["2009"] + (("Invalid SPI", "TS check fail"), ("Exceeds tunnel MTU",), ("Discarded",))


def text(st: IpsecStats, layout: str = "current") -> str:
    check_layout(layout)
    out = []
    for section, counters in _SECTIONS.items():
        out.append(f"{section}:")
        if section == "Errors":
            out += ["  " + ", ".join(f"{k}: {getattr(st, counters[k])}" for k in line) for line in _ERROR_LINES[layout]]
            continue
        for label, name in counters.items():
            head = f"  {label}:"
            # current: values right-aligned at column 35 (25.2R1); 2009: as the stand-in always did
            out.append(head + str(getattr(st, name)).rjust(35 - len(head)) if layout == "current"
                       else f"{head:<21}{getattr(st, name):>10}")
    return "\n".join(out) + "\n"


def parse_counters(text: str) -> dict[str, int]:
    """The counters as printed (either layout), by field name."""
    out: dict[str, int] = {}
    section = None
    for n, ln in lines(text):
        s = ln.strip()
        if not s:
            continue
        if s.endswith(":") and s[:-1] in _SECTIONS:
            section = s[:-1]
            continue
        if section is None:
            raise UnknownField(COMMAND, n, ln, "line")
        for key, value in key_values(s):
            if key not in _SECTIONS[section] or not value.strip().isascii() or not value.strip().isdigit():
                raise UnknownField(COMMAND, n, ln)
            out[_SECTIONS[section][key]] = int(value.strip())
    return nonempty(text, out, COMMAND)


def parse_text(text: str, index: int = 0) -> IpsecStats:
    """The record; Junos does not print the index, so the caller names it (0: the global form)."""
    return IpsecStats(index=index, **parse_counters(text))


# ---- | display xml -----------------------------------------------------------------------------
ROOT = "usp-ipsec-total-statistics-information"
CONTAINERS = {
    "esp-statistics": {"encrypted_bytes": "esp-encrypted-bytes", "decrypted_bytes": "esp-decrypted-bytes",
                       "encrypted_packets": "esp-encrypted-packets", "decrypted_packets": "esp-decrypted-packets"},
    "ah-statistics": {f"ah_{d}_{u}": f"ah-{d}-{u}" for u in ("bytes", "packets") for d in ("input", "output")},
    "error-statistics": {"ah_authentication_failures": "ah-authentication-failures", "replay_errors": "replay-errors",
                         "esp_authentication_failures": "esp-authentication-failures",
                         "esp_decryption_failures": "esp-decryption-failures", "bad_headers": "bad-headers",
                         "bad_trailers": "bad-trailers", "invalid_spi": "invalid-spi-errors",
                         "ts_check_fail": "ts-check-fail-errors", "exceeds_tunnel_mtu": "exceeds-tunnel-mtu",
                         "discarded": "discard-errors"},
}
# The YANG's other children of the root, read past (no counter of the record is among them).
_OTHER = {"multisa-statistics", "multinode-link-enc-statistics-block", "d3p-statistics", "exclude-statistics",
          "dynamic-policy-statistics", "failopen-statistics", "failclose-statistics", "pic-name",
          "service-set-name", "local-gateway", "remote-gateway", "tunnel-index", "usp-ipsec-service-set-statistics"}
_COUNTERS = [f.name for f in dataclasses.fields(IpsecStats) if f.name != "index"]


def xml(st: IpsecStats) -> str:
    root = ET.Element(ROOT)
    for container, names in CONTAINERS.items():
        xmlreply.leaves(ET.SubElement(root, container), {tag: getattr(st, f) for f, tag in names.items()})
    if st.index:
        xmlreply.sub(root, "tunnel-index", st.index)
    return xmlreply.to_string(root)


def parse_xml(text: str, index: int = 0) -> IpsecStats:
    """The record; a cluster's nodes are added up (each counts the SAs it holds)."""
    cmd = f"{COMMAND} | display xml"
    total = dict.fromkeys(_COUNTERS, 0)
    for root in xmlreply.roots(text, ROOT, cmd):
        found = xmlreply.children(root, set(CONTAINERS) | _OTHER, cmd)
        if not set(CONTAINERS) & set(found):
            raise UnknownField(cmd, 0, root.tag, "answer without esp-, ah- or error-statistics")
        index = xmlreply.number(found, "tunnel-index", cmd, index)
        for container, names in CONTAINERS.items():
            if container in found:
                counters = xmlreply.children(found[container], set(names.values()), cmd)
                for f, tag in names.items():
                    total[f] += xmlreply.number(counters, tag, cmd)
    return IpsecStats(index=index, **total)
