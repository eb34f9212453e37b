"""Traffic kept flowing while something happens to the lab (a change applied in place, a soak's
rekeys): pings between pairs of LAN hosts and TCP connections held, each in the background, with
what they lost. A pair that could not be measured says so; it is never "nothing lost"."""
from __future__ import annotations

import math
import threading

from ..drivers.base import NodeDriver
from ..junos.ping import unanswered
from ..model.topology import LanHost

PING_INTERVAL = 0.2  # the drivers' `ping -i 0.2`


def ping_during(drivers: dict[str, NodeDriver], pairs: list[tuple[LanHost, LanHost]],
                seconds: float, lost_at: dict[str, list[float]] | None = None) -> tuple[list[threading.Thread], dict]:
    """Ping every pair of LAN hosts continuously for `seconds`, in the background. `lost_at`, if
    given, gets each pair's unanswered probes as seconds after its first probe was sent."""
    results: dict[str, tuple[int, int]] = {}
    count = max(1, math.ceil(seconds / PING_INTERVAL))

    def run(a: str, b: str, address: str) -> None:
        try:
            r = drivers[a].ping(address, count=count)
            results[f"{a} -> {b}"] = (r.transmitted - r.received, r.transmitted)
            if lost_at is not None:
                lost_at[f"{a} -> {b}"] = [round(i * PING_INTERVAL, 1) for i in unanswered(r.output) or []]
        except Exception:  # noqa: BLE001 - not measured is not "nothing lost": the judgement says so
            results[f"{a} -> {b}"] = (-1, 0)

    threads = [threading.Thread(target=run, args=(a.host, b.host, b.address), daemon=True) for a, b in pairs]
    for t in threads:
        t.start()
    return threads, results


def hold_during(runtime, name: str, lan_pairs: list[tuple[LanHost, LanHost]],
                seconds: float) -> tuple[threading.Thread, dict]:
    """A TCP connection between every pair of LAN hosts, held open for `seconds`, in the background."""
    held: dict[str, dict] = {}
    pairs = [[a.host, b.host, b.address] for a, b in lan_pairs]

    def run() -> None:
        try:
            held.update(runtime.tcp_hold(name, pairs, seconds=seconds))
        except Exception as e:  # noqa: BLE001 - not measured: the judgement says so for every pair
            held.update({f"{a} -> {b}": {"connected": False, "error": f"{type(e).__name__}: {e}"} for a, b, _ in pairs})

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, held
