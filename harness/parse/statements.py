"""A parsed configuration as flat statements (word paths with their file:line), and a matcher."""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Iterator

from pathlib import Path

from ..errors import ConfigError, Source

# Bounds on input, so that a wrong file (a disk image, /dev/zero) fails fast instead of eating the
# machine: the largest real configs and topologies are well under a megabyte.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_STATEMENTS = 250_000


@dataclass(frozen=True)
class Statement:
    words: tuple[str, ...]
    source: Source

    def __str__(self) -> str:
        return " ".join(_quote(w) for w in self.words)


class StatementList:
    """Statements in file order with `delete`/`unset` of a prefix, in linear time: a delete only
    records where it happened; `live()` drops, in one pass, what a later delete covered."""

    def __init__(self, file: str, presence: tuple[tuple[str, ...], ...] = ()):
        self.file = file
        self.added: list[Statement] = []
        self._deleted: dict[tuple[str, ...], int] = {}  # prefix -> statements added before its last delete
        # Containers whose mere presence means something (Junos `then permit`): deleting what is
        # under one leaves it, as the device does (`delete ... then permit source-nat` still permits).
        self.presence = presence

    def __len__(self) -> int:
        return len(self.added)

    def add(self, st: Statement) -> None:
        if len(self.added) >= MAX_STATEMENTS:
            raise ConfigError(f"more than {MAX_STATEMENTS} statements: not a device configuration", st.source)
        self.added.append(st)

    def delete(self, prefix: tuple[str, ...]) -> None:
        self._deleted[prefix] = len(self.added)

    def live(self) -> list[Statement]:
        if not self._deleted:
            return list(self.added)
        out = [(i, st) for i, st in enumerate(self.added) if not self._covered(st, i)]
        kept = {st.words for _, st in out}
        for prefix, at in self._deleted.items():
            for k in range(len(prefix) - 1, 0, -1):  # every container above what was deleted
                parent = prefix[:k]
                if not any(len(parent) >= len(p) and parent[-len(p):] == p for p in self.presence):
                    continue
                if any(self._deleted.get(parent[:j], -1) >= at for j in range(len(parent) + 1)):
                    continue  # deleted itself, then or later
                under = [(i, st) for i, st in enumerate(self.added) if st.words[:len(parent)] == parent]
                if under and not any(w[:len(parent)] == parent for w in kept):
                    out.append((under[0][0], Statement(parent, under[0][1].source)))  # what the delete left
                    kept.add(parent)
        return [st for _, st in sorted(out, key=lambda x: x[0])]

    def _covered(self, st: Statement, index: int) -> bool:
        return any(self._deleted.get(st.words[:k], -1) > index for k in range(len(st.words) + 1))


@dataclass
class ParsedConfig:
    """A configuration as the flat list of statements it stands for."""

    file: str
    statements: list[Statement]
    inactive: list[Statement] = field(default_factory=list)
    # prefix -> {next word: statements under prefix + (word,)}; built level by level on demand.
    _index: dict[tuple[str, ...], dict[str, list[Statement]]] = field(default_factory=dict, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(0, -1), repr=False, compare=False)

    def _under(self, prefix: tuple[str, ...]) -> list[Statement]:
        """Statements starting with `prefix`, in order. Each level is grouped in one pass over its
        parent, so matching N names (`... policy NAME mode *`) costs O(N), not O(N x statements)."""
        if self._indexed != (id(self.statements), len(self.statements)):  # the list was replaced or grown
            self._index.clear()
            self._indexed = (id(self.statements), len(self.statements))
        if not prefix:
            return self.statements
        depth = len(prefix) - 1
        groups = self._index.get(prefix[:-1])
        if groups is None:
            groups = {}
            for st in self._under(prefix[:-1]):
                if len(st.words) > depth:
                    groups.setdefault(st.words[depth], []).append(st)
            self._index[prefix[:-1]] = groups
        return groups.get(prefix[-1], [])

    def match(self, pattern: str) -> Iterator[tuple[list[str], Statement]]:
        """Statements matching `pattern`: literal words, `*` captures one word, a final `**`
        captures the rest (as one space-joined capture, possibly empty)."""
        pat = pattern.split()
        rest = bool(pat) and pat[-1] == "**"
        if rest:
            pat = pat[:-1]
        literal = tuple(next((pat[:i] for i, p in enumerate(pat) if p == "*"), pat))
        for st in self._under(literal):
            w = st.words
            if len(w) < len(pat) or (not rest and len(w) != len(pat)):
                continue
            caps: list[str] = []
            for p, word in zip(pat, w):
                if p == "*":
                    caps.append(word)
                elif p != word:
                    break
            else:
                if rest:
                    caps.append(" ".join(w[len(pat):]))
                yield caps, st


def _quote(word: str) -> str:
    return f'"{word}"' if (not word or re.search(r'[\s;{}\[\]"#]', word)) else word


def read_config(path: Path | str, shown: str | None = None) -> str:
    """A config or topology file's text; ConfigError (no traceback) when it cannot be read, is not
    a regular file (a FIFO never blocks: it is opened non-blocking and refused), is larger than
    MAX_FILE_BYTES or is not UTF-8 (the error names the line of the first bad byte)."""
    shown = shown or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        raise ConfigError(f"cannot read {shown}: {e.strerror}") from None
    try:
        info = os.fstat(fd)  # of what was opened: no window between a check and the open
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"cannot read {shown}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ConfigError(f"cannot read {shown}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        data = _read_bounded(fd, shown)
    finally:
        os.close(fd)
    try:
        return data.decode()
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded", Source(shown, line)) from None


def _read_bounded(fd: int, shown: str) -> bytes:
    chunks, total = [], 0
    while chunk := _read_chunk(fd, shown):
        total += len(chunk)
        if total > MAX_FILE_BYTES:  # it grew after the fstat
            raise ConfigError(f"cannot read {shown}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_chunk(fd: int, shown: str) -> bytes:
    try:
        return os.read(fd, 1 << 20)
    except OSError as e:
        if e.errno == errno.EAGAIN:
            raise ConfigError(f"cannot read {shown}: not a regular file") from None
        raise ConfigError(f"cannot read {shown}: {e.strerror}") from None
