"""Runtime faults on a live lab of their own, as a user injects them (`nhtb-lab fault inject`)
and repairs them (`nhtb-lab fault clear`): a spoke's charon killed, its Internet link cut, the
hub's binder killed. Afterwards the note's verification passes again, and every stand-in's kernel
holds exactly the SAs its charon lists (no stale SA of the dead daemon)."""
from __future__ import annotations

import pytest

from harness.cli import main
from harness.drivers import for_lab

from ..conftest import THREE_SITE
from .conftest import variant_lab

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


def test_a_killed_spoke_charon_is_restarted_and_leaves_no_stale_sa(own_lab, capsys):
    rc, said = nhtb(own_lab, capsys, "fault", "inject", "kill-charon", "--node", SPOKE)
    assert rc == 0 and f"injected kill-charon on {SPOKE}" in said, said
    assert not running(own_lab, SPOKE, "charon")
    rc, said = nhtb(own_lab, capsys, "fault", "clear")
    assert rc == 0 and f"charon restarted on {SPOKE}" in said, said
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


def test_a_killed_binder_is_restarted_and_the_nhtb_table_is_whole(own_lab, capsys):
    hub = own_lab.model.hub().name
    before = {(e.next_hop, e.vpn, e.flag) for e in for_lab(own_lab.name)[hub].next_hop_tunnels()}
    rc, said = nhtb(own_lab, capsys, "fault", "inject", "kill-binder")
    assert rc == 0, said
    assert not running(own_lab, hub, "binder")
    rc, said = nhtb(own_lab, capsys, "fault", "clear")
    assert rc == 0 and f"binder restarted on {hub}" in said, said
    assert running(own_lab, hub, "binder")
    assert {(e.next_hop, e.vpn, e.flag) for e in for_lab(own_lab.name)[hub].next_hop_tunnels()} == before
    rc, said = nhtb(own_lab, capsys, "verify")
    assert rc == 0, said
    no_stale_sa(own_lab)
