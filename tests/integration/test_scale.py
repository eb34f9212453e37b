"""A generated lab with more spokes than the note's, all on the hub's one st0: it comes up and the
whole verification suite passes (the benchmark, scripts/bench_scale.py, goes to 50 spokes)."""
from __future__ import annotations

from harness.drivers import for_lab
from harness.model.lab import load_lab
from harness.model.spoke import grow
from harness.runtime import backend
from harness.verify.suite import verify

from ..conftest import THREE_SITE
from .conftest import MODE, unique_name

SPOKES = 5


def test_five_spokes_on_one_st0_come_up_and_verify(tmp_path):
    topo = grow(THREE_SITE, SPOKES, tmp_path)
    name = unique_name("scale")
    rt = backend.choose(MODE, lambda phase, message: None)
    rt.up(str(topo), name=name)
    try:
        model = load_lab(topo, name=name)
        hub = model.hub()
        assert len([s for s in model.sites.values() if not s.is_hub]) == SPOKES
        links = rt.exec(name, hub.name, ["ip", "-o", "link", "show", "type", "xfrm"])["stdout"].splitlines()
        assert len(links) == 1, links  # one tunnel interface, whatever the number of spokes
        drivers = for_lab(name)
        results = verify(model, drivers)
        failed = [str(r) for r in results if not r.ok]
        assert not failed, failed
        nhtb = drivers[hub.name].next_hop_tunnels()
        assert len(nhtb) == SPOKES and {e.interface for e in nhtb} == {"st0.0"}
    finally:
        backend.down(name)
