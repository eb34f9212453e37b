"""Decommissioning a spoke the way an engineer would (pure): on the hub, its gateway, VPN, static
NHTB entry, route, address-book entry and policy matches go (and the IKE and IPsec policies only
it used, with their pre-shared key); every other site loses its route, address-book entry and
policy matches for the spoke's LAN; the spoke, its PC and their links leave the topology, and the
Internet router's address on the spoke's link goes with the link. Returns a Change.
"""
from __future__ import annotations

from ipaddress import IPv4Network

from ..errors import ConfigError
from .change import Change
from .lab import Lab
from .site import Site
from .topology import ends, peer_end


def _lans(site: Site) -> list[IPv4Network]:
    return site.lan_networks()


def _junos_unit(unit: str) -> tuple[str, str]:
    ifd, _, unit_no = unit.partition(".")
    return ifd, unit_no or "0"


def _forget_lan_junos(site: Site, lans: list[IPv4Network]) -> list[str]:
    """Routes, address-book entries and policy matches of `site` that name one of `lans`."""
    out = [f"delete routing-options static route {r.prefix}" for r in site.routes if r.prefix in lans]
    names = {(z.name, n) for z in site.zones.values() for n, a in z.address_book.items() if a in lans}
    gone = {n for _, n in names}
    for p in site.policies:
        base = f"security policies from-zone {p.from_zone} to-zone {p.to_zone} policy {p.name}"
        left = {f: [n for n in names_ if n not in gone] for f, names_ in (("source-address", p.sources),
                                                                         ("destination-address", p.destinations))}
        if not any(n in gone for n in p.sources + p.destinations):
            continue
        if not left["source-address"] or not left["destination-address"]:
            out.append(f"delete {base}")  # it matched the spoke's LAN only: a policy for nothing
            continue
        out += [f"delete {base} match {f} {n}" for f, ns in (("source-address", p.sources),
                                                               ("destination-address", p.destinations))
                for n in ns if n in gone]
    out += [f"delete security zones security-zone {z} address-book address {n}" for z, n in sorted(names)]
    return out


def _forget_lan_screenos(site: Site, lans: list[IPv4Network]) -> list[str]:
    out = []
    for r in site.routes:
        if r.prefix in lans:
            via = f" interface {r.interface}" if r.interface else ""
            out.append(f"unset route {r.prefix}{via}{f' gateway {r.next_hop}' if r.next_hop else ''}")
    names = {(z.name, n) for z in site.zones.values() for n, a in z.address_book.items() if a in lans}
    gone = {n for _, n in names}
    for p in site.policies:
        hit = [(k, n) for k, ns in (("src-address", p.sources), ("dst-address", p.destinations)) for n in ns if n in gone]
        if not hit:
            continue
        if not [n for n in p.sources if n not in gone] or not [n for n in p.destinations if n not in gone]:
            out.append(f"unset policy {p.name}")  # it matched only the spoke's LAN on one side
            continue
        if p.sources[0] in gone or p.destinations[0] in gone:
            # The policy's own line names it and others stay: ScreenOS cannot unset that one alone.
            raise ConfigError(f"{p.source}: policy {p.name}'s first line names {', '.join(n for _, n in hit)}; "
                              "rewrite that policy by hand before removing the spoke")
        out += [f"set policy {p.name}", *(f'unset {k} "{n}"' for k, n in hit), "exit"]
    out += [f'unset address "{z}" "{n}"' for z, n in sorted(names)]
    return out


def _forget_lan(site: Site, lans: list[IPv4Network]) -> list[str]:
    return (_forget_lan_junos if site.os == "junos" else _forget_lan_screenos)(site, lans)


def _hub_commands(lab: Lab, hub: Site, spoke: Site) -> list[str]:
    """The hub's end of every VPN to `spoke`: the VPN, its gateway, its static NHTB entry, and the
    IKE and IPsec policies no other VPN of the hub uses."""
    theirs = [e for e in ends(hub) if (p := peer_end(lab, e)) is not None and p.site.name == spoke.name]
    if not theirs:
        raise ConfigError(f"{hub.file}: the hub {hub.name} has no VPN to {spoke.name}")
    if hub.os != "junos":
        raise ConfigError(f"{hub.file}: removing a spoke from a {hub.os} hub is not supported (a Junos hub only)")
    out = []
    vpns = {e.vpn.name for e in theirs}
    gateways = {e.vpn.gateway for e in theirs}
    for unit in hub.tunnel_units:
        ifd, no = _junos_unit(unit.name)
        out += [f"delete interfaces {ifd} unit {no} family inet next-hop-tunnel {t.next_hop} ipsec-vpn {t.vpn}"
                for t in unit.next_hop_tunnels if t.vpn in vpns]
    out += [f"delete security ipsec vpn {v}" for v in sorted(vpns)]
    kept_vpns = [v for v in hub.vpns.values() if v.name not in vpns]
    kept_gws = [g for g in hub.gateways.values() if g.name not in gateways or any(v.gateway == g.name for v in kept_vpns)]
    out += [f"delete security ike gateway {g}" for g in sorted(gateways) if g not in {k.name for k in kept_gws}]
    out += [f"delete security ike policy {p}" for p in sorted({hub.gateways[g].ike_policy for g in gateways})
            if not any(k.ike_policy == p for k in kept_gws)]
    out += [f"delete security ipsec policy {p}" for p in sorted({e.vpn.ipsec_policy for e in theirs})
            if not any(v.ipsec_policy == p for v in kept_vpns)]
    return out + _forget_lan(hub, _lans(spoke))


def remove_spoke(lab: Lab, name: str) -> Change:
    spoke, hub = lab.sites.get(name), lab.hub()
    spokes = [s.name for s in lab.sites.values() if not s.is_hub]
    if spoke is None or spoke.is_hub:
        raise ConfigError(f"{lab.topology.file}: {name} is not a spoke of lab {lab.name} (spokes: {', '.join(spokes)})")
    if hub is None:
        raise ConfigError(f"{lab.topology.file}: the lab has no hub")
    lans = _lans(spoke)
    commands = {hub.name: _hub_commands(lab, hub, spoke)}
    for other in lab.sites.values():
        if other.name not in (hub.name, spoke.name) and (cmds := _forget_lan(other, lans)):
            commands[other.name] = cmds
    gone = {spoke.name} | {h for h, host in lab.hosts.items()
                           if any(a.ip in n for _, a, _ in host.addresses for n in lans)}

    def edit(doc: dict) -> None:
        nodes, links = doc["topology"]["nodes"], doc["topology"]["links"]
        for link in [lk for lk in links if any(ep.split(":")[0] in gone for ep in lk["endpoints"])]:
            links.remove(link)
            for node, ifname in (ep.split(":", 1) for ep in link["endpoints"]):
                if node not in gone and nodes.get(node) and nodes[node].get("exec"):
                    # The address a neighbour held on the link goes with it (`ip addr add A dev ethN`).
                    nodes[node]["exec"] = [c for c in nodes[node]["exec"] if not c.split()[-2:] == ["dev", ifname]]
        for node in gone:
            del nodes[node]

    return Change(f"spoke remove {name}", commands, {}, edit)
