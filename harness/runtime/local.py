"""The lab lifecycle on the kernel this process runs on (the host natively, or the guest).

`up` runs each phase in order and undoes everything if any phase fails or is interrupted;
`down` removes every trace of a lab: charons, namespaces (their interfaces, xfrm state and
policies with them), the state directory. Progress goes to a callback as (phase, message).
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab, load_lab
from ..model.preflight import VpnEnd, broken_ends, preflight, vpn_pairs
from ..render import strongswan
from ..render.bundle import render_node
from ..render.netplan import lab_plan
from . import charon, configure, nsexec, paths
from .netns import NetnsProvider

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
                        node["charon_running"] = charon.alive(node.get("charon_pid")) if node.get("charon_pid") else None
                    out.append(state)
        return out

    def sas(self, lab_name: str, node: str) -> list[dict]:
        """IKE SAs of a stand-in site as vici lists them (plain data)."""
        state = self._state(lab_name)
        info = state["nodes"].get(node)
        if not info or not info.get("charon_pid"):
            raise LabError(f"lab {lab_name}: {node} runs no charon")
        run_dir = paths.charon_run(lab_name, node)
        s = charon.session(run_dir, info["charon_pid"], time.monotonic() + 5)
        return [_plain(sa) for sa in s.list_sas()]

    def exec(self, lab_name: str, node: str, argv: list[str], timeout: float = 120) -> dict:
        state = self._state(lab_name)
        if node not in state["nodes"]:
            raise LabError(f"lab {lab_name} has no node '{node}' (nodes: {', '.join(state['nodes'])})")
        res = nsexec.run(state["nodes"][node]["ns"], argv, timeout=timeout)
        return {"returncode": res.returncode, "stdout": res.stdout, "stderr": res.stderr}

    def residue(self, lab_name: str) -> dict:
        """Anything of lab `lab_name` still in this runtime: namespaces, state, charon processes
        (found by the node run directory bind-mounted on their /run)."""
        from pyroute2 import netns as pnetns

        # mountinfo shows a bind mount's source relative to its file system's root (/run is a
        # tmpfs of its own), so match the part below the state root only.
        marker = f"/labs/{lab_name}/nodes/"
        charons = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if marker in (proc / "mountinfo").read_text() and charon.alive(int(proc.name)):
                    charons.append(int(proc.name))
            except OSError:
                continue
        return {"namespaces": [n for n in pnetns.listnetns() if n.startswith(f"{lab_name}-")],
                "state_dir": paths.lab_dir(lab_name).exists(), "charon_pids": charons}

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
                for node, ns in namespaces.items():
                    site = lab.sites.get(node)
                    state["nodes"][node] = {"ns": ns, "kind": lab.kind(node), "role": plans[node].role,
                                            "public": str(site.public_address()) if site and site.public_address() else None,
                                            "charon_pid": None}
                self._save(state)
                for node, ns in namespaces.items():
                    ndir = paths.node_dir(lab.name, node)
                    for f in render_node(lab, node, reveal=True):
                        write_file(ndir / f.name, f.text, secret=f.secret)
                    configure.configure_links(ns, plans[node])
                    if node in lab.sites:
                        configure.load_nftables(ns, node, ndir / "nftables.conf")
            with Phase("charon start", progress, timings):
                sessions = {}
                for node in lab.sites:
                    run_dir = paths.charon_run(lab.name, node)
                    pid = charon.start(namespaces[node], run_dir)
                    state["nodes"][node]["charon_pid"] = pid
                    self._save(state)
                deadline = time.monotonic() + 60
                for node, site in lab.sites.items():
                    s = charon.session(paths.charon_run(lab.name, node), state["nodes"][node]["charon_pid"], deadline)
                    for conn_name, conn in strongswan.connections(site).items():
                        s.load_conn({conn_name: conn})
                    for sid, sec in strongswan.secrets(site).items():
                        s.load_shared({"id": sid, **sec})
                    sessions[node] = s
            with Phase("IKE", progress, timings):
                pids = {n: state["nodes"][n]["charon_pid"] for n in lab.sites}
                self._bring_up_vpns(lab, sessions, pids, progress, sa_timeout)
            timings["total"] = round(time.monotonic() - t0, 2)
            state["timings"] = timings
            self._save(state)
            return {"lab": state, "reused": False, "timings": timings}
        except BaseException:
            # Undo first: reporting may itself fail (the caller went away) and must not stop it.
            self.down(lab.name, namespaces=[paths.ns_name(lab.name, n) for n in lab.nodes])
            try:
                progress("cleanup", f"bring-up of {lab.name} failed: removed everything it made")
            except BaseException:
                pass
            raise

    def _save(self, state: dict) -> None:
        write_file(paths.lab_dir(state["name"]) / "lab.json", json.dumps(state, indent=2))

    def _bring_up_vpns(self, lab: Lab, sessions: dict, pids: dict[str, int], progress: Progress, timeout: float) -> None:
        """Start each VPN from its spoke end (as traffic from the spoke would) and wait until both
        ends show the IKE SA established and the CHILD SA installed. VPNs the pre-flight already
        says cannot come up are not waited for."""
        broken = broken_ends(preflight(lab))
        pairs = [(a, b) for a, b in vpn_pairs(lab) if a.label not in broken and b.label not in broken]
        skipped = [(a, b) for a, b in vpn_pairs(lab) if (a, b) not in pairs]
        for a, b in skipped:
            progress("IKE", f"{a.label} <-> {b.label}: not waited for (pre-flight finding)")

        def initiate(end: VpnEnd) -> None:
            # A session of its own: vici sessions are not shared between threads.
            try:
                s = charon.session(paths.charon_run(lab.name, end.site.name), pids[end.site.name], time.monotonic() + 10)
                for _ in s.initiate({"child": end.vpn.name, "ike": end.vpn.name, "timeout": "-1"}):
                    pass
            except Exception:
                pass  # the wait below reports what did not come up

        for spoke, _hub in pairs:
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

    def down(self, lab_name: str, namespaces: list[str] | None = None) -> list[str]:
        """Remove a lab entirely; returns what was removed (for the message)."""
        state = _read_state(lab_name) or {"nodes": {}}
        for node, info in state["nodes"].items():
            charon.stop(info.get("charon_pid"))
        ns = set(namespaces or []) | {info["ns"] for info in state["nodes"].values()}
        removed = self.provider.destroy(sorted(ns))
        shutil.rmtree(paths.lab_dir(lab_name), ignore_errors=True)
        try:
            paths.labs_dir().rmdir()  # only when it was the last lab
        except OSError:
            pass
        return removed

    def down_all(self) -> list[str]:
        names = [d.name for d in paths.labs_dir().iterdir()] if paths.labs_dir().exists() else []
        for n in names:
            self.down(n)
        return names


def _plain(obj):
    """vici answers with OrderedDicts of bytes: make them JSON-able strings."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode(errors="replace")
    return obj


def _sa_up(session, conn: str) -> bool:
    for sa in session.list_sas({"ike": conn}):
        ike = _plain(sa).get(conn)
        if ike and ike.get("state") == "ESTABLISHED" and any(
                c.get("state") == "INSTALLED" for c in ike.get("child-sas", {}).values()):
            return True
    return False
