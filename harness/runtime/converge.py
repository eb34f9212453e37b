"""Waiting for a lab to converge, never with a bare sleep: each VPN's SAs on both ends, then each
hub's next-hop tunnel bindings."""
from __future__ import annotations

import json
import threading
import time

from ..errors import LabError
from ..model.lab import Lab
from ..model.topology import VpnEnd, vpn_pairs
from ..progress import Progress
from ..render.binding import binding_specs
from . import charon, daemons, paths, process
from .state import LabState


def sa_up(session, conn: str) -> bool:
    """Whether connection `conn` has an established IKE SA with a CHILD SA in the kernel."""
    return any(charon.child_installed(ike) for sa in session.list_sas({"ike": conn})
               for name, ike in charon.plain(sa).items() if name == conn and ike.get("state") == "ESTABLISHED")


def not_up(lab: Lab, sessions: dict) -> set[str]:
    """The ends of every VPN between stand-ins that lacks an established SA at either end."""
    return {e.label for a, b in vpn_pairs(lab) if a.site.name in sessions and b.site.name in sessions
            and not (sa_up(sessions[a.site.name], a.vpn.name) and sa_up(sessions[b.site.name], b.vpn.name))
            for e in (a, b)}


def bring_up_vpns(lab: Lab, state: LabState, sessions: dict, broken: set[str], progress: Progress,
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
            s = daemons.session(state, end.site.name, timeout=10)
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
        done = [(a, b) for a, b in pending
                if sa_up(sessions[a.site.name], a.vpn.name) and sa_up(sessions[b.site.name], b.vpn.name)]
        for a, b in done:
            progress("IKE", f"{a.label} <-> {b.label}: IKE SA established, CHILD SA installed")
            pending.remove((a, b))
        if pending and time.monotonic() > deadline:
            names = ", ".join(f"{a.label} <-> {b.label}" for a, b in pending)
            raise LabError(f"SAs not up after {timeout:.0f}s: {names}")
        if pending:
            progress("IKE", "")
            time.sleep(0.25)
    label = lambda a, b: f"{a.label} <-> {b.label}"  # noqa: E731
    return [label(a, b) for a, b in pairs], [label(a, b) for a, b in skipped]


def clear_sas(lab: Lab, state: LabState, labels: set[str] | frozenset[str], progress: Progress,
              stand_ins: set[str], settle: float = 5.0) -> None:
    """Delete the IKE SA (and its IPsec SAs) of each VPN with an end in `labels`, as kmd does for a
    gateway or VPN whose configuration a commit changed; the next negotiation uses the new keys.
    One end deletes and tells the other; only if the other still holds its SA after `settle`
    seconds is it deleted there too (deleting both at once left a half-deleted SA that held up
    the next negotiation for three retransmits, ~24 s)."""
    for a, b in vpn_pairs(lab):
        if a.label not in labels and b.label not in labels:
            continue
        if not {a.site.name, b.site.name} <= stand_ins:  # a device clears its own SAs on commit
            progress("renegotiate", f"{a.label} <-> {b.label}: not cleared here (a device end)")
            continue
        cleared = charon.terminate(daemons.session(state, a.site.name, timeout=10), a.vpn.name)
        other = daemons.session(state, b.site.name, timeout=10)
        deadline = time.monotonic() + settle
        while _has_ike_sa(other, b.vpn.name) and time.monotonic() < deadline:
            time.sleep(0.1)
        forced = charon.terminate(other, b.vpn.name)
        progress("renegotiate", f"{a.label} <-> {b.label}: " + ("IKE and IPsec SAs cleared" if cleared or forced
                                                                 else "no SA to clear")
                 + (f" ({b.label} had to be cleared too)" if forced else ""))


def _has_ike_sa(session, conn: str) -> bool:
    return any(name == conn for sa in session.list_sas({"ike": conn}) for name in charon.plain(sa))


def _table(lab_name: str, node: str) -> list[dict]:
    try:
        return json.loads((paths.node_dir(lab_name, node) / "nhtb.json").read_text())["entries"]
    except (OSError, ValueError, KeyError):
        return []


def wait_for_bindings(lab: Lab, state: LabState, sites: dict, broken: set[str], progress: Progress,
                      timeout: float = 120) -> None:
    """Until each hub's NHTB table holds its static entries and an Auto entry per Junos spoke
    whose VPN is up (the binder learns them from charon)."""
    deadline = time.monotonic() + timeout
    for node, site in sites.items():
        specs = binding_specs(lab, site)
        if not specs:
            continue
        want = {(s["next_hop"], s["vpn"]) for spec in specs for s in spec["static"]}
        want |= {(v["auto_next_hop"], name) for spec in specs for name, v in spec["vpns"].items()
                 if v["auto_next_hop"] and f"{node}/{name}" not in broken}
        while True:
            have = {(e["next_hop"], e["vpn"]) for e in _table(lab.name, node)}
            if want <= have:
                progress("NHTB", f"{node}: {len(have)} next-hop tunnel binding(s)")
                break
            if not process.alive(state.nodes[node].binder_pid):
                raise LabError(f"{node}: the binder exited:\n{process.tail(paths.node_dir(lab.name, node) / 'binder.log')}")
            if time.monotonic() > deadline:
                raise LabError(f"{node}: NHTB entries missing after {timeout:.0f}s: {sorted(want - have)}")
            progress("NHTB", "")
            time.sleep(0.25)
