"""What the text parsers and renderers of every command family share: a field or line a parser
does not know raises UnknownField with the line, never a guess."""
from __future__ import annotations

import re


class UnknownField(ValueError):
    def __init__(self, command: str, lineno: int, line: str, what: str = "field"):
        super().__init__(f"{command}: line {lineno}: unknown {what}: {line.strip()!r}")


def lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines without the CLI prompt (`user@host> command`)."""
    return [(n, ln.rstrip()) for n, ln in enumerate(text.splitlines(), 1) if not re.match(r"^\S+@\S+[>#]", ln)]


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
    """`A: 1, B: x y, more` -> [(A, 1), (B, 'x y, more')]: a part without a colon continues the value."""
    out: list[tuple[str, str]] = []
    for part in split_top(line.strip()):
        m = re.match(r"^([A-Za-z][A-Za-z0-9 \-]*?)\s*:\s*(.*)$", part)
        if m and not re.match(r"^(ipv4|ipv6)", part):
            out.append((m.group(1).strip(), m.group(2).strip()))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]}, {part.strip()}")
        else:
            out.append(("", part.strip()))
    return out


def seconds(value: str) -> int | None:
    m = re.match(r"Expires in (\d+) seconds", value)
    return int(m.group(1)) if m else None


def expires(value: int | None) -> str:
    return f"Expires in {value} seconds" if value is not None else "-"


def table_rows(text: str, command: str, header: list[str]) -> list[tuple[int, list[str]]]:
    rows, seen_header = [], False
    for n, ln in lines(text):
        if not ln.strip():
            continue
        if re.sub(r"\s+", " ", ln.strip()) == " ".join(header):
            seen_header = True
            continue
        if not seen_header:
            raise UnknownField(command, n, ln, "header")
        rows.append((n, ln.split()))
    return rows


def table(rows: list[tuple], header: tuple) -> str:
    """Columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]) + "\n"


def nonempty(text: str, parsed, command: str):
    """An answer with content that parses to nothing is an error, not an empty list."""
    if not parsed and any(ln.strip() for _, ln in lines(text)):
        raise UnknownField(command, 1, next(ln for _, ln in lines(text) if ln.strip()), "answer (nothing parsed)")
    return parsed
