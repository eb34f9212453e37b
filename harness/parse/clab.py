"""containerlab topology files: YAML with `${VAR:=default}` expansion, line numbers kept.

Only what the lab uses is accepted; any other field is an error naming file:line, so a
topology never half-works because a setting was silently dropped.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ConfigError, Source

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")

TOP_FIELDS = {"name", "prefix", "mgmt", "topology"}
TOPOLOGY_FIELDS = {"nodes", "links", "kinds", "defaults"}
NODE_FIELDS = {"kind", "image", "startup-config", "labels", "exec", "mgmt-ipv4", "env", "binds"}
LINK_FIELDS = {"endpoints", "mtu"}


def expand_vars(text: str, env: dict[str, str] | None = None) -> str:
    """containerlab's envsubst: ${VAR}, ${VAR:=default} / ${VAR:-default} (default when unset or empty)."""
    env = os.environ if env is None else env

    def sub(m: re.Match) -> str:
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        value = env.get(name)
        if op and op.startswith(":"):
            return value if value else default
        if op:
            return value if value is not None else default
        return value or ""

    return _VAR.sub(sub, text)


@dataclass(frozen=True)
class Endpoint:
    node: str
    iface: str

    def __str__(self) -> str:
        return f"{self.node}:{self.iface}"


@dataclass
class LinkSpec:
    a: Endpoint
    b: Endpoint
    source: Source
    mtu: int | None = None


@dataclass
class NodeSpec:
    name: str
    kind: str
    source: Source
    image: str | None = None
    startup_config: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)
    exec: list[tuple[str, Source]] = field(default_factory=list)
    mgmt_ipv4: str | None = None


@dataclass
class TopologySpec:
    name: str
    file: Path
    nodes: dict[str, NodeSpec]
    links: list[LinkSpec]
    mgmt: dict = field(default_factory=dict)
    prefix: str | None = None

    def links_of(self, node: str) -> list[tuple[Endpoint, Endpoint]]:
        """(this end, far end) for every link of `node`."""
        out = []
        for ln in self.links:
            if ln.a.node == node:
                out.append((ln.a, ln.b))
            if ln.b.node == node:
                out.append((ln.b, ln.a))
        return out


class _Doc:
    """A YAML mapping node with line lookups."""

    def __init__(self, node: yaml.Node, file: str):
        self.node, self.file = node, file

    def src(self, node: yaml.Node) -> Source:
        return Source(self.file, node.start_mark.line + 1)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, Source]]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~"):
            return []
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{what} must be a mapping", self.src(node))
        return [(k.value, v, self.src(k)) for k, v in node.value]


def _plain(node: yaml.Node):
    return yaml.safe_load(yaml.serialize(node))


def _check_fields(entries, allowed: set[str], what: str, problems: list) -> None:
    for key, _, src in entries:
        if key not in allowed:
            problems.append((src, f"{what}: field '{key}' is not supported by nhtb-lab (supported: {', '.join(sorted(allowed))})"))


def parse_topology(text: str, file: Path | str, env: dict[str, str] | None = None) -> TopologySpec:
    file = Path(file)
    shown = str(file)
    try:
        root = yaml.compose(expand_vars(text, env))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', None) or e}", Source(shown, line)) from None
    if root is None:
        raise ConfigError("empty topology file", Source(shown, 1))
    doc = _Doc(root, shown)
    problems: list[tuple[Source | None, str]] = []
    top = doc.mapping(root, "the topology file")
    _check_fields(top, TOP_FIELDS, "topology file", problems)
    topd = {k: (v, s) for k, v, s in top}
    if "name" not in topd:
        problems.append((Source(shown, 1), "topology file has no 'name'"))
    if "topology" not in topd:
        raise ConfigError(problems + [(Source(shown, 1), "topology file has no 'topology' section")])
    name = _plain(topd["name"][0]) if "name" in topd else ""
    if "name" in topd and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-._]*", str(name)):
        problems.append((topd["name"][1], f"lab name '{name}' is not valid (letters, digits, - . _)"))
    tsec = doc.mapping(topd["topology"][0], "'topology'")
    _check_fields(tsec, TOPOLOGY_FIELDS, "'topology'", problems)
    tsecd = {k: (v, s) for k, v, s in tsec}

    # kinds/defaults give per-kind settings (image) that nodes inherit.
    kind_defaults: dict[str, dict] = {}
    if "kinds" in tsecd:
        for kname, kval, ksrc in doc.mapping(tsecd["kinds"][0], "'kinds'"):
            entries = doc.mapping(kval, f"kind {kname}")
            _check_fields(entries, NODE_FIELDS - {"kind"}, f"kind {kname}", problems)
            kind_defaults[kname] = {k: _plain(v) for k, v, _ in entries}
    defaults: dict = {}
    if "defaults" in tsecd:
        entries = doc.mapping(tsecd["defaults"][0], "'defaults'")
        _check_fields(entries, NODE_FIELDS, "defaults", problems)
        defaults = {k: _plain(v) for k, v, _ in entries}

    nodes: dict[str, NodeSpec] = {}
    base = file.parent
    for nname, nval, nsrc in doc.mapping(tsecd.get("nodes", (None,))[0] or yaml.ScalarNode("tag:yaml.org,2002:null", ""), "'nodes'"):
        entries = doc.mapping(nval, f"node {nname}")
        _check_fields(entries, NODE_FIELDS, f"node {nname}", problems)
        raw = {k: (v, s) for k, v, s in entries}
        kind = _plain(raw["kind"][0]) if "kind" in raw else defaults.get("kind")
        if not kind:
            problems.append((nsrc, f"node {nname} has no kind"))
            continue
        merged = {**defaults, **kind_defaults.get(kind, {}), **{k: _plain(v) for k, (v, _) in raw.items()}}
        node = NodeSpec(nname, str(kind), nsrc, image=merged.get("image"), mgmt_ipv4=merged.get("mgmt-ipv4"))
        if "startup-config" in merged:
            node.startup_config = (base / str(merged["startup-config"])).resolve()
        labels = merged.get("labels") or {}
        if not isinstance(labels, dict):
            problems.append((raw.get("labels", (None, nsrc))[1], f"node {nname}: labels must be a mapping"))
            labels = {}
        node.labels = {str(k): str(v) for k, v in labels.items()}
        if "exec" in raw:
            seq = raw["exec"][0]
            if not isinstance(seq, yaml.SequenceNode):
                problems.append((raw["exec"][1], f"node {nname}: exec must be a list of commands"))
            else:
                node.exec = [(str(item.value), doc.src(item)) for item in seq.value]
        elif merged.get("exec"):
            node.exec = [(str(c), nsrc) for c in merged["exec"]]
        nodes[nname] = node

    links: list[LinkSpec] = []
    linknode = tsecd.get("links", (None,))[0]
    if linknode is not None:
        if not isinstance(linknode, yaml.SequenceNode):
            problems.append((tsecd["links"][1], "'links' must be a list"))
        else:
            for item in linknode.value:
                entries = doc.mapping(item, "a link")
                _check_fields(entries, LINK_FIELDS, "link", problems)
                raw = {k: (v, s) for k, v, s in entries}
                src = doc.src(item)
                eps = _plain(raw["endpoints"][0]) if "endpoints" in raw else None
                if not (isinstance(eps, list) and len(eps) == 2 and all(isinstance(e, str) and e.count(":") == 1 for e in eps)):
                    problems.append((src, "link endpoints must be two 'node:interface' strings"))
                    continue
                a, b = (Endpoint(*e.split(":")) for e in eps)
                for ep in (a, b):
                    if ep.node not in nodes:
                        problems.append((src, f"link endpoint {ep}: no node '{ep.node}' in this topology"))
                mtu = _plain(raw["mtu"][0]) if "mtu" in raw else None
                links.append(LinkSpec(a, b, src, mtu))
    seen: dict[Endpoint, Source] = {}
    for ln in links:
        for ep in (ln.a, ln.b):
            if ep in seen:
                problems.append((ln.source, f"interface {ep} is already used by the link at {seen[ep]}"))
            seen.setdefault(ep, ln.source)
    if problems:
        raise ConfigError(problems)
    mgmt = _plain(topd["mgmt"][0]) if "mgmt" in topd else {}
    prefix = _plain(topd["prefix"][0]) if "prefix" in topd else None
    return TopologySpec(str(name), file, nodes, links, mgmt or {}, prefix)


def load_topology(path: Path | str, env: dict[str, str] | None = None) -> TopologySpec:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read topology {path}: {e.strerror}") from None
    return parse_topology(text, path, env)
