"""The control channel between the host and the agent in the lab VM.

One TCP connection per call, to 127.0.0.1 (qemu forwards it into the guest; the guest itself has
no other network: `restrict=on`). The first line authenticates with a token from a 0600 file.
Newline-delimited JSON: the client sends {"token", "method", "params"}; the agent answers with
any number of {"event": [phase, message]} lines, then {"result": ...} or {"error", "kind"}.
"""
from __future__ import annotations

import json
import socket
from typing import Callable

from ..errors import LabError

AGENT_PORT = 7777  # inside the guest

# LocalRuntime's calls the host may make through the agent, by name, with LocalRuntime's own
# parameters (`up` is carried separately: it streams progress and retries on a dead VM).
RUNTIME_CALLS = ("labs", "down", "down_all", "exec", "sas", "nhtb", "routes", "rekey", "xfrm_states",
                 "xfrm_policies", "xfrm_netns_stats", "charon_log", "supervisor_log", "vpn_monitor", "residue",
                 "initiate", "terminate", "trace", "syn_mss", "tcp_handshake", "tcp_hold", "inject")
# Calls that report progress as they go (events), besides `up`.
PROGRESS_CALLS = ("apply", "set_lifetimes", "repair")


class AgentError(LabError):
    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind  # the agent's name for the error (VMClosing: boot a new VM)


class AgentClient:
    def __init__(self, port: int, token: str, timeout: float = 600):
        self.port, self.token, self.timeout = port, token, timeout

    def call(self, method: str, params: dict | None = None, on_event: Callable[[str, str], None] | None = None,
             timeout: float | None = None):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout or self.timeout)
        try:
            sock.sendall((json.dumps({"token": self.token, "method": method, "params": params or {}}) + "\n").encode())
            for line in sock.makefile("r"):
                msg = json.loads(line)
                if "event" in msg:
                    if on_event and msg["event"][1]:
                        on_event(*msg["event"])
                elif "result" in msg:
                    return msg["result"]
                elif "error" in msg:
                    raise AgentError(msg["error"], msg.get("kind", ""))
        finally:
            # shutdown, not just close: the makefile() reader still references the socket, and on
            # Ctrl-C the agent must see the end of the connection now to undo what it started.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        raise AgentError(f"the lab VM's agent closed the connection during '{method}'")

    def stream(self, method: str, params: dict, timeout: float = 60) -> socket.socket:
        """A connection the agent turns into a byte pipe (after its one-line answer)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            sock.sendall((json.dumps({"token": self.token, "method": method, "params": params}) + "\n").encode())
            line = b""
            while not line.endswith(b"\n"):  # byte by byte: what follows belongs to the pipe
                b = sock.recv(1)
                if not b:
                    raise AgentError(f"the lab VM's agent closed the connection during '{method}'")
                line += b
            msg = json.loads(line)
            if "error" in msg:
                raise AgentError(msg["error"])
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return sock

    def ping(self, timeout: float = 2) -> bool:
        try:
            return self.call("ping", timeout=timeout) == "pong"
        except (OSError, ValueError, AgentError):
            return False
