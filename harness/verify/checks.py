"""The note's verification steps as checks on drivers. Each check returns a CheckResult (what
was expected, what was seen, on which node), retrying until a deadline where the network may
still be converging, like FRR topotests' run_and_expect. Expectations come from the lab's
configs, never from literals."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from ..drivers.base import NodeDriver
from ..errors import VMDied
from ..junos.nhtb import rows as nhtb_rows
from ..model.lab import Lab
from ..model.topology import ends, peer_end
from . import parallel

T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    step: str
    node: str
    ok: bool
    expected: str
    seen: str

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return f"{self.step} on {self.node}: {verdict}: expected {self.expected}; saw {self.seen}"


def run_and_expect(step: str, node: str, probe: Callable[[], T], good: Callable[[T], bool], expected: str,
                   describe: Callable[[T], str] = str, timeout: float = 30.0, interval: float = 0.5) -> CheckResult:
    """Probe until `good` holds or the deadline passes; the last observation is the evidence."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            seen = probe()
            ok, text = good(seen), describe(seen)
        except VMDied:
            raise  # the lab itself is gone: no observation of a node, and no use waiting
        except Exception as e:  # a node that does not answer is an observation too
            ok, text = False, f"no answer ({e})"
        if ok or time.monotonic() >= deadline:
            return CheckResult(step, node, ok, expected, text)
        time.sleep(interval)


def _proposal_algs(lab: Lab, node: str) -> tuple[set[str], set[str]]:
    site = lab.sites[node]
    ike = {p.encryption for pol in site.ike_policies.values() for p in pol.proposals}
    esp = {p.encryption for pol in site.ipsec_policies.values() for p in pol.proposals}
    return ike, esp


def phase1(lab: Lab, driver: NodeDriver, timeout: float = 30) -> CheckResult:
    """Confirm IKE (Phase 1) Status: an UP main-mode SA to every gateway, with configured algorithms."""
    site = lab.sites[driver.node]
    want = sorted(str(e.gateway.address) for e in ends(site))
    ike_algs, _ = _proposal_algs(lab, driver.node)
    modes = {e.vpn.name: "IKEv2" if e.gateway.version == "v2-only" else site.ike_policies[e.gateway.ike_policy].mode.capitalize()
             for e in ends(site)}

    def good(sas):
        up = {s.remote for s in sas if s.state == "UP" and s.mode == modes.get(s.name) and s.encryption in ike_algs}
        return set(want) <= up

    return run_and_expect("phase 1 (IKE SAs)", driver.node, driver.ike_sas, good,
                          f"UP, {'/'.join(sorted(set(modes.values())))} mode, to {', '.join(want)} ({' or '.join(sorted(ike_algs))})",
                          lambda sas: "; ".join(f"{s.remote} {s.state} {s.mode} {s.encryption}" for s in sas) or "no IKE SA",
                          timeout)


FIRST_CHILD = " (or none: an IKEv2 SA's first CHILD SA has no key exchange of its own)"


def phase2(lab: Lab, driver: NodeDriver, timeout: float = 30) -> CheckResult:
    """Confirm IPsec (Phase 2) Status: an installed ESP pair per VPN, port 500, proxy IDs, PFS group."""
    site = lab.sites[driver.node]
    _, esp_algs = _proposal_algs(lab, driver.node)
    want, first_child = {}, set()
    for e in ends(site):
        pol = site.ipsec_policies[e.vpn.ipsec_policy]
        want[e.vpn.name] = (str(e.gateway.address), f"group{pol.pfs_group}" if pol.pfs_group else "none",
                            str(e.vpn.proxy_id.local), str(e.vpn.proxy_id.remote))
        if e.gateway.version == "v2-only" and pol.pfs_group:
            first_child.add(e.vpn.name)  # made in IKE_AUTH, without a key exchange (RFC 7296): no PFS group

    def pfs_ok(name: str, seen: str, pfs: str) -> bool:
        return seen == pfs or (name in first_child and seen == "none")

    def good(sas):
        seen = {s.name: s for s in sas if s.state == "installed"}
        return all(n in seen and seen[n].gateway == gw and seen[n].port == 500 and seen[n].protocol == "ESP"
                   and seen[n].encryption in esp_algs and pfs_ok(n, seen[n].pfs_group, pfs)
                   and seen[n].local_identity.endswith(f"={lo})") and seen[n].remote_identity.endswith(f"={re})")
                   for n, (gw, pfs, lo, re) in want.items())

    return run_and_expect("phase 2 (IPsec SAs)", driver.node, driver.ipsec_sas, good,
                          "; ".join(f"{n}: ESP to {gw}:500, {pfs}{FIRST_CHILD if n in first_child else ''}, "
                                    f"proxy {lo} <-> {re}" for n, (gw, pfs, lo, re) in want.items()),
                          lambda sas: "; ".join(f"{s.name}: {s.protocol} {s.encryption} to {s.gateway}:{s.port} {s.pfs_group} "
                                                f"{s.local_identity} {s.remote_identity} {s.state}" for s in sas) or "no IPsec SA",
                          timeout)


def expected_bindings(lab: Lab, node: str) -> set[tuple[str, str, str, str]]:
    """The NHTB table the note's rules give, read from the configs (an oracle written apart from
    the binder's spec): each `next-hop-tunnel` of a multipoint unit is Static; a VPN bound to it
    with a Junos peer and no static entry is Auto, its next hop the peer's st0 address (which the
    peer announces when phase 2 completes). A ScreenOS peer announces nothing."""
    site, want = lab.sites[node], set()
    for unit in (u for u in site.units.values() if u.multipoint):
        static = {nh.vpn for nh in unit.next_hop_tunnels}
        want |= {(str(nh.next_hop), unit.name, nh.vpn, "Static") for nh in unit.next_hop_tunnels}
        for end in (e for e in ends(site) if e.vpn.bind_interface == unit.name and e.vpn.name not in static):
            peer = peer_end(lab, end)
            tunnel = peer.site.units.get(peer.vpn.bind_interface or "") if peer and peer.site.os == "junos" else None
            if tunnel is not None and tunnel.addresses:
                want.add((str(tunnel.addresses[0].ip), unit.name, end.vpn.name, "Auto"))
    return want


def next_hop_tunnels(lab: Lab, driver: NodeDriver, timeout: float = 30) -> CheckResult:
    """Confirm Next-Hop Tunnel Bindings: Static from config, Auto for Junos peers; none on a spoke."""
    want = expected_bindings(lab, driver.node)
    return run_and_expect("next-hop tunnel bindings", driver.node, driver.next_hop_tunnels,
                          lambda rows: set(nhtb_rows(rows)) == want,
                          ", ".join(" ".join(w) for w in sorted(want)) or "no table (a spoke)",
                          lambda rows: ", ".join(" ".join(r) for r in nhtb_rows(rows)) or "no table",
                          timeout)


class _Fresh:
    """One read shared by several checks: `fetch()` again only when the last read is older than
    `max_age` (shorter than a check's retry interval, so a retry always sees a new read)."""

    def __init__(self, fetch: Callable[[], T], max_age: float = 0.25):
        self.fetch, self.max_age, self.at, self.value = fetch, max_age, -1e9, None
        self.lock = threading.Lock()  # checks running side by side wait for the one read in flight

    def __call__(self) -> T:
        with self.lock:
            if time.monotonic() - self.at > self.max_age:
                self.value, self.at = self.fetch(), time.monotonic()
            return self.value


def _address_routed_by(site, route):
    """An address the config sends by `route` (its best match), to ask the node's table about: a
    summary route's first address may be the spoke's own, more specific LAN (172.16.0.0/12 over
    172.16.0.0/24), so try the first address past each more specific prefix inside it too."""
    net = route.prefix
    inner = [a.network for _, a in site.addresses()] + [r.prefix for r in site.routes]
    candidates = [net.network_address + 1, net.network_address] + [
        n.broadcast_address + 1 for n in inner if n != net and n.subnet_of(net) and n.broadcast_address < net.broadcast_address]
    fallback = net.network_address + 1 if net.num_addresses > 1 else net.network_address
    return next((a for a in candidates if a in net and site.route_lookup(a)[1] is route), fallback)


def spoke_routes(lab: Lab, driver: NodeDriver, timeout: float = 15) -> list[CheckResult]:
    """Confirm Static Routes for Remote Peer Local LANs: via the peer's st0 address, on st0, active.
    One read of the node's table answers every route (a route that is not right yet reads again)."""
    site = lab.sites[driver.node]
    wanted = []
    for r in site.routes:
        unit = site.connected_unit_for(r.next_hop) if r.next_hop else (site.units.get(r.interface or ""))
        if unit is not None and unit.tunnel:
            wanted.append((r, unit, str(_address_routed_by(site, r))))
    # A driver that reads its whole table at once (the stand-in's) answers every route from one
    # read; one that asks per address (`show route A` on a device) is asked per route, as before.
    if driver.reads_table_at_once:
        table = _Fresh(lambda: driver.routes([addr for _, _, addr in wanted]))
        probe = lambda a: table()[a]  # noqa: E731
    else:
        probe = driver.route

    def check(w) -> CheckResult:
        r, unit, addr = w
        return run_and_expect(f"route {r.prefix}", driver.node, lambda: probe(addr),
                              lambda got: got is not None and got.prefix == str(r.prefix)
                              and got.interface == unit.name and got.active
                              and (r.next_hop is None or got.next_hop == str(r.next_hop)),
                              f"{r.prefix} via {r.next_hop or '-'} on {unit.name}, active",
                              lambda got: f"{got.prefix} via {got.next_hop or '-'} on {got.interface}, "
                              f"{'active' if got.active else 'inactive'}" if got else "no route", timeout)

    # Routes that are not right yet wait side by side (each up to its timeout), in this order.
    return parallel.each(check, wanted)


def sa_errors(lab: Lab, driver: NodeDriver) -> list[CheckResult]:
    """Check Statistics and Errors for an IPsec SA, after traffic: each VPN's SA exists (its index
    is the one the device lists for that VPN), its counters moved both ways, every error counter 0."""
    out = []
    vpn_ends = ends(lab.sites[driver.node])
    try:
        listed = {s.name: s for s in driver.ipsec_sas()}
        all_stats = driver.ipsec_stats_of([listed[e.vpn.name].index for e in vpn_ends if e.vpn.name in listed])
    except VMDied:
        raise
    except Exception as e:  # a node that does not answer (SAs or counters) fails every VPN's check, saying why
        listed, all_stats, why = {}, {}, f"no answer ({e})"
    else:
        why = "no IPsec SA for this VPN"
    for e in vpn_ends:
        step = f"IPsec statistics ({e.vpn.name})"
        expected = "traffic counted both ways, every error counter 0"
        sa = listed.get(e.vpn.name)
        if sa is None:
            out.append(CheckResult(step, driver.node, False, expected, why))
            continue
        stats = all_stats[sa.index]
        moved = {k: v for k, v in stats.errors().items() if v}
        flowed = stats.encrypted_packets > 0 and stats.decrypted_packets > 0
        seen = (f"index {sa.index}: {stats.encrypted_packets} packets encrypted, {stats.decrypted_packets} decrypted; "
                + (", ".join(f"{k}={v}" for k, v in moved.items()) or f"all {len(stats.errors())} error counters 0"))
        out.append(CheckResult(step, driver.node, flowed and not moved, expected, seen))
    return out


def ping(driver: NodeDriver, address: str, count: int = 5, source: str | None = None, timeout: float = 30) -> CheckResult:
    """Test Traffic Flow Across the VPN: 0% loss."""
    return run_and_expect(f"ping {address}" + (f" from {source}" if source else ""), driver.node,
                          lambda: driver.ping(address, count, source), lambda r: r.received == r.transmitted,
                          f"{count} of {count} replies", lambda r: f"{r.received} of {r.transmitted} replies", timeout)
