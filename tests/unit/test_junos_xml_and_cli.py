"""harness/junos/: every command in both formats the stand-ins print (text and `| display xml`,
and `| display json`) reads back to the same records; the CLI's command grammar; the SSH driver's
text fallback on the note's own outputs."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.drivers.junos_ssh import JunosSshDriver
from harness.junos import cli as junos_cli
from harness.junos import ike, ipsec, nhtb, ping, route, stats
from harness.junos.records import IkeSA, IpsecSA, IpsecStats, NhtbEntry, Route, RouteAnswer
from harness.junos.textreply import UnknownField
from harness.model.lab import load_lab
from harness.model.mgmt import DEFAULT_SUBNET, mgmt_plan

from ..conftest import FIXTURES, THREE_SITE

IKE = IkeSA(6, "westford-vpn", "3.3.3.2", "UP", "94906ae2263bbd8e", "1c35e4c3fc54d6d3", "Main", "Responder",
            "1.1.1.2", 500, 500, 3571, "sha1", "3des-cbc", "hmac-sha1", "group2", 1128, 988, 6, 5, 1, 0)
IKE2 = IkeSA(7, "sunnyvale-vpn", "2.2.2.2", "UP", "7e7a1c0367dfe73c", "f284221c656a5fbc", "Main", "Initiator",
             "1.1.1.2", 500, 4500, None, "sha1", "aes-128-cbc", "hmac-sha1", "group2", 0, 0, 0, 0, 2, 1)
IPSEC = IpsecSA(16384, "sunnyvale-vpn", "1.1.1.2", "2.2.2.2", 500, "ESP", "3des-cbc", "hmac-sha1-96", "b2fc36f8",
                "5d73929e", 3564, "unlim", "-", 0, "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "group2", "installed", 32, 2971)
IPSEC2 = IpsecSA(16385, "westford-vpn", "1.1.1.2", "3.3.3.2", 500, "ESP", "aes-128-cbc", "hmac-sha1-96", "70f789c6",
                 "80f4126d", 28756, "unlim", "-", 0, "ipv4_subnet(any:0,[0..7]=192.168.168.0/24)",
                 "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "none", "installed", 0, None)
NHTB = [NhtbEntry("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static"), NhtbEntry("10.11.11.12", "st0.0", "westford-vpn", "Auto")]
STATS = IpsecStats(16384, 920, 6208, 5, 87, replay_errors=1, bad_trailers=3)
ROUTES = [RouteAnswer(Route("192.168.168.0/24", "10.11.11.11", "st0.0", "Static", False), 9, 8, 1),
          RouteAnswer(Route("10.10.10.0/24", None, "ge-0/0/1.0", "Direct", True), 9, 9, 0),
          RouteAnswer(None, 9, 9, 0)]
VPN_OF = {IKE.remote: IKE.name, IKE2.remote: IKE2.name}


class Node:
    """What the CLI asks of a node, answered from fixed records (the stand-in's CLI is pure)."""

    def __init__(self, route_answer: RouteAnswer = ROUTES[0]):
        self._route = route_answer

    def ike_sas(self):
        return [IKE, IKE2]

    def ipsec_sas(self):
        return [IPSEC, IPSEC2]

    def ipsec_stats(self, index):
        return {16384: STATS, 16385: IpsecStats(16385, 1, 2, 3, 4, bad_headers=2)}[index]

    def next_hop_tunnels(self):
        return NHTB

    def route_answer(self, address):
        return self._route

    def log(self, lines=50):
        return ""


def test_ike_round_trips_in_text_and_xml():
    cli = junos_cli.run
    assert ike.parse_xml(cli(Node(), "show security ike security-associations | display xml")) == [IKE, IKE2]
    assert ike.parse_text(cli(Node(), "show security ike security-associations detail"), VPN_OF.get) == [IKE, IKE2]
    brief = ike.parse_table(cli(Node(), "show security ike security-associations"))
    assert [(r["index"], r["remote_address"], r["initiator_cookie"]) for r in brief] == \
           [(s.index, s.remote, s.initiator_cookie) for s in (IKE, IKE2)]


def test_ipsec_round_trips_in_text_and_xml():
    cli = junos_cli.run
    assert ipsec.parse_xml(cli(Node(), "show security ipsec security-associations | display xml")) == [IPSEC, IPSEC2]
    detail = cli(Node(), "show security ipsec security-associations detail")
    brief = cli(Node(), "show security ipsec security-associations")
    assert ipsec.parse_text(detail, brief, VPN_OF.get) == [IPSEC, IPSEC2]


def test_nhtb_statistics_and_route_round_trip_in_text_and_xml():
    cli = junos_cli.run
    for fmt, parse in (("", nhtb.parse_text), (" | display xml", nhtb.parse_xml)):
        assert parse(cli(Node(), "show security ipsec next-hop-tunnels" + fmt)) == NHTB
    assert stats.parse_text(cli(Node(), "show security ipsec statistics index 16384"), 16384) == STATS
    assert stats.parse_xml(cli(Node(), "show security ipsec statistics index 16384 | display xml")) == STATS
    for answer in ROUTES:
        assert route.parse_text(cli(Node(answer), "show route 192.168.168.10")) == answer
        assert route.parse_xml(cli(Node(answer), "show route 192.168.168.10 | display xml")) == answer


def test_statistics_without_an_index_add_every_sa_up():
    total = stats.parse_text(junos_cli.run(Node(), "show security ipsec statistics"), 0)
    assert (total.encrypted_bytes, total.decrypted_packets, total.replay_errors, total.bad_headers, total.bad_trailers) \
        == (921, 91, 1, 2, 3)


def test_display_json_is_the_xml_reply_as_junos_renders_json():
    doc = json.loads(junos_cli.run(Node(), "show security ipsec next-hop-tunnels | display json"))
    tunnel = doc["ipsec-next-hop-tunnel-information"][0]["ipsec-next-hop-tunnel"][0]
    assert tunnel["next-hop-gateway"] == [{"data": "10.11.11.11"}]


def test_content_that_parses_to_nothing_is_an_error():
    with pytest.raises(UnknownField, match="header"):
        ike.parse_table("Idx Remote\n6 3.3.3.2\n")
    with pytest.raises(UnknownField):
        stats.parse_counters("ESP Statistics:\n  Encrypted bytes: \u00b2\n")


def test_the_documented_element_names_are_used():
    root = ET.fromstring(ipsec.xml([IPSEC]))
    block = root.find("ipsec-security-associations-block")
    assert block.findtext("sa-remote-gateway") == "2.2.2.2" and block.findtext("sa-tunnel-index") == "16384"
    dirs = {d.findtext("sa-direction"): d.findtext("sa-spi") for d in block.findall("ipsec-security-associations")}
    assert dirs == {"<": "b2fc36f8", ">": "5d73929e"}
    sa = ET.fromstring(ike.xml([IKE])).find("ike-security-associations")
    assert sa.findtext("ike-sa-remote-address") == "3.3.3.2" and sa.findtext("ike-sa-exchange-type") == "Main"


def test_an_unknown_element_is_reported_not_guessed():
    text = ike.xml([IKE]).replace("<ike-sa-role>", "<ike-sa-flags>x</ike-sa-flags><ike-sa-role>")
    with pytest.raises(UnknownField, match="ike-sa-flags"):
        ike.parse_xml(text)
    with pytest.raises(UnknownField):
        nhtb.parse_xml("<route-information/>")
    with pytest.raises(UnknownField):
        nhtb.parse_xml("not xml <")


def test_an_rpc_reply_wrapper_is_accepted():
    text = f"<rpc-reply>{nhtb.xml([NhtbEntry('10.11.11.12', 'st0.0', 'westford-vpn', 'Auto')])}</rpc-reply>"
    assert nhtb.parse_xml(text)[0].flag == "Auto"


@pytest.mark.parametrize("line,path,options,display", [
    ("show security ike security-associations", ("show", "security", "ike", "security-associations"), {}, "text"),
    ("sh sec ipsec sec index 16384 detail | display xml", ("show", "security", "ipsec", "security-associations"),
     {"index": 16384, "detail": True}, "xml"),
    ("show security ipsec statistics index 2 | display json | no-more",
     ("show", "security", "ipsec", "statistics"), {"index": 2}, "json"),
    ("ping 10.10.10.10 interface ge-0/0/0 count 3", ("ping",), {"interface": "ge-0/0/0", "count": 3}, "text"),
])
def test_cli_grammar(line, path, options, display):
    cmd = junos_cli.parse(line)
    assert (cmd.path, cmd.options, cmd.display) == (path, options, display)


@pytest.mark.parametrize("line,message", [
    ("show bogus", "expecting one of"), ("show security", "incomplete"), ("sh s i s", "ambiguous|expecting"),
    ("show route 1.2.3.4 | count", "unsupported pipe"), ("show security ipsec statistics index x", "bad value"),
])
def test_cli_refusals(line, message):
    with pytest.raises(junos_cli.CliError, match=message):
        junos_cli.parse(line)


def test_the_ssh_driver_reads_the_notes_text_when_xml_fails():
    """A real SRX's text, from the note: the fallback path gives the driver's types, with the
    VPN named from the config (Junos names the gateway, not the VPN, per IKE SA)."""
    lab = load_lab(THREE_SITE)
    d = JunosSshDriver("corporate", lab, connect=lambda: None, user="u", password="p")
    (sa,) = ike.parse_text((FIXTURES / "junos_outputs" / "ike_sa_detail.txt").read_text(), d._vpn_for)
    assert (sa.index, sa.name, sa.remote, sa.state, sa.role, sa.mode, sa.encryption) == \
           (6, "westford-vpn", "3.3.3.2", "UP", "Responder", "Main", "3des-cbc")
    table = (FIXTURES / "junos_outputs" / "ipsec_sa_table.txt").read_text()
    (sa,) = ipsec.parse_text((FIXTURES / "junos_outputs" / "ipsec_sa_detail.txt").read_text(), table, d._vpn_for)
    assert (sa.index, sa.name, sa.gateway, sa.spi_in, sa.spi_out, sa.life_seconds) == \
           (16385, "westford-vpn", "3.3.3.2", "70f789c6", "80f4126d", 28729)
    assert ping.summary("5 packets transmitted, 5 packets received, 0% packet loss") == (5, 5)


def test_management_addresses_follow_containerlab(tmp_path):
    lab = load_lab(THREE_SITE)
    mgmt = mgmt_plan(lab)
    assert mgmt.subnet == DEFAULT_SUBNET
    assert [str(mgmt.address(n)) for n in lab.nodes[:2]] == ["172.20.20.2", "172.20.20.3"]
    assert len(set(mgmt.addresses.values())) == len(lab.nodes)
