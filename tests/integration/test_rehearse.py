"""Rehearsing a new spoke on the real lab: applied in place, verified, and its blast radius measured
(existing SAs by their cookies and SPIs, routes, NHTB, pings during the change)."""
from __future__ import annotations

from harness.cli import main
from harness.drivers import for_lab
from harness.model.change import write_changed_lab
from harness.model.lab import load_lab
from harness.model.spoke import add_spoke
from harness.runtime import backend
from harness.verify.rehearse import rehearse

from ..conftest import AUSTIN, BOSTON, THREE_SITE
from .conftest import MODE, unique_name



def change_folder(tmp_path, req, topology):
    return write_changed_lab(topology, add_spoke(load_lab(topology), req), tmp_path / req.name).parent


def rehearsed(folder, tag):
    name = unique_name(tag)
    rt = backend.choose(MODE, lambda phase, message: None)
    try:
        return rehearse(folder, rt, for_lab, name, lambda phase, message: None, watch_seconds=12)
    finally:
        backend.down(name)


def assert_clean(r, new_lan):
    failed = [str(c) for c in r.checks if not c.ok]
    assert not failed, failed
    assert r.new_spoke_ok
    # Cookies and SPIs of every old SA, every old route and entry, every old pair's reachability unchanged.
    # Only the routes to the new LAN change (from the default route to the tunnel).
    harmful = [d for d in r.judgement.differences if d.split(" ")[0] in
               ("ike-renegotiated", "ipsec-renegotiated", "route-changed", "route-gone", "nhtb-removed", "reach-lost")
               and not (d.startswith("route-changed") and d.endswith(f" {new_lan}"))]
    assert harmful == [], harmful
    lost = {p: v for p, v in r.pings.items() if v[0]}
    assert r.pings and not lost, lost
    assert r.ok


def test_a_fourth_spoke_like_westford_then_a_fifth_like_sunnyvale(tmp_path):
    first = change_folder(tmp_path, BOSTON, THREE_SITE)
    r = rehearsed(first, "reh4")
    assert_clean(r, BOSTON.lan)
    assert r.new_nodes == ["boston", "boston-pc"]
    # The hub kept one tunnel interface; its table has the new spoke's Auto entry.
    assert f"{BOSTON.tunnel_ip} st0.0 {BOSTON.name}-vpn Auto" in r.after.nhtb["corporate"]
    assert all(r.after.reach.values()) and len(r.after.reach) == 12  # 4 LAN hosts, every ordered pair

    second = change_folder(tmp_path, AUSTIN, first / THREE_SITE.name)
    r = rehearsed(second, "reh5")
    assert_clean(r, AUSTIN.lan)
    assert f"{AUSTIN.tunnel_ip} st0.0 {AUSTIN.name}-vpn Static" in r.after.nhtb["corporate"]
    assert len(r.after.reach) == 20


def test_a_change_that_forgets_the_static_nhtb_entry_fails_and_says_why(tmp_path, capsys):
    folder = change_folder(tmp_path, AUSTIN, THREE_SITE)
    hub = folder / "lab" / "corporate.junos"
    hub.write_text("".join(ln for ln in hub.read_text().splitlines(keepends=True) if "next-hop-tunnel 10.11.11.14" not in ln))
    name = unique_name("rehbad")
    rc = main(["-t", str(THREE_SITE), "rehearse", str(folder), "--name", name, "--watch", "5",
               "--runtime", MODE, "--report", str(tmp_path / "report.html")])
    text = capsys.readouterr()
    assert rc == 1
    assert "missing-static-nhtb" in text.out and "next-hop-tunnel 10.11.11.14 ipsec-vpn austin-vpn" in text.out
    assert "route 192.168.198.0/24 on corporate: FAILED" in text.out
    report = (tmp_path / "report.html").read_text()
    assert "FAILED" in report and "<svg" in report and "Reachability before" in report
    assert name not in [state["name"] for _, state in backend.all_labs()]  # removed afterwards
