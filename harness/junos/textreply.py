"""What the text parsers and renderers of every command family share: a field or line a parser
does not know raises UnknownField with the line, never a guess; an answer's layout ("current":
what SRX/vSRX releases print today; "2009": the reference note's) is recognised from its header or
first lines; the chassis-cluster header and the CLI prompt are not the answer."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model.lab import OUTPUT_LAYOUTS as LAYOUTS  # the topology label's values: the one list

# `user@host> show ...`, `fw1b01> show ...`, `> show ...` (a prompt as sources print it)
_PROMPT = re.compile(r"^(\S+@\S+[>#]|\S*[>#]\s*(show|ping|clear|request|monitor)\b)")
# A chassis cluster prefixes each node's answer with `node0:` and a row of dashes; the CLI
# prints a `{primary:node0}` banner above the prompt.
_CLUSTER = re.compile(r"^\s*(node\d+:|-{10,}|\{(primary|secondary|hold|ineligible|disabled):node\d+\})\s*$")


class UnknownField(ValueError):
    def __init__(self, command: str, lineno: int, line: str, what: str = "field"):
        super().__init__(f"{command}: line {lineno}: unknown {what}: {line.strip()!r}")


def check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown Junos output layout {layout!r} (one of {', '.join(LAYOUTS)})")
    return layout


def lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines without the CLI prompt and the cluster header (line numbers as in the text)."""
    return [(n, ln.rstrip()) for n, ln in enumerate(text.splitlines(), 1)
            if not _PROMPT.match(ln) and not _CLUSTER.match(ln)]


def content(text: str) -> list[tuple[int, str]]:
    """The numbered lines that are not blank."""
    return [(n, ln) for n, ln in lines(text) if ln.strip()]


def collapse(line: str) -> str:
    """A line with runs of spaces as one (some sources collapse them: compare in this form)."""
    return re.sub(r"\s+", " ", line.strip())


def split_top(line: str) -> list[str]:
    """Split at ', ' outside parentheses/brackets (identities contain commas)."""
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(line):
        c = line[i]
        depth += c in "(["
        depth -= c in ")]"
        if depth == 0 and line.startswith(", ", i):
            parts.append(cur)
            cur, i = "", i + 2
            continue
        cur += c
        i += 1
    return parts + [cur]


def key_values(line: str) -> list[tuple[str, str]]:
    """`A: 1, B: x y, more` -> [(A, 1), (B, 'x y, more')]: a part without a colon continues the
    value. Keys are whitespace-collapsed (`Input  bytes :` and `Input bytes:` are one key)."""
    out: list[tuple[str, str]] = []
    for part in split_top(line.strip()):
        m = re.match(r"^([A-Za-z][A-Za-z0-9 #\-]*?)\s*:\s*(.*)$", part)
        if m and not re.match(r"^(ipv4|ipv6)", part):
            out.append((collapse(m.group(1)), m.group(2).strip()))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]}, {part.strip()}")
        else:
            out.append(("", part.strip()))
    return out


def seconds(value: str) -> int | None:
    """`Expires in 3571 seconds` (text) or `3571` (XML) -> 3571; `-` -> None."""
    m = re.match(r"^(?:Expires in )?(\d+)(?: seconds)?$", value.strip())
    return int(m.group(1)) if m else None


def expires(value: int | None) -> str:
    return f"Expires in {value} seconds" if value is not None else "-"


def table_rows(text: str, command: str, headers: dict[str, tuple[str, ...]]) -> tuple[str | None, list[tuple[int, list[str]]]]:
    """The rows under the table's header and the layout that header belongs to (None: no lines
    at all). The first line must be one of the headers: anything else is an unknown header."""
    layout, rows = None, []
    by_header = {" ".join(h): name for name, h in headers.items()}
    for n, ln in content(text):
        if collapse(ln) in by_header and layout is None:
            layout = by_header[collapse(ln)]
            continue
        if layout is None:
            raise UnknownField(command, n, ln, "header")
        rows.append((n, ln.split()))
    return layout, rows


def table(rows: list[tuple], header: tuple) -> str:
    """Columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]) + "\n"


def columns(rows: list[tuple], stops: tuple[int, ...], indent: str = "") -> str:
    """Cells at fixed column stops, as Junos prints its tables: a cell wider than its column pushes
    the next one right, one space after it (an 8-digit IKE index does this)."""
    out = []
    for row in rows:
        line = ""
        for cell, stop in zip(row, stops):
            line = line.ljust(stop) if len(line) < stop else line + " " if line else line
            line += str(cell)
        out.append(indent + line.rstrip())
    return "\n".join(out) + "\n"


def nonempty(text: str, parsed, command: str):
    """An answer with content that parses to nothing is an error, not an empty list."""
    if not parsed and content(text):
        raise UnknownField(command, content(text)[0][0], content(text)[0][1], "answer (nothing parsed)")
    return parsed


@dataclass(frozen=True)
class Words:
    """A value in the harness's words (the configuration's: `aes-128-cbc`, `group2`) and as a
    current release prints it (`aes-cbc (128 bits)`, `DH-group-2`), both ways. A word no rule
    knows passes through unchanged, so what a device prints is kept, never guessed at."""

    rules: tuple[tuple[str, str, str, str], ...]  # (harness regex, printed template, printed regex, harness template)

    def printed(self, word: str) -> str:
        for ours, theirs, _, _ in self.rules:
            if re.fullmatch(ours, word):
                return re.sub(ours, theirs, word)
        return word

    def read(self, printed: str) -> str:
        for _, _, theirs, ours in self.rules:
            if re.fullmatch(theirs, printed):
                return re.sub(theirs, ours, printed)
        return printed


DH_WORDS = Words(((r"group(\d+)", r"DH-group-\1", r"DH-group-(\d+)", r"group\1"),))
