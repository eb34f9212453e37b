"""The Junos text parsers (harness/junos/) reproduce every field of the note's sample outputs (the
2009 layouts), and refuse to guess. Current releases' outputs: test_junos_current.py."""
from __future__ import annotations

import pytest

from harness.junos import ike, ipsec, nhtb, route, stats
from harness.junos.records import NhtbEntry
from harness.junos.textreply import UnknownField

from ..conftest import FIXTURES

OUT = FIXTURES / "junos_outputs"


def read(name: str) -> str:
    return (OUT / name).read_text()


def test_ike_sa_table():
    assert ike.parse_table(read("ike_sa_table.txt")) == [
        {"index": 6, "remote_address": "3.3.3.2", "state": "UP", "initiator_cookie": "94906ae2263bbd8e",
         "responder_cookie": "1c35e4c3fc54d6d3", "mode": "Main"},
        {"index": 7, "remote_address": "2.2.2.2", "state": "UP", "initiator_cookie": "7e7a1c0367dfe73c",
         "responder_cookie": "f284221c656a5fbc", "mode": "Main"},
    ]


def test_ike_sa_detail():
    (peer,) = ike.parse_detail(read("ike_sa_detail.txt"))
    assert peer == {
        "peer": "3.3.3.2", "index": 6, "role": "Responder", "state": "UP",
        "initiator_cookie": "94906ae2263bbd8e", "responder_cookie": "1c35e4c3fc54d6d3",
        "exchange_type": "Main", "authentication_method": "Pre-shared-keys",
        "local": "1.1.1.2:500", "remote": "3.3.3.2:500", "lifetime_seconds": 3571,
        "algorithms": {"authentication": "sha1", "encryption": "3des-cbc", "prf": "hmac-sha1"},
        "traffic": {"input_bytes": 1128, "output_bytes": 988, "input_packets": 6, "output_packets": 5},
        "flags": ["Caller notification sent"], "ipsec_sas_created": 1, "ipsec_sas_deleted": 0,
        "phase2_negotiations_in_progress": 1,
        "negotiations": [{"negotiation_type": "Quick mode", "role": "Responder", "message_id": 1350777248,
                          "local": "1.1.1.2:500", "remote": "3.3.3.2:500",
                          "local_identity": "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                          "remote_identity": "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                          "flags": ["Caller notification sent", "Waiting for done"]}],
    }


def test_ipsec_sa_table():
    rows = ipsec.parse_table(read("ipsec_sa_table.txt"))
    assert [(r["id"], r["direction"], r["gateway"], r["spi"], r["life_seconds"]) for r in rows] == [
        (16384, "inbound", "2.2.2.2", "b2fc36f8", 3564), (16384, "outbound", "2.2.2.2", "5d73929e", 3564),
        (16385, "inbound", "3.3.3.2", "70f789c6", 28756), (16385, "outbound", "3.3.3.2", "80f4126d", 28756)]
    assert {(r["port"], r["algorithm"], r["life_kb"], r["monitoring"], r["vsys"]) for r in rows} == {
        (500, "ESP:3des/sha1", "unlim", "-", 0)}


def test_ipsec_sa_detail():
    (sa,) = ipsec.parse_detail(read("ipsec_sa_detail.txt"))
    assert {k: v for k, v in sa.items() if k != "directions"} == {
        "layout": "2009", "virtual_system": "Root", "local_gateway": "1.1.1.2", "remote_gateway": "3.3.3.2",
        "local_identity": "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", "remote_identity": "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
        "df_bit": "clear"}
    inbound, outbound = sa["directions"]
    common = {"aux_spi": 0, "hard_lifetime_seconds": 28729, "lifesize_remaining": "Unlimited",
              "soft_lifetime_seconds": 28136, "mode": "tunnel", "type": "dynamic", "state": "installed",
              "vpn_monitoring": "-", "protocol": "ESP", "authentication": "hmac-shal-96", "encryption": "3des-cbc",
              "anti_replay_service": "enabled", "replay_window_size": 32}
    assert inbound == {"direction": "inbound", "spi": 1895270854, **common}
    assert outbound == {"direction": "outbound", "spi": 2163479149, **common}
    assert f"{inbound['spi']:08x}" == "70f789c6"  # the table's SPI, in decimal here


def test_next_hop_tunnels():
    assert nhtb.parse_text(read("next_hop_tunnels.txt")) == [
        NhtbEntry("10.11.11.11", "st0.0", "sunnyvale-vpn", "Static"), NhtbEntry("10.11.11.12", "st0.0", "westford-vpn", "Auto")]
    assert nhtb.parse_text("root@Westford> show security ipsec next-hop-tunnels\n") == []


def test_show_route():
    first, second = route.parse_tables(read("show_route.txt"))
    summary = {"table": "inet.0", "destinations": 9, "routes": 9, "active": 9, "holddown": 0, "hidden": 0}
    assert {k: v for k, v in first.items() if k != "entries"} == summary
    assert first["entries"] == [{"prefix": "192.168.168.0/24", "active": True, "protocol": "Static", "preference": 5,
                                 "age": "00:08:33", "next_hops": [{"selected": True, "to": "10.11.11.11", "via": "st0.0"}]}]
    assert second["entries"][0]["next_hops"] == [{"selected": True, "to": "10.11.11.12", "via": "st0.0"}]
    assert second["entries"][0]["age"] == "00:04:04"


def test_ipsec_statistics():
    assert stats.parse_counters(read("ipsec_statistics.txt")) == {
        "encrypted_bytes": 920, "decrypted_bytes": 6208, "encrypted_packets": 5, "decrypted_packets": 87,
        "ah_input_bytes": 0, "ah_output_bytes": 0, "ah_input_packets": 0, "ah_output_packets": 0,
        "ah_authentication_failures": 0, "replay_errors": 0, "esp_authentication_failures": 0,
        "esp_decryption_failures": 0, "bad_headers": 0, "bad_trailers": 0}
    assert stats.parse_text(read("ipsec_statistics.txt"), 16385).errors() == {
        "ah_authentication_failures": 0, "replay_errors": 0, "esp_authentication_failures": 0,
        "esp_decryption_failures": 0, "bad_headers": 0, "bad_trailers": 0,
        "invalid_spi": 0, "ts_check_fail": 0, "exceeds_tunnel_mtu": 0, "discarded": 0}  # 2009 prints no new ones


@pytest.mark.parametrize("name,parser,old,new", [
    ("ike_sa_detail.txt", ike.parse_detail, "  Role: Responder, State: UP", "  Role: Responder, Mood: UP"),
    ("ike_sa_detail.txt", ike.parse_detail, "    Encryption         : 3des-cbc", "    Compression : lzs"),
    ("ipsec_sa_detail.txt", ipsec.parse_detail, "  DF-bit: clear", "  DF-bit: clear, Colour: blue"),
    ("ipsec_statistics.txt", stats.parse_counters, "  Bad headers: 0, Bad trailers: 0", "  Bad headers: 0, Odd trailers: 0"),
    ("ipsec_sa_table.txt", ipsec.parse_table, ">16384 2.2.2.2", ">16384 2.2.2.2 extra"),
    ("ike_sa_table.txt", ike.parse_table, "Index   Remote Address", "Idx   Remote Address"),
    ("show_route.txt", route.parse_tables, "                  > to 10.11.11.11 via st0.0", "                  > somewhere"),
    # current releases (test_junos_current.py)
    ("current/ike_sa_table.vsrx-12.x-hub.txt", ike.parse_table, "Mode           Remote", "Mood           Remote"),
    ("current/ike_sa_table.vsrx-12.x-hub.txt", ike.parse_table, "IKEv2          10.10.10.102", "IKEv2 extra    10.10.10.102"),
    ("current/ike_sa_detail.srx-cluster-azure-blog-2018.txt", ike.parse_detail, " Peer ike-id: Y.Y.Y.Y", " Peer colour: blue"),
    ("current/ike_sa_detail.srx-cluster-azure-blog-2018.txt", ike.parse_detail, " Input bytes : 171220", " Input bytes : lots"),
    ("current/ipsec_sa_table.vsrx-12.x-hub.txt", ipsec.parse_table, "Mon lsys Port", "Mon tsys Port"),
    ("current/ipsec_sa_table.srx-cluster-azure-blog-2018.txt", ipsec.parse_table, " 21727/unlim - root 500 10.A.A.A",
     " 21727/unlim - root 500"),
    ("current/ipsec_sa_detail.srx4700-25.2R1.txt", ipsec.parse_detail, "  Quantum Secured: Yes", "  Quantum Flavour: Yes"),
    ("current/ipsec_sa_detail.vsrx-24.4R1-S2-excerpt.txt", ipsec.parse_detail, "    Protocol: ESP,", "    Protocol: ESP, Colour: blue,"),
    ("current/ipsec_statistics.srx4700-25.2R1.txt", stats.parse_counters, "  Discarded: 0", "  Dropped: 0"),
    ("current/next_hop_tunnels.junos-es-9.3-doc.txt", nhtb.parse_text, "IPsec VPN name", "IPsec VPN alias"),
    ("current/show_route.vsrx-24.4R1-S2-excerpt.txt", route.parse_tables, "AS path: 65500 I", "Colour: blue"),
    ("current/show_route.vsrx-24.4R1-S2-excerpt.txt", route.parse_tables, "MED 0, localpref 100", "MED 0, flavour 100"),
])
def test_an_unknown_field_is_named_not_guessed(name, parser, old, new):
    text = read(name)
    assert old in text
    bad = text.replace(old, new, 1)
    lineno = next(i for i, ln in enumerate(bad.splitlines(), 1) if new.strip() in ln)
    with pytest.raises(UnknownField, match=rf"line {lineno}: unknown"):
        parser(bad)
