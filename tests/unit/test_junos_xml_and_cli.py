"""`| display xml` and `| display json` (rendered by the stand-ins, parsed by the SSH driver),
the CLI's command grammar, and the SSH driver's text fallback on the note's own outputs."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.drivers import junos_text, junos_xml
from harness.drivers.base import IkeSA, IpsecSA, IpsecStats, NhtbEntry
from harness.drivers.junos_ssh import JunosSshDriver
from harness.drivers.junos_text import UnknownField
from harness.model.lab import load_lab
from harness.model.mgmt import DEFAULT_SUBNET, mgmt_plan
from harness.verify import junos_cli

from ..conftest import FIXTURES, THREE_SITE

IKE = IkeSA(6, "westford-vpn", "3.3.3.2", "UP", "94906ae2263bbd8e", "1c35e4c3fc54d6d3", "Main", "Responder",
            "1.1.1.2", 500, 500, 3571, "sha1", "3des-cbc", "hmac-sha1", "group2", 1128, 988, 6, 5, 1, 0)
IPSEC = IpsecSA(16384, "sunnyvale-vpn", "1.1.1.2", "2.2.2.2", 500, "ESP", "3des-cbc", "hmac-sha1-96", "b2fc36f8",
                "5d73929e", 3564, "unlim", "-", 0, "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "group2", "installed", 32, 2971)


def test_every_reply_parses_back_to_what_was_rendered():
    assert junos_xml.parse_ike_sas(junos_xml.ike_sas_xml([IKE])) == [IKE]
    assert junos_xml.parse_ipsec_sas(junos_xml.ipsec_sas_xml([IPSEC])) == [IPSEC]
    entries = [NhtbEntry("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static")]
    assert junos_xml.parse_nhtb(junos_xml.nhtb_xml(entries)) == entries
    st = IpsecStats(16384, 920, 6208, 5, 87, replay_errors=1)
    assert junos_xml.parse_stats(junos_xml.stats_xml(st)) == st
    answer = {"route": {"prefix": "192.168.168.0/24", "next_hop": "10.11.11.11", "interface": "st0.0",
                        "protocol": "Static", "active": False}, "destinations": 9, "active": 8, "hidden": 1}
    r = junos_xml.parse_route(junos_xml.route_xml(answer))
    assert (r.prefix, r.next_hop, r.interface, r.protocol, r.active) == ("192.168.168.0/24", "10.11.11.11", "st0.0",
                                                                         "Static", False)


def test_the_documented_element_names_are_used():
    root = ET.fromstring(junos_xml.ipsec_sas_xml([IPSEC]))
    block = root.find("ipsec-security-associations-block")
    assert block.findtext("sa-remote-gateway") == "2.2.2.2" and block.findtext("sa-tunnel-index") == "16384"
    dirs = {d.findtext("sa-direction"): d.findtext("sa-spi") for d in block.findall("ipsec-security-associations")}
    assert dirs == {"<": "b2fc36f8", ">": "5d73929e"}
    ike = ET.fromstring(junos_xml.ike_sas_xml([IKE])).find("ike-security-associations")
    assert ike.findtext("ike-sa-remote-address") == "3.3.3.2" and ike.findtext("ike-sa-exchange-type") == "Main"


def test_an_unknown_element_is_reported_not_guessed():
    text = junos_xml.ike_sas_xml([IKE]).replace("<ike-sa-role>", "<ike-sa-flags>x</ike-sa-flags><ike-sa-role>")
    with pytest.raises(UnknownField, match="ike-sa-flags"):
        junos_xml.parse_ike_sas(text)
    with pytest.raises(UnknownField):
        junos_xml.parse_nhtb("<route-information/>")
    with pytest.raises(UnknownField):
        junos_xml.parse_nhtb("not xml <")


def test_an_rpc_reply_wrapper_is_accepted():
    text = f"<rpc-reply>{junos_xml.nhtb_xml([NhtbEntry('10.11.11.12', 'st0.0', 'westford-vpn', 'Auto')])}</rpc-reply>"
    assert junos_xml.parse_nhtb(text)[0].flag == "Auto"


def test_display_json_follows_junos_json():
    doc = json.loads(junos_xml.to_json(junos_xml.nhtb_xml([NhtbEntry("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static")])))
    tunnel = doc["ipsec-next-hop-tunnel-information"][0]["ipsec-next-hop-tunnel"][0]
    assert tunnel["next-hop-gateway"] == [{"data": "10.11.11.11"}]


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
    (sa,) = d._ike_from_text((FIXTURES / "junos_outputs" / "ike_sa_detail.txt").read_text())
    assert (sa.index, sa.name, sa.remote, sa.state, sa.role, sa.mode, sa.encryption) == \
           (6, "westford-vpn", "3.3.3.2", "UP", "Responder", "Main", "3des-cbc")
    table = (FIXTURES / "junos_outputs" / "ipsec_sa_table.txt").read_text()
    d.cli = lambda command: table  # the table the fallback asks for
    sas = d._ipsec_from_text((FIXTURES / "junos_outputs" / "ipsec_sa_detail.txt").read_text())
    assert sas and all(s.index and s.spi_in and s.name for s in sas)
    assert junos_text.ping_summary("5 packets transmitted, 5 packets received, 0% packet loss") == (5, 5)


def test_management_addresses_follow_containerlab(tmp_path):
    lab = load_lab(THREE_SITE)
    mgmt = mgmt_plan(lab)
    assert mgmt.subnet == DEFAULT_SUBNET
    assert [str(mgmt.address(n)) for n in lab.nodes[:2]] == ["172.20.20.2", "172.20.20.3"]
    assert len(set(mgmt.addresses.values())) == len(lab.nodes)
