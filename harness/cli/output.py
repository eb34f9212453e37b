"""How the commands print: the consoles, and a listing's facts in three forms. On a terminal a
listing is a rich table; in a log (stdout not a terminal, or --format plain) one line a row, with
the verdict first so `grep ^FAILED` finds what failed and no cell is wrapped across lines; with
--format json a document on stdout. Which facts a command lists is the command's business; how
they look is this module's."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Union

from rich.console import Console
from rich.table import Table
from rich.text import Text

# In a log a message stays on one line however long: a log is read with grep, not at a width.
# emoji=False: a file:line such as `corporate.junos:100:` must not print as an emoji (:100:).
out = Console(highlight=False, emoji=False, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, highlight=False, emoji=False, soft_wrap=not sys.stderr.isatty())

FORMATS = ("text", "plain", "json")  # text: a table on a terminal, plain lines anywhere else

# A cell: text as it is (never read as rich markup, so no escaping), a styled Text, or a bool: the
# verdict, shown as ok or FAILED.
Cell = Union[str, Text, bool]


@dataclass(frozen=True)
class Column:
    name: str
    labelled: bool = False  # free text: "name: value" in a plain line, where no column header says what it is


@dataclass
class Listing:
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    fold: bool = False  # long cells fold inside their column instead of being cut


def columns(*names: str, labelled: tuple[str, ...] = ()) -> tuple[Column, ...]:
    return tuple(Column(n, n in labelled) for n in names)


def verdict(ok: bool) -> Text:
    return Text("ok", style="green") if ok else Text("FAILED", style="red")


def table(listing: Listing) -> Table:
    t = Table(title=listing.title)
    for col in listing.columns:
        t.add_column(col.name, overflow="fold" if listing.fold else "ellipsis")
    for row in listing.rows:
        t.add_row(*(verdict(c) if isinstance(c, bool) else Text(c) if isinstance(c, str) else c for c in row))
    return t


def _plain(cell: Cell) -> str:
    text = ("ok" if cell else "FAILED") if isinstance(cell, bool) else str(cell)
    return text.replace("\n", "; ")  # a cell's extra lines stay on its row's line


def plain_lines(listing: Listing) -> list[str]:
    """The title, then one line a row: verdicts first, short cells padded into columns, labelled
    cells as `name: value`."""
    order = sorted(range(len(listing.columns)),  # stable: the verdict moves first, the rest keep their order
                   key=lambda i: not any(isinstance(row[i], bool) for row in listing.rows))
    cells = [[_plain(row[i]) for i in order] for row in listing.rows]
    widths = [max((len(c[k]) for c in cells), default=0) for k in range(len(order))]
    lines = [listing.title]
    for row in cells:
        parts = []
        for k, (i, text) in enumerate(zip(order, row)):
            col = listing.columns[i]
            parts.append(f"{col.name}: {text}" if col.labelled else text.ljust(widths[k]))
        lines.append("  ".join(parts).rstrip())
    return lines


def json_text(document) -> str:
    return json.dumps(document, indent=2, default=str)


def print_json(document) -> None:
    """A command's facts as one JSON document on stdout, nothing else there."""
    sys.stdout.write(json_text(document) + "\n")


def lines_wanted(fmt: str) -> bool:
    """Plain lines rather than a table: asked for, or stdout is a log or a pipe, not a terminal."""
    return fmt == "plain" or not sys.stdout.isatty()


def print_listing(listing: Listing, fmt: str = "text") -> None:
    if lines_wanted(fmt):
        for line in plain_lines(listing):
            out.print(line, markup=False, soft_wrap=True)
    else:
        out.print(table(listing))


def warn_preflight(findings) -> None:
    """Pre-flight findings where the command goes on regardless: predictions, on stderr."""
    for f in findings:
        err.print(f"[yellow]pre-flight[/]: {f}", soft_wrap=True)


def warn_lab(lab) -> None:
    for src, msg in lab.warnings:
        err.print(f"[yellow]warning[/]: {src}: {msg}")


class ProgressPrinter:
    """Prints each phase as it starts and ends, with the time since the command began."""

    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self, phase: str, message: str) -> None:
        if message:
            err.print(f"[dim]{time.monotonic() - self.t0:6.1f}s[/] [bold]{phase}[/]: {message}", soft_wrap=True)
