"""What the `| display xml` renderers and parsers of every command family share: the reply's roots
(namespaces stripped; the `rpc-reply` wrapper, its `cli` banner and a chassis cluster's
multi-routing-engine-results/-item wrappers accepted), an element's children checked against the
names the parser knows, and `| display json` (Junos's JSON rendering of the same reply)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .textreply import UnknownField

# A cluster's reply: rpc-reply/multi-routing-engine-results/multi-routing-engine-item/{re-name, <answer>}
_CLUSTER, _ITEM, _RE_NAME = "multi-routing-engine-results", "multi-routing-engine-item", "re-name"


def sub(parent: ET.Element, tag: str, value=None) -> ET.Element:
    """A child element; `value` (None: no text) as its text."""
    el = ET.SubElement(parent, tag)
    if value is not None:
        el.text = str(value)
    return el


def leaves(parent: ET.Element, values: dict[str, object]) -> ET.Element:
    """Leaf children in order, those whose value is None left out."""
    for tag, value in values.items():
        if value is not None:
            sub(parent, tag, value)
    return parent


def to_string(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _local(el: ET.Element) -> ET.Element:
    """Every tag without its `{namespace}` (Junos qualifies replies with junos-ike, junos-routing...)."""
    for e in el.iter():
        if isinstance(e.tag, str) and e.tag.startswith("{"):
            e.tag = e.tag.split("}", 1)[1]
    return el


def roots(text: str, want: str, command: str) -> list[ET.Element]:
    """The reply's `want` elements: one, or one per cluster node (every item's answer is read)."""
    try:
        el = _local(ET.fromstring(text.strip()))
    except ET.ParseError as e:
        raise UnknownField(command, 0, text[:80], f"XML ({e})") from None
    if el.tag == "rpc-reply":
        body = [c for c in el if c.tag != "cli"]  # <cli><banner>{primary:node0}</banner></cli>
        if len(body) != 1:
            raise UnknownField(command, 0, ", ".join(c.tag for c in body) or "rpc-reply", "reply element")
        el = body[0]
    found = [el]
    if el.tag == _CLUSTER:
        found = []
        for item in el:
            if item.tag != _ITEM:
                raise UnknownField(command, 0, item.tag, "element")
            found += [c for c in item if c.tag != _RE_NAME]
    for f in found:
        if f.tag != want:
            raise UnknownField(command, 0, f.tag, "reply element")
    return found


def children(el: ET.Element, known: set[str] | dict, command: str) -> dict[str, ET.Element]:
    """An element's children by tag (the first of each); a tag the parser does not know is an
    UnknownField naming it and where it was."""
    out: dict[str, ET.Element] = {}
    for child in el:
        if child.tag not in known:
            raise UnknownField(command, 0, f"{el.tag}/{child.tag}", "element")
        out.setdefault(child.tag, child)
    return out


def text_of(found: dict[str, ET.Element], tag: str, default: str | None = None) -> str | None:
    el = found.get(tag)
    return default if el is None else (el.text or "").strip()


def number(found: dict[str, ET.Element], tag: str, command: str, default: int | None = 0) -> int | None:
    value = text_of(found, tag)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise UnknownField(command, 0, f"{tag}={value}", "value") from None


def _json_of(el: ET.Element):
    if len(el) == 0:
        return [{"data": el.text or ""}]
    out: dict = {}
    for child in el:
        out.setdefault(child.tag, []).extend(_json_of(child) if len(child) == 0 else [_json_of(child)])
    return out


def to_json(xml_text: str) -> str:
    el = ET.fromstring(xml_text)
    return json.dumps({el.tag: [_json_of(el)]}, indent=4) + "\n"
