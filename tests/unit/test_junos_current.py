"""What current SRX/vSRX releases print (tests/fixtures/junos_outputs/current/, real outputs from
public material; its README names each source): every file parses, its facts field by field, in
text (aligned, pushed by long indexes, or whitespace-collapsed by the source) and in XML; an
unknown column, line or element is named, never guessed past."""
from __future__ import annotations

import pytest

from harness.junos import ike, ipsec, kmd, nhtb, parse_any, route, stats
from harness.junos.records import IpsecStats, NhtbEntry, Route, RouteAnswer
from harness.junos.textreply import UnknownField

from ..conftest import FIXTURES

CURRENT = FIXTURES / "junos_outputs" / "current"


def read(name: str) -> str:
    return (CURRENT / name).read_text()


# Every file and the command it answers (the README's table).
COMMANDS = {
    "ike_sa_table": "show security ike security-associations",
    "ike_sa_detail": "show security ike security-associations index 6226807 detail",
    "ipsec_sa_table": "show security ipsec security-associations",
    "ipsec_sa_detail": "show security ipsec security-associations detail",
    "ipsec_statistics": "show security ipsec statistics",
    "next_hop_tunnels": "show security ipsec next-hop-tunnels",
    "show_route": "show route 10.33.32.103",
    "kmd_log": "show log kmd",
}
FILES = sorted(p.name for p in CURRENT.iterdir() if p.name != "README.md")


@pytest.mark.parametrize("name", FILES)
def test_every_real_output_parses_to_something(name):
    parsed = parse_any(COMMANDS[name.split(".")[0]], read(name))
    assert parsed  # records, never an empty answer


def ike_rows(name):
    return [(r["index"], r["state"], r["initiator_cookie"], r["responder_cookie"], r["mode"], r["remote_address"])
            for r in ike.parse_table(read(name))]


def test_ike_tables():
    assert ike_rows("ike_sa_table.vsrx-12.x-hub.txt") == [
        (3126079, "UP", "acc688c41a029562", "6c4de2ff1014f7e1", "IKEv2", "10.10.10.102"),
        (3126078, "UP", "e4ba2d43cfadf3c2", "185a67bf1af52101", "IKEv2", "10.10.10.101")]
    assert ike_rows("ike_sa_table.vsrx-12.x-spoke.txt") == [
        (5622801, "UP", "836a72557a4de2f6", "d00b27c3a11f8082", "IKEv2", "10.10.10.2"),
        (5622800, "UP", "e4ba2d43cfadf3c2", "185a67bf1af52101", "IKEv2", "10.10.10.1")]
    assert ike_rows("ike_sa_table.srx-fw1b01.txt") == [
        (7511026, "UP", "d40c69def0f2e014", "783356e00cddfb70", "IKEv2", "96.230.36.206")]
    assert ike_rows("ike_sa_table.vsrx-azure-srx1.txt") == [
        (8107851, "UP", "fb41ebf0d6974d16", "8d80f0886faa2492", "IKEv2", "13.68.203.192")]
    # an 8-digit index pushes the columns right; IKEv1 shows as Main
    assert ike_rows("ike_sa_table.vsrx-24.4R1-S2-excerpt.txt") == [
        (10827715, "UP", "ccb95f0882a044a8", "67c1a3d54ae8f069", "IKEv2", "174.70.192.83"),
        (10827718, "UP", "f737bec6d2d877ff", "9cb755d0c21be9c3", "IKEv2", "172.3.77.209"),
        (10827726, "UP", "0f33732903bd3ed7", "ed31e2cf6088415f", "Main", "50.233.235.222")]


def test_the_current_ike_table_renders_as_the_device_prints_it():
    """Column for column, the 24.4R1 excerpt (its pushed columns included) and the hub's table."""
    for name in ("ike_sa_table.vsrx-24.4R1-S2-excerpt.txt", "ike_sa_table.vsrx-12.x-hub.txt"):
        printed = [ln for ln in read(name).splitlines() if "@" not in ln]
        assert ike.text(ike.table_records(read(name))).splitlines() == printed


def test_ike_detail_whitespace_collapsed_by_its_source():
    (d,) = ike.parse_detail(read("ike_sa_detail.srx-cluster-azure-blog-2018.txt"))
    assert (d["peer"], d["index"], d["gateway_name"], d["role"], d["state"], d["exchange_type"]) == \
        ("Y.Y.Y.Y", 6226807, "azure-gateway", "Responder", "UP", "IKEv2")
    assert (d["reauth_lifetime"], d["ike_fragmentation"], d["fragmentation_size"], d["peer_ike_id"],
            d["remote_access_client_info"], d["aaa_assigned_ip"]) == \
        ("Disabled", "Disabled", 0, "Y.Y.Y.Y", "Unknown Client", "0.0.0.0")
    assert d["algorithms"] == {"authentication": "hmac-sha1-96", "encryption": "aes256-cbc", "prf": "hmac-sha1",
                               "dh_group": "DH-group-2"}
    assert d["traffic"] == {"input_bytes": 171220, "output_bytes": 171204, "input_packets": 2251,
                            "output_packets": 2251, "input_fragmented_packets": 0, "output_fragmented_packets": 0}
    assert (d["ipsec_sas_created"], d["ipsec_sas_deleted"], d["phase2_negotiations_in_progress"]) == (2, 0, 1)
    assert d["negotiations"] == [{"negotiation_type": "Quick mode", "role": "Responder", "message_id": 0,
                                  "local": "X.X.X.X:500", "remote": "Y.Y.Y.Y:500", "local_identity": "Z.Z.Z.Z",
                                  "remote_identity": "Y.Y.Y.Y", "flags": ["IKE SA is created. Waiting for remove"]}]
    (sa,) = ike.parse_text(read("ike_sa_detail.srx-cluster-azure-blog-2018.txt"),
                           lambda remote, gateway: f"vpn-of-{gateway}")
    # the device's words read back into the configuration's
    assert (sa.name, sa.gateway, sa.local, sa.local_port, sa.remote_port, sa.lifetime_remaining, sa.authentication,
            sa.encryption, sa.dh_group, sa.initiator_cookie) == \
        ("vpn-of-azure-gateway", "azure-gateway", "X.X.X.X", 500, 500, 2148, "sha1", "aes-256-cbc", "group2",
         "77034040d34a7428")


def ipsec_rows(name):
    return [(r["direction"], r["id"], r["algorithm"], r["spi"], r["life_seconds"], r["life_kb"], r["monitoring"],
             r["lsys"], r["port"], r["gateway"]) for r in ipsec.parse_table(read(name))]


def test_ipsec_tables():
    hub = ipsec.parse_summary(read("ipsec_sa_table.vsrx-12.x-hub.txt"))
    assert (hub["layout"], hub["total_active_tunnels"]) == ("current", 2)
    assert ipsec_rows("ipsec_sa_table.vsrx-12.x-hub.txt") == [
        ("inbound", 268173313, "ESP:aes-cbc-128/sha256", "f31c0d6d", 3429, "unlim", "-", "root", 500, "10.10.10.101"),
        ("outbound", 268173313, "ESP:aes-cbc-128/sha256", "2267ff45", 3429, "unlim", "-", "root", 500, "10.10.10.101"),
        ("inbound", 268173314, "ESP:aes-cbc-128/sha256", "7f84742d", 3430, "unlim", "-", "root", 500, "10.10.10.102"),
        ("outbound", 268173314, "ESP:aes-cbc-128/sha256", "e740b41a", 3430, "unlim", "-", "root", 500, "10.10.10.102")]
    # the spoke's VPN monitoring is up (U); its SPIs are the hub's, mirrored
    spoke = ipsec_rows("ipsec_sa_table.vsrx-12.x-spoke.txt")
    assert {r[6] for r in spoke} == {"U"} and [r[1] for r in spoke] == [131073, 131073, 131074, 131074]
    assert (spoke[0][3], spoke[1][3]) == ("2267ff45", "f31c0d6d")
    assert ipsec_rows("ipsec_sa_table.srx-fw1b01.txt") == [
        ("inbound", 131073, "ESP:3des/sha1", "68e14219", 1298, "unlim", "U", "root", 500, "96.230.36.206"),
        ("outbound", 131073, "ESP:3des/sha1", "cb3ccd42", 1298, "unlim", "U", "root", 500, "96.230.36.206")]
    # NAT-T: port 4500; the two ends' SPIs mirror each other
    srx1, srx2 = ipsec_rows("ipsec_sa_table.vsrx-azure-srx1.txt"), ipsec_rows("ipsec_sa_table.vsrx-azure-srx2.txt")
    assert [r[8] for r in srx1 + srx2] == [4500] * 4
    assert (srx1[0][3], srx1[1][3]) == (srx2[1][3], srx2[0][3]) == ("18bdd9c9", "66f9ccb0")
    assert ipsec.parse_summary(read("ipsec_sa_table.vsrx-azure-srx1.txt"))["total_ipsec_sas"] == 1


def test_ipsec_tables_excerpted_and_whitespace_collapsed():
    excerpt = ipsec.parse_summary(read("ipsec_sa_table.vsrx-24.4R1-S2-excerpt.txt"))
    assert (excerpt["total_active_tunnels"], excerpt["total_ipsec_sas"], len(excerpt["rows"])) == (6, 6, 4)
    (gcm, cbc) = ipsec.table_records(read("ipsec_sa_table.vsrx-24.4R1-S2-excerpt.txt"))
    assert (gcm.index, gcm.encryption, gcm.authentication, gcm.spi_in, gcm.spi_out, gcm.life_seconds) == \
        (131073, "aes-128-gcm", "None", "94337ff7", "b941875f", 1932)
    assert (cbc.index, cbc.encryption, cbc.authentication, cbc.gateway) == \
        (131074, "aes-256-cbc", "hmac-sha-256-128", "104.193.170.172")
    # node0 cluster header, prompt, one space between every column (`21727/unlim` joined)
    blog = ipsec_rows("ipsec_sa_table.srx-cluster-azure-blog-2018.txt")
    assert ipsec.parse_summary(read("ipsec_sa_table.srx-cluster-azure-blog-2018.txt"))["total_active_tunnels"] == 3
    assert [(r[0][0], r[1], r[3], r[4], r[9]) for r in blog] == [
        ("i", 131073, "d3b10cfc", 5044, "10.Z.Z.Z"), ("o", 131073, "7368fc9b", 5044, "10.Z.Z.Z"),
        ("i", 131074, "332ad3c7", 21727, "10.A.A.A"), ("o", 131074, "8e6651f4", 21727, "10.A.A.A"),
        ("i", 131075, "2a8ced1f", 22833, "Y.Y.Y.Y"), ("o", 131075, "7a1c2a8c", 22833, "Y.Y.Y.Y")]


def test_ipsec_detail_2018_cluster():
    (d,) = ipsec.parse_detail(read("ipsec_sa_detail.srx-cluster-azure-blog-2018.txt"))
    assert (d["id"], d["virtual_system"], d["vpn_name"], d["version"], d["df_bit"], d["copy_outer_dscp"],
            d["bind_interface"], d["port"], d["nego"], d["fail"], d["def_del"], d["flag"]) == \
        (131075, "root", "azure-ipsec-vpn", "IKEv2", "clear", "Disabled", "st0.10", 500, 26, 0, 0, "0x600a21")
    assert len(d["tunnel_events"]) == 14
    assert d["tunnel_events"][0] == {"time": "Wed Jan 31 2018 02:11:19", "event": "IKE SA rekey successfully completed",
                                     "times": 2}
    (sa,) = ipsec.parse_text(read("ipsec_sa_detail.srx-cluster-azure-blog-2018.txt"))
    assert (sa.index, sa.name, sa.local_gateway, sa.gateway, sa.port, sa.spi_in, sa.spi_out, sa.life_seconds,
            sa.soft_lifetime, sa.life_kb, sa.monitoring, sa.mode, sa.state, sa.encryption, sa.authentication,
            sa.replay_window, sa.bind_interface, sa.ike_version, sa.lsys) == \
        (131075, "azure-ipsec-vpn", "X.X.X.X", "Y.Y.Y.Y", 500, "8512d6f5", "32c3a32a", 2010, 1450, "unlim", "-",
         "tunnel", "installed", "aes-256-cbc", "hmac-sha1-96", 0, "st0.10", "IKEv2", "root")
    assert sa.remote_identity == "ipv4_subnet(any:0,[0..7]=10.0.0.0/20)"


def test_ipsec_detail_24_4():
    (d,) = ipsec.parse_detail(read("ipsec_sa_detail.vsrx-24.4R1-S2-excerpt.txt"))
    assert (d["df_bit"], d["nego"], d["flag"], d["multi_sa_configured"], d["multi_sa_negotiated"]) == \
        ("copy", 959, "0x600a29", 1, 1)
    assert d["tunnel_events"][1] == {"time": "Sat Feb 14 2026 17:02:56 -0800",
                                     "event": "IKE SA negotiation successfully completed", "times": 56}
    inbound, outbound = d["directions"]
    assert (inbound["anti_replay_service"], inbound["replay_window_size"], inbound["encryption"],
            inbound["vpn_monitoring"]) == ("counter-based enabled", 64, "aes-gcm (128 bits)", "-")
    (sa,) = ipsec.parse_text(read("ipsec_sa_detail.vsrx-24.4R1-S2-excerpt.txt"))
    assert (sa.index, sa.name, sa.ike_version, sa.encryption, sa.authentication, sa.spi_in, sa.spi_out,
            sa.replay_window, sa.bind_interface) == \
        (131073, "BV-FIREHOUSE", "IKEv1", "aes-128-gcm", "None", "94337ff7", "b941875f", 64, "st0.0")


def test_ipsec_detail_25_2_extra_lines():
    (d,) = ipsec.parse_detail(read("ipsec_sa_detail.srx4700-25.2R1.txt"))
    assert (d["ts_type"], d["quantum_secured"], d["hardware_offloaded"], d["pfs_group"], d["packet_encapsulation"],
            d["dest_port"], d["passive_mode_tunneling"], d["policy_name"], d["location"], d["anchorship"],
            d["distribution_profile"]) == ("proxy-id", "Yes", "Yes", "DH-group-20", "None", 0, "Disabled", "ipsec-1",
                                           "FPC 0, PIC 0", "Thread 4", "default-profile")
    inbound = d["directions"][0]
    assert (inbound["spi"], inbound["extended_sequence_number"], inbound["tunnel_establishment"],
            inbound["ike_sa_index"]) == ("0x6304b842", "Enabled", "establish-tunnels-immediately", 5)
    (sa,) = ipsec.parse_text(read("ipsec_sa_detail.srx4700-25.2R1.txt"))
    assert (sa.index, sa.name, sa.spi_in, sa.spi_out, sa.pfs_group, sa.replay_window, sa.encryption,
            sa.authentication, sa.local_identity) == \
        (500002, "4700", "6304b842", "a6ffa623", "group20", 4096, "aes-256-gcm", "aes256-gcm",
         "ipv4(0.0.0.0-255.255.255.255)")


def test_ipsec_xml_of_an_18_4_cluster():
    """rpc-reply / multi-routing-engine-results / -item (node0) / the answer, and a cli banner; a
    rekeyed tunnel lists two SA pairs under one index."""
    sas = ipsec.parse_xml(read("ipsec_sa_table.srx-18.4R3-cluster.xml"))
    assert [(s.index, s.spi_in, s.spi_out, s.life_seconds, s.gateway) for s in sas] == [
        (231076, "bb0d675a", "a9f5fbf3", 24979, "1.1.1.1"), (231076, "f2f52201", "7e5c22ff", 25347, "1.1.1.1"),
        (131074, "9bb78e12", "b8ce3a62", 2801, "2.2.2.2"), (131074, "8a2f7ff3", "d78c51e8", 28556, "2.2.2.2")]
    assert {(s.port, s.protocol, s.encryption, s.authentication, s.life_kb, s.monitoring, s.lsys) for s in sas} == \
        {(401, "ESP", "3des-cbc", "hmac-sha-256-128", "unlim", "-", "root")}


@pytest.mark.parametrize("name,encrypted,decrypted", [
    ("ipsec_statistics.srx4700-25.2R1.txt", (564503159752, 10080413567), (0, 0)),
    ("ipsec_statistics.srx4700-25.2R1-bidir.txt", (327747467040, 5852633340), (655494065968, 5852625589)),
])
def test_statistics_25_2(name, encrypted, decrypted):
    st = stats.parse_text(read(name))
    assert (st.encrypted_bytes, st.encrypted_packets) == encrypted
    assert (st.decrypted_bytes, st.decrypted_packets) == decrypted
    assert (st.ah_input_bytes, st.ah_output_bytes, st.ah_input_packets, st.ah_output_packets) == (0, 0, 0, 0)
    assert st.errors() == dict.fromkeys(("ah_authentication_failures", "replay_errors", "esp_authentication_failures",
                                         "esp_decryption_failures", "bad_headers", "bad_trailers", "invalid_spi",
                                         "ts_check_fail", "exceeds_tunnel_mtu", "discarded"), 0)
    assert set(stats.parse_counters(read(name))) >= {"invalid_spi", "ts_check_fail", "exceeds_tunnel_mtu", "discarded"}
    # the stand-in prints the same lines, aligned as 25.2R1 aligns them
    printed = [ln for ln in read(name).splitlines()[1:] if ln.strip()]
    assert stats.text(st).splitlines() == printed


def test_statistics_xml_fragment():
    assert stats.parse_xml(read("ipsec_statistics.kaalia-docstring-fragment.xml"), 7) == IpsecStats(7, 0, 0, 0, 0)


def test_next_hop_tunnels_9_3_documentation():
    text = read("next_hop_tunnels.junos-es-9.3-doc.txt")
    assert nhtb.parse_text(text) == [NhtbEntry("11.1.1.2", "st0.0", "autokey", "Static"),
                                     NhtbEntry("11.1.1.3", "st0.0", "pbd-4-6", "Auto")]
    assert nhtb.text(nhtb.parse_text(text)).splitlines() == text.splitlines()[1:]
    wider = "Next-hop gateway  interface   IPsec VPN name  Flag    IKE-ID          XAUTH username\n" \
            "10.11.11.13       st0.0       boston-vpn      Auto    boston.example  alice\n"
    assert nhtb.parse_text(wider) == [NhtbEntry("10.11.11.13", "st0.0", "boston-vpn", "Auto", "boston.example", "alice")]


def test_routes():
    assert route.parse_text(read("show_route.srx-fw1b01.txt")).route == Route("10.33.0.0/16", None, "st0.1", "Static", True)
    (t,) = route.parse_tables(read("show_route.vsrx-24.4R1-S2-excerpt.txt"))
    assert (t["destinations"], t["routes"], t["active"]) == (72, 78, 72)
    bgp = t["entries"][1]
    assert (bgp["prefix"], bgp["protocol"], bgp["preference"], bgp["age"], bgp["med"], bgp["localpref"],
            bgp["as_path"], bgp["validation_state"]) == \
        ("10.0.100.0/24", "BGP", 170, "02:27:21", 0, 100, "65500 I", "unverified")
    assert bgp["next_hops"] == [{"selected": True, "to": "192.168.255.5", "via": "st0.1"}]
    assert t["entries"][0]["age"] == "4d 07:44:55"
    assert t["entries"][0]["next_hops"] == [{"selected": False, "table": "Comcast-GigabitPro.inet.0"}]
    assert t["entries"][3]["next_hops"] == [{"selected": False, "to": None, "via": "reth1.51", "local": True}]
    assert [(e["prefix"], e["active"]) for e in t["entries"][4:]] == [("192.168.0.0/24", True), ("192.168.0.0/24", False)]


def test_the_current_route_renders_as_the_device_prints_it():
    (excerpt_hop,) = [ln for ln in read("show_route.vsrx-24.4R1-S2-excerpt.txt").splitlines() if "to 192.168" in ln]
    (fw_entry,) = [ln for ln in read("show_route.srx-fw1b01.txt").splitlines() if ln.startswith("10.33")]
    printed = route.text(RouteAnswer(Route("10.33.0.0/16", "192.168.255.5", "st0.1", "Static", True), 9, 9, 0))
    assert printed.splitlines()[-2:] == [fw_entry.split("]")[0] + "]", excerpt_hop]


def test_a_real_kmd_log():
    events = kmd.parse(read("kmd_log.vsrx-azure-srx1.txt"))
    assert [(e.time, e.kind, e.role, e.local, e.remote, e.vpn) for e in events] == [
        ("Aug  3 10:18:01", "vpn-down", "", "10.0.1.50", "13.68.203.192", "ipsec-vpn-1"),
        ("Aug  3 10:18:44", "p2-done", "", "10.0.1.50", "13.68.203.192", None),  # the inbound/outbound pair: one
        ("Aug  3 10:18:44", "vpn-up", "", "10.0.1.50", "13.68.203.192", "ipsec-vpn-1"),
        ("Aug  3 10:18:44", "p1-done", "initiator", "10.0.1.50", "13.68.203.192", "ipsec-vpn-1")]
    assert events[0].error == "Tunnel configuration is deleted. Corresponding IKE/IPSec SAs are deleted"
    assert (events[1].p2_local, events[1].p2_remote) == ("0.0.0.0/0", "0.0.0.0/0")
    assert all(line.startswith(e.time) for e in events for line in kmd.kmd_lines(e))


EVENTS = [kmd.IkeEvent("Nov 27 08:30:52", kind, role, "1.1.1.2", "3.3.3.2", error=error, p2_local=p2l, p2_remote=p2r)
          for kind, role, error, p2l, p2r in (
              ("p1-done", "responder", None, None, None), ("p1-failed", "initiator", kmd.TIMED_OUT, None, None),
              ("peer-unknown", "responder", kmd.NO_PROPOSAL, None, None),
              ("p2-done", "initiator", None, "192.168.168.0/24", "0.0.0.0/0"),
              ("p2-failed", "responder", kmd.NO_PROPOSAL, None, None),
              ("proxy-id-mismatch", "responder", kmd.NO_PROPOSAL, "192.168.168.0/24", "192.168.178.0/24"))]


def test_kmd_lines_read_back_into_their_events():
    """Every kind, written by kmd_lines and parsed back (kmd's lines name no VPN)."""
    text = "\n".join(line for e in EVENTS for line in kmd.kmd_lines(e))
    assert kmd.parse(text) == EVENTS


def test_a_stand_ins_kmd_log_reads_back_into_its_charon_events():
    logs = sorted((FIXTURES / "charon_logs").glob("*.log"))
    for log in logs:
        events = kmd.parse(log.read_text())
        # kmd's lines name no VPN, but for a VPN's down alarm (KMD_VPN_DOWN_ALARM_USER names it)
        assert events and kmd.parse(kmd.kmd(log.read_text())) == [
            e.__class__(**{**e.__dict__, "vpn": e.vpn if e.kind == "vpn-down" else None}) for e in events], log.name


# An unknown column or line in these files: test_junos_text.py's test_an_unknown_field_is_named_not_guessed.


@pytest.mark.parametrize("name,parser,old,new,named", [
    ("ipsec_sa_table.srx-18.4R3-cluster.xml", ipsec.parse_xml, "sa-hmac-algorithm>", "sa-hmac-flavour>",
     "ipsec-security-associations/sa-hmac-flavour"),
    ("ipsec_sa_table.srx-18.4R3-cluster.xml", ipsec.parse_xml, "<re-name>node0</re-name>",
     "<re-name>node0</re-name><re-colour/>", "re-colour"),
    ("ipsec_sa_table.srx-18.4R3-cluster.xml", ipsec.parse_xml, "<sa-direction>&lt;", "<sa-direction>&amp;",
     "sa-direction=&"),
    ("ipsec_statistics.kaalia-docstring-fragment.xml", stats.parse_xml, "bad-trailers>", "odd-trailers>",
     "error-statistics/odd-trailers"),
])
def test_an_unknown_element_is_named(name, parser, old, new, named):
    text = read(name)
    assert old in text
    with pytest.raises(UnknownField, match=named):
        parser(text.replace(old, new))


def test_content_that_parses_to_nothing_is_an_error():
    with pytest.raises(UnknownField, match="SAs are missing"):
        ipsec.parse_table("  Total active tunnels: 2     Total Ipsec sas: 2\n")
    assert ipsec.parse_table("  Total active tunnels: 0     Total Ipsec sas: 0\n") == []
    with pytest.raises(UnknownField, match="nothing parsed"):
        ipsec.parse_xml("<ipsec-security-associations-information><total-active-tunnels>1</total-active-tunnels>"
                        "</ipsec-security-associations-information>")
    with pytest.raises(UnknownField, match="line 2: unknown line"):
        ipsec.parse_detail("node0:\nsomething else: 1\n")
