"""harness/junos/: every command in every form the stand-ins print (text in the current and the
2009 layout, `| display xml`, `| display json`) reads back to the same records; the CLI's command
grammar and layouts; the SSH driver's text fallback on the note's own outputs, its VPN naming and
what it does not offer."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from harness.drivers import mgmtd
from harness.drivers.junos_ssh import JunosCliError, JunosSshDriver, NotOffered
from harness.junos import cli as junos_cli
from harness.junos import ike, ipsec, nhtb, ping, route, stats
from harness.junos.records import IkeSA, IpsecSA, IpsecStats, NhtbEntry, Route, RouteAnswer
from harness.junos.textreply import UnknownField
from harness.model.lab import load_lab
from harness.model.topology import ends
from harness.model.mgmt import DEFAULT_SUBNET, mgmt_plan

from ..conftest import FIXTURES, THREE_SITE

IKE = IkeSA(6, "westford-vpn", "3.3.3.2", "UP", "94906ae2263bbd8e", "1c35e4c3fc54d6d3", "Main", "Responder",
            "1.1.1.2", 500, 500, 3571, "sha1", "3des-cbc", "hmac-sha1", "group2", 1128, 988, 6, 5, 1, 0)
IKE2 = IkeSA(7, "sunnyvale-vpn", "2.2.2.2", "UP", "7e7a1c0367dfe73c", "f284221c656a5fbc", "Main", "Initiator",
             "1.1.1.2", 500, 4500, None, "sha-256", "aes-128-cbc", "hmac-sha1", "group14", 0, 0, 0, 0, 2, 1,
             gateway="gw-sunnyvale")
IPSEC = IpsecSA(16384, "sunnyvale-vpn", "1.1.1.2", "2.2.2.2", 500, "ESP", "3des-cbc", "hmac-sha1-96", "b2fc36f8",
                "5d73929e", 3564, "unlim", "-", 0, "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "group2", "installed", 32, 2971)
IPSEC2 = IpsecSA(16385, "westford-vpn", "1.1.1.2", "3.3.3.2", 500, "ESP", "aes-128-cbc", "hmac-sha1-96", "70f789c6",
                 "80f4126d", 28756, "unlim", "-", 0, "ipv4_subnet(any:0,[0..7]=192.168.168.0/24)",
                 "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "none", "installed", 0, None,
                 bind_interface="st0.0", ike_version="IKEv1")
IPSEC3 = IpsecSA(16386, "boston-vpn", "1.1.1.2", "4.4.4.2", 4500, "ESP", "aes-256-gcm", "hmac-sha-256-128", "0000abcd",
                 "00c0ffee", None, "unlim", "U", 0, "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                 "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "tunnel", "group14", "installed", 64, 1200)
NHTB = [NhtbEntry("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static"), NhtbEntry("10.11.11.12", "st0.0", "westford-vpn", "Auto")]
STATS = IpsecStats(16384, 920, 6208, 5, 87, replay_errors=1, bad_trailers=3, invalid_spi=4, discarded=2)
ROUTES = [RouteAnswer(Route("192.168.168.0/24", "10.11.11.11", "st0.0", "Static", False), 9, 8, 1),
          RouteAnswer(Route("10.10.10.0/24", None, "ge-0/0/1.0", "Direct", True), 9, 9, 0),
          RouteAnswer(None, 9, 9, 0)]
VPN_OF = {IKE.remote: IKE.name, IKE2.remote: IKE2.name, IPSEC3.gateway: IPSEC3.name}
LAYOUTS = ("current", "2009")


def vpn_for(remote: str, gateway: str) -> str:
    return VPN_OF[remote]


def fields(cls, but: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in but)


def only(records, names: tuple[str, ...]) -> list[tuple]:
    """The records as the fields a form carries (compare what a form cannot print as equal)."""
    return [tuple(getattr(r, n) for n in names) for r in records]


# What each form carries; a record compared on these alone where a form lacks the rest.
IKE_BRIEF = ("index", "remote", "state", "initiator_cookie", "responder_cookie", "mode")  # table and XML rows
IKE_2009_DETAIL = fields(IkeSA, but=("gateway",))  # the note's detail prints no gateway name
IPSEC_BRIEF = ("index", "gateway", "port", "protocol", "encryption", "authentication", "spi_in", "spi_out",
               "life_seconds", "life_kb", "monitoring")  # + vsys (2009 table) or lsys (current table, XML)
IPSEC_2009_DETAIL = fields(IpsecSA, but=("lsys", "bind_interface", "ike_version"))  # 2009 prints none of them
IPSEC_CURRENT_DETAIL = fields(IpsecSA, but=("vsys",))  # current prints lsys, not vsys (both are root here)


class Node:
    """What the CLI asks of a node, answered from fixed records (the stand-in's CLI is pure)."""

    def __init__(self, route_answer: RouteAnswer = ROUTES[0]):
        self._route = route_answer

    def ike_sas(self):
        return [IKE, IKE2]

    def ipsec_sas(self):
        return [IPSEC, IPSEC2, IPSEC3]

    def ipsec_stats(self, index):
        return {16384: STATS, 16385: IpsecStats(16385, 1, 2, 3, 4, bad_headers=2), 16386: IpsecStats(16386, 0, 0, 0, 0)}[index]

    def next_hop_tunnels(self):
        return NHTB

    def route_answer(self, address):
        return self._route

    def log(self, lines=50):
        return ""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_ike_round_trips_in_text(layout):
    cli = lambda line: junos_cli.run(Node(), line, layout)  # noqa: E731
    detail = ike.parse_text(cli("show security ike security-associations detail"), vpn_for)
    assert only(detail, IKE_2009_DETAIL if layout == "2009" else fields(IkeSA)) == \
        only([IKE, IKE2], IKE_2009_DETAIL if layout == "2009" else fields(IkeSA))
    brief = ike.table_records(cli("show security ike security-associations"), vpn_for)
    assert only(brief, IKE_BRIEF + ("name",)) == only([IKE, IKE2], IKE_BRIEF + ("name",))
    assert ike.parse_text(cli("show security ike security-associations index 7"), vpn_for)[0].remote == "2.2.2.2"


def test_ike_round_trips_in_xml():
    cli = lambda line: junos_cli.run(Node(), line)  # noqa: E731
    assert ike.parse_xml(cli("show security ike security-associations detail | display xml"), vpn_for) == [IKE, IKE2]
    brief = ike.parse_xml(cli("show security ike security-associations | display xml"), vpn_for)
    assert only(brief, IKE_BRIEF + ("name",)) == only([IKE, IKE2], IKE_BRIEF + ("name",))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_ipsec_round_trips_in_text(layout):
    cli = lambda line: junos_cli.run(Node(), line, layout)  # noqa: E731
    detail, brief = (cli("show security ipsec security-associations detail"),
                     cli("show security ipsec security-associations"))
    carried = IPSEC_2009_DETAIL if layout == "2009" else IPSEC_CURRENT_DETAIL
    sas = [IPSEC, IPSEC2, IPSEC3]
    assert only(ipsec.parse_text(detail, brief, vpn_for), carried) == only(sas, carried)
    table_carries = IPSEC_BRIEF + (("vsys",) if layout == "2009" else ("lsys",))
    assert only(ipsec.table_records(brief), table_carries) == only(sas, table_carries)
    if layout == "current":  # the current detail carries its index itself: no table needed
        assert only(ipsec.parse_text(detail), carried) == only(sas, carried)
    else:
        with pytest.raises(UnknownField, match="brief table"):
            ipsec.parse_text(detail)


def test_ipsec_round_trips_in_xml():
    cli = lambda line: junos_cli.run(Node(), line)  # noqa: E731
    sas = [IPSEC, IPSEC2, IPSEC3]
    detail = ipsec.parse_xml(cli("show security ipsec security-associations detail | display xml"))
    assert only(detail, IPSEC_CURRENT_DETAIL) == only(sas, IPSEC_CURRENT_DETAIL)
    brief = ipsec.parse_xml(cli("show security ipsec security-associations | display xml"), vpn_for)
    assert only(brief, IPSEC_BRIEF + ("lsys", "name")) == only(sas, IPSEC_BRIEF + ("lsys", "name"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nhtb_statistics_and_route_round_trip_in_text_and_xml(layout):
    cli = lambda line, node=Node(): junos_cli.run(node, line, layout)  # noqa: E731
    for fmt, parse in (("", nhtb.parse_text), (" | display xml", nhtb.parse_xml)):
        assert parse(cli("show security ipsec next-hop-tunnels" + fmt)) == NHTB
    # the 2009 layout prints no Invalid SPI / TS check fail / MTU / Discarded counters
    expected = STATS if layout == "current" else dataclasses.replace(STATS, invalid_spi=0, discarded=0)
    assert stats.parse_text(cli("show security ipsec statistics index 16384"), 16384) == expected
    assert stats.parse_xml(cli("show security ipsec statistics index 16384 | display xml")) == STATS
    for answer in ROUTES:
        assert route.parse_text(cli("show route 192.168.168.10", Node(answer))) == answer
        assert route.parse_xml(cli("show route 192.168.168.10 | display xml", Node(answer))) == answer


def test_the_layouts_differ_where_junos_did():
    current = junos_cli.run(Node(), "show security ike security-associations")
    note = junos_cli.run(Node(), "show security ike security-associations", "2009")
    assert current.splitlines()[0].split()[:2] == ["Index", "State"]
    assert note.splitlines()[0].split()[:3] == ["Index", "Remote", "Address"]
    assert junos_cli.run(Node(), "show security ipsec security-associations").startswith("  Total active tunnels: 3")
    assert junos_cli.run(Node(), "show security ipsec security-associations", "2009").startswith("total configured sa")
    assert "Discarded: 2" in junos_cli.run(Node(), "show security ipsec statistics index 16384")
    assert "Discarded" not in junos_cli.run(Node(), "show security ipsec statistics index 16384", "2009")
    with pytest.raises(ValueError, match="layout"):
        junos_cli.run(Node(), "show route 1.2.3.4", "2010")


def test_statistics_without_an_index_add_every_sa_up():
    total = stats.parse_text(junos_cli.run(Node(), "show security ipsec statistics"), 0)
    assert (total.encrypted_bytes, total.decrypted_packets, total.replay_errors, total.bad_headers, total.bad_trailers,
            total.invalid_spi, total.discarded) == (921, 91, 1, 2, 3, 4, 2)
    assert total.errors()["discarded"] == 2 and len(total.errors()) == 10


def test_display_json_is_the_xml_reply_as_junos_renders_json():
    doc = json.loads(junos_cli.run(Node(), "show security ipsec next-hop-tunnels | display json"))
    tunnel = doc["ipsec-next-hop-tunnel-information"][0]["ipsec-next-hop-tunnel"][0]
    assert tunnel["next-hop-gateway"] == [{"data": "10.11.11.11"}]


def test_content_that_parses_to_nothing_is_an_error():
    with pytest.raises(UnknownField, match="header"):
        ike.parse_table("Idx Remote\n6 3.3.3.2\n")
    with pytest.raises(UnknownField):
        stats.parse_counters("ESP Statistics:\n  Encrypted bytes: \u00b2\n")


def paths(el: ET.Element, prefix: str = "") -> set[str]:
    """Every element path of a tree (what nests where)."""
    here = f"{prefix}/{el.tag}"
    return {here}.union(*(paths(c, here) for c in el))


def test_the_brief_ipsec_reply_nests_as_a_real_srx_reply():
    """The stand-in's brief reply has exactly the element paths of an SRX 18.4R3's (fixture)."""
    real = ET.fromstring((FIXTURES / "junos_outputs/current/ipsec_sa_table.srx-18.4R3-cluster.xml").read_text())
    (answer,) = real.iter("ipsec-security-associations-information")
    assert paths(ET.fromstring(ipsec.xml([IPSEC, IPSEC2]))) == paths(answer)


def test_the_documented_element_names_are_used():
    root = ET.fromstring(ipsec.xml([IPSEC], detail=True))
    block = root.find("ipsec-security-associations-block")
    assert block.findtext("sa-remote-gateway") == "2.2.2.2" and block.findtext("sa-tunnel-index") == "16384"
    assert block.findtext("sa-vpn-name") == "sunnyvale-vpn" and block.findtext("sa-block-state") == "up"
    dirs = {d.findtext("sa-direction"): d.findtext("sa-spi") for d in block.findall("ipsec-security-associations")}
    assert dirs == {"<": "b2fc36f8", ">": "5d73929e"}
    sa = ET.fromstring(ike.xml([IKE])).find("ike-security-associations")
    assert sa.findtext("ike-sa-remote-address") == "3.3.3.2" and sa.findtext("ike-sa-exchange-type") == "Main"
    block = ET.fromstring(ike.xml([IKE2], detail=True)).find("ike-security-associations-block")
    assert (block.findtext("ike-sa-index"), block.findtext("ike-gw-name")) == ("7", "gw-sunnyvale")
    assert block.findtext("ike-security-associations/ike-sa-algorithms/ike-sa-dhgroup") == "DH-group-14"
    assert block.findtext("ike-security-associations/ike-sa-misc/ike-sa-num-ipsec-sas-created") == "2"
    st = ET.fromstring(stats.xml(STATS))
    assert st.tag == "usp-ipsec-total-statistics-information"
    assert st.findtext("error-statistics/discard-errors") == "2" and st.findtext("esp-statistics/esp-encrypted-bytes") == "920"


# A vSRX's IKE detail reply as the YANG nests it: namespaced, wrapped, with the cluster CLI banner.
REAL_IKE_DETAIL = """<rpc-reply xmlns:junos="http://xml.juniper.net/junos/24.4R1/junos">
  <ike-security-associations-information xmlns="http://xml.juniper.net/junos/24.4R1/junos-ike" junos:style="detail">
    <ike-security-associations-block>
      <ike-sa-remote-address>3.3.3.2</ike-sa-remote-address>
      <ike-sa-index>6</ike-sa-index>
      <ike-gw-name>gw-westford</ike-gw-name>
      <ike-sa-location><ike-sa-fpc>0</ike-sa-fpc></ike-sa-location>
      <ike-security-associations>
        <ike-sa-role>Responder</ike-sa-role>
        <ike-sa-state>UP</ike-sa-state>
        <ike-sa-initiator-cookie>94906ae2263bbd8e</ike-sa-initiator-cookie>
        <ike-sa-responder-cookie>1c35e4c3fc54d6d3</ike-sa-responder-cookie>
        <ike-sa-exchange-type>IKEv2</ike-sa-exchange-type>
        <ike-sa-local-address>1.1.1.2</ike-sa-local-address>
        <ike-sa-local-port>500</ike-sa-local-port>
        <ike-sa-remote-address>3.3.3.2</ike-sa-remote-address>
        <ike-sa-remote-port>4500</ike-sa-remote-port>
        <ike-sa-lifetime>Expires in 3571 seconds</ike-sa-lifetime>
        <ike-sa-reauthlifetime>Disabled</ike-sa-reauthlifetime>
        <ike-sa-algorithms><ike-sa-dhgroup>DH-group-14</ike-sa-dhgroup></ike-sa-algorithms>
        <ike-sa-misc><ike-sa-num-ipsec-sas-created>3</ike-sa-num-ipsec-sas-created></ike-sa-misc>
      </ike-security-associations>
    </ike-security-associations-block>
  </ike-security-associations-information>
  <cli><banner>{primary:node0}</banner></cli>
</rpc-reply>"""


def test_a_real_ike_detail_reply_is_read_not_dropped():
    """It used to parse to an empty list: the blocks hold the SAs."""
    (sa,) = ike.parse_xml(REAL_IKE_DETAIL, lambda remote, gateway: {"gw-westford": "westford-vpn"}[gateway])
    assert (sa.index, sa.name, sa.gateway, sa.remote, sa.mode, sa.remote_port, sa.lifetime_remaining, sa.dh_group,
            sa.ipsec_created) == (6, "westford-vpn", "gw-westford", "3.3.3.2", "IKEv2", 4500, 3571, "group14", 3)
    with pytest.raises(UnknownField, match="ike-security-associations-block/ike-sa-colour"):
        ike.parse_xml(REAL_IKE_DETAIL.replace("<ike-gw-name>", "<ike-sa-colour/><ike-gw-name>"))
    with pytest.raises(UnknownField, match="nothing parsed"):
        ike.parse_xml("<ike-security-associations-information><ike-sa-stats-information/>"
                      "</ike-security-associations-information>")


def test_an_unknown_element_is_reported_not_guessed():
    text = ike.xml([IKE], detail=True).replace("<ike-sa-role>", "<ike-sa-mood>x</ike-sa-mood><ike-sa-role>")
    with pytest.raises(UnknownField, match="ike-security-associations/ike-sa-mood"):
        ike.parse_xml(text)
    text = stats.xml(STATS).replace("<bad-headers>", "<odd-headers>1</odd-headers><bad-headers>")
    with pytest.raises(UnknownField, match="error-statistics/odd-headers"):
        stats.parse_xml(text)
    text = ipsec.xml([IPSEC]).replace("<sa-spi>", "<sa-colour>blue</sa-colour><sa-spi>")
    with pytest.raises(UnknownField, match="ipsec-security-associations/sa-colour"):
        ipsec.parse_xml(text)
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


def test_a_stand_in_answers_in_the_layout_its_label_asks_for():
    def lab(labels):
        return SimpleNamespace(topology=SimpleNamespace(nodes={"corporate": SimpleNamespace(labels=labels)}))
    assert mgmtd.output_layout(lab({}), "corporate") == "current"
    assert mgmtd.output_layout(lab({"nhtb-lab.junos-output": "2009"}), "corporate") == "2009"
    assert mgmtd.output_layout(lab({"nhtb-lab.junos-output": 2009}), "corporate") == "2009"  # YAML unquoted
    with pytest.raises(ValueError, match="layout"):
        mgmtd.output_layout(lab({"nhtb-lab.junos-output": "2012"}), "corporate")
    assert mgmtd.answer(Node(), "show security ipsec next-hop-tunnels", "2009") == \
        (nhtb.text(NHTB, "2009"), 0)


def test_what_the_vsrx_driver_cannot_do_is_not_offered_and_says_why():
    lab = load_lab(THREE_SITE)
    d = JunosSshDriver("corporate", lab, connect=lambda: None, user="u", password="p")
    for call, words in ((lambda: d.initiate("westford-vpn"), "starts a VPN on traffic"),
                        (lambda: d.flow_trace([]), "commit"),
                        (lambda: d.syn_mss("westford-pc", "192.168.168.10"), "not a LAN host"),
                        (lambda: d.ping("3.3.3.2", size=1400, df=True), "do-not-fragment")):
        with pytest.raises(NotOffered, match=words) as e:
            call()
        assert isinstance(e.value, JunosCliError) and "corporate" in str(e.value)


def test_the_ssh_driver_names_vpns_by_gateway_name_then_address():
    d = JunosSshDriver("corporate", load_lab(THREE_SITE), connect=lambda: None, user="u", password="p")
    gateways = {e.gateway.name: (e.vpn.name, str(e.gateway.address)) for e in ends(d.site)}
    for name, (vpn, address) in gateways.items():
        assert d._vpn_for("0.0.0.0", name) == vpn  # the name the device printed wins
        assert d._vpn_for(address) == vpn
    assert d._vpn_for("9.9.9.9", "no-such-gateway") == ""
    (a_name, (_, a_address)), (b_name, (b_vpn, _)) = list(gateways.items())[:2]
    assert d._vpn_for(a_address, b_name) == b_vpn  # a name and an address that disagree: the name


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
