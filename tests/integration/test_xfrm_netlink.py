"""harness/runtime/xfrm.py against the kernel of this machine: policies need XFRM but no ESP, so
this runs on the host in a scratch namespace, iproute2 as the independent reader and writer."""
from __future__ import annotations

import os
import subprocess
from ipaddress import IPv4Address, IPv4Network

import pytest
from pyroute2 import netns as pnetns

from harness.runtime.xfrm import Policy, xfrm


@pytest.fixture
def scratch_ns():
    ns = f"nhtb-xfrm-test-{os.getpid()}"
    pnetns.create(ns)
    yield ns
    pnetns.remove(ns)


def ip(ns: str, *args: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, "ip", *args], capture_output=True, text=True, check=True).stdout


def policy(prefix: str, direction: str, reqid: int = 7, if_id: int = 3) -> Policy:
    local, remote = IPv4Address("192.0.2.1"), IPv4Address("198.51.100.1")
    p = IPv4Network(prefix)
    any_ = IPv4Network("0.0.0.0/0")
    src, dst, ts, td = (any_, p, local, remote) if direction == "out" else (p, any_, remote, local)
    return Policy(src, dst, direction, if_id, reqid, ts, td, 1000 - p.prefixlen)


def test_update_is_idempotent_and_iproute2_sees_it(scratch_ns):
    with xfrm(scratch_ns) as x:
        p = policy("203.0.113.0/24", "out")
        x.update_policy(p)
        x.update_policy(p)
        assert x.policies() == [p]
    shown = ip(scratch_ns, "xfrm", "policy")
    assert "dst 203.0.113.0/24" in shown and "dir out priority 976" in shown
    assert "reqid 7 mode tunnel" in shown and "if_id 0x3" in shown
    assert shown.count("dir out") == 1


def test_policies_iproute2_installed_are_read_back(scratch_ns):
    ip(scratch_ns, "xfrm", "policy", "add", "src", "10.0.0.0/8", "dst", "172.16.0.0/12", "dir", "fwd", "priority", "77",
       "if_id", "9", "tmpl", "src", "198.51.100.1", "dst", "192.0.2.1", "proto", "esp", "reqid", "891", "mode", "tunnel")
    with xfrm(scratch_ns) as x:
        (got,) = x.policies()
    assert got == Policy(IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"), "fwd", 9, 891,
                         IPv4Address("198.51.100.1"), IPv4Address("192.0.2.1"), 77)


def test_delete_and_no_expiry(scratch_ns):
    with xfrm(scratch_ns) as x:
        keep, drop = policy("203.0.113.0/24", "in"), policy("198.18.0.0/15", "in")
        x.update_policy(keep)
        x.update_policy(drop)
        x.delete_policy(drop)
        x.delete_policy(drop)  # deleting what is gone is not an error
        assert x.policies() == [keep]
    # No time limit (0), as iproute2 writes it: INF seconds made the 6.1 kernel expire policies at once.
    lifetimes = ip(scratch_ns, "-s", "xfrm", "policy")
    assert "expire add: soft 0(sec), hard 0(sec)" in lifetimes, lifetimes
