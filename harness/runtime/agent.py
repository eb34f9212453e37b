"""The agent inside the lab VM: a long-lived process that imports the harness once and runs
LocalRuntime calls for the host (Python start-up under emulation costs seconds; a call, not).

Started by `vm.py` as the VM's command: python -m harness.runtime.agent --token-file F.
"""
from __future__ import annotations

import argparse
import hmac
import json
import os
import select
import socket
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from pyroute2 import IPRoute

from ..errors import USER_ERRORS, LabError
from . import daemons, probe
from .local import LocalRuntime
from .relay import splice
from .zygote import Zygote
from .rpc import AGENT_PORT, PROGRESS_CALLS, RUNTIME_CALLS

GUEST_ADDR = ("10.0.2.15", 24)  # qemu user networking's default guest address


class Cancelled(LabError):
    """The host went away in the middle of a call."""


# Besides ESP's (probe.MODULES): cabling, the management bridge, and what the nodes' rulesets use.
LAB_MODULES = ["veth", "bridge", "nf_tables", "nft_chain_nat", "nft_ct", "nft_masq"]
WARM_BINARIES = [["nft", "--version"], ["nsenter", "--version"], ["ping", "-V"]]


def _warm_up() -> None:
    """The first ESP SA under emulation stalls ~5 s on crypto self-tests, long enough for charon to
    retransmit; install and flush one scratch state now instead (kernel-lab-facts). The modules a
    lab uses are loaded and the binaries every node runs read once (over 9p: slow the first
    time), so the VM's first lab is not the one that waits for them. Only here, in the VM: on a
    user's own kernel the lab loads what it needs itself."""
    probe.probe()
    subprocess.run(["modprobe", "-a", *LAB_MODULES], capture_output=True)
    for argv in WARM_BINARIES:
        try:
            subprocess.run(argv, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass  # a missing binary is the lab's to report, with its node's name


# Under software emulation on a busy host the vCPUs starve while the guest's clock runs on: an
# RCU stall is then detected with nothing wrong but time (a kept console, 2026-11-29: a 21 s
# "self-detected stall" in virtio-net's receive softirq, reading the HPET clock, during the soak
# test's traffic), and panicking on it killed a healthy VM with its labs. The kernel's longest
# thresholds: a stall or a soft lockup this long is a hang, not a slow host.
STALL_LIMITS = {Path("/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout"): "300",  # seconds (default 21)
                Path("/proc/sys/kernel/watchdog_thresh"): "60"}  # a soft lockup after 2x this (default 20 s)


def _die_on_lockup() -> None:
    """A guest kernel that really locks up must end the VM, not hang every caller: panic, and
    qemu runs with -no-reboot, so the VM exits and the host retries on a fresh one; but only
    after the longest stall the kernel can wait for (STALL_LIMITS)."""
    for path, value in STALL_LIMITS.items():
        try:
            path.write_text(value)
        except OSError as e:
            print(f"agent: {path}: {e}", file=sys.stderr, flush=True)
    for key in ("panic_on_rcu_stall", "softlockup_panic"):
        try:
            Path("/proc/sys/kernel", key).write_text("1")
        except OSError:
            pass


def _configure_control_nic() -> None:
    with IPRoute() as ipr:
        links = [ln for ln in ipr.get_links() if ln.get_attr("IFLA_IFNAME") != "lo"]
        if not links:
            raise RuntimeError("no network interface for the control channel")
        idx = links[0]["index"]
        ipr.link("set", index=idx, state="up")
        ipr.addr("replace", index=idx, address=GUEST_ADDR[0], prefixlen=GUEST_ADDR[1])


class VMClosing(LabError):
    """The VM is shutting down (its last lab went): the caller boots a new one."""


class Handler(socketserver.StreamRequestHandler):
    runtime: LocalRuntime
    token: str
    # Bring-ups in progress, and whether the VM is closing, under one lock: a lab being brought
    # up is not listed yet, and "no lab left" must not stop the VM under it (another process's
    # `up` between one process's last `down` and its shutdown).
    life = threading.Lock()
    bringing_up = 0
    closing = False

    def host_gone(self) -> bool:
        """The host closed its end. Writes cannot tell: through qemu's user networking they keep
        succeeding after the host socket is gone, so look for the end-of-file instead."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        try:
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def send(self, obj) -> None:
        if "event" in obj and self.host_gone():
            raise Cancelled("the host closed the connection")
        try:
            self.wfile.write((json.dumps(obj) + "\n").encode())
            self.wfile.flush()
        except OSError:
            raise Cancelled("the host closed the connection") from None

    def handle(self) -> None:
        try:
            req = json.loads(self.rfile.readline())
        except ValueError:
            return
        if not hmac.compare_digest(str(req.get("token", "")), self.token):
            self.send({"error": "bad token", "kind": "auth"})
            return
        method, params = req.get("method"), req.get("params", {})
        if method == "relay":  # this connection becomes a byte pipe to a node's management port
            self.relay(params)
            return
        progress = lambda phase, message: self.send({"event": [phase, message]})  # noqa: E731
        try:
            self.send({"result": self.dispatch(method, params, progress)})
        except Cancelled:
            pass
        except USER_ERRORS as e:
            self.send({"error": str(e), "kind": type(e).__name__})
        except Exception as e:  # a bug: the host shows it rather than hanging
            self.send({"error": f"agent error in {method}: {e}\n{traceback.format_exc()}", "kind": "bug"})

    def relay(self, p: dict) -> None:
        try:
            far = self.runtime.mgmt_socket(**p)
        except USER_ERRORS as e:
            self.send({"error": str(e), "kind": type(e).__name__})
            return
        far.settimeout(None)
        self.send({"result": "relaying"})
        splice(self.connection, far)

    def dispatch(self, method: str, p: dict, progress):
        rt = self.runtime
        if method == "ping":
            return "pong"
        if method == "probe":
            r = probe.probe()
            return {"release": r.release, "missing": r.missing}
        if method == "up":
            with Handler.life:
                if Handler.closing:
                    raise VMClosing("the lab VM is shutting down (its last lab went)")
                Handler.bringing_up += 1
            try:
                return rt.up(progress=progress, **p)
            finally:
                with Handler.life:
                    Handler.bringing_up -= 1
        if method in PROGRESS_CALLS:
            return getattr(rt, method)(progress=progress, **p)
        if method in RUNTIME_CALLS:
            return getattr(rt, method)(**p)
        if method == "kernel_log":
            return subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        if method == "shutdown":
            with Handler.life:
                Handler.closing = True
            rt.down_all()
            threading.Thread(target=_poweroff, daemon=True).start()
            return "bye"
        if method == "shutdown_if_idle":  # atomically: no lab, none coming up, then no new one
            with Handler.life:
                if Handler.bringing_up or rt.labs():
                    return False
                Handler.closing = True
            threading.Thread(target=_poweroff, daemon=True).start()
            return True
        raise LabError(f"unknown agent method '{method}'")


def _poweroff() -> None:
    time.sleep(0.2)
    os.sync()
    subprocess.run(["poweroff", "-f"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--port", type=int, default=AGENT_PORT)
    args = ap.parse_args()
    # Before any thread exists, and before the token is read (no daemon holds it): the daemons are
    # forked from the zygote instead of starting a new Python.
    zygote = Zygote([daemons.BINDER, daemons.MGMTD, daemons.SUPERVISOR])
    daemons.use_zygote(zygote)
    Handler.token = Path(args.token_file).read_text().strip()
    Handler.runtime = LocalRuntime()
    _die_on_lockup()
    _configure_control_nic()
    _warm_up()
    zygote.wait_ready(timeout=120)  # its imports overlapped the warm-up; the first lab's daemons need not wait
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    # Many calls at once (a rehearsal pings every pair of hosts while it applies a change): the
    # default backlog of 5 drops connections that qemu's user networking has already accepted.
    socketserver.ThreadingTCPServer.request_queue_size = 128
    server = socketserver.ThreadingTCPServer(("0.0.0.0", args.port), Handler)
    server.daemon_threads = True
    print("nhtb-lab agent ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
