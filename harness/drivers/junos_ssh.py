"""The driver for a Junos node over SSH (a vSRX under containerlab, or a stand-in's Junos-style
CLI): the note's operational commands, `| display xml` first, the text tables when the XML has
an element the parser does not know (harness/junos/), each parse failing loudly rather than guessing.

Connecting retries until the CLI answers (a vSRX takes minutes to boot). `connect` makes the
transport: a socket to the node's management address (natively, or relayed by the lab VM's agent).
"""
from __future__ import annotations

import socket
import time
from typing import Callable

import paramiko

from ..junos import ike, ipsec, nhtb, ping, route, stats
from ..junos.textreply import UnknownField
from ..model.lab import Lab
from ..model.topology import ends
from .base import InitiateResult, IkeSA, IpsecSA, IpsecStats, NhtbEntry, NodeDriver, PingResult, RouteAnswer
from .nft_trace import TracedPacket


class JunosCliError(RuntimeError):
    pass


class JunosSshDriver(NodeDriver):
    def __init__(self, node: str, model: Lab, connect: Callable[[], socket.socket], user: str, password: str,
                 ready_timeout: float = 60):
        self.node, self.model = node, model
        self.site = model.sites.get(node)
        self._connect, self.user, self.password, self.ready_timeout = connect, user, password, ready_timeout
        self._ssh: paramiko.SSHClient | None = None
        self.fallbacks: list[str] = []  # commands read from text because the XML had an unknown element

    # ---- transport -------------------------------------------------------------------------------
    def _client(self) -> paramiko.SSHClient:
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
            try:
                _, stdout, stderr = self._client().exec_command(command, timeout=120)
                out = stdout.read().decode(errors="replace")
                status = stdout.channel.recv_exit_status()
            except (paramiko.SSHException, EOFError, OSError) as e:
                out, status = "", -1
                reason = str(e)
            else:
                reason = "the session ended without an answer"
            if status == -1 and not out and attempt + 1 < attempts:
                self.close()
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
        try:
            return from_xml(self.cli(f"{command} | display xml"))
        except UnknownField as e:
            self.fallbacks.append(f"{command}: {e}")
            return from_text(self.cli(command))

    # ---- the note's commands -----------------------------------------------------------------------
    def _vpn_for(self, remote: str) -> str:
        """The VPN whose gateway is `remote` (Junos names the gateway, not the VPN, per IKE SA)."""
        return next((e.vpn.name for e in ends(self.site) if str(e.gateway.address) == remote), "") if self.site else ""

    def ike_sas(self) -> list[IkeSA]:
        return self._xml_or_text(f"{ike.COMMAND} detail", ike.parse_xml,
                                 lambda text: ike.parse_text(text, self._vpn_for))

    def ipsec_sas(self) -> list[IpsecSA]:
        return self._xml_or_text(f"{ipsec.COMMAND} detail", ipsec.parse_xml,
                                 lambda text: ipsec.parse_text(text, self.cli(ipsec.COMMAND), self._vpn_for))

    def ipsec_stats(self, index: int) -> IpsecStats:
        return self._xml_or_text(f"{stats.COMMAND} index {index}", stats.parse_xml,
                                 lambda text: stats.parse_text(text, index))

    def next_hop_tunnels(self) -> list[NhtbEntry]:
        return self._xml_or_text(nhtb.COMMAND, nhtb.parse_xml, nhtb.parse_text)

    def route_answer(self, address: str) -> RouteAnswer:
        return self._xml_or_text(f"{route.COMMAND} {address}", route.parse_xml, route.parse_text)

    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        cmd = f"ping {address} count {count}" + (f" interface {source}" if source else "")
        if size is not None or df:
            raise JunosCliError("ping size/do-not-fragment is not offered by this driver")
        text = self.cli(cmd)
        m = ping.summary(text)
        return PingResult(m[0], m[1], text) if m else PingResult(count, 0, text)

    def log(self, lines: int | None = 50) -> str:
        return self.cli("show log kmd")

    def initiate(self, vpn: str) -> InitiateResult:
        raise JunosCliError("a Junos node starts a VPN on traffic: initiate is not offered over its CLI")

    def flow_trace(self, filters, duration: float = 4.0, ping_from=None, ping_to=None) -> list[TracedPacket]:
        raise JunosCliError("flow traceoptions over SSH need a commit on the device: not offered by this driver")

    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        raise JunosCliError("a Junos node is not a LAN host")
