"""`nhtb-lab soak`'s pure parts: durations as a user types them, and its verdict: nothing lost
means every ping answered and every TCP connection made and held, and a pair not measured is
never taken for one that lost nothing."""
from __future__ import annotations

import pytest

from harness.cli import main
from harness.errors import LabError
from harness.junos.ping import unanswered
from harness.verify.soak import SoakReport, VpnRekeys, parse_duration

from ..conftest import shared_oracle


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("10m", 600), ("1h", 3600), ("45", 45), ("1.5m", 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10 minutes", "0s", "-5m", "m"])
def test_a_duration_that_is_not_one_is_refused(text):
    with pytest.raises(LabError, match="is not a time"):
        parse_duration(text)


def report(pings, tcp) -> SoakReport:
    return SoakReport("lab", 60.0, 120, 20, [VpnRekeys("a <-> b", ipsec=6, ike=1)], pings, tcp, [], {})


HELD = {"connected": True, "broken": False, "exchanges": 290, "max_gap": 0.4, "stalls": 0}


def test_nothing_lost_is_ok_and_says_so():
    r = report({"pc1 -> pc2": (0, 300), "pc2 -> pc1": (0, 300)}, {"pc1 -> pc2": HELD})
    assert r.ok
    assert r.summary() == "soak: 6 IPsec rekeys, 1 IKE rekeys, 0 of 600 pings lost"


def test_a_lost_ping_a_broken_connection_or_an_unmeasured_pair_fails():
    assert not report({"pc1 -> pc2": (2, 300)}, {"pc1 -> pc2": HELD}).ok
    assert not report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD | {"broken": True}}).ok
    unmeasured = report({"pc1 -> pc2": (-1, 0)}, {"pc1 -> pc2": HELD})
    assert not unmeasured.ok and unmeasured.unmeasured == ["pc1 -> pc2"]
    assert not report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": {"connected": False, "error": "refused"}}).ok


def test_lifetimes_under_ten_seconds_are_refused_before_anything_runs(capsys):
    assert main(["soak", "--ipsec-lifetime", "5", "--name", "no-such-lab"]) == 1
    assert "--ipsec-lifetime must be at least 10 seconds" in capsys.readouterr().err


def test_a_soak_in_which_a_vpn_never_rekeyed_tested_nothing_of_it():
    r = report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD})
    r.rekeys.append(VpnRekeys("westford/corp-vpn <-> corporate/westford-vpn", ipsec=0, ike=0))
    assert not r.ok and r.not_rekeyed == ["westford/corp-vpn <-> corporate/westford-vpn"]
    r.not_soaked = ["westford"]  # a device end: its lifetimes are its own, its rekeys not counted
    assert r.ok


def test_the_last_line_names_broken_tcp_connections():
    r = report({"pc1 -> pc2": (0, 300)}, {"pc1 -> pc2": HELD | {"broken": True}, "pc1 -> pc3": HELD})
    assert r.summary().endswith("0 of 300 pings lost, 1 of 2 TCP connections broken")


# iputils ping here (`ping -c 4 -i 0.2`), its second reply removed and a duplicate of the third added.
LINUX_PING = """PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.205 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.040 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.041 ms (DUP!)
64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.039 ms

--- 127.0.0.1 ping statistics ---
4 packets transmitted, 3 received, +1 duplicates, 25% packet loss, time 606ms
"""


def test_which_pings_went_unanswered_counts_from_linuxs_first_probe():
    assert unanswered(LINUX_PING) == [1]  # the second probe sent (icmp_seq=2)
    assert unanswered(LINUX_PING.replace("icmp_seq=4", "icmp_seq=2")) == [3]
    assert unanswered("ping: connect: Network is unreachable\n") is None


def test_which_pings_went_unanswered_counts_from_junoss_first_probe():
    """The note's own `ping` on the hub (Junos numbers its probes from 0), with one reply taken out."""
    note = shared_oracle("reference/junos-multipoint-vpn-nhtb-app-note.txt").read_text()
    start = note.index("root@CORPORATE> ping 192.168.168.10 interface ge-0/0/0 count 5")
    block = note[start:note.index("round-trip", start)].replace("```", "")
    assert unanswered(block) == []
    assert unanswered(block.replace("64 bytes from 192.168.168.10: icmp_seq=2 ", "")) == [2]


def test_the_soak_says_when_pings_went_unanswered_and_when_new_sas_were_read(capsys):
    from harness.cli.soak import _listings
    from harness.cli.output import print_listing
    r = report({"pc1 -> pc2": (2, 300)}, {"pc1 -> pc2": HELD})
    r.lost_at, r.rekeyed_at = {"pc1 -> pc2": [16.2, 31.4, 31.6, 31.8, 40.0]}, {"a": [16.1, 32.0]}
    for listing in _listings(r):
        print_listing(listing, "text")
    assert "16.2 31.4-31.8 40" in capsys.readouterr().out  # consecutive probes as one span
    assert r.to_dict()["lost_at"] == {"pc1 -> pc2": [16.2, 31.4, 31.6, 31.8, 40.0]} and r.to_dict()["rekeyed_at"] == {"a": [16.1, 32.0]}


def test_pings_kept_running_say_which_probes_went_unanswered_and_when():
    """ping_during, as the soak runs it, with a driver that answers as iputils printed
    (LINUX_PING: the second of four probes unanswered): 0.2 s after the first probe."""
    from harness.drivers.base import PingResult
    from harness.model.topology import LanHost
    from harness.verify.traffic import ping_during

    class Pc:
        def ping(self, address, count):
            return PingResult(4, 3, LINUX_PING)

    lost_at: dict[str, list[float]] = {}
    threads, results = ping_during({"pc1": Pc()}, [(LanHost("a", "pc1", "10.0.0.1"), LanHost("b", "pc2", "127.0.0.1"))],
                                   0.8, lost_at)
    for t in threads:
        t.join(5)
    assert results == {"pc1 -> pc2": (1, 4)} and lost_at == {"pc1 -> pc2": [0.2]}
