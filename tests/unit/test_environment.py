"""A topology's ${VARIABLES} are taken from the user's environment once and carried with the lab."""
from __future__ import annotations

from harness.model.lab import load_lab
from harness.runtime.environment import topology_env
from harness.runtime.state import LabState, NodeState

from ..conftest import THREE_SITE


def test_only_the_variables_the_topology_uses_are_taken():
    env = topology_env(THREE_SITE, {"NHTB_LAB_NAME": "envtest", "SECRET_TOKEN": "x", "HOME": "/root"})
    assert env == {"NHTB_LAB_NAME": "envtest"}
    assert topology_env(THREE_SITE, {}) == {}  # unset: the topology's own default applies


def test_a_labs_state_reads_its_topology_with_the_users_variables():
    env = topology_env(THREE_SITE, {"NHTB_STANDIN_IMAGE": "example/standin:2"})
    state = LabState("nhtb", str(THREE_SITE.resolve()), "netns", "now", env=env)
    images = lambda lab: {lab.topology.nodes[n].image for n in lab.nodes}  # noqa: E731
    assert images(state.model()) == {"example/standin:2"}
    assert images(LabState.from_dict(state.as_dict()).model()) == {"example/standin:2"}  # as the agent sends it
    assert images(load_lab(THREE_SITE, env={})) != {"example/standin:2"}


def test_a_labs_answer_reads_back_with_what_it_adds():
    state = LabState("nhtb", str(THREE_SITE.resolve()), "netns", "now", env={"A": "1"})
    state.nodes["corporate"] = NodeState("nhtb-corporate", "linux", "hub", charon_pid=7)
    d = state.as_dict()
    d["nodes"]["corporate"]["charon_running"] = True  # what LocalRuntime.labs() adds
    assert LabState.from_dict(d) == state
