"""The note's troubleshooting cases, each on a fresh lab of its own: the fault is applied as data
(lab/faults.yml), the lab comes up with it, and `diagnose` must name that fault as the cause at
its layer, with the note's kmd line in the evidence and in `show log kmd`. Nothing is diagnosed
as another fault: the cause must equal the fault's own key."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.drivers import for_lab
from harness.model.faults import apply_fault, load_faults
from harness.model.lab import load_lab
from harness.runtime import backend
from harness.junos import kmd
from harness.verify.diagnose import LAYERS, diagnose

from ..conftest import REPO, THREE_SITE
from .conftest import MODE, RunningLab, unique_name

FAULTS = load_faults(REPO / "lab" / "faults.yml")


@pytest.fixture(params=sorted(FAULTS), ids=sorted(FAULTS))
def faulted(request, tmp_path):
    fault = FAULTS[request.param]
    topo = apply_fault(THREE_SITE, fault, tmp_path)
    name = unique_name(fault.name.split("-")[0][:6])
    rt = backend.choose(MODE, lambda phase, message: None)
    rt.up(str(topo), name=name)
    try:
        yield fault, RunningLab(name, load_lab(topo, name=name), rt)
    finally:
        backend.down(name)


def test_every_fault_names_a_layer_of_the_method():
    assert FAULTS, "lab/faults.yml lists no fault"
    for f in FAULTS.values():
        assert f.layer in LAYERS, (f.name, f.layer)


def test_fault_is_diagnosed_as_itself(faulted):
    fault, lab = faulted
    drivers = for_lab(lab.name)
    d = diagnose(lab.model, drivers)
    report = f"{d.layer}/{d.cause} on {d.node}: {d.summary}\n" + "\n".join(d.evidence)
    assert d.cause == fault.name, report
    assert d.layer == fault.layer, report
    assert d.advice and d.evidence, report
    if fault.kmd:
        assert any(fault.kmd in line for line in d.evidence), report
        assert d.role == "responder", report  # the note: look on the responder
        assert fault.kmd in kmd.kmd(drivers[d.node].log(None)), f"show log kmd on {d.node}"
    if fault.name == "missing-tcp-mss":
        # The fragmentation itself: a full-size segment with DF set does not fit through the tunnel.
        assert any("do-not-fragment" in e and ("Frag needed" in e or "message too long" in e) for e in d.evidence), report


def test_the_healthy_lab_diagnoses_healthy(lab):
    d = diagnose(lab.model, for_lab(lab.name))
    assert d.healthy, f"{d.layer}/{d.cause} on {d.node}: {d.summary}\n" + "\n".join(d.evidence)
    assert [s.layer for s in d.steps if s.ok] and all(s.ok for s in d.steps)
    assert {s.layer for s in d.steps} == set(LAYERS)  # every layer was walked, none skipped


def test_show_log_kmd_on_the_healthy_hub(lab):
    hub = lab.model.hub()
    text = kmd.kmd(for_lab(lab.name)[hub.name].log(None))
    for spoke in (s for s in lab.model.sites.values() if not s.is_hub):
        assert (f"Phase-1 [responder] done for local=ipv4(udp:500,[0..3]={hub.public_address()}) "
                f"remote=ipv4(udp:500,[0..3]={spoke.public_address()})") in text
        assert f"p1_remote=ipv4(udp:500,[0..3]={spoke.public_address()}) p2_local=ipv4_subnet(any:0,[0..7]=0.0.0.0/0)" in text


def test_trace_flow_names_the_policy_and_leaves_nothing(lab):
    hub = lab.model.hub()
    intra = next(p for p in hub.policies if p.from_zone == p.to_zone)
    a, b = [s.name for s in lab.model.sites.values() if not s.is_hub][:2]
    src, dst = lab.model.lan_host(a), lab.model.host_address(lab.model.lan_host(b))
    flt = [{"source-prefix": f"{lab.model.host_address(src)}/32", "destination-prefix": f"{dst}/32", "protocol": "icmp"}]
    packets = for_lab(lab.name)[hub.name].flow_trace(flt, duration=3, ping_from=src, ping_to=dst)
    first = [p for p in packets if p.dst == dst]
    assert first and first[0].verdict == "accept", [p.summary() for p in packets]
    # The policy's name and file:line (the file as the lab's runtime names it: relative or absolute).
    assert first[0].rule.startswith(f"policy {intra.name} (") and \
        first[0].rule.endswith(f"{Path(intra.source.file).name}:{intra.source.line})"), first[0].rule
    assert any(p.src == dst for p in packets), "the replies are traced too"
    # An unrelated flow is not traced (the filter's terms all apply).
    other = for_lab(lab.name)[hub.name].flow_trace([{**flt[0], "protocol": "tcp"}], duration=2, ping_from=src, ping_to=dst)
    assert other == []
    tables = lab.exec(hub.name, "nft", "list", "tables")["stdout"]
    assert "nhtb_trace" not in tables
