"""`ping <host>`: the summary line a driver counts (Junos's or Linux's wording)."""
from __future__ import annotations

import re


def summary(text: str) -> tuple[int, int] | None:
    """(transmitted, received) from a ping's summary line."""
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", text)
    return (int(m.group(1)), int(m.group(2))) if m else None
