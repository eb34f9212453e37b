"""The Linux stand-in driver: answers from charon (vici), the kernel's XFRM state and statistics,
the binder's NHTB table, the node's routes, and ping in the node's namespace."""
from __future__ import annotations

import functools
import re
from ipaddress import IPv4Address, IPv4Network

from ..junos.ping import summary as ping_summary
from ..model.lab import Lab
from ..model.ifnames import linux_ifname
from ..render.binding import route_active
from ..render.netplan import node_plan
from ..render.nftables import TABLE
from ..render.strongswan import DH_GROUPS
from . import nft_trace
from .base import (InitiateResult, IkeSA, IpsecSA, IpsecStats, NatRule, NhtbEntry, NodeDriver, PingResult, Route,
                   RouteAnswer)
from .nat_counters import nat_rules
from .nft_trace import TracedPacket

# strongSwan's algorithm names -> Junos's.
ENCRYPTION = {("AES_CBC", "128"): "aes-128-cbc", ("AES_CBC", "192"): "aes-192-cbc", ("AES_CBC", "256"): "aes-256-cbc",
              ("3DES_CBC", ""): "3des-cbc", ("DES_CBC", ""): "des-cbc"}
INTEGRITY = {"HMAC_SHA1_96": "sha1", "HMAC_MD5_96": "md5", "HMAC_SHA2_256_128": "sha-256"}
ESP_INTEGRITY = {"HMAC_SHA1_96": "hmac-sha1-96", "HMAC_MD5_96": "hmac-md5-96", "HMAC_SHA2_256_128": "hmac-sha-256-128"}
PRF = {"PRF_HMAC_SHA1": "hmac-sha1", "PRF_HMAC_MD5": "hmac-md5", "PRF_HMAC_SHA2_256": "hmac-sha256"}
DH = {f"MODP_{bits}": f"group{g}" for g, bits in ((1, 768), (2, 1024), (5, 1536), (14, 2048))}
assert set(DH.values()) <= {f"group{g}" for g in DH_GROUPS}

# The kernel's per-namespace XFRM statistics behind the note's error counters.
NETNS_ERRORS = {"esp_decryption_failures": "XfrmInStateProtoError", "bad_headers": "XfrmInHdrError",
                "bad_trailers": "XfrmInStateInvalid"}


def _enc(alg: dict) -> str:
    name, size = alg.get("encr-alg", ""), alg.get("encr-keysize", "")
    return ENCRYPTION.get((name, size if name.startswith("AES") else ""), f"{name.lower()}-{size}".strip("-"))


def _best(rows: list[Route], address: str) -> Route | None:
    """The longest match for `address`."""
    addr = IPv4Address(address)
    return max((r for r in rows if addr in IPv4Network(r.prefix)), key=lambda r: IPv4Network(r.prefix).prefixlen,
               default=None)


def identity(ts: str) -> str:
    """A traffic selector as Junos prints a proxy ID: ipv4_subnet(any:0,[0..7]=0.0.0.0/0)."""
    return f"ipv4_subnet(any:0,[0..7]={ts})"


class LinuxDriver(NodeDriver):
    def __init__(self, runtime, lab_name: str, node: str, model: Lab):
        self.rt, self.lab, self.node, self.model = runtime, lab_name, node, model
        self.site = model.sites.get(node)

    def _sas(self) -> list[tuple[str, dict]]:
        if self.site is None:
            return []
        return [(name, ike) for sa in self.rt.sas(self.lab, self.node) for name, ike in sa.items()]

    def _mode(self, conn: str, ike: dict | None = None) -> str:
        """The IKE SA's mode as Junos prints it: IKEv2 (as charon negotiated it), else the IKE
        policy's main or aggressive (charon does not say which an IKEv1 SA used)."""
        if ike is not None and ike.get("version") == "2":
            return "IKEv2"
        vpn = self.site.vpns.get(conn) if self.site else None
        pol = self.site.ike_policies.get(self.site.gateways[vpn.gateway].ike_policy) if vpn else None
        return "Aggressive" if pol and pol.mode == "aggressive" else "Main"

    def ike_sas(self) -> list[IkeSA]:
        out = []
        for name, ike in self._sas():
            children = ike.get("child-sas") or {}
            remaining = self._ike_remaining(name, ike)
            out.append(IkeSA(
                index=int(ike["uniqueid"]), name=name, remote=ike["remote-host"],
                state="UP" if ike["state"] == "ESTABLISHED" else "DOWN",
                initiator_cookie=ike.get("initiator-spi", ""), responder_cookie=ike.get("responder-spi", ""),
                mode=self._mode(name, ike), role="Initiator" if ike.get("initiator") == "yes" else "Responder",
                local=ike["local-host"], local_port=int(ike["local-port"]), remote_port=int(ike["remote-port"]),
                lifetime_remaining=int(remaining) if remaining else None,
                authentication=INTEGRITY.get(ike.get("integ-alg", ""), ike.get("integ-alg", "")),
                encryption=_enc(ike), prf=PRF.get(ike.get("prf-alg", ""), ike.get("prf-alg", "")),
                dh_group=DH.get(ike.get("dh-group", ""), ike.get("dh-group", "")),
                # charon does not count IKE message bytes; the CHILD SAs' traffic is what it has
                input_bytes=sum(int(c.get("bytes-in", 0)) for c in children.values()),
                output_bytes=sum(int(c.get("bytes-out", 0)) for c in children.values()),
                input_packets=sum(int(c.get("packets-in", 0)) for c in children.values()),
                output_packets=sum(int(c.get("packets-out", 0)) for c in children.values()),
                ipsec_created=len(children), ipsec_deleted=0, gateway=self._vpn_attr(name, "gateway")))
        return sorted(out, key=lambda s: s.index)

    def _ike_remaining(self, conn: str, ike: dict) -> int | None:
        """Seconds until the IKE SA is rekeyed (IKEv1: reauthenticated), at most what is left of
        its configured lifetime: the end that leaves an IKEv1 reauthentication to its peer has its
        own scheduled past the lifetime (render.strongswan.ike_rekey), where Junos shows what is left."""
        scheduled = ike.get("reauth-time") or ike.get("rekey-time")
        vpn = self.site.vpns.get(conn) if self.site else None
        if vpn is None or not scheduled or "established" not in ike:
            return int(scheduled) if scheduled else None
        lifetime = self.site.ike_policies[self.site.gateways[vpn.gateway].ike_policy].lifetime
        return min(int(scheduled), max(0, lifetime - int(ike["established"])))

    def _monitored(self) -> bool:
        """Whether any of the node's VPNs has `vpn-monitor` (else no call for the Mon column)."""
        return bool(self.site) and any(v.monitor for v in self.site.vpns.values())

    def _vpn_attr(self, vpn: str, attr: str) -> str:
        """A VPN's configured IKE gateway name or bind-interface (what a current SRX prints)."""
        v = self.site.vpns.get(vpn) if self.site else None
        return (getattr(v, attr) or "") if v else ""

    def ipsec_sas(self) -> list[IpsecSA]:
        states = self.rt.xfrm_states(self.lab, self.node)
        monitored = self.rt.vpn_monitor(self.lab).get(self.node, {}) if self._monitored() else {}
        out = []
        for name, ike in self._sas():
            for child in (ike.get("child-sas") or {}).values():
                reqid = int(child["reqid"])
                # The window belongs to the inbound SA (the outbound one keeps 0).
                window = max((s["replay_window"] for s in states if s["reqid"] == reqid and s["dst"] == ike["local-host"]),
                             default=0)
                out.append(IpsecSA(
                    index=reqid, name=child["name"], local_gateway=ike["local-host"], gateway=ike["remote-host"],
                    port=int(ike["remote-port"]),
                    protocol=child.get("protocol", "ESP"), encryption=_enc(child),
                    authentication=ESP_INTEGRITY.get(child.get("integ-alg", ""), child.get("integ-alg", "")),
                    spi_in=child.get("spi-in", ""), spi_out=child.get("spi-out", ""),
                    life_seconds=int(child["life-time"]) if child.get("life-time") else None, life_kb="unlim",
                    monitoring=monitored.get(child["name"], "-"), vsys=0,
                    local_identity=identity((child.get("local-ts") or ["0.0.0.0/0"])[0]),
                    remote_identity=identity((child.get("remote-ts") or ["0.0.0.0/0"])[0]),
                    mode=child.get("mode", "TUNNEL").lower(), pfs_group=DH.get(child.get("dh-group", ""), "none"),
                    state="installed" if child.get("state") == "INSTALLED" else child.get("state", "").lower(),
                    replay_window=window,
                    soft_lifetime=int(child["rekey-time"]) if child.get("rekey-time") else None,
                    bind_interface=self._vpn_attr(child["name"], "bind_interface"),
                    ike_version="IKEv2" if ike.get("version") == "2" else "IKEv1"))
        return sorted(out, key=lambda s: s.index)

    def ipsec_stats(self, index: int) -> IpsecStats:
        return self.ipsec_stats_of([index])[index]

    def ipsec_stats_of(self, indexes: list[int]) -> dict[int, IpsecStats]:
        # One read of the node's states and counters for every SA: a hub's N SAs cost two calls, not 2N.
        if not indexes:
            return {}
        states = self.rt.xfrm_states(self.lab, self.node)
        netns = self.rt.xfrm_netns_stats(self.lab, self.node)
        return {i: self._stats(i, [s for s in states if s["reqid"] == i], netns) for i in indexes}

    def _stats(self, index: int, states: list[dict], netns: dict) -> IpsecStats:
        local = {str(a.ip) for _, a in self.site.addresses()} if self.site else set()
        out = [s for s in states if s["src"] in local]
        inb = [s for s in states if s["src"] not in local]
        return IpsecStats(
            index=index,
            encrypted_bytes=sum(s["bytes"] for s in out), decrypted_bytes=sum(s["bytes"] for s in inb),
            encrypted_packets=sum(s["packets"] for s in out), decrypted_packets=sum(s["packets"] for s in inb),
            replay_errors=sum(s["replay_errors"] for s in states),
            esp_authentication_failures=sum(s["integrity_failed"] for s in states),
            **{k: netns.get(v, 0) for k, v in NETNS_ERRORS.items()})

    def next_hop_tunnels(self) -> list[NhtbEntry]:
        return [NhtbEntry(e["next_hop"], e["interface"], e["vpn"], e["flag"]) for e in self.rt.nhtb(self.lab, self.node)]

    def nat_rules(self, kind: str) -> list[NatRule]:
        """The site's NAT rules as its config says them, with the translations its kernel counted
        (the packet counters of their nftables rules: a NAT rule sees a connection's first packet only)."""
        if self.site is None:
            return []
        res = self.rt.exec(self.lab, self.node, ["nft", "-j", "list", "table", "inet", TABLE])
        if res["returncode"] != 0:
            raise RuntimeError(f"{self.node}: nft list table failed: {res['stderr'].strip()}")
        return nat_rules(self.site, kind, res["stdout"])

    def route_answer(self, address: str) -> RouteAnswer:
        """Junos's view of the node's kernel routes: device interface names, and a route via a next
        hop on a multipoint unit active only with an NHTB entry for that next hop (a unit's own
        subnet, Direct, is active as on the SRX). The best route is the longest match."""
        rows = self._route_rows()
        active = sum(r.active for r in rows)
        return RouteAnswer(_best(rows, address), len(rows), active, len(rows) - active)

    reads_table_at_once = True

    def routes(self, addresses: list[str]) -> dict[str, Route | None]:
        rows = self._route_rows()  # one read of the table (and the bindings) for every address
        return {a: _best(rows, a) for a in addresses}

    @functools.cached_property
    def _plan(self):
        return node_plan(self.model, self.node)  # the model does not change under a driver

    def _route_rows(self) -> list[Route]:
        plan = self._plan
        device = {ln.ifname: ln.unit or ln.ifname for ln in plan.links} | {t.ifname: t.unit for t in plan.tunnels}
        multipoint = {t.ifname for t in plan.tunnels if t.multipoint}
        bound = self.next_hop_tunnels()
        rows = []
        for r in self.rt.routes(self.lab, self.node):
            gw = r["gateway"]
            # Only a route *via a next hop* on a multipoint unit needs a binding; the unit's own
            # subnet (Direct) is active as on the SRX.
            active = route_active(bound, gw) if (r["ifname"] in multipoint and gw) else True
            rows.append(Route(r["prefix"], gw, device.get(r["ifname"], r["ifname"]),
                              "Direct" if r["kernel"] else "Static", active))
        return rows

    def _source_address(self, source: str) -> str:
        """A device interface (ge-0/0/0 or ge-0/0/0.0) -> its address; an address stays as it is."""
        if re.fullmatch(r"[\d.]+", source) or self.site is None:
            return source
        unit = self.site.units.get(source) or self.site.units.get(f"{source}.0")
        if unit is None or not unit.addresses:
            linux_ifname(self.site.os, source)  # raises with the naming rules when unknown
            raise ValueError(f"{self.node}: interface {source} has no address")
        return str(unit.addresses[0].ip)

    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2"]
        if source:
            argv += ["-I", self._source_address(source)]
        if size is not None:
            argv += ["-s", str(size)]
        if df:
            argv += ["-M", "do"]
        res = self.rt.exec(self.lab, self.node, argv + [address], timeout=count * 3 + 10)
        tx, rx = ping_summary(res["stdout"]) or (count, 0)
        return PingResult(tx, rx, res["stdout"] + res["stderr"])

    def log(self, lines: int | None = 50) -> str:
        return self.rt.charon_log(self.lab, self.node, lines) if self.site else ""

    def initiate(self, vpn: str) -> InitiateResult:
        r = self.rt.initiate(self.lab, self.node, vpn)
        return InitiateResult(r["ok"], r["error"], tuple(r["log"]), r["child"])

    def flow_trace(self, filters: list[dict[str, str]], duration: float = 4.0,
                   ping_from: str | None = None, ping_to: str | None = None) -> list[TracedPacket]:
        return nft_trace.parse(self.rt.trace(self.lab, self.node, filters, duration, ping_from, ping_to)["lines"])

    def tcp_open(self, to_node: str, address: str, port: int = 5002) -> bool:
        return self.rt.tcp_handshake(self.lab, self.node, to_node, address, port)["connected"]

    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        return self.rt.syn_mss(self.lab, self.node, to_node, address, port)["mss"]
