"""The network plan of every node (pure): what the runtime creates with pyroute2.

Links carry the device's addresses under their Linux names; each tunnel unit becomes an xfrm
interface (multipoint on a hub, point-to-point on a spoke) with the if_id its SAs are bound to;
routes come from the static routes (sites) or the `exec` lines (hosts).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..model.hosts import Host
from ..model.ifnames import linux_ifname
from ..model.lab import Lab
from ..model.site import Site
from .strongswan import if_id


@dataclass(frozen=True)
class LinkPlan:
    ifname: str
    addresses: tuple[IPv4Interface, ...]
    unit: str | None = None  # the device's name for it (ge-0/0/3.0), None on hosts


@dataclass(frozen=True)
class TunnelPlan:
    ifname: str
    unit: str
    if_id: int
    underlay: str | None  # Linux name of the external interface its VPNs use
    addresses: tuple[IPv4Interface, ...]
    multipoint: bool
    vpns: tuple[str, ...]


@dataclass(frozen=True)
class RoutePlan:
    prefix: IPv4Network
    gateway: IPv4Address | None
    dev: str | None
    origin: str  # file:line it came from


@dataclass
class NodePlan:
    node: str
    role: str  # hub, spoke, router, host
    links: list[LinkPlan] = field(default_factory=list)
    tunnels: list[TunnelPlan] = field(default_factory=list)
    routes: list[RoutePlan] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)  # /proc/sys paths: net/ipv4/ip_forward


def site_plan(site: Site, cabled: list[str]) -> NodePlan:
    plan = NodePlan(site.name, site.role)
    by_ifname = {}
    for unit in site.units.values():
        if not unit.tunnel:
            by_ifname[linux_ifname(site.os, unit.name)] = unit
    for ifname in cabled:  # every cabled interface comes up, addressed or not
        unit = by_ifname.get(ifname)
        plan.links.append(LinkPlan(ifname, tuple(unit.addresses) if unit else (), unit.name if unit else None))
    for unit in site.tunnel_units:
        vpns = site.vpns_bound_to(unit.name)
        ext = next((site.gateways[v.gateway].external_interface for v in vpns if v.gateway in site.gateways), None)
        plan.tunnels.append(TunnelPlan(
            linux_ifname(site.os, unit.name), unit.name, if_id(unit.name),
            linux_ifname(site.os, ext) if ext else None, tuple(unit.addresses), unit.multipoint,
            tuple(v.name for v in vpns)))
    for r in site.routes:
        dev = None
        if r.interface:
            dev = linux_ifname(site.os, r.interface)
        elif r.next_hop is not None:
            unit = site.connected_unit_for(r.next_hop)
            dev = linux_ifname(site.os, unit.name) if unit else None
        plan.routes.append(RoutePlan(r.prefix, r.next_hop, dev, str(r.source)))
    plan.sysctls["net/ipv4/ip_forward"] = "1"
    plan.sysctls["net/ipv4/conf/all/rp_filter"] = "0"
    if site.is_hub:
        # Spoke-to-spoke traffic leaves st0 the way it came in; a redirect would be wrong there.
        # The kernel ORs `all` with each interface's own setting, so every one is listed.
        for ifname in ["all", "default", *(ln.ifname for ln in plan.links), *(t.ifname for t in plan.tunnels)]:
            plan.sysctls[f"net/ipv4/conf/{ifname}/send_redirects"] = "0"
    return plan


def host_plan(host: Host, cabled: list[str]) -> NodePlan:
    plan = NodePlan(host.name, host.role)
    for ifname in cabled:
        addrs = tuple(a for i, a, _ in host.addresses if i == ifname)
        plan.links.append(LinkPlan(ifname, addrs))
    for r in host.routes:
        plan.routes.append(RoutePlan(r.prefix, r.via, None, str(r.source)))
    plan.sysctls["net/ipv4/ip_forward"] = "1" if host.forwarding else "0"
    return plan


def node_plan(lab: Lab, node: str) -> NodePlan:
    """One node's plan, without planning the others (a lab of N spokes renders N nodes)."""
    cabled = sorted((ep.iface for ep, _ in lab.topology.links_of(node)), key=lambda i: (len(i), i))
    if node in lab.sites:
        return site_plan(lab.sites[node], cabled)
    return host_plan(lab.hosts[node], cabled)


def lab_plan(lab: Lab) -> dict[str, NodePlan]:
    return {node: node_plan(lab, node) for node in lab.nodes}
