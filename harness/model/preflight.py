"""Pre-flight checks across sites, before anything runs: will each VPN come up, and carry traffic?

Modelled on Batfish's IKE/IPsec compatibility checks: for each VPN, find the peer site that owns
its gateway address and the peer's VPN back; then compare what both ends must agree on. A
finding names both files and lines. Findings are predictions, not errors: the lab still comes
up (a rehearsal of a broken change is useful) and later confirms or refutes them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Source
from .lab import Lab
from .site import Site
from .topology import VpnEnd, ends, peer_end  # noqa: F401 (ends, peer_end: where spoke.py reads them)


@dataclass(frozen=True)
class Finding:
    vpn: str  # "site/vpn"
    message: str
    sources: tuple[Source, ...]
    blocks_sa: bool = True  # False: the SAs come up, but traffic does not flow (NHTB, routes)

    def __str__(self) -> str:
        where = str(self.sources[0]) if self.sources else "?"
        also = f" (see also {', '.join(map(str, self.sources[1:]))})" if len(self.sources) > 1 else ""
        return f"{where}: {self.vpn}: {self.message}{also}"


def _psk_source(end: VpnEnd) -> Source:
    pol = end.site.ike_policies.get(end.gateway.ike_policy)
    return (pol.psk_source or pol.source) if pol else end.gateway.source


def _one_side(lab: Lab, end: VpnEnd) -> list[Finding]:
    out: list[Finding] = []
    gw, site = end.gateway, end.site
    if gw.address is not None and gw.external_interface:
        egress, _ = site.route_lookup(gw.address)
        if egress is None:
            out.append(Finding(end.label, f"no route to the IKE peer {gw.address}", (gw.source,)))
        elif egress != gw.external_interface:
            out.append(Finding(end.label, f"IKE packets to {gw.address} leave through {egress}, not the gateway's "
                               f"external-interface {gw.external_interface}: the peer will not be recognized", (gw.source,)))
    if end.vpn.bind_interface is None:
        out.append(Finding(end.label, "no bind-interface: for a route-based VPN phase 2 cannot complete", (end.vpn.source,)))
    out += _traffic_selectors(end)
    peer = lab.site_owning(gw.address) if gw.address else None
    if peer is None:
        out.append(Finding(end.label, f"gateway {gw.name} address {gw.address} belongs to no site in the lab: "
                           "the remote peer is not recognized", (gw.source,)))
    elif peer_end(lab, end) is None:
        out.append(Finding(end.label, f"{peer.name} has no IKE gateway pointing back at {end.local_address} "
                           f"(this side's {gw.external_interface}): it will not recognize this peer", (gw.source,)))
    return out


def _traffic_selectors(end: VpnEnd) -> list[Finding]:
    """What Juniper's "Traffic Selectors in Route-Based VPNs" says traffic selectors do not
    support: a point-to-multipoint st0, VPN monitoring, a remote-ip of 0.0.0.0/0."""
    out: list[Finding] = []
    unit = end.site.units.get(end.vpn.bind_interface or "")
    for ts in end.vpn.traffic_selectors:
        if unit is not None and unit.multipoint:
            out.append(Finding(end.label, f"traffic-selector {ts.name}: Junos does not support traffic selectors on a "
                               f"point-to-multipoint interface ({unit.name} is multipoint)", (ts.source,), False))
        if end.vpn.monitor is not None:
            out.append(Finding(end.label, f"traffic-selector {ts.name}: Junos does not support traffic selectors with "
                               "vpn-monitor", (ts.source, end.vpn.monitor.source), False))
        if ts.remote is not None and ts.remote.prefixlen == 0:
            out.append(Finding(end.label, f"traffic-selector {ts.name}: Junos does not support a remote-ip of "
                               f"{ts.remote} on a site-to-site VPN", (ts.source,), False))
    return out


def _pair(a: VpnEnd, b: VpnEnd) -> list[Finding]:
    out: list[Finding] = []
    label = f"{a.label} <-> {b.label}"
    pa, pb = a.site.ike_policies.get(a.gateway.ike_policy), b.site.ike_policies.get(b.gateway.ike_policy)
    va, vb = a.gateway.version, b.gateway.version
    if va != vb:
        out.append(Finding(label, f"IKE version differs: {va} vs {vb} (phase 1 fails: neither answers the other's "
                           "first message)", (a.gateway.version_source or a.gateway.source,
                                              b.gateway.version_source or b.gateway.source)))
    if pa and pb:
        if pa.psk != pb.psk:
            out.append(Finding(label, "pre-shared keys differ (phase 1 fails: the peer cannot decrypt)",
                               (_psk_source(a), _psk_source(b))))
        if pa.mode != pb.mode and "v2-only" not in (va, vb):  # IKEv2 has no main or aggressive mode
            out.append(Finding(label, f"IKE mode differs: {pa.mode} vs {pb.mode}", (pa.source, pb.source)))
        key = lambda p: (p.auth_method, p.dh_group, p.authentication, p.encryption)  # noqa: E731
        if not {key(p) for p in pa.proposals} & {key(p) for p in pb.proposals}:
            out.append(Finding(label, "no common phase-1 proposal: "
                               f"{a.site.name} offers {', '.join(p.name for p in pa.proposals)}; "
                               f"{b.site.name} offers {', '.join(p.name for p in pb.proposals)}", (pa.source, pb.source)))
    ia, ib = a.site.ipsec_policies.get(a.vpn.ipsec_policy), b.site.ipsec_policies.get(b.vpn.ipsec_policy)
    if ia and ib:
        key2 = lambda p: (p.protocol, p.authentication, p.encryption)  # noqa: E731
        if not {key2(p) for p in ia.proposals} & {key2(p) for p in ib.proposals}:
            out.append(Finding(label, "no common phase-2 proposal: "
                               f"{a.site.name} offers {', '.join(p.name for p in ia.proposals)}; "
                               f"{b.site.name} offers {', '.join(p.name for p in ib.proposals)}", (ia.source, ib.source)))
        if ia.pfs_group != ib.pfs_group:
            fmt = lambda g: f"group{g}" if g else "no PFS"  # noqa: E731
            out.append(Finding(label, f"PFS differs: {fmt(ia.pfs_group)} vs {fmt(ib.pfs_group)}", (ia.source, ib.source)))
    if a.vpn.proxy_id.local != b.vpn.proxy_id.remote or a.vpn.proxy_id.remote != b.vpn.proxy_id.local:
        out.append(Finding(label, "proxy IDs do not match: "
                           f"{a.site.name} local={a.vpn.proxy_id.local} remote={a.vpn.proxy_id.remote}; "
                           f"{b.site.name} local={b.vpn.proxy_id.local} remote={b.vpn.proxy_id.remote}",
                           (a.vpn.source, b.vpn.source)))
    return out


def _nhtb(lab: Lab, site: Site) -> list[Finding]:
    """On a multipoint unit, every VPN needs a next hop: static, or Auto from a Junos peer."""
    out: list[Finding] = []
    for unit in site.tunnel_units:
        if not unit.multipoint:
            continue
        static = {nh.vpn for nh in unit.next_hop_tunnels}
        bound_hops = {nh.next_hop for nh in unit.next_hop_tunnels}
        for end in ends(site):
            if end.vpn.bind_interface != unit.name or end.vpn.name in static:
                continue
            peer = peer_end(lab, end)
            if peer is None:
                continue
            if peer.site.os != "junos":
                out.append(Finding(f"{site.name}/{end.vpn.name}",
                                   f"the peer {peer.site.name} runs {peer.site.os}, which sends no next-hop tunnel "
                                   f"information: without a static next-hop-tunnel on {unit.name} its routes stay "
                                   "inactive", (end.vpn.source,), blocks_sa=False))
            else:
                punit = peer.site.units.get(peer.vpn.bind_interface or "")
                bound_hops |= {a.ip for a in punit.addresses} if punit else set()
        for r in site.routes:
            hop_unit = site.connected_unit_for(r.next_hop) if r.next_hop else None
            if hop_unit is unit and r.next_hop not in bound_hops:
                out.append(Finding(f"{site.name}/{unit.name}", f"route {r.prefix} via {r.next_hop}: no VPN will "
                                   "own that next hop (no NHTB entry), the route stays inactive", (r.source,),
                                   blocks_sa=False))
    return out


def broken_ends(findings: list[Finding]) -> set[str]:
    """Labels (site/vpn) that some finding is about."""
    return {part for f in findings for part in f.vpn.split(" <-> ")}


def preflight(lab: Lab) -> list[Finding]:
    findings: list[Finding] = []
    done: set[tuple[str, str]] = set()
    for site in lab.sites.values():
        for end in ends(site):
            findings += _one_side(lab, end)
            peer = peer_end(lab, end)
            if peer is not None and (peer.label, end.label) not in done:
                done.add((end.label, peer.label))
                findings += _pair(end, peer)
        findings += _nhtb(lab, site)
    return findings
