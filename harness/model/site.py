"""The typed model of one site (an SRX or an SSG), whatever syntax its config was written in.

Names stay the device's own (ge-0/0/3.0, st0.0, ethernet0/0, tunnel.1); `ifnames` maps them
onto the lab's Linux interfaces. Every element keeps the Source it was read from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from ..errors import Source
from .nat import DestinationNat, SourceNat, StaticNat

OS = Literal["junos", "screenos"]


class Secret:
    """A pre-shared key: never shown by repr/str, only by reveal()."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class IkeProposal:
    name: str
    auth_method: str  # pre-shared-keys
    dh_group: int
    authentication: str  # sha1, sha-256, md5
    encryption: str  # 3des-cbc, aes-128-cbc, ...
    lifetime: int = 28800


@dataclass(frozen=True)
class IpsecProposal:
    name: str
    protocol: str  # esp
    authentication: str  # hmac-sha1-96, ...
    encryption: str
    lifetime: int = 3600


@dataclass
class Unit:
    """A logical interface (ge-0/0/0.0, st0.0, ethernet0/0, tunnel.1) with its IPv4 addresses."""

    name: str
    addresses: list[IPv4Interface]
    source: Source
    tunnel: bool = False
    multipoint: bool = False
    next_hop_tunnels: list["NextHopTunnel"] = field(default_factory=list)


@dataclass(frozen=True)
class NextHopTunnel:
    """A static NHTB entry: traffic routed via `next_hop` on the unit goes into `vpn`."""

    next_hop: IPv4Address
    vpn: str
    source: Source


@dataclass
class Zone:
    name: str
    interfaces: list[str]
    address_book: dict[str, IPv4Network]
    host_inbound: set[str]  # system-services: "all", "ike", "ping", ...
    source: Source
    address_sources: dict[str, Source] = field(default_factory=dict)


@dataclass
class SecurityPolicy:
    from_zone: str
    to_zone: str
    name: str
    sources: list[str]  # address-book names or "any"
    destinations: list[str]
    applications: list[str]
    action: Literal["permit", "deny", "reject"]
    source_nat: bool
    source: Source


@dataclass(frozen=True)
class StaticRoute:
    prefix: IPv4Network
    next_hop: IPv4Address | None
    interface: str | None  # `next-hop st0.0` or ScreenOS `interface tunnel.1`
    source: Source


@dataclass
class IkePolicy:
    name: str
    mode: Literal["main", "aggressive"]
    proposals: list[IkeProposal]
    psk: Secret | None
    source: Source
    psk_source: Source | None = None

    @property
    def lifetime(self) -> int:
        """The IKE SA's lifetime in seconds: its proposals' shortest (what the peers settle on)."""
        return min(p.lifetime for p in self.proposals)


@dataclass(frozen=True)
class Dpd:
    """Dead-peer detection: R-U-THERE after `interval` seconds without traffic from the peer (Junos
    `optimized`; `always-send` and `probe-idle-tunnel` send regardless); the peer is dead after
    `threshold` unanswered ones. Junos `dead-peer-detection`, ScreenOS `dpd-liveness`."""

    mode: str  # optimized | probe-idle-tunnel | always-send
    interval: int
    threshold: int
    source: Source


@dataclass
class IkeGateway:
    name: str
    ike_policy: str
    address: IPv4Address | None
    external_interface: str | None
    source: Source
    dpd: Dpd | None = None
    version: Literal["v1-only", "v2-only"] = "v1-only"  # Junos's default: IKEv1
    version_source: Source | None = None


@dataclass
class IpsecPolicy:
    name: str
    proposals: list[IpsecProposal]
    pfs_group: int | None
    source: Source


@dataclass(frozen=True)
class ProxyId:
    local: IPv4Network = IPv4Network("0.0.0.0/0")
    remote: IPv4Network = IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class VpnMonitor:
    """Junos `vpn-monitor` on a VPN: an ICMP echo every `interval` seconds from `source_interface`'s
    address (else the gateway's external interface) to `destination_ip` (else the peer gateway);
    after `threshold` unanswered in a row the VPN is down: its SAs are cleared and negotiated
    again. `optimized`: no probe while traffic comes in on the SA. Interval and threshold are the
    site's `security ipsec vpn-monitor-options` (Junos's defaults 10 and 10)."""

    optimized: bool
    source_interface: str | None
    destination_ip: IPv4Address | None
    interval: int
    threshold: int
    source: Source


@dataclass(frozen=True)
class TrafficSelector:
    """Junos `security ipsec vpn V traffic-selector T local-ip P remote-ip P`: read so that the
    pre-flight can say where Junos does not support it; the stand-in does not emulate it (its
    CHILD SA carries the proxy identity), which the statement ledger says."""

    name: str
    local: IPv4Network | None
    remote: IPv4Network | None
    source: Source


@dataclass
class Vpn:
    name: str
    gateway: str
    ipsec_policy: str
    bind_interface: str | None
    establish_tunnels: Literal["immediately", "on-traffic"]
    proxy_id: ProxyId
    source: Source
    bind_source: Source | None = None
    monitor: VpnMonitor | None = None
    traffic_selectors: list[TrafficSelector] = field(default_factory=list)


@dataclass
class Site:
    name: str  # the topology node's name
    os: OS
    file: str
    hostname: str | None
    units: dict[str, Unit]
    zones: dict[str, Zone]
    policies: list[SecurityPolicy]
    routes: list[StaticRoute]
    ike_policies: dict[str, IkePolicy]
    gateways: dict[str, IkeGateway]
    ipsec_policies: dict[str, IpsecPolicy]
    vpns: dict[str, Vpn]
    tcp_mss: int | None
    nat_rules: list[SourceNat] = field(default_factory=list)  # `security nat source rule-set` (Junos)
    destination_nat: list[DestinationNat] = field(default_factory=list)  # `security nat destination`
    static_nat: list[StaticNat] = field(default_factory=list)  # `security nat static`

    # Derived views (no state of their own).
    def source_nat(self) -> list[SourceNat]:
        """Every source NAT the site does, in the order it applies: policy NAT first (it is part of
        the permitting policy), then the NAT rule-sets."""
        out = []
        for p in self.policies:
            if p.source_nat and p.action == "permit":
                nets = () if "any" in p.sources else tuple(self.zones[p.from_zone].address_book[n] for n in p.sources
                                                           if n in self.zones[p.from_zone].address_book)
                out.append(SourceNat(f"policy {p.name}", p.from_zone, p.to_zone, nets, True, p.source))
        return out + self.nat_rules

    @property
    def tunnel_units(self) -> list[Unit]:
        return [u for u in self.units.values() if u.tunnel]

    def ikev2_dpd_gateways(self) -> list[IkeGateway]:
        """IKEv2 gateways with dead-peer detection, in config order. charon knows a dead IKEv2 peer
        only by its retransmission, which is one setting per node: the first of these sets it."""
        return [gw for gw in self.gateways.values() if gw.version == "v2-only" and gw.dpd]

    @property
    def is_hub(self) -> bool:
        return any(u.multipoint for u in self.tunnel_units)

    @property
    def role(self) -> str:
        return "hub" if self.is_hub else "spoke"

    def lan_units(self) -> list[Unit]:
        """Units with addresses that are neither tunnels nor an IKE gateway's external interface."""
        external = {gw.external_interface for gw in self.gateways.values()}
        return [u for u in self.units.values() if not u.tunnel and u.name not in external and u.addresses]

    def lan_networks(self) -> list[IPv4Network]:
        """The site's LAN prefixes: the networks of its LAN units' addresses."""
        return [a.network for u in self.lan_units() for a in u.addresses]

    def vpns_bound_to(self, unit: str) -> list[Vpn]:
        return [v for v in self.vpns.values() if v.bind_interface == unit]

    def addresses(self) -> list[tuple[str, IPv4Interface]]:
        return [(u.name, a) for u in self.units.values() for a in u.addresses]

    def public_address(self) -> IPv4Address | None:
        """The address of the first IKE gateway's external interface (where the site's IKE lives)."""
        for gw in self.gateways.values():
            unit = self.units.get(gw.external_interface or "")
            if unit and unit.addresses:
                return unit.addresses[0].ip
        return None

    def connected_unit_for(self, addr: IPv4Address) -> Unit | None:
        return next((u for u in self.units.values() for a in u.addresses if addr in a.network), None)

    def route_lookup(self, addr: IPv4Address) -> tuple[str | None, StaticRoute | None]:
        """Longest match over connected subnets and static routes: (egress unit, route or None)."""
        best: tuple[int, str | None, StaticRoute | None] = (-1, None, None)
        for u in self.units.values():
            for a in u.addresses:
                if addr in a.network and a.network.prefixlen > best[0]:
                    best = (a.network.prefixlen, u.name, None)
        for r in self.routes:
            if addr in r.prefix and r.prefix.prefixlen > best[0]:
                unit = r.interface
                if unit is None and r.next_hop is not None:
                    hop = self.connected_unit_for(r.next_hop)
                    unit = hop.name if hop else None
                best = (r.prefix.prefixlen, unit, r)
        return best[1], best[2]
