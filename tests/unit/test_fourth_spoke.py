"""A fourth spoke needs only new lab/ and topologies/ content: nothing in the harness names sites."""
from __future__ import annotations

import yaml

from harness.model.lab import load_lab
from harness.model.preflight import preflight
from harness.render import strongswan
from harness.render.netplan import lab_plan


def add_boston(topology):
    """Boston, a Junos spoke cloned from Westford the way the note says: new addresses, routes, policies."""
    labdir = topology.parent.parent / "lab"
    subs = {"3.3.3.2/30": "4.4.4.2/30", "next-hop 3.3.3.1": "next-hop 4.4.4.1", "192.168.178.": "192.168.188.",
            "10.11.11.12/24": "10.11.11.13/24", "host-name Westford": "host-name Boston"}
    text = (labdir / "westford.junos").read_text()
    for a, b in subs.items():
        text = text.replace(a, b)
    (labdir / "boston.junos").write_text(text)
    hub = (labdir / "corporate.junos").read_text()
    for anchor, extra in {
        "        gateway westford-gate {": "        gateway boston-gate {\n            ike-policy ike-policy1;\n"
                                          "            address 4.4.4.2;\n            external-interface ge-0/0/3.0;\n        }\n",
        "        vpn westford-vpn {": "        vpn boston-vpn {\n            bind-interface st0.0;\n            ike {\n"
                                    "                gateway boston-gate;\n                ipsec-policy vpn-policy1;\n"
                                    "            }\n        }\n",
    }.items():
        hub = hub.replace(anchor, extra + anchor)
    hub = hub.replace("        route 192.168.178.0/24 next-hop 10.11.11.12;\n",
                      "        route 192.168.178.0/24 next-hop 10.11.11.12;\n        route 192.168.188.0/24 next-hop 10.11.11.13;\n")
    hub = hub.replace("address westford-net 192.168.178.0/24;",
                      "address westford-net 192.168.178.0/24;\n                address boston-net 192.168.188.0/24;")
    hub = hub.replace("[ sunnyvale-net westford-net ]", "[ sunnyvale-net westford-net boston-net ]")
    (labdir / "corporate.junos").write_text(hub)

    doc = yaml.safe_load(topology.read_text())
    nodes = doc["topology"]["nodes"]
    nodes["boston"] = {"kind": "linux", "startup-config": "../lab/boston.junos", "labels": {"nhtb-lab.os": "junos"}}
    nodes["boston-pc"] = {"kind": "linux", "exec": ["ip addr add 192.168.188.10/24 dev eth1",
                                                    "ip route replace default via 192.168.188.1"]}
    nodes["internet"]["exec"].insert(0, "ip addr add 4.4.4.1/30 dev eth4")
    doc["topology"]["links"] += [{"endpoints": ["internet:eth4", "boston:eth1"]},
                                 {"endpoints": ["boston-pc:eth1", "boston:eth4"]}]
    topology.write_text(yaml.safe_dump(doc, sort_keys=False))


def reqids(lab) -> dict[str, str]:
    return {name: c["children"][name]["reqid"] for name, c in strongswan.connections(lab.sites["corporate"]).items()}


def test_a_fourth_spoke_flows_through_unchanged(lab_copy):
    before = reqids(load_lab(lab_copy))
    add_boston(lab_copy)
    lab = load_lab(lab_copy)
    after = reqids(lab)
    # The existing VPNs keep their reqids (their SAs need not be touched when a spoke is added).
    assert {n: after[n] for n in before} == before and len(after) == len(before) + 1
    assert set(lab.sites) == {"corporate", "westford", "sunnyvale", "boston"}
    assert preflight(lab) == []
    conns = strongswan.connections(lab.sites["corporate"])
    assert len(conns) == 3
    children = [c["children"][n] for n, c in conns.items()]
    assert len({c["reqid"] for c in children}) == 3 and len({c["if_id_in"] for c in children}) == 1
    hub_plan = lab_plan(lab)["corporate"]
    assert len(hub_plan.tunnels) == 1  # still one st0 on the hub
    assert "boston-vpn" in hub_plan.tunnels[0].vpns
