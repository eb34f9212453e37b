"""A parsed configuration as flat statements (word paths with their file:line), and a matcher."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from pathlib import Path

from ..errors import ConfigError, Source


@dataclass(frozen=True)
class Statement:
    words: tuple[str, ...]
    source: Source

    def __str__(self) -> str:
        return " ".join(_quote(w) for w in self.words)


@dataclass
class ParsedConfig:
    """A configuration as the flat list of statements it stands for."""

    file: str
    statements: list[Statement]
    inactive: list[Statement] = field(default_factory=list)

    def match(self, pattern: str) -> Iterator[tuple[list[str], Statement]]:
        """Statements matching `pattern`: literal words, `*` captures one word, a final `**`
        captures the rest (as one space-joined capture, possibly empty)."""
        pat = pattern.split()
        rest = bool(pat) and pat[-1] == "**"
        if rest:
            pat = pat[:-1]
        for st in self.statements:
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


def read_config(path: Path | str) -> str:
    """A config file's text; ConfigError (no traceback) when it cannot be read."""
    try:
        return Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
