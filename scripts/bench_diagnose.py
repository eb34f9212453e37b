#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): seconds `verify` and `diagnose` take on the
healthy note's lab, and each diagnose layer's share, as a user runs them (drivers from the host).

    .venv/bin/python scripts/bench_diagnose.py [--runtime auto|native|vm] [--runs 3]

Uses a lab of its own (name benchdiag-<pid>) and removes it; in VM mode a VM that was not
already running is booted and stopped again.
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

from harness.drivers import for_lab, running  # noqa: E402
from harness.runtime import backend  # noqa: E402
from harness.runtime.vm import LabVM  # noqa: E402
from harness.verify import diagnose as dg  # noqa: E402
from harness.verify.suite import verify  # noqa: E402

TOPOLOGY = REPO / "topologies" / "three-site.clab.yml"
METHODS = ("link", "ike_peer", "phase1", "phase2", "nhtb", "policy", "traffic")


def timed_walk(spent: dict[str, float]):
    """Walk with each layer method timed into `spent` (a subclass: the module is untouched)."""
    def wrap(name):
        def layer(self):
            t = time.monotonic()
            try:
                return getattr(dg.Walk, name)(self)
            finally:
                spent[name] = time.monotonic() - t
        return layer
    return type("TimedWalk", (dg.Walk,), {n: wrap(n) for n in METHODS})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", default="auto", choices=["auto", "native", "vm"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    name = f"benchdiag-{os.getpid()}"
    vm_was_running = LabVM().qemu_alive()
    rt = backend.choose(args.runtime, lambda p, m: None)
    verifies, diagnoses, layers = [], [], {n: [] for n in METHODS}
    try:
        rt.up(str(TOPOLOGY), name=name)
        drivers = for_lab(name)
        _, model = running(name)
        for _ in range(args.runs):
            t = time.monotonic()
            failed = [r for r in verify(model, drivers) if not r.ok]
            verifies.append(time.monotonic() - t)
            spent: dict[str, float] = {}
            t = time.monotonic()
            d = timed_walk(spent)(model, drivers, None).run()
            diagnoses.append(time.monotonic() - t)
            for n in METHODS:
                layers[n].append(spent.get(n, 0.0))
            if failed or not d.healthy:
                print(f"not healthy: {len(failed)} checks failed; diagnose: {d.summary}")
    finally:
        backend.down(name) if not vm_was_running else rt.down(name)

    print(f"runtime: {rt.where}; {args.runs} runs on the healthy note's lab, medians (each run)")
    print(f"  {'verify':<12} {statistics.median(verifies):6.2f} s  " + " ".join(f"{x:6.2f}" for x in verifies))
    print(f"  {'diagnose':<12} {statistics.median(diagnoses):6.2f} s  " + " ".join(f"{x:6.2f}" for x in diagnoses))
    for n in METHODS:
        print(f"    {n:<10} {statistics.median(layers[n]):6.2f} s  " + " ".join(f"{x:6.2f}" for x in layers[n]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
