"""A zygote: a process forked early (before any thread exists) that imports the daemons' modules
once and then forks each daemon from itself, so starting the binder or the management daemon costs
a fork instead of a fresh Python importing pyroute2, vici and the harness (seconds under software
emulation, where every import is read over 9p).

The lab VM's agent starts one at boot; without one (`up` run natively from the CLI) daemons start
as `python -m MODULE`, as before. A daemon forked here is in a session of its own (its pid is its
process group), its output goes to its log, and the zygote reaps it; the zygote exits when the
process that started it closes its end of the socket (it dies with the agent).
"""
from __future__ import annotations

import importlib
import json
import os
import select
import shlex
import signal
import socket
import sys
import threading

import setproctitle


class Zygote:
    def __init__(self, preload: list[str]):
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the zygote
            parent.close()
            try:
                _serve(child, preload)
            finally:
                os._exit(0)
        child.close()
        self.pid, self._sock, self._lock = pid, parent, threading.Lock()
        self._file = parent.makefile("rw", buffering=1)
        self._preloaded = False

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the zygote has imported its modules (it says so once, first thing on the
        socket): the lab VM's agent says it is ready only then, so the first lab's daemons do not
        wait for the imports. False when the zygote is gone, or not ready within `timeout`
        (then the first spawn waits for it)."""
        with self._lock:
            if not self._preloaded and timeout is not None:
                # Nothing is buffered before the first line: the socket tells whether it has come.
                if not select.select([self._sock], [], [], timeout)[0]:
                    return False
            return self._read_ready()

    def _read_ready(self) -> bool:
        if not self._preloaded:
            self._preloaded = json.loads(self._file.readline() or "{}").get("ready", False)
        return self._preloaded

    def spawn(self, module: str, argv: list[str], log: str) -> int:
        """Run `module.main()` with `argv` as a daemon forked from the zygote (what `python -m
        module argv...` runs: the module's `if __name__ == "__main__"` calls its main()); returns
        its pid."""
        with self._lock:  # one request at a time on the one socket
            self._read_ready()
            self._file.write(json.dumps({"module": module, "argv": argv, "log": log}) + "\n")
            answer = json.loads(self._file.readline() or "{}")
        if "pid" not in answer:
            raise OSError(f"zygote: could not start {module}: {answer.get('error', 'no answer')}")
        return answer["pid"]


def _serve(sock: socket.socket, preload: list[str]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the daemons forked here
    # Preload at a low priority: the agent's own start-up (the VM's boot) comes first.
    niced = _nice(10)
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001 - the daemon will fail visibly in its own log
            print(f"zygote: preloading {module}: {e}", file=sys.stderr, flush=True)
    if niced:
        _nice(-10)  # the daemons run at the normal priority (root may raise it back)
    f = sock.makefile("rw", buffering=1)
    f.write(json.dumps({"ready": True}) + "\n")  # before any answer: Zygote reads it first
    for line in f:
        try:
            req = json.loads(line)
            pid = os.fork()
            if pid == 0:
                f.close()
                sock.close()  # the daemon holds nothing of the zygote's
                _become_daemon(req["module"], req["argv"], req["log"])
            f.write(json.dumps({"pid": pid}) + "\n")
        except Exception as e:  # noqa: BLE001 - the caller raises it
            f.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")


def _nice(step: int) -> bool:
    try:
        os.nice(step)
        return True
    except OSError:
        return False


def _become_daemon(module: str, argv: list[str], log: str) -> None:
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own children are its to wait for
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        # Whatever sys.stdout was in the zygote's parent (a capture, a pipe), the daemon's is its log.
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.argv = [module, *argv]
        # Its command line as `python -m` would have it, so `ps`, and the lab's residue check that
        # finds a lab's daemons by their arguments, see what it is, not the agent it was forked from.
        setproctitle.setproctitle(shlex.join([sys.executable, "-m", module, *argv]))
        # Its main(), as `python -m` would run it (running the already imported module's body
        # again as __main__ would warn and re-execute it).
        result = importlib.import_module(module).main()
        code = result if isinstance(result, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - into its log, as a daemon started by python -m would
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
