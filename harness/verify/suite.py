"""The note's verification steps over a whole lab, as one list of results (for `nhtb-lab verify`)."""
from __future__ import annotations

from ..drivers.base import NodeDriver
from ..model.lab import Lab
from . import checks
from .checks import CheckResult


def verify(lab: Lab, drivers: dict[str, NodeDriver], timeout: float | None = None) -> list[CheckResult]:
    """Every step; `timeout` caps how long a step waits for convergence (None: each step's own)."""
    t = {} if timeout is None else {"timeout": timeout}
    results: list[CheckResult] = []
    for node in lab.sites:
        d = drivers[node]
        results += [checks.phase1(lab, d, **t), checks.phase2(lab, d, **t), checks.next_hop_tunnels(lab, d, **t)]
        results += checks.spoke_routes(lab, d, **t)
    pcs = {site: lab.lan_host(site) for site in lab.sites}
    for a in lab.sites:  # PC to PC between every pair of sites (spoke to spoke goes through the hub)
        for b in lab.sites:
            if a != b and pcs[a] and pcs[b]:
                results.append(checks.ping(drivers[pcs[a]], lab.host_address(pcs[b]), count=3, **t))
    for node in lab.sites:  # after traffic: no error counter moved
        results += checks.sa_errors(lab, drivers[node])
    return results
