"""The clabernetes runtime's resources against clabernetes' own oracles in ../shared (read in
place, never copied): the Topology validates against the CRD's OpenAPI schema, and for
clabverter's own example topology the resources carry what clabverter made of it (the same
containerlab definition, connectivity, naming and expose settings). Configs go into ConfigMaps
named and keyed as clabverter's template names them, mounted where the topology names them;
the printed manifest never shows a key."""
from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.cli import main
from harness.runtime import clabernetes

from ..conftest import TOPOLOGIES, shared_oracle

VSRX = TOPOLOGIES / "three-site-vsrx.clab.yml"
CRD = "schemas/clabernetes/clabernetes.containerlab.dev_topologies.yaml"
EXAMPLE = "schemas/clabernetes/clabverter-example"


def crd_schema() -> dict:
    crd = yaml.safe_load(shared_oracle(CRD).read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == clabernetes.API.split("/")[1]]
    assert crd["spec"]["group"] == clabernetes.API.split("/")[0] and crd["spec"]["names"]["kind"] == "Topology"
    return version["schema"]["openAPIV3Schema"]


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def test_the_topology_resource_validates_against_clabernetes_crd():
    (topo,) = by_kind(clabernetes.resources("nhtb-vsrx", VSRX, {}), "Topology")
    jsonschema.validate(topo, crd_schema())
    broken = {**topo, "spec": {**topo["spec"], "naming": "sideways"}}  # the schema is a real check
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, crd_schema())


def test_clabverters_example_converts_to_what_clabverter_made():
    folder = shared_oracle(EXAMPLE)
    golden = yaml.safe_load((folder / "10-topology.clabverter-basic.yaml").read_text())
    (ours,) = by_kind(clabernetes.resources("clabverter-basic", folder / "basic_clab.yaml", {}), "Topology")
    assert (ours["apiVersion"], ours["kind"], ours["metadata"]["name"]) == \
        (golden["apiVersion"], golden["kind"], golden["metadata"]["name"])
    assert yaml.safe_load(ours["spec"]["definition"]["containerlab"]) == \
        yaml.safe_load(golden["spec"]["definition"]["containerlab"])
    for key in ("connectivity", "naming"):
        assert ours["spec"][key] == golden["spec"][key]
    for key, value in ours["spec"]["expose"].items():
        assert golden["spec"]["expose"][key] == value
    jsonschema.validate(ours, crd_schema())


def test_every_startup_config_is_a_config_map_mounted_where_the_topology_names_it():
    docs = clabernetes.resources("nhtb-vsrx", VSRX, {})
    (topo,) = by_kind(docs, "Topology")
    definition = yaml.safe_load(topo["spec"]["definition"]["containerlab"])
    maps = {m["metadata"]["name"]: m for m in by_kind(docs, "ConfigMap")}
    mounted = topo["spec"]["deployment"]["filesFromConfigMap"]
    with_config = {n for n, s in definition["topology"]["nodes"].items() if s.get("startup-config")}
    assert set(mounted) == with_config == {"corporate", "westford", "sunnyvale"}
    for node, (entry,) in mounted.items():
        path = definition["topology"]["nodes"][node]["startup-config"]
        assert entry == {"filePath": path, "configMapName": f"nhtb-vsrx-{node}-startup-config",
                         "configMapPath": "startup-config", "mode": "read"}
        assert maps[entry["configMapName"]]["data"]["startup-config"] == (VSRX.parent / path).read_text()
    assert {d["metadata"]["namespace"] for d in docs if d["kind"] != "Namespace"} == {"nhtb-vsrx"}
    # The launcher pods do not see the user's environment: the topology's variables are expanded.
    assert "${" not in topo["spec"]["definition"]["containerlab"]


def test_the_user_environment_fills_the_topology_variables():
    (topo,) = by_kind(clabernetes.resources("x", VSRX, {"NHTB_VSRX_IMAGE": "registry.example/vsrx:24.4"}), "Topology")
    assert "image: registry.example/vsrx:24.4" in topo["spec"]["definition"]["containerlab"]
    assert yaml.safe_load(topo["spec"]["definition"]["containerlab"])["name"] == "x"  # the lab's --name


def test_the_dry_run_prints_the_resources_without_a_key_and_names_the_stand_in(capsys):
    assert main(["-t", str(VSRX), "up", "--runtime", "clabernetes", "--dry-run"]) == 0
    printed = capsys.readouterr()
    docs = list(yaml.safe_load_all(printed.out))
    assert [d["kind"] for d in docs] == ["Namespace", "ConfigMap", "ConfigMap", "ConfigMap", "Topology"]
    assert "$9$" not in printed.out and "<redacted>" in printed.out
    assert "sunnyvale: a stand-in site" in printed.err


def test_up_refuses_a_topology_with_a_stand_in_site(capsys):
    assert main(["-t", str(VSRX), "up", "--runtime", "clabernetes"]) == 1
    assert "sunnyvale would be a stand-in" in capsys.readouterr().err


def test_capacity_is_whichever_runs_out_first():
    assert clabernetes.capacity(memory_gb=23, cpus=2) == 1
    assert clabernetes.capacity(memory_gb=64, cpus=32) == 16
    assert clabernetes.capacity(memory_gb=3.9, cpus=8) == 0


def test_a_config_yaml_cannot_keep_as_a_block_shows_no_key_either(tmp_path):
    """A line with trailing blanks makes YAML quote and escape the whole config: the key must be
    gone before that, not looked for afterwards."""
    (tmp_path / "hub.junos").write_text('security {\n    ike {\n        policy p {\n            '
                                        'pre-shared-key ascii-text "s3cretPSK";   \n        }\n    }\n}\n')
    (tmp_path / "t.clab.yml").write_text("name: t\ntopology:\n  nodes:\n    hub:\n      kind: juniper_vsrx\n"
                                         "      startup-config: hub.junos\n")
    docs = clabernetes.resources("t", tmp_path / "t.clab.yml", {})
    printed = clabernetes.manifest(docs)
    assert "s3cretPSK" not in printed and "<redacted>" in printed
    assert "s3cretPSK" in clabernetes.manifest(docs, reveal=True)  # what kubectl is given


def test_a_node_is_reached_through_the_service_and_container_clabernetes_makes():
    """clabverter's Service for each node: named as `service_name` says, its SSH port led to the
    port the node's sub-topology maps to the node's 22; the sub-topology has no name prefix, so
    containerlab names the node's container after the node, which `exec` enters."""
    folder = shared_oracle(EXAMPLE)
    services = [yaml.safe_load(f.read_text()) for f in sorted(folder.glob("10-service.*.yaml"))]
    configs = yaml.safe_load((folder / "10-topology.clabverter-basic.yaml").read_text())["status"]["configs"]
    assert services, f"no Service in {folder}"
    for svc in services:
        labels = svc["metadata"]["labels"]
        lab, node = labels["clabernetes/topologyOwner"], labels["clabernetes/topologyNode"]
        assert svc["metadata"]["name"] == clabernetes.service_name(lab, node)
        (ssh,) = [p for p in svc["spec"]["ports"] if p["protocol"] == "TCP" and p["port"] == clabernetes.SSH_PORT]
        sub = yaml.safe_load(configs[node])
        assert f"{ssh['targetPort']}:{clabernetes.SSH_PORT}/tcp" in sub["topology"]["defaults"]["ports"]
        assert sub["prefix"] == "" and node in sub["topology"]["nodes"]
        argv = clabernetes.exec_argv(lab, node, ["ip", "route"])
        assert argv[argv.index("--") + 1:] == ["docker", "exec", node, "ip", "route"]


def test_the_ssh_address_is_the_load_balancer_the_topology_status_reports():
    (topo,) = by_kind(clabernetes.resources("nhtb-vsrx", VSRX, {}), "Topology")
    status = {"conditions": [], "configs": {}, "kind": "containerlab", "nodeReadiness": {"corporate": "ready"},
              "reconcileHashes": {"config": "", "exposedPorts": "", "filesFromURL": {}, "imagePullSecrets": ""},
              "removeTopologyPrefix": False, "topologyReady": True,
              "exposedPorts": {"corporate": {"loadBalancerAddress": "172.18.1.10", "tcpPorts": [22, 830], "udpPorts": [161]},
                               "westford": {"loadBalancerAddress": "", "tcpPorts": [22], "udpPorts": []},
                               "sunnyvale": {"loadBalancerAddress": "172.18.1.12", "tcpPorts": [830], "udpPorts": []}}}
    jsonschema.validate({**topo, "status": status}, crd_schema())  # what clabernetes reports looks like this
    assert clabernetes.exposed_address(status, "corporate") == "172.18.1.10"
    assert clabernetes.exposed_address(status, "westford") is None  # no address yet: port-forward instead
    assert clabernetes.exposed_address(status, "sunnyvale") is None  # SSH not exposed
    assert clabernetes.exposed_address(status, "internet") is None


def test_a_deployed_lab_is_found_and_its_vsrx_nodes_are_asked_over_ssh(tmp_path, monkeypatch):
    from harness.drivers import for_lab
    from harness.drivers.junos_ssh import JunosSshDriver
    from harness.errors import LabError
    from harness.model.lab import load_lab
    from harness.runtime import backend

    class NoVM:  # this test is about the record, not about a lab VM that may be running here
        def agent(self, *a, **k):
            return None

    monkeypatch.setattr(backend, "LabVM", NoVM)
    monkeypatch.setattr(clabernetes, "RECORDS", tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # no kubectl: the calls say so instead of reaching a cluster
    lab = load_lab(VSRX, name="c9s-lab")
    clabernetes.record(lab, VSRX, {}, "kind-c9s")
    assert clabernetes.record_path("c9s-lab").stat().st_mode & 0o777 == 0o600
    rt = backend.find("c9s-lab")
    assert isinstance(rt, clabernetes.ClabernetesRuntime) and rt._context("c9s-lab") == "kind-c9s"
    assert ("clabernetes", "c9s-lab") in [(w, s["name"]) for w, s in backend.all_labs()]
    drivers = for_lab("c9s-lab")
    assert {n for n, d in drivers.items() if isinstance(d, JunosSshDriver)} == {"corporate", "westford"}
    with pytest.raises(LabError, match="kubectl"):
        drivers["corporate"].ike_sas()
    with pytest.raises(LabError, match="not offered on a lab clabernetes runs"):
        rt.inject("c9s-lab", "kill-charon", node="westford")
    with pytest.raises(LabError, match="kubectl"):
        backend.down("c9s-lab")
    assert clabernetes.record_path("c9s-lab").exists()  # not deleted on the cluster: still recorded
    assert clabernetes.exec_argv("c9s-lab", "corp-pc", ["true"], "kind-c9s")[:3] == ["kubectl", "--context", "kind-c9s"]


def test_down_deletes_only_a_namespace_nhtb_lab_labelled(monkeypatch):
    import json

    from harness.errors import LabError

    (ns,) = by_kind(clabernetes.resources("nhtb-vsrx", VSRX, {}), "Namespace")
    asked: list[list[str]] = []
    found = {"text": json.dumps(ns)}  # what `kubectl get namespace -o json` prints of it

    def kubectl(argv, what, context, timeout=60):
        asked.append(argv)
        return found["text"] if argv[0] == "get" else ""

    monkeypatch.setattr(clabernetes, "_kubectl", kubectl)
    monkeypatch.setattr(clabernetes, "RECORDS", Path("/nonexistent"))
    assert clabernetes.ClabernetesRuntime().down("nhtb-vsrx") == ["nhtb-vsrx"] and asked[-1][:2] == ["delete", "namespace"]
    found["text"] = json.dumps({**ns, "metadata": {"name": "nhtb-vsrx"}})  # someone else's namespace
    asked.clear()
    with pytest.raises(LabError, match="not deleting it"):
        clabernetes.ClabernetesRuntime().down("nhtb-vsrx")
    assert [a[0] for a in asked] == ["get"]
    found["text"] = ""  # gone already: the record goes, nothing to delete
    assert clabernetes.ClabernetesRuntime().down("nhtb-vsrx") == ["nhtb-vsrx"]
