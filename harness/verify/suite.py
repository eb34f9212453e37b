"""The note's verification steps over a whole lab, as one list of results (for `nhtb-lab verify`)."""
from __future__ import annotations

from ..drivers.base import NodeDriver
from ..model.lab import Lab
from ..model.topology import lan_host_pairs, sampled_host_pairs
from . import checks, parallel
from .checks import CheckResult


def verify(lab: Lab, drivers: dict[str, NodeDriver], timeout: float | None = None,
           mesh: bool = False) -> list[CheckResult]:
    """Every step; `timeout` caps how long a step waits for convergence (None: each step's own).
    Traffic: the sampled pairs of LAN hosts (`sampled_host_pairs`), or with `mesh` every pair."""
    t = {} if timeout is None else {"timeout": timeout}
    results: list[CheckResult] = []
    # Each step waits for convergence up to its timeout, after the node's previous step (as a
    # device converges: phase 2 after phase 1). The nodes wait side by side, so a broken lab costs
    # one node's waits, not every node's. Results keep this order.
    def node_steps(node: str) -> list[CheckResult]:
        d = drivers[node]
        return [checks.phase1(lab, d, **t), checks.phase2(lab, d, **t), checks.next_hop_tunnels(lab, d, **t),
                *checks.spoke_routes(lab, d, **t)]

    for got in parallel.each(node_steps, list(lab.sites)):
        results += got
    pairs = lan_host_pairs(lab) if mesh else sampled_host_pairs(lab)  # PC to PC, spoke to spoke through the hub
    results += parallel.each(lambda p: checks.ping(drivers[p[0].host], p[1].address, count=3, **t), pairs)
    for got in parallel.each(lambda node: checks.sa_errors(lab, drivers[node]), list(lab.sites)):
        results += got  # after traffic: no error counter moved (the nodes read side by side)
    return results
