"""`establish-tunnels` on the live lab, in a copy of the note's lab where Westford's VPN is
`establish-tunnels immediately` on both ends and Sunnyvale's stays on-traffic (the note's default):

- immediately: when its SAs are cleared on the hub (`clear security ike security-associations`),
  the VPN is negotiated again with no traffic at all;
- on-traffic: cleared, it stays down while nothing is sent; then a packet from the hub's LAN brings
  it up through the binding: the hub's static NHTB entry for Sunnyvale keeps its XFRM policy, the
  packet asks charon for an SA, and the hub is the initiator."""
from __future__ import annotations

import time

import pytest

from harness.drivers import for_lab
from harness.model.topology import ends, peer_end

from .conftest import RunningLab, variant_lab, wait_until

IMMEDIATE, ON_TRAFFIC = "westford", "sunnyvale"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    def commands(model):
        spoke_end = ends(model.sites[IMMEDIATE])[0]
        return {e.site.name: [f"set security ipsec vpn {e.vpn.name} establish-tunnels immediately"]
                for e in (spoke_end, peer_end(model, spoke_end))}

    with variant_lab(tmp_path_factory.mktemp("establish"), "estab", commands) as lab:
        yield lab


def hub_vpn(lab: RunningLab, spoke: str):
    end = peer_end(lab.model, ends(lab.model.sites[spoke])[0])
    return end.site.name, end.vpn.name


def sa(driver, vpn: str):
    return next((s for s in driver.ike_sas() if s.name == vpn and s.state == "UP"), None)


def test_immediately_negotiates_again_without_traffic(lab):
    hub, vpn = hub_vpn(lab, IMMEDIATE)
    drivers = for_lab(lab.name)
    before = sa(drivers[hub], vpn)
    assert before is not None
    assert lab.rt.terminate(lab.name, hub, vpn)
    back = wait_until(lambda: (s := sa(drivers[hub], vpn)) is not None and s.initiator_cookie != before.initiator_cookie, 30)
    print(f"\nestablish-tunnels immediately: {vpn} up again {back} s after it was cleared, no traffic sent")
    assert back is not None, f"{vpn} did not come back by itself"


def test_on_traffic_stays_down_until_a_packet_from_the_hub_brings_it_up(lab):
    hub, vpn = hub_vpn(lab, ON_TRAFFIC)
    drivers = for_lab(lab.name)
    assert sa(drivers[hub], vpn) is not None
    assert lab.rt.terminate(lab.name, hub, vpn)
    assert wait_until(lambda: sa(drivers[hub], vpn) is None, 10) is not None
    time.sleep(5)
    assert sa(drivers[hub], vpn) is None, f"{vpn} came back with no traffic: it is on-traffic"
    hub_host = lab.model.lan_host(hub)
    target = lab.model.host_address(lab.model.lan_host(ON_TRAFFIC))
    up = wait_until(lambda: drivers[hub_host].ping(target, count=1).received > 0, 40)
    print(f"on-traffic: {vpn} brought up by pings from {hub_host} in {up} s")
    assert up is not None, f"traffic from {hub_host} did not bring {vpn} up"
    assert sa(drivers[hub], vpn).role == "Initiator"  # the hub started it, through the binding
