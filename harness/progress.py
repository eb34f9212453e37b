"""How long-running steps report as they go: a callback of (phase, message). An empty message is a
heartbeat (it lets a remote caller's disappearance be noticed)."""
from __future__ import annotations

from typing import Callable

Progress = Callable[[str, str], None]


def quiet(phase: str, message: str) -> None:
    pass
