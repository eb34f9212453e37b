"""NAT as an SRX configures it (`security nat source | destination | static`), typed: the pools,
and the rules in the order they apply. Junos's precedence: static NAT before destination NAT on
the way in; a static rule's reverse before source NAT on the way out; within a rule-set, the
first rule that matches."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from ..errors import Source


@dataclass(frozen=True)
class NatPool:
    """`security nat source|destination pool NAME address A[/32] [to B/32] [port N]`: the
    addresses (first..last) a rule translates to, and for a destination pool the port."""

    name: str
    first: IPv4Address
    last: IPv4Address
    port: int | None
    source: Source

    def text(self) -> str:
        return f"{self.first}" + (f"-{self.last}" if self.last != self.first else "")


@dataclass(frozen=True)
class SourceNat:
    """Traffic from one zone to another, from these prefixes to those (empty: any), leaves with
    the egress interface's address (Junos `source-nat interface`, ScreenOS `nat src`), an address
    of a pool (`source-nat pool P`), or untranslated (`source-nat off`). First match wins."""

    name: str  # "policy P" (policy NAT) or "rule-set RS rule R"
    from_zone: str
    to_zone: str
    sources: tuple[IPv4Network, ...]
    translate: bool  # False: `source-nat off`
    source: Source
    destinations: tuple[IPv4Network, ...] = ()
    pool: NatPool | None = None  # None with translate: the egress interface's address

    @property
    def action(self) -> str:
        """In Junos's words, as `show security nat source rule` prints it."""
        return "off" if not self.translate else (self.pool.name if self.pool else "interface")


@dataclass(frozen=True)
class DestinationNat:
    """`security nat destination rule-set RS from zone Z rule R match ... then destination-nat
    pool P | off`: traffic arriving from zone Z to `destination` (optionally from `sources`, to
    one port) goes to the pool's address instead (and its port, if the pool has one)."""

    name: str
    from_zone: str
    sources: tuple[IPv4Network, ...]
    destination: IPv4Network
    port: int | None
    pool: NatPool | None  # None: `destination-nat off`
    source: Source


@dataclass(frozen=True)
class StaticNat:
    """`security nat static rule-set RS from zone Z rule R match destination-address A then
    static-nat prefix B`: one address for another, both ways. Arriving from zone Z to A goes to
    B; B's own traffic leaving through zone Z leaves as A."""

    name: str
    from_zone: str
    destination: IPv4Network  # A, a host (/32)
    prefix: IPv4Network  # B, a host (/32)
    source: Source
