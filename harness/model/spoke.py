"""Adding a spoke the way the note says: duplicate an existing spoke's configuration, change its
addresses, and add static routes (and address-book entries and policy matches) for the new LAN
everywhere else. Everything is derived from the lab's model: the spoke it is like, the hub's end
of that spoke's VPN, and the Internet router that serves it. Pure: returns a Change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from ..errors import ConfigError
from ..parse.clab import node_name_problem
from ..parse.statements import read_config
from .change import Change, as_set_commands, write_grown_lab
from .ifnames import linux_ifname
from .lab import OS_LABEL, Lab, load_lab
from .preflight import ends, peer_end
from .site import Site, StaticRoute


@dataclass(frozen=True)
class SpokeRequest:
    name: str
    public: IPv4Interface  # the new spoke's Internet address and prefix (a /30 as in the note)
    lan: IPv4Network
    tunnel_ip: IPv4Address  # its st0 / tunnel.1 address: the hub's next hop for the new LAN
    like: str  # the existing spoke to duplicate
    nhtb: str  # "static" or "auto"


def _lan(site: Site) -> IPv4Interface:
    units = site.lan_units()
    if not units:
        raise ConfigError(f"{site.file}: {site.name} has no LAN interface to copy")
    return units[0].addresses[0]


def _tunnel_unit(site: Site):
    unit = next((u for u in site.tunnel_units if u.addresses), None)
    if unit is None:
        raise ConfigError(f"{site.file}: {site.name} has no tunnel interface with an address")
    return unit


def _internet_hop(site: Site) -> StaticRoute:
    route = next((r for r in site.routes if r.prefix.prefixlen == 0 and r.next_hop), None)
    if route is None:
        raise ConfigError(f"{site.file}: {site.name} has no default route via a next hop (the Internet)")
    return route


def _address_name(site: Site, net: IPv4Network) -> tuple[str, str] | None:
    """(zone, address-book name) of `net` on `site`."""
    return next(((z.name, n) for z in site.zones.values() for n, a in z.address_book.items() if a == net), None)


def _route_to(site: Site, net: IPv4Network) -> StaticRoute | None:
    return next((r for r in site.routes if r.prefix == net), None)


def remote_lan_commands(site: Site, name: str, lan: IPv4Network, templates: list[IPv4Network],
                        next_hop: IPv4Address | None = None) -> list[str]:
    """What `site` needs to reach a new remote LAN: written like its route, address-book entry and
    policy matches for the first of `templates` (LANs it already reaches the same way)."""
    own = set(site.lan_networks())
    template = next((t for t in templates if t not in own and _route_to(site, t) and _address_name(site, t)), None)
    if template is None:
        raise ConfigError(f"{site.file}: {site.name} routes none of {', '.join(map(str, templates))} through its "
                          "tunnel with an address-book entry: nothing to copy for the new LAN")
    route, (zone, tname) = _route_to(site, template), _address_name(site, template)  # type: ignore[misc]
    new_name = f"{name}-net"
    if site.os == "junos":
        hop = next_hop or route.next_hop
        out = [f"set routing-options static route {lan} next-hop {hop or route.interface}",
               f"set security zones security-zone {zone} address-book address {new_name} {lan}"]
        for p in site.policies:
            for field_, names in (("source-address", p.sources), ("destination-address", p.destinations)):
                if tname in names:
                    out.append(f"set security policies from-zone {p.from_zone} to-zone {p.to_zone} policy {p.name} "
                               f"match {field_} {new_name}")
        return out
    via = f"gateway {next_hop or route.next_hop}" if (next_hop or route.next_hop) else f"interface {route.interface}"
    out = [f'set address "{zone}" "{new_name}" {lan.network_address} {lan.netmask}', f"set route {lan} {via}"]
    for p in site.policies:
        for key, names in (("src-address", p.sources), ("dst-address", p.destinations)):
            if tname in names:
                out += [f"set policy {p.name}", f'set {key} "{new_name}"', "exit"]
    return out


def reaches_through_tunnel(site: Site, lan: IPv4Network) -> bool:
    """Whether `site` already reaches all of `lan` through a tunnel: one covering route (not the
    default) carries its first and last address out of a tunnel unit, and an address-book entry
    of that unit's zone covering it is named by a policy from or to that zone."""
    unit, route = site.route_lookup(lan.network_address)
    if route is None or route.prefix.prefixlen == 0 or not lan.subnet_of(route.prefix):
        return False
    if site.route_lookup(lan.broadcast_address)[1] is not route:
        return False
    if unit is None or unit not in site.units or not site.units[unit].tunnel:
        return False
    zone = next((z for z in site.zones.values() if unit in z.interfaces), None)
    if zone is None:
        return False
    names = {n for n, a in zone.address_book.items() if lan.subnet_of(a)}
    return any(names & {*p.sources, *p.destinations} for p in site.policies if zone.name in (p.from_zone, p.to_zone))


def summary_change(lab: Lab, summary: IPv4Network) -> Change:
    """Every spoke routes `summary` through its tunnel, written like the LANs it already reaches
    through the hub: a spoke added later with its LAN inside `summary` then changes only the hub and
    itself, so the configs grow linearly with the spokes, not with their square."""
    hub = lab.hub()
    if hub is None:
        raise ConfigError(f"{lab.topology.file}: no hub")
    spokes = [s for s in lab.sites.values() if not s.is_hub]
    templates = [*(_lan(s).network for s in spokes), _lan(hub).network]
    return Change(f"spokes route {summary} through the hub",
                  {s.name: remote_lan_commands(s, SUMMARY_NAME, summary, templates) for s in spokes})


def _substitute(text: str, mapping: dict[str, str]) -> str:
    """Replace whole tokens (an address, a prefix, a name; quoted or not), longest first."""
    for old in sorted(mapping, key=len, reverse=True):
        text = re.sub(rf'(?<![\w.:/-]){re.escape(old)}(?![\w.:/-])', mapping[old], text)
    return text


def _check(lab: Lab, req: SpokeRequest) -> tuple[Site, Site]:
    # The name becomes a node, a folder and file names: containerlab's rule keeps it inside them.
    if (bad := node_name_problem(req.name)) is not None:
        raise ConfigError(f"--name: {bad}")
    if req.lan.prefixlen > 30:
        raise ConfigError(f"--lan {req.lan}: a subnet of at least /30 (the spoke's LAN address and its PC)")
    if req.name in lab.nodes or f"{req.name}-pc" in lab.nodes:
        raise ConfigError(f"{lab.topology.file}: a node named {req.name} (or {req.name}-pc) already exists")
    like = lab.sites.get(req.like)
    hub = lab.hub()
    if like is None or like.is_hub:
        spokes = [s.name for s in lab.sites.values() if not s.is_hub]
        raise ConfigError(f"--like {req.like}: not a spoke of lab {lab.name} (spokes: {', '.join(spokes)})")
    if hub is None:
        raise ConfigError(f"{lab.topology.file}: the lab has no hub to add a spoke to")
    if req.nhtb not in ("static", "auto"):
        raise ConfigError(f"--nhtb {req.nhtb}: static or auto")
    if req.nhtb == "auto" and like.os != "junos":
        raise ConfigError(f"--nhtb auto: a {like.os} spoke sends no next-hop tunnel information; use --nhtb static")
    used = [a for s in lab.sites.values() for _, a in s.addresses()] + \
           [a for h in lab.hosts.values() for _, a, _ in h.addresses]
    for what, net in (("--public", req.public.network), ("--lan", req.lan)):
        clash = next((a for a in used if a.network.overlaps(net)), None)
        if clash is not None:
            raise ConfigError(f"{what} {net} overlaps {clash.network}, already in lab {lab.name}")
    if req.public.network.prefixlen > 30 or req.public.ip in (req.public.network.network_address,
                                                              req.public.network.broadcast_address):
        raise ConfigError(f"--public {req.public}: a host address on a link of at least /30 (the spoke's side)")
    hub_tunnel = _tunnel_unit(hub).addresses[0]
    if req.tunnel_ip not in hub_tunnel.network or req.tunnel_ip in {a.ip for _, a in hub.addresses()} | \
            {a.ip for s in lab.sites.values() for u in s.tunnel_units for a in u.addresses}:
        raise ConfigError(f"--tunnel-ip {req.tunnel_ip}: a free address in the hub's tunnel subnet {hub_tunnel.network}")
    return like, hub


def add_spoke(lab: Lab, req: SpokeRequest) -> Change:
    like, hub = _check(lab, req)
    like_end = ends(like)[0]
    hub_end = peer_end(lab, like_end)
    if hub_end is None:
        raise ConfigError(f"{like.file}: {like.name}'s VPN has no end on the hub {hub.name} to copy")
    hop = next(h for h in req.public.network.hosts() if h != req.public.ip)  # the Internet router's side
    like_lan, lan_gw = _lan(like), IPv4Interface(f"{req.lan.network_address + 1}/{req.lan.prefixlen}")
    like_tunnel = _tunnel_unit(like).addresses[0]
    like_public = like.units[like_end.gateway.external_interface].addresses[0]  # type: ignore[index]
    vpn, gate = f"{req.name}-vpn", f"{req.name}-gate"

    # The hub: a gateway and VPN like the one it has for `like`, the next hop, the route and policies.
    hub_gw = hub_end.gateway
    hub_cmds = [f"set security ike gateway {gate} ike-policy {hub_gw.ike_policy}",
                f"set security ike gateway {gate} address {req.public.ip}",
                f"set security ike gateway {gate} external-interface {hub_gw.external_interface}",
                f"set security ipsec vpn {vpn} bind-interface {hub_end.vpn.bind_interface}",
                f"set security ipsec vpn {vpn} ike gateway {gate}",
                f"set security ipsec vpn {vpn} ike ipsec-policy {hub_end.vpn.ipsec_policy}"]
    if hub_end.vpn.establish_tunnels == "immediately":
        hub_cmds.append(f"set security ipsec vpn {vpn} establish-tunnels immediately")
    if req.nhtb == "static":
        ifd, unit = (hub_end.vpn.bind_interface or "st0.0").split(".")
        hub_cmds.append(f"set interfaces {ifd} unit {unit} family inet next-hop-tunnel {req.tunnel_ip} ipsec-vpn {vpn}")
    spokes = [s for s in lab.sites.values() if not s.is_hub]
    spoke_lans = [_lan(s).network for s in spokes]
    hub_cmds += remote_lan_commands(hub, req.name, req.lan, [like_lan.network, *spoke_lans], req.tunnel_ip)
    commands = {hub.name: hub_cmds}
    # Every existing spoke reaches the new LAN the way it reaches the other spokes' LANs, unless it
    # already does (a summary route through its tunnel, as `spoke scale` writes): then it is untouched.
    hub_lan = _lan(hub).network
    for s in spokes:
        if not reaches_through_tunnel(s, req.lan):
            commands[s.name] = remote_lan_commands(s, req.name, req.lan, [*spoke_lans, hub_lan])

    # The new spoke: `like`'s config with its addresses changed, plus `like`'s LAN as a remote one.
    mapping = {str(like_public): str(req.public), str(_internet_hop(like).next_hop): str(hop),
               str(like_lan): str(lan_gw), str(like_lan.network): str(req.lan),
               str(like_tunnel): f"{req.tunnel_ip}/{like_tunnel.network.prefixlen}"}
    own = _address_name(like, like_lan.network)
    like_file = lab.topology.nodes[like.name].startup_config
    if like.os == "junos":
        text = as_set_commands(like_file)
        if like.hostname:
            text = text.replace(f"host-name {like.hostname}\n", f"host-name {req.name}\n")
    else:
        text = read_config(like_file)
        text = text.replace(f"{like_lan.network.network_address} {like_lan.netmask}",
                            f"{req.lan.network_address} {req.lan.netmask}")
    if own and own[1] == f"{like.name}-net":
        mapping[own[1]] = f"{req.name}-net"
    text = _substitute(text, mapping)
    text += "" if text.endswith("\n") else "\n"
    text += f"# {like.name}'s LAN, reached through the hub like the other spokes' LANs\n"
    text += "".join(c + "\n" for c in remote_lan_commands(like, like.name, like_lan.network,
                                                         [*spoke_lans, hub_lan]))
    suffix = like_file.suffix

    internet = _internet_router(lab, _internet_hop(like).next_hop)
    pc_offset = _host_offset(lab, like, like_lan.network)
    ext_if = linux_ifname(like.os, like_end.gateway.external_interface or "")
    lan_if = linux_ifname(like.os, like.lan_units()[0].name)

    def edit(doc: dict) -> None:
        nodes, links = doc["topology"]["nodes"], doc["topology"]["links"]
        used = [int(ep.split(":eth")[1]) for link in links for ep in link["endpoints"] if ep.startswith(f"{internet}:eth")]
        inet_if = f"eth{max(used, default=0) + 1}"
        nodes[internet].setdefault("exec", []).insert(0, f"ip addr add {hop}/{req.public.network.prefixlen} dev {inet_if}")
        label = (doc["topology"]["nodes"][like.name].get("labels") or {}).get(OS_LABEL, like.os)
        nodes[req.name] = {"kind": nodes[like.name].get("kind", "linux"), "startup-config": "",
                           "labels": {OS_LABEL: label}}
        host_ip = req.lan.network_address + pc_offset
        nodes[f"{req.name}-pc"] = {"kind": "linux", "exec": [f"ip addr add {host_ip}/{req.lan.prefixlen} dev eth1",
                                                              f"ip route replace default via {lan_gw.ip}"]}
        links += [{"endpoints": [f"{internet}:{inet_if}", f"{req.name}:{ext_if}"]},
                  {"endpoints": [f"{req.name}-pc:eth1", f"{req.name}:{lan_if}"]}]

    title = f"spoke add {req.name} (like {like.name}, {req.nhtb} NHTB)"
    return Change(title, commands, {req.name: (f"{req.name}{suffix}", text)}, edit)


def _internet_router(lab: Lab, hop: IPv4Address | None) -> str:
    node = next((h for h, host in lab.hosts.items() for _, a, _ in host.addresses if a.ip == hop), None)
    if node is None:
        raise ConfigError(f"{lab.topology.file}: no node holds the Internet next hop {hop} to cable the new spoke to")
    return node


def _host_offset(lab: Lab, site: Site, lan: IPv4Network) -> int:
    host = lab.lan_host(site.name)
    return int(IPv4Address(lab.host_address(host))) - int(lan.network_address) if host else 10


# Where generated spokes take their addresses from (documentation/shared ranges, never routed here).
PUBLIC_POOL = IPv4Network("100.64.0.0/16")  # a /30 per spoke
LAN_POOL = IPv4Network("172.16.0.0/12")  # a /24 per spoke
SUMMARY_NAME = "spoke-pool"  # the address-book name (`spoke-pool-net`) of LAN_POOL on the spokes
# How `spoke scale` lets each spoke reach the others' LANs: one summary route through the tunnel
# (what a network of that size is configured with), or a route per LAN as `spoke add` writes.
SPOKE_ROUTES = ("summary", "each")


def scale_requests(lab: Lab, total_spokes: int, like: str | None = None) -> list[SpokeRequest]:
    """Requests that bring `lab` to `total_spokes` spokes, each like `like` (default: the first
    Junos spoke, so the hub learns every next hop as an Auto entry)."""
    spokes = [s for s in lab.sites.values() if not s.is_hub]
    if like and (lab.sites.get(like) is None or lab.sites[like].is_hub):
        raise ConfigError(f"--like {like}: not a spoke of lab {lab.name} (spokes: {', '.join(s.name for s in spokes)})")
    if not spokes:
        raise ConfigError(f"{lab.topology.file}: the lab has no spoke to copy")
    like_site = lab.sites[like] if like else next((s for s in spokes if s.os == "junos"), spokes[0])
    hub = lab.hub()
    if hub is None:
        raise ConfigError(f"{lab.topology.file}: no hub")
    tunnel_net = _tunnel_unit(hub).addresses[0].network
    used = {a.ip for s in lab.sites.values() for _, a in s.addresses()}
    free_tunnel = (h for h in tunnel_net.hosts() if h not in used)
    publics, lans = PUBLIC_POOL.subnets(new_prefix=30), LAN_POOL.subnets(new_prefix=24)
    taken = [a.network for s in lab.sites.values() for _, a in s.addresses()]
    out = []
    for k in range(total_spokes - len(spokes)):
        link = next(publics)
        lan = next(n for n in lans if not any(n.overlaps(t) for t in taken))
        try:
            tip = next(free_tunnel)
        except StopIteration:
            raise ConfigError(f"the hub's tunnel subnet {tunnel_net} has no address left for spoke {k + 1}") from None
        out.append(SpokeRequest(f"spoke{k + 1:03d}", IPv4Interface(f"{link[2]}/30"), lan, tip, like_site.name,
                                "auto" if like_site.os == "junos" else "static"))
    return out


def grow(topology: Path | str, total_spokes: int, out_dir: Path, like: str | None = None,
         spoke_routes: str = "summary") -> Path:
    """A lab with `total_spokes` spokes on the one hub, each added as `spoke add` would; returns
    the final topology (the intermediate steps stay beside it). With `spoke_routes` "summary", the
    first step gives every spoke a route to LAN_POOL through the hub, so later steps leave the
    existing spokes alone; with "each", every step adds the new LAN's route on every spoke."""
    if spoke_routes not in SPOKE_ROUTES:
        raise ConfigError(f"--spoke-routes {spoke_routes}: one of {', '.join(SPOKE_ROUTES)}")
    base = load_lab(topology)
    requests = scale_requests(base, total_spokes, like)
    pending = iter(requests)
    summary = iter([summary_change(base, LAN_POOL)] if spoke_routes == "summary" and requests else [])

    def next_change(topo: Path) -> Change | None:
        change = next(summary, None)
        if change is not None:
            return change
        req = next(pending, None)
        return None if req is None else add_spoke(load_lab(topo), req)

    return write_grown_lab(topology, next_change, out_dir)
