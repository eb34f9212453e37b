"""The lab lifecycle on the kernel this process runs on (the host natively, or the guest).

`up` runs each phase in order and undoes everything if any phase fails or is interrupted;
`down` removes every trace of a lab: charons, namespaces (their interfaces, xfrm state and
policies with them), the state directory. Progress goes to a callback as (phase, message).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab, load_lab
from ..model.mgmt import SSH_PORT, mgmt_plan
from ..model.preflight import VpnEnd, broken_ends, ends, preflight, vpn_pairs
from ..render import strongswan
from ..render.binding import binding_specs
from ..render.bundle import render_node
from ..render.nftables import ruleset as nftables_ruleset
from ..render.nftables import trace_table
from ..render.netplan import lab_plan
from . import charon, clab, configure, nsexec, paths, probes, process
from .netns import NetnsProvider
from .xfrm import netns_stats, xfrm

Progress = Callable[[str, str], None]


def _quiet(phase: str, message: str) -> None:
    pass


@dataclass
class Phase:
    """Times one phase of `up` and reports its start and end."""

    name: str
    progress: Progress
    timings: dict[str, float]

    def __enter__(self):
        self.t0 = time.monotonic()
        self.progress(self.name, "...")
        return self

    def __exit__(self, exc_type, exc, tb):
        took = time.monotonic() - self.t0
        self.timings[self.name] = round(took, 2)
        if exc_type is None:
            self.progress(self.name, f"done in {took:.1f}s")
        return False


def _read_state(lab_name: str) -> dict | None:
    path = paths.lab_dir(lab_name) / "lab.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class LocalRuntime:
    def __init__(self, provider: NetnsProvider | None = None):
        self.provider = provider or NetnsProvider()

    # ---- queries -------------------------------------------------------------------------
    def labs(self) -> list[dict]:
        out = []
        if paths.labs_dir().exists():
            for d in sorted(paths.labs_dir().iterdir()):
                state = _read_state(d.name)
                if state:
                    for node in state["nodes"].values():
                        node["charon_running"] = process.alive(node.get("charon_pid")) if node.get("charon_pid") else None
                    out.append(state)
        return out

    def sas(self, lab_name: str, node: str) -> list[dict]:
        """IKE SAs of a stand-in site as vici lists them (plain data)."""
        return [charon.plain(sa) for sa in self._session(lab_name, node).list_sas()]

    def exec(self, lab_name: str, node: str, argv: list[str], timeout: float = 120) -> dict:
        res = nsexec.run(self._ns(lab_name, node), argv, timeout=timeout)
        return {"returncode": res.returncode, "stdout": res.stdout, "stderr": res.stderr}

    def residue(self, lab_name: str) -> dict:
        """Anything of lab `lab_name` still in this runtime: namespaces, state, charon processes
        (found by the node run directory bind-mounted on their /run)."""
        from pyroute2 import netns as pnetns

        # mountinfo shows a bind mount's source relative to its file system's root (/run is a
        # tmpfs of its own), so match the part below the state root only.
        marker = f"/labs/{lab_name}/nodes/"
        procs = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                mine = marker in (proc / "mountinfo").read_text() or marker in cmdline or \
                    f"/labs/{lab_name}/lab.json" in cmdline  # the management daemon
                if mine and process.alive(int(proc.name)):
                    procs.append(int(proc.name))
            except OSError:
                continue
        # Lab "x" and lab "x-2" share a prefix: namespaces another running lab owns are not residue.
        others = {i["ns"] for s in self.labs() if s["name"] != lab_name for i in s["nodes"].values()}
        return {"namespaces": [n for n in pnetns.listnetns() if n.startswith(f"{lab_name}-") and n not in others],
                "state_dir": paths.lab_dir(lab_name).exists(), "processes": procs}

    def _state(self, lab_name: str) -> dict:
        state = _read_state(lab_name)
        if state is None:
            raise LabError(f"no lab named '{lab_name}' is up")
        return state

    # ---- lifecycle -----------------------------------------------------------------------
    def up(self, topology: str, name: str | None = None, progress: Progress = _quiet,
           sa_timeout: float = 90) -> dict:
        lab = load_lab(topology, name=name)
        existing = _read_state(lab.name)
        if existing is not None:
            progress("lab", f"lab {lab.name} is already up (since {existing['created']}): reusing it")
            return {"lab": existing, "reused": True, "timings": {}}
        if paths.lab_dir(lab.name).exists():  # a half-made lab from a crash: clear it first
            self.down(lab.name)
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        state = {"name": lab.name, "topology": str(Path(topology).resolve()), "runtime": self.provider.name,
                 "created": time.strftime("%Y-%m-%d %H:%M:%S"), "nodes": {}}
        ldir = paths.lab_dir(lab.name)
        try:
            ldir.mkdir(parents=True)
            ldir.chmod(0o700)
            plans = lab_plan(lab)
            with Phase("namespaces and links", progress, timings):
                namespaces = self.provider.create(lab, lab.name)
                self._record_nodes(lab, state, namespaces, plans)
                mgmt = mgmt_plan(lab)
                for node, ns in namespaces.items():
                    if clab.is_device(lab, node):
                        continue  # a vSRX configures itself from its startup-config
                    self._write_node_files(lab, lab.name, node)
                    if self.provider.cables_mgmt:
                        configure.configure_mgmt(ns, node, mgmt.addresses[node])
                    configure.configure_links(ns, plans[node])
                    if node in lab.sites:
                        configure.load_nftables(ns, node, paths.node_dir(lab.name, node) / "nftables.conf")
            stand_ins = _stand_ins(lab)
            with Phase("charon start", progress, timings):
                sessions = self._start_charons(lab, lab.name, list(stand_ins), state)
            with Phase("binding", progress, timings):
                for node, site in stand_ins.items():
                    specs = binding_specs(lab, site)
                    if not specs:
                        continue
                    for spec in specs:  # a trap per VPN, so hub traffic can start a VPN (ACQUIRE)
                        for vpn in spec["vpns"]:
                            if site.vpns[vpn].establish_tunnels == "on-traffic":
                                try:
                                    sessions[node].install({"child": vpn, "ike": vpn})
                                except Exception:
                                    pass  # already installed by load-conn
                    state["nodes"][node]["binder_pid"] = self._start_binder(lab.name, node, namespaces[node], specs)
                    self._save(state)
            # VPNs the pre-flight already says cannot come up are neither started nor waited for.
            broken = broken_ends([f for f in preflight(lab) if f.blocks_sa])
            # A vSRX brings its VPNs up itself: the verification sees them through its driver.
            broken |= {e.label for n in lab.sites if n not in stand_ins for e in ends(lab.sites[n])}
            with Phase("IKE", progress, timings):
                pids = {n: state["nodes"][n]["charon_pid"] for n in stand_ins}
                state["vpns_up"], state["vpns_skipped"] = self._bring_up_vpns(lab, sessions, pids, broken, progress,
                                                                              sa_timeout)
            with Phase("NHTB", progress, timings):
                self._wait_for_bindings(lab, state, broken, progress)
            with Phase("management", progress, timings):
                self._start_mgmtd(lab.name, state)
            timings["total"] = round(time.monotonic() - t0, 2)
            state["timings"] = timings
            self._save(state)
            return {"lab": state, "reused": False, "timings": timings}
        except BaseException:
            # Undo first: reporting may itself fail (the caller went away) and must not stop it.
            self.down(lab.name, namespaces=[paths.ns_name(lab.name, n) for n in lab.nodes] + [paths.mgmt_ns(lab.name)])
            try:
                progress("cleanup", f"bring-up of {lab.name} failed: removed everything it made")
            except BaseException:
                pass
            raise

    def _record_nodes(self, lab: Lab, state: dict, namespaces: dict[str, str], plans: dict) -> None:
        for node, ns in namespaces.items():
            site = lab.sites.get(node)
            state["nodes"][node] = {"ns": ns, "kind": lab.kind(node), "role": plans[node].role,
                                    "public": str(site.public_address()) if site and site.public_address() else None,
                                    "charon_pid": None}
        self._save(state)

    def _write_node_files(self, lab: Lab, lab_name: str, node: str) -> None:
        ndir = paths.node_dir(lab_name, node)
        for f in render_node(lab, node, reveal=True):
            write_file(ndir / f.name, f.text, secret=f.secret)

    def _start_charons(self, lab: Lab, lab_name: str, nodes: list[str], state: dict) -> dict:
        """Start charon on `nodes` and load each one's connections and secrets; returns sessions."""
        for node in nodes:
            state["nodes"][node]["charon_pid"] = charon.start(state["nodes"][node]["ns"], paths.charon_run(lab_name, node))
            self._save(state)
        deadline = time.monotonic() + 60
        sessions = {}
        for node in nodes:
            site = lab.sites[node]
            s = charon.session(paths.charon_run(lab_name, node), state["nodes"][node]["charon_pid"], deadline)
            for conn_name, conn in strongswan.connections(site).items():
                s.load_conn({conn_name: conn})
            for sid, sec in strongswan.secrets(site).items():
                s.load_shared({"id": sid, **sec})
            sessions[node] = s
        return sessions

    def apply(self, lab_name: str, topology: str, progress: Progress = _quiet, sa_timeout: float = 90) -> dict:
        """Apply a changed lab to the running one in place, as a commit on the devices would:
        new nodes are created and cabled; an existing node gets only what differs (addresses and
        routes added, its ruleset replaced atomically, changed connections re-loaded over vici,
        the binder told to re-read its spec). Unchanged connections are not touched, so their SAs
        stay. Then the new VPNs are started and waited for. Removing nodes is not supported."""
        state = self._state(lab_name)
        old, new = load_lab(state["topology"], name=lab_name), load_lab(topology, name=lab_name)
        gone = [n for n in old.nodes if n not in new.nodes]
        if gone:
            raise LabError(f"{topology}: removes node(s) {', '.join(gone)}: a change in place only adds nodes")
        added = [n for n in new.nodes if n not in old.nodes]
        plans, old_plans = lab_plan(new), lab_plan(old)
        timings: dict[str, float] = {}
        changed: dict[str, list[str]] = {}
        with Phase("new nodes", progress, timings):
            namespaces = self.provider.create(new, lab_name, only=added)
            self._record_nodes(new, state, namespaces, plans)
            mgmt = mgmt_plan(new)
            for node, ns in namespaces.items():
                configure.configure_mgmt(ns, node, mgmt.addresses[node])
        with Phase("reconfigure", progress, timings):
            for node in new.nodes:
                ns, what = state["nodes"][node]["ns"], []
                self._write_node_files(new, lab_name, node)
                if node in added or _without_origins(plans[node]) != _without_origins(old_plans[node]):
                    configure.configure_links(ns, plans[node])
                    what.append("interfaces and routes")
                site = new.sites.get(node)
                if site and (node in added or _nft_without_sources(nftables_ruleset(site))
                             != _nft_without_sources(nftables_ruleset(old.sites[node]))):
                    configure.load_nftables(ns, node, paths.node_dir(lab_name, node) / "nftables.conf")
                    what.append("security policies")
                if what:
                    changed[node] = what
        with Phase("charon", progress, timings):
            sessions = self._start_charons(new, lab_name, [n for n in added if n in new.sites], state)
            for node, site in new.sites.items():
                if node in added:
                    changed.setdefault(node, []).append("charon started")
                    continue
                s = sessions[node] = self._session(lab_name, node)
                before, after = strongswan.connections(old.sites[node]), strongswan.connections(site)
                for name, conn in after.items():
                    if before.get(name) != conn:
                        s.load_conn({name: conn})
                        changed.setdefault(node, []).append(f"connection {name} loaded")
                for name in before.keys() - after.keys():
                    s.unload_conn({"name": name})
                    changed.setdefault(node, []).append(f"connection {name} unloaded")
                old_secrets = strongswan.secrets(old.sites[node])
                for sid, sec in strongswan.secrets(site).items():
                    if old_secrets.get(sid) != sec:
                        s.load_shared({"id": sid, **sec})
                specs, old_specs = binding_specs(new, site), binding_specs(old, old.sites[node])
                if specs != old_specs:
                    self._rebind(lab_name, node, state, specs)
                    changed.setdefault(node, []).append("next-hop tunnel bindings")
        state["topology"] = str(Path(topology).resolve())
        self._save(state)
        for node, what in changed.items():
            progress("change", f"{node}: {', '.join(what)}")
        broken = broken_ends([f for f in preflight(new) if f.blocks_sa])
        old_labels = {e.label for site in old.sites.values() for e in ends(site)}
        fresh = {e.label for site in new.sites.values() for e in ends(site)} - old_labels
        with Phase("IKE", progress, timings):
            pids = {n: state["nodes"][n]["charon_pid"] for n in new.sites}
            up, skipped = self._bring_up_vpns(new, sessions, pids, broken, progress, sa_timeout, only=fresh)
        with Phase("NHTB", progress, timings):
            self._wait_for_bindings(new, state, broken, progress)
        if added:
            with Phase("management", progress, timings):  # serve the new sites too
                process.stop(state.get("mgmtd_pid"))
                self._start_mgmtd(lab_name, state)
        return {"added": added, "changed": changed, "vpns_up": up, "vpns_skipped": skipped, "timings": timings}

    def _start_mgmtd(self, lab_name: str, state: dict) -> None:
        """The SSH daemon serving every site's Junos-style CLI on its management address."""
        with open(paths.lab_dir(lab_name) / "mgmtd.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "harness.drivers.mgmtd", "--lab", lab_name,
                                     "--state", str(paths.lab_dir(lab_name) / "lab.json")],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=proc.wait, daemon=True).start()
        state["mgmtd_pid"] = proc.pid
        self._save(state)

    def mgmt_socket(self, lab_name: str, node: str, port: int = SSH_PORT, timeout: float = 30) -> socket.socket:
        """A TCP connection to a node's management address, made from the management network
        (as a containerlab host reaches clab-<lab>-<node>); retried while the daemon starts."""
        from pyroute2 import netns as pnetns

        self._ns(lab_name, node)
        address = str(mgmt_plan(self._model(lab_name)).address(node))
        # containerlab's management network is a bridge on this host; ours is in a namespace.
        mgmt_ns = None if self._state(lab_name)["runtime"] == clab.ContainerlabProvider.name else paths.mgmt_ns(lab_name)
        deadline = time.monotonic() + timeout
        while True:
            if mgmt_ns:
                pnetns.pushns(mgmt_ns)
            try:
                return socket.create_connection((address, port), timeout=10)
            except OSError as e:
                if time.monotonic() > deadline:
                    raise LabError(f"{node}: nothing answers on {address}:{port} ({e})") from None
            finally:
                if mgmt_ns:
                    pnetns.popns()
            time.sleep(0.3)

    def _rebind(self, lab_name: str, node: str, state: dict, specs: list[dict]) -> None:
        """Hand the hub's binder its new spec (it re-reads it on SIGHUP), or start one."""
        pid = state["nodes"][node].get("binder_pid")
        if process.alive(pid):
            write_file(paths.node_dir(lab_name, node) / "binding.json", json.dumps(specs, indent=2))
            os.kill(pid, signal.SIGHUP)
        else:
            state["nodes"][node]["binder_pid"] = self._start_binder(lab_name, node, state["nodes"][node]["ns"], specs)
            self._save(state)

    def _save(self, state: dict) -> None:
        write_file(paths.lab_dir(state["name"]) / "lab.json", json.dumps(state, indent=2))

    def _bring_up_vpns(self, lab: Lab, sessions: dict, pids: dict[str, int], broken: set[str], progress: Progress,
                       timeout: float, only: set[str] | None = None) -> tuple[list[str], list[str]]:
        """Start each VPN from its spoke end (as traffic from the spoke would) and wait until both
        ends show the IKE SA established and the CHILD SA installed; skip the `broken` ends. With
        `only`, just the VPNs with an end among those labels (starting a VPN that is up rekeys it)."""
        every = [(a, b) for a, b in vpn_pairs(lab) if only is None or a.label in only or b.label in only]
        pairs = [(a, b) for a, b in every if a.label not in broken and b.label not in broken]
        skipped = [(a, b) for a, b in every if (a, b) not in pairs]
        for a, b in skipped:
            progress("IKE", f"{a.label} <-> {b.label}: not waited for (pre-flight finding)")

        def initiate(end: VpnEnd) -> None:
            # A session of its own: vici sessions are not shared between threads.
            try:
                s = charon.session(paths.charon_run(lab.name, end.site.name), pids[end.site.name],
                                   time.monotonic() + 10)
                for _ in s.initiate({"child": end.vpn.name, "ike": end.vpn.name, "timeout": "-1"}):
                    pass
            except Exception:
                pass  # the wait below reports what did not come up

        # Broken pairs are tried too, as an SRX would: their failure is what the logs must show.
        for spoke, _hub in every:
            threading.Thread(target=initiate, args=(spoke,), daemon=True).start()
        deadline = time.monotonic() + timeout
        pending = list(pairs)
        while pending:
            done = [(a, b) for a, b in pending if _sa_up(sessions[a.site.name], a.vpn.name) and _sa_up(sessions[b.site.name], b.vpn.name)]
            for a, b in done:
                progress("IKE", f"{a.label} <-> {b.label}: IKE SA established, CHILD SA installed")
                pending.remove((a, b))
            if pending and time.monotonic() > deadline:
                names = ", ".join(f"{a.label} <-> {b.label}" for a, b in pending)
                raise LabError(f"SAs not up after {timeout:.0f}s: {names}")
            if pending:
                progress("IKE", "")  # heartbeat: lets a remote caller's disappearance be noticed
                time.sleep(0.25)
        label = lambda a, b: f"{a.label} <-> {b.label}"  # noqa: E731
        return [label(a, b) for a, b in pairs], [label(a, b) for a, b in skipped]

    def _start_binder(self, lab_name: str, node: str, ns: str, specs: list[dict]) -> int:
        ndir = paths.node_dir(lab_name, node)
        spec_path = write_file(ndir / "binding.json", json.dumps(specs, indent=2))
        argv = [sys.executable, "-m", "harness.runtime.binder", "--ns", ns, "--spec", str(spec_path),
                "--vici", str(paths.charon_run(lab_name, node) / charon.VICI_IN_RUN), "--table", str(ndir / "nhtb.json")]
        with open(ndir / "binder.log", "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        threading.Thread(target=proc.wait, daemon=True).start()
        return proc.pid

    def _wait_for_bindings(self, lab: Lab, state: dict, broken: set[str], progress: Progress,
                           timeout: float = 120) -> None:
        """Until each hub's NHTB table holds its static entries and an Auto entry per Junos spoke
        whose VPN is up (the binder learns them from charon)."""
        deadline = time.monotonic() + timeout
        for node, site in _stand_ins(lab).items():
            specs = binding_specs(lab, site)
            want = {(s["next_hop"], s["vpn"]) for spec in specs for s in spec["static"]}
            want |= {(v["auto_next_hop"], name) for spec in specs for name, v in spec["vpns"].items()
                     if v["auto_next_hop"] and f"{node}/{name}" not in broken}
            if not specs:
                continue
            while True:
                have = {(e["next_hop"], e["vpn"]) for e in self.nhtb(lab.name, node)}
                if want <= have:
                    progress("NHTB", f"{node}: {len(have)} next-hop tunnel binding(s)")
                    break
                if not process.alive(state["nodes"][node].get("binder_pid")):
                    raise LabError(f"{node}: the binder exited:\n{process.tail(paths.node_dir(lab.name, node) / 'binder.log')}")
                if time.monotonic() > deadline:
                    raise LabError(f"{node}: NHTB entries missing after {timeout:.0f}s: {sorted(want - have)}")
                progress("NHTB", "")
                time.sleep(0.25)

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

    def syn_mss(self, lab_name: str, src: str, dst: str, address: str, port: int = 5001, timeout: float = 30) -> dict:
        """The MSS a TCP SYN from node `src` to address:port carries when it reaches node `dst`."""
        ifname = json.loads((paths.node_dir(lab_name, dst) / "plan.json").read_text())["links"][0]["ifname"]
        return probes.syn_mss(self._ns(lab_name, src), self._ns(lab_name, dst), ifname, address, port, timeout)

    def _model(self, lab_name: str) -> Lab:
        state = self._state(lab_name)
        return load_lab(state["topology"], name=lab_name)

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

    def charon_log(self, lab_name: str, node: str, lines: int = 50) -> str:
        self._ns(lab_name, node)
        return charon.log_tail(paths.charon_run(lab_name, node), lines)

    def _node(self, lab_name: str, node: str) -> dict:
        state = self._state(lab_name)
        if node not in state["nodes"]:
            raise LabError(f"lab {lab_name} has no node '{node}' (nodes: {', '.join(state['nodes'])})")
        return state["nodes"][node]

    def _ns(self, lab_name: str, node: str) -> str:
        return self._node(lab_name, node)["ns"]

    def _session(self, lab_name: str, node: str):
        """A vici session with the node's charon."""
        pid = self._node(lab_name, node).get("charon_pid")
        if not pid:
            raise LabError(f"lab {lab_name}: {node} runs no charon")
        return charon.session(paths.charon_run(lab_name, node), pid, time.monotonic() + 5)

    def nhtb(self, lab_name: str, node: str) -> list[dict]:
        """The node's NHTB table as its binder last wrote it (empty on a spoke, as on Westford)."""
        self._state(lab_name)
        try:
            return json.loads((paths.node_dir(lab_name, node) / "nhtb.json").read_text())["entries"]
        except (OSError, ValueError, KeyError):
            return []

    def routes(self, lab_name: str, node: str) -> list[dict]:
        """The node's main routing table as the kernel holds it (the driver reads it as Junos would)."""
        from pyroute2 import NetNS

        with NetNS(self._ns(lab_name, node)) as ipr:
            names = {ln["index"]: ln.get_attr("IFLA_IFNAME") for ln in ipr.get_links()}
            return [{"prefix": f"{r.get_attr('RTA_DST') or '0.0.0.0'}/{r['dst_len']}",
                     "gateway": r.get_attr("RTA_GATEWAY"), "ifname": names.get(r.get_attr("RTA_OIF"), "?"),
                     "kernel": r["proto"] == 2}  # RTPROT_KERNEL: the interface's own subnet
                    for r in ipr.get_routes(family=socket.AF_INET, table=254)]

    def down(self, lab_name: str, namespaces: list[str] | None = None) -> list[str]:
        """Remove a lab entirely; returns what was removed (for the message)."""
        state = _read_state(lab_name) or {"nodes": {}}
        process.stop(state.get("mgmtd_pid"))
        for node, info in state["nodes"].items():
            process.stop(info.get("binder_pid"))
            process.stop(info.get("charon_pid"))
        ns = set(namespaces or []) | {info["ns"] for info in state["nodes"].values()} | {paths.mgmt_ns(lab_name)}
        if state.get("runtime") == clab.ContainerlabProvider.name:  # containers go with containerlab's destroy
            topo = Path(state["topology"])
            removed = clab.ContainerlabProvider(topo).destroy(sorted(ns), load_lab(topo, name=lab_name), lab_name)
        else:
            removed = self.provider.destroy(sorted(ns))
        shutil.rmtree(paths.lab_dir(lab_name), ignore_errors=True)
        _remove_if_empty(paths.labs_dir())
        return removed

    def down_all(self) -> list[str]:
        names = [d.name for d in paths.labs_dir().iterdir()] if paths.labs_dir().exists() else []
        for n in names:
            self.down(n)
        _remove_if_empty(paths.labs_dir())
        return names


def _stand_ins(lab: Lab) -> dict:
    """The sites the harness runs itself (every site but a vSRX under containerlab)."""
    return {n: s for n, s in lab.sites.items() if not clab.is_device(lab, n)}


def _without_origins(plan):
    """A node plan minus where each route came from (file:line moves when a config is edited)."""
    return replace(plan, routes=[replace(r, origin="") for r in plan.routes])


def _nft_without_sources(text: str) -> str:
    return re.sub(r" \([^()]*:\d+\)", "", text)


def _sa_up(session, conn: str) -> bool:
    return any(charon.child_installed(ike) for sa in session.list_sas({"ike": conn})
               for name, ike in charon.plain(sa).items() if name == conn and ike.get("state") == "ESTABLISHED")


def _remove_if_empty(folder: Path) -> None:
    """The labs folder goes with the last lab (and its parent, when that is empty too)."""
    for d in (folder, folder.parent):
        try:
            d.rmdir()
        except OSError:
            return
