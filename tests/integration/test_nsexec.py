"""nsexec.iproute: pyroute2 on a node's namespace without the child process pyroute2's NetNS
forks for every socket. Real namespaces of this kernel; no IPsec needed, so this runs on the host."""
from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

from harness.runtime import nsexec
from harness.runtime.netns import NetnsProvider


def names(ipr) -> set[str]:
    return {ln.get_attr("IFLA_IFNAME") for ln in ipr.get_links()}


def test_iproute_works_in_the_namespace_forks_nothing_and_never_makes_a_missing_one(monkeypatch):
    ns = f"nsx-{uuid.uuid4().hex[:6]}"
    pnetns.create(ns)
    here = os.stat("/proc/thread-self/ns/net").st_ino

    plain = pnetns.create_socket

    def forked(netns=None, *a, **kw):  # pyroute2 makes every socket here; with a netns, in a child
        if netns is not None:
            raise AssertionError("pyroute2 forked a child to open a socket in the namespace")
        return plain(None, *a, **kw)

    monkeypatch.setattr(pnetns, "create_socket", forked)  # what NetNS(ns) calls
    try:
        with nsexec.iproute(ns) as ipr:
            assert os.stat("/proc/thread-self/ns/net").st_ino == here  # the thread is back home
            ipr.link("add", ifname="nsx0", kind="veth", peer={"ifname": "nsx1"})
            assert {"lo", "nsx0", "nsx1"} <= names(ipr)
        with IPRoute() as root:
            assert not root.link_lookup(ifname="nsx0")  # made in the namespace, not here
        pnetns.remove(ns)
        with pytest.raises(FileNotFoundError):
            with nsexec.iproute(ns):
                pass
        assert ns not in pnetns.listnetns()
    finally:
        if ns in pnetns.listnetns():
            pnetns.remove(ns)


def mounts_on_run() -> list[str]:
    return [ln for ln in open("/proc/self/mountinfo") if ln.split()[4] == "/run"]


def test_a_daemon_gets_the_namespace_and_its_own_run_and_down_kills_it_though_no_state_names_it(tmp_path):
    """What charon.start relies on: the child runs in the node's namespace, sees its run directory
    as /run while this process (and this thread) stay in their own; and NetnsProvider.destroy kills what still
    runs in a lab namespace (a daemon whose pid was never written) before removing it."""
    ns = f"nsx-{uuid.uuid4().hex[:6]}"
    pnetns.create(ns)
    (tmp_path / "marker").write_text(ns)
    before, home = mounts_on_run(), os.readlink("/proc/thread-self/ns/net")
    proc = None
    try:
        proc = nsexec.popen_with_own_run(ns, tmp_path, ["sh", "-c", 'cat /run/marker; echo; readlink /proc/self/ns/net; exec sleep 60'],
                                         stdout=subprocess.PIPE, text=True, start_new_session=True)
        seen, net = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        assert seen == ns  # its /run is the run directory
        assert net == f"net:[{os.stat(nsexec.ns_path(ns)).st_ino}]"
        assert not os.path.exists("/run/marker") and mounts_on_run() == before  # ours is not
        assert os.readlink("/proc/thread-self/ns/net") == home
        deadline = time.monotonic() + 5  # its shell's cat and readlink may still be exiting
        while nsexec.pids_in([ns]) != [proc.pid] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert nsexec.pids_in([ns]) == [proc.pid]
        assert NetnsProvider().destroy("nsx", [ns]) == [ns]
        assert proc.poll() is not None or proc.wait(5) is not None  # killed, and reaped here
        assert ns not in pnetns.listnetns()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        if ns in pnetns.listnetns():
            pnetns.remove(ns)


def test_a_failed_namespace_step_is_an_error_in_the_parent(tmp_path):
    ns = f"nsx-{uuid.uuid4().hex[:6]}"
    pnetns.create(ns)
    try:
        with pytest.raises(OSError, match="mount --bind"):  # no such directory to bind on /run
            nsexec.popen_with_own_run(ns, tmp_path / "missing", ["true"])
    finally:
        pnetns.remove(ns)


def test_run_starts_the_command_in_the_namespace_and_answers_as_nsenter_did_where_it_cannot():
    ns = f"nsx-{uuid.uuid4().hex[:6]}"
    pnetns.create(ns)
    home = os.readlink("/proc/thread-self/ns/net")
    try:
        res = nsexec.run(ns, ["sh", "-c", "readlink /proc/self/ns/net; cat"], input="in\n")
        assert (res.returncode, res.stdout) == (0, f"net:[{os.stat(nsexec.ns_path(ns)).st_ino}]\nin\n")
        assert os.readlink("/proc/thread-self/ns/net") == home
        failed = nsexec.run(ns, ["sh", "-c", "echo no >&2; exit 3"])
        assert (failed.returncode, failed.stderr) == (3, "no\n")
        assert nsexec.run(ns, ["no-such-program-here"]).returncode == 127
        assert nsexec.run(ns, ["/etc"]).returncode == 126  # there, but not a program
        with pytest.raises(subprocess.TimeoutExpired):
            nsexec.run(ns, ["sleep", "30"], timeout=0.5)
        assert nsexec.pids_in([ns]) == []  # the timed-out one was killed
        assert os.readlink("/proc/thread-self/ns/net") == home
    finally:
        pnetns.remove(ns)
    assert nsexec.run(ns, ["true"]).returncode == 1  # gone
    assert ns not in pnetns.listnetns()  # and not made again


def test_a_daemons_own_mount_namespace_does_not_keep_other_namespaces_alive(tmp_path):
    """A daemon's private mount namespace starts as a copy of this one's mounts, the namespace
    files under /run/netns included, and a mounted namespace file keeps that namespace alive. Had
    the copies stayed, a lab's namespaces removed by `down` would live on (unnamed, their interfaces
    with them) as long as another lab's charon ran. They do not: `down` unlinks each namespace's
    file, and the kernel (3.18 on) then detaches the mounts on it in every mount namespace. A veth
    between two namespaces shows it: when one of them is gone, the kernel removes the pair. (Were
    the file only unmounted, the pair would stay: the test fails so.)"""
    other, mine = (f"nsx-{uuid.uuid4().hex[:6]}" for _ in range(2))
    pnetns.create(other)
    pnetns.create(mine)
    proc = None
    try:
        with nsexec.iproute(other) as ipr:
            ipr.link("add", ifname="nsxa", kind="veth", peer={"ifname": "nsxb", "net_ns_fd": nsexec.ns_path(mine)})
        proc = nsexec.popen_with_own_run(mine, tmp_path, ["sleep", "60"], start_new_session=True)
        assert NetnsProvider().destroy("nsx", [other]) == [other]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with nsexec.iproute(mine) as ipr:
                if not ipr.link_lookup(ifname="nsxb"):
                    break
            time.sleep(0.1)
        with nsexec.iproute(mine) as ipr:
            assert not ipr.link_lookup(ifname="nsxb"), "the removed namespace lives on in the daemon's mounts"
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        for ns in (other, mine):
            if ns in pnetns.listnetns():
                pnetns.remove(ns)
