"""VPN monitoring on the live lab: the note's lab with Westford's VPN monitored (`vpn-monitor`
from its LAN interface to the hub's LAN host, `vpn-monitor-options interval 2 threshold 3`,
`establish-tunnels immediately`). The Mon column reads U; when the hub's LAN host stops answering
Westford's probes (their source dropped there: the tunnel itself still works), the VPN is declared
down within interval x threshold (plus a margin), as an SRX logs it, its IPsec SA is cleared and
negotiated again (a new SPI), Mon reads D; answered again, Mon reads U. The figures are printed
(pytest -s) for the README."""
from __future__ import annotations

import time

import pytest

from harness.drivers import for_lab
from harness.model.topology import ends, peer_end

from .conftest import variant_lab, wait_until

INTERVAL, THRESHOLD = 2, 3
SPOKE = "westford"
DROP_TABLE = "vpnmon_test"


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    def commands(model):
        site = model.sites[SPOKE]
        end = ends(site)[0]
        hub = peer_end(model, end).site.name
        target = model.host_address(model.lan_host(hub))
        vpn = f"set security ipsec vpn {end.vpn.name}"
        return {SPOKE: [f"set security ipsec vpn-monitor-options interval {INTERVAL}",
                        f"set security ipsec vpn-monitor-options threshold {THRESHOLD}",
                        f"{vpn} establish-tunnels immediately",
                        f"{vpn} vpn-monitor source-interface {site.lan_units()[0].name}",
                        f"{vpn} vpn-monitor destination-ip {target}"]}

    with variant_lab(tmp_path_factory.mktemp("vpnmon"), "vpnmon", commands) as lab:
        yield lab


def test_a_monitored_vpn_is_cleared_when_its_probes_go_unanswered_and_reads_up_again(monitored):
    lab = monitored
    site = lab.model.sites[SPOKE]
    end = ends(site)[0]
    vpn, mon = end.vpn.name, end.vpn.monitor
    hub = peer_end(lab.model, end).site.name
    hub_host = lab.model.lan_host(hub)
    source = str(site.units[mon.source_interface].addresses[0].ip)
    drivers = for_lab(lab.name)

    def sa():
        return next((s for s in drivers[SPOKE].ipsec_sas() if s.name == vpn), None)

    def log() -> str:
        return lab.rt.supervisor_log(lab.name)

    # Mon reads "-" until a probe is judged: U means one was answered.
    assert wait_until(lambda: (s := sa()) is not None and s.monitoring == "U", 30) is not None, (sa(), log())
    down_line = f"IKE_VPN_DOWN_ALARM_USER: VPN {vpn} "
    assert down_line not in log()  # nothing unanswered while the hub's host answers
    before = sa().spi_in
    others = [s.monitoring for s in drivers[hub].ipsec_sas()]
    assert others and set(others) == {"-"}, others  # the hub monitors nothing: its Mon reads "-"

    # The hub's LAN host drops the probes (only their source): the tunnel itself still carries traffic.
    rules = (f"add table inet {DROP_TABLE}\n"
             f"add chain inet {DROP_TABLE} input {{ type filter hook input priority -10; }}\n"
             f"add rule inet {DROP_TABLE} input ip saddr {source} icmp type echo-request drop\n")
    added = lab.rt.exec(lab.name, hub_host, ["sh", "-c", f"printf '{rules}' | nft -f -"])
    assert added["returncode"] == 0, added["stderr"]
    t0 = time.monotonic()
    down = wait_until(lambda: down_line in log(), 60, step=0.5)
    limit = INTERVAL * (THRESHOLD + 1) + 6  # a probe interval of phase, each probe's wait, emulation's slack
    print(f"\nvpn-monitor: {vpn} declared down {down} s after its probes stopped being answered "
          f"(interval x threshold = {INTERVAL * THRESHOLD} s)")
    assert down is not None and down <= limit, log()
    assert "Reason: IPSEC SA VPN Monitor Failure" in log()
    assert wait_until(lambda: (s := sa()) is not None and s.spi_in != before, 30) is not None, \
        "the IPsec SA was not cleared and negotiated again"
    assert sa().monitoring == "D"
    assert drivers[lab.model.lan_host(SPOKE)].ping(lab.model.host_address(hub_host), count=2).received > 0  # traffic flows

    lab.rt.exec(lab.name, hub_host, ["nft", "delete", "table", "inet", DROP_TABLE])
    up = wait_until(lambda: (s := sa()) is not None and s.monitoring == "U", 30)
    print(f"vpn-monitor: {vpn} read U again {up} s after the probes were answered again "
          f"({time.monotonic() - t0:.1f} s since the drop began)")
    assert up is not None, (sa(), log())
    assert f"IKE_VPN_UP_ALARM_USER: VPN {vpn} " in log()
