"""Junos's words: the one place that knows what the note's operational commands print.

One module per command family, each with the same four functions where the command has them:
`text()` renders the records as Junos prints them, `xml()` as its `| display xml` reply (what the
stand-ins serve), `parse_text()` and `parse_xml()` read a device's answer back into the records.

- `records.py`: a data class per answer (IKE SA, IPsec SA, statistics, NHTB entry, route).
- `ike.py`, `ipsec.py`, `stats.py`, `nhtb.py`, `route.py`, `ping.py`: the command families.
- `kmd.py`: the kmd log (read from charon's log, written in kmd's words).
- `cli.py`: the operational CLI grammar the stand-ins serve over SSH.
- `textreply.py`, `xmlreply.py`: what the families share (UnknownField, layouts, tables, XML roots).
- `anyreply.py`: `parse_any(command, text)`, any saved answer into records (`nhtb-lab parse`).

Text renders in the "current" layout (what SRX/vSRX releases print today) unless "2009" (the
note's) is asked for; the parsers recognise either from the answer's header or first lines.

Imports nothing of the runtime, the drivers or the CLI: drivers, verify and the CLI use it.
"""
from .anyreply import as_data, parse_any

__all__ = ["parse_any", "as_data"]
