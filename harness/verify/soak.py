"""`nhtb-lab soak`: the running lab left to rekey, under traffic, for a while.

The SA lifetimes are shortened in the running charons only (the configs are not touched); every
pair of LAN hosts pings all along and a TCP connection runs from the hub's LAN to each spoke's;
the SAs and the hub's NHTB table are read every couple of seconds through the drivers (what
`show security ike/ipsec security-associations` and `show security ipsec next-hop-tunnels` say).
A rekey is a new IKE SA (a new cookie pair) or a new IPsec SA (a new inbound SPI) for the VPN.
Rekeys must be make-before-break: nothing lost. The lifetimes are the configs' again afterwards.
"""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

from ..drivers.base import NodeDriver
from ..errors import LabError, VMDied
from ..model.lab import Lab
from ..model.topology import lan_host_pairs, vpn_pairs
from ..progress import Progress
from ..render.strongswan import lifetime_text
from .traffic import hold_during, ping_during

SAMPLE_EVERY = 2.0  # seconds between two readings of the SAs (a soak's SA lives far longer)


def parse_duration(text: str) -> float:
    """`90s`, `10m`, `1h` or plain seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise LabError(f"soak: duration '{text}' is not a time such as 90s, 10m or 1h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


@dataclass
class VpnRekeys:
    vpn: str  # "westford/corp-vpn <-> corporate/westford-vpn", counted at its first end
    ipsec: int = 0
    ike: int = 0
    down_seconds: float = 0.0  # time it was read with no installed IPsec SA at that end


@dataclass
class SoakReport:
    lab: str
    seconds: float
    ike_lifetime: int | None
    ipsec_lifetime: int | None
    rekeys: list[VpnRekeys]
    pings: dict[str, tuple[int, int]]  # "a -> b": (lost, sent); (-1, 0) when not measured
    tcp: dict[str, dict]  # "a -> b": connected, broken, exchanges, max_gap, stalls
    nhtb_changes: list[str]  # "12.0s: +10.11.11.12 westford-vpn Auto"
    memory: dict[str, dict[str, tuple[int | None, int | None]]]  # node -> daemon -> (kB at start, at end)
    # The kernel's XFRM error counters that grew during the soak, per site: where a packet was dropped
    xfrm_errors: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: int = 0
    not_soaked: list[str] = field(default_factory=list)  # device ends: their lifetimes are their own
    failed_readings: int = 0
    # When, in seconds after the soak's traffic started: each pair's unanswered pings (a probe's
    # number x the interval, from its ping's own start, an exec round trip after), and each soaked
    # VPN end's new IPsec SAs as first read (a reading every SAMPLE_EVERY s). Seconds apart at
    # most: a loss a second or two before a new SA was read is that rekey's.
    lost_at: dict[str, list[float]] = field(default_factory=dict)
    rekeyed_at: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ipsec_rekeys(self) -> int:
        return sum(r.ipsec for r in self.rekeys)

    @property
    def ike_rekeys(self) -> int:
        return sum(r.ike for r in self.rekeys)

    @property
    def pings_lost(self) -> tuple[int, int]:
        return (sum(max(lost, 0) for lost, _ in self.pings.values()), sum(sent for _, sent in self.pings.values()))

    @property
    def unmeasured(self) -> list[str]:
        return [k for k, (lost, _) in self.pings.items() if lost < 0] + [
            k for k, t in self.tcp.items() if not t.get("connected")]

    @property
    def tcp_broken(self) -> list[str]:
        return [k for k, t in self.tcp.items() if t.get("broken")]

    @property
    def not_rekeyed(self) -> list[str]:
        """VPNs that did not rekey at all: the soak tested nothing of their rekeying."""
        return [r.vpn for r in self.rekeys if r.ipsec == 0 and r.vpn.split(" <-> ")[0].split("/")[0] not in self.not_soaked]

    @property
    def ok(self) -> bool:
        """Nothing lost (every ping answered, every TCP connection made and held, all measured) over
        at least one rekey of every soaked VPN."""
        return self.pings_lost[0] == 0 and not self.tcp_broken and not self.unmeasured and not self.not_rekeyed

    def summary(self) -> str:
        lost, sent = self.pings_lost
        line = f"soak: {self.ipsec_rekeys} IPsec rekeys, {self.ike_rekeys} IKE rekeys, {lost} of {sent} pings lost"
        if self.tcp_broken:
            line += f", {len(self.tcp_broken)} of {len(self.tcp)} TCP connections broken"
        return line

    def to_dict(self) -> dict:
        return asdict(self) | {"summary": self.summary(), "ok": self.ok, "tcp_broken": self.tcp_broken,
                               "unmeasured": self.unmeasured, "not_rekeyed": self.not_rekeyed}


@dataclass
class _Seen:
    """What one end of a VPN was seen holding during the soak."""

    ike: set[tuple[str, str]] = field(default_factory=set)
    spis: set[str] = field(default_factory=set)
    at_start: tuple[int, int] | None = None  # (IKE SAs, IPsec SAs) first read
    down: float = 0.0
    new_spi_at: list[float] = field(default_factory=list)  # seconds into the soak a new SA was read


def _read_end(d: NodeDriver, vpn: str) -> tuple[set[tuple[str, str]], set[str]]:
    ike = {(s.initiator_cookie, s.responder_cookie) for s in d.ike_sas() if s.name == vpn and s.state == "UP"}
    spis = {s.spi_in for s in d.ipsec_sas() if s.name == vpn}
    return ike, spis


def _memory(runtime, name: str) -> dict[str, dict[str, int | None]]:
    """charon's and the binder's resident memory (VmRSS, kB) on every stand-in site."""
    out: dict[str, dict[str, int | None]] = {}
    state = next((s for s in runtime.labs() if s["name"] == name), None)
    for node, info in (state or {}).get("nodes", {}).items():
        for daemon in ("charon", "binder"):
            pid = info.get(f"{daemon}_pid")
            if not pid:
                continue
            res = runtime.exec(name, node, ["cat", f"/proc/{pid}/status"])
            m = re.search(r"^VmRSS:\s+(\d+) kB", res["stdout"], re.M)
            out.setdefault(node, {})[daemon] = int(m.group(1)) if m else None
    return out


def soak(lab: Lab, runtime, drivers: dict[str, NodeDriver], seconds: float, ike_lifetime: int | None,
         ipsec_lifetime: int | None, progress: Progress) -> SoakReport:
    """Soak the running lab `lab` for `seconds` (see the module's text); the lifetimes are restored
    afterwards, whatever happens."""
    name = lab.name
    pairs = vpn_pairs(lab)
    hub = lab.hub().name
    stand_ins = {s["name"]: s for s in runtime.labs()}.get(name, {}).get("nodes", {})
    not_soaked = sorted({e.site.name for pair in pairs for e in pair if e.site.name not in stand_ins
                         or not stand_ins[e.site.name].get("charon_pid")})
    progress("soak", f"lifetimes for the soak: IKE {lifetime_text(ike_lifetime)}, IPsec "
                     f"{lifetime_text(ipsec_lifetime)} (the running charons only)")
    failed = True
    try:
        runtime.set_lifetimes(name, ike_lifetime, ipsec_lifetime, progress=progress)
        memory_start = _memory(runtime, name)
        soaked = [n for n in lab.sites if n in stand_ins and n not in not_soaked]
        xfrm_start = {n: runtime.xfrm_netns_stats(name, n) for n in soaked}
        seen = {a.label: _Seen() for a, _ in pairs}
        nhtb_changes: list[str] = []
        hub_host = lab.lan_host(hub)
        tcp_pairs = [(a, b) for a, b in lan_host_pairs(lab) if a.host == hub_host]
        progress("soak", f"{seconds:g}s of pings between {len(lan_host_pairs(lab))} pairs of LAN hosts and "
                         f"{len(tcp_pairs)} TCP connection(s) from {hub_host}; SAs read every {SAMPLE_EVERY:g}s")
        lost_at: dict[str, list[float]] = {}
        threads, pings = ping_during(drivers, lan_host_pairs(lab), seconds, lost_at)
        holder, tcp = hold_during(runtime, name, tcp_pairs, seconds)
        threads.append(holder)
        t0 = last = time.monotonic()
        table = None
        samples = failed_readings = 0
        while time.monotonic() - t0 < seconds:
            now = time.monotonic()
            try:
                for a, _ in pairs:
                    if a.site.name in not_soaked:
                        continue
                    ike, spis = _read_end(drivers[a.site.name], a.vpn.name)
                    s = seen[a.label]
                    if s.at_start is None:
                        s.at_start = (len(ike), len(spis))
                    elif spis - s.spis:
                        s.new_spi_at.append(round(time.monotonic() - t0, 1))  # this end's own reading
                    s.ike |= ike
                    s.spis |= spis
                    if not spis:
                        s.down += now - last
                entries = {(e.next_hop, e.vpn, e.flag) for e in drivers[hub].next_hop_tunnels()}
                if table is not None and entries != table:
                    at = f"{now - t0:.1f}s"
                    nhtb_changes += [f"{at}: -{' '.join(e)}" for e in sorted(table - entries)]
                    nhtb_changes += [f"{at}: +{' '.join(e)}" for e in sorted(entries - table)]
                table = entries
                samples += 1
            except VMDied:
                raise  # the lab went with its VM: nothing more to read
            except (OSError, LabError) as e:  # one reading lost (a busy agent) is not the soak lost
                failed_readings += 1
                progress("soak", f"{now - t0:.0f}s: a reading failed ({e})")
            last = now
            elapsed = int(now - t0)
            if samples % 15 == 0:
                progress("soak", f"{elapsed}s: {sum(len(s.spis) - (s.at_start or (0, 0))[1] for s in seen.values())} "
                                 "IPsec rekeys so far")
            time.sleep(max(0.0, SAMPLE_EVERY - (time.monotonic() - now)))
        for t in threads:
            t.join(seconds + 120)
        elapsed = round(time.monotonic() - t0, 1)
        memory_end = _memory(runtime, name)
        xfrm_errors = {}
        for n, before in xfrm_start.items():
            grew = {k: v - before.get(k, 0) for k, v in runtime.xfrm_netns_stats(name, n).items() if v > before.get(k, 0)}
            if grew:
                xfrm_errors[n] = grew
        failed = False
    finally:
        progress("soak", "lifetimes as the configs give them again (the VPNs renegotiate once)")
        try:
            runtime.set_lifetimes(name, None, None, progress=progress)
        except Exception as e:  # noqa: BLE001 - never hide the soak's own error behind this one
            if not failed:
                raise
            progress("soak", f"restoring the lifetimes failed too ({e}): `nhtb-lab down` and `up` restore them")
    rekeys = []
    for a, b in pairs:
        s = seen[a.label]
        start_ike, start_ipsec = s.at_start or (len(s.ike), len(s.spis))
        rekeys.append(VpnRekeys(f"{a.label} <-> {b.label}", max(0, len(s.spis) - start_ipsec),
                                max(0, len(s.ike) - start_ike), round(s.down, 1)))
    memory = {node: {d: (memory_start.get(node, {}).get(d), kb) for d, kb in daemons.items()}
              for node, daemons in memory_end.items()}
    return SoakReport(name, elapsed, ike_lifetime, ipsec_lifetime, rekeys, pings, tcp,
                      nhtb_changes, memory, xfrm_errors, samples, not_soaked, failed_readings,
                      {pair: at for pair, at in lost_at.items() if at},
                      {a.label: seen[a.label].new_spi_at for a, _ in pairs if a.site.name not in not_soaked})
