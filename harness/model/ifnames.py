"""Device interface names <-> the lab's Linux interface names (containerlab conventions).

vSRX under containerlab maps eth1 to ge-0/0/0, eth2 to ge-0/0/1, ...; the SSG5 stand-in follows
the same rule for ethernet0/N. Tunnel units keep their device name (st0.0, tunnel.1): Linux
allows the dot, and `ip -s link` then reads like the device.
"""
from __future__ import annotations

import re

_JUNOS_PHYS = re.compile(r"(?:ge|xe|fe)-0/0/(\d+)\.(\d+)")
_SCREENOS_PHYS = re.compile(r"ethernet0/(\d+)")
_TUNNEL = re.compile(r"(?:st0\.\d+|tunnel\.\d+)")


def linux_ifname(os: str, unit: str) -> str:
    """The Linux interface standing in for a device unit; ValueError when there is none."""
    if _TUNNEL.fullmatch(unit):
        return unit
    m = _JUNOS_PHYS.fullmatch(unit) if os == "junos" else _SCREENOS_PHYS.fullmatch(unit)
    if not m:
        raise ValueError(f"interface '{unit}' has no Linux stand-in (expected "
                         + ("ge-0/0/N.0, st0.N" if os == "junos" else "ethernet0/N, tunnel.N") + ")")
    if os == "junos" and m.group(2) != "0":
        raise ValueError(f"interface '{unit}': only unit 0 of a physical interface is supported")
    return f"eth{int(m.group(1)) + 1}"
