"""The note's troubleshooting method, bottom-up: link to the Internet next hop, a route to the IKE
peer, phase 1, phase 2, NHTB and routes, policy, traffic. It stops at the first layer that fails
and says what failed, where, the evidence (log lines, tables, traced packets) and the likely
cause and fix in the note's words. It asks nodes through the driver interface only.

A cause is named like the fault that produces it in lab/faults.yml, so each can be checked.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..drivers.base import NodeDriver, NotOffered
from ..model.ifnames import linux_ifname
from ..model.lab import Lab
from ..model.topology import VpnEnd, ends, lan_host_pairs, peer_end, vpn_pairs
from ..render.binding import binding_specs
from ..junos import kmd
from ..junos.nhtb import rows as nhtb_rows
from . import checks, parallel

LAYERS = ("link", "IKE peer", "phase 1", "phase 2", "nhtb", "policy", "traffic")
TITLES = {"nhtb": "NHTB and routes"}
RESPONDER_ADVICE = "As a rule, troubleshoot on the peer that has the role of responder."

# Worst-case ESP tunnel-mode overhead for the note's proposals: outer IPv4 20 + ESP header 8 +
# IV 16 + padding and trailer up to 17 + ICV 16. A TCP segment must fit the Internet MTU with it.
ESP_OVERHEAD = 20 + 8 + 16 + 17 + 16
INTERNET_MTU = 1500
SYN_PORT = 5001  # the traffic layer's first TCP port (parallel.pair_port)


@dataclass
class Step:
    layer: str
    ok: bool
    what: str
    checked: bool = True  # False: the driver cannot look at this layer (said in `what`)


@dataclass
class Diagnosis:
    layer: str | None  # the first layer that failed; None: healthy
    node: str | None = None
    cause: str | None = None
    summary: str = "healthy: every layer checked out"
    advice: str = ""
    role: str | None = None
    evidence: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.layer is None


@dataclass(frozen=True)
class Cause:
    """What a layer found wrong: where, named like its fault in lab/faults.yml, in the note's words."""

    layer: str
    node: str
    name: str
    summary: str
    advice: str
    evidence: list[str]
    role: str | None = None

    def diagnosis(self, steps: list[Step]) -> Diagnosis:
        return Diagnosis(self.layer, self.node, self.name, self.summary, self.advice, self.role, self.evidence,
                         steps + [Step(self.layer, False, self.summary)])


@dataclass(frozen=True)
class Tunnel:
    """One VPN as the lab would negotiate it: from `initiator` (a spoke end) to the site owning
    its gateway address, whose matching end (if any) is `responder`."""
    initiator: VpnEnd
    responder_site: str | None
    responder: VpnEnd | None

    @property
    def label(self) -> str:
        return f"{self.initiator.label} -> {self.responder.label if self.responder else self.responder_site}"


def tunnels(lab: Lab, node: str | None = None) -> list[Tunnel]:
    out = [Tunnel(a, b.site.name, b) for a, b in vpn_pairs(lab)]
    paired = {t.initiator.label for t in out} | {t.responder.label for t in out if t.responder}
    # Spokes first: they initiate in the lab, and the hub's view of a stray gateway comes after.
    for site in sorted(lab.sites.values(), key=lambda s: s.is_hub):
        for end in ends(site):
            if end.label not in paired:
                owner = lab.site_owning(end.gateway.address) if end.gateway.address else None
                out.append(Tunnel(end, owner.name if owner else None, None))
    if node:
        out = [t for t in out if node in (t.initiator.site.name, t.responder_site)]
    return out


def _tail(events: list[kmd.IkeEvent], remote: str | None, kinds: set[str]) -> kmd.IkeEvent | None:
    hits = [e for e in events if e.kind in kinds and (remote is None or e.remote == remote)]
    return hits[-1] if hits else None


def _kmd(event: kmd.IkeEvent) -> list[str]:
    return kmd.kmd_lines(event) + [f"  charon: {ln}" for ln in event.evidence[-3:]]


class Walk:
    def __init__(self, lab: Lab, drivers: dict[str, NodeDriver], node: str | None):
        self.lab, self.d, self.node = lab, drivers, node
        self.steps: list[Step] = []
        self.tunnels = tunnels(lab, node)
        self.sites = [s for s in lab.sites.values() if node in (None, s.name)
                      or any(s.name in (t.initiator.site.name, t.responder_site) for t in self.tunnels)]

    def ok(self, layer: str, what: str) -> None:
        self.steps.append(Step(layer, True, what))

    # ---- layers ------------------------------------------------------------------------
    def link(self) -> Cause | None:
        hops = []  # (site, next hop, source unit), each pinged once, all at a time
        for site in self.sites:
            for gw in {e.gateway.address for e in ends(site) if e.gateway.address}:
                _, route = site.route_lookup(gw)
                if route is None or route.next_hop is None:
                    continue
                unit = site.connected_unit_for(route.next_hop)
                hop = (site.name, str(route.next_hop), unit.name if unit else None)
                if hop not in hops:
                    hops.append(hop)
        answers = parallel.each(lambda h: self.d[h[0]].ping(h[1], count=2, source=h[2]), hops,
                                stop=lambda r: r.received == 0)
        for (site, hop, _), r in zip(hops, answers):
            if r.received == 0:
                return Cause("link", site, "link-down", f"the Internet next hop {hop} does not answer",
                      "Check the cable and the interface towards the Internet first.", [r.output.strip()])
            self.ok("link", f"{site}: next hop {hop} answers")

    def ike_peer(self) -> Cause | None:
        for t in self.tunnels:
            end = t.initiator
            got = self.d[end.site.name].route(str(end.gateway.address))
            if got is None or not got.active:
                return Cause("IKE peer", end.site.name, "no-route-to-peer", f"no active route to the IKE peer {end.gateway.address}",
                      "Confirm the route to the remote gateway address.", [f"show route {end.gateway.address}: {got}"])
            self.ok("IKE peer", f"{end.site.name}: route to {end.gateway.address} via {got.interface}")

    def _sa_names(self, site: str, kind: str) -> set[str]:
        if kind == "ike":
            return {s.name for s in self.d[site].ike_sas() if s.state == "UP"}
        return {s.name for s in self.d[site].ipsec_sas()}

    def _both_up(self, t: Tunnel, kind: str) -> bool:
        return (t.initiator.vpn.name in self._sa_names(t.initiator.site.name, kind)
                and t.responder is not None and t.responder.vpn.name in self._sa_names(t.responder.site.name, kind))

    def phase1(self) -> Cause | None:
        for t in self.tunnels:
            if self._both_up(t, "ike"):
                self.ok("phase 1", f"{t.label}: IKE SA up")
                continue
            init, rsite = t.initiator, t.responder_site
            res = self.d[init.site.name].initiate(init.vpn.name)
            if res.ok and self._both_up(t, "ike"):
                self.ok("phase 1", f"{t.label}: IKE SA up after initiating it")
                continue
            iaddr = str(init.local_address)
            if rsite is None:
                return Cause("phase 1", init.site.name, "peer-not-in-lab",
                      f"{init.label}: the gateway address {init.gateway.address} belongs to no site",
                      "Confirm the remote IP address of the IKE gateway.", list(res.log[-5:]), "initiator")
            events = kmd.parse(self.d[rsite].log(600))
            ev = _tail(events, iaddr, {"peer-unknown", "p1-failed", "p1-done"})
            where = f"{rsite} (responder to {init.site.name} {iaddr})"
            if ev is not None and ev.kind == "peer-unknown":
                rs = self.lab.sites[rsite]
                gw = next((g for g in rs.gateways.values() if str(g.address) == iaddr), None)
                if gw is not None:
                    unit = rs.units.get(gw.external_interface or "")
                    have = str(unit.addresses[0].ip) if unit and unit.addresses else "no address"
                    return Cause("phase 1", rsite, "wrong-external-interface",
                          f"{where}: IKE from {iaddr} arrives on {ev.local}, but gateway {gw.name}'s "
                          f"external-interface is {gw.external_interface} ({have}) ({gw.source})",
                          "Incorrect external interface is a common configuration error: it must be the interface "
                          "that would receive the IKE packets. " + RESPONDER_ADVICE, _kmd(ev), "responder")
                return Cause("phase 1", rsite, "peer-not-recognized",
                      f"{where}: Unable to find phase-1 policy as remote peer:{iaddr} is not recognized "
                      f"(no IKE gateway on {rsite} has address {iaddr})",
                      "Peer not recognized: an incorrect peer address, or a mismatched peer IKE ID type. Confirm the "
                      "local peer has the correct peer IP address and the peer uses IKE ID type IP address. "
                      + RESPONDER_ADVICE, _kmd(ev), "responder")
            if ev is not None and ev.kind == "p1-failed" and ev.error == kmd.NO_PROPOSAL:
                return Cause("phase 1", rsite, "phase1-proposal-mismatch",
                      f"{where}: Phase-1 [responder] failed with error(No proposal chosen)",
                      "Likely mismatched phase 1 proposals: confirm that phase 1 proposals match on both peers. "
                      + RESPONDER_ADVICE, _kmd(ev), "responder")
            if ev is not None and ev.kind == "p1-failed" and ev.error == kmd.INVALID_PAYLOAD:
                return Cause("phase 1", rsite, "psk-mismatch",
                      f"{where}: Phase-1 [responder] failed with error(Invalid payload type)",
                      "Invalid payload type usually means the IKE packet could not be decrypted because of a "
                      "pre-shared key mismatch: confirm that the pre-shared keys match on both peers. " + RESPONDER_ADVICE,
                      _kmd(ev), "responder")
            return Cause("phase 1", init.site.name, "phase1-failed",
                  f"{t.label}: no IKE SA ({res.error or 'no answer'}); the responder {rsite} logged nothing for {iaddr}",
                  "Confirm the remote IP address, IKE policy and external interfaces; check the kmd log on the responder.",
                  list(res.log[-8:]), "initiator")

    def _stays_up(self, t: Tunnel, seconds: float = 3.0) -> bool:
        """Up on both ends now and still a moment later (kmd's proxy-ID rule deletes at once)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._both_up(t, "ipsec"):
                return False
            time.sleep(0.5)
        return True

    def phase2(self) -> Cause | None:
        for t in self.tunnels:
            if t.responder is None:
                continue
            if self._both_up(t, "ipsec"):
                self.ok("phase 2", f"{t.label}: IPsec SA up")
                continue
            # The side with something to negotiate starts quick mode (an end without bind-interface has nothing).
            first, other = t.initiator, t.responder
            res = self.d[first.site.name].initiate(first.vpn.name)
            if not res.has_phase2:
                first, other = other, first
                res = self.d[first.site.name].initiate(first.vpn.name)
            if res.ok and self._stays_up(t):
                self.ok("phase 2", f"{t.label}: IPsec SA up after initiating it")
                continue
            addr = {first.site.name: str(first.local_address), other.site.name: str(other.local_address)}
            for responder, initiator in ((other, first), (first, other)):
                events = kmd.parse(self.d[responder.site.name].log(600))
                ev = _tail(events, addr[initiator.site.name], {"p2-failed", "proxy-id-mismatch"})
                if ev is None or ev.role != "responder":
                    continue
                where = f"{responder.site.name} (responder to {initiator.site.name} {addr[initiator.site.name]})"
                if ev.kind == "p2-failed":
                    return Cause("phase 2", responder.site.name, "phase2-proposal-mismatch",
                          f"{where}: phase 1 done, then QM; Error = No proposal chosen",
                          "Phase 2 failed with No proposal chosen: likely a phase 2 proposal mismatch; confirm that "
                          "phase 2 proposals (and PFS) match on both peers. " + RESPONDER_ADVICE, _kmd(ev), "responder")
                unbound = next((e for e in (responder, initiator) if e.vpn.bind_interface is None), None)
                if unbound is not None:
                    return Cause("phase 2", unbound.site.name, "missing-bind-interface",
                          f"{where}: Failed to match the peer proxy ids; {unbound.label} has no bind-interface "
                          f"({unbound.vpn.source})",
                          "If the st0 interface is not specified (bind-interface), phase 2 cannot complete "
                          "negotiations: bind the VPN to its st0 unit.", _kmd(ev), "responder")
                return Cause("phase 2", responder.site.name, "proxy-id-mismatch",
                      f"{where}: Failed to match the peer proxy ids: received local={ev.p2_local} "
                      f"remote={ev.p2_remote}; configured {responder.label} local={responder.vpn.proxy_id.local} "
                      f"remote={responder.vpn.proxy_id.remote}",
                      "Configure either peer's proxy ID so that it matches the other peer. For a route-based VPN the "
                      "proxy ID is local=0.0.0.0/0, remote=0.0.0.0/0, service=any by default. " + RESPONDER_ADVICE,
                      _kmd(ev), "responder")
            return Cause("phase 2", first.site.name, "phase2-failed", f"{t.label}: no IPsec SA ({res.error or 'no answer'})",
                  "Confirm the phase 2 proposals and proxy IDs, and the st0 binding; check the kmd log on the responder.",
                  list(res.log[-8:]), "initiator")

    def nhtb(self) -> Cause | None:
        for site in self.sites:
            specs = binding_specs(self.lab, site)
            if not specs:
                continue
            static = {s["next_hop"] for spec in specs for s in spec["static"]}
            for r in checks.spoke_routes(self.lab, self.d[site.name], timeout=5):
                if r.ok:
                    self.ok("nhtb", f"{site.name}: {r.step} active")
                    continue
                table = self.d[site.name].next_hop_tunnels()
                route = next(x for x in site.routes if f"route {x.prefix}" == r.step)
                hop = str(route.next_hop)
                owner = next((e for e in ends(site) if _peer_tunnel_address(self.lab, e) == hop), None)
                peer_os = peer_end(self.lab, owner).site.os if owner else "?"
                evidence = [str(r), "show security ipsec next-hop-tunnels: " +
                            ("; ".join(" ".join(row) for row in nhtb_rows(table)) or "empty")]
                if hop not in static and peer_os != "junos":
                    return Cause("nhtb", site.name, "missing-static-nhtb",
                          f"{site.name}: route {route.prefix} via {hop} is not active: no next-hop tunnel binding "
                          f"for {hop}" + (f" ({owner.vpn.name} to a {peer_os} peer, which sends no NHTB information)" if owner else ""),
                          "Without an NHTB entry the route for that remote peer will not be in an active state; a "
                          "non-Junos peer needs a static one: set interfaces st0 unit 0 family inet next-hop-tunnel "
                          f"{hop} ipsec-vpn {owner.vpn.name if owner else '<vpn>'}.", evidence)
                return Cause("nhtb", site.name, "nhtb-entry-missing",
                      f"{site.name}: route {route.prefix} via {hop} is not active: no next-hop tunnel binding for {hop}",
                      "The next hop must be the peer's st0 address; a Junos peer announces it when phase 2 completes.",
                      evidence)

    def _host_pairs(self) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """((site, host), (site, host)) for every pair of LAN hosts of the sites walked."""
        walked = {s.name for s in self.sites}
        return [((a.site, a.host), (b.site, b.host)) for a, b in lan_host_pairs(self.lab)
                if a.site in walked and b.site in walked]

    def policy(self) -> Cause | None:
        pairs = self._host_pairs()  # pinged several at a time; the first that failed, in order, is traced
        answers = parallel.each(lambda p: self.d[p[0][1]].ping(self.lab.host_address(p[1][1]), count=2), pairs,
                                stop=lambda r: not r.received)
        for ((sa, ha), (sb, hb)), r in zip(pairs, answers):
            dst = self.lab.host_address(hb)
            if r.received:
                self.ok("policy", f"{ha} ({sa}) -> {hb} ({sb}): ping answered")
                continue
            src = self.lab.host_address(ha)
            flt = [{"source-prefix": f"{src}/32", "destination-prefix": f"{dst}/32", "protocol": "icmp"}]
            for site in dict.fromkeys([*(s.name for s in self.sites if s.is_hub), sa, sb]):
                packets = self.d[site].flow_trace(flt, duration=3, ping_from=ha, ping_to=dst)
                dropped = [p for p in packets if p.verdict in ("drop", "reject")]
                if not dropped:
                    continue
                p = dropped[0]
                zones = self._zones(site, p)
                evidence = [f"flow trace on {site}: {x.summary()}" for x in packets[:6]]
                if zones and zones[0] == zones[1] and "default" in (p.rule or ""):
                    return Cause("policy", site, "missing-intra-zone-policy",
                          f"{site}: traffic {src} -> {dst} from zone {zones[0]} to zone {zones[1]} is dropped by the "
                          "default deny: there is no intra-zone policy",
                          f"Spoke-to-spoke traffic through the hub enters and leaves st0 (zone {zones[0]}): without a "
                          f"policy from-zone {zones[0]} to-zone {zones[1]}, all traffic from one spoke to another is dropped.",
                          evidence)
                return Cause("policy", site, "policy-deny", f"{site}: traffic {src} -> {dst} is dropped by {p.rule}",
                      "Check the security policies for that zone pair (security flow traceoptions show which).", evidence)
            return Cause("policy", sa, "traffic-lost", f"{ha} -> {hb}: no reply, and no policy dropped it",
                  "Check routes and the NHTB table on the hub, and the SA statistics for errors.", [r.output.strip()])

    def _zones(self, site: str, p) -> tuple[str, str] | None:
        s = self.lab.sites.get(site)
        if s is None:
            return None
        zone_of = {linux_ifname(s.os, i): z.name for z in s.zones.values() for i in z.interfaces}
        a, b = zone_of.get(p.iif or ""), zone_of.get(p.oif or "")
        return (a, b) if a and b else None

    def traffic(self) -> Cause | None:
        limit = INTERNET_MTU - 40 - ESP_OVERHEAD
        pairs = self._host_pairs()
        # Several probes at a time, each to its own port: a capture counts only its own pair's SYNs
        # even where two pairs share a destination host. The first pair that failed, in order, is explained.
        def probe(indexed):
            i, ((_, ha), (_, hb)) = indexed
            return self.d[ha].syn_mss(hb, self.lab.host_address(hb), parallel.pair_port(SYN_PORT, i))

        # A failure starts no further probe (a SYN that never arrives waits out its capture).
        found = parallel.each(probe, list(enumerate(pairs)), stop=lambda mss: mss is None or mss > limit)
        for ((sa, ha), (sb, hb)), mss in zip(pairs, found):
            dst = self.lab.host_address(hb)
            if mss is not None and mss <= limit:
                self.ok("traffic", f"{ha} -> {hb}: TCP SYN arrives with MSS {mss} (fits {INTERNET_MTU} with ESP)")
                continue
            unclamped = [s for s in (self.lab.sites[sa], self.lab.sites[sb]) if s.tcp_mss is None]
            # A full segment as an IP packet (a host without a clamp fills its LAN's MTU), sent as a
            # ping of that size: 20 bytes IP + 8 ICMP instead of 20 + 20 TCP.
            packet = (mss if mss is not None else INTERNET_MTU - 40) + 40
            df = self.d[ha].ping(dst, count=1, size=packet - 28, df=True)
            evidence = [f"TCP SYN {ha} -> {hb} arrived with MSS {mss}; with ESP a full segment needs "
                        f"{packet + ESP_OVERHEAD} bytes on a {INTERNET_MTU}-byte Internet link",
                        f"ping {dst} size {packet - 28} do-not-fragment from {ha}: " + _df_verdict(df.output)]
            where = unclamped[0].name if unclamped else sa
            return Cause("traffic", where, "missing-tcp-mss",
                  f"{ha} -> {hb}: TCP segments through the tunnel need fragmentation (MSS {mss} > {limit}); "
                  f"no tcp-mss on {', '.join(s.name for s in unclamped) or 'the path'}",
                  "set security flow tcp-mss ipsec-vpn mss 1350 eliminates the possibility of fragmented TCP traffic "
                  "through the tunnel.", evidence)

    def run(self) -> Diagnosis:
        """The layers bottom-up; the first that finds a cause ends the walk."""
        for name, layer in zip(LAYERS, (self.link, self.ike_peer, self.phase1, self.phase2, self.nhtb, self.policy,
                                        self.traffic)):
            try:
                cause = layer()
            except NotOffered as e:  # a vSRX cannot be asked this way: say so, walk on
                self.steps.append(Step(name, True, f"not checked: {e}", checked=False))
                continue
            if cause is not None:
                return cause.diagnosis(self.steps)
        unchecked = [st.layer for st in self.steps if not st.checked]
        if unchecked:  # a verdict never hides what it did not cover
            return Diagnosis(None, summary=f"no fault found, but not checked: {', '.join(unchecked)}", steps=self.steps)
        return Diagnosis(None, steps=self.steps)


def _df_verdict(output: str) -> str:
    """The line of a DF ping that says why it failed (frag needed / message too long), else its summary."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return next((ln for ln in lines if "frag" in ln.lower() or "too long" in ln.lower()), lines[-1] if lines else "no output")


def _peer_tunnel_address(lab: Lab, end: VpnEnd) -> str | None:
    """The address of the st0 unit the peer binds this VPN to: the next hop routes use for it."""
    peer = peer_end(lab, end)
    unit = peer.site.units.get(peer.vpn.bind_interface or "") if peer else None
    return str(unit.addresses[0].ip) if unit and unit.addresses else None


def diagnose(lab: Lab, drivers: dict[str, NodeDriver], node: str | None = None) -> Diagnosis:
    if node is not None and node not in lab.sites:
        raise ValueError(f"no site '{node}' (sites: {', '.join(lab.sites)})")
    return Walk(lab, drivers, node).run()

