"""The lab's own processes (charon, the binder): alive, stopped, their log's tail."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, /proc/PID/stat's field 22): with the
    pid, it names one process, where the pid alone may be given to another later."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def stop(pid: int | None, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout`."""
    if not alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def end_all(pids: list[int], grace: float = 1.0, timeout: float = 5.0) -> None:
    """SIGTERM each, SIGKILL what is left after `grace`, and wait (up to `timeout`) until none is."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, timeout)):
        for pid in pids:
            if alive(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + wait
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)


def tail(*paths: Path, lines: int | None = 20) -> str:
    """The last lines of the given logs, read in order (missing ones skipped); None: all of them."""
    text = ""
    for p in paths:
        try:
            text += p.read_text(errors="replace")
        except OSError:
            continue
    kept = text.splitlines() if lines is None else text.splitlines()[-lines:]
    return "\n".join(kept) or "(no log)"
