"""The lab's supervisor, as Junos restarts a dead kmd: one process per lab that runs the VPN
monitors (`vpn-monitor`, vpn_monitor.py) and watches the lab's daemons (each stand-in's charon, the hub's binder, the management daemon) and starts again one
that died (`LocalRuntime.revive`), logging what it did in the lab's `supervisor.log`. Like
`fault clear`, it reads the lab's configs as they are on disk now.

    python -m harness.runtime.supervisor --lab NAME --state <lab.json>

It leaves the lab alone while another command changes it (the lab's lock), stops when the lab's
state is gone, and on SIGTERM (`down`) finishes the restart it is in, so `down` never misses a
daemon it started. After RESTARTS restarts in WINDOW seconds it stops restarting until every
daemon runs again (`nhtb-lab fault clear` starts them).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from ..errors import LabError
from . import process, vpn_monitor
from . import state as lab_state
from .local import LabBusy, LocalRuntime
from .providers import for_state
from .state import LabState

POLL = 1.0  # seconds between looks: a dead daemon is noticed within this
RESTARTS, WINDOW = 5, 60.0


def dead(state: LabState) -> list[str]:
    """The daemons of the lab that were started and are not running now."""
    out = [f"charon on {n}" for n, ns in state.nodes.items() if ns.charon_pid and not process.alive(ns.charon_pid)]
    out += [f"binder on {n}" for n, ns in state.nodes.items() if ns.binder_pid and not process.alive(ns.binder_pid)]
    if state.mgmtd_pid and not process.alive(state.mgmtd_pid):
        out.append("management daemon")
    return out


def log(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}", flush=True)


def supervise(name: str, stop: threading.Event) -> None:
    recent: list[float] = []  # when restarts happened, for the give-up rule
    gave_up = False
    while not stop.wait(POLL):
        state = lab_state.read(name)
        if state is None:
            log("the lab is gone: stopping")
            return
        died = dead(state)
        if not died:
            gave_up = False  # all running again (`fault clear` restarted what it gave up on)
            continue
        if gave_up or stop.is_set():
            continue
        now = time.monotonic()
        recent = [t for t in recent if now - t < WINDOW]
        if len(recent) >= RESTARTS:
            log(f"{', '.join(died)} died again: {RESTARTS} restarts in {WINDOW:.0f}s, giving up "
                "(`nhtb-lab fault clear` starts it again)")
            gave_up = True
            continue
        log(f"{', '.join(died)} not running: restarting")
        t0 = time.monotonic()
        try:
            result = LocalRuntime(for_state(state.provider, state.topology)).revive(
                name, progress=lambda phase, message: log(f"  {phase}: {message}") if message.strip(" .") else None)
        except LabBusy:
            continue  # another command is changing the lab (and may be replacing that daemon)
        except LabError as e:
            log(f"  restart failed: {e}")
            recent.append(now)
            continue
        except Exception as e:  # a restart that failed is logged and tried again next time
            log(f"  restart failed: {type(e).__name__}: {e}")
            recent.append(now)
            continue
        recent.append(now)
        log(f"done in {time.monotonic() - t0:.1f}s: {'; '.join(result['restarted']) or 'nothing to restart'}; "
            f"VPNs up again: {', '.join(result['vpns_brought_up']) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--state", help="the lab's state file (names the process as the lab's)")
    args = ap.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log(f"supervising lab {args.lab}")
    state = lab_state.read(args.lab)
    if state is not None:  # the VPN monitors run beside the restarts, in a thread of their own
        stand_ins = list(LocalRuntime(for_state(state.provider, state.topology))._stand_ins(state.model()))
        threading.Thread(target=vpn_monitor.run, args=(args.lab, stand_ins, stop, log), daemon=True).start()
    supervise(args.lab, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
