"""Next-hop tunnel binding as data (pure): the spec of each multipoint unit, the NHTB table, and the
XFRM policies that table and the routes call for.

On Linux the SA for a packet leaving an xfrm interface is chosen by a policy lookup (if_id and
inner addresses); the route's next hop plays no part. So each NHTB entry (next hop H -> VPN V)
becomes, for every prefix routed via H on the unit and for H/32, policies that send the prefix
into V's SA (out) and accept it from V's SA (fwd, in). Longer prefixes get a lower priority
number, which XFRM prefers, as longer routes win in the FIB.
"""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from ..model.lab import Lab
from ..model.topology import ends, peer_end
from ..model.site import Site
from ..model.ifnames import linux_ifname
from .strongswan import if_id, reqid

ANY = IPv4Network("0.0.0.0/0")
PRIORITY_BASE = 1000


@dataclass(frozen=True)
class Entry:
    """A row of `show security ipsec next-hop-tunnels`."""

    next_hop: IPv4Address
    interface: str  # the device's name (st0.0)
    vpn: str
    flag: str  # Static or Auto


@dataclass(frozen=True)
class PolicySpec:
    src: IPv4Network
    dst: IPv4Network
    dir: str
    if_id: int
    reqid: int
    tmpl_src: IPv4Address
    tmpl_dst: IPv4Address
    priority: int


def binding_specs(lab: Lab, site: Site) -> list[dict]:
    """One spec per multipoint unit of `site` (JSON-able: the binder reads it from a file)."""
    specs = []
    for unit in site.tunnel_units:
        if not unit.multipoint:
            continue
        vpns = {}
        static = {nh.vpn for nh in unit.next_hop_tunnels}
        for end in ends(site):
            if end.vpn.bind_interface != unit.name:
                continue
            peer = peer_end(lab, end)
            auto = None
            # A Junos peer announces its st0 address in phase 2 (NHTB_INFORM; over IKEv2 too: a public
            # SRX hub with IKEv2 spokes and no next-hop-tunnel runs OSPF over st0); the lab knows it
            # from the peer's config. ScreenOS announces nothing: it needs a static entry.
            if peer is not None and peer.site.os == "junos" and end.vpn.name not in static:
                punit = peer.site.units.get(peer.vpn.bind_interface or "")
                if punit and punit.addresses:
                    auto = str(punit.addresses[0].ip)
            vpns[end.vpn.name] = {"reqid": reqid(end.vpn.name), "local": str(end.local_address),
                                  "remote": str(end.gateway.address), "auto_next_hop": auto,
                                  "proxy_id": [str(end.vpn.proxy_id.local), str(end.vpn.proxy_id.remote)]}
        specs.append({
            "unit": unit.name, "ifname": linux_ifname(site.os, unit.name), "if_id": if_id(unit.name),
            "vpns": vpns, "static": [{"next_hop": str(nh.next_hop), "vpn": nh.vpn} for nh in unit.next_hop_tunnels],
        })
    return specs


def nhtb_table(spec: dict, vpns_up: set[str]) -> list[Entry]:
    """Static entries always; an Auto entry while its VPN's CHILD SA is up."""
    out = [Entry(IPv4Address(s["next_hop"]), spec["unit"], s["vpn"], "Static") for s in spec["static"]]
    static_vpns = {s["vpn"] for s in spec["static"]}
    for name, v in spec["vpns"].items():
        if v["auto_next_hop"] and name in vpns_up and name not in static_vpns:
            out.append(Entry(IPv4Address(v["auto_next_hop"]), spec["unit"], name, "Auto"))
    return sorted(out, key=lambda e: e.next_hop)


def desired_policies(spec: dict, entries: list[Entry], routes: list[tuple[IPv4Network, IPv4Address]]) -> set[PolicySpec]:
    """The policies for `entries`, given the unit's routes as (prefix, next hop)."""
    out: set[PolicySpec] = set()
    for e in entries:
        v = spec["vpns"].get(e.vpn)
        if v is None:
            continue
        local, remote = IPv4Address(v["local"]), IPv4Address(v["remote"])
        prefixes = {p for p, hop in routes if hop == e.next_hop} | {IPv4Network(f"{e.next_hop}/32")}
        for p in prefixes:
            prio = PRIORITY_BASE - p.prefixlen
            out.add(PolicySpec(ANY, p, "out", spec["if_id"], v["reqid"], local, remote, prio))
            out.add(PolicySpec(p, ANY, "fwd", spec["if_id"], v["reqid"], remote, local, prio))
            out.add(PolicySpec(p, ANY, "in", spec["if_id"], v["reqid"], remote, local, prio))
    return out


def route_active(entries: list[Entry], next_hop: IPv4Address | None) -> bool:
    """A route through a multipoint unit is active only when its next hop has an NHTB entry."""
    return next_hop is not None and any(str(e.next_hop) == str(next_hop) for e in entries)
