"""`show security ipsec statistics index N`: text and `| display xml` (the XML names are the
harness's own, in Junos's style)."""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from . import xmlreply
from .records import IpsecStats
from .textreply import UnknownField, key_values, lines, nonempty

COMMAND = "show security ipsec statistics"


def text(st: IpsecStats) -> str:
    return f"""ESP Statistics:
  Encrypted bytes:   {st.encrypted_bytes:>10}
  Decrypted bytes:   {st.decrypted_bytes:>10}
  Encrypted packets: {st.encrypted_packets:>10}
  Decrypted packets: {st.decrypted_packets:>10}
AH Statistics:
  Input bytes:       {st.ah_input_bytes:>10}
  Output bytes:      {st.ah_output_bytes:>10}
  Input packets:     {st.ah_input_packets:>10}
  Output packets:    {st.ah_output_packets:>10}
Errors:
  AH authentication failures: {st.ah_authentication_failures}, Replay errors: {st.replay_errors}
  ESP authentication failures: {st.esp_authentication_failures}, ESP decryption failures: {st.esp_decryption_failures}
  Bad headers: {st.bad_headers}, Bad trailers: {st.bad_trailers}
"""


_SECTIONS = {
    "ESP Statistics": {"Encrypted bytes": "encrypted_bytes", "Decrypted bytes": "decrypted_bytes",
                       "Encrypted packets": "encrypted_packets", "Decrypted packets": "decrypted_packets"},
    "AH Statistics": {"Input bytes": "ah_input_bytes", "Output bytes": "ah_output_bytes",
                      "Input packets": "ah_input_packets", "Output packets": "ah_output_packets"},
    "Errors": {"AH authentication failures": "ah_authentication_failures", "Replay errors": "replay_errors",
               "ESP authentication failures": "esp_authentication_failures",
               "ESP decryption failures": "esp_decryption_failures", "Bad headers": "bad_headers",
               "Bad trailers": "bad_trailers"},
}


def parse_counters(text: str) -> dict[str, int]:
    """The counters as printed, by field name."""
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


def parse_text(text: str, index: int) -> IpsecStats:
    return IpsecStats(index=index, **parse_counters(text))


ROOT, ITEM = "ipsec-statistics-information", "ipsec-statistics"
FIELDS = {f.name: f.name.replace("_", "-") for f in dataclasses.fields(IpsecStats)}


def xml(st: IpsecStats) -> str:
    root = ET.Element(ROOT)
    xmlreply.record(root, ITEM, st, FIELDS)
    return xmlreply.to_string(root)


def parse_xml(text: str) -> IpsecStats:
    cmd = f"{COMMAND} | display xml"
    el = xmlreply.root(text, ROOT, cmd).find(ITEM)
    if el is None:
        raise UnknownField(cmd, 0, "", f"no {ITEM}")
    return IpsecStats(**xmlreply.fields_of(el, IpsecStats, FIELDS, cmd))
