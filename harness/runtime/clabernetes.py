"""The clabernetes runtime: the same topology file, as clabernetes (containerlab on Kubernetes)
runs it, for labs of vSRX nodes that outgrow one machine (about 4 GB and 2 vCPUs each).

`resources()` is what clabernetes' own converter, clabverter, makes of a topology (pure): a
Namespace, one ConfigMap per startup-config (`<lab>-<node>-startup-config`, key
`startup-config`), and the `Topology` (clabernetes.containerlab.dev/v1alpha1) whose definition is
the containerlab file, its ${VARIABLES} expanded as the user's environment gives them (the
launcher pods do not see it), with the configs mounted where the file names them
(`deployment.filesFromConfigMap`). `up --runtime clabernetes --dry-run` prints them, pre-shared
keys redacted; `up` hands them to `kubectl apply` on stdin (no file holds the keys) and waits for
the Topology's `status.topologyReady`. `ClabernetesRuntime` then reaches the nodes the two ways
clabernetes exposes them: a vSRX's SSH on the LoadBalancer address the Topology's
`status.exposedPorts` names, or, without a load balancer, through `kubectl port-forward` to the
node's Service (`<lab>-<node>`, as clabverter names it); a LAN host by `docker exec` in its
launcher pod (`kubectl exec deployment/<lab>-<node>`: containerlab runs each node in docker
there, under the node's own name). The drivers are unchanged: the vSRX driver gets its socket
from `mgmt_socket`, the Linux driver its commands from `exec`. No Kubernetes runs on this
machine: the resources are tested against clabernetes' CRD and clabverter's golden output; the
kubectl steps are not run here.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

import yaml

from ..errors import LabError, redact
from ..files import write_file
from ..model.lab import Lab
from ..model.mgmt import SSH_PORT
from ..parse.clab import expand_vars
from ..render.netplan import lab_plan
from .provider import is_device
from .state import LabState, NodeState

API = "clabernetes.containerlab.dev/v1alpha1"
VSRX_MEMORY_GB, VSRX_CPUS = 4, 2  # what a vSRX node needs (Juniper's minimum for vSRX 3.0)
READY_DEADLINE = 1200  # seconds: image pulls and vSRX boots in the launcher pods
MANAGED = "app.kubernetes.io/managed-by"  # on the Namespace: `down` deletes only one nhtb-lab made
# Where this host records the labs it deployed (a lab outlives a reboot of this host).
RECORDS = Path(os.environ.get("NHTB_CLABERNETES_RECORDS", "/var/lib/nhtb-lab/clabernetes"))


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
    out: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {MANAGED: "nhtb-lab"}}}]
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
    """Deploy on the cluster kubectl is configured for; returns the namespace. The lab is recorded
    (with that cluster's context) before anything is applied, so `down` finds whatever was."""
    refused = stand_ins(lab)
    if refused:
        raise LabError(f"{topology}: the clabernetes runtime runs vSRX nodes; {', '.join(refused)} would be a "
                       "stand-in, which the harness configures through its network namespace and a cluster does not "
                       "expose (use the netns, VM or containerlab runtime for it)")
    if not shutil.which("kubectl"):
        raise LabError("the clabernetes runtime needs kubectl configured for a cluster running clabernetes "
                       "(`up --runtime clabernetes --dry-run` prints the resources it would apply)")
    ns = namespace_of(lab.name)
    context = None
    for what, argv in kubectl_steps(lab, ns):
        if context:  # the first step names the cluster's context: every later call is pinned to it
            argv = kubectl(context, *argv[1:])
        stdin = None
        if argv[-1] == "-":
            if not _ours_or_absent(ns, context):
                raise LabError(f"clabernetes: namespace {ns} exists and nhtb-lab did not make it (no {MANAGED}=nhtb-lab "
                               f"label): choose another lab name (--name)")
            record(lab, topology, env, context)
            stdin = manifest(resources(lab.name, topology, env), reveal=True)
        res = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if res.returncode != 0:
            raise LabError(f"clabernetes: {what}: `{' '.join(argv)}` failed: {redact(res.stderr.strip())[-400:]}")
        context = context or res.stdout.strip()
    return ns


def service_name(lab_name: str, node: str) -> str:
    """The Service exposing a node, and the Deployment running its launcher pod (naming
    "prefixed": the Topology's name, then the node's)."""
    return f"{lab_name}-{node}"


def exposed_address(status: dict, node: str, port: int = SSH_PORT) -> str | None:
    """The LoadBalancer address exposing `port` of `node`, from the Topology's `status`; None
    when the node has no load balancer address (yet) or does not expose that port."""
    ports = (status.get("exposedPorts") or {}).get(node) or {}
    address = ports.get("loadBalancerAddress")
    return address if address and port in (ports.get("tcpPorts") or []) else None


def kubectl(context: str | None, *argv: str) -> list[str]:
    """kubectl's argv, pinned to the lab's cluster context where one was recorded."""
    return ["kubectl", *(["--context", context] if context else []), *argv]


def exec_argv(lab_name: str, node: str, argv: list[str], context: str | None = None) -> list[str]:
    """A command run in a node's container, inside the launcher pod that runs it in docker."""
    return [*kubectl(context, "exec", "-n", namespace_of(lab_name)),
            f"deployment/{service_name(lab_name, node)}", "--", "docker", "exec", node, *argv]


FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) -> \d+")


def record_path(lab_name: str) -> Path:
    return RECORDS / f"{lab_name}.json"


def record(lab: Lab, topology: Path, env: dict[str, str], context: str | None) -> dict:
    """What this host keeps of a lab deployed on the cluster: enough to find it, read its model,
    and reach the same cluster (its kubectl context) whatever kubectl points at later."""
    plans = lab_plan(lab)
    state = LabState(lab.name, str(topology.resolve()), "clabernetes", time.strftime("%Y-%m-%d %H:%M:%S"), env=env,
                     nodes={n: NodeState("", lab.kind(n), plans[n].role) for n in lab.nodes})
    doc = state.as_dict() | {"context": context}
    write_file(record_path(lab.name), json.dumps(doc, indent=2), secret=True)  # env may hold a key
    return doc


def _kubectl(argv: list[str], what: str, context: str | None, timeout: float = 60) -> str:
    if not shutil.which("kubectl"):
        raise LabError(f"clabernetes: {what} needs kubectl configured for the cluster the lab runs on")
    full = kubectl(context, *argv)
    res = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise LabError(f"clabernetes: {what}: `{' '.join(full)}` failed: {redact(res.stderr.strip())[-400:]}")
    return res.stdout


def _ours_or_absent(ns: str, context: str | None) -> bool:
    """Whether namespace `ns` is absent, or carries nhtb-lab's label."""
    found = _kubectl(["get", "namespace", ns, "-o", "json", "--ignore-not-found"], f"reading namespace {ns}", context)
    return not found.strip() or json.loads(found)["metadata"].get("labels", {}).get(MANAGED) == "nhtb-lab"


def _end_with_this_process() -> None:
    """In a port-forward's child: it gets SIGTERM when the process that started it ends, however."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM


_FORWARDS: dict[tuple[str, str, int], tuple[subprocess.Popen, int]] = {}  # one per node and port, reused
atexit.register(lambda: [p.terminate() for p, _ in _FORWARDS.values()])


class ClabernetesRuntime:
    """A lab clabernetes runs: found by its record on this host, its nodes reached as the
    cluster exposes them. The lab's lifecycle is clabernetes' (`up` applies, `down` deletes);
    what only a stand-in has (faults, soak, supervisor log, flow trace) is refused by name."""

    where = "clabernetes"

    def labs(self) -> list[dict]:
        out = []
        for f in sorted(RECORDS.glob("*.json")) if RECORDS.exists() else []:
            try:
                out.append(json.loads(f.read_text()))
            except (OSError, ValueError):
                continue
        return out

    def _context(self, lab_name: str) -> str | None:
        return next((s.get("context") for s in self.labs() if s["name"] == lab_name), None)

    def __getattr__(self, call: str):
        if call.startswith("_"):
            raise AttributeError(call)

        def refused(*args, **kwargs):
            raise LabError(f"'{call}' is not offered on a lab clabernetes runs: its nodes are devices, asked over "
                           "SSH (verify, show, diagnose), and hosts reached by exec")
        return refused

    def exec(self, lab_name: str, node: str, argv: list[str], timeout: float = 120) -> dict:
        if not shutil.which("kubectl"):
            raise LabError(f"clabernetes: running a command on {node} needs kubectl")
        res = subprocess.run(exec_argv(lab_name, node, argv, self._context(lab_name)), capture_output=True, text=True,
                             timeout=timeout)
        return {"returncode": res.returncode, "stdout": res.stdout, "stderr": res.stderr}

    def mgmt_socket(self, lab_name: str, node: str, port: int = SSH_PORT, timeout: float = 30) -> socket.socket:
        """The node's SSH: on its load balancer address where the cluster gave one, else through
        `kubectl port-forward` to its Service (on this host's loopback only; one per node, kept)."""
        ns, context = namespace_of(lab_name), self._context(lab_name)
        status = json.loads(_kubectl(["get", "-n", ns, f"topology/{lab_name}", "-o", "json"],
                                     f"reading topology {lab_name}", context)).get("status") or {}
        address = exposed_address(status, node, port)
        if address:
            return socket.create_connection((address, port), timeout=timeout)
        key = (lab_name, node, port)
        if key not in _FORWARDS or _FORWARDS[key][0].poll() is not None:
            _FORWARDS[key] = self._forward(ns, context, service_name(lab_name, node), port, timeout)
        return socket.create_connection(("127.0.0.1", _FORWARDS[key][1]), timeout=timeout)

    @staticmethod
    def _forward(ns: str, context: str | None, service: str, port: int, timeout: float) -> tuple[subprocess.Popen, int]:
        proc = subprocess.Popen([*kubectl(context, "port-forward", "-n", ns),
                                 f"svc/{service}", f":{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_end_with_this_process)
        ready, _, _ = select.select([proc.stdout], [], [], timeout)  # kubectl says where it listens, then serves
        line = proc.stdout.readline() if ready else ""
        m = FORWARDING.search(line)
        if not m:
            proc.kill()
            raise LabError(f"clabernetes: no load balancer address and `kubectl port-forward svc/{service}` did not "
                           f"listen within {timeout:g}s: {redact((line + proc.stderr.read()).strip())[-300:]}")
        return proc, int(m[1])

    def down(self, lab_name: str) -> list[str]:
        """Delete the lab's namespace (its Topology, ConfigMaps, pods and Services go with it),
        only if nhtb-lab made it; the record goes too, also when the namespace is gone already."""
        ns, context = namespace_of(lab_name), self._context(lab_name)
        if not _ours_or_absent(ns, context):
            raise LabError(f"clabernetes: namespace {ns} has no {MANAGED}=nhtb-lab label: not deleting it")
        _kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=true"], f"deleting namespace {ns}", context,
                 timeout=600)
        for key in [k for k in _FORWARDS if k[0] == lab_name]:
            _FORWARDS.pop(key)[0].terminate()
        record_path(lab_name).unlink(missing_ok=True)
        return [ns]
