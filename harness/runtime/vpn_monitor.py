"""Junos VPN monitoring (`vpn-monitor`) on the stand-ins, run by the lab's supervisor: an ICMP echo
every interval from the VPN's monitor source to its destination; `threshold` unanswered in a row
and the VPN is down: its IPsec SA is cleared (Junos: "the IPsec SA is cleared") and, with
`establish-tunnels immediately`, negotiated again at once (else traffic brings it back through the
trap policies). The Mon column reads U while probes are answered, D from a failure until one is.
With `optimized`, as on Junos, it pings only while traffic goes out on the SA and none comes in.

Where it differs from Junos: the probes follow the node's routes (Junos puts them on the SA
itself), so from the defaults (the external interface to the peer gateway) they go outside the
tunnel; the ledger says so.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

from ..files import write_file
from ..model.lab import Lab
from ..model.topology import ends
from . import charon, nsexec, paths
from . import state as lab_state
from .state import LabState

STATUS_FILE = "vpn-monitor.json"  # in the lab's folder: {node: {vpn: "U" | "D"}}
REASON = "IPSEC SA VPN Monitor Failure"  # the reason an SRX logs (IKE_VPN_DOWN_ALARM_USER)


@dataclass(frozen=True)
class Target:
    """One monitored VPN on one stand-in, as its config gives it."""

    node: str
    vpn: str
    source: str  # the probes' source address
    destination: str
    interval: int
    threshold: int
    optimized: bool
    immediately: bool  # establish-tunnels immediately: negotiate again at once after the clear
    peer: str  # the peer gateway's address (for the log line)


def targets(lab: Lab, stand_ins: list[str]) -> list[Target]:
    """Every monitored VPN of the stand-ins `stand_ins` (pure: from the model)."""
    out = []
    for node in stand_ins:
        site = lab.sites[node]
        for end in ends(site):
            mon = end.vpn.monitor
            if mon is None:
                continue
            unit = site.units[mon.source_interface or end.gateway.external_interface]
            destination = mon.destination_ip or end.gateway.address
            out.append(Target(node, end.vpn.name, str(unit.addresses[0].ip), str(destination), mon.interval,
                              mon.threshold, mon.optimized, end.vpn.establish_tunnels == "immediately",
                              str(end.gateway.address)))
    return out


@dataclass
class _Watch:
    target: Target
    due: float = 0.0
    failures: int = 0
    mon: str = "U"
    packets: tuple[int, int] | None = None  # the CHILD SA's (in, out) packets at the last look


def _child(session, vpn: str) -> dict | None:
    """The VPN's installed CHILD SA as charon lists it, or None."""
    for sa in session.list_sas({"ike": vpn}):
        for ike in charon.plain(sa).values():
            for child in (ike.get("child-sas") or {}).values():
                if child.get("name") == vpn and child.get("state") == "INSTALLED":
                    return child
    return None


def _answered(ns: str, t: Target) -> bool:
    wait = max(1, min(t.interval - 1, 5))  # an answer later than the next probe counts as lost
    return nsexec.run(ns, ["ping", "-n", "-q", "-c", "1", "-W", str(wait), "-I", t.source, t.destination],
                      timeout=wait + 5).returncode == 0


def run(lab_name: str, state: LabState, stand_ins: list[str], stop, log: Callable[[str], None]) -> None:
    """Watch every monitored VPN of the lab until `stop` is set or the lab is gone."""
    watches = [_Watch(t) for t in targets(state.model(), stand_ins)]
    if not watches:
        return
    for w in watches:
        t = w.target
        log(f"vpn-monitor: {t.vpn} on {t.node}: ICMP from {t.source} to {t.destination} every {t.interval}s, "
            f"down after {t.threshold} unanswered{', optimized' if t.optimized else ''}")
    status_file = paths.lab_dir(lab_name) / STATUS_FILE
    while not stop.wait(0.5):
        if not paths.lab_dir(lab_name).exists():
            return
        now = time.monotonic()
        for w in watches:
            if now < w.due:
                continue
            w.due = now + w.target.interval
            try:
                _check(lab_name, w, log)
            except Exception as e:  # noqa: BLE001 - a charon being restarted: the next interval looks again
                log(f"vpn-monitor: {w.target.vpn} on {w.target.node}: not probed this time ({type(e).__name__}: {e})")
        status: dict[str, dict[str, str]] = {}
        for w in watches:
            status.setdefault(w.target.node, {})[w.target.vpn] = w.mon
        write_file(status_file, json.dumps(status) + "\n")


def _check(lab_name: str, w: _Watch, log: Callable[[str], None]) -> None:
    t = w.target
    current = lab_state.read(lab_name)  # read each time: a restarted charon has another pid
    if current is None:
        return
    node = current.nodes[t.node]
    if not node.charon_pid:
        return
    session = charon.session(paths.charon_run(lab_name, t.node), node.charon_pid, time.monotonic() + 5)
    child = _child(session, t.vpn)
    if child is None:
        w.failures, w.packets = 0, None  # no SA to monitor (not up yet, or just cleared)
        return
    counts = (int(child.get("packets-in", 0)), int(child.get("packets-out", 0)))
    if t.optimized and w.packets is not None:
        came_in, went_out = counts[0] > w.packets[0], counts[1] > w.packets[1]
        if came_in or not went_out:  # Junos: pings only while traffic goes out and none comes in
            w.packets = counts
            if came_in:
                w.failures, w.mon = 0, "U"
            return
    answered = _answered(node.ns, t)
    after = _child(session, t.vpn) or child  # the probe and its answer counted too
    w.packets = (int(after.get("packets-in", 0)), int(after.get("packets-out", 0)))
    if answered:
        if w.mon == "D":
            log(f"IKE_VPN_UP_ALARM_USER: VPN {t.vpn} from {t.peer} is up (vpn-monitor: {t.destination} answered)")
        w.failures, w.mon = 0, "U"
        return
    w.failures += 1
    if w.failures < t.threshold:
        return
    w.failures, w.mon = 0, "D"
    log(f"IKE_VPN_DOWN_ALARM_USER: VPN {t.vpn} from {t.peer} is down. Local-ip: {t.source}, "
        f"Reason: {REASON} ({t.threshold} probes to {t.destination} unanswered): its IPsec SA cleared")
    for _ in session.terminate({"child": t.vpn, "force": "yes", "timeout": "-1"}):
        pass
    if t.immediately:
        try:
            for _ in session.initiate({"child": t.vpn, "ike": t.vpn, "timeout": "10000"}):
                pass
            log(f"vpn-monitor: {t.vpn} on {t.node}: negotiated again (establish-tunnels immediately)")
        except Exception as e:  # noqa: BLE001 - the peer may still be gone: the next probes tell
            log(f"vpn-monitor: {t.vpn} on {t.node}: negotiating again failed ({e})")
