"""The driver for a Junos node over SSH (a vSRX under containerlab, or a stand-in's Junos-style
CLI): the note's operational commands, `| display xml` first, the text (current or 2009 layout,
recognised from the answer) when the XML has an element the parser does not know
(harness/junos/), each parse failing loudly rather than guessing.

Indexes (IKE SA indexes, IPsec tunnel IDs) are the device's own, from its answers. Junos names
the IKE gateway, not the VPN: an IPsec SA's VPN is the `VPN Name:` / sa-vpn-name the device
prints where it prints one, otherwise the configured VPN whose IKE gateway has that name, or
that address. What the driver cannot do over the CLI raises NotOffered.

Connecting retries until the CLI answers (a vSRX takes minutes to boot). `connect` makes the
transport: a socket to the node's management address (natively, or relayed by the lab VM's agent).
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import paramiko

from ..junos import ike, ipsec, nhtb, ping, route, stats
from ..junos.textreply import UnknownField
from ..model.lab import Lab
from ..model.topology import ends
from . import base
from .base import InitiateResult, IkeSA, IpsecSA, IpsecStats, NhtbEntry, NodeDriver, PingResult, RouteAnswer
from .nft_trace import TracedPacket


class JunosCliError(RuntimeError):
    pass


class NotOffered(base.NotOffered, JunosCliError):
    """What this driver cannot do on a Junos device, and why (the message says both): callers
    report it as not checked rather than as a failure."""


CHANNELS = 4  # commands in flight at once on one device's SSH connection

class JunosSshDriver(NodeDriver):
    def __init__(self, node: str, model: Lab, connect: Callable[[], socket.socket], user: str, password: str,
                 ready_timeout: float = 60):
        self.node, self.model = node, model
        self.site = model.sites.get(node)
        self._connect, self.user, self.password, self.ready_timeout = connect, user, password, ready_timeout
        self._ssh: paramiko.SSHClient | None = None
        self._connecting = threading.Lock()  # probes run several at a time: one session, made once
        # Junos allows few channels per SSH connection (max-sessions-per-connection): probes side
        # by side take turns beyond this many.
        self._channels = threading.BoundedSemaphore(CHANNELS)
        self.fallbacks: list[str] = []  # commands read from text because the XML had an unknown element
        self.text_only = False

    # ---- transport -------------------------------------------------------------------------------
    def _client(self) -> paramiko.SSHClient:
        with self._connecting:
            return self._session()

    def _session(self) -> paramiko.SSHClient:
        if self._ssh is not None and self._ssh.get_transport() and self._ssh.get_transport().is_active():
            return self._ssh
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                ssh = paramiko.SSHClient()
                ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a lab device's key is new each boot
                ssh.connect("mgmt", username=self.user, password=self.password, sock=self._connect(),
                            allow_agent=False, look_for_keys=False, timeout=20, banner_timeout=20, auth_timeout=20)
                self._ssh = ssh
                return ssh
            except (OSError, paramiko.SSHException, EOFError) as e:
                if time.monotonic() > deadline:
                    raise JunosCliError(f"{self.node}: the CLI did not answer over SSH in {self.ready_timeout:.0f}s: {e}") from None
                time.sleep(2)

    def cli(self, command: str, attempts: int = 2) -> str:
        """One operational command, its output; JunosCliError when the CLI refuses it. A session
        that ends without an answer (no output, no exit status) is tried again on a new connection."""
        for attempt in range(attempts):
            ssh = None
            try:
                with self._channels:
                    ssh = self._client()
                    _, stdout, stderr = ssh.exec_command(command, timeout=120)
                    out = stdout.read().decode(errors="replace")
                    status = stdout.channel.recv_exit_status()
            except (paramiko.SSHException, EOFError, OSError) as e:
                out, status = "", -1
                reason = str(e)
            else:
                reason = "the session ended without an answer"
            if status == -1 and not out and attempt + 1 < attempts:
                with self._connecting:  # drop the session that failed, not one another probe made since
                    if ssh is not None and self._ssh is ssh:
                        ssh.close()
                        self._ssh = None
                continue
            if status == -1 and not out:
                raise JunosCliError(f"{self.node}: `{command}`: {reason}")
            if status != 0 or out.startswith("error:"):
                raise JunosCliError(f"{self.node}: `{command}`: {(out + stderr.read().decode()).strip()}")
            return out

    def close(self) -> None:
        if self._ssh is not None:
            self._ssh.close()

    def _xml_or_text(self, command: str, from_xml, from_text):
        if self.text_only:  # a device (or a test) whose XML is not to be used: the text path alone
            return from_text(self.cli(command))
        try:
            return from_xml(self.cli(f"{command} | display xml"))
        except UnknownField as e:
            self.fallbacks.append(f"{command}: {e}")
            return from_text(self.cli(command))

    # ---- the note's commands -----------------------------------------------------------------------
    def _vpn_for(self, remote: str, gateway: str = "") -> str:
        """The configured VPN whose IKE gateway is named `gateway` (when the device printed one),
        else whose gateway address is `remote`."""
        if not self.site:
            return ""
        vpns = ends(self.site)
        by_name = [e.vpn.name for e in vpns if gateway and e.gateway.name == gateway]
        by_address = [e.vpn.name for e in vpns if str(e.gateway.address) == remote]
        return next(iter(by_name or by_address), "")

    def ike_sas(self) -> list[IkeSA]:
        return self._xml_or_text(f"{ike.COMMAND} detail", lambda xml: ike.parse_xml(xml, self._vpn_for),
                                 lambda text: ike.parse_text(text, self._vpn_for))

    def ipsec_sas(self) -> list[IpsecSA]:
        # the brief table is asked for only when the detail is the 2009 layout (no index there)
        return self._xml_or_text(f"{ipsec.COMMAND} detail", lambda xml: ipsec.parse_xml(xml, self._vpn_for),
                                 lambda text: ipsec.parse_text(text, lambda: self.cli(ipsec.COMMAND), self._vpn_for))

    def ipsec_stats(self, index: int) -> IpsecStats:
        return self._xml_or_text(f"{stats.COMMAND} index {index}", lambda xml: stats.parse_xml(xml, index),
                                 lambda text: stats.parse_text(text, index))

    def next_hop_tunnels(self) -> list[NhtbEntry]:
        return self._xml_or_text(nhtb.COMMAND, nhtb.parse_xml, nhtb.parse_text)

    def route_answer(self, address: str) -> RouteAnswer:
        return self._xml_or_text(f"{route.COMMAND} {address}", route.parse_xml, route.parse_text)

    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        cmd = f"ping {address} count {count}" + (f" interface {source}" if source else "")
        if size is not None or df:
            raise NotOffered(f"{self.node}: ping with a size or do-not-fragment: this driver's pings carry only "
                             "count and interface (the stand-ins' CLI takes no more)")
        text = self.cli(cmd)
        m = ping.summary(text)
        return PingResult(m[0], m[1], text) if m else PingResult(count, 0, text)

    def log(self, lines: int | None = 50) -> str:
        return self.cli("show log kmd")

    def initiate(self, vpn: str) -> InitiateResult:
        raise NotOffered(f"{self.node}: initiating {vpn}: a Junos device starts a VPN on traffic; its "
                         "operational CLI has no initiate command")

    def flow_trace(self, filters, duration: float = 4.0, ping_from=None, ping_to=None) -> list[TracedPacket]:
        raise NotOffered(f"{self.node}: flow traces: `security flow traceoptions` needs a configuration commit "
                         "on the device, which this driver never makes")

    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        raise NotOffered(f"{self.node}: capturing a TCP SYN: a Junos device is not a LAN host and this driver "
                         "runs no packet capture on it")
