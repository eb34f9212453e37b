"""The troubleshooting layer's pure parts: charon logs read as kmd (on logs captured from the lab
with each fault applied), nftables traces read as flow traceoptions, and packet filters."""
from __future__ import annotations

import subprocess

import pytest

from harness.drivers import nft_trace
from harness.errors import ConfigError
from harness.model.faults import load_faults
from harness.render.nftables import TRACE_TABLE, trace_table
from harness.junos import kmd

from ..conftest import LAB, REPO

LOGS = REPO / "tests" / "fixtures" / "charon_logs"
FAULTS = load_faults(LAB / "faults.yml")


def kmd_of(name: str) -> str:
    return kmd.kmd((LOGS / name).read_text())


@pytest.mark.parametrize("fault,log", [
    ("phase1-proposal-mismatch", "phase1-proposal-mismatch.corporate.log"),
    ("psk-mismatch", "psk-mismatch.corporate.log"),
    ("wrong-external-interface", "wrong-external-interface.corporate.log"),
    ("phase2-proposal-mismatch", "phase2-proposal-mismatch.corporate.log"),
])
def test_a_captured_fault_log_reads_as_the_note_kmd_excerpt(fault, log):
    assert FAULTS[fault].kmd in kmd_of(log)


def test_phase_1_failures_name_role_and_peer_as_the_note_does():
    text = kmd_of("phase1-proposal-mismatch.corporate.log")
    assert ("Phase-1 [responder] failed with error(No proposal chosen) for local=unknown(any:0,[0..0]=) "
            "remote=ipv4(any:0,[0..3]=3.3.3.2)") in text
    # The other spoke, unaffected, completes both phases in the same log.
    assert "Phase-1 [responder] done for local=ipv4(udp:500,[0..3]=1.1.1.2) remote=ipv4(udp:500,[0..3]=2.2.2.2)" in text
    assert ("Phase-2 [responder] done for p1_local=ipv4(udp:500,[0..3]=1.1.1.2) p1_remote=ipv4(udp:500,[0..3]=2.2.2.2) "
            "p2_local=ipv4_subnet(any:0,[0..7]=0.0.0.0/0) p2_remote=ipv4_subnet(any:0,[0..7]=0.0.0.0/0)") in text


def test_a_retransmitted_failure_is_one_event():
    events = kmd.parse((LOGS / "psk-mismatch.corporate.log").read_text())
    failed = [e for e in events if e.kind == "p1-failed"]
    assert len(failed) == 1 and failed[0].error == kmd.INVALID_PAYLOAD and failed[0].remote == "3.3.3.2"


def test_the_initiator_side_of_a_phase_2_failure():
    events = kmd.parse((LOGS / "phase2-proposal-mismatch.westford.log").read_text())
    assert [(e.kind, e.role) for e in events][:2] == [("p1-done", "initiator"), ("p2-failed", "initiator")]


def test_a_proxy_id_refusal_replaces_strongswans_narrowed_phase_2():
    text = (LOGS / "phase2-proposal-mismatch.corporate.log").read_text()
    narrowed = ("Nov 27 09:00:00 06[IKE] <sunnyvale-vpn|7> CHILD_SA sunnyvale-vpn{9} established with SPIs "
                "c1_i c2_o and TS 10.10.20.0/24 === 192.168.168.0/24\n"
                "Nov 27 09:00:00 00[KMD] <sunnyvale-vpn|7> proxy IDs do not match the configured ones: received "
                "local=10.10.20.0/24 remote=192.168.168.0/24, configured local=0.0.0.0/0 remote=0.0.0.0/0, "
                "peer 2.2.2.2: CHILD_SA deleted\n")
    events = kmd.parse(text + narrowed)
    assert not any(e.kind == "p2-done" and e.p2_local == "10.10.20.0/24" for e in events)
    assert FAULTS["proxy-id-mismatch"].kmd in kmd.kmd(text + narrowed)


def test_unknown_lines_are_skipped_not_guessed():
    assert kmd.parse("not a charon line\n\nNov 27 09:00:00 05[CFG] vici client 2 registered\n") == []


def test_a_flow_trace_names_the_policy_that_decided():
    packets = nft_trace.parse((REPO / "tests" / "fixtures" / "nft_trace_hairpin.txt").read_text().splitlines())
    first = packets[0]
    assert (first.src, first.dst, first.protocol) == ("192.168.178.10", "192.168.168.10", "icmp")
    assert (first.iif, first.oif, first.verdict, first.chain) == ("st0.0", "st0.0", "accept", "from_vpn_to_vpn")
    assert first.rule.startswith("policy spoke-to-spoke (")  # the policy's name and file:line
    # The reply belongs to the same connection: traced too, and let through by conntrack.
    assert any(p.src == "192.168.168.10" and p.verdict == "accept" for p in packets[1:])


def test_a_default_deny_is_reported_as_such():
    lines = ['trace id 1 inet nhtb forward packet: iif "st0.0" oif "st0.0" ip saddr 1.0.0.1 ip daddr 1.0.0.2 ip protocol icmp ',
             'trace id 1 inet nhtb forward rule counter packets 1 bytes 84 drop comment "default policy: deny" (verdict drop)']
    (p,) = nft_trace.parse(lines)
    assert p.verdict == "drop" and p.rule == "default policy: deny"
    assert "dropped by default policy: deny" in p.summary()


def test_packet_filters_and_or_and_replies():
    text = trace_table(None, [{"source-prefix": "10.0.0.0/24", "protocol": "tcp", "destination-port": "80"},
                              {"destination-prefix": "10.9.9.9/32"}])
    rules = [ln for ln in text.splitlines() if "nftrace" in ln]
    assert len(rules) == 4  # two filters (OR), in the prerouting and output chains
    assert "ct original ip saddr 10.0.0.0/24 meta l4proto tcp ct original proto-dst 80" in rules[0]  # AND, replies too
    res = subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"], input=text, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"table inet {TRACE_TABLE}" in text


@pytest.mark.parametrize("bad", [{"source-port": "80"}, {"protocol": "tcp", "destination-port": "x"},
                                 {"protocol": "gre"}, {"src": "1.2.3.4"}])
def test_bad_packet_filters_are_refused(bad):
    with pytest.raises(ConfigError):
        trace_table(None, [bad])


def test_a_layer_a_driver_cannot_look_at_is_not_checked_not_healthy():
    """A vSRX driver cannot initiate a VPN or trace flows: diagnose says which layers it could not
    check instead of crashing, and its verdict names them."""
    from harness.drivers.base import NotOffered
    from harness.model.lab import load_lab
    from harness.verify.diagnose import Walk

    from ..conftest import THREE_SITE

    lab = load_lab(THREE_SITE)
    walk = Walk(lab, {}, None)

    def refuse():
        raise NotOffered("corporate: initiating: a Junos device starts a VPN on traffic")

    def fine():
        return None

    for layer in ("link", "ike_peer", "phase2", "nhtb", "policy", "traffic"):
        setattr(walk, layer, fine)
    walk.phase1 = refuse
    d = walk.run()
    assert d.healthy and "not checked: phase 1" in d.summary
    (step,) = [s for s in d.steps if not s.checked]
    assert step.layer == "phase 1" and "starts a VPN on traffic" in step.what


def test_a_dpd_timeout_reads_as_the_vpn_going_down_and_says_why():
    # charon's words (its IKEv1 DPD timeout job logs "DPD check timed out, enforcing DPD action"),
    # in the log layout the live DPD test reads from the hub.
    text = ("Nov 29 02:27:04 09[IKE] <westford-vpn|2> sending DPD request\n"
            "Nov 29 02:27:10 13[JOB] <westford-vpn|2> DPD check timed out, enforcing DPD action\n")
    events = kmd.parse(text)
    assert [(e.kind, e.vpn, e.error) for e in events] == [("vpn-down", "westford-vpn", kmd.DPD_DEAD)]
    assert "KMD_VPN_DOWN_ALARM_USER: VPN westford-vpn" in kmd.kmd(text) and kmd.DPD_DEAD in kmd.kmd(text)


def test_the_traffic_layer_probes_pairs_at_once_each_on_its_own_port_and_explains_the_first():
    """The SYN probes run several at a time; two captures on one destination host must not count
    each other's SYNs (each pair its own port), and the pair reported is the first that failed in
    the walk's order, not the first to answer."""
    import threading
    import time

    from harness.drivers.base import PingResult
    from harness.model.lab import load_lab
    from harness.model.topology import lan_host_pairs
    from harness.verify.diagnose import Walk

    from ..conftest import THREE_SITE

    lab = load_lab(THREE_SITE)
    pairs = [(a.host, b.host) for a, b in lan_host_pairs(lab)]
    bad = {pairs[1], pairs[-1]}  # two unclamped pairs; the later one answers first
    seen: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    class Host:
        def __init__(self, name):
            self.name = name

        def syn_mss(self, to_node, address, port=5001):
            with lock:
                seen.append((self.name, to_node, port))
            time.sleep(0.2 if (self.name, to_node) == pairs[1] else 0)
            return 1460 if (self.name, to_node) in bad else 1350

        def ping(self, address, count=1, size=None, df=False, source=None):
            return PingResult(1, 0, "ping: local error: message too long, mtu=1438")

    walk = Walk(lab, {h: Host(h) for pair in pairs for h in pair}, None)
    cause = walk.traffic()
    assert sorted((a, b) for a, b, _ in seen) == sorted(pairs)
    assert len({port for *_, port in seen}) == len(pairs)
    assert cause is not None and cause.name == "missing-tcp-mss"
    assert cause.summary.startswith(f"{pairs[1][0]} -> {pairs[1][1]}:"), cause.summary


def test_the_link_layer_pings_every_sites_internet_next_hop_and_names_the_one_that_is_silent():
    """Each site's default route's next hop (lab/*.junos, *.screenos) is pinged, several at a
    time; a silent one is the cause, named with its site, even when others answer."""
    import ipaddress

    from harness.drivers.base import PingResult
    from harness.model.lab import load_lab
    from harness.verify.diagnose import Walk

    from ..conftest import THREE_SITE

    lab = load_lab(THREE_SITE)
    default = ipaddress.ip_network("0.0.0.0/0")
    hops = {s.name: str(next(r.next_hop for r in s.routes if r.prefix == default)) for s in lab.sites.values()}
    asked = []

    class Site:
        def __init__(self, name, silent):
            self.name, self.silent = name, silent

        def ping(self, address, count=1, source=None, size=None, df=False):
            asked.append((self.name, address))
            return PingResult(count, 0 if self.silent else count, f"{count} packets transmitted")

    healthy = Walk(lab, {n: Site(n, False) for n in lab.sites}, None)
    assert healthy.link() is None and sorted(asked) == sorted(hops.items())
    silent = "westford"
    cause = Walk(lab, {n: Site(n, n == silent) for n in lab.sites}, None).link()
    assert (cause.name, cause.node) == ("link-down", silent) and hops[silent] in cause.summary


def test_an_ikev2_peer_that_never_answers_the_liveness_check_is_dpd_dead():
    """Captured on the hub of the live lab with `version v2-only` and `dead-peer-detection
    { interval 2; threshold 5; }`, Westford's link cut: IKEv2 has no DPD timeout, charon gives up
    retransmitting its empty INFORMATIONAL. That is the VPN down for DPD, once, when charon gives up."""
    text = (LOGS / "ikev2-dpd-dead.corporate.log").read_text()
    downs = [e for e in kmd.parse(text) if e.kind == "vpn-down"]
    assert [(e.vpn, e.error, e.time) for e in downs] == [("westford-vpn", kmd.DPD_DEAD, "Nov 30 02:56:27")]
    assert "giving up after 4 retransmits" in downs[0].evidence[-1]
    # The same give-up after a request that was not a liveness check (a rekey) is not DPD.
    rekey = text.replace("generating INFORMATIONAL request 0 [ ]", "generating CREATE_CHILD_SA request 0 [ SA No TSi TSr ]")
    assert not [e for e in kmd.parse(rekey) if e.kind == "vpn-down"]
