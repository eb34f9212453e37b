"""Relaying a TCP connection to another (the loopback forward on the host, the agent's pipe into
a lab's management network): bytes both ways until either side closes."""
from __future__ import annotations

import socket
import threading
from typing import Callable


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


def loopback_forward(connect: Callable[[], socket.socket], port: int,
                     on_error: Callable[[Exception], None]) -> socket.socket:
    """Listen on 127.0.0.1:port (0: any free one); each connection is relayed to `connect()`.
    Loopback only: nothing becomes reachable from other machines. A connection `connect` cannot
    make is reported to `on_error` and closed; the forward keeps serving the next one."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:  # the listener was closed: the forward is over
                return
            try:
                far = connect()
            except Exception as e:  # noqa: BLE001 - tell the one client, keep serving
                on_error(e)
                near.close()
                continue
            threading.Thread(target=splice, args=(near, far), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener
