"""One charon per stand-in site: its own network namespace, its own /run, its own vici socket.

charon runs in the node's namespace inside a private mount namespace in which the node's run
directory is bind-mounted on /run, so every daemon has its own pid file; the mount goes away
with the process. Python talks to it over vici only.
"""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import vici

from ..errors import LabError
from ..files import write_file
from ..render.strongswan import LOG_FILE, VICI_SOCKET
from . import nsexec, process

CHARON = os.environ.get("NHTB_CHARON", "/usr/lib/ipsec/charon")
# The same paths from outside charon's mount namespace: below the node's run directory.
VICI_IN_RUN, LOG_IN_RUN = Path(VICI_SOCKET).name, Path(LOG_FILE).name


def start(ns: str, run_dir: Path, conf: str) -> int:
    """Start charon in `ns` with `run_dir` as its /run and `conf` as its strongswan.conf; returns its pid."""
    if not Path(CHARON).exists():
        raise LabError(f"{CHARON} not found: install strongswan-charon (make bootstrap)")
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir, 0o700)
    write_file(run_dir / "strongswan.conf", conf)
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "STRONGSWAN_CONF": "/run/strongswan.conf"}
    with open(run_dir / "charon.out", "ab") as out:
        try:
            proc = nsexec.popen_with_own_run(ns, run_dir, [CHARON], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            raise LabError(f"charon could not be started in namespace {ns}: {e}") from e
    # Reap it whenever it exits, so a long-lived agent collects no zombies.
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc.pid


def log_tail(run_dir: Path, lines: int | None = 20) -> str:
    return process.tail(run_dir / LOG_IN_RUN, run_dir / "charon.out", lines=lines)


def connect(path: Path | str) -> vici.Session:
    """A vici session on a charon's socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return vici.Session(sock)


def session(run_dir: Path, pid: int, deadline: float) -> vici.Session:
    """A vici session once charon answers; LabError with its last log lines if it never does."""
    path = run_dir / VICI_IN_RUN
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not process.alive(pid):
            raise LabError(f"charon exited during start-up:\n{log_tail(run_dir)}")
        if path.exists():
            try:
                s = connect(path)
                s.version()
                return s
            except OSError as e:
                last = e
        time.sleep(0.1)
    raise LabError(f"charon did not answer on {path} in time ({last}):\n{log_tail(run_dir)}")


def plain(obj):
    """vici answers with dicts of bytes: make them JSON-able strings."""
    if isinstance(obj, dict):
        return {(k.decode() if isinstance(k, bytes) else k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode(errors="replace")
    return obj


# A CHILD SA in these states has its SAs in the kernel: one being rekeyed (REKEYING) carries the
# traffic until its successor is installed, and is not "down" for that moment (a binder that read
# it as down removed the Auto NHTB entry and its policies mid-rekey, and pings were lost).
IN_KERNEL = ("INSTALLED", "UPDATING", "REKEYING", "REKEYED")


def child_installed(ike: dict) -> bool:
    """An IKE SA (plain data) with at least one CHILD SA whose SAs are in the kernel."""
    return any(c.get("state") in IN_KERNEL for c in (ike.get("child-sas") or {}).values())


def terminate(session: vici.Session, ike: str) -> bool:
    """Delete the IKE SA `ike` and its CHILD SAs (the peer is told); False when there was none (it
    never came up, or the peer deleted it first)."""
    try:
        for _ in session.terminate({"ike": ike, "force": "yes", "timeout": "-1"}):
            pass
    except vici.exception.CommandException:
        return False
    return True
