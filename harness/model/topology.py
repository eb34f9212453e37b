"""Who is connected to whom, read from the model (pure): the ends of each VPN and their peers,
and the LAN hosts that talk to each other. One place for these facts; the pre-flight, the
renderers, the runtime and the verification all ask here."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from .lab import Lab
from .site import IkeGateway, Site, Vpn


@dataclass(frozen=True)
class VpnEnd:
    site: Site
    vpn: Vpn
    gateway: IkeGateway

    @property
    def label(self) -> str:
        return f"{self.site.name}/{self.vpn.name}"

    @property
    def local_address(self) -> IPv4Address | None:
        unit = self.site.units.get(self.gateway.external_interface or "")
        return unit.addresses[0].ip if unit and unit.addresses else None


def ends(site: Site) -> list[VpnEnd]:
    return [VpnEnd(site, v, site.gateways[v.gateway]) for v in site.vpns.values() if v.gateway in site.gateways]


def peer_end(lab: Lab, end: VpnEnd) -> VpnEnd | None:
    """The VPN on the site owning this end's gateway address whose gateway points back at us."""
    peer = lab.site_owning(end.gateway.address) if end.gateway.address else None
    if peer is None:
        return None
    return next((e for e in ends(peer) if e.gateway.address == end.local_address), None)


def vpn_pairs(lab: Lab) -> list[tuple[VpnEnd, VpnEnd]]:
    """Each VPN with its peer, once, the spoke end first (the end that initiates in the lab)."""
    pairs, seen = [], set()
    for site in lab.sites.values():
        for end in ends(site):
            peer = peer_end(lab, end)
            if peer is None or (peer.label, end.label) in seen:
                continue
            seen.add((end.label, peer.label))
            pairs.append((peer, end) if end.site.is_hub else (end, peer))
    return pairs


@dataclass(frozen=True)
class LanHost:
    site: str
    host: str  # the LAN host's node
    address: str


def lan_hosts(lab: Lab) -> list[LanHost]:
    """Each site's LAN host (the PC the note pings from), in site order."""
    return [LanHost(s, h, lab.host_address(h)) for s in lab.sites if (h := lab.lan_host(s))]


def lan_host_pairs(lab: Lab) -> list[tuple[LanHost, LanHost]]:
    """Every ordered pair of LAN hosts of different sites (spoke to spoke goes through the hub)."""
    hosts = lan_hosts(lab)
    return [(a, b) for a in hosts for b in hosts if a.site != b.site]


def sampled_host_pairs(lab: Lab) -> list[tuple[LanHost, LanHost]]:
    """The pairs `verify` pings by default: every hub LAN to every other LAN and back, each
    spoke's LAN to the next spoke's (a ring through the hub), and both ends of every VPN's LANs
    (so every SA carries traffic both ways): about 3 pairs per spoke, so verification grows
    linearly with the spokes. With two spokes (the note's lab), or without a hub, every pair."""
    hosts = lan_hosts(lab)
    hubs = {s.name for s in lab.sites.values() if s.is_hub}
    if not hubs:
        return lan_host_pairs(lab)
    spokes = [h for h in hosts if h.site not in hubs]
    wanted = {(spokes[i].site, spokes[(i + 1) % len(spokes)].site) for i in range(len(spokes))} if len(spokes) > 1 else set()
    for a, b in vpn_pairs(lab):
        wanted |= {(a.site.name, b.site.name), (b.site.name, a.site.name)}
    return [(a, b) for a, b in lan_host_pairs(lab) if a.site in hubs or b.site in hubs or (a.site, b.site) in wanted]
