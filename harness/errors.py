"""Errors that point at the input that caused them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .files import WriteRefused

REDACTED = "<redacted>"

# Where a key shows in a statement or a raw line, whatever the message around it: the value after
# a Junos key keyword (`pre-shared-key ascii-text X`, or a key type alone when a block split the
# statement), any $9$ string, and the value after ScreenOS `preshare` (misspellings included).
_VALUE = r"(\"[^\"]*\"?|'[^']*'?|[^\s'\"]+)"  # double-quoted, single-quoted (to its end) or a bare word
_KEY_PATTERNS = (
    (re.compile(rf"(\bpre-shared-key\s+)(?!ascii-text\b|hexadecimal\b){_VALUE}"), rf"\1{REDACTED}"),
    (re.compile(rf"(\b(?:ascii-text|hexadecimal)\s+){_VALUE}"), rf"\1{REDACTED}"),
    (re.compile(rf"(?i)(\bpre-?sh\w*\s+){_VALUE}"), rf'\1"{REDACTED}"'),
    (re.compile(r"\$9\$[^\s\"';]*"), REDACTED),
)


def redact(text: str) -> str:
    """`text` with every pre-shared key it quotes replaced by <redacted>. Applied to every error
    (ConfigError) and warning, so a message quoting a statement or a raw line never shows a key."""
    for pattern, repl in _KEY_PATTERNS:
        text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True, order=True)
class Source:
    """Where a statement came from: shown as file:line in every message about it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class LabError(Exception):
    """Bad input or a failed step; the CLI prints it and exits 1 (never a traceback)."""


class VMDied(LabError):
    """The lab VM's qemu ended without a `down` while a call was in flight: every lab in it is
    gone. No check takes it for an observation of a node; its message always begins "the lab VM
    died" (the suite reruns a test once on it)."""


class ConfigError(LabError):
    """One or more problems in the lab's input files, each with its file:line."""

    def __init__(self, problems: list[tuple[Source | None, str]] | str, source: Source | None = None):
        if isinstance(problems, str):
            problems = [(source, problems)]
        # The last guard: whatever a message quotes, no key leaves through an error.
        self.problems = [(src, redact(msg)) for src, msg in problems]
        super().__init__("\n".join(f"{src}: {msg}" if src else msg for src, msg in self.problems))


# What a command reports as `message` and exit 1 (never a traceback): bad input, a failed step,
# a file it would not write.
USER_ERRORS = (LabError, WriteRefused)
