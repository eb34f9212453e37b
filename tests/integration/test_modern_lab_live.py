"""The second lab on the live lab VM (topologies/modern.clab.yml): brought up and verified like
the note's lab (custom proposals, IKEv2 to Austin, Auto entries for both spokes, Boston's VPN
monitored: Mon U), then DPD: Boston's Internet link cut, the hub's entry for it goes; restored,
the entry returns (tunnels established at once: Boston brings it back by itself)."""
from __future__ import annotations

import pytest

from harness.drivers import for_lab
from harness.model.ifnames import linux_ifname
from harness.model.topology import ends
from harness.verify.suite import verify

from ..conftest import TOPOLOGIES
from .conftest import own_lab, wait_until

MODERN = TOPOLOGIES / "modern.clab.yml"
SPOKE = "boston"


@pytest.fixture(scope="module")
def modern():
    with own_lab(MODERN, "modern") as lab:
        yield lab


def test_the_modern_lab_verifies_and_dpd_takes_a_cut_spoke_out_and_back(modern):
    lab = modern
    drivers = for_lab(lab.name)
    failed = [str(r) for r in verify(lab.model, drivers) if not r.ok]
    assert failed == [], failed
    hub = lab.model.hub().name
    assert {e.vpn: e.flag for e in drivers[hub].next_hop_tunnels()} == {v: "Auto" for v in lab.model.sites[hub].vpns}
    modes = {s.name: s.mode for s in drivers[hub].ike_sas()}
    v2 = {e.vpn.name for e in ends(lab.model.sites[hub]) if e.gateway.version == "v2-only"}
    assert v2 and all(modes[v] == "IKEv2" for v in v2) and all(m == "Main" for v, m in modes.items() if v not in v2)
    monitored = [v.name for v in lab.model.sites[SPOKE].vpns.values() if v.monitor]
    # wait_until returns 0.0 when it held at once: compare with None, never by truth
    assert wait_until(lambda: all(s.monitoring == "U" for s in drivers[SPOKE].ipsec_sas() if s.name in monitored),
                      60) is not None

    spoke_vpn = next(e.vpn.name for e in ends(lab.model.sites[hub]) if str(e.gateway.address) ==
                     str(lab.model.sites[SPOKE].public_address()))
    gw = ends(lab.model.sites[SPOKE])[0].gateway
    near = linux_ifname("junos", gw.external_interface)
    _, far = next((a, b) for a, b in lab.model.topology.links_of(SPOKE) if a.iface == near)

    def entry() -> bool:
        return any(e.vpn == spoke_vpn for e in drivers[hub].next_hop_tunnels())

    lab.exec(far.node, "ip", "link", "set", far.iface, "down")
    dpd = lab.model.sites[hub].gateways[next(e.gateway.name for e in ends(lab.model.sites[hub]) if e.vpn.name == spoke_vpn)].dpd
    gone = wait_until(lambda: not entry(), 90)
    print(f"\nmodern lab: the hub's entry for {spoke_vpn} went {gone} s after the cut "
          f"(DPD interval x threshold = {dpd.interval * dpd.threshold} s)")
    assert gone is not None, "the hub kept the cut spoke's entry"
    lab.exec(far.node, "ip", "link", "set", far.iface, "up")
    back = wait_until(entry, 120)
    print(f"modern lab: the entry returned {back} s after the link was restored")
    assert back is not None, "the spoke's tunnel did not come back by itself"
