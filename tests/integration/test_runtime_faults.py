"""Runtime faults on a live lab of their own, as a user injects them (`nhtb-lab fault inject`):
a spoke's charon killed and the hub's binder killed (the lab's supervisor starts them again by
itself, as Junos restarts kmd), a spoke's Internet link cut (`nhtb-lab fault clear` restores it).
Afterwards the note's verification passes again, and every stand-in's kernel holds exactly the SAs
its charon lists (no stale SA of the dead daemon)."""
from __future__ import annotations

import pytest

from harness.cli import main
from harness.drivers import for_lab
from harness.model.topology import ends

from ..conftest import THREE_SITE
from .conftest import variant_lab, wait_until

SPOKE = "westford"


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory):
    with variant_lab(tmp_path_factory.mktemp("inject"), "inject", lambda model: {}) as lab:
        yield lab


def nhtb(lab, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["-t", str(THREE_SITE), *args, "--name", lab.name])
    printed = capsys.readouterr()
    return rc, printed.out + printed.err


def running(lab, node: str, daemon: str) -> bool:
    state = next(s for s in lab.rt.labs() if s["name"] == lab.name)
    if daemon == "charon":
        return bool(state["nodes"][node]["charon_running"])
    pid = state["nodes"][node]["binder_pid"]
    return lab.exec(node, "kill", "-0", str(pid))["returncode"] == 0


def no_stale_sa(lab) -> None:
    for node, d in for_lab(lab.name).items():
        if node not in lab.model.sites:
            continue
        kernel = {f"{s['spi']:08x}" for s in lab.rt.xfrm_states(lab.name, node)}
        charon = {spi for sa in d.ipsec_sas() for spi in (sa.spi_in, sa.spi_out)}
        assert kernel == charon, f"{node}: the kernel holds SAs its charon does not list: {kernel - charon}"


def supervisor_log(lab) -> str:
    return lab.rt.supervisor_log(lab.name)


def test_a_killed_spoke_charon_is_restarted_by_the_supervisor_and_leaves_no_stale_sa(own_lab, capsys):
    rc, said = nhtb(own_lab, capsys, "fault", "inject", "kill-charon", "--node", SPOKE)
    assert rc == 0 and f"injected kill-charon on {SPOKE}" in said, said
    took = wait_until(lambda: "VPNs up again: " in supervisor_log(own_lab) or
                      "restart failed" in supervisor_log(own_lab), 90, step=1)
    log = supervisor_log(own_lab)
    print(f"killed charon on {SPOKE}: restarted and its VPN up again after {took} s\n{log}")
    assert took is not None and f"charon on {SPOKE} not running: restarting" in log, log
    assert f"charon restarted on {SPOKE}" in log and "restart failed" not in log, log
    up_again = log.split("VPNs up again: ")[1].splitlines()[0]
    assert all(f"{e.site.name}/{e.vpn.name}" in up_again for e in ends(own_lab.model.sites[SPOKE])), log
    assert running(own_lab, SPOKE, "charon")
    rc, said = nhtb(own_lab, capsys, "verify")
    assert rc == 0, said
    no_stale_sa(own_lab)


def test_a_cut_link_stops_traffic_and_clear_brings_it_back(own_lab, capsys):
    src, dst = own_lab.model.lan_host(SPOKE), own_lab.model.lan_host(own_lab.model.hub().name)
    ping = lambda: for_lab(own_lab.name)[src].ping(own_lab.model.host_address(dst), count=3)  # noqa: E731
    assert ping().received > 0
    rc, said = nhtb(own_lab, capsys, "fault", "inject", "link-cut", "--node", SPOKE)
    assert rc == 0, said
    assert ping().received == 0
    rc, said = nhtb(own_lab, capsys, "fault", "clear")
    assert rc == 0 and " up" in said, said
    assert ping().received > 0
    rc, said = nhtb(own_lab, capsys, "verify")
    assert rc == 0, said


def test_a_killed_binder_is_restarted_by_the_supervisor_and_the_nhtb_table_is_whole(own_lab, capsys):
    hub = own_lab.model.hub().name
    table = lambda: {(e.next_hop, e.vpn, e.flag) for e in for_lab(own_lab.name)[hub].next_hop_tunnels()}  # noqa: E731
    before = table()
    rc, said = nhtb(own_lab, capsys, "fault", "inject", "kill-binder")
    assert rc == 0, said
    assert wait_until(lambda: f"binder restarted on {hub}" in supervisor_log(own_lab), 60, step=1) is not None, \
        supervisor_log(own_lab)
    assert running(own_lab, hub, "binder")
    assert wait_until(lambda: table() == before, 60, step=1) is not None, (table(), before)
    rc, said = nhtb(own_lab, capsys, "verify")
    assert rc == 0, said
    no_stale_sa(own_lab)
