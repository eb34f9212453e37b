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
from .statements import read_config

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")

TOP_FIELDS = {"name", "prefix", "mgmt", "topology"}
TOPOLOGY_FIELDS = {"nodes", "links", "kinds", "defaults"}
NODE_FIELDS = {"kind", "image", "startup-config", "labels", "exec", "mgmt-ipv4", "env", "binds"}
LINK_FIELDS = {"endpoints", "mtu"}

# containerlab's own rule for node names (they become container and folder names): no `/`, no
# spaces, no `..`; Linux's for interface names (15 characters, no `/` or spaces).
NODE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
IFACE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
# YAML bounds: topologies use a few anchors at most; these refuse a billion laughs in microseconds.
MAX_ALIASES = 100
MAX_YAML_NODES = 100_000  # nodes the document stands for, aliases expanded
MAX_YAML_DEPTH = 64


def node_name_problem(name: str) -> str | None:
    """Why `name` cannot be a containerlab node name, or None."""
    if NODE_NAME.fullmatch(name) and ".." not in name:
        return None
    return f"node name '{name}' is not valid (letters, digits, _ - . and no '..')"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe composer with bounds (aliases, their expansion, depth) and duplicate keys
    refused: a topology where a key silently overrides another never half-works."""

    def __init__(self, text: str, file: str):
        super().__init__(text)
        self.file, self.aliases, self.depth = file, 0, 0
        self.sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, aliases expanded

    def _error(self, mark, message: str) -> ConfigError:
        return ConfigError(message, Source(self.file, mark.line + 1))

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._error(self.peek_event().start_mark, f"more than {MAX_ALIASES} YAML aliases (*name)")
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise self._error(self.peek_event().start_mark, f"YAML nested more than {MAX_YAML_DEPTH} deep")
        node = super().compose_node(parent, index)
        self.depth -= 1
        self._check(node)
        return node

    def _check(self, node: yaml.Node) -> None:
        if id(node) in self.sizes:  # an alias: counted again where it is used
            size = self.sizes[id(node)]
        elif isinstance(node, yaml.MappingNode):
            self._check_duplicates(node)
            size = 1 + sum(self.sizes.get(id(k), 1) + self.sizes.get(id(v), 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self.sizes.get(id(v), 1) for v in node.value)
        else:
            size = 1
        self.sizes[id(node)] = size
        if size > MAX_YAML_NODES:
            raise self._error(node.start_mark, f"the YAML stands for more than {MAX_YAML_NODES} values "
                              "(aliases expanded): not a topology")

    def _check_duplicates(self, node: yaml.MappingNode) -> None:
        seen: dict[object, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in seen:
                raise self._error(key.start_mark, f"duplicate key '{key.value}' (lines {seen[key.value]} and {line})")
            seen[key.value] = line


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """The YAML document's node tree (lines kept); ConfigError with file:line when it is not valid."""
    try:
        loader = _Loader(text, file)  # the reader checks the characters as it starts
    except yaml.reader.ReaderError as e:
        raise ConfigError(f"not valid YAML: {e.reason} (character #x{e.character:04x})",
                          Source(file, text.count("\n", 0, e.position) + 1)) from None
    try:
        return loader.get_single_node()
    except yaml.reader.ReaderError as e:
        raise ConfigError(f"not valid YAML: {e.reason}", Source(file, text.count("\n", 0, e.position) + 1)) from None
    except yaml.YAMLError as e:
        raise _yaml_error(e, file) from None
    finally:
        loader.dispose()


def _yaml_error(e: yaml.YAMLError, file: str, node: yaml.Node | None = None) -> ConfigError:
    mark = getattr(e, "problem_mark", None) or (node.start_mark if node is not None else None)
    line = mark.line + 1 if mark else 1
    return ConfigError(f"not valid YAML: {getattr(e, 'problem', None) or e}", Source(file, line))


def plain(node: yaml.Node, file: str):
    """A node as Python data; a tag safe YAML cannot build (`!tag`) is an error at its line."""
    try:  # built from the node itself: marks stay the file's, aliases stay shared (not copied)
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as e:
        raise _yaml_error(e, file, node) from None


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
    config_source: Source | None = None  # the `startup-config:` line (the node's, when inherited)


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
        for k, _ in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise ConfigError(f"{what}: keys must be plain names", self.src(k))
        return [(k.value, v, self.src(k)) for k, v in node.value]


def _check_fields(entries, allowed: set[str], what: str, problems: list) -> None:
    for key, _, src in entries:
        if key not in allowed:
            problems.append((src, f"{what}: field '{key}' is not supported by nhtb-lab (supported: {', '.join(sorted(allowed))})"))


def _node(doc: _Doc, nname: str, nval: yaml.Node, nsrc: Source, defaults: dict, kind_defaults: dict,
          base: Path, problems: list) -> NodeSpec | None:
    """One node, its settings merged over its kind's and the defaults; None when unusable."""
    entries = doc.mapping(nval, f"node {nname}")
    _check_fields(entries, NODE_FIELDS, f"node {nname}", problems)
    raw = {k: (v, s) for k, v, s in entries}
    kind = plain(raw["kind"][0], doc.file) if "kind" in raw else defaults.get("kind")
    if not kind or not isinstance(kind, str):
        problems.append((raw.get("kind", (None, nsrc))[1], f"node {nname} has no kind (a string)"))
        return None
    merged = {**defaults, **kind_defaults.get(kind, {}), **{k: plain(v, doc.file) for k, (v, _) in raw.items()}}
    node = NodeSpec(nname, kind, nsrc, image=merged.get("image"), mgmt_ipv4=merged.get("mgmt-ipv4"))
    if "startup-config" in merged:
        # Messages about the file name this line: the node's own key, or the node when inherited.
        node.config_source = raw.get("startup-config", (None, nsrc))[1]
        value = merged["startup-config"]
        if not isinstance(value, str) or not value.strip():
            problems.append((node.config_source, f"node {nname}: startup-config must name a file"))
        else:
            node.startup_config = (base / value).resolve()
    labels = merged.get("labels") or {}
    if not isinstance(labels, dict):
        problems.append((raw.get("labels", (None, nsrc))[1], f"node {nname}: labels must be a mapping"))
        labels = {}
    node.labels = {str(k): str(v) for k, v in labels.items()}
    if "exec" in raw:
        seq = raw["exec"][0]
        if not isinstance(seq, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) for i in seq.value):
            problems.append((raw["exec"][1], f"node {nname}: exec must be a list of commands"))
        else:
            node.exec = [(str(item.value), doc.src(item)) for item in seq.value]
    elif merged.get("exec"):
        if not isinstance(merged["exec"], list):
            problems.append((nsrc, f"node {nname}: exec (inherited) must be a list of commands"))
        else:
            node.exec = [(str(c), nsrc) for c in merged["exec"]]
    return node


def _endpoints(doc: _Doc, raw: dict, src: Source, nodes: dict, problems: list) -> tuple[Endpoint, Endpoint] | None:
    eps = plain(raw["endpoints"][0], doc.file) if "endpoints" in raw else None
    if not (isinstance(eps, list) and len(eps) == 2 and all(isinstance(e, str) and e.count(":") == 1 for e in eps)):
        problems.append((src, "link endpoints must be two 'node:interface' strings"))
        return None
    a, b = (Endpoint(*e.split(":")) for e in eps)
    for ep in (a, b):
        if ep.node not in nodes:
            problems.append((src, f"link endpoint {ep}: no node '{ep.node}' in this topology"))
        if not IFACE_NAME.fullmatch(ep.iface):
            problems.append((src, f"link endpoint {ep}: '{ep.iface}' is not a Linux interface name "
                             "(at most 15 letters, digits, _ - .)"))
    return a, b


def _links(doc: _Doc, tsecd: dict, nodes: dict, problems: list) -> list[LinkSpec]:
    links: list[LinkSpec] = []
    linknode = tsecd.get("links", (None,))[0]
    if linknode is None or (isinstance(linknode, yaml.ScalarNode) and linknode.value in ("", "null", "~")):
        return links
    if not isinstance(linknode, yaml.SequenceNode):
        problems.append((tsecd["links"][1], "'links' must be a list"))
        return links
    for item in linknode.value:
        entries = doc.mapping(item, "a link")
        _check_fields(entries, LINK_FIELDS, "link", problems)
        raw = {k: (v, s) for k, v, s in entries}
        src = doc.src(item)
        ends = _endpoints(doc, raw, src, nodes, problems)
        if ends is None:
            continue
        mtu = plain(raw["mtu"][0], doc.file) if "mtu" in raw else None
        if mtu is not None and (not isinstance(mtu, int) or isinstance(mtu, bool) or not 68 <= mtu <= 65535):
            problems.append((raw["mtu"][1], f"link mtu '{mtu}' is not a number from 68 to 65535"))
            mtu = None
        links.append(LinkSpec(*ends, src, mtu))
    seen: dict[Endpoint, Source] = {}
    for ln in links:
        for ep in (ln.a, ln.b):
            if ep in seen:
                problems.append((ln.source, f"interface {ep} is already used by the link at {seen[ep]}"))
            seen.setdefault(ep, ln.source)
    return links


def _settings(doc: _Doc, tsecd: dict, problems: list) -> tuple[dict, dict]:
    """`kinds` and `defaults`: per-kind settings (image) and settings every node inherits."""
    kind_defaults: dict[str, dict] = {}
    if "kinds" in tsecd:
        for kname, kval, _ in doc.mapping(tsecd["kinds"][0], "'kinds'"):
            entries = doc.mapping(kval, f"kind {kname}")
            _check_fields(entries, NODE_FIELDS - {"kind"}, f"kind {kname}", problems)
            kind_defaults[kname] = {k: plain(v, doc.file) for k, v, _ in entries}
    defaults: dict = {}
    if "defaults" in tsecd:
        entries = doc.mapping(tsecd["defaults"][0], "'defaults'")
        _check_fields(entries, NODE_FIELDS, "defaults", problems)
        defaults = {k: plain(v, doc.file) for k, v, _ in entries}
    return kind_defaults, defaults


def parse_topology(text: str, file: Path | str, env: dict[str, str] | None = None) -> TopologySpec:
    file = Path(file)
    shown = str(file)
    root = compose_yaml(expand_vars(text, env), shown)
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
    name = plain(topd["name"][0], shown) if "name" in topd else ""
    if "name" in topd and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-._]*", str(name)):
        problems.append((topd["name"][1], f"lab name '{name}' is not valid (letters, digits, - . _)"))
    tsec = doc.mapping(topd["topology"][0], "'topology'")
    _check_fields(tsec, TOPOLOGY_FIELDS, "'topology'", problems)
    tsecd = {k: (v, s) for k, v, s in tsec}
    kind_defaults, defaults = _settings(doc, tsecd, problems)

    nodes: dict[str, NodeSpec] = {}
    node_entries = doc.mapping(tsecd["nodes"][0], "'nodes'") if "nodes" in tsecd else []
    if not node_entries:
        problems.append((tsecd.get("nodes", topd["topology"])[1], "the topology has no nodes"))
    for nname, nval, nsrc in node_entries:
        if (bad := node_name_problem(nname)) is not None:
            problems.append((nsrc, bad))
            continue
        node = _node(doc, nname, nval, nsrc, defaults, kind_defaults, file.parent, problems)
        if node is not None:
            nodes[nname] = node
    links = _links(doc, tsecd, nodes, problems)
    mgmt = plain(topd["mgmt"][0], shown) if "mgmt" in topd else {}
    if not isinstance(mgmt or {}, dict):
        problems.append((topd["mgmt"][1], "'mgmt' must be a mapping"))
    prefix = plain(topd["prefix"][0], shown) if "prefix" in topd else None
    if problems:
        raise ConfigError(problems)
    return TopologySpec(str(name), file, nodes, links, mgmt or {}, None if prefix is None else str(prefix))


def load_topology(path: Path | str, env: dict[str, str] | None = None) -> TopologySpec:
    return parse_topology(read_config(path), Path(path), env)
