"""`nhtb-lab soak` on the live lab, as a user runs it: a minute with IPsec lifetimes of 10 s and
IKE lifetimes of 30 s. The SAs the note's `show` commands print carry the short lifetime during
the soak and the configs' again afterwards (proposal-set standard: Junos's 3600 s); every VPN
rekeys as often as its lifetime says; and the verdict is what was lost (nothing lost: exit 0)."""
from __future__ import annotations

import json
import threading

from harness.cli import main
from harness.drivers import for_lab

from ..conftest import THREE_SITE
from .conftest import wait_until

SECONDS, IPSEC, IKE = 60, 10, 30


def ipsec_lives(lab) -> list[int]:
    hub = lab.model.hub().name
    return [sa.life_seconds for sa in for_lab(lab.name)[hub].ipsec_sas() if sa.life_seconds is not None]


def test_a_minute_of_rekeys_counted_under_traffic(lab, capsys):
    capsys.readouterr()
    result = {}
    soak = threading.Thread(target=lambda: result.update(rc=main([
        "-t", str(THREE_SITE), "soak", "--name", lab.name, "--duration", f"{SECONDS}s",
        "--ipsec-lifetime", str(IPSEC), "--ike-lifetime", str(IKE), "--format", "json"])))
    soak.start()
    # During the soak the hub's IPsec SAs live at most IPSEC seconds, as `show` prints them.
    short = wait_until(lambda: (lives := ipsec_lives(lab)) and max(lives) <= IPSEC, 60, step=1)
    soak.join(SECONDS + 300)
    printed = capsys.readouterr()
    assert short is not None, "the hub's IPsec SAs never showed the soak's lifetime"
    doc = json.loads(printed.out)
    # Its exit status is its verdict: 0 only when nothing was lost. (Zero loss is the goal, not yet
    # met here: IKEv1 rekeys under emulation lose a ping now and then; see the README.)
    lost = sum(max(v[0], 0) for v in doc["pings"].values())
    assert not doc["unmeasured"], printed.err
    assert result["rc"] == (0 if lost == 0 and not doc["tcp_broken"] else 1), printed.err
    for vpn in doc["rekeys"]:
        # Rekeyed at 80-90% of the lifetime (strongSwan's rekey_time and its random jitter).
        assert vpn["ipsec"] >= SECONDS // IPSEC - 1, vpn
        assert vpn["ike"] >= 1, vpn
    assert doc["summary"] in printed.err
    # Afterwards the configs' lifetimes again (Junos's default for proposal-set standard).
    assert min(ipsec_lives(lab)) > IPSEC * 10
