"""The clabernetes runtime: the same topology file, as clabernetes (containerlab on Kubernetes)
runs it, for labs of vSRX nodes that outgrow one machine (about 4 GB and 2 vCPUs each).

`resources()` is what clabernetes' own converter, clabverter, makes of a topology (pure): a
Namespace, one ConfigMap per startup-config (`<lab>-<node>-startup-config`, key
`startup-config`), and the `Topology` (clabernetes.containerlab.dev/v1alpha1) whose definition is
the containerlab file, its ${VARIABLES} expanded as the user's environment gives them (the
launcher pods do not see it), with the configs mounted where the file names them
(`deployment.filesFromConfigMap`). `up --runtime clabernetes --dry-run` prints them, pre-shared
keys redacted; `up` hands them to `kubectl apply` on stdin (no file holds the keys) and waits for
the Topology's `status.topologyReady`. The vSRX nodes are then reached on their exposed SSH (the
service clabernetes makes per node), by the vSRX driver unchanged. No Kubernetes runs on this
machine: the resources are tested against clabernetes' CRD and clabverter's golden output; the
kubectl steps are not run here.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from ..errors import LabError, redact
from ..model.lab import Lab
from ..parse.clab import expand_vars
from .provider import is_device

API = "clabernetes.containerlab.dev/v1alpha1"
VSRX_MEMORY_GB, VSRX_CPUS = 4, 2  # what a vSRX node needs (Juniper's minimum for vSRX 3.0)
READY_DEADLINE = 1200  # seconds: image pulls and vSRX boots in the launcher pods


def namespace_of(lab_name: str) -> str:
    return lab_name  # as clabverter's default: the topology's name


def config_map_name(lab_name: str, node: str) -> str:
    return f"{lab_name}-{node}-startup-config"


def resources(name: str, topology: Path, env: dict[str, str], namespace: str | None = None) -> list[dict]:
    """The Namespace, the startup-config ConfigMaps and the Topology of lab `name` from
    `topology` (pure but for reading the topology and its configs)."""
    ns = namespace or namespace_of(name)
    definition = expand_vars(topology.read_text(), env)
    doc = yaml.safe_load(definition)
    doc["name"] = name  # the lab's name (`--name`) is the Topology's
    out: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    files: dict[str, list[dict]] = {}
    for node, spec in doc.get("topology", {}).get("nodes", {}).items():
        path = (spec or {}).get("startup-config")
        if not path:
            continue
        text = (topology.parent / path).read_text()
        cm = config_map_name(name, node)
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm, "namespace": ns},
                    "data": {"startup-config": text}})
        files[node] = [{"filePath": path, "configMapName": cm, "configMapPath": "startup-config", "mode": "read"}]
    spec: dict = {"connectivity": "vxlan", "definition": {"containerlab": yaml.safe_dump(doc, sort_keys=False)},
                  "expose": {"disableAutoExpose": False, "disableExpose": False}, "naming": "prefixed"}
    if files:
        spec["deployment"] = {"filesFromConfigMap": files}
    out.append({"apiVersion": API, "kind": "Topology", "metadata": {"name": name, "namespace": ns}, "spec": spec})
    return out


class _Dumper(yaml.SafeDumper):
    pass


# Configs and the containerlab file as block literals (`|`), as clabverter writes them.
_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                             style="|" if "\n" in s else None))


def manifest(docs: list[dict], reveal: bool = False) -> str:
    """The resources as one YAML stream; keys redacted unless `reveal` (what kubectl is given).
    The configs are redacted before they are written as YAML: a line YAML cannot keep in a block
    (trailing blanks) is written quoted and escaped, where a key would no longer look like one."""
    if not reveal:
        docs = [{**d, "data": {k: redact(v) for k, v in d["data"].items()}} if d["kind"] == "ConfigMap" else d
                for d in docs]
    text = yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False)
    return text if reveal else redact(text)


def stand_ins(lab: Lab) -> list[str]:
    """Sites the harness would configure itself (not a vSRX): a cluster does not hand it their
    namespaces, so the clabernetes runtime cannot run them."""
    return [n for n in lab.sites if not is_device(lab, n)]


def capacity(memory_gb: float | None = None, cpus: int | None = None) -> int:
    """How many vSRX nodes this machine holds (memory and vCPUs, whichever runs out first)."""
    if memory_gb is None:
        with open("/proc/meminfo") as f:
            kb = next(int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:"))
        memory_gb = kb / 1024 / 1024
    cpus = (os.cpu_count() or 1) if cpus is None else cpus
    return int(min(memory_gb // VSRX_MEMORY_GB, cpus // VSRX_CPUS))


def kubectl_steps(lab: Lab, namespace: str) -> list[tuple[str, list[str]]]:
    """What `up` runs, in order (the manifest goes to the apply on stdin)."""
    return [("a cluster is configured", ["kubectl", "config", "current-context"]),
            ("clabernetes is installed (its Topology CRD)", ["kubectl", "get", "crd", "topologies.clabernetes.containerlab.dev"]),
            ("apply the Namespace, ConfigMaps and Topology", ["kubectl", "apply", "-f", "-"]),
            (f"wait until the Topology is ready (within {READY_DEADLINE}s)",
             ["kubectl", "wait", "-n", namespace, f"topology/{lab.name}", "--for=jsonpath={.status.topologyReady}=true",
              f"--timeout={READY_DEADLINE}s"])]


def up(lab: Lab, topology: Path, env: dict[str, str]) -> str:
    """Deploy on the cluster kubectl is configured for; returns the namespace."""
    refused = stand_ins(lab)
    if refused:
        raise LabError(f"{topology}: the clabernetes runtime runs vSRX nodes; {', '.join(refused)} would be a "
                       "stand-in, which the harness configures through its network namespace and a cluster does not "
                       "expose (use the netns, VM or containerlab runtime for it)")
    if not shutil.which("kubectl"):
        raise LabError("the clabernetes runtime needs kubectl configured for a cluster running clabernetes "
                       "(`up --runtime clabernetes --dry-run` prints the resources it would apply)")
    ns = namespace_of(lab.name)
    for what, argv in kubectl_steps(lab, ns):
        stdin = manifest(resources(lab.name, topology, env), reveal=True) if argv[-1] == "-" else None
        res = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if res.returncode != 0:
            raise LabError(f"clabernetes: {what}: `{' '.join(argv)}` failed: {redact(res.stderr.strip())[-400:]}")
    return ns
