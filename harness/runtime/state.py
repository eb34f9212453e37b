"""A running lab's state: what `up` made (namespaces, daemons' pids, the topology it came from),
written and read in this one place, as `<state root>/labs/<lab>/lab.json`."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from ..files import write_file
from ..model.lab import load_lab
from . import paths

FILE = "lab.json"


@dataclass
class NodeState:
    ns: str  # the node's network namespace
    kind: str  # the topology's kind (linux, juniper_vsrx)
    role: str  # hub, spoke, router, host
    public: str | None = None  # a site's public address
    charon_pid: int | None = None
    binder_pid: int | None = None


@dataclass
class LabState:
    name: str
    topology: str  # the topology file, resolved
    provider: str  # how its namespaces came to exist: netns, containerlab
    created: str
    nodes: dict[str, NodeState] = field(default_factory=dict)
    mgmtd_pid: int | None = None
    supervisor_pid: int | None = None  # supervisor.py: restarts a daemon that dies
    vpns_up: list[str] = field(default_factory=list)
    vpns_skipped: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # The topology's ${VARIABLES} as the user's environment gave them when the lab came up: every
    # later reading of the topology (in whatever process, host or lab VM) uses these, never its own.
    env: dict[str, str] = field(default_factory=dict)

    def model(self):
        """The lab's model, read as it was brought up."""
        return load_lab(self.topology, name=self.name, env=self.env)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LabState":
        """From lab.json, or from `labs()`'s answer (which adds what it saw, e.g. charon_running)."""
        node_fields, lab_fields = _names(NodeState), _names(cls)
        nodes = {n: NodeState(**{k: v for k, v in info.items() if k in node_fields}) for n, info in d["nodes"].items()}
        return cls(**{k: v for k, v in d.items() if k in lab_fields} | {"nodes": nodes})


def _names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def path(lab_name: str):
    return paths.lab_dir(lab_name) / FILE


def read(lab_name: str) -> LabState | None:
    """The lab's state, or None when there is none (or only a half-written one from a crash)."""
    try:
        return LabState.from_dict(json.loads(path(lab_name).read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(state: LabState) -> None:
    write_file(path(state.name), json.dumps(state.as_dict(), indent=2))


def names() -> list[str]:
    """Every lab with a state directory here (a half-made one too: `down` clears it)."""
    return sorted(d.name for d in paths.labs_dir().iterdir()) if paths.labs_dir().exists() else []
