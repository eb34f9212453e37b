"""IKEv2 on the live lab: the note's lab with Westford's VPN on `version v2-only` at both ends (the
hub's gateway to Westford and Westford's to the hub). The note's verification passes with the
mode Junos prints for IKEv2; charon negotiated version 2 (its own report), Sunnyvale's VPN stayed
IKEv1; the hub's NHTB entry for Westford is Auto, as a Junos IKEv2 peer's is."""
from __future__ import annotations

import pytest

from harness.drivers import for_lab
from harness.junos import ike, ipsec
from harness.model.topology import ends, peer_end
from harness.verify.suite import verify

from .conftest import variant_lab

SPOKE = "westford"


@pytest.fixture(scope="module")
def v2_lab(tmp_path_factory):
    def commands(model):
        spoke_end = ends(model.sites[SPOKE])[0]
        hub_end = peer_end(model, spoke_end)
        return {e.site.name: [f"set security ike gateway {e.gateway.name} version v2-only"] for e in (spoke_end, hub_end)}

    with variant_lab(tmp_path_factory.mktemp("ikev2"), "ikev2", commands) as lab:
        yield lab


def test_an_ikev2_spoke_verifies_with_an_auto_entry(v2_lab):
    lab = v2_lab
    drivers = for_lab(lab.name)
    failed = [str(r) for r in verify(lab.model, drivers) if not r.ok]
    assert failed == [], failed
    spoke_end = ends(lab.model.sites[SPOKE])[0]
    hub_end = peer_end(lab.model, spoke_end)
    hub = hub_end.site.name
    # What charon negotiated, as it reports it (not the config): version 2 for Westford's VPN only.
    versions = {name: sa["version"] for entry in lab.rt.sas(lab.name, hub) for name, sa in entry.items()}
    assert versions[hub_end.vpn.name] == "2", versions
    assert {v for n, v in versions.items() if n != hub_end.vpn.name} == {"1"}, versions
    sas = drivers[hub].ike_sas()
    assert {s.name: s.mode for s in sas}[hub_end.vpn.name] == "IKEv2"
    assert "IKEv2" in ike.text(sas) and "Exchange type: IKEv2" in ike.text(sas, detail=True)
    assert "Version: IKEv2" in ipsec.text([s for s in drivers[hub].ipsec_sas() if s.name == hub_end.vpn.name], detail=True)
    entries = {e.vpn: e.flag for e in drivers[hub].next_hop_tunnels()}
    assert entries[hub_end.vpn.name] == "Auto", entries
