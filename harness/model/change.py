"""A change to a lab as the commands an engineer would type, written out as a lab of its own.

A change is, per existing device, the commands to paste on it (Junos `set`/`delete`, ScreenOS
`set`/`unset`), plus any new device configs and topology nodes and links. `write_changed_lab`
puts the changed configs and a topology pointing at them in a folder, ready for `up` or
`rehearse`; untouched configs stay where they are (absolute paths). Configs hold pre-shared
keys, so they are written 0600.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from ..errors import ConfigError, Source
from ..files import write_file
from ..parse.clab import load_topology
from ..parse.junos import load_junos, parse_junos
from ..parse.screenos import parse_screenos
from ..parse.statements import read_config
from .lab import node_os
from .ledger import classify

CHANGE_FILE = "change.json"  # what the folder is a change of: the base topology, and the commands


def as_set_commands(path: Path) -> str:
    """A Junos config (either form) as the `set` commands it stands for, active ones only."""
    return "".join(f"set {st}\n" for st in load_junos(path).statements)


@dataclass
class Change:
    title: str
    commands: dict[str, list[str]]  # existing node -> commands, in order
    new_configs: dict[str, tuple[str, str]] = field(default_factory=dict)  # new node -> (file name, text)
    edit_topology: Callable[[dict], None] | None = None  # adds nodes and links to the topology document


def edited_config(path: Path, os: str, title: str, commands: list[str]) -> str:
    """The config at `path` with `commands` applied after it (Junos re-emitted as `set` commands;
    the parser reads both forms alike)."""
    text = as_set_commands(path) if os == "junos" else read_config(path)
    text += "" if text.endswith("\n") else "\n"
    return text + f"# {title}\n" + "".join(c + "\n" for c in commands)


def write_changed_lab(topology: Path | str, change: Change, out_dir: Path) -> Path:
    """Write the lab with `change` applied under out_dir; returns the changed topology's path."""
    topology = Path(topology)
    topo = load_topology(topology, env={})
    doc = yaml.safe_load(read_config(topology))
    lab_dir = out_dir / "lab"
    for node, cmds in change.commands.items():
        spec = topo.nodes.get(node)
        if spec is None or spec.startup_config is None:
            raise ConfigError(f"{change.title}: no device node '{node}' in {topology}")
        text = edited_config(spec.startup_config, node_os(spec), change.title, cmds)
        patched = write_file(lab_dir / f"{node}{spec.startup_config.suffix}", text, secret=True)
        doc["topology"]["nodes"][node]["startup-config"] = str(patched.relative_to(out_dir))  # the folder can move
    for name, node in doc["topology"]["nodes"].items():  # the untouched configs, by absolute path
        if node and "startup-config" in node and name not in change.commands:
            node["startup-config"] = str((topology.parent / node["startup-config"]).resolve())
    for node, (fname, text) in change.new_configs.items():
        write_file(lab_dir / fname, text, secret=True)
    if change.edit_topology:
        change.edit_topology(doc)
        for node, (fname, _) in change.new_configs.items():
            doc["topology"]["nodes"][node]["startup-config"] = f"lab/{fname}"
    path = write_file(out_dir / topology.name, yaml.safe_dump(doc, sort_keys=False))
    # 0600: the commands may set a pre-shared key (`pre-shared-key ascii-text ...`).
    write_file(out_dir / CHANGE_FILE, json.dumps({"title": change.title, "base": str(topology.resolve()),
                                                  "commands": change.commands,
                                                  "new_nodes": sorted(change.new_configs)}, indent=2), secret=True)
    return path


def read_change_script(path: Path, sites: dict[str, str]) -> tuple[str, dict[str, list[str]], dict[str, list[int]]]:
    """A change as `change_script` writes it (and an engineer keeps it): `# on NODE:` starts the
    commands for NODE (a device: `sites` maps each to its OS); other `#` lines are comments, the
    first one the title. Returns (title, node -> commands, node -> their lines in the script). A
    command outside a section, an
    unknown node, or a statement that is not Junos (ScreenOS) is refused by its line here."""
    text = read_config(path)
    title, node, out, at = "", None, {}, {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            head = line.lstrip("#").strip()
            if head.startswith("on ") and head.endswith(":"):
                node = head[3:-1].strip()
                if node not in sites:
                    raise ConfigError(f"no device '{node}' in the lab (devices: {', '.join(sites)})",
                                      Source(str(path), lineno))
                out.setdefault(node, [])
            elif not title and head:
                title = head
            continue
        if not line:
            continue
        if node is None:
            raise ConfigError("a command before any `# on NODE:` line: which device is it for?", Source(str(path), lineno))
        out[node].append(line)
        at.setdefault(node, {})[lineno] = line
    if not any(out.values()):
        raise ConfigError("no commands (a section starts with `# on NODE:`)", Source(str(path), 1))
    bad = [f"{e.file}:{e.line}: {e.statement}: {e.reason}" for n, lines in at.items()
           for e in _invalid(lines, sites[n], str(path), text.count("\n") + 1)]
    if bad:
        raise ConfigError("commands no device would take:\n" + "\n".join(bad))
    return title or path.stem, {n: c for n, c in out.items() if c}, {n: list(lines) for n, lines in at.items()}


def _invalid(lines: dict[int, str], os: str, file: str, total: int):
    """The statements of one device's commands that its OS does not have, at the script's lines
    (the other lines blanked, so the parser's line numbers are the script's)."""
    masked = "\n".join(lines.get(i, "") for i in range(1, total + 1))
    parsed = (parse_junos if os == "junos" else parse_screenos)(masked, file)
    return [e for e in classify(parsed, os) if e.class_ == "invalid"]


def first_command_line(path: Path, os: str, title: str) -> int:
    """The line the first appended command has in `edited_config(path, os, title, ...)`."""
    return len(edited_config(path, os, title, []).splitlines()) + 1


def change_script(change: Change) -> str:
    """The change as an engineer pastes it: per device, the commands in configuration mode."""
    out = [f"# {change.title}"]
    for node, cmds in change.commands.items():
        out += ["", f"# on {node}:", *cmds]
    for node, (fname, _) in change.new_configs.items():
        out += ["", f"# {node} is new: its whole config is lab/{fname}"]
    return "\n".join(out) + "\n"


def write_grown_lab(topology: Path | str, changes: Callable[[Path], Change | None], out_dir: Path) -> Path:
    """Apply changes one after the other (each computed on the lab the previous one wrote), in
    out_dir/step-N; returns the last topology. `changes(topology)` returns None when done."""
    topology = Path(topology)
    step = 0
    while (change := changes(topology)) is not None:
        step += 1
        topology = write_changed_lab(topology, change, out_dir / f"step-{step:03d}")
    return topology
