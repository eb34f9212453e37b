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
from ..parse.statements import read_config
from .change import Change, write_changed_lab


@dataclass(frozen=True)
class Fault:
    name: str
    layer: str
    note: str
    edits: dict[str, list[str]]
    kmd: str | None = None  # the line the failing node's kmd log shows, for phase 1 and 2 faults


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
                          {node: [str(c) for c in cmds] for node, cmds in f["edits"].items()},
                          str(f["kmd"]) if f.get("kmd") else None)
    return out


def apply_fault(topology: Path | str, fault: Fault, out_dir: Path) -> Path:
    """Write the lab with `fault` applied under out_dir; returns the patched topology's path."""
    return write_changed_lab(topology, Change(f"fault {fault.name}", fault.edits), out_dir)
