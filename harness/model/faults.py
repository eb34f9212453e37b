"""Faults as data: a fault is a list of commands per node, applied to a copy of the lab's configs.

Junos configs are re-emitted in `set` form (the parser reads both forms alike) with the fault's
`set`/`delete` commands after them; ScreenOS configs get the fault's `set`/`unset` lines appended.
The result is a topology file of its own pointing at the patched copies, ready for `up`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ConfigError, Source
from ..files import write_file
from ..parse.clab import load_topology
from ..parse.junos import load_junos
from ..parse.statements import read_config
from .lab import node_os


@dataclass(frozen=True)
class Fault:
    name: str
    layer: str
    note: str
    edits: dict[str, list[str]]


def load_faults(path: Path | str) -> dict[str, Fault]:
    try:
        doc = yaml.safe_load(read_config(path)) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', e)}", Source(str(path), mark.line + 1 if mark else 0)) from None
    out = {}
    for name, f in (doc.get("faults") or {}).items():
        if not isinstance(f, dict) or not isinstance(f.get("edits"), dict):
            raise ConfigError(f"fault {name}: needs `edits` (node: [commands])", Source(str(path), 0))
        out[name] = Fault(name, str(f.get("layer", "")), str(f.get("note", "")),
                          {node: [str(c) for c in cmds] for node, cmds in f["edits"].items()})
    return out


def as_set_commands(path: Path) -> str:
    """A Junos config (either form) as the `set` commands it stands for, active ones only."""
    return "".join(f"set {st}\n" for st in load_junos(path).statements)


def apply_fault(topology: Path | str, fault: Fault, out_dir: Path) -> Path:
    """Write the lab with `fault` applied under out_dir; returns the patched topology's path."""
    topology = Path(topology)
    topo = load_topology(topology, env={})
    doc = yaml.safe_load(read_config(topology))
    for node, cmds in fault.edits.items():
        spec = topo.nodes.get(node)
        if spec is None or spec.startup_config is None:
            raise ConfigError(f"fault {fault.name}: no device node '{node}' in {topology}")
        if node_os(spec) == "junos":
            text = as_set_commands(spec.startup_config)
        else:
            text = read_config(spec.startup_config)
            text += "" if text.endswith("\n") else "\n"
        text += f"# fault {fault.name}\n" + "".join(c + "\n" for c in cmds)
        patched = write_file(out_dir / f"{node}{spec.startup_config.suffix}", text)
        doc["topology"]["nodes"][node]["startup-config"] = str(patched.resolve())
    for name, node in doc["topology"]["nodes"].items():  # the untouched configs, by absolute path
        if node and "startup-config" in node and name not in fault.edits:
            node["startup-config"] = str((topology.parent / node["startup-config"]).resolve())
    return write_file(out_dir / topology.name, yaml.safe_dump(doc, sort_keys=False))
