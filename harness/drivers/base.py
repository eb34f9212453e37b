"""What the verification asks of a node, whatever the node is (a Linux stand-in, a vSRX over SSH).

The answers are junos.records (the fields of the note's show commands); each driver fills them
from its own sources. Checks and the show commands only ever see these.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..junos.records import IkeSA, IpsecSA, IpsecStats, NatRule, NhtbEntry, Route, RouteAnswer

if TYPE_CHECKING:
    from .nft_trace import TracedPacket

__all__ = ["IkeSA", "IpsecSA", "IpsecStats", "NatRule", "NhtbEntry", "Route", "RouteAnswer", "PingResult", "InitiateResult",
           "NodeDriver", "NotOffered"]


class NotOffered(RuntimeError):
    """What a driver cannot do on its kind of node, and why (the message says both): callers report
    the step as not checked, never as a failure or a crash."""


@dataclass(frozen=True)
class PingResult:
    transmitted: int
    received: int
    output: str = field(repr=False, default="")


@dataclass(frozen=True)
class InitiateResult:
    ok: bool
    error: str | None
    log: tuple[str, ...] = ()  # the initiator's log lines of this attempt
    has_phase2: bool = True  # False: the VPN has nothing to negotiate in phase 2 (no CHILD config)


class NodeDriver(ABC):
    """One node of a running lab, asked the note's questions."""

    node: str

    @abstractmethod
    def ike_sas(self) -> list[IkeSA]: ...

    @abstractmethod
    def ipsec_sas(self) -> list[IpsecSA]: ...

    @abstractmethod
    def ipsec_stats(self, index: int) -> IpsecStats: ...

    def ipsec_stats_of(self, indexes: list[int]) -> dict[int, IpsecStats]:
        """The statistics of several SAs: asked one index at a time, as a device is asked
        (`show security ipsec statistics index N`); a driver that can read them at once does."""
        return {i: self.ipsec_stats(i) for i in indexes}

    @abstractmethod
    def next_hop_tunnels(self) -> list[NhtbEntry]: ...

    @abstractmethod
    def route_answer(self, address: str) -> RouteAnswer:
        """`show route <address>`: the best route and the table's counts."""

    def route(self, address: str) -> Route | None:
        return self.route_answer(address).route

    # True for a driver whose `routes` reads the whole table in one question (verification then
    # shares that read among a node's route checks); False: it asks per address, as `route` does.
    reads_table_at_once = False

    def routes(self, addresses: list[str]) -> dict[str, Route | None]:
        """The best route to each address; a driver that can read its whole table at once does
        (verification asks for every route of a node: one question, not one per route)."""
        return {a: self.route(a) for a in addresses}

    @abstractmethod
    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        """`ping <address> [interface <source>] count N [size S] [do-not-fragment]`; source is a
        device interface name (ge-0/0/0) or an address."""

    @abstractmethod
    def log(self, lines: int | None = 50) -> str:
        """The node's IKE log (kmd on Junos, charon on a stand-in): its last `lines`, or all of it
        with None (as `show log kmd` shows the whole file)."""

    @abstractmethod
    def initiate(self, vpn: str) -> InitiateResult:
        """Start a VPN from this node now (as traffic to it would) and report how it went."""

    @abstractmethod
    def flow_trace(self, filters: list[dict[str, str]], duration: float = 4.0,
                   ping_from: str | None = None, ping_to: str | None = None) -> list["TracedPacket"]:
        """Flow traceoptions with these packet filters for `duration` seconds, while the lab node
        `ping_from` pings `ping_to` (optional): the packets and the rule that decided each."""

    def nat_rules(self, kind: str) -> list[NatRule]:
        """`show security nat KIND rule all` (source, destination, static): the rules and their
        translation hits."""
        raise NotOffered(f"{self.node}: {type(self).__name__} does not show NAT rules")

    def tcp_open(self, to_node: str, address: str, port: int = 5002) -> bool:
        """From this host, whether a TCP connection to address:port (answered on host `to_node`)
        opens: the policies can let ICMP through and not TCP, or the other way round."""
        raise NotOffered(f"{self.node}: not a LAN host: {type(self).__name__} opens no TCP connections")

    @abstractmethod
    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        """From this host, open a TCP connection to address:port and return the MSS option the
        SYN carries when it reaches the host `to_node` (None: no SYN arrived)."""
