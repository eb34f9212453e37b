"""The lab lifecycle on the kernel this process runs on (the host natively, or the guest): up,
apply, down. The state is `state.py`'s, the daemons `daemons.py`'s, the waits `converge.py`'s,
the namespaces the provider's; what nodes are asked is `queries.py`'s.

`up` runs each phase in order and undoes everything if any phase fails or is interrupted;
`apply` carries out `render.diff` on a running lab, removals included; `down` removes every trace
of a lab: daemons, namespaces (their interfaces, xfrm state and policies with them), the state
directory. Progress goes to a callback as (phase, message).
"""
from __future__ import annotations

import fcntl
import functools
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab, load_lab
from ..model.mgmt import mgmt_plan
from ..model.preflight import broken_ends, preflight
from ..model.topology import ends
from ..progress import Progress, quiet
from ..render.binding import binding_specs
from ..render import strongswan
from ..render.bundle import render_node
from ..render.diff import NodeChange, diff
from ..render.netplan import lab_plan
from . import charon, configure, converge, daemons, injected, nsexec, paths, probe, process
from . import state as lab_state
from ..model.emulation import kernel_esp
from .environment import topology_env
from .netns import NetnsProvider
from .provider import Provider
from .providers import for_state
from .queries import NodeQueries
from .state import LabState, NodeState


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


DOWN_WAIT = 180.0  # how long `down` waits for a command changing the lab (an `up` may take 90 s for its SAs)
DOWN_ALL_WAIT = 10.0  # `down --all`, the way out, waits this long and then goes ahead


class LabBusy(LabError):
    """Another command is changing the lab right now."""


_held = threading.local()  # the lab locks this thread holds: a nested call (up's own undo) re-enters


@contextmanager
def lab_lock(name: str, wait: float | None = None, busy: str = ""):
    """Held while a command changes lab `name` (up, apply, repair, the supervisor's restarts), so
    two never change it at once: a second `up` meanwhile would take the half-made lab for a
    crash's leftover and clear it under the first, and the supervisor must not restart a daemon
    that `apply` is replacing. One empty lock file per lab name, in the state root (a tmpfs).
    `wait`: seconds to wait for it (None: not at all); then LabBusy, saying `busy`."""
    held = _held.__dict__.setdefault("names", set())
    if name in held:
        yield
        return
    locks = paths.STATE_ROOT / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (wait or 0)
    with open(locks / f"{name}.lock", "w") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LabBusy(busy or f"lab {name} is being changed by another command right now: "
                                  "try again when it is done") from None
                time.sleep(0.2)
        held.add(name)
        try:
            yield
        finally:
            held.discard(name)
            fcntl.flock(f, fcntl.LOCK_UN)


def _changing(method):
    """A LocalRuntime method that changes the lab named by its first argument: under its lock,
    waiting for another change to finish (up to two minutes)."""
    @functools.wraps(method)
    def locked(self, lab_name: str, *args, **kwargs):
        with lab_lock(lab_name, wait=120):
            return method(self, lab_name, *args, **kwargs)
    return locked


def esp_algorithms(lab: Lab) -> list[list[str]]:
    """Every distinct ESP algorithm set the lab's proposals name, as `ip xfrm state` arguments."""
    seen: list[list[str]] = []
    for site in lab.sites.values():
        for policy in site.ipsec_policies.values():
            for p in policy.proposals:
                algs = kernel_esp(p)
                if algs is not None and algs not in seen:
                    seen.append(algs)
    return seen


class _Warming:
    """probe.warm_esp in a thread of its own (it overlaps the nodes' configuration); `wait()`
    returns what failed. Best effort: a failure only means the first SAs build the crypto."""

    def __init__(self, algorithms: list[list[str]]):
        self.failed: list[str] = []
        self.thread = threading.Thread(target=self._run, args=(algorithms,), daemon=True)
        self.thread.start()

    def _run(self, algorithms: list[list[str]]) -> None:
        try:
            self.failed = probe.warm_esp(algorithms)
        except Exception as e:  # the lab comes up without it
            self.failed = [str(e)]

    def wait(self, timeout: float = 120) -> list[str]:
        self.thread.join(timeout)
        return self.failed


class LocalRuntime(NodeQueries):
    def __init__(self, provider: Provider | None = None):
        self.provider = provider or NetnsProvider()

    # ---- what is here ------------------------------------------------------------------------
    def labs(self) -> list[dict]:
        out = []
        for name in lab_state.names():
            state = lab_state.read(name)
            if state:
                d = state.as_dict()
                for node in d["nodes"].values():
                    node["charon_running"] = process.alive(node["charon_pid"]) if node["charon_pid"] else None
                out.append(d)
        return out

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
                    f"/labs/{lab_name}/{lab_state.FILE}" in cmdline  # the management daemon
                if mine and process.alive(int(proc.name)):
                    procs.append(int(proc.name))
            except OSError:
                continue
        # Lab "x" and lab "x-2" share a prefix: namespaces another running lab owns are not residue.
        others = {i["ns"] for s in self.labs() if s["name"] != lab_name for i in s["nodes"].values()}
        return {"namespaces": [n for n in pnetns.listnetns() if n.startswith(f"{lab_name}-") and n not in others],
                "state_dir": paths.lab_dir(lab_name).exists(), "processes": procs}

    # ---- up ------------------------------------------------------------------------------------
    def up(self, topology: str, name: str | None = None, progress: Progress = quiet,
           sa_timeout: float = 90, env: dict[str, str] | None = None) -> dict:
        """Bring a lab up from `topology`, its ${VARIABLES} from `env` (the caller's environment:
        by default this process's)."""
        env = topology_env(topology) if env is None else env
        lab = load_lab(topology, name=name, env=env)
        busy = (f"lab {lab.name} is being brought up by another command right now: wait for it "
                "(`nhtb-lab inspect` lists it once it is up), or give this one another --name")
        with lab_lock(lab.name, busy=busy):
            return self._up(lab, topology, env, progress, sa_timeout)

    def _up(self, lab: Lab, topology: str, env: dict[str, str], progress: Progress, sa_timeout: float) -> dict:
        existing = lab_state.read(lab.name)
        if existing is not None:
            progress("lab", f"lab {lab.name} is already up (since {existing.created}): reusing it")
            return {"lab": existing.as_dict(), "reused": True, "timings": {}}
        if paths.lab_dir(lab.name).exists():  # a half-made lab from a crash: clear it first
            self.down(lab.name)
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        state = LabState(lab.name, str(Path(topology).resolve()), self.provider.name, time.strftime("%Y-%m-%d %H:%M:%S"),
                         env=env)
        warm = None
        try:
            ldir = paths.lab_dir(lab.name)
            ldir.mkdir(parents=True)
            ldir.chmod(0o700)
            with Phase("namespaces and links", progress, timings):
                namespaces = self.provider.create(lab, lab.name)
                self._record_new(lab, state, namespaces)
            stand_ins = self._stand_ins(lab)
            with Phase("charon spawn", progress, timings):  # each loads while the nodes are configured
                daemons.spawn_charons(lab, state, list(stand_ins))
            warm = _Warming(esp_algorithms(lab))  # the kernel's ESP crypto, built once before any SA
            with Phase("nodes configured", progress, timings):  # addresses, st0, routes, nftables
                self._configure_nodes(lab, namespaces)
            with Phase("daemons", progress, timings):
                # Started first: their imports (seconds under emulation) overlap charon and IKE;
                # the binder waits for its charon's vici socket, the SSH daemon needs none.
                for node, site in stand_ins.items():
                    if binding_specs(lab, site):
                        daemons.start_binder(state, node, binding_specs(lab, site))
                daemons.start_mgmtd(state)
            with Phase("charon start", progress, timings):  # what is left of it: ready, connections loaded
                sessions = daemons.load_charons(lab, state, list(stand_ins))
            with Phase("binding", progress, timings):
                for node, site in stand_ins.items():
                    specs = binding_specs(lab, site)
                    if specs:
                        _install_traps(site, specs, sessions[node])
            with Phase("pre-flight", progress, timings):
                broken = self._not_waited_for(lab, stand_ins)
            with Phase("ESP warm-up wait", progress, timings):
                failures = warm.wait()
            for failure in failures:
                progress("IKE", f"warming the kernel's ESP crypto: {failure}")
            if warm.thread.is_alive():
                progress("IKE", "warming the kernel's ESP crypto still runs: the first SAs may build it themselves")
            with Phase("IKE", progress, timings):
                state.vpns_up, state.vpns_skipped = converge.bring_up_vpns(lab, state, sessions, broken, progress,
                                                                           sa_timeout)
            with Phase("NHTB", progress, timings):
                converge.wait_for_bindings(lab, state, stand_ins, broken, progress)
            timings["total"] = round(time.monotonic() - t0, 2)
            state.timings = timings
            daemons.start_supervisor(state)  # from now on a daemon that dies is started again
            return {"lab": state.as_dict(), "reused": False, "timings": timings}
        except BaseException:
            # Undo first: reporting may itself fail (the caller went away) and must not stop it.
            self.down(lab.name, namespaces=[paths.ns_name(lab.name, n) for n in lab.nodes] + [paths.mgmt_ns(lab.name)])
            if warm is not None:
                warm.wait()  # then let the warm-up remove its scratch namespace
            try:
                progress("cleanup", f"bring-up of {lab.name} failed: removed everything it made")
            except BaseException:
                pass
            raise

    def _stand_ins(self, lab: Lab) -> dict:
        """The sites the harness runs itself (every site the provider does not leave to a device)."""
        return {n: s for n, s in lab.sites.items() if self.provider.configures(lab, n)}

    def _not_waited_for(self, lab: Lab, stand_ins: dict) -> set[str]:
        """VPN ends the pre-flight already says cannot come up, and a device's (it brings its VPNs
        up itself; the verification sees them through its driver)."""
        broken = broken_ends([f for f in preflight(lab) if f.blocks_sa])
        return broken | {e.label for n in lab.sites if n not in stand_ins for e in ends(lab.sites[n])}

    def _configure_new(self, lab: Lab, state: LabState, namespaces: dict[str, str]) -> None:
        """Record the new nodes, then give each stand-in its files, management address, links,
        routes and ruleset."""
        self._record_new(lab, state, namespaces)
        self._configure_nodes(lab, namespaces)

    def _record_new(self, lab: Lab, state: LabState, namespaces: dict[str, str]) -> None:
        plans = lab_plan(lab)
        for node, ns in namespaces.items():
            site = lab.sites.get(node)
            state.nodes[node] = NodeState(ns, lab.kind(node), plans[node].role,
                                          str(site.public_address()) if site and site.public_address() else None)
        lab_state.save(state)

    def _configure_nodes(self, lab: Lab, namespaces: dict[str, str]) -> None:
        plans, mgmt = lab_plan(lab), mgmt_plan(lab)
        for node, ns in namespaces.items():
            if not self.provider.configures(lab, node):
                continue  # a vSRX configures itself from its startup-config
            self._write_node_files(lab, node)
            if self.provider.cables_mgmt:
                configure.configure_mgmt(ns, node, mgmt.addresses[node])
            configure.configure_links(ns, plans[node])
            if node in lab.sites:
                configure.load_nftables(ns, node, paths.node_dir(lab.name, node) / "nftables.conf")

    def _write_node_files(self, lab: Lab, node: str) -> None:
        ndir = paths.node_dir(lab.name, node)
        for f in render_node(lab, node, reveal=True):
            write_file(ndir / f.name, f.text, secret=f.secret)

    # ---- apply ---------------------------------------------------------------------------------
    @_changing
    def apply(self, lab_name: str, topology: str, progress: Progress = quiet, sa_timeout: float = 90,
              env: dict[str, str] | None = None) -> dict:
        """Apply a changed lab to the running one in place, as a commit on the devices would, from
        `render.diff`: removed nodes go first (their daemons, then their namespaces); new nodes are
        created and cabled; a node that stays gets only what differs (addresses, tunnels and routes
        added and removed, its ruleset replaced atomically, changed connections and keys re-loaded,
        removed ones unloaded and their SAs closed, the binder told to re-read its spec). Unchanged
        connections are not touched, so their SAs stay. Then the new VPNs are started and waited for."""
        state = self._state(lab_name)
        env = topology_env(topology) if env is None else env
        old, new = state.model(), load_lab(topology, name=lab_name, env=env)
        change = diff(old, new)
        if change.links_added or change.links_removed:
            raise LabError(f"{topology}: re-cabling nodes that stay ({', '.join(change.links_added + change.links_removed)}) "
                           "is not done in place: bring the lab up again")
        if (change.added or change.removed) and not self.provider.in_place:
            raise LabError(f"{topology}: the {self.provider.name} runtime does not add or remove nodes in place")
        timings: dict[str, float] = {}
        report: dict[str, list[str]] = {}
        if change.removed:
            with Phase("removed nodes", progress, timings):
                for node in change.removed:
                    daemons.stop_node(state.nodes[node])
                self.provider.destroy(lab_name, [state.nodes[n].ns for n in change.removed], old)
                for node in change.removed:
                    del state.nodes[node]
                    shutil.rmtree(paths.node_dir(lab_name, node), ignore_errors=True)
                    report[node] = ["removed"]
                lab_state.save(state)
        with Phase("new nodes", progress, timings):
            namespaces = self.provider.create(new, lab_name, only=list(change.added)) if change.added else {}
            self._configure_new(new, state, namespaces)
        with Phase("reconfigure", progress, timings):
            for node, what in change.changed.items():
                self._reconfigure(new, state, what)
                report[node] = what.summary()
        with Phase("charon", progress, timings):
            fresh_sites = [n for n in change.added if n in self._stand_ins(new)]
            daemons.start_charons(new, state, fresh_sites)
            for node in fresh_sites:
                report.setdefault(node, []).append("charon started")
                specs = binding_specs(new, new.sites[node])
                if specs:
                    daemons.start_binder(state, node, specs)
        state.topology, state.env = str(Path(topology).resolve()), env
        lab_state.save(state)
        for node, what in report.items():
            progress("change", f"{node}: {', '.join(what)}")
        # Every end has its new keys by now: clear what a commit made stale, then renegotiate.
        up, skipped = self._renegotiate(new, state, progress, timings, sa_timeout, clear=set(change.reconfigured),
                                        only=set(change.vpns_added | change.reconfigured))
        if change.added or change.removed:
            with Phase("management", progress, timings):  # serve exactly the sites there are now
                daemons.restart_mgmtd(state)
        return {"added": list(change.added), "removed": list(change.removed), "changed": report,
                "vpns_up": up, "vpns_skipped": skipped, "timings": timings}

    @_changing
    def set_lifetimes(self, lab_name: str, ike: int | None = None, ipsec: int | None = None,
                      progress: Progress = quiet, sa_timeout: float = 90) -> dict:
        """Shorten the running lab's SA lifetimes (None: the configs' own again) on every stand-in,
        in its charon only: the lab's files and configs are not touched. An SA keeps the lifetime
        it was negotiated with, so each VPN is cleared and negotiated again under the new ones."""
        state = self._state(lab_name)
        lab = state.model()
        stand_ins = self._stand_ins(lab)
        timings: dict[str, float] = {}
        with Phase("lifetimes", progress, timings):
            for node, site in stand_ins.items():
                s = daemons.session(state, node)
                for name, conn in strongswan.with_lifetimes(site, ike, ipsec).items():
                    s.load_conn({name: conn})
            progress("lifetimes", f"IKE {strongswan.lifetime_text(ike)}, IPsec {strongswan.lifetime_text(ipsec)} "
                                  f"on {', '.join(stand_ins)}")
        labels = {e.label for n in stand_ins for e in ends(lab.sites[n])}
        up, _ = self._renegotiate(lab, state, progress, timings, sa_timeout, clear=labels, only=None)
        return {"vpns_up": up, "timings": timings}

    def inject(self, lab_name: str, fault: str, node: str | None = None, loss: float = 10.0,
               delay_ms: int = 100) -> dict:
        """A fault in the running lab (injected.RUNTIME_FAULTS); `repair` undoes it."""
        state = self._state(lab_name)
        lab = state.model()
        node = injected.target(lab, fault, node)
        if fault in ("link-cut", "netem"):
            up = injected.upstream(lab, node)
            argv = (["ip", "link", "set", up.iface, "down"] if fault == "link-cut"
                    else injected.netem_argv(up.iface, loss, delay_ms))
            res = nsexec.run(state.nodes[up.node].ns, argv)
            if res.returncode != 0:
                raise LabError(f"{fault} on {node}: {' '.join(argv)} failed in {up.node}: {res.stderr.strip()}")
            where = f"{up.node} {up.iface}" + (f": {loss:g}% loss, {delay_ms} ms delay" if fault == "netem" else "")
        else:
            pid = (state.mgmtd_pid if fault == "kill-mgmtd" else
                   state.nodes[node].binder_pid if fault == "kill-binder" else state.nodes[node].charon_pid)
            if not pid or not process.alive(pid):
                raise LabError(f"{fault}: {'the management daemon' if node is None else node} has no such daemon running")
            os.kill(pid, signal.SIGKILL)
            where = f"pid {pid}"
        return {"fault": fault, "node": node, "where": where, "what": injected.RUNTIME_FAULTS[fault]}

    @_changing
    def repair(self, lab_name: str, progress: Progress = quiet, sa_timeout: float = 90) -> dict:
        """Undo every injected fault: links up and netem gone; a dead charon's stale SAs and
        policies flushed and charon started again with its connections and keys; a dead binder or
        management daemon started again. Then every VPN that is not up is brought up, and the
        NHTB table waited for."""
        state = self._state(lab_name)
        lab = state.model()
        timings: dict[str, float] = {}
        done: list[str] = []
        with Phase("links", progress, timings):
            done += injected.restore_links(lab, state)
        with Phase("daemons", progress, timings):
            restarted = self._restart_dead(lab, state, done)
        for line in done:
            progress("repair", line)
        # A restarted charon's peers still hold SAs with keys nobody has now: clear them; then bring
        # up whatever is not up (a VPN that is up is left alone: starting it would rekey it).
        up, _ = self._renegotiate(lab, state, progress, timings, sa_timeout,
                                  clear={e.label for n in restarted for e in ends(lab.sites[n])}, only="not up")
        return {"repaired": done, "vpns_brought_up": up, "timings": timings}

    def revive(self, lab_name: str, progress: Progress = quiet, sa_timeout: float = 30) -> dict:
        """The supervisor's step, as Junos restarts a dead kmd: start again whatever daemon of the
        lab died, and renegotiate the VPNs of a restarted charon (its peers' SAs cleared). Links
        and netem are left as they are: a fault the user injected stays until `fault clear`."""
        with lab_lock(lab_name):  # not waiting: a command changing the lab now is left alone
            state = self._state(lab_name)
            lab = state.model()
            timings: dict[str, float] = {}
            done: list[str] = []
            restarted = self._restart_dead(lab, state, done)
            for line in done:
                progress("supervisor", line)
            labels = {e.label for n in restarted for e in ends(lab.sites[n])}
            up: list[str] = []
            if labels:
                up, _ = self._renegotiate(lab, state, progress, timings, sa_timeout, clear=labels, only=labels)
            return {"restarted": done, "vpns_brought_up": up, "timings": timings}

    def _restart_dead(self, lab: Lab, state: LabState, done: list[str]) -> set[str]:
        """Start again every daemon of the lab that died (a dead charon's stale SAs and policies
        flushed first); says what it did in `done`; returns the nodes whose charon it restarted."""
        restarted: set[str] = set()
        for node, site in self._stand_ins(lab).items():
            ns = state.nodes[node]
            if ns.charon_pid and not process.alive(ns.charon_pid):
                for what in ("state", "policy"):  # what the dead charon left: nobody keeps it now
                    nsexec.run(ns.ns, ["ip", "xfrm", what, "flush"])
                sessions = daemons.start_charons(lab, state, [node])
                specs = binding_specs(lab, site)
                if specs:
                    _install_traps(site, specs, sessions[node])
                done.append(f"charon restarted on {node}")
                restarted.add(node)
            specs = binding_specs(lab, site)
            if specs and ns.binder_pid and not process.alive(ns.binder_pid):
                daemons.start_binder(state, node, specs)
                done.append(f"binder restarted on {node}")
        if state.mgmtd_pid and not process.alive(state.mgmtd_pid):
            daemons.start_mgmtd(state)
            done.append("management daemon restarted")
        return restarted

    def _renegotiate(self, lab: Lab, state: LabState, progress: Progress, timings: dict[str, float],
                     sa_timeout: float, clear: set[str], only: set[str] | str | None) -> tuple[list[str], list[str]]:
        """Clear the SAs of the VPNs with an end in `clear` (made stale by a commit, new lifetimes
        or a restarted charon), bring up the VPNs with an end in `only` (None: every VPN; "not up":
        those without an SA at both ends), and wait for the NHTB table."""
        stand_ins = self._stand_ins(lab)
        if clear:
            with Phase("renegotiate", progress, timings):
                converge.clear_sas(lab, state, clear, progress, set(stand_ins))
        sessions = {n: daemons.session(state, n) for n in stand_ins}
        if only == "not up":
            only = converge.not_up(lab, sessions)
        broken = self._not_waited_for(lab, stand_ins)
        with Phase("IKE", progress, timings):
            result = converge.bring_up_vpns(lab, state, sessions, broken, progress, sa_timeout, only=only)
        with Phase("NHTB", progress, timings):
            converge.wait_for_bindings(lab, state, stand_ins, broken, progress)
        return result

    def _reconfigure(self, lab: Lab, state: LabState, what: NodeChange) -> None:
        """One node that stays: in an order that keeps traffic flowing where it can (new addresses
        and routes before old ones go; new keys before the connections that use them)."""
        node, ns = what.node, state.nodes[what.node].ns
        self._write_node_files(lab, node)
        if what.links():
            configure.apply_link_changes(ns, node, what)
        if what.ruleset:
            configure.load_nftables(ns, node, paths.node_dir(lab.name, node) / "nftables.conf")
        site = lab.sites.get(node)
        if site is None or not self.provider.configures(lab, node) or not state.nodes[node].charon_pid:
            return
        s = daemons.session(state, node)
        keys, conns = strongswan.secrets(site), strongswan.connections(site)
        for sid in what.secrets_loaded:
            s.load_shared({"id": sid, **keys[sid]})
        for name in what.connections_loaded:
            s.load_conn({name: conns[name]})
        for name in what.connections_unloaded:
            s.unload_conn({"name": name})
            charon.terminate(s, name)  # a VPN deleted in a commit takes its SAs with it (if its peer did not)
        for sid in what.secrets_unloaded:
            s.unload_shared({"id": sid})
        if what.binding:
            daemons.rebind(state, node, binding_specs(lab, site))

    # ---- down ----------------------------------------------------------------------------------
    def down(self, lab_name: str, namespaces: list[str] | None = None, wait: float | None = None,
             force: bool = False) -> list[str]:
        """Remove a lab entirely; returns what was removed (for the message). A command changing
        the lab meanwhile (up, apply, repair) is waited for, up to `wait` (DOWN_WAIT): removing
        namespaces under it would leave it creating daemons and state for a lab that is no more.
        `force`: once the wait is over, remove it all the same."""
        wait = DOWN_WAIT if wait is None else wait
        state = lab_state.read(lab_name)
        stopped = state.supervisor_pid if state is not None else None
        if state is not None:  # first, and waited for: it finishes a restart it is in, recorded
            daemons.stop_supervisor(state)
        busy = (f"lab {lab_name} is still being changed by another command after {wait:.0f}s: stop that "
                "command (Ctrl-C undoes what it started), then run `down` again")
        try:
            with lab_lock(lab_name, wait=wait, busy=busy):
                return self._down(lab_name, namespaces, stopped)
        except LabBusy:
            if not force:
                raise
        return self._down(lab_name, namespaces, stopped)  # forced: the other command fails on its own

    def _down(self, lab_name: str, namespaces: list[str] | None, stopped: int | None = None) -> list[str]:
        state = lab_state.read(lab_name)  # as the command waited for (or the supervisor) left it
        if state is not None and state.supervisor_pid == stopped:
            state.supervisor_pid = None  # stopped above: its pid may be another process's by now
        ns = set(namespaces or []) | {paths.mgmt_ns(lab_name)}
        provider, lab = self.provider, None
        if state is not None:
            daemons.stop_all(state)
            ns |= {info.ns for info in state.nodes.values()}
            provider = for_state(state.provider, state.topology)
            try:
                lab = state.model()
            except LabError:
                lab = None  # the topology changed or went away since: remove what the state names
        removed = provider.destroy(lab_name, sorted(ns), lab)
        shutil.rmtree(paths.lab_dir(lab_name), ignore_errors=True)
        _remove_if_empty(paths.labs_dir())
        return removed

    def down_all(self) -> list[str]:
        """Every lab down: a lab another command is changing gets a short wait, then goes anyway
        (`down --all` is the way out, and stops the VM after)."""
        names = lab_state.names()
        for n in names:
            self.down(n, wait=DOWN_ALL_WAIT, force=True)
        _remove_if_empty(paths.labs_dir())
        probe.remove_orphans()  # a kernel probe's or warm-up's scratch namespace, if its process was killed
        return names


def _install_traps(site, specs: list[dict], session) -> None:
    """A trap per on-traffic VPN, so traffic from the hub's side can start it (ACQUIRE)."""
    for spec in specs:
        for vpn in spec["vpns"]:
            if site.vpns[vpn].establish_tunnels == "on-traffic":
                try:
                    session.install({"child": vpn, "ike": vpn})
                except Exception:
                    pass  # already installed by load-conn


def _remove_if_empty(folder: Path) -> None:
    """The labs folder goes with the last lab (and its parent, when that is empty too)."""
    for d in (folder, folder.parent):
        try:
            d.rmdir()
        except OSError:
            return
