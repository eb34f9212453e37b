"""A data class per answer of the note's show commands: what a driver returns, what the stand-ins
render, what the parsers read back. Field names are the harness's; each family module maps them
to Junos's words."""
from __future__ import annotations

from dataclasses import dataclass


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
    gateway: str = ""  # the IKE gateway's name (current releases print `Gateway Name:`; 2009 did not)


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
    # Printed by current releases only (the 2009 layouts have none of them):
    lsys: str = "root"  # `lsys` column / `Virtual-system:` / sa-virtual-system
    bind_interface: str = ""  # `Bind-interface: st0.0`
    ike_version: str = ""  # `Version: IKEv1`


ERROR_COUNTERS = ("ah_authentication_failures", "replay_errors", "esp_authentication_failures",
                  "esp_decryption_failures", "bad_headers", "bad_trailers",
                  # current releases add these (25.2R1: `Invalid SPI`, `TS check fail`, ...)
                  "invalid_spi", "ts_check_fail", "exceeds_tunnel_mtu", "discarded")


@dataclass(frozen=True)
class IpsecStats:
    """`show security ipsec statistics [index N]` (index 0: the global form)."""

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
    invalid_spi: int = 0
    ts_check_fail: int = 0
    exceeds_tunnel_mtu: int = 0
    discarded: int = 0

    def errors(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ERROR_COUNTERS}


@dataclass(frozen=True)
class NhtbEntry:
    """A row of `show security ipsec next-hop-tunnels`."""

    next_hop: str
    interface: str
    vpn: str
    flag: str  # Static / Auto
    # Optional columns a header may add (no public sample prints them yet):
    ike_id: str = ""
    xauth_user: str = ""


@dataclass(frozen=True)
class Route:
    """The best route `show route <address>` prints."""

    prefix: str
    next_hop: str | None
    interface: str
    protocol: str  # Direct / Static
    active: bool


@dataclass(frozen=True)
class RouteAnswer:
    """All of `show route <address>`: the best route and the table's counts."""

    route: Route | None
    destinations: int
    active: int
    hidden: int


@dataclass(frozen=True)
class NatRule:
    """A rule of `show security nat source | destination | static rule all`: what the config
    says, and the translations the device counted."""

    kind: str  # source / destination / static
    name: str
    rule_set: str
    from_zone: str
    to_zone: str  # source rules only ("" otherwise)
    sources: tuple[tuple[str, str], ...]  # (first, last) address ranges; empty: any
    destinations: tuple[tuple[str, str], ...]
    destination_port: int | None
    action: str  # interface / off / a pool's name; static: the host address
    hits: int
