"""containerlab topologies: valid against containerlab's schema, read with their line numbers."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.errors import ConfigError
from harness.parse.clab import expand_vars, load_topology, parse_topology

from ..conftest import TOPOLOGIES, shared_oracle


def validate(doc) -> None:
    """Validate against containerlab's schema. It is written for ECMAScript regexes (\\p{L}) that
    Python's re cannot compile, so the metaschema pass is skipped; patterns are compiled as met."""
    schema = json.loads(shared_oracle("schemas/clab.schema.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)


@pytest.mark.parametrize("topology", sorted(TOPOLOGIES.glob("*.clab.yml")), ids=lambda p: p.name)
def test_topologies_validate_against_containerlabs_schema(topology):
    doc = yaml.safe_load(expand_vars(topology.read_text(), env={}))
    validate(doc)


def test_a_topology_that_breaks_the_schema_is_caught():
    doc = yaml.safe_load(expand_vars((TOPOLOGIES / "three-site.clab.yml").read_text(), env={}))
    doc["topology"]["nodes"]["corporate"]["kind"] = "juniper_srx_of_dreams"
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_both_variants_describe_the_same_lab():
    plain = load_topology(TOPOLOGIES / "three-site.clab.yml", env={})
    vsrx = load_topology(TOPOLOGIES / "three-site-vsrx.clab.yml", env={})
    assert set(plain.nodes) == set(vsrx.nodes)
    assert [(ln.a, ln.b) for ln in plain.links] == [(ln.a, ln.b) for ln in vsrx.links]
    # A vSRX boots the current-syntax variant of its site's config (lab/vsrx/), the rest are the same files.
    expected = {n: (c.parent / "vsrx" / c.name if vsrx.nodes[n].kind == "juniper_vsrx" else c)
                for n, c in ((n, plain.nodes[n].startup_config) for n in plain.nodes) if c}
    assert expected == {n: c for n, c in ((n, vsrx.nodes[n].startup_config) for n in vsrx.nodes) if c}
    assert {n.kind for n in vsrx.nodes.values() if n.name in ("corporate", "westford")} == {"juniper_vsrx"}


def test_variables_expand_like_containerlab():
    assert expand_vars("${A:=x}-${B:=y}-${C}", {"A": "1", "B": ""}) == "1-y-"
    assert load_topology(TOPOLOGIES / "three-site.clab.yml", env={"NHTB_LAB_NAME": "other"}).name == "other"
    assert load_topology(TOPOLOGIES / "three-site.clab.yml", env={}).name == "nhtb"


@pytest.mark.parametrize("text,line,message", [
    ("name: x\ntopology:\n  nodes:\n    a:\n      kind: linux\n      cpu-mode: fast\n", 6, "field 'cpu-mode' is not supported"),
    ("name: x\ntopology:\n  nodes:\n    a:\n      kind: linux\n  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n", 7,
     "no node 'b'"),
    ("name: x\ntopology:\n  nodes: {a: {kind: linux}}\n  links:\n    - endpoints: [\"a:eth1\", \"a:eth1\"]\n", 5,
     "already used"),
    ("name: x\ntopology:\n  nodes:\n    a: [1\n", 5, "not valid YAML"),
    ("name: x\n", 1, "no 'topology' section"),
])
def test_bad_topologies_name_file_and_line(text, line, message):
    with pytest.raises(ConfigError) as e:
        parse_topology(text, Path("bad.clab.yml"), env={})
    assert f"bad.clab.yml:{line}: " in str(e.value) and message in str(e.value), str(e.value)


def test_verify_pings_every_pair_in_the_notes_lab_and_three_per_spoke_in_a_big_one(tmp_path):
    """The note's lab (two spokes): the sample is every pair. Ten spokes: the hub's LAN to each
    spoke's and back, and each spoke's to one other spoke's and from one other (through the hub)."""
    from collections import Counter

    from harness.model.lab import load_lab
    from harness.model.spoke import grow
    from harness.model.topology import lan_host_pairs, sampled_host_pairs

    from ..conftest import THREE_SITE

    note = load_lab(THREE_SITE)
    assert sampled_host_pairs(note) == lan_host_pairs(note) and len(lan_host_pairs(note)) == 6
    big = load_lab(grow(THREE_SITE, 10, tmp_path / "n10"))
    hub = big.hub().name
    spokes = [s for s in big.sites if s != hub]
    pairs = sampled_host_pairs(big)
    assert len(spokes) == 10 and len(pairs) == 3 * len(spokes) and set(pairs) <= set(lan_host_pairs(big))
    via_hub = [(a.site, b.site) for a, b in pairs if hub in (a.site, b.site)]
    assert sorted(via_hub) == sorted([(hub, s) for s in spokes] + [(s, hub) for s in spokes])
    spoke_to_spoke = [(a.site, b.site) for a, b in pairs if hub not in (a.site, b.site)]
    assert Counter(a for a, _ in spoke_to_spoke) == Counter(b for _, b in spoke_to_spoke) == Counter(spokes)
