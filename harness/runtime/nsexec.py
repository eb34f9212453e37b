"""Running things inside a node's network namespace."""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import subprocess
import threading
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

NETNS_DIR = Path("/run/netns")
# For a child's namespaces, entered by a thread that then starts it (<sched.h>, <sys/mount.h>).
CLONE_FS, CLONE_NEWNS, CLONE_NEWNET = 0x00000200, 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
_libc = ctypes.CDLL(None, use_errno=True)
_setns, _unshare, _mount = _libc.setns, _libc.unshare, _libc.mount
_mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]


def ns_path(ns: str) -> str:
    return str(NETNS_DIR / ns)


def in_ns(ns: str, argv: list[str]) -> list[str]:
    """argv prefixed to run in `ns` (nsenter: enters only the network namespace)."""
    return ["nsenter", f"--net={ns_path(ns)}", "--", *argv]


def popen_with_own_run(ns: str, run_dir: Path, argv: list[str], **popen_kwargs) -> subprocess.Popen:
    """argv started in `ns`, in a mount namespace of its own in which `run_dir` is /run (the mount
    goes with the process): what `nsenter --net unshare --mount --propagation private sh -c 'mount
    --bind'` does, with one exec instead of five. In the lab VM under emulation that chain cost
    0.36 s a start against 0.06 s for one exec, and a hub of 100 spokes starts 101 charons.
    A thread of its own enters the namespaces (both are per thread once it has its own filesystem
    context) and starts argv from there, where the child inherits them; the thread then ends,
    and this process never leaves its own."""
    out: dict = {}

    def spawn() -> None:
        try:
            net = os.open(ns_path(ns), os.O_RDONLY)
            try:
                for step, failed in (("setns", lambda: _setns(net, CLONE_NEWNET)),
                                     ("unshare", lambda: _unshare(CLONE_NEWNS | CLONE_FS)),
                                     ("mount --make-rprivate /", lambda: _mount(None, b"/", None, MS_REC | MS_PRIVATE, None)),
                                     ("mount --bind", lambda: _mount(os.fsencode(run_dir), b"/run", None, MS_BIND, None))):
                    if failed():
                        err = ctypes.get_errno()
                        raise OSError(err, f"{step}: {os.strerror(err)}")
            finally:
                os.close(net)
            out["proc"] = subprocess.Popen(argv, **popen_kwargs)
        except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
            out["error"] = e

    thread = threading.Thread(target=spawn, name=f"spawn in {ns}")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["proc"]


def pids_in(namespaces: list[str]) -> list[int]:
    """The processes whose network namespace is one of `namespaces` (one pass over /proc)."""
    inodes = set()
    for ns in namespaces:
        with contextlib.suppress(OSError):
            inodes.add(f"net:[{os.stat(ns_path(ns)).st_ino}]")
    pids = []
    for entry in os.scandir("/proc") if inodes else ():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
                if os.readlink(f"/proc/{entry.name}/ns/net") in inodes:
                    pids.append(int(entry.name))
    return pids


def run(ns: str, argv: list[str], timeout: float | None = 60, input: str | None = None) -> subprocess.CompletedProcess:
    """argv run in `ns`, its output captured. This thread enters the namespace only to start it
    (a child is made in its parent thread's namespace), so no nsenter runs first: one exec fewer
    for every ping, nft load and command, 0.08 s each in the lab VM under emulation. Answers as
    nsenter did where it could not start: 1 for a namespace that is gone, 127 for no such program,
    126 for one that cannot be run."""
    try:
        with inside(ns):
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else None,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            except OSError as e:  # as a shell says it: 127 not found, 126 found but not runnable
                return subprocess.CompletedProcess(argv, 127 if e.errno == errno.ENOENT else 126, "",
                                                   f"{argv[0]}: {e.strerror}")
    except OSError as e:  # the namespace is gone, or its file is not one
        return subprocess.CompletedProcess(argv, 1, "", f"network namespace {ns}: {e.strerror}")
    with proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:  # a timeout, or Ctrl-C: the command does not outlive the call
            proc.kill()
            proc.wait()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@contextlib.contextmanager
def inside(ns: str):
    """This thread inside `ns` for the block (setns is per thread), then back where it was. A
    namespace that is gone raises FileNotFoundError and is never made again: pyroute2's pushns
    creates a missing one, so a probe racing `down` would leave an empty namespace behind."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        there = os.open(ns_path(ns), os.O_RDONLY)
        try:
            pnetns.setns(there)
        finally:
            os.close(there)
        try:
            yield
        finally:
            pnetns.setns(here)
    finally:
        os.close(here)


@contextlib.contextmanager
def iproute(ns: str):
    """pyroute2's IPRoute on `ns`, its socket opened by this thread inside it (a netlink socket
    stays in the namespace it was made in). pyroute2 0.9's NetNS forks a child process to open
    each socket: cheap on a host, but in the lab VM's agent under emulation a route read took 4.3 s
    on average (25 spokes), and cabling forked once per link. Never makes the namespace."""
    with inside(ns):
        ipr = IPRoute()
    with ipr:
        yield ipr


def write_sysctls(ns: str, sysctls: dict[str, str]) -> None:
    """Write /proc/sys keys (net/ipv4/ip_forward) as seen from `ns`: they are per namespace, and
    this thread enters it for the writes."""
    with inside(ns):
        for key, value in sysctls.items():
            (Path("/proc/sys") / key).write_text(value)
