"""nsexec.iproute: pyroute2 on a node's namespace without the child process pyroute2's NetNS
forks for every socket. Real namespaces of this kernel; no IPsec needed, so this runs on the host."""
from __future__ import annotations

import os
import uuid

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

from harness.runtime import nsexec


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
