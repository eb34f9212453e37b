"""The lab runtime on real namespaces, charon and XFRM: up, reuse, side by side, failure, SIGINT, down."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from harness.errors import LabError
from harness.runtime import backend, probe
from harness.model.topology import vpn_pairs

from ..conftest import REPO, THREE_SITE
from .conftest import MODE, host_snapshot, unique_name, wait_until, worker


def established(rt, lab: str, node: str) -> dict[str, dict]:
    """IKE SAs of a node by connection name, ESTABLISHED ones only."""
    out = {}
    for sa in rt.sas(lab, node):
        for conn, ike in sa.items():
            if ike["state"] == "ESTABLISHED":
                out[conn] = ike
    return out


def assert_no_residue(rt, name: str) -> None:
    left = rt.residue(name)
    assert left == {"namespaces": [], "state_dir": False, "processes": []}, left
    assert not any(s["name"] == name for s in rt.labs())


def test_every_vpn_is_up_on_both_ends_read_over_vici(lab):
    for a, b in vpn_pairs(lab.model):
        for end, peer in ((a, b), (b, a)):
            sas = established(lab.rt, lab.name, end.site.name)
            assert end.vpn.name in sas, f"{end.label}: no ESTABLISHED IKE SA ({list(sas)})"
            ike = sas[end.vpn.name]
            assert ike["remote-host"] == str(end.gateway.address)
            assert ike["local-host"] == str(end.local_address)
            assert ike["version"] == "1"
            children = list(ike["child-sas"].values())
            assert any(c["state"] == "INSTALLED" for c in children), f"{end.label}: no INSTALLED CHILD SA"


def test_exec_runs_in_the_nodes_namespace(lab):
    host = lab.model.hosts["corp-pc"]
    (_, addr, _), = host.addresses
    res = lab.exec("corp-pc", "ip", "-4", "-o", "addr", "show")
    assert res["returncode"] == 0
    assert str(addr) in res["stdout"]
    assert str(lab.model.sites["corporate"].public_address()) not in res["stdout"]


def test_up_twice_reuses_the_running_lab(lab):
    result = lab.rt.up(str(THREE_SITE), name=lab.name)
    assert result["reused"] is True


def test_two_labs_side_by_side(lab):
    other = unique_name("side")
    result = lab.rt.up(str(THREE_SITE), name=other)
    try:
        assert result["reused"] is False
        names = {s["name"] for s in lab.rt.labs()}
        assert {lab.name, other} <= names
        for a, b in vpn_pairs(lab.model):
            assert a.vpn.name in established(lab.rt, other, a.site.name)
            assert a.vpn.name in established(lab.rt, lab.name, a.site.name)  # the first lab is untouched
        # The residue check sees a live lab (so its "nothing left" below can fail): a charon per
        # site, a binder per hub, the management daemon and the supervisor.
        hubs = [s for s in lab.model.sites.values() if s.is_hub]
        assert len(lab.rt.residue(other)["processes"]) == len(lab.model.sites) + len(hubs) + 2
        ns = {n["ns"] for s in lab.rt.labs() for n in s["nodes"].values()}
        assert all(f"{other}-{node}" in ns and f"{lab.name}-{node}" in ns for node in lab.model.nodes)
    finally:
        lab.rt.down(other)
    assert_no_residue(lab.rt, other)
    assert a.vpn.name in established(lab.rt, lab.name, a.site.name)


def _variant(tmp_path, change) -> str:
    """A copy of the three-site topology, edited, pointing at the same lab/ configs."""
    doc = yaml.safe_load(THREE_SITE.read_text())
    for node in doc["topology"]["nodes"].values():
        if "startup-config" in node:
            node["startup-config"] = str((THREE_SITE.parent / node["startup-config"]).resolve())
    change(doc)
    path = tmp_path / "variant.clab.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def test_a_failed_up_after_charon_started_leaves_nothing(lab, tmp_path):
    """The internet router does not forward: IKE can never complete, `up` fails on its deadline,
    with three charons running by then; all of it must go."""
    def no_forwarding(doc):
        ex = doc["topology"]["nodes"]["internet"]["exec"]
        ex[ex.index("sysctl -w net.ipv4.ip_forward=1")] = "sysctl -w net.ipv4.ip_forward=0"
    name = unique_name("fail")
    with pytest.raises(LabError, match="SAs not up after"):
        lab.rt.up(_variant(tmp_path, no_forwarding), name=name, sa_timeout=8)
    assert_no_residue(lab.rt, name)


def test_a_failed_up_while_configuring_leaves_nothing(lab, tmp_path):
    """A PC's gateway the kernel refuses (not on its subnet) fails `up` half way through."""
    def bad_gateway(doc):
        doc["topology"]["nodes"]["corp-pc"]["exec"][1] = "ip route replace default via 10.99.99.1"
    name = unique_name("cfg")
    with pytest.raises(LabError, match="corp-pc"):
        lab.rt.up(_variant(tmp_path, bad_gateway), name=name)
    assert_no_residue(lab.rt, name)


def test_sigint_during_up_leaves_nothing(lab):
    name = unique_name("int")
    # SIGINT as a terminal sends it. A job started in the background of a non-interactive shell
    # inherits SIGINT ignored, and Python then installs no handler: give the child the default.
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "-t", str(THREE_SITE), "up", "--name", name,
                             "--runtime", MODE], cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "charon start: ..." in line:  # namespaces exist and charons are being started
                proc.send_signal(signal.SIGINT)
                break
        else:
            pytest.fail(f"up never reached the charon phase: {''.join(seen)}")
        proc.communicate(timeout=180)
        assert proc.returncode != 0
    finally:
        if any(s["name"] == name for s in lab.rt.labs()):  # the interruption failed: leave nothing anyway
            lab.rt.down(name)
    deadline = time.monotonic() + 60  # the agent undoes the abandoned `up` on its own
    while lab.rt.residue(name) != {"namespaces": [], "state_dir": False, "processes": []} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert_no_residue(lab.rt, name)


def test_a_second_up_of_the_same_name_meanwhile_is_refused_and_the_first_completes(lab):
    """Two terminals bring up the same lab at once: the second is told, and does not clear the
    first's half-made lab as a crash's leftover."""
    name = unique_name("twice")
    first: dict = {}

    def bring_up():
        try:
            first["result"] = lab.rt.up(str(THREE_SITE), name=name)
        except BaseException as e:  # noqa: BLE001 - reported below
            first["error"] = e

    t = threading.Thread(target=bring_up)
    t.start()
    try:
        assert wait_until(lambda: lab.rt.residue(name)["namespaces"], 120) is not None, "the first up never started"
        with pytest.raises(LabError, match=f"lab {name} is being brought up by another command"):
            lab.rt.up(str(THREE_SITE), name=name)
        t.join(300)
        assert "error" not in first, first.get("error")
        assert first["result"]["reused"] is False
        state = next(s for s in lab.rt.labs() if s["name"] == name)
        assert all(n["charon_running"] for n in state["nodes"].values() if n["charon_pid"])
    finally:
        t.join(300)
        lab.rt.down(name)
    assert_no_residue(lab.rt, name)


def test_a_dead_charon_is_shown_and_cleaned_up(lab):
    name = unique_name("dead")
    lab.rt.up(str(THREE_SITE), name=name)
    try:
        state = next(s for s in lab.rt.labs() if s["name"] == name)
        pid = state["nodes"]["westford"]["charon_pid"]
        res = lab.rt.exec(name, "westford", ["kill", "-9", str(pid)])
        assert res["returncode"] == 0, res
        deadline = time.monotonic() + 10
        while next(s for s in lab.rt.labs() if s["name"] == name)["nodes"]["westford"]["charon_running"]:
            assert time.monotonic() < deadline, "charon still shown running after SIGKILL"
            time.sleep(0.2)
    finally:
        lab.rt.down(name)
    assert_no_residue(lab.rt, name)


def test_the_host_namespace_is_untouched_by_a_full_cycle(lab):
    """Natively this compares the very namespace the lab's veths and xfrm state would land in; in VM
    mode the lab lives in the guest and this checks what the host itself can see (qemu, ports)."""
    before = host_snapshot()
    name = unique_name("host")
    lab.rt.up(str(THREE_SITE), name=name)
    lab.rt.down(name)
    after = host_snapshot()
    for key in before:
        if key == "netns" and worker() != "main":
            # Other workers' tests make and remove namespaces of their own on the host meanwhile
            # (the kernel probe's scratch one, the TCP probes' pairs): only this lab's count here.
            new = set(after[key].splitlines()) - set(before[key].splitlines())
            made = [ln.split()[0] for ln in new if ln.strip()]
            assert not [ns for ns in made if ns.startswith(name) or probe.scratch_owner(ns) == os.getpid()], \
                f"host {key} changed: {new}"
            continue
        assert before[key] == after[key], f"host {key} changed"


def test_topology_variables_come_from_the_users_environment(lab):
    """`name: ${NHTB_LAB_NAME:=nhtb}` set in the user's environment only (in VM mode the agent's
    has none of it): the lab gets that name, and show, exec, verify and down find it by it."""
    name = unique_name("env")
    env = {**os.environ, "NHTB_LAB_NAME": name, "COLUMNS": "200"}

    def nhtb(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness.cli", "-t", str(THREE_SITE), *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=600)

    up = nhtb("up", "--runtime", MODE)
    try:
        assert up.returncode == 0 and f"lab {name} is up" in up.stdout, up.stdout + up.stderr
        assert any(s["name"] == name for _, s in backend.all_labs())
        show = nhtb("show", "next-hop-tunnels", "--node", lab.model.hub().name)
        assert show.returncode == 0 and "Static" in show.stdout, show.stdout + show.stderr
        ex = nhtb("exec", lab.model.lan_host(lab.model.hub().name), "--", "true")
        assert ex.returncode == 0, ex.stderr
        ver = nhtb("verify")
        assert ver.returncode == 0 and f"lab {name} verified" in ver.stdout, ver.stdout[-2000:] + ver.stderr
        inspect = nhtb("inspect")
        assert f"lab {name} " in inspect.stdout and f"from {THREE_SITE}" in inspect.stdout, inspect.stdout
        # The same lab by --name, the variable unset: found by the name given, not the topology's.
        del env["NHTB_LAB_NAME"]
        by_name = nhtb("show", "next-hop-tunnels", "--node", lab.model.hub().name, "--name", name)
        assert by_name.returncode == 0 and "Static" in by_name.stdout, by_name.stderr
        assert nhtb("exec", lab.model.lan_host(lab.model.hub().name), "--name", name, "--", "true").returncode == 0
        other = nhtb("show", "next-hop-tunnels", "--name", f"{name}-none")
        assert other.returncode == 1 and f"{name} (from {THREE_SITE})" in other.stderr, other.stderr
    finally:
        env["NHTB_LAB_NAME"] = name
        down = nhtb("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert_no_residue(lab.rt, name)
