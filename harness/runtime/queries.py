"""What a running lab's nodes are asked (all side effects, no Junos semantics): charon's SAs over
vici, the kernel's XFRM state, policies and routes, the binder's table, commands, flow traces and
SYN captures in a node's namespace. The drivers read these as the note's show commands."""
from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import asdict

from ..errors import LabError
from ..model.lab import Lab
from ..model.mgmt import SSH_PORT, mgmt_plan
from ..render.nftables import trace_table
from . import charon, nsexec, paths, probes, process, state as lab_state, tcp
from .providers import for_state
from .state import LabState, NodeState
from .xfrm import netns_stats, xfrm


class NodeQueries:
    def _state(self, lab_name: str) -> LabState:
        state = lab_state.read(lab_name)
        if state is None:
            raise LabError(f"no lab named '{lab_name}' is up")
        return state

    def _node(self, lab_name: str, node: str) -> NodeState:
        state = self._state(lab_name)
        if node not in state.nodes:
            raise LabError(f"lab {lab_name} has no node '{node}' (nodes: {', '.join(state.nodes)})")
        return state.nodes[node]

    def _ns(self, lab_name: str, node: str) -> str:
        return self._node(lab_name, node).ns

    def _session(self, lab_name: str, node: str):
        """A vici session with the node's charon."""
        pid = self._node(lab_name, node).charon_pid
        if not pid:
            raise LabError(f"lab {lab_name}: {node} runs no charon")
        return charon.session(paths.charon_run(lab_name, node), pid, time.monotonic() + 5)

    def sas(self, lab_name: str, node: str) -> list[dict]:
        """IKE SAs of a stand-in site as vici lists them (plain data)."""
        return [charon.plain(sa) for sa in self._session(lab_name, node).list_sas()]

    def exec(self, lab_name: str, node: str, argv: list[str], timeout: float = 120) -> dict:
        res = nsexec.run(self._ns(lab_name, node), argv, timeout=timeout)
        return {"returncode": res.returncode, "stdout": res.stdout, "stderr": res.stderr}

    def mgmt_socket(self, lab_name: str, node: str, port: int = SSH_PORT, timeout: float = 30) -> socket.socket:
        """A TCP connection to a node's management address, made from the management network
        (as a containerlab host reaches clab-<lab>-<node>); retried while the daemon starts."""
        self._ns(lab_name, node)
        address = str(mgmt_plan(self._model(lab_name)).address(node))
        # containerlab's management network is a bridge on this host; the netns one is in a namespace.
        state = self._state(lab_name)
        mgmt_ns = for_state(state.provider, state.topology).mgmt_namespace(lab_name)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with nsexec.inside(mgmt_ns) if mgmt_ns else contextlib.nullcontext():
                    return socket.create_connection((address, port), timeout=10)
            except OSError as e:
                if time.monotonic() > deadline:
                    raise LabError(f"{node}: nothing answers on {address}:{port} ({e})") from None
            time.sleep(0.3)

    def initiate(self, lab_name: str, node: str, vpn: str, timeout: float = 20) -> dict:
        """Start a VPN from this node, as traffic or `establish-tunnels` would; returns whether the
        CHILD SA came up, charon's error, and the initiator's log lines of that attempt (vici)."""
        s = self._session(lab_name, node)
        conns = {k: v for c in s.list_conns({"ike": vpn}) for k, v in charon.plain(c).items()}
        if vpn not in conns:
            raise LabError(f"{node} has no VPN '{vpn}' (VPNs: {', '.join(self._vpns(lab_name, node))})")
        has_child = bool(conns[vpn].get("children"))
        req = {"ike": vpn, "timeout": str(int(timeout * 1000)), "loglevel": "1"}
        if has_child:
            req["child"] = vpn
        log, error = [], None
        try:
            for msg in s.initiate(req):
                m = charon.plain(msg)
                if "msg" in m:
                    log.append(m["msg"])
        except Exception as e:  # vici.exception.CommandException: charon says why it failed
            error = str(e)
        return {"ok": error is None, "error": error, "child": has_child, "log": log}

    def terminate(self, lab_name: str, node: str, vpn: str) -> bool:
        """`clear security ike security-associations` for one VPN on this node: its IKE SA and
        CHILD SAs deleted, the peer told; False when there was none."""
        return charon.terminate(self._session(lab_name, node), vpn)

    def trace(self, lab_name: str, node: str, filters: list[dict], duration: float = 4.0,
              ping_from: str | None = None, ping_to: str | None = None, count: int = 3) -> dict:
        """Flow traceoptions on `node` for `duration` seconds: the nftables trace of packets the
        filters select, while `ping_from` (a node) pings `ping_to`, if given."""
        lab = self._model(lab_name)
        table = trace_table(lab.sites.get(node), filters)
        during = None
        if ping_from and ping_to:
            self._ns(lab_name, ping_from)
            argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "1", ping_to]
            during = lambda: self.exec(lab_name, ping_from, argv, timeout=count * 2 + 10)  # noqa: E731
        lines, ping = probes.flow_trace(self._ns(lab_name, node), table, duration, during)
        return {"lines": lines, "ping": ping}

    def tcp_handshake(self, lab_name: str, src: str, dst: str, address: str, port: int = 5002,
                      timeout: float = 8.0, listen_port: int | None = None, source: str | None = None) -> dict:
        """Whether a TCP connection from node `src` to address:port (answered in node `dst`, at
        `listen_port` where destination NAT changes the port) opens, and whom `dst` saw it from."""
        return tcp.handshake(self._ns(lab_name, src), self._ns(lab_name, dst), address, port, timeout,
                             listen_port, source)

    def tcp_hold(self, lab_name: str, pairs: list[list[str]], port: int = 5003, seconds: float = 10.0) -> dict:
        """One TCP connection per (src node, dst node, address) held for `seconds`, a byte echoed
        every 0.2 s: per "src -> dst", whether it broke and its longest stall."""
        ns = {n: self._ns(lab_name, n) for pair in pairs for n in pair[:2]}
        held = tcp.hold([(ns[a], ns[b], addr) for a, b, addr in pairs], port, seconds)
        return {f"{a} -> {b}": held[f"{ns[a]} -> {addr}"] for a, b, addr in pairs}

    def syn_mss(self, lab_name: str, src: str, dst: str, address: str, port: int = 5001, timeout: float = 30) -> dict:
        """The MSS a TCP SYN from node `src` to address:port carries when it reaches node `dst`."""
        ifname = json.loads((paths.node_dir(lab_name, dst) / "plan.json").read_text())["links"][0]["ifname"]
        return probes.syn_mss(self._ns(lab_name, src), self._ns(lab_name, dst), ifname, address, port, timeout)

    def _model(self, lab_name: str) -> Lab:
        return self._state(lab_name).model()

    def _vpns(self, lab_name: str, node: str) -> list[str]:
        return [k for c in self._session(lab_name, node).list_conns() for k in charon.plain(c)]

    def xfrm_states(self, lab_name: str, node: str) -> list[dict]:
        """The node's SAs as the kernel holds them, with counters and error statistics (no keys)."""
        with xfrm(self._ns(lab_name, node)) as x:
            return [dict(asdict(st), src=str(st.src), dst=str(st.dst)) for st in x.states()]

    def xfrm_policies(self, lab_name: str, node: str) -> list[dict]:
        with xfrm(self._ns(lab_name, node)) as x:
            return [{k: (v if isinstance(v, int) or v is None else str(v)) for k, v in asdict(p).items()}
                    for p in x.policies()]

    def rekey(self, lab_name: str, node: str, child: str) -> None:
        """Rekey a CHILD SA now (as its lifetime would), over vici."""
        self._session(lab_name, node).rekey({"child": child})

    def xfrm_netns_stats(self, lab_name: str, node: str) -> dict[str, int]:
        return netns_stats(self._ns(lab_name, node))

    def charon_log(self, lab_name: str, node: str, lines: int | None = 50) -> str:
        self._ns(lab_name, node)
        return charon.log_tail(paths.charon_run(lab_name, node), lines)

    def supervisor_log(self, lab_name: str, lines: int | None = None) -> str:
        """What the lab's supervisor restarted, and when (supervisor.py)."""
        self._state(lab_name)
        return process.tail(paths.lab_dir(lab_name) / "supervisor.log", lines=lines)

    def vpn_monitor(self, lab_name: str) -> dict[str, dict[str, str]]:
        """The Mon column of every monitored VPN, as the supervisor's VPN monitors last wrote it:
        {node: {vpn: "U" | "D"}} (a VPN without `vpn-monitor` is absent: its Mon reads "-")."""
        self._state(lab_name)
        try:
            return json.loads((paths.lab_dir(lab_name) / "vpn-monitor.json").read_text())
        except (OSError, ValueError):
            return {}

    def nhtb(self, lab_name: str, node: str) -> list[dict]:
        """The node's NHTB table as its binder last wrote it (empty on a spoke, as on Westford)."""
        self._node(lab_name, node)
        try:
            return json.loads((paths.node_dir(lab_name, node) / "nhtb.json").read_text())["entries"]
        except (OSError, ValueError, KeyError):
            return []

    def routes(self, lab_name: str, node: str) -> list[dict]:
        """The node's main routing table as the kernel holds it (the driver reads it as Junos would)."""
        with nsexec.iproute(self._ns(lab_name, node)) as ipr:  # a namespace gone is an error, never made again
            names = {ln["index"]: ln.get_attr("IFLA_IFNAME") for ln in ipr.get_links()}
            return [{"prefix": f"{r.get_attr('RTA_DST') or '0.0.0.0'}/{r['dst_len']}",
                     "gateway": r.get_attr("RTA_GATEWAY"), "ifname": names.get(r.get_attr("RTA_OIF"), "?"),
                     "kernel": r["proto"] == 2}  # RTPROT_KERNEL: the interface's own subnet
                    for r in ipr.get_routes(family=socket.AF_INET, table=254)]

