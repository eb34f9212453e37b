"""`ping <host>`: the summary line a driver counts, and which probes went unanswered (Junos's or
Linux's wording)."""
from __future__ import annotations

import re


def summary(text: str) -> tuple[int, int] | None:
    """(transmitted, received) from a ping's summary line."""
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def unanswered(text: str) -> list[int] | None:
    """The probes (0 for the first sent) no reply came for, from the replies' icmp_seq: Linux's
    ping numbers its probes from 1, Junos's (BSD's) from 0. None without a summary line."""
    counted = summary(text)
    if counted is None:
        return None
    first = 1 if "bytes of data" in text else 0  # Linux's header: "PING a (a) 56(84) bytes of data."
    answered = {int(m.group(1)) - first for m in re.finditer(r"bytes from .*?icmp_seq=(\d+)", text)}
    return [i for i in range(counted[0]) if i not in answered]
