"""Pre-flight across sites: predictions of what will not come up, naming both ends' files and lines."""
from __future__ import annotations

import shutil

from harness.model.lab import load_lab
from harness.model.preflight import preflight

from ..conftest import FIXTURES, THREE_SITE
from .test_validate import edit


def findings_for(topology):
    return [str(f) for f in preflight(load_lab(topology))]


def test_the_lab_as_shipped_has_no_findings():
    assert findings_for(THREE_SITE) == []


def test_the_notes_appendix_keys_do_not_match(lab_copy):
    """The appendix's $9$ keys decode to different strings: phase 1 could never complete."""
    shutil.copy(FIXTURES / "note" / "corporate.junos", lab_copy.parent.parent / "lab" / "corporate.junos")
    found = [f for f in findings_for(lab_copy) if "pre-shared keys differ" in f]
    assert len(found) == 2  # hub <-> westford and hub <-> sunnyvale
    westford = next(f for f in found if "westford" in f)
    assert "corporate.junos:" in westford and "westford.junos:" in westford
    assert "Voyager" not in " ".join(found)  # the keys themselves are never shown


def test_phase1_proposal_mismatch(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "westford.junos", "proposal-set standard;", "proposal-set basic;")
    found = findings_for(lab_copy)
    assert any("no common phase-1 proposal" in f and "westford" in f for f in found), found


IPSEC_SET = "}\n            proposal-set standard;"  # the IPsec policy's set follows its PFS block


def test_phase2_proposal_mismatch(lab_copy):
    path = lab_copy.parent.parent / "lab" / "westford.junos"
    path.write_text(path.read_text().replace(IPSEC_SET, "}\n            proposal-set basic;"))
    found = findings_for(lab_copy)
    assert any("no common phase-2 proposal" in f and "nopfs-esp-des-sha" in f for f in found), found


def test_pfs_mismatch(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "westford.junos", "keys group2;", "keys group5;")
    found = findings_for(lab_copy)
    assert any("PFS differs: group2 vs group5" in f for f in found), found
    assert not any("proposal" in f for f in found), found


def test_missing_static_nhtb_for_the_screenos_spoke(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "corporate.junos", "next-hop-tunnel 10.11.11.11 ipsec-vpn sunnyvale-vpn;", "")
    found = findings_for(lab_copy)
    assert any("runs screenos" in f and "sunnyvale-vpn" in f for f in found), found
    assert any("route 192.168.168.0/24 via 10.11.11.11" in f and "inactive" in f for f in found), found


def test_wrong_gateway_address_is_not_recognized(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "corporate.junos", "address 2.2.2.2;", "address 2.2.2.3;")
    found = findings_for(lab_copy)
    assert any("belongs to no site" in f for f in found), found
    assert any("sunnyvale" in f and "no IKE gateway pointing back" in f for f in found), found


def test_wrong_external_interface(lab_copy):
    labdir = lab_copy.parent.parent / "lab"
    text = (labdir / "corporate.junos").read_text()
    text = text.replace("address 3.3.3.2;\n            external-interface ge-0/0/3.0;",
                        "address 3.3.3.2;\n            external-interface ge-0/0/0.0;")
    (labdir / "corporate.junos").write_text(text)
    found = findings_for(lab_copy)
    assert any("leave through ge-0/0/3.0, not the gateway's external-interface ge-0/0/0.0" in f for f in found), found


def test_missing_bind_interface(lab_copy):
    edit(lab_copy.parent.parent / "lab" / "westford.junos", "bind-interface st0.0;", "")
    found = findings_for(lab_copy)
    assert any("no bind-interface" in f and "phase 2 cannot complete" in f for f in found), found


def test_proxy_id_mismatch(lab_copy):
    labdir = lab_copy.parent.parent / "lab"
    with open(labdir / "sunnyvale.screenos", "a") as f:
        f.write('set vpn "corp-vpn" proxy-id local-ip 192.168.168.0/24 remote-ip 10.10.20.0/24 "ANY"\n')
    found = findings_for(lab_copy)
    assert any("proxy IDs do not match" in f for f in found), found
