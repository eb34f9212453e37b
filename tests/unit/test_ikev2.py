"""IKEv2 from the configs: Junos `security ike gateway G version v2-only` (the values and the
default read from Juniper's YANG for SRX 24.4R1) becomes charon's version 2, where the IKE
policy's mode means nothing; the verification then expects Junos's IKEv2 mode; a Junos peer still
gets an Auto NHTB entry; DPD on IKEv2 is said not to be emulated as configured."""
from __future__ import annotations

import re

import pytest

from harness.model.lab import load_lab
from harness.model.ledger import not_emulated
from harness.render import strongswan
from harness.render.binding import binding_specs
from harness.model.topology import ends

from ..conftest import shared_oracle
from .test_validate import edit, expect_error

YANG = "reference/junos-yang-24.4R1/conf/junos-es-conf-security@2024-01-01.yang"


def yang_versions() -> tuple[str, list[str]]:
    """(default, values) of the site-to-site gateway's `version` leaf, from the YANG."""
    text = shared_oracle(YANG).read_text()
    block = text[text.index('description "Negotiate using either IKE v1 or IKE v2 protocol"'):]
    block = block[:block.index("}\n       }\n")]
    return re.search(r'default "([^"]+)"', block).group(1), re.findall(r'enum "([^"]+)"', block)


def v2(lab_copy):
    """Westford's VPN on IKEv2 at both ends (the hub's gateway to it, and Westford's to the hub)."""
    lab_dir = lab_copy.parents[1] / "lab"
    edit(lab_dir / "corporate.junos", "gateway westford-gate {", "gateway westford-gate {\n            version v2-only;")
    return edit(lab_dir / "westford.junos", "gateway corp-gate {", "gateway corp-gate {\n            version v2-only;")


def test_v2_only_is_charons_ikev2_and_v1_only_the_default(lab_copy):
    default, values = yang_versions()
    assert default == "v1-only" and set(values) == {"v1-only", "v2-only"}
    before = load_lab(lab_copy)
    assert {g.version for s in before.sites.values() for g in s.gateways.values()} == {default}
    v2(lab_copy)
    lab = load_lab(lab_copy)
    hub = strongswan.connections(lab.sites["corporate"])
    assert (hub["westford-vpn"]["version"], hub["sunnyvale-vpn"]["version"]) == ("2", "1")
    assert strongswan.connections(lab.sites["westford"])["corp-vpn"]["version"] == "2"
    assert hub["westford-vpn"]["aggressive"] == "no"
    assert hub["westford-vpn"]["mobike"] == "no"  # Junos has no MOBIKE: the SA stays on port 500
    assert not_emulated(lab) == []


def test_a_junos_ikev2_peer_still_gets_an_auto_entry(lab_copy):
    v2(lab_copy)
    lab = load_lab(lab_copy)
    [spec] = binding_specs(lab, lab.sites["corporate"])
    westford_st0 = str(lab.sites["westford"].units["st0.0"].addresses[0].ip)
    assert spec["vpns"]["westford-vpn"]["auto_next_hop"] == westford_st0


def test_a_version_junos_does_not_have_is_refused_at_its_line(lab_copy):
    line = edit(lab_copy.parents[1] / "lab" / "westford.junos", "gateway corp-gate {",
                "gateway corp-gate { version v3-only;")
    expect_error(lab_copy, "westford.junos", line, "ike gateway corp-gate: version 'v3-only' is not v1-only or v2-only")


def test_dpd_on_an_ikev2_gateway_sets_its_nodes_retransmission(lab_copy):
    """charon knows a dead IKEv2 peer by its retransmission: Westford's charon gives up on an
    unanswered probe interval x threshold after sending it, and nothing is said against it."""
    from harness.render import strongswan

    from .test_dpd import charon_gives_up_after, retransmit_settings

    v2(lab_copy)
    edit(lab_copy.parents[1] / "lab" / "westford.junos", "gateway corp-gate {",
         "gateway corp-gate { dead-peer-detection { interval 2; threshold 3; }")
    lab = load_lab(lab_copy)
    assert lab.warnings == []
    conf = strongswan.strongswan_conf(strongswan.retransmission(lab.sites["westford"]))
    assert charon_gives_up_after(retransmit_settings(conf)) == 2 * 3


@pytest.mark.parametrize("version,mode,other", [("v1-only", "Main", "IKEv2"), ("v2-only", "IKEv2", "Main")])
def test_phase_1_expects_the_mode_junos_prints(lab_copy, version, mode, other):
    from harness.junos.records import IkeSA
    from harness.verify import checks

    if version == "v2-only":
        v2(lab_copy)
    lab = load_lab(lab_copy)
    end = ends(lab.sites["westford"])[0]
    vpn, peer, local = end.vpn.name, str(end.gateway.address), str(end.local_address)

    class Driver:  # an SA as a device would list it, in the mode the test gives
        node = "westford"

        def __init__(self, shown: str):
            self.shown = shown

        def ike_sas(self):
            return [IkeSA(1, vpn, peer, "UP", "c", "r", self.shown, "Initiator", local, 500, 500, 100,
                          "hmac-sha1-96", "aes-128-cbc", "hmac-sha1", "2", 0, 0, 0, 0, 1, 0)]

    right, wrong = checks.phase1(lab, Driver(mode), timeout=0), checks.phase1(lab, Driver(other), timeout=0)
    assert right.ok and f"{mode} mode" in right.expected, right
    assert not wrong.ok, wrong


@pytest.mark.parametrize("version,accepted", [("v1-only", {"group2"}), ("v2-only", {"group2", "none"})])
def test_phase_2_takes_no_pfs_group_only_on_an_ikev2_first_child_sa(lab_copy, version, accepted):
    """IKEv2 makes the first CHILD SA in IKE_AUTH, without a key exchange (RFC 7296): no PFS group
    on it, where IKEv1's quick mode has one."""
    from harness.junos.records import IpsecSA
    from harness.verify import checks

    if version == "v2-only":
        v2(lab_copy)
    lab = load_lab(lab_copy)
    end = ends(lab.sites["westford"])[0]
    vpn, peer, local = end.vpn.name, str(end.gateway.address), str(end.local_address)
    assert lab.sites["westford"].ipsec_policies[end.vpn.ipsec_policy].pfs_group == 2  # the note's group2

    class Driver:
        node = "westford"

        def __init__(self, group: str):
            self.group = group

        def ipsec_sas(self):
            return [IpsecSA(index=1, name=vpn, local_gateway=local, gateway=peer, port=500, protocol="ESP",
                            encryption="3des-cbc", authentication="hmac-sha1-96", spi_in="1", spi_out="2",
                            life_seconds=3000, life_kb="unlim", monitoring="-", vsys=0,
                            local_identity="ipv4_subnet(any:0,[0..7]=0.0.0.0/0)",
                            remote_identity="ipv4_subnet(any:0,[0..7]=0.0.0.0/0)", mode="tunnel", pfs_group=self.group,
                            state="installed", replay_window=64, soft_lifetime=2700)]

    seen = {g for g in ("group2", "none", "group5") if checks.phase2(lab, Driver(g), timeout=0).ok}
    assert seen == accepted


def test_an_ikev2_gateway_against_an_ikev1_peer_is_a_pre_flight_finding(lab_copy):
    """One side v2-only, the other Junos's default v1-only: phase 1 cannot complete."""
    from harness.model.preflight import preflight

    line = edit(lab_copy.parents[1] / "lab" / "westford.junos", "gateway corp-gate {",
                "gateway corp-gate { version v2-only;")
    found = [f for f in preflight(load_lab(lab_copy)) if "IKE version differs" in f.message]
    assert len(found) == 1 and found[0].blocks_sa and "v1-only" in found[0].message and "v2-only" in found[0].message
    assert any(str(s).endswith(f"westford.junos:{line}") for s in found[0].sources), found[0].sources
