#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): N spokes on the one hub st0.

For each N it generates the lab (`nhtb-lab spoke scale`: every spoke added as `spoke add` would,
like Westford, so the hub learns each next hop as an Auto entry; with --spoke-routes summary, the
default, spokes reach each other's LANs by one summary route through the hub, with `each` by a route
per LAN, so the configs grow with N squared), brings it up, verifies it,
and prints: bring-up time, memory used (the kernel's, and charon's resident size), the marginal
cost per spoke against the previous N, and the number of tunnel interfaces on the hub.

    .venv/bin/python scripts/bench_scale.py [--spokes 2 10 25 50 100] [--runtime auto|native|vm] [--mesh]
        [--spoke-routes summary|each]

Verification: `nhtb-lab verify` as a user runs it: every site's phase 1, phase 2, NHTB, route and
statistics checks, and pings between the sampled pairs of LAN hosts (the hub's to each spoke's and
back, each spoke's to the next spoke's: 3 per spoke; --mesh: every pair of sites, N*(N+1) pings).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.drivers import for_lab  # noqa: E402
from harness.model.lab import load_lab  # noqa: E402
from harness.model.spoke import SPOKE_ROUTES, grow  # noqa: E402
from harness.runtime import backend  # noqa: E402
from harness.verify.suite import verify  # noqa: E402

TOPOLOGY = REPO / "topologies" / "three-site.clab.yml"


def mem_used_mb(rt, lab: str, node: str) -> float:
    info = dict(re.findall(r"^(\w+):\s+(\d+) kB", rt.exec(lab, node, ["cat", "/proc/meminfo"])["stdout"], re.M))
    return (int(info["MemTotal"]) - int(info["MemAvailable"])) / 1024


def charon_rss_mb(rt, lab: str, node: str, pids: list[int]) -> float:
    total = 0
    for pid in pids:
        m = re.search(r"VmRSS:\s+(\d+) kB", rt.exec(lab, node, ["cat", f"/proc/{pid}/status"])["stdout"])
        total += int(m.group(1)) if m else 0
    return total / 1024


def _opt(value, fmt: str) -> str:
    """A figure, or '-' where there is none (the first N has no previous one to compare with)."""
    return fmt.format(value) if value is not None else "-".rjust(len(fmt.format(0)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spokes", type=int, nargs="+", default=[2, 10, 25, 50, 100])
    ap.add_argument("--runtime", default="auto", choices=["auto", "native", "vm"])
    ap.add_argument("--mesh", action="store_true", help="verify pings between every pair of sites (N*(N+1) pings)")
    ap.add_argument("--spoke-routes", default="summary", choices=SPOKE_ROUTES, help="as `spoke scale --spoke-routes`")
    args = ap.parse_args()
    rt = backend.choose(args.runtime, lambda p, m: None)
    rows, prev = [], None
    work = Path(tempfile.mkdtemp(prefix="nhtb-scale-"))
    for n in args.spokes:
        t = time.monotonic()
        topo = grow(TOPOLOGY, n, work / f"n{n}", spoke_routes=args.spoke_routes)
        gen = time.monotonic() - t
        name = f"scale-{os.getpid()}-{n}"
        model = load_lab(topo, name=name)
        probe_node = model.hub().name
        try:
            t = time.monotonic()
            result = rt.up(str(topo), name=name, sa_timeout=600)
            up = time.monotonic() - t
            state = result["lab"]
            pids = [i["charon_pid"] for i in state["nodes"].values() if i.get("charon_pid")]
            mem = mem_used_mb(rt, name, probe_node)
            rss = charon_rss_mb(rt, name, probe_node, pids)
            xfrm = len(rt.exec(name, probe_node, ["ip", "-o", "link", "show", "type", "xfrm"])["stdout"].splitlines())
            drivers = for_lab(name)
            t = time.monotonic()
            results = verify(model, drivers, mesh=args.mesh)
            ver = time.monotonic() - t
            passed = sum(r.ok for r in results)
        finally:
            if name in [state["name"] for _, state in backend.all_labs()]:  # a failed up removed its lab itself
                backend.down(name)
        row = {"n": n, "routes": sum(len(s.routes) for s in model.sites.values()), "gen": gen, "up": up, "phases": result["timings"], "mem": mem, "rss": rss, "xfrm": xfrm,
               "verify": ver, "passed": passed, "checks": len(results)}
        if prev:
            row["per_spoke_up"] = (up - prev["up"]) / (n - prev["n"])
            row["per_spoke_mb"] = (mem - prev["mem"]) / (n - prev["n"])
            row["per_spoke_rss"] = (rss - prev["rss"]) / (n - prev["n"])
        rows.append(row)
        prev = row
        print(f"N={n}: up {up:.1f}s, verify {ver:.1f}s ({passed}/{len(results)} checks), mem {mem:.0f} MB, "
              f"charon RSS {rss:.0f} MB, hub xfrm interfaces {xfrm}", flush=True)
        print("  up's phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in result["timings"].items()), flush=True)

    print(f"\nspoke routes: {args.spoke_routes}; runtime: {rt.where}; memory is the {'VM' if rt.where == 'vm' else 'host'} kernel's "
          "MemTotal - MemAvailable with the lab up (a lab VM runs nothing else)")
    print(f"{'N':>4} {'routes':>7} {'generate':>9} {'up':>8} {'IKE':>7} {'verify':>8} {'checks':>9} {'mem MB':>7} "
          f"{'charon MB':>9} {'+s/spoke':>9} {'+MB/spoke':>10} {'hub st0':>8}")
    for r in rows:
        print(f"{r['n']:>4} {r['routes']:>7} {r['gen']:>8.1f}s {r['up']:>7.1f}s {r['phases'].get('IKE', 0):>6.1f}s {r['verify']:>7.1f}s "
              f"{r['passed']:>4}/{r['checks']:<4} {r['mem']:>7.0f} {r['rss']:>9.0f} "
              f"{_opt(r.get('per_spoke_up'), '{:>8.2f}s')} {_opt(r.get('per_spoke_mb'), '{:>10.1f}')} {r['xfrm']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
