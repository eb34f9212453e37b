"""The providers by name: which one made a running lab, from what its state recorded."""
from __future__ import annotations

from pathlib import Path

from .clab import ContainerlabProvider
from .netns import NetnsProvider
from .provider import Provider

def for_state(provider: str, topology: str) -> Provider:
    if provider == ContainerlabProvider.name:
        return ContainerlabProvider(Path(topology))
    return NetnsProvider()
