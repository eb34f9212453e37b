"""What the `| display xml` renderers and parsers of every command family share: records as
elements, the reply's root (an `rpc-reply` wrapper accepted), values converted by the record's
types, and `| display json` (Junos's JSON rendering of the same reply)."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from typing import get_type_hints

from .textreply import UnknownField


def _text(value) -> str:
    return "" if value is None else str(value)


def record(parent: ET.Element, tag: str, obj, fields: dict[str, str]) -> ET.Element:
    el = ET.SubElement(parent, tag)
    for attr, name in fields.items():
        ET.SubElement(el, name).text = _text(getattr(obj, attr))
    return el


def to_string(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def root(text: str, want: str, command: str) -> ET.Element:
    try:
        el = ET.fromstring(text.strip())
    except ET.ParseError as e:
        raise UnknownField(command, 0, text[:80], f"XML ({e})") from None
    if el.tag == "rpc-reply" and len(el):
        el = el[0]
    if el.tag != want:
        raise UnknownField(command, 0, el.tag, "reply element")
    return el


def _convert(cls, attr: str, text: str | None):
    kind = get_type_hints(cls)[attr]
    if text is None or text == "":
        return None if "None" in str(kind) else ("" if kind is str else 0)
    return int(text) if kind in (int, int | None) else text


def fields_of(el: ET.Element, cls, fields: dict[str, str], command: str, extra: tuple[str, ...] = ()) -> dict:
    """The record's fields from an element's children; an unknown child or a missing required
    one is an UnknownField naming it."""
    by_name = {v: k for k, v in fields.items()}
    values = {}
    for child in el:
        if child.tag in extra:
            continue
        attr = by_name.get(child.tag)
        if attr is None:
            raise UnknownField(command, 0, child.tag, "element")
        try:
            values[attr] = _convert(cls, attr, child.text)
        except ValueError:
            raise UnknownField(command, 0, f"{child.tag}={child.text}", "value") from None
    missing = [f.name for f in dataclasses.fields(cls) if f.name in fields and f.name not in values
               and f.default is dataclasses.MISSING]
    if missing:
        raise UnknownField(command, 0, ", ".join(fields[m] for m in missing), "missing element")
    return values


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
