"""Probes that wait on the network, not on a CPU (pings, SYN captures), run several at a time."""
from __future__ import annotations

import threading
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")
AT_ONCE = 8
PORTS = 10000  # a pair's TCP port wraps this far above its first: far more than run at once, below 32768


def pair_port(first: int, i: int) -> int:
    """The TCP port of the i-th pair probed side by side from `first`: concurrent probes to one
    host must not share a listener or a capture, and every port stays below the ephemeral ones."""
    return first + i % PORTS


def each(fn: Callable[[T], R], items: Iterable[T], at_once: int = AT_ONCE,
         stop: Callable[[R], bool] | None = None) -> list[R | None]:
    """`fn` of every item, in the items' order, at most `at_once` running; items start in order.
    Once a result meets `stop` (a failure worth explaining), or a call raises, or Ctrl-C, no
    further item starts: those give None, and each comes after every item that ran. The workers
    are daemon threads, so Ctrl-C does not wait for the calls still in flight."""
    items = list(items)
    results: list[R | None] = [None] * len(items)
    errors: list[BaseException] = []
    halt, lock = threading.Event(), threading.Lock()
    pending = iter(range(len(items)))

    def work() -> None:
        while not halt.is_set():
            with lock:
                i = next(pending, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
                if stop is not None and stop(results[i]):
                    halt.set()
            except BaseException as e:  # handed to the caller below
                errors.append(e)
                halt.set()
                return

    workers = [threading.Thread(target=work, daemon=True) for _ in range(min(at_once, len(items)))]
    for w in workers:
        w.start()
    try:
        for w in workers:
            w.join()
    except BaseException:  # Ctrl-C: start nothing more
        halt.set()
        raise
    if errors:
        raise errors[0]
    return results
