"""Errors that point at the input that caused them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Source:
    """Where a statement came from: shown as file:line in every message about it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class LabError(Exception):
    """Bad input or a failed step; the CLI prints it and exits 1 (never a traceback)."""


class ConfigError(LabError):
    """One or more problems in the lab's input files, each with its file:line."""

    def __init__(self, problems: list[tuple[Source | None, str]] | str, source: Source | None = None):
        if isinstance(problems, str):
            problems = [(source, problems)]
        self.problems = problems
        super().__init__("\n".join(f"{src}: {msg}" if src else msg for src, msg in problems))
