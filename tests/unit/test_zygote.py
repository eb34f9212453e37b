"""The zygote the lab VM's agent forks daemons from: a daemon started through it runs the module
as `python -m` would, in a session of its own, with its output in its log; `process.stop` stops
it; and when the zygote is gone, starting a daemon falls back to a new process."""
from __future__ import annotations

import os
import signal
import time

from harness.runtime import daemons, process
from harness.runtime.zygote import Zygote

PROBE = "tests.unit.zygote_probe"


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_a_daemon_forked_from_the_zygote(tmp_path):
    z = Zygote([PROBE])
    try:
        log = tmp_path / "d.log"
        pid = z.spawn(PROBE, ["30", "x y"], str(log))
        assert pid != z.pid and process.alive(pid)
        assert wait_for(lambda: log.exists() and "argv" in log.read_text()), log
        assert "argv=['30', 'x y'] own-session=True" in log.read_text()
        # Its command line is its own (ps and the residue check read it), not the zygote's parent's.
        assert f"-m {PROBE} 30 'x y'" in open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        assert os.getpgid(pid) == pid  # its own process group: `down` stops it and whatever it starts
        process.stop(pid)
        # Reaped by the zygote: not even a zombie's /proc entry is left (alive() counts a zombie dead).
        assert wait_for(lambda: not os.path.exists(f"/proc/{pid}"))
    finally:
        os.kill(z.pid, signal.SIGKILL)


def test_without_a_zygote_a_daemon_is_a_new_process(tmp_path):
    z = Zygote([])
    os.kill(z.pid, signal.SIGKILL)
    os.waitpid(z.pid, 0)
    daemons.use_zygote(z)
    try:
        log = tmp_path / "d.log"
        pid = daemons._spawn_module(PROBE, ["30"], log)
        assert wait_for(lambda: log.exists() and "argv=['30']" in log.read_text()), log.read_text()
        process.stop(pid)
    finally:
        daemons.use_zygote(None)


def test_the_zygote_says_it_is_ready_only_once_its_imports_are_done(tmp_path, monkeypatch):
    """The agent waits for this before it says it is ready: the first lab's daemons must not wait
    for the zygote's imports. A spawn after the wait is answered as before."""
    mark = tmp_path / "imported"
    monkeypatch.setenv("NHTB_TEST_IMPORTED", str(mark))
    z = Zygote(["tests.unit.zygote_slow_import", PROBE])
    try:
        assert z.wait_ready(timeout=0.05) is False  # still importing: the caller goes on
        assert z.wait_ready() is True
        assert mark.read_text() == "imported"
        assert z.wait_ready() is True  # said once, remembered
        pid = z.spawn(PROBE, ["30"], str(tmp_path / "d.log"))
        assert pid != z.pid and process.alive(pid)
        process.stop(pid)
    finally:
        os.kill(z.pid, signal.SIGKILL)
