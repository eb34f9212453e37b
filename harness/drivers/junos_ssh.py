"""The driver for a Junos node over SSH (a vSRX under containerlab, or a stand-in's Junos-style
CLI): the note's operational commands, `| display xml` first, the text tables when the XML has
an element the parser does not know (junos_xml), each parse failing loudly rather than guessing.

Connecting retries until the CLI answers (a vSRX takes minutes to boot). `connect` makes the
transport: a socket to the node's management address (natively, or relayed by the lab VM's agent).
"""
from __future__ import annotations

import socket
import time
from typing import Callable

import paramiko

from ..model.lab import Lab
from ..model.preflight import ends
from . import junos_text, junos_xml
from .base import InitiateResult, IkeSA, IpsecSA, IpsecStats, NhtbEntry, NodeDriver, PingResult, Route
from .junos_text import UnknownField
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
        return self._xml_or_text("show security ike security-associations detail", junos_xml.parse_ike_sas,
                                 self._ike_from_text)

    def _ike_from_text(self, text: str) -> list[IkeSA]:
        out = []
        for d in junos_text.ike_sa_detail(text):
            local, _, lport = d["local"].partition(":")
            _, _, rport = d["remote"].partition(":")
            alg, traffic = d.get("algorithms", {}), d.get("traffic", {})
            out.append(IkeSA(d["index"], self._vpn_for(d["peer"]), d["peer"], d["state"], d["initiator_cookie"],
                             d["responder_cookie"], d["exchange_type"], d["role"], local, int(lport or 500),
                             int(rport or 500), d.get("lifetime_seconds"), alg.get("authentication", ""),
                             alg.get("encryption", ""), alg.get("prf", ""), alg.get("dh_group", ""),
                             traffic.get("input_bytes", 0), traffic.get("output_bytes", 0),
                             traffic.get("input_packets", 0), traffic.get("output_packets", 0),
                             d.get("ipsec_sas_created", 0), d.get("ipsec_sas_deleted", 0)))
        return out

    def ipsec_sas(self) -> list[IpsecSA]:
        return self._xml_or_text("show security ipsec security-associations detail", junos_xml.parse_ipsec_sas,
                                 self._ipsec_from_text)

    def _ipsec_from_text(self, detail: str) -> list[IpsecSA]:
        rows = junos_text.ipsec_sa_table(self.cli("show security ipsec security-associations"))
        out = []
        for d in junos_text.ipsec_sa_detail(detail):
            gw = d["remote_gateway"]
            mine = [r for r in rows if r["gateway"] == gw]
            dirs = {x["direction"]: x for x in d["directions"]}
            inb, outb = dirs.get("inbound", {}), dirs.get("outbound", {})
            first = mine[0] if mine else {}
            out.append(IpsecSA(first.get("id", 0), self._vpn_for(gw), d["local_gateway"], gw, first.get("port", 500),
                               inb.get("protocol", "ESP"), inb.get("encryption", ""), inb.get("authentication", ""),
                               f"{inb.get('spi', 0):08x}", f"{outb.get('spi', 0):08x}", inb.get("hard_lifetime_seconds"),
                               first.get("life_kb", "unlim"), inb.get("vpn_monitoring", "-"), first.get("vsys", 0),
                               d["local_identity"], d["remote_identity"], inb.get("mode", "tunnel"),
                               d.get("pfs_group", ""), inb.get("state", ""), inb.get("replay_window_size", 0),
                               inb.get("soft_lifetime_seconds")))
        return out

    def ipsec_stats(self, index: int) -> IpsecStats:
        cmd = f"show security ipsec statistics index {index}"
        return self._xml_or_text(cmd, junos_xml.parse_stats,
                                 lambda text: IpsecStats(index=index, **junos_text.ipsec_statistics(text)))

    def next_hop_tunnels(self) -> list[NhtbEntry]:
        return self._xml_or_text("show security ipsec next-hop-tunnels", junos_xml.parse_nhtb,
                                 lambda text: [NhtbEntry(**e) for e in junos_text.next_hop_tunnels(text)])

    def route(self, address: str) -> Route | None:
        def from_text(text: str) -> Route | None:
            tables = junos_text.show_route(text)
            entries = [e for t in tables for e in t["entries"]]
            if not entries:
                return None
            e = entries[0]
            nh = next((h for h in e["next_hops"] if h["selected"]), e["next_hops"][0] if e["next_hops"] else {})
            return Route(e["prefix"], nh.get("to"), nh.get("via", ""), e["protocol"], e["active"])

        return self._xml_or_text(f"show route {address}", junos_xml.parse_route, from_text)

    def ping(self, address: str, count: int = 5, source: str | None = None, size: int | None = None,
             df: bool = False) -> PingResult:
        cmd = f"ping {address} count {count}" + (f" interface {source}" if source else "")
        if size is not None or df:
            raise JunosCliError("ping size/do-not-fragment is not offered by this driver")
        text = self.cli(cmd)
        m = junos_text.ping_summary(text)
        return PingResult(m[0], m[1], text) if m else PingResult(count, 0, text)

    def log(self, lines: int = 50) -> str:
        return self.cli("show log kmd")

    def initiate(self, vpn: str) -> InitiateResult:
        raise JunosCliError("a Junos node starts a VPN on traffic: initiate is not offered over its CLI")

    def flow_trace(self, filters, duration: float = 4.0, ping_from=None, ping_to=None) -> list[TracedPacket]:
        raise JunosCliError("flow traceoptions over SSH need a commit on the device: not offered by this driver")

    def syn_mss(self, to_node: str, address: str, port: int = 5001) -> int | None:
        raise JunosCliError("a Junos node is not a LAN host")
