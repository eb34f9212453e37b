"""Probes that wait on the network, not on a CPU (pings), run several at a time."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")
AT_ONCE = 8


def each(fn: Callable[[T], R], items: Iterable[T], at_once: int = AT_ONCE) -> list[R]:
    """`fn` of every item, in the items' order; on an error (or Ctrl-C) the calls not started yet
    are not started."""
    pool = ThreadPoolExecutor(at_once)
    try:
        return list(pool.map(fn, items))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
