"""The in-process TCP probes (runtime/tcp.py) on real namespaces of this kernel: a handshake, and
connections held open that notice when the path breaks. Two namespaces cabled with a veth pair;
no IPsec needed, so this runs on the host directly."""
from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from pyroute2 import NetNS
from pyroute2 import netns as pnetns

from harness.runtime import probes, tcp


@pytest.fixture
def two_hosts():
    tag = uuid.uuid4().hex[:6]
    a, b = f"tcpt-a-{tag}", f"tcpt-b-{tag}"
    pnetns.create(a)
    pnetns.create(b)
    try:
        with NetNS(a) as ipr:
            ipr.link("add", ifname="va", kind="veth", peer={"ifname": "vb", "net_ns_fd": b})
            for ns, ifname, addr in ((a, "va", "10.99.0.1"), (b, "vb", "10.99.0.2")):
                with NetNS(ns) as n:
                    idx = n.link_lookup(ifname=ifname)[0]
                    n.addr("add", index=idx, address=addr, prefixlen=24)
                    n.link("set", index=idx, state="up")
                    n.link("set", index=n.link_lookup(ifname="lo")[0], state="up")
        yield a, b
    finally:
        for ns in (a, b):
            if ns in pnetns.listnetns():
                pnetns.remove(ns)


def test_a_handshake_and_a_refused_port(two_hosts):
    a, b = two_hosts
    assert tcp.handshake(a, b, "10.99.0.2", 5002)["connected"]
    refused = tcp.handshake(a, b, "10.99.0.3", 5002, timeout=1)  # nobody holds that address
    assert not refused["connected"] and refused["error"]


def test_held_connections_to_one_host_and_a_break(two_hosts):
    a, b = two_hosts
    pairs = [(a, b, "10.99.0.2"), (b, b, "127.0.0.1")]  # two pairs towards the same host
    held = tcp.hold(pairs, 5003, seconds=1.5)
    assert all(r["connected"] and not r["broken"] and r["exchanges"] >= 5 for r in held.values()), held

    def cut():
        time.sleep(1.0)
        with NetNS(a) as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="va")[0], state="down")

    threading.Thread(target=cut, daemon=True).start()
    held = tcp.hold([(a, b, "10.99.0.2")], 5003, seconds=4, connect_timeout=2)
    r = held[f"{a} -> 10.99.0.2"]
    assert r["connected"] and (r["broken"] or r["max_gap"] > 1.0), r


def test_the_mss_a_syn_carries_on_arrival(two_hosts):
    """syn_mss's client is a socket this process makes inside the source namespace; tcpdump in
    the destination sees the SYN: over a 1500-byte veth the kernel announces 1500 - 40 = 1460."""
    a, b = two_hosts
    got = probes.syn_mss(a, b, "vb", "10.99.0.2", 5001, timeout=20)
    assert got["mss"] == 1460, got["capture"]
    with NetNS(a) as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="va")[0], mtu=1400)
    assert probes.syn_mss(a, b, "vb", "10.99.0.2", 5002, timeout=20)["mss"] == 1360


def test_a_namespace_that_is_gone_is_not_made_again_and_the_thread_comes_back(two_hosts):
    """A probe racing `down` must fail, not leave an empty namespace of the lab's name behind
    (pyroute2's pushns creates a missing one); and the calling thread is back in its own
    namespace after a probe."""
    a, _ = two_hosts
    here = os.stat("/proc/thread-self/ns/net").st_ino
    tcp.client_socket(a).close()
    assert os.stat("/proc/thread-self/ns/net").st_ino == here
    pnetns.remove(a)
    with pytest.raises(FileNotFoundError):
        tcp.client_socket(a)
    assert a not in pnetns.listnetns()
    assert os.stat("/proc/thread-self/ns/net").st_ino == here


def test_the_binder_and_the_management_daemon_never_make_a_namespace_that_is_gone(two_hosts, tmp_path):
    """The hub's binder and the management daemon, started (or restarted by the supervisor) as
    `down` removes their node's namespace, fail; they never leave an empty namespace behind."""
    from harness.drivers import mgmtd
    from harness.runtime.binder import Binder

    a, _ = two_hosts
    pnetns.remove(a)
    spec = tmp_path / "binding.json"
    spec.write_text("[]")
    with pytest.raises(FileNotFoundError):
        Binder(a, spec, str(tmp_path / "charon.vici"), tmp_path / "nhtb.json")
    assert a not in pnetns.listnetns()
    with pytest.raises(FileNotFoundError):
        mgmtd.listen_in(a, "10.99.0.1", 2222)
    assert a not in pnetns.listnetns()


def test_a_flow_trace_starts_the_traffic_only_once_the_monitor_listens(two_hosts, monkeypatch):
    """`nft monitor` takes a process start to subscribe (seconds under emulation, and more under
    load). The traffic must wait for it: every echo request of the ping is traced, the first one
    included (a trace that missed it showed the second, accepted as an established flow)."""
    from harness.render.nftables import trace_table
    from harness.runtime import nsexec

    a, b = two_hosts
    plain = nsexec.in_ns

    def slow_monitor(ns, argv):  # a monitor that takes 1.5 s to start, as under load
        if "monitor" in argv:
            return plain(ns, ["sh", "-c", 'sleep 1.5; exec "$@"', "sh", *argv])
        return plain(ns, argv)

    monkeypatch.setattr(nsexec, "in_ns", slow_monitor)
    table = trace_table(None, [{"protocol": "icmp", "destination-prefix": "10.99.0.2/32"}])
    ping = lambda: nsexec.run(a, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "10.99.0.2"])  # noqa: E731
    lines, result = probes.flow_trace(a, table, 2, ping)
    assert result.returncode == 0, result.stdout
    requests = {ln.split()[2] for ln in lines if ln.startswith("trace id") and "icmp type echo-request" in ln}
    assert len(requests) == 3, "\n".join(lines)
    assert "nhtb_trace" not in nsexec.run(a, ["nft", "list", "tables"]).stdout
