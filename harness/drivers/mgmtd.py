"""The stand-ins' management plane: SSH on each site's management address, answering a Junos-style
operational CLI (junos/cli.py) from the live state through the Linux driver. It sits with the
drivers because it is one: the runtime starts it as a process (by module name) and never imports it.

One process per lab, started by `up` and stopped by `down`. Each listening socket is opened inside
its node's network namespace (a socket keeps the namespace it was made in), so one process serves
every node and nothing listens in the host's (or the VM's) own namespace.

    python -m harness.drivers.mgmtd --lab NAME --state .../labs/NAME/lab.json
"""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections import defaultdict

import paramiko

from ..junos import cli as junos_cli
from ..model.lab import OUTPUT_LABEL
from ..model.mgmt import SSH_PORT, credentials, mgmt_plan
from ..runtime import nsexec, paths
from ..runtime import state as lab_state
from ..runtime.provider import is_device
from ..runtime.local import LocalRuntime
from .linux import LinuxDriver


# A stand-in answers in the layout current SRX/vSRX releases print, unless its topology node asks
# for the note's: `labels: {nhtb-lab.junos-output: "2009"}` (model.lab.OUTPUT_LABEL).


def output_layout(lab, node: str) -> str:
    """The text layout `node` answers in ("current" or "2009"); ValueError for another value."""
    return junos_cli.check_layout(str(lab.topology.nodes[node].labels.get(OUTPUT_LABEL, "current")))


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} mgmtd: {message}", flush=True)


def host_key(lab_name: str) -> paramiko.RSAKey:
    path = paths.lab_dir(lab_name) / "ssh_host_rsa_key"
    if not path.exists():
        key = paramiko.RSAKey.generate(2048)
        key.write_private_key_file(str(path))
        path.chmod(0o600)
    return paramiko.RSAKey(filename=str(path))


class Server(paramiko.ServerInterface):
    """Password auth; per channel, an exec request (one command) or a shell."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.requests: dict[int, bytes | None] = {}  # channel id -> command (None: a shell)
        self.ready: dict[int, threading.Event] = defaultdict(threading.Event)

    def check_auth_password(self, username, password):
        ok = username == self.user and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.requests[channel.get_id()] = command
        self.ready[channel.get_id()].set()
        return True

    def check_channel_shell_request(self, channel):
        self.requests[channel.get_id()] = None
        self.ready[channel.get_id()].set()
        return True

    def check_channel_pty_request(self, *args):
        return True


def answer(driver: LinuxDriver, line: str, layout: str = "current") -> tuple[str, int]:
    try:
        return junos_cli.run(driver, line, layout), 0
    except junos_cli.CliError as e:
        return f"error: {e}\n", 1
    except Exception as e:  # the node could not answer (charon gone...): say so, keep serving
        return f"error: {e}\n", 1


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def shell(chan: paramiko.Channel, driver: LinuxDriver, prompt: str, layout: str) -> None:
    """An interactive session: echo, backspace, Enter runs the line; `exit` or `quit` leaves."""
    chan.send(_crlf(f"--- nhtb-lab stand-in: a Junos-style operational CLI ({driver.node}) ---\n"))
    buf = ""
    chan.send(prompt.encode())
    while True:
        data = chan.recv(1024)
        if not data:
            return
        for ch in data.decode(errors="replace"):
            if ch in "\r\n":
                chan.send(b"\r\n")
                line = buf.strip()
                buf = ""
                if line in ("exit", "quit", "logout"):
                    return
                if line:
                    text, _ = answer(driver, line, layout)
                    chan.send(_crlf(text))
                chan.send(prompt.encode())
            elif ch in "\x7f\x08":
                if buf:
                    buf = buf[:-1]
                    chan.send(b"\b \b")
            elif ch == "\x03":
                buf = ""
                chan.send(b"^C\r\n" + prompt.encode())
            elif ch == "\x04":
                return
            elif ch.isprintable():
                buf += ch
                chan.send(ch.encode())


def serve_channel(chan: paramiko.Channel, server: Server, driver: LinuxDriver, prompt: str, layout: str) -> None:
    try:
        if not server.ready[chan.get_id()].wait(30):
            return
        command = server.requests.get(chan.get_id())
        if command is not None:
            text, status = answer(driver, command.decode(errors="replace"), layout)
            chan.sendall(text.encode())
            chan.send_exit_status(status)
        else:
            shell(chan, driver, prompt, layout)
            chan.send_exit_status(0)
    except Exception as e:  # one session's trouble is not the daemon's
        log(f"{driver.node}: session ended: {e}")
    finally:
        chan.close()


def serve_connection(conn: socket.socket, key, driver: LinuxDriver, user: str, password: str, prompt: str,
                     layout: str) -> None:
    """One SSH connection: any number of channels, as OpenSSH and paramiko clients open them."""
    t = paramiko.Transport(conn)
    try:
        t.add_server_key(key)
        server = Server(user, password)
        t.start_server(server=server)
        while t.is_active():
            chan = t.accept(5)
            if chan is not None:
                threading.Thread(target=serve_channel, args=(chan, server, driver, prompt, layout), daemon=True).start()
    except Exception as e:
        log(f"{driver.node}: connection ended: {e}")
    finally:
        t.close()


def listen_in(ns: str, address: str, port: int) -> socket.socket:
    with nsexec.inside(ns):  # never making it: a namespace gone with `down` stays gone
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(16)
        return s


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab", required=True)
    ap.add_argument("--state", required=True, help="the lab's lab.json (names the process as the lab's)")
    args = ap.parse_args()
    state = lab_state.read(args.lab)
    if state is None:
        log(f"no state for lab {args.lab} ({args.state})")
        return 1
    lab = state.model()
    mgmt = mgmt_plan(lab)
    key = host_key(args.lab)
    rt = LocalRuntime()
    threads = []
    for node, site in lab.sites.items():
        if is_device(lab, node):
            continue  # a vSRX serves its own CLI
        sock = listen_in(state.nodes[node].ns, str(mgmt.address(node)), SSH_PORT)
        driver = LinuxDriver(rt, args.lab, node, lab)
        user, password = credentials(lab, node)
        prompt = f"{user}@{site.hostname or node}> "
        layout = output_layout(lab, node)

        def accept_loop(sock=sock, driver=driver, user=user, password=password, prompt=prompt, layout=layout):
            while True:
                conn, _ = sock.accept()
                threading.Thread(target=serve_connection, args=(conn, key, driver, user, password, prompt, layout),
                                 daemon=True).start()

        threads.append(threading.Thread(target=accept_loop, daemon=True))
        log(f"{node}: SSH on {mgmt.address(node)}:{SSH_PORT} ({layout} Junos output)")
    for t in threads:
        t.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
