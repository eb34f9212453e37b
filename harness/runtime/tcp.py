"""TCP between lab hosts, from this process, without starting one: a socket made while this thread
is inside a namespace stays in it, so a listener in one host's namespace and a client in another's
give a real handshake through the lab (zones, policies, NAT, the tunnels) in milliseconds.

- `handshake`: can a TCP connection be opened (policies may allow ICMP and not TCP, or back)?
- `hold`: one connection per pair kept open for a while, a byte each way every `interval`:
  whether it broke, and the longest stall (a change applied meanwhile must not break it).
"""
from __future__ import annotations

import socket
import threading
import time

from . import nsexec

def _listener(ns: str, port: int) -> socket.socket:
    with nsexec.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
    return s


def client_socket(ns: str) -> socket.socket:
    with nsexec.inside(ns):
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def handshake(src_ns: str, dst_ns: str, address: str, port: int, timeout: float = 3.0,
              listen_port: int | None = None, source: str | None = None) -> dict:
    """Whether a TCP connection from `src_ns` (bound to `source`, if given) to address:port,
    listened on in `dst_ns` at `listen_port` (default: `port`; another one where destination NAT
    changes it), opens; and the address the listener saw it come from (source NAT shows there)."""
    listener = _listener(dst_ns, listen_port or port)
    client = client_socket(src_ns)
    try:
        client.settimeout(timeout)
        if source:
            client.bind((source, 0))
        client.connect((address, port))
        listener.settimeout(timeout)
        conn, peer = listener.accept()
        conn.close()
        return {"connected": True, "error": None, "seen_from": peer[0]}
    except OSError as e:
        return {"connected": False, "error": str(e) or type(e).__name__, "seen_from": None}
    finally:
        client.close()
        listener.close()


STALL = 1.0  # seconds an exchange may wait before it counts as a stall


def hold(pairs: list[tuple[str, str, str]], port: int, seconds: float, interval: float = 0.2,
         connect_timeout: float = 8.0) -> dict[str, dict]:
    """For each (src_ns, dst_ns, address): a connection held for `seconds`, a byte sent and echoed
    back every `interval`. Per pair: connected, broken (an error after connecting), exchanges,
    the longest gap between two answered exchanges, and how many gaps were stalls (over STALL)."""
    results: dict[str, dict] = {}
    listeners = {dst: _listener(dst, port) for dst in dict.fromkeys(d for _, d, _ in pairs)}  # one per host

    done = threading.Event()

    def serve(listener: socket.socket) -> None:
        # A short accept timeout, so the listener is closed (its port free again) when we are done:
        # a socket another thread blocks in accept() on stays bound after close().
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            try:
                while data := conn.recv(64):
                    conn.sendall(data)
            except OSError:
                pass

    def run(src: str, dst: str, address: str) -> None:
        key = f"{src} -> {address}"
        r = {"connected": False, "broken": False, "exchanges": 0, "max_gap": 0.0, "stalls": 0, "error": None}
        results[key] = r
        client = client_socket(src)
        try:
            client.settimeout(connect_timeout)
            client.connect((address, port))
            r["connected"] = True
            last = t0 = time.monotonic()
            while time.monotonic() - t0 < seconds:
                client.sendall(b".")
                if client.recv(1) != b".":
                    raise OSError("connection closed")
                now = time.monotonic()
                r["max_gap"] = max(r["max_gap"], round(now - last, 3))
                r["stalls"] += now - last > STALL
                r["exchanges"] += 1
                last = now
                time.sleep(interval)
        except OSError as e:
            r["broken"] = r["connected"]
            r["error"] = str(e) or type(e).__name__
        finally:
            client.close()

    servers = [threading.Thread(target=serve, args=(s,), daemon=True) for s in listeners.values()]
    for t in servers:
        t.start()
    clients = [threading.Thread(target=run, args=p, daemon=True) for p in pairs]
    for t in clients:
        t.start()
    for t in clients:
        t.join(seconds + connect_timeout + 30)
    done.set()
    for t in servers:
        t.join(2)
    for listener in listeners.values():
        listener.close()
    return results
