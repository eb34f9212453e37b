"""Checks within one site: what a commit on the device would refuse, or what can never work.

Each problem is (Source, message); the lab loader gathers them over all sites and raises.
"""
from __future__ import annotations

from ..errors import Source
from .emulation import application_problem
from .site import Site

IKE_SERVICES = {"ike", "all"}  # host-inbound system-services that let IKE reach the device

Problem = tuple[Source | None, str]




def _references(site: Site) -> list[Problem]:
    out: list[Problem] = []
    for vpn in site.vpns.values():
        if vpn.gateway and vpn.gateway not in site.gateways:
            out.append((vpn.source, f"vpn {vpn.name}: ike gateway '{vpn.gateway}' is not defined"))
        if vpn.ipsec_policy and vpn.ipsec_policy not in site.ipsec_policies:
            out.append((vpn.source, f"vpn {vpn.name}: ipsec-policy '{vpn.ipsec_policy}' is not defined"))
        if vpn.bind_interface is not None:
            unit = site.units.get(vpn.bind_interface)
            if unit is None or not unit.tunnel:
                out.append((vpn.bind_source or vpn.source,
                            f"vpn {vpn.name}: bind-interface {vpn.bind_interface} is not a configured tunnel unit"))
        mon = vpn.monitor
        if mon is not None and mon.source_interface is not None:
            unit = site.units.get(mon.source_interface)
            if unit is None or not unit.addresses:
                out.append((mon.source, f"vpn {vpn.name}: vpn-monitor source-interface {mon.source_interface} "
                                        "has no address (the probes' source)"))
    for gw in site.gateways.values():
        if gw.ike_policy and gw.ike_policy not in site.ike_policies:
            out.append((gw.source, f"ike gateway {gw.name}: ike-policy '{gw.ike_policy}' is not defined"))
        if gw.external_interface is None:
            out.append((gw.source, f"ike gateway {gw.name} has no external-interface"))
        elif not site.units.get(gw.external_interface, None) or not site.units[gw.external_interface].addresses:
            out.append((gw.source, f"ike gateway {gw.name}: external-interface {gw.external_interface} has no address"))
    for pol in site.ike_policies.values():
        if pol.psk is None:
            out.append((pol.source, f"ike policy {pol.name} has no pre-shared-key (the lab supports PSK only)"))
        if not pol.proposals:
            out.append((pol.source, f"ike policy {pol.name} has no proposals"))
    for pol in site.ipsec_policies.values():
        if not pol.proposals:
            out.append((pol.source, f"ipsec policy {pol.name} has no proposals"))
    return out


def _tunnels(site: Site) -> list[Problem]:
    out: list[Problem] = []
    for unit in site.tunnel_units:
        bound = site.vpns_bound_to(unit.name)
        if len(bound) > 1 and not unit.multipoint:
            out.append((unit.source, f"{unit.name} binds {len(bound)} VPNs ({', '.join(v.name for v in bound)}) "
                        "but is not multipoint: there is no way to tell their traffic apart"))
        if unit.multipoint and bound and not unit.addresses:
            out.append((unit.source, f"{unit.name} is multipoint with VPNs but has no address: "
                        "next-hop tunnel bindings need next hops in its subnet"))
        seen: dict = {}
        for nh in unit.next_hop_tunnels:
            if nh.vpn not in site.vpns:
                out.append((nh.source, f"next-hop-tunnel {nh.next_hop}: ipsec-vpn '{nh.vpn}' is not defined"))
            elif site.vpns[nh.vpn].bind_interface != unit.name:
                out.append((nh.source, f"next-hop-tunnel {nh.next_hop}: vpn {nh.vpn} is not bound to {unit.name}"))
            if not any(nh.next_hop in a.network for a in unit.addresses):
                subnets = ", ".join(str(a.network) for a in unit.addresses) or "none"
                out.append((nh.source, f"next-hop-tunnel {nh.next_hop} is outside {unit.name}'s subnet ({subnets})"))
            if nh.next_hop in seen:
                out.append((nh.source, f"next-hop-tunnel {nh.next_hop} is already bound at {seen[nh.next_hop]}"))
            seen.setdefault(nh.next_hop, nh.source)
        if unit.next_hop_tunnels and not unit.multipoint:
            out.append((unit.next_hop_tunnels[0].source, f"{unit.name} has next-hop-tunnel entries but is not multipoint"))
    return out


def _zones_and_policies(site: Site) -> list[Problem]:
    out: list[Problem] = []
    for zone in site.zones.values():
        for ifname in zone.interfaces:
            if ifname not in site.units:
                out.append((zone.source, f"zone {zone.name}: interface {ifname} is not configured"))
    for pol in site.policies:
        for side, zname, names in (("source", pol.from_zone, pol.sources), ("destination", pol.to_zone, pol.destinations)):
            zone = site.zones.get(zname)
            if zone is None:
                out.append((pol.source, f"policy {pol.name}: zone '{zname}' is not defined"))
                continue
            for n in names:
                if n != "any" and n not in zone.address_book:
                    out.append((pol.source, f"policy {pol.name} ({pol.from_zone} -> {pol.to_zone}): {side}-address "
                                f"'{n}' is not in zone {zname}'s address book"))
    return out


def _zone_of(site: Site, ifname: str):
    return next((z for z in site.zones.values() if ifname in z.interfaces), None)


def _interfaces_in_zones(site: Site) -> list[Problem]:
    """A tunnel unit in no zone drops all its traffic; the hub's IKE side must answer IKE."""
    out: list[Problem] = []
    for unit in site.tunnel_units:
        if _zone_of(site, unit.name) is None:
            out.append((unit.source, f"{unit.name} is in no security zone: its traffic would be dropped"))
    for gw in site.gateways.values():
        if gw.external_interface is None or gw.external_interface not in site.units:
            continue  # reported by _references
        zone = _zone_of(site, gw.external_interface)
        if zone is None:
            out.append((gw.source, f"ike gateway {gw.name}: external-interface {gw.external_interface} is in no "
                        "security zone: IKE to it would be dropped"))
        elif site.is_hub and not zone.host_inbound & IKE_SERVICES:
            out.append((zone.source, f"zone {zone.name} ({gw.external_interface}, the external-interface of ike "
                        f"gateway {gw.name}) does not allow host-inbound-traffic system-services ike: the hub "
                        "would answer no IKE"))
    return list(dict.fromkeys(out))  # one zone serves many gateways: say it once


def _applications(site: Site) -> list[Problem]:
    return [(pol.source, problem) for pol in site.policies if (problem := application_problem(pol))]


def _routes(site: Site) -> list[Problem]:
    out: list[Problem] = []
    for r in site.routes:
        if r.interface is not None and r.interface not in site.units:
            out.append((r.source, f"route {r.prefix}: interface {r.interface} is not configured"))
        if r.next_hop is not None and site.connected_unit_for(r.next_hop) is None:
            nets = ", ".join(str(a.network) for _, a in site.addresses())
            out.append((r.source, f"route {r.prefix}: next hop {r.next_hop} is not on a connected subnet ({nets}); "
                        "the route would stay inactive"))
    return out


def validate_site(site: Site) -> list[Problem]:
    return (_references(site) + _tunnels(site) + _zones_and_policies(site) + _interfaces_in_zones(site)
            + _applications(site) + _routes(site))
