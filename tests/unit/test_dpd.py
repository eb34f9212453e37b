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


def retransmit_settings(text: str) -> dict[str, float]:
    """charon's retransmit_* settings as a strongswan.conf states them."""
    import re
    return {k: float(v) for k, v in re.findall(r"^\s*retransmit_(\w+) = ([\d.]+)$", text, re.M)}


def charon_gives_up_after(s: dict[str, float]) -> float:
    """When charon abandons an unanswered request, by strongSwan's documented rule: the n-th
    retransmission waits timeout * base^n, for n = 0 .. tries."""
    return sum(s["timeout"] * s["base"] ** n for n in range(int(s["tries"]) + 1))


def test_ikev2_dpd_is_the_nodes_retransmission_interval_times_threshold(lab_copy):
    """On IKEv2 charon knows a dead peer only by its retransmission of the probe: the node's charon
    retransmits every interval, so it gives up interval x threshold after the first probe, as the
    config says; a node without IKEv2 DPD keeps the lab's short retransmission."""
    from harness.render.bundle import render_node
    edit(corporate(lab_copy), "gateway westford-gate {",
         "gateway westford-gate {\n            version v2-only;\n            dead-peer-detection { interval 4; threshold 3; }")
    lab = load_lab(lab_copy)
    conf = {r.name: r.text for r in render_node(lab, "corporate", reveal=False)}["strongswan.conf"]
    s = retransmit_settings(conf)
    assert charon_gives_up_after(s) == 4 * 3 and s["timeout"] == 4
    assert lab.warnings == []
    other = retransmit_settings({r.name: r.text for r in render_node(lab, "westford", reveal=False)}["strongswan.conf"])
    assert charon_gives_up_after(other) < 30  # the lab's own: about 24 s, not charon's default 165 s


def test_ikev2_gateways_of_one_node_with_other_dpd_are_named(lab_copy):
    """One charon, one retransmission: the node follows its first IKEv2 gateway with DPD (in the
    config's order) and names every other one whose interval or threshold differs."""
    first = edit(corporate(lab_copy), "gateway sunnyvale-gate {",
                 "gateway sunnyvale-gate { version v2-only; dead-peer-detection { interval 10; threshold 2; }")
    line = edit(corporate(lab_copy), "gateway westford-gate {",
                "gateway westford-gate {\n            version v2-only;\n            dead-peer-detection { interval 4; threshold 3; }") + 2
    lab = load_lab(lab_copy)
    [(src, msg)] = lab.warnings
    assert str(src).endswith(f"corporate.junos:{line}") and msg.startswith("ike gateway westford-gate: "), (src, msg)
    assert f"sunnyvale-gate's (interval 10 threshold 2, " in msg and f"corporate.junos:{first})" in msg, msg
    s = retransmit_settings(strongswan.strongswan_conf(strongswan.retransmission(lab.sites["corporate"])))
    assert charon_gives_up_after(s) == 10 * 2


def test_ikev2_dpd_threshold_1_is_said_to_stop_every_retransmission(lab_copy):
    line = edit(corporate(lab_copy), "gateway westford-gate {",
                "gateway westford-gate { version v2-only; dead-peer-detection { interval 4; threshold 1; }")
    lab = load_lab(lab_copy)
    [(src, msg)] = lab.warnings
    assert str(src).endswith(f"corporate.junos:{line}") and "never again" in msg
    assert retransmit_settings(strongswan.strongswan_conf(strongswan.retransmission(lab.sites["corporate"])))["tries"] == 0
