#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): seconds from `lab-up` to all SAs up, per phase,
and the cost of one `exec` round trip into a node.

    .venv/bin/python scripts/bench_lab_up.py [--runtime auto|native|vm] [--exec-rounds 20] [--ups 3]

Uses a lab of its own (name bench-<pid>) and removes it; in VM mode a VM that was not already
running is booted (timed) and stopped again.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.model.lab import load_lab  # noqa: E402
from harness.runtime import backend  # noqa: E402
from harness.runtime.vm import LabVM  # noqa: E402

TOPOLOGY = REPO / "topologies" / "three-site.clab.yml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", default="auto", choices=["auto", "native", "vm"])
    ap.add_argument("--exec-rounds", type=int, default=20)
    ap.add_argument("--ups", type=int, default=3, help="bring the lab up this many times in the same VM (medians)")
    args = ap.parse_args()
    name = f"bench-{os.getpid()}"
    vm_was_running = LabVM().qemu_alive()
    events: list[tuple[float, str, str]] = []
    t0 = time.monotonic()
    rt = backend.choose(args.runtime, lambda p, m: events.append((time.monotonic() - t0, p, m)))
    vm_boot = time.monotonic() - t0
    runs = []
    try:
        for i in range(args.ups):
            if i:
                rt.down(name)
            runs.append(rt.up(str(TOPOLOGY), name=name)["timings"])
        node = next(n for n in load_lab(TOPOLOGY).nodes)
        rounds = []
        for _ in range(args.exec_rounds):
            t = time.monotonic()
            rt.exec(name, node, ["true"])
            rounds.append(time.monotonic() - t)
    finally:
        backend.down(name) if not vm_was_running else rt.down(name)

    print(f"runtime: {rt.where}")
    if rt.where == "vm":
        print(f"  VM boot (to agent ready)   {vm_boot:7.2f} s" + ("  (VM was already running)" if vm_was_running else ""))
    print(f"  {'phase':<26} {'median':>7}   each of {len(runs)} ups")
    for phase in runs[0]:
        each = [r.get(phase, 0.0) for r in runs]
        label = "lab up (namespaces..SAs)" if phase == "total" else phase
        print(f"  {label:<26} {statistics.median(each):7.2f} s  " + " ".join(f"{x:6.2f}" for x in each))
    print(f"exec round trip ({args.exec_rounds} x `true` in {node}): "
          f"median {statistics.median(rounds) * 1000:.0f} ms, min {min(rounds) * 1000:.0f} ms, max {max(rounds) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
