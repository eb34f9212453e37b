"""The note's verification steps over a whole lab, as one list of results (for `nhtb-lab verify`)."""
from __future__ import annotations

from ..drivers.base import NodeDriver
from ..model.lab import Lab
from . import checks
from .checks import CheckResult


def lan_host(lab: Lab, site: str) -> str | None:
    """The host on a site's LAN (a unit neither tunnel nor IKE gateway's external interface)."""
    s = lab.sites[site]
    external = {gw.external_interface for gw in s.gateways.values()}
    lans = [a.network for u in s.units.values() if not u.tunnel and u.name not in external for a in u.addresses]
    return next((h for h, host in lab.hosts.items() if any(a.ip in n for _, a, _ in host.addresses for n in lans)), None)


def host_address(lab: Lab, host: str) -> str:
    return str(lab.hosts[host].addresses[0][1].ip)


def verify(lab: Lab, drivers: dict[str, NodeDriver]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for node in lab.sites:
        d = drivers[node]
        results += [checks.phase1(lab, d), checks.phase2(lab, d), checks.next_hop_tunnels(lab, d)]
        results += checks.spoke_routes(lab, d)
    pcs = {site: lan_host(lab, site) for site in lab.sites}
    for a in lab.sites:  # PC to PC between every pair of sites (spoke to spoke goes through the hub)
        for b in lab.sites:
            if a != b and pcs[a] and pcs[b]:
                results.append(checks.ping(drivers[pcs[a]], host_address(lab, pcs[b]), count=3))
    for node in lab.sites:  # after traffic: no error counter moved
        results += checks.sa_errors(lab, drivers[node])
    return results
