"""Junos `vpn-monitor` from the configs to what the lab's supervisor probes: the source and
destination Junos picks (the external interface and the peer gateway unless configured), the
interval and threshold (defaults and ranges read from Juniper's YANG for SRX 24.4R1), errors at
their line, and the ledger (verify-path named as not emulated)."""
from __future__ import annotations

import re
import threading

import pytest

from harness.model.lab import load_lab
from harness.model.ledger import not_emulated
from harness.runtime.vpn_monitor import targets

from ..conftest import shared_oracle, yang_numbers
from .test_validate import edit, expect_error

YANG = "reference/junos-yang-24.4R1/conf/junos-es-conf-security@2024-01-01.yang"


def yang_monitor() -> dict[str, tuple[int, int, int]]:
    """leaf -> (default, low, high) of `security ipsec vpn-monitor-options`, from the YANG."""
    text = shared_oracle(YANG).read_text()
    block = text[text.index("grouping ipsec-vpn-monitor {"):]
    return yang_numbers(block)


def westford(lab_copy):
    return lab_copy.parents[1] / "lab" / "westford.junos"


def config_value(path, pattern: str) -> str:
    """A value as the config file writes it (the test's expectations come from the file)."""
    return re.search(pattern, path.read_text()).group(1)


def test_bare_vpn_monitor_probes_the_peer_gateway_from_the_external_interface(lab_copy):
    path = westford(lab_copy)
    edit(path, "vpn corp-vpn {", "vpn corp-vpn {\n            vpn-monitor;")
    yang = yang_monitor()
    [t] = targets(load_lab(lab_copy), ["westford"])
    external = config_value(path, r"ge-0/0/0 \{\s*unit 0 \{\s*family inet \{\s*address ([\d.]+)/")
    peer = config_value(path, r"gateway corp-gate \{[^}]*address ([\d.]+);")
    assert (t.node, t.vpn, t.source, t.destination, t.peer) == ("westford", "corp-vpn", external, peer, peer)
    assert (t.interval, t.threshold) == (yang["interval"][0], yang["threshold"][0])
    assert (t.optimized, t.immediately) == (False, False)
    assert not_emulated(load_lab(lab_copy)) == []


def test_source_interface_destination_and_options_are_what_is_probed(lab_copy):
    path = westford(lab_copy)
    edit(path, "vpn corp-vpn {", "vpn corp-vpn {\n            establish-tunnels immediately;\n"
         "            vpn-monitor { optimized; source-interface ge-0/0/3.0; destination-ip 10.10.10.10; }")
    edit(path, "    ipsec {", "    ipsec {\n        vpn-monitor-options { interval 2; threshold 3; }")
    [t] = targets(load_lab(lab_copy), ["westford"])
    lan = config_value(path, r"ge-0/0/3 \{\s*unit 0 \{\s*family inet \{\s*address ([\d.]+)/")
    assert (t.source, t.destination, t.interval, t.threshold, t.optimized, t.immediately) == \
        (lan, "10.10.10.10", 2, 3, True, True)
    assert targets(load_lab(lab_copy), ["corporate", "sunnyvale"]) == []  # only where it is configured


@pytest.mark.parametrize("leaf", ["interval", "threshold"])
def test_options_outside_junos_ranges_are_refused_at_their_line(lab_copy, leaf):
    _, lo, hi = yang_monitor()[leaf]
    path = westford(lab_copy)
    edit(path, "vpn corp-vpn {", "vpn corp-vpn {\n            vpn-monitor;")
    text = path.read_text()
    for bad in (lo - 1, hi + 1):
        line = edit(path, "    ipsec {", f"    ipsec {{ vpn-monitor-options {{ {leaf} {bad}; }}")
        expect_error(lab_copy, "westford.junos", line, f"vpn-monitor-options {leaf} '{bad}' is not a number from {lo} to {hi}")
        path.write_text(text)


def test_a_source_interface_without_an_address_is_refused_at_its_line(lab_copy):
    line = edit(westford(lab_copy), "vpn corp-vpn {", "vpn corp-vpn { vpn-monitor { source-interface ge-0/0/7.0; }")
    expect_error(lab_copy, "westford.junos", line, "vpn corp-vpn: vpn-monitor source-interface ge-0/0/7.0 has no address")


def test_verify_path_is_named_as_not_emulated(lab_copy):
    line = edit(westford(lab_copy), "vpn corp-vpn {", "vpn corp-vpn { vpn-monitor { verify-path; }")
    uncovered = not_emulated(load_lab(lab_copy))
    assert [u.split(": ", 1)[1] for u in uncovered] == ["security ipsec vpn corp-vpn vpn-monitor verify-path"]
    assert f"westford.junos:{line}: " in uncovered[0]


class FakeCharon:
    """What the monitor asks of a node's charon over vici: the VPN's CHILD SA (its packet
    counters), and the clear and the new negotiation it asks for."""

    def __init__(self, vpn: str):
        self.vpn, self.packets, self.installed, self.asked = vpn, (0, 0), True, []

    def list_sas(self, query):
        child = {"name": self.vpn, "state": "INSTALLED", "packets-in": str(self.packets[0]),
                 "packets-out": str(self.packets[1])}
        return [{self.vpn: {"child-sas": {f"{self.vpn}-1": child}}}] if self.installed else []

    def terminate(self, query):
        self.asked.append(("terminate", query["child"]))
        return iter(())

    def initiate(self, query):
        self.asked.append(("initiate", query["child"]))
        return iter(())


@pytest.fixture
def watched(tmp_path, monkeypatch):
    """A monitored VPN (threshold 3, immediately) whose probes the test answers, or not."""
    from types import SimpleNamespace

    from harness.runtime import paths, vpn_monitor

    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    fake = FakeCharon("corp-vpn")
    node = SimpleNamespace(charon_pid=1, ns="x-westford")
    monkeypatch.setattr(vpn_monitor.lab_state, "read", lambda name: SimpleNamespace(nodes={"westford": node}))
    monkeypatch.setattr(vpn_monitor.charon, "session", lambda *a: fake)
    answers: list[bool] = []
    probes = []

    def answered(ns, t):
        probes.append((ns, t.source, t.destination))
        return answers.pop(0)

    monkeypatch.setattr(vpn_monitor, "_answered", answered)

    def watch(optimized=False):
        t = vpn_monitor.Target("westford", "corp-vpn", "192.168.178.1", "10.10.10.10", 2, 3, optimized, True, "1.1.1.2")
        return vpn_monitor._Watch(t)

    return SimpleNamespace(fake=fake, answers=answers, probes=probes, watch=watch, check=vpn_monitor._check)


def test_threshold_unanswered_probes_clear_the_sa_and_negotiate_again(watched):
    w, log = watched.watch(), []
    assert w.mon == "-"  # not judged before a probe
    watched.answers += [True, False, False]
    watched.check("lab1", w, log.append)
    assert (w.mon, watched.fake.asked) == ("U", [])
    watched.check("lab1", w, log.append)
    watched.check("lab1", w, log.append)
    assert (w.mon, w.failures, watched.fake.asked) == ("U", 2, [])  # two of three: not yet
    watched.answers += [False]
    watched.check("lab1", w, log.append)
    assert w.mon == "D" and watched.fake.asked == [("terminate", "corp-vpn"), ("initiate", "corp-vpn")]
    assert any("IKE_VPN_DOWN_ALARM_USER: VPN corp-vpn from 1.1.1.2 is down" in line
               and "Reason: IPSEC SA VPN Monitor Failure" in line for line in log), log
    watched.answers += [True]
    watched.check("lab1", w, log.append)
    assert w.mon == "U" and "IKE_VPN_UP_ALARM_USER: VPN corp-vpn from 1.1.1.2 is up" in log[-1]
    assert set(watched.probes) == {("x-westford", "192.168.178.1", "10.10.10.10")}


def test_optimized_probes_only_while_traffic_goes_out_and_none_comes_in(watched):
    w, log = watched.watch(optimized=True), []
    fake = watched.fake
    watched.check("lab1", w, log.append)  # a first look: counters noted, no probe
    fake.packets = (5, 5)
    watched.check("lab1", w, log.append)  # traffic came in: alive, no probe
    assert (w.mon, watched.probes) == ("U", [])
    watched.check("lab1", w, log.append)  # idle: no probe either
    assert watched.probes == []
    fake.packets = (5, 9)  # out, nothing in: probe
    watched.answers += [False]
    watched.check("lab1", w, log.append)
    assert len(watched.probes) == 1 and w.failures == 1


def test_no_clear_while_another_command_changes_the_lab(watched):
    from harness.runtime.local import lab_lock

    w, log = watched.watch(), []
    watched.answers += [False, False, False]
    held, release = threading.Event(), threading.Event()

    def hold():
        with lab_lock("lab1"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(5)
        for _ in range(3):
            watched.check("lab1", w, log.append)
        assert watched.fake.asked == [] and "the lab is being changed" in log[-1]
    finally:
        release.set()
        t.join()
    watched.answers += [False]
    watched.check("lab1", w, log.append)
    assert watched.fake.asked[0] == ("terminate", "corp-vpn")
