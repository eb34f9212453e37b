#!/usr/bin/env python3
"""Benchmark of the lab VM's health (prints figures, asserts nothing): boot the VM N times, bring
the note's lab up in it (IKE starts: the moment the guest kernel was seen to lock up), hold it
with traffic for a while, take it down, stop the VM. Counts the VMs that died on their own (the
guest panics on a lockup: `softlockup_panic`, `panic_on_rcu_stall`), that never answered, or whose
lab failed, and says what each kept console shows.

    .venv/bin/python scripts/vm_lockups.py [--boots 30] [--hold 20] [--verify]

With --verify, the traffic is the note's verification run again and again (many agent calls at
once: where CI's VMs locked up). NHTB_VM_CMDLINE and NHTB_VM_TCG change the guest's
command line and qemu's TCG options, to compare variants.

Refuses to run while a lab VM runs (it would stop other labs). Consoles of dead VMs are kept in
/var/lib/nhtb-lab/vm/console-crash-*.log; every boot and stop is in events.log there.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.errors import LabError, VMDied  # noqa: E402
from harness.model.lab import load_lab  # noqa: E402
from harness.runtime.backend import RemoteRuntime  # noqa: E402
from harness.runtime.vm import LabVM  # noqa: E402

TOPOLOGY = REPO / "topologies" / "three-site.clab.yml"
# What a guest kernel prints when it locks up, first match wins.
SIGNATURES = [("RCU stall", re.compile(r"rcu: INFO: rcu_\w+ (detected|self-detected) stall")),
              ("soft lockup", re.compile(r"watchdog: BUG: soft lockup")),
              ("hung task", re.compile(r"blocked for more than \d+ seconds")),
              ("panic", re.compile(r"Kernel panic - not syncing"))]


def diagnosis(console: Path) -> str:
    """The lockup's kind and the first functions of its stack, from a kept console."""
    text = console.read_text(errors="replace")
    kind = next((name for name, rx in SIGNATURES if rx.search(text)), "no lockup message (a clean exit?)")
    frames = re.findall(r"^\s*(?:\[\s*[\d.]+\]\s*)?\s*(\w+)\+0x[0-9a-f]+/0x", text, re.M)
    return f"{kind}" + (f"; stack: {' < '.join(frames[:6])}" if frames else "")


def one_boot(i: int, hold: float, name: str, verify: bool = False) -> tuple[str, str, float]:
    """(outcome, detail, seconds) of one boot: ok, died, silent, lab-failed."""
    vm = LabVM()
    t0 = time.monotonic()
    try:
        client = vm.ensure()
    except LabError as e:
        return "silent", str(e).splitlines()[0], time.monotonic() - t0
    rt = RemoteRuntime(client)
    outcome, detail = "ok", ""
    try:
        rt.up(str(TOPOLOGY), name=name, retries=0)
        model = load_lab(TOPOLOGY, name=name)
        hosts = [h for h in (model.lan_host(s) for s in model.sites) if h]
        deadline = time.monotonic() + hold
        while verify and time.monotonic() < deadline:
            from harness.drivers import for_lab
            from harness.verify.suite import verify as run_verify

            failed = [str(r) for r in run_verify(model, for_lab(name)) if not r.ok]
            if failed:
                outcome, detail = "verify-failed", f"{len(failed)} failed, first: {failed[0]}"
        while time.monotonic() < deadline:  # traffic between every pair of LAN hosts
            for src in hosts:
                for dst in hosts:
                    if src is not dst:
                        rt.exec(name, src, ["ping", "-c", "1", "-W", "1", model.host_address(dst)], timeout=20)
        rt.down(name)
    except VMDied:  # the call that saw it kept the console already
        kept = vm.last_crash_console()
        return "died", f"{diagnosis(kept)} (console: {kept.name})", time.monotonic() - t0
    except (OSError, LabError) as e:
        outcome, detail = "lab-failed", str(e).splitlines()[0] if str(e) else type(e).__name__
    if vm.died() or not vm.qemu_alive():
        kept = vm.keep_crash_console()
        vm.clear_if_dead(int(vm._read("qemu.pid") or 0) or None)
        return "died", f"{diagnosis(kept)} (console: {kept.name})", time.monotonic() - t0
    vm.stop()
    return outcome, detail, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boots", type=int, default=30)
    ap.add_argument("--hold", type=float, default=20, help="seconds of traffic with the lab up")
    ap.add_argument("--verify", action="store_true", help="the traffic is the note's verification, again and again")
    args = ap.parse_args()
    if LabVM().qemu_alive():
        print("a lab VM is running: take its labs down first (`nhtb-lab down --all`)", file=sys.stderr)
        return 2
    outcomes: Counter[str] = Counter()
    for i in range(1, args.boots + 1):
        outcome, detail, secs = one_boot(i, args.hold, f"lockup-{os.getpid()}", args.verify)
        outcomes[outcome] += 1
        print(f"boot {i:2d}: {outcome:<10} {secs:5.1f} s {detail}", flush=True)
    bad = args.boots - outcomes["ok"]
    variant = ", ".join(f"{k}={os.environ[k]!r}" for k in ("NHTB_VM_CMDLINE", "NHTB_VM_TCG") if k in os.environ)
    print(f"vm_lockups{' (' + variant + ')' if variant else ''}: {bad} of {args.boots} boots went wrong: "
          + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
