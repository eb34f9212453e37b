#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): the next-hop tunnel binding at scale.

1. In a scratch namespace: for N spoke entries on one multipoint st0 (one route per spoke),
   the time to sync the binding from scratch (3 policies per prefix, N prefixes plus N /32s)
   and to apply one route change. The binder's own reconcile(); XFRM policies need no ESP.
2. With --lab NAME (a running lab): the live binder's latency from `ip route add` on the hub
   to the route's policies being in the kernel, and back after `ip route del`.

    .venv/bin/python scripts/bench_binding.py [--sizes 2,10,50] [--lab nhtb]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pyroute2 import NetNS  # noqa: E402
from pyroute2 import netns as pnetns  # noqa: E402

from harness.runtime.binder import reconcile  # noqa: E402
from harness.runtime.xfrm import XfrmSocket  # noqa: E402


def synthetic_spec(n: int) -> tuple[dict, list[tuple[IPv4Network, IPv4Address]]]:
    """N spokes: next hop 10.200.x.y on st0's /16, a /24 LAN each, static entries (documentation
    and private ranges inside a scratch namespace; nothing is sent)."""
    vpns, static, routes = {}, [], []
    for i in range(n):
        hop = IPv4Address(f"10.200.{i // 250}.{i % 250 + 2}")
        name = f"spoke{i}-vpn"
        vpns[name] = {"reqid": i + 1, "local": "192.0.2.1", "remote": f"198.51.{i // 250}.{i % 250 + 1}", "auto_next_hop": None}
        static.append({"next_hop": str(hop), "vpn": name})
        routes.append((IPv4Network(f"172.{16 + i // 256}.{i % 256}.0/24"), hop))
    return {"unit": "st0.0", "ifname": "st0.0", "if_id": 1, "vpns": vpns, "static": static}, routes


def scale(sizes: list[int]) -> None:
    ns = f"nhtb-bench-{os.getpid()}"
    pnetns.create(ns)
    try:
        with NetNS(ns) as ipr:
            # stands in for st0: only routes are read from it (veth: built into every kernel)
            ipr.link("add", ifname="st0.0", kind="veth", peer={"ifname": "st0peer"})
        print(f"{'spokes':>7} {'policies':>9} {'sync from scratch':>18} {'one route change':>17}")
        for n in sizes:
            spec, routes = synthetic_spec(n)
            with XfrmSocket(ns) as x:
                for p in x.policies():
                    x.delete_policy(p)
                t = time.perf_counter()
                _, changes = reconcile(x, [spec], set(), lambda _: routes)
                scratch = time.perf_counter() - t
                extra = routes + [(IPv4Network("10.99.0.0/24"), routes[0][1])]
                t = time.perf_counter()
                _, one = reconcile(x, [spec], set(), lambda _: extra)
                change = time.perf_counter() - t
                total = len(x.policies())
            print(f"{n:>7} {total:>9} {scratch * 1000:>15.1f} ms {change * 1000:>14.1f} ms"
                  f"   (+{one['added']} policies for the new route)")
    finally:
        pnetns.remove(ns)


def live(lab: str) -> None:
    from harness.model.lab import load_lab
    from harness.render.binding import binding_specs
    from harness.render.strongswan import reqid
    from harness.runtime import backend

    rt = backend.find(lab)
    state = next(s for s in rt.labs() if s["name"] == lab)
    model = load_lab(state["topology"], name=lab)
    hub = model.hub()
    (spec,) = binding_specs(model, hub)
    hop, vpn = spec["static"][0]["next_hop"], spec["static"][0]["vpn"]
    prefix = "172.31.0.0/24"

    def bound() -> bool:
        return any(p["dst"] == prefix and p["reqid"] == reqid(vpn) for p in rt.xfrm_policies(lab, hub.name))

    for action, args, want in (("add", ["via", hop, "dev", spec["ifname"]], True), ("del", [], False)):
        t = time.monotonic()
        rt.exec(lab, hub.name, ["ip", "route", action, prefix, *args])
        while bound() != want:
            time.sleep(0.02)
        print(f"live binder on {lab}/{hub.name}: route {action} -> policies {'in' if want else 'out'} "
              f"after {time.monotonic() - t:.2f} s (includes the control round trips)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,10,50")
    ap.add_argument("--lab", help="also time the live binder of this running lab")
    args = ap.parse_args()
    scale([int(x) for x in args.sizes.split(",")])
    if args.lab:
        live(args.lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
