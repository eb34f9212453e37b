"""Dead-peer detection on the live lab: the note's lab with `dead-peer-detection` on the hub's
Westford gateway and on Westford's, once on IKEv1 (interval 2, threshold 3) and once with both
gateways `version v2-only` (interval 2, threshold 5: charon's own retransmission would give up
after about 24 s, the config says 10). Westford's Internet link is cut at the Internet router
while the hub's LAN keeps sending to it: the hub clears its IKE and IPsec SAs no sooner than
interval x threshold and within it plus a margin, the Auto NHTB entry goes, the route through it
turns inactive and the kmd view says why.
The link restored, the next packet from Westford's LAN brings the tunnel back (on-traffic, as the
note's VPNs are). The figures are printed (pytest -s) for the README."""
from __future__ import annotations

from datetime import datetime

import pytest

from harness.drivers import for_lab
from harness.junos import kmd
from harness.model.ifnames import linux_ifname
from harness.model.topology import ends, peer_end

from .conftest import variant_lab, wait_until

SPOKE = "westford"
VARIANTS = {"v1-only": (2, 3), "v2-only": (2, 5)}  # IKE version -> (interval, threshold)
LOG_TIME = "%b %e %H:%M:%S"  # charon's log time: second grain, no year


def seconds_between(earlier: str, later: str) -> int:
    """Seconds between two of charon's log times (a year's end between them is not handled)."""
    a, b = (datetime.strptime(t, LOG_TIME.replace("%e", "%d")) for t in (earlier, later))
    return int((b - a).total_seconds())


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def dpd_lab(request, tmp_path_factory):
    version = request.param
    interval, threshold = VARIANTS[version]
    ends_of = {}

    def commands(model):
        spoke_end = ends(model.sites[SPOKE])[0]
        ends_of["hub"] = hub_end = peer_end(model, spoke_end)
        at = "set security ike gateway {}"
        return {e.site.name: [f"{at.format(e.gateway.name)} dead-peer-detection interval {interval}",
                              f"{at.format(e.gateway.name)} dead-peer-detection threshold {threshold}"]
                + ([f"{at.format(e.gateway.name)} version v2-only"] if version == "v2-only" else [])
                for e in (spoke_end, hub_end)}

    with variant_lab(tmp_path_factory.mktemp("dpd"), f"dpd-{version[:2]}", commands) as lab:
        yield lab, ends_of["hub"], version


def test_a_dead_spoke_is_cleared_by_dpd_and_comes_back_on_traffic(dpd_lab):
    lab, hub_end, version = dpd_lab
    INTERVAL, THRESHOLD = VARIANTS[version]  # noqa: N806
    hub, vpn = hub_end.site.name, hub_end.vpn.name
    drivers = for_lab(lab.name)
    spoke_host, hub_host = lab.model.lan_host(SPOKE), lab.model.lan_host(hub)
    spoke_lan_ip = lab.model.host_address(spoke_host)

    def entry():
        return [e for e in drivers[hub].next_hop_tunnels() if e.vpn == vpn]

    def sa_up():
        return any(s.name == vpn and s.state == "UP" for s in drivers[hub].ike_sas())

    assert entry() and sa_up() and drivers[hub].route(spoke_lan_ip).active
    assert {s.name: s.mode for s in drivers[hub].ike_sas()}[vpn] == ("IKEv2" if version == "v2-only" else "Main")
    external = ends(lab.model.sites[SPOKE])[0].gateway.external_interface
    near = linux_ifname("junos", external)
    _, far = next((a, b) for a, b in lab.model.topology.links_of(SPOKE) if a.iface == near)

    def cleared() -> bool:
        # Traffic goes out meanwhile: Junos's default (optimized) probes only then.
        drivers[hub_host].ping(spoke_lan_ip, count=1)
        return not sa_up() and not entry() and not drivers[hub].route(spoke_lan_ip).active

    # The cut's time and charon's verdict are both read on the node's clock, so the figure is
    # the daemon's, not this poll's: under emulation, a loaded machine stretched one poll to 4 s.
    # Without TZ, as charon runs (its environment is PATH and STRONGSWAN_CONF only).
    cut = lab.exec(far.node, "sh", "-c", f'ip link set "$0" down && env -u TZ date "+{LOG_TIME}"', far.iface)
    assert cut["returncode"] == 0, cut
    cleared_after = wait_until(cleared, 60)
    assert cleared_after is not None, f"hub still holds {vpn} 60 s after the cut"
    assert not [s for s in drivers[hub].ipsec_sas() if s.name == vpn]
    downs = [e for e in kmd.parse(drivers[hub].log(None)) if e.kind == "vpn-down" and e.vpn == vpn]
    if not downs:
        print(drivers[hub].log(60))
    assert downs and downs[-1].error == kmd.DPD_DEAD, downs
    gone = seconds_between(cut["stdout"].strip(), downs[-1].time)
    limit = INTERVAL * THRESHOLD + 2 * INTERVAL + 1  # a probe interval either side; the log's 1 s grain
    print(f"\nDPD ({version}): hub's charon declared {vpn} dead {gone} s after the cut (interval x threshold = "
          f"{INTERVAL * THRESHOLD} s); the poll saw its SAs, NHTB entry and route gone {cleared_after} s after the cut")
    assert gone <= limit, f"hub declared {vpn} dead {gone} s after the cut"
    # Not before: the peer is dead only after `threshold` probes went unanswered, `interval` apart.
    # charon counts from the last packet heard from the peer, which an idle tunnel's own probe made
    # up to an interval before the cut (IKEv1: 5 s, and once in CI 3 s, against 6), and the two
    # times are read to the second: so no sooner than threshold - 1 intervals, less a second.
    assert gone >= INTERVAL * (THRESHOLD - 1) - 1, f"hub declared {vpn} dead {gone} s after the cut"

    lab.exec(far.node, "ip", "link", "set", far.iface, "up")
    back = wait_until(lambda: drivers[spoke_host].ping(lab.model.host_address(hub_host), count=1).received > 0, 90, 0)
    print(f"DPD ({version}): traffic from {spoke_host} flowed again {back} s after the link was restored")
    assert back is not None, "the tunnel did not come back after the link was restored"
    assert wait_until(lambda: entry() and drivers[hub].route(spoke_lan_ip).active, 30) is not None
