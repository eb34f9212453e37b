#!/usr/bin/env python3
"""Benchmark of the lab's hygiene under abuse (prints what it saw, asserts nothing): N cycles of
`nhtb-lab up` (then `verify`) interrupted at a random moment, by SIGINT as a terminal sends it or,
every fourth cycle, by SIGKILL of the CLI process; then `nhtb-lab down` as a user would run it.
After each cycle it looks for anything left of the lab: its namespaces, processes and state files
(in the lab VM: asked of the agent), a lab VM still running with no lab in it, a namespace or
qemu on the host. A last cycle brings the lab up and verifies it uninterrupted.

    .venv/bin/python scripts/lifecycle_abuse.py [--cycles 20] [--seed S] [--runtime auto]

Refuses to run while another lab is up (its VM would be shared). The seed is printed, so a
cycle that left something can be replayed.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.errors import LabError  # noqa: E402
from harness.runtime import backend  # noqa: E402
from harness.runtime.vm import LabVM  # noqa: E402

TOPOLOGY = REPO / "topologies" / "three-site.clab.yml"
CLI = [sys.executable, "-m", "harness.cli", "-t", str(TOPOLOGY)]
NOTHING = {"namespaces": [], "state_dir": False, "processes": []}


def cli(*args: str) -> subprocess.Popen:
    # A terminal's Ctrl-C: the child gets the default SIGINT handling even from a background job.
    return subprocess.Popen([*CLI, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def interrupt(proc: subprocess.Popen, after: float, kill: bool) -> tuple[str, bool]:
    """Signal `proc` `after` seconds in (if still running); (its last progress line, signalled)."""
    deadline = time.monotonic() + after
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    signalled = proc.poll() is None
    if signalled:
        proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    # The last progress line before the interruption (not what the CLI said about stopping).
    after_words = ("interrupted", "cleanup", "lab VM stopped", "removed everything")
    lines = [ln.strip() for ln in out.splitlines() if ln.strip() and not any(w in ln for w in after_words)]
    return (lines[-1][:90] if lines else "(nothing printed)"), signalled


def host_namespaces() -> set[str]:
    return set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())


def leftovers(name: str, host_before: set[str]) -> list[str]:
    """What is left of lab `name` anywhere, waiting a while for the agent to undo an abandoned up."""
    found: list[str] = []
    deadline = time.monotonic() + 90
    while True:
        found = []
        try:
            if any(s["name"] == name for _, s in backend.all_labs()):
                found.append("the lab is still listed")
            client = LabVM().client()
            if client is not None:
                residue = backend.RemoteRuntime(client).residue(name)
                if residue != NOTHING:
                    found.append(f"in the VM: {residue}")
            residue = backend.NativeRuntime().residue(name)
            if residue != NOTHING:
                found.append(f"on the host: {residue}")
        except (OSError, LabError) as e:
            found.append(f"could not look: {e}")
        new_ns = {n for n in host_namespaces() - host_before if n.startswith(name)}
        if new_ns:
            found.append(f"host namespaces {sorted(new_ns)}")
        if LabVM().qemu_alive() and not backend.all_labs():
            found.append("a lab VM runs with no lab in it")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--runtime", default="auto", choices=["auto", "native", "vm"])
    args = ap.parse_args()
    if backend.all_labs():
        print("another lab is up: take it down first (`nhtb-lab down --all`)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"lifecycle_abuse: {args.cycles} cycles, seed {seed}", flush=True)
    name, host_before, dirty = f"abuse{os.getpid()}", host_namespaces(), 0
    for i in range(1, args.cycles + 1):
        kill = i % 4 == 0
        cold = not LabVM().qemu_alive()  # this up boots the VM first: interrupt within its boot too
        after = rng.uniform(0, 75 if cold else 30)
        t0 = time.monotonic()
        up = cli("up", "--name", name, "--runtime", args.runtime)
        where, signalled = interrupt(up, after, kill)
        if not signalled and up.returncode == 0:  # up finished first: interrupt the verification
            where, signalled = interrupt(cli("verify", "--name", name), max(0.0, after - (time.monotonic() - t0)), kill)
            where = f"verify: {where}"
        down = subprocess.run([*CLI, "down", "--name", name], cwd=REPO, capture_output=True, text=True)
        if kill:  # a killed CLI cannot stop the VM it booted: the user's `down --all` does
            subprocess.run([*CLI, "down", "--all"], cwd=REPO, capture_output=True, text=True)
        found = leftovers(name, host_before)
        dirty += bool(found)
        how = "SIGKILL" if kill else "SIGINT"
        print(f"cycle {i:2d}: {how if signalled else 'none  '} at {after:4.1f}s ({'cold' if cold else 'warm'}) "
              f"during: {where} | down: {down.stdout.strip().splitlines()[-1][:60] if down.stdout.strip() else down.returncode}"
              f" | {'LEFT: ' + '; '.join(found) if found else 'nothing left'}", flush=True)
    up = subprocess.run([*CLI, "up", "--name", name, "--runtime", args.runtime], cwd=REPO, capture_output=True, text=True)
    verify = subprocess.run([*CLI, "verify", "--name", name], cwd=REPO, capture_output=True, text=True)
    subprocess.run([*CLI, "down", "--name", name], cwd=REPO, capture_output=True, text=True)
    last = leftovers(name, host_before)
    print(f"after them: up {'worked' if up.returncode == 0 else 'FAILED'}, verify "
          f"{'passed' if verify.returncode == 0 else 'FAILED'}, down left {'nothing' if not last else last}")
    print(f"lifecycle_abuse: {dirty} of {args.cycles} cycles left something behind; next up "
          f"{'worked' if up.returncode == 0 and verify.returncode == 0 else 'FAILED'} (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
