"""A rehearsal's snapshot probes its pairs of LAN hosts several at a time: each answer must land on
its own pair, and concurrent TCP handshakes to one host must each have a port of their own."""
from __future__ import annotations

import threading
import time

from harness.drivers.base import PingResult
from harness.model.lab import load_lab
from harness.model.topology import lan_host_pairs
from harness.verify.rehearse import snapshot

from ..conftest import THREE_SITE


def test_a_snapshot_probes_pairs_at_once_on_ports_of_their_own_and_files_each_answer_under_its_pair():
    lab = load_lab(THREE_SITE)
    pairs = [(a.host, b.host) for a, b in lan_host_pairs(lab)]
    addresses = {lab.host_address(h): h for pair in pairs for h in pair}
    no_ping, no_tcp = pairs[0], pairs[-1]  # the first answers last; the last is refused
    ports: list[int] = []
    running, most = [0], [0]
    lock = threading.Lock()

    class Site:
        def ike_sas(self):
            return []

        ipsec_sas = next_hop_tunnels = ike_sas

        def routes(self, addrs):
            return {a: None for a in addrs}

    class Host:
        def __init__(self, name):
            self.name = name

        def ping(self, address, count=5, source=None, size=None, df=False):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.3 if (self.name, addresses[address]) == no_ping else 0.1)
            with lock:
                running[0] -= 1
            return PingResult(count, 0 if (self.name, addresses[address]) == no_ping else count)

        def tcp_open(self, to_node, address, port=5002):
            with lock:
                ports.append(port)
            return (self.name, to_node) != no_tcp

    drivers = {s: Site() for s in lab.sites} | {h: Host(h) for pair in pairs for h in pair}
    snap = snapshot(lab, drivers)
    assert snap.reach == {f"{a} -> {b}": (a, b) != no_ping for a, b in pairs}
    assert snap.tcp == {f"{a} -> {b}": (a, b) != no_tcp for a, b in pairs}
    assert len(set(ports)) == len(pairs) == len(ports)
    assert most[0] > 1  # several at a time
    assert set(snap.routes) == set(lab.sites) and all(v == "no route" for r in snap.routes.values() for v in r.values())
