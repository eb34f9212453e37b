"""strongSwan configuration for a stand-in site (pure functions).

`connections()` builds the structure vici's load-conn takes; `swanctl_conf()` prints the same
structure as swanctl.conf, so the file an engineer reads and what the runtime loads agree.
"""
from __future__ import annotations

import zlib

from ..errors import ConfigError
from ..model.site import Dpd, IkeProposal, IpsecProposal, Site, Vpn
# The keyword maps live with what the stand-in can emulate; validation refuses (file:line) the rest.
from ..model.emulation import AEAD, DH_GROUPS, ENCRYPTION, INTEGRITY, esp_problem, group_problem, ike_problem

def _checked(problem: str | None) -> None:
    if problem is not None:  # the model build refuses these first; this guards a hand-made Site
        raise ConfigError(problem)


# Plugins charon needs for IKEv1 PSK with the proposals above; loading only these keeps start-up
# at seconds under software emulation instead of ~40 s for the default ~70 plugins.
CHARON_PLUGINS = "random nonce openssl hmac sha1 sha2 aes kdf kernel-netlink socket-default vici"


def if_id(unit: str) -> int:
    """XFRM interface id of a tunnel unit: st0.0 -> 1, tunnel.1 -> 2 (0 would mean 'none')."""
    return int(unit.rsplit(".", 1)[1]) + 1


def reqid(vpn: str) -> int:
    """A fixed reqid per VPN, derived from its name so that adding a VPN never renumbers others."""
    return zlib.crc32(vpn.encode()) % 0xFFFF + 1


def ike_proposal(p: IkeProposal) -> str:
    _checked(ike_problem(p))
    return f"{ENCRYPTION[p.encryption]}-{INTEGRITY[p.authentication]}-{DH_GROUPS[p.dh_group]}"


def esp_proposal(p: IpsecProposal, pfs: int | None) -> str:
    _checked(esp_problem(p) or group_problem(pfs))
    cipher = AEAD.get(p.encryption) or f"{ENCRYPTION[p.encryption]}-{INTEGRITY[p.authentication]}"
    return cipher + (f"-{DH_GROUPS[pfs]}" if pfs else "")


def _dpd(dpd: Dpd | None) -> dict:
    """charon's DPD: R-U-THERE after dpd_delay without traffic from the peer (Junos `optimized`),
    the IKE SA deleted when none is answered within dpd_timeout (IKEv1): interval x threshold."""
    if dpd is None:
        return {}
    return {"dpd_delay": f"{dpd.interval}s", "dpd_timeout": f"{dpd.interval * dpd.threshold}s"}


# charon's retransmission of a request it sent (every exchange of that charon): the first after
# 2 s, each next one 1.8 times later, 3 of them (about 24 s in all), where its default is about 165 s.
RETRANSMIT = (2.0, 3, 1.8)  # timeout, tries, base


def retransmission(site: Site | None) -> tuple[float, int, float]:
    """(timeout, tries, base) for the node's charon: with an IKEv2 gateway's DPD, its probe is
    sent again every interval, threshold times in all, so the peer is dead interval x threshold
    after the first probe, as Junos counts `threshold` unanswered requests `interval` apart."""
    gateways = site.ikev2_dpd_gateways() if site is not None else []
    dpd = gateways[0].dpd if gateways else None
    return RETRANSMIT if dpd is None else (float(dpd.interval), dpd.threshold - 1, 1.0)


def _child(site: Site, vpn: Vpn) -> dict:
    pol = site.ipsec_policies[vpn.ipsec_policy]
    life = min(p.lifetime for p in pol.proposals)
    child = {
        "mode": "tunnel",
        "local_ts": [str(vpn.proxy_id.local)],
        "remote_ts": [str(vpn.proxy_id.remote)],
        "esp_proposals": [esp_proposal(p, pol.pfs_group) for p in pol.proposals],
        "life_time": f"{life}s",
        "rekey_time": f"{life * 9 // 10}s",
        "reqid": str(reqid(vpn.name)),
        # Junos `establish-tunnels immediately` starts the SA; the default waits for traffic.
        "start_action": "start" if vpn.establish_tunnels == "immediately" else "trap",
        # A dead peer's SAs are cleared (as kmd does); `immediately` negotiates again at once,
        # on-traffic waits for the next packet (the trap stays).
        "dpd_action": "restart" if vpn.establish_tunnels == "immediately" else "clear",
        # ... and `immediately` negotiates again when the peer deletes the SA (on-traffic: the
        # trap stays for the next packet).
        "close_action": "start" if vpn.establish_tunnels == "immediately" else "none",
    }
    if vpn.bind_interface:
        unit = site.units[vpn.bind_interface]
        child["if_id_in"] = child["if_id_out"] = str(if_id(unit.name))
        # On a multipoint unit the binding layer installs the policies (one per NHTB entry).
        child["policies"] = "no" if unit.multipoint else "yes"
    return child


def connections(site: Site) -> dict:
    """vici load-conn structures, one connection per VPN, keyed by VPN name."""
    out: dict[str, dict] = {}
    seen: dict[int, str] = {}
    for vpn in site.vpns.values():
        r = reqid(vpn.name)
        if r in seen:
            raise ConfigError(f"vpns {seen[r]} and {vpn.name} hash to the same reqid {r}: rename one", vpn.source)
        seen[r] = vpn.name
        gw = site.gateways[vpn.gateway]
        ike = site.ike_policies[gw.ike_policy]
        local = str(site.units[gw.external_interface].addresses[0].ip)  # type: ignore[index]
        remote = str(gw.address)
        out[vpn.name] = {
            "version": "2" if gw.version == "v2-only" else "1",
            # IKEv2 has no main or aggressive mode: Junos ignores the IKE policy's mode for it.
            "aggressive": "yes" if ike.mode == "aggressive" and gw.version != "v2-only" else "no",
            # Junos does not do MOBIKE: without this, charon moves an IKEv2 SA to port 4500.
            "mobike": "no",
            "local_addrs": [local],
            "remote_addrs": [remote],
            "proposals": [ike_proposal(p) for p in ike.proposals],
            **ike_rekey(ike.lifetime, reauthenticates_late(site, vpn)),
            **_dpd(gw.dpd),
            "local": {"auth": "psk", "id": local},
            "remote": {"auth": "psk", "id": remote},
            # Without bind-interface (and no policy naming the VPN) Junos has no traffic to
            # protect, so phase 2 cannot complete: no CHILD_SA config, as the peer will find.
            "children": {vpn.name: _child(site, vpn)} if vpn.bind_interface else {},
        }
    return out


# strongSwan reauthenticates an IKEv1 SA (a new phase 1, the CHILD SAs moved to it, the old one
# deleted) where Junos rekeys phase 1 and leaves phase 2 alone. Two stand-in ends with the same
# lifetime reauthenticated within seconds of each other, each deleting the IKE SA the other had just
# moved the CHILD SAs to: a soak with IKE lifetimes of 30 s lost 1 to 5 s of traffic per collision.
# So the hub's end of an IKEv1 VPN (bound to a multipoint unit: each end knows from its own config,
# whatever NAT does to addresses) schedules its reauthentication after the lifetime, and the spoke's
# end, in the lifetime's last tenth, goes first; each reauthentication by the spoke replaces the
# hub's SA and with it the hub's schedule. Two ends on point-to-point units (spoke to spoke) still
# both go in the last tenth, as before.
LATE = (11, 12)  # the hub end's window, in tenths of the lifetime


def reauthenticates_late(site: Site, vpn: Vpn) -> bool:
    unit = site.units.get(vpn.bind_interface) if vpn.bind_interface else None
    return site.gateways[vpn.gateway].version != "v2-only" and bool(unit and unit.multipoint)


def ike_rekey(lifetime: int, late: bool) -> dict:
    """The connection's rekey_time (IKEv1: reauthentication) and its jitter for an IKE SA of
    `lifetime` seconds: in its last tenth (strongSwan's own default jitter, said), or `late`."""
    if late:
        last, first = (lifetime * t // 10 for t in reversed(LATE))
        return {"rekey_time": f"{last}s", "rand_time": f"{last - first}s"}
    return {"rekey_time": f"{lifetime}s", "rand_time": f"{lifetime // 10}s"}


def lifetime_text(seconds: int | None) -> str:
    """A lifetime `with_lifetimes` is given, as said to the user (None: the configs' own)."""
    return f"{seconds}s" if seconds else "as configured"


def with_lifetimes(site: Site, ike: int | None = None, ipsec: int | None = None) -> dict:
    """`connections(site)` with the IKE and IPsec lifetimes replaced (a soak's short lifetimes, for
    the running charons only); None keeps the configs' own. Rekeying is scheduled as
    `connections()` schedules it."""
    out = {}
    for name, conn in connections(site).items():
        conn = {**conn, "children": {c: dict(child) for c, child in conn["children"].items()}}
        if ike is not None:
            conn |= ike_rekey(ike, reauthenticates_late(site, site.vpns[name]))
        if ipsec is not None:
            for child in conn["children"].values():
                child["life_time"], child["rekey_time"] = f"{ipsec}s", f"{ipsec * 9 // 10}s"
        out[name] = conn
    return out


SECRET_PREFIX = "ike-"  # a shared secret's id: the prefix and the VPN's name


def secrets(site: Site, reveal: bool = True) -> dict:
    """vici load-shared structures: one IKE PSK per VPN, for the peer's address."""
    out = {}
    for vpn in site.vpns.values():
        gw = site.gateways[vpn.gateway]
        psk = site.ike_policies[gw.ike_policy].psk
        out[f"{SECRET_PREFIX}{vpn.name}"] = {
            "type": "IKE",
            "data": psk.reveal() if (psk and reveal) else "<hidden: --show-secrets prints it>",
            "owners": [str(gw.address)],
        }
    return out


def _conf_block(d: dict, indent: int) -> list[str]:
    pad = "    " * indent
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines += [f"{pad}{k} {{", *_conf_block(v, indent + 1), f"{pad}}}"]
        else:
            value = ", ".join(v) if isinstance(v, list) else v
            lines.append(f"{pad}{k} = {value}")
    return lines


def swanctl_conf(site: Site, reveal: bool = False) -> str:
    secret_blocks = {
        name: {"id": s["owners"][0], "secret": f'"{s["data"]}"'} for name, s in secrets(site, reveal).items()
    }
    body = {"connections": connections(site), "secrets": secret_blocks}
    return f"# swanctl.conf for {site.name}, rendered from {site.file} by nhtb-lab\n" + "\n".join(_conf_block(body, 0)) + "\n"


# Where charon finds its socket and log: its own /run (each node's run directory is bind-mounted there).
VICI_SOCKET, LOG_FILE = "/run/charon.vici", "/run/charon.log"


def strongswan_conf(retransmit: tuple[float, int, float] = RETRANSMIT, vici_socket: str = VICI_SOCKET,
                    log_file: str = LOG_FILE) -> str:
    """charon's settings for one node: its own vici socket and log, no routes of its own, and its
    retransmission (`retransmission(site)`)."""
    timeout, tries, base = retransmit
    return f"""# strongswan.conf for one nhtb-lab node (rendered)
charon {{
    load = {CHARON_PLUGINS}
    install_routes = no
    install_virtual_ip = no
    retransmit_timeout = {timeout:g}
    retransmit_tries = {tries}
    retransmit_base = {base:g}
    plugins {{
        vici {{
            socket = unix://{vici_socket}
        }}
    }}
    filelog {{
        lab {{
            path = {log_file}
            time_format = %b %e %T
            ike_name = yes
            default = 1
            ike = 2
            cfg = 2
            knl = 1
            flush_line = yes
        }}
    }}
}}
"""
