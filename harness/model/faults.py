"""Faults as data: a fault is a list of commands per node, applied to a copy of the lab's configs.

A fault is a Change (see change.py): Junos configs are re-emitted in `set` form with the fault's
`set`/`delete` commands after them, ScreenOS configs get its `set`/`unset` lines appended, and a
topology of its own points at the patched copies, ready for `up`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ConfigError, Source
from ..parse.clab import compose_yaml, plain
from ..parse.statements import read_config
from .change import Change, write_changed_lab


@dataclass(frozen=True)
class Fault:
    name: str
    layer: str
    note: str
    edits: dict[str, list[str]]
    kmd: str | None = None  # the line the failing node's kmd log shows, for phase 1 and 2 faults


def _mapping(node: yaml.Node, file: str, what: str) -> list[tuple[str, yaml.Node, Source]]:
    """(key, value node, key's file:line) of a YAML mapping; ConfigError at its line otherwise."""
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~"):
        return []
    if not isinstance(node, yaml.MappingNode) or not all(isinstance(k, yaml.ScalarNode) for k, _ in node.value):
        raise ConfigError(f"{what} must be a mapping of names", Source(file, node.start_mark.line + 1))
    return [(k.value, v, Source(file, k.start_mark.line + 1)) for k, v in node.value]


def _fault(name: str, node: yaml.Node, src: Source, file: str) -> Fault:
    fields = {k: (v, s) for k, v, s in _mapping(node, file, f"fault {name}")}
    if "edits" not in fields:
        raise ConfigError(f"fault {name}: needs `edits` (node: [commands])", src)
    edits = {}
    for node_name, cmds, where in _mapping(fields["edits"][0], file, f"fault {name}: edits"):
        value = plain(cmds, file)
        if not isinstance(value, list) or not all(isinstance(c, (str, int, float)) for c in value):
            raise ConfigError(f"fault {name}: edits for {node_name} must be a list of commands", where)
        edits[node_name] = [str(c) for c in value]
    text = {k: plain(v, file) for k, (v, _) in fields.items() if k in ("layer", "note", "kmd")}
    for key, value in text.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise ConfigError(f"fault {name}: {key} must be text", fields[key][1])
    return Fault(name, str(text.get("layer") or ""), str(text.get("note") or ""), edits,
                 str(text["kmd"]) if text.get("kmd") else None)


def load_faults(path: Path | str) -> dict[str, Fault]:
    file = str(path)
    root = compose_yaml(read_config(path), file)
    if root is None:
        return {}
    top = {k: (v, s) for k, v, s in _mapping(root, file, "the faults file")}
    if "faults" not in top:
        return {}
    return {name: _fault(name, node, src, file) for name, node, src in _mapping(top["faults"][0], file, "'faults'")}


def apply_fault(topology: Path | str, fault: Fault, out_dir: Path) -> Path:
    """Write the lab with `fault` applied under out_dir; returns the patched topology's path."""
    return write_changed_lab(topology, Change(f"fault {fault.name}", fault.edits), out_dir)
