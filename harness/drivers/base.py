"""What the verification asks of a node, whatever the node is (a Linux stand-in, a vSRX over SSH).

The data types carry the fields of the note's show commands; each driver fills them from its
own sources. Checks and the show commands only ever see these.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .nft_trace import TracedPacket


@dataclass(frozen=True)
class IkeSA:
    """A row of `show security ike security-associations [detail]`."""

    index: int
    name: str  # the VPN (connection) it belongs to
    remote: str
    state: str  # UP / DOWN
    initiator_cookie: str
    responder_cookie: str
    mode: str  # Main / Aggressive
    role: str  # Initiator / Responder
    local: str
    local_port: int
    remote_port: int
    lifetime_remaining: int | None
    authentication: str
    encryption: str
    prf: str
    dh_group: str
    input_bytes: int
    output_bytes: int
    input_packets: int
    output_packets: int
    ipsec_created: int
    ipsec_deleted: int


@dataclass(frozen=True)
class IpsecSA:
    """An SA pair of `show security ipsec security-associations [detail]` (< inbound, > outbound)."""

    index: int
    name: str
    local_gateway: str
    gateway: str
    port: int
    protocol: str  # ESP
    encryption: str
    authentication: str
    spi_in: str
    spi_out: str
    life_seconds: int | None
    life_kb: str  # "unlim" when no byte limit
    monitoring: str  # "-" without VPN monitoring
    vsys: int
    local_identity: str
    remote_identity: str
    mode: str  # tunnel
    pfs_group: str
    state: str  # installed
    replay_window: int
    soft_lifetime: int | None


@dataclass(frozen=True)
class IpsecStats:
    """`show security ipsec statistics index N`."""

    index: int
    encrypted_bytes: int
    decrypted_bytes: int
    encrypted_packets: int
    decrypted_packets: int
    ah_input_bytes: int = 0
    ah_output_bytes: int = 0
    ah_input_packets: int = 0
    ah_output_packets: int = 0
    ah_authentication_failures: int = 0
    replay_errors: int = 0
    esp_authentication_failures: int = 0
    esp_decryption_failures: int = 0
    bad_headers: int = 0
    bad_trailers: int = 0

    def errors(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("ah_authentication_failures", "replay_errors", "esp_authentication_failures",
                                              "esp_decryption_failures", "bad_headers", "bad_trailers")}


@dataclass(frozen=True)
class NhtbEntry:
    next_hop: str
    interface: str
    vpn: str
    flag: str  # Static / Auto


@dataclass(frozen=True)
class Route:
    prefix: str
    next_hop: str | None
    interface: str
    protocol: str
    active: bool


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

    @abstractmethod
    def next_hop_tunnels(self) -> list[NhtbEntry]: ...

    @abstractmethod
    def route(self, address: str) -> Route | None: ...

    @abstractmethod
    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        """`ping <address> [interface <source>] count N [size S] [do-not-fragment]`; source is a
        device interface name (ge-0/0/0) or an address."""

    @abstractmethod
    def log(self, lines: int = 50) -> str:
        """The node's IKE log (kmd on Junos, charon on a stand-in)."""

    @abstractmethod
    def initiate(self, vpn: str) -> InitiateResult:
        """Start a VPN from this node now (as traffic to it would) and report how it went."""

    @abstractmethod
    def flow_trace(self, filters: list[dict[str, str]], duration: float = 4.0,
                   ping_from: str | None = None, ping_to: str | None = None) -> list["TracedPacket"]:
        """Flow traceoptions with these packet filters for `duration` seconds, while the lab node
        `ping_from` pings `ping_to` (optional): the packets and the rule that decided each."""

    @abstractmethod
    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        """From this host, open a TCP connection to address:port and return the MSS option the
        SYN carries when it reaches the host `to_node` (None: no SYN arrived)."""
