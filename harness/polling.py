"""Waiting for a condition by polling it, never by a fixed sleep."""
from __future__ import annotations

import time
from typing import Callable


def wait_until(predicate: Callable[[], object], seconds: float, step: float = 0.25) -> float | None:
    """Seconds until `predicate()` held, or None if it did not within `seconds`. A condition that
    holds at once gives 0.0, which is falsy: compare the result with None, never by truth."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if predicate():
            return round(time.monotonic() - t0, 1)
        time.sleep(step)
    return None
