"""Dead-peer detection from the configs to charon: Junos `dead-peer-detection` (interval,
threshold, optimized) and ScreenOS `dpd-liveness` become dpd_delay and dpd_timeout (interval x
threshold); Junos's defaults and ranges are read from Juniper's YANG for SRX 24.4R1, not from the
code; the modes charon cannot send are named as not emulated."""
from __future__ import annotations

import pytest

from harness.model.lab import load_lab
from harness.model.ledger import not_emulated
from harness.render import strongswan

from ..conftest import shared_oracle, yang_numbers
from .test_validate import edit, expect_error

YANG = "reference/junos-yang-24.4R1/conf/junos-es-conf-security@2024-01-01.yang"


def yang_dpd() -> dict[str, tuple[int, int, int]]:
    """leaf -> (default, low, high) of `security ike gateway G dead-peer-detection`, from the YANG."""
    text = shared_oracle(YANG).read_text()
    # The site-to-site gateway's DPD: the container that offers probe-idle-tunnel (group VPN's does not).
    block = text[text.rindex("container dead-peer-detection", 0, text.index("leaf probe-idle-tunnel")):]
    return yang_numbers(block)


def hub_conn(topology, vpn="westford-vpn"):
    return strongswan.connections(load_lab(topology).sites["corporate"])[vpn]


def corporate(lab_copy):
    return lab_copy.parents[1] / "lab" / "corporate.junos"


def test_interval_and_threshold_become_charons_delay_and_timeout(lab_copy):
    edit(corporate(lab_copy), "gateway westford-gate {",
         "gateway westford-gate {\n            dead-peer-detection { optimized; interval 2; threshold 3; }")
    conn = hub_conn(lab_copy)
    assert (conn["dpd_delay"], conn["dpd_timeout"]) == ("2s", "6s")
    assert conn["children"]["westford-vpn"]["dpd_action"] == "clear"  # on-traffic: cleared, not restarted
    assert "dpd_delay" not in hub_conn(lab_copy, "sunnyvale-vpn")  # only the gateway that has it
    assert not_emulated(load_lab(lab_copy)) == []


def test_bare_dead_peer_detection_takes_junos_defaults(lab_copy):
    yang = yang_dpd()
    edit(corporate(lab_copy), "gateway westford-gate {", "gateway westford-gate {\n            dead-peer-detection;")
    conn = hub_conn(lab_copy)
    interval, threshold = yang["interval"][0], yang["threshold"][0]
    assert (conn["dpd_delay"], conn["dpd_timeout"]) == (f"{interval}s", f"{interval * threshold}s")


@pytest.mark.parametrize("leaf", ["interval", "threshold"])
def test_values_outside_junos_ranges_are_refused_at_their_line(lab_copy, leaf):
    _, lo, hi = yang_dpd()[leaf]
    for bad in (lo - 1, hi + 1):
        path = corporate(lab_copy)
        text = path.read_text()
        line = edit(path, "gateway westford-gate {", f"gateway westford-gate {{ dead-peer-detection {{ {leaf} {bad}; }}")
        expect_error(lab_copy, "corporate.junos", line, f"dead-peer-detection {leaf} '{bad}' is not a number from {lo} to {hi}")
        path.write_text(text)


def test_always_send_is_named_as_not_emulated(lab_copy):
    line = edit(corporate(lab_copy), "gateway westford-gate {",
                "gateway westford-gate { dead-peer-detection { always-send; interval 5; }")
    uncovered = not_emulated(load_lab(lab_copy))
    assert [u.split(": ", 1)[1] for u in uncovered] == ["security ike gateway westford-gate dead-peer-detection always-send"]
    assert f"corporate.junos:{line}: " in uncovered[0]


def test_screenos_dpd_liveness(lab_copy):
    path = lab_copy.parents[1] / "lab" / "sunnyvale.screenos"
    gw = next(ln for ln in path.read_text().splitlines() if ln.startswith("set ike gateway"))
    name = gw.split('"')[1]
    edit(path, gw, gw + f'\nset ike gateway "{name}" dpd-liveness interval 4\nset ike gateway "{name}" dpd-liveness retry 2')
    conn = strongswan.connections(load_lab(lab_copy).sites["sunnyvale"])["corp-vpn"]
    assert (conn["dpd_delay"], conn["dpd_timeout"]) == ("4s", "8s")


def test_screenos_always_send_is_named_as_not_emulated(lab_copy):
    path = lab_copy.parents[1] / "lab" / "sunnyvale.screenos"
    gw = next(ln for ln in path.read_text().splitlines() if ln.startswith("set ike gateway"))
    name = gw.split('"')[1]
    edit(path, gw, gw + f'\nset ike gateway "{name}" dpd-liveness interval 4\nset ike gateway "{name}" dpd-liveness always-send')
    uncovered = not_emulated(load_lab(lab_copy))
    assert [u.split(": ", 1)[1] for u in uncovered] == [f"ike gateway {name} dpd-liveness always-send"], uncovered
