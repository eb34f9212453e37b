"""The verification's checks judge what a node answers: a statistics check fails when the SA it
names does not exist or carried nothing, and the NHTB expectation read from the configs is the
table the note prints."""
from __future__ import annotations

from dataclasses import replace

from harness.drivers.base import NodeDriver
from harness.junos import nhtb
from harness.junos.records import IpsecStats
from harness.model.lab import load_lab
from harness.model.topology import ends
from harness.verify import checks

from ..conftest import FIXTURES, THREE_SITE
from .test_junos_xml_and_cli import IPSEC

LAB = load_lab(THREE_SITE)


class Answers:
    """A node's answers as records (the checks' input), fixed for the test."""

    node = "westford"

    def __init__(self, sas, stats: IpsecStats | None = None):
        self.sas, self.stats = sas, stats

    def ipsec_sas(self):
        return self.sas

    def ipsec_stats(self, index):
        assert self.stats is not None and index == self.stats.index, f"asked for index {index}"
        return self.stats

    ipsec_stats_of = NodeDriver.ipsec_stats_of  # asked per index, as a device is


def westford_sa():
    (end,) = ends(LAB.sites["westford"])
    return replace(IPSEC, name=end.vpn.name, index=131073)  # a device's own index, not the stand-in's


def test_statistics_fail_when_the_vpn_has_no_sa():
    (r,) = checks.sa_errors(LAB, Answers([]))
    assert not r.ok and r.seen == "no IPsec SA for this VPN"


def test_statistics_fail_when_nothing_was_counted():
    (r,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 0, 0, 0, 0)))
    assert not r.ok and "0 packets encrypted" in r.seen


def test_statistics_fail_on_an_error_counter_and_pass_without():
    (bad,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 920, 6208, 5, 87, replay_errors=2)))
    assert not bad.ok and "replay_errors=2" in bad.seen
    (good,) = checks.sa_errors(LAB, Answers([westford_sa()], IpsecStats(131073, 920, 6208, 5, 87)))
    assert good.ok and "index 131073" in good.seen


def test_the_expected_bindings_are_the_notes_table():
    note = nhtb.parse_text((FIXTURES / "junos_outputs" / "next_hop_tunnels.txt").read_text())
    assert checks.expected_bindings(LAB, LAB.hub().name) == set(nhtb.rows(note))
    assert checks.expected_bindings(LAB, "westford") == set()


def test_the_stand_ins_statistics_of_every_sa_come_from_one_read_of_the_node():
    """A hub with N SAs: its statistics check asks the runtime for the node's states and counters
    once, not twice per SA (the runtime's answers are fixed data here; test_verification.py reads
    a live kernel's); each SA's figures are its own states' (outbound: from the node's own address)."""
    from harness.drivers.linux import LinuxDriver

    hub = LAB.hub()
    own = str(hub.public_address())

    class Kernel:
        reads = 0

        def xfrm_states(self, lab, node):
            self.reads += 1
            return [{"reqid": 7, "src": own, "bytes": 100, "packets": 2, "replay_errors": 0, "integrity_failed": 0},
                    {"reqid": 7, "src": "3.3.3.2", "bytes": 50, "packets": 1, "replay_errors": 1, "integrity_failed": 0},
                    {"reqid": 9, "src": own, "bytes": 10, "packets": 5, "replay_errors": 0, "integrity_failed": 3}]

        def xfrm_netns_stats(self, lab, node):
            self.reads += 1
            return {"XfrmInHdrError": 4}

    kernel = Kernel()
    got = LinuxDriver(kernel, LAB.name, hub.name, LAB).ipsec_stats_of([7, 9])
    assert kernel.reads == 2
    assert (got[7].encrypted_packets, got[7].decrypted_packets, got[7].replay_errors) == (2, 1, 1)
    assert (got[9].encrypted_packets, got[9].decrypted_packets, got[9].esp_authentication_failures) == (5, 0, 3)
    assert got[7].bad_headers == got[9].bad_headers == 4


def test_an_ike_sas_remaining_lifetime_is_at_most_what_is_left_of_the_configured_one():
    """The end that leaves an IKEv1 reauthentication to its peer has charon's own scheduled past the
    lifetime (render.strongswan.ike_rekey); what it shows as left is the configured lifetime less the
    SA's age, as Junos shows it. The runtime's answers are fixed data here."""
    from harness.drivers.linux import LinuxDriver

    hub = LAB.hub()
    vpn = next(iter(hub.vpns.values()))
    lifetime = min(p.lifetime for p in hub.ike_policies[hub.gateways[vpn.gateway].ike_policy].proposals)

    class Charon:
        def __init__(self, reauth, established):
            self.ike = {"uniqueid": "1", "remote-host": "2.2.2.2", "state": "ESTABLISHED", "local-host": "1.1.1.2",
                        "local-port": "500", "remote-port": "500", "version": "1", "reauth-time": str(reauth),
                        "established": str(established)}

        def sas(self, lab, node):
            return [{vpn.name: self.ike}]

    def remaining(reauth, established):
        (sa,) = LinuxDriver(Charon(reauth, established), LAB.name, hub.name, LAB).ike_sas()
        return sa.lifetime_remaining

    assert remaining(lifetime * 12 // 10 - 100, 100) == lifetime - 100  # the backstop end
    assert remaining(lifetime * 9 // 10, 100) == lifetime * 9 // 10  # the end that reauthenticates


def test_a_node_whose_counters_cannot_be_read_fails_its_statistics_checks_saying_why():
    """Its SAs listed, its counters not read (the node stopped answering): a failed check per VPN
    that says so, not an exception that ends every node's statistics checks."""

    class Silent(Answers):
        def ipsec_stats(self, index):
            raise OSError("connection reset")

    (r,) = checks.sa_errors(LAB, Silent([westford_sa()]))
    assert not r.ok and "no answer (connection reset)" in r.seen
