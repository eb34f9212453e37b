"""The containerlab runtime: containerlab makes the node namespaces (containers, with vSRX nodes
booting their startup-config under vrnetlab), and the stand-ins are then configured through the
namespaces it exposes (/run/netns/clab-<lab>-<node>) with the same code as the netns runtime.

`plan()` is the whole bring-up as data: the exact commands and the readiness steps, in order;
`up --runtime containerlab --dry-run` prints it. This machine has neither Docker nor containerlab:
the plan is tested here, the execution where they exist (see the README).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError
from ..model.lab import Lab
from ..model.mgmt import credentials, mgmt_plan
from .provider import Provider, is_device

CONTAINERLAB = "containerlab"
VSRX_BOOT_DEADLINE = 900  # seconds: a vSRX takes about 7 minutes to boot under vrnetlab
STANDIN_DEADLINE = 120
STANDIN_IMAGE_DIR = "lab/images/strongswan"  # the stand-in image's Dockerfile


@dataclass(frozen=True)
class Step:
    what: str
    command: tuple[str, ...] | None = None  # run it; None: done by the harness itself
    wait_for: str | None = None  # poll `command` until its output equals this
    deadline: float = 0


def container(lab: Lab, lab_name: str, node: str) -> str:
    """containerlab's container (and namespace) name: <prefix>-<lab>-<node>, prefix `clab` by default."""
    prefix = lab.topology.prefix
    if prefix == "":
        return node
    return f"{prefix or 'clab'}-{lab_name}-{node}"


def available() -> bool:
    """containerlab installed and a Docker engine answering."""
    if not shutil.which(CONTAINERLAB) or not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def needs_containerlab(lab: Lab) -> bool:
    return any(is_device(lab, n) for n in lab.nodes)


def plan(lab: Lab, topology: Path, lab_name: str) -> list[Step]:
    topo = str(topology.resolve())
    steps = [Step("containerlab is installed", (CONTAINERLAB, "version")),
             Step("a Docker engine answers", ("docker", "info", "--format", "{{.ServerVersion}}"))]
    images: dict[str, bool] = {}  # image -> used by a vSRX
    for n in lab.nodes:
        img = lab.topology.nodes[n].image
        if img:
            images[img] = images.get(img, False) or is_device(lab, n)
    for img, vsrx in sorted(images.items()):
        how = "build it with vrnetlab from a vSRX qcow2" if vsrx else f"docker build -t {img} {STANDIN_IMAGE_DIR}"
        steps.append(Step(f"image {img} is present ({how})", ("docker", "image", "inspect", "--format", "{{.Id}}", img)))
    steps.append(Step("deploy the topology (containers, links, management network, startup-configs)",
                      (CONTAINERLAB, "deploy", "-t", topo, "--name", lab_name, "--reconfigure")))
    mgmt = mgmt_plan(lab)
    for node in lab.nodes:
        c = container(lab, lab_name, node)
        if is_device(lab, node):
            steps.append(Step(f"{node}: wait until vrnetlab reports the vSRX healthy (boots its startup-config "
                              f"{lab.topology.nodes[node].startup_config})",
                              ("docker", "inspect", "--format", "{{.State.Health.Status}}", c), "healthy",
                              VSRX_BOOT_DEADLINE))
            user, _ = credentials(lab, node)
            steps.append(Step(f"{node}: wait until its CLI answers over SSH at {mgmt.address(node)} as {user}",
                              None, None, VSRX_BOOT_DEADLINE))
        else:
            steps.append(Step(f"{node}: wait until the container runs",
                              ("docker", "inspect", "--format", "{{.State.Running}}", c), "true", STANDIN_DEADLINE))
            steps.append(Step(f"{node}: its network namespace is /run/netns/{c}",
                              ("test", "-e", f"/run/netns/{c}")))
    for node in lab.nodes:
        c = container(lab, lab_name, node)
        if node in lab.sites and not is_device(lab, node):
            steps.append(Step(f"{node}: configure in /run/netns/{c} from {lab.topology.nodes[node].startup_config}: "
                              "addresses, st0 (xfrm interface), routes, nftables, charon and its connections "
                              "(the netns runtime's code)"))
        elif node in lab.hosts:
            steps.append(Step(f"{node}: containerlab has run its exec lines; addresses and routes are checked"))
    steps.append(Step("start the VPNs from the stand-in spokes, the binder on a stand-in hub, and the management "
                      "daemon (SSH CLI) on each stand-in; wait for SAs and next-hop tunnel bindings"))
    return steps


def destroy_plan(lab: Lab, topology: Path, lab_name: str) -> list[Step]:
    return [Step("destroy the lab and remove its directory",
                 (CONTAINERLAB, "destroy", "-t", str(topology.resolve()), "--name", lab_name, "--cleanup"))]


def run_step(step: Step) -> str:
    """Carry out one step with a command: once, or polled until `wait_for` within its deadline."""
    if step.command is None:
        return ""
    deadline = time.monotonic() + (step.deadline or 0)
    while True:
        res = subprocess.run(list(step.command), capture_output=True, text=True)
        out = res.stdout.strip()
        if step.wait_for is None and res.returncode == 0:
            return out
        if step.wait_for is not None and out == step.wait_for:
            return out
        if time.monotonic() >= deadline:
            raise LabError(f"{step.what}: `{' '.join(step.command)}` "
                           f"{'gave ' + repr(out) if step.wait_for else 'failed'}: {res.stderr.strip()[-400:]}")
        time.sleep(5)


class ContainerlabProvider(Provider):
    """Node namespaces made by containerlab (the seam the netns runtime also fills)."""

    name = "containerlab"
    cables_mgmt = False  # containerlab gives every container eth0 on its management network
    in_place = False  # a containerlab lab is changed with containerlab itself

    def __init__(self, topology: Path):
        self.topology = topology

    def create(self, lab: Lab, lab_name: str, only: list[str] | None = None) -> dict[str, str]:
        if only is not None:
            raise LabError("a containerlab lab is changed with containerlab itself: in-place changes are not offered")
        for step in plan(lab, self.topology, lab_name):
            if step.command is not None:
                run_step(step)
        return {node: container(lab, lab_name, node) for node in lab.nodes}

    def destroy(self, lab_name: str, namespaces: list[str], lab: Lab | None = None) -> list[str]:
        if lab is not None:
            for step in destroy_plan(lab, self.topology, lab_name):
                run_step(step)
        return namespaces
