"""Relaying a TCP connection to another (the loopback forward on the host, the agent's pipe into
a lab's management network): bytes both ways until either side closes."""
from __future__ import annotations

import socket
import threading


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):  # the other direction ends too
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def splice(a: socket.socket, b: socket.socket) -> None:
    """Relay until both directions end, then close both."""
    t = threading.Thread(target=_pump, args=(b, a), daemon=True)
    t.start()
    _pump(a, b)
    t.join(5)
    a.close()
    b.close()
