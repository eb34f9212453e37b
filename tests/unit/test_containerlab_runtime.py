"""The containerlab runtime, as far as this machine can test it (no Docker engine, no containerlab):
the exact commands and readiness steps it plans for a topology, the names it expects, how `auto`
decides, and the stand-in image's Dockerfile."""
from __future__ import annotations

import re

import pytest

from harness.cli import main
from harness.model.lab import load_lab
from harness.runtime import clab

from ..conftest import REPO, THREE_SITE, TOPOLOGIES

VSRX = TOPOLOGIES / "three-site-vsrx.clab.yml"


def commands(topology, name=None):
    lab = load_lab(topology, name=name)
    return lab, [s for s in clab.plan(lab, topology, lab.name)]


def test_the_vsrx_variant_plans_deploy_readiness_and_configuration():
    lab, steps = commands(VSRX)
    cmds = [" ".join(s.command) for s in steps if s.command]
    assert cmds[0] == "containerlab version"
    assert f"containerlab deploy -t {VSRX.resolve()} --name nhtb-vsrx --reconfigure" in cmds
    deploy = cmds.index(f"containerlab deploy -t {VSRX.resolve()} --name nhtb-vsrx --reconfigure")
    images = [c for c in cmds[:deploy] if c.startswith("docker image inspect")]
    assert {c.split()[-1] for c in images} == {"vrnetlab/juniper_vsrx:23.2R1.13", "nhtb-lab/strongswan:latest"}
    health = {s.command[-1]: s for s in steps if s.wait_for == "healthy"}
    assert set(health) == {"clab-nhtb-vsrx-corporate", "clab-nhtb-vsrx-westford"}  # the vSRX nodes
    assert all(s.deadline >= 420 for s in health.values())  # a vSRX boots in about 7 minutes
    running = {s.command[-1] for s in steps if s.wait_for == "true"}
    assert "clab-nhtb-vsrx-sunnyvale" in running and "clab-nhtb-vsrx-corporate" not in running
    configured = [s.what for s in steps if s.command is None and "configure in" in s.what]
    assert len(configured) == 1 and configured[0].startswith("sunnyvale: configure in /run/netns/clab-nhtb-vsrx-sunnyvale")
    assert [" ".join(s.command) for s in clab.destroy_plan(lab, VSRX, lab.name)] == \
           [f"containerlab destroy -t {VSRX.resolve()} --name nhtb-vsrx --cleanup"]


def test_names_follow_containerlab_prefix_rules():
    lab = load_lab(THREE_SITE, name="x")
    assert clab.container(lab, "x", "corporate") == "clab-x-corporate"
    lab.topology.prefix = ""
    assert clab.container(lab, "x", "corporate") == "corporate"
    lab.topology.prefix = "lab"
    assert clab.container(lab, "x", "corporate") == "lab-x-corporate"


def test_only_the_vsrx_variant_needs_containerlab():
    assert clab.needs_containerlab(load_lab(VSRX)) and not clab.needs_containerlab(load_lab(THREE_SITE))


def test_dry_run_from_the_cli(capsys):
    assert main(["-t", str(VSRX), "up", "--runtime", "containerlab", "--dry-run"]) == 0
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert "the plan (nothing is run)" in text and "containerlab destroy" in text


@pytest.mark.skipif(clab.available(), reason="containerlab and Docker are here: the real runtime applies")
def test_without_containerlab_up_says_so_and_makes_nothing(capsys):
    assert main(["-t", str(VSRX), "up"]) == 1
    assert "needs containerlab and a Docker engine" in capsys.readouterr().err


def test_the_standin_image_installs_what_a_node_runs():
    text = (REPO / "lab" / "images" / "strongswan" / "Dockerfile").read_text()
    for pkg in ("strongswan-charon", "strongswan-swanctl", "nftables", "iproute2", "tcpdump"):
        assert pkg in text
    assert re.search(r"^FROM debian:\S+-slim$", text, re.M)
    image = next(n.image for n in load_lab(THREE_SITE).topology.nodes.values() if n.kind == "linux")
    assert image.split(":")[0] in text  # the name the topologies expect is the one documented


def test_the_nightly_workflow_runs_the_lab_and_always_takes_it_down():
    import yaml

    doc = yaml.safe_load((REPO / ".github" / "workflows" / "nightly.yml").read_text())
    assert "schedule" in doc[True] and "workflow_dispatch" in doc[True]  # `on:` (YAML reads it as True)
    vsrx = doc["jobs"].pop("vsrx")  # on demand, with an image: checked below
    for name, job in doc["jobs"].items():
        runs = [s.get("run", "") for s in job["steps"]]
        assert any("make lab-up" in r or " up" in r for r in runs), name
        assert any("--junitxml=" in r for r in runs), name
        down = next(s for s in job["steps"] if "make lab-down" in s.get("run", "") or s.get("run", "").endswith(" down"))
        assert down.get("if") == "always()", name
        left = next(s for s in job["steps"] if s.get("name", "").startswith("nothing of the lab is left"))
        assert left.get("if") == "always()" and "exit" in left["run"], name
        upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
        assert upload.get("if") == "always()" and "build/evidence/" in upload["with"]["path"]
    runs = {name: " ".join(s.get("run", "") for s in job["steps"]) for name, job in doc["jobs"].items()}
    assert "--driver junos-ssh" in runs["stand-ins"]
    assert "--runtime containerlab" in runs["containerlab"] and "docker build" in runs["containerlab"]
    assert len(doc["jobs"]["stand-ins"]["strategy"]["matrix"]["os"]) >= 2  # a kernel matrix
    assert "vsrx_image" in doc[True]["workflow_dispatch"]["inputs"]
    steps = " ".join(s.get("run", "") for s in vsrx["steps"])
    assert "::notice::" in steps and "--driver junos-ssh" in steps and "collect_answers.py" in steps
    down = next(s for s in vsrx["steps"] if s.get("run", "").endswith(" down"))
    assert down["if"].startswith("always()")
