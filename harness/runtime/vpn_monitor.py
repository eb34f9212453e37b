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

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab
from ..model.topology import ends
from . import charon, nsexec, paths
from . import state as lab_state
from .local import LabBusy, lab_lock

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
    mon: str = "-"  # not judged yet: U once a probe is answered, D from a failure until one is
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


def run(lab_name: str, stand_ins: list[str], stop, log: Callable[[str], None], reread: float = 5.0) -> None:
    """Watch every monitored VPN of the lab until `stop` is set or the lab is gone. The targets are
    read again from the lab's configs every `reread` seconds: `apply` may add, change or remove a
    monitor (a VPN whose monitor is unchanged keeps its count)."""
    watches: dict[tuple[str, str], _Watch] = {}
    status_file = paths.lab_dir(lab_name) / STATUS_FILE
    read_at = None
    while not stop.wait(0.5):
        now = time.monotonic()
        if read_at is None or now - read_at >= reread:
            read_at = now
            state = lab_state.read(lab_name)
            if state is None:
                return
            try:
                found = {(t.node, t.vpn): t for t in targets(state.model(), stand_ins)}
            except LabError as e:  # a config edited into an error: keep watching what was read
                log(f"vpn-monitor: the configs do not read ({e}): monitoring goes on as before")
                found = {k: w.target for k, w in watches.items()}
            for key, t in found.items():
                if key not in watches or watches[key].target != t:
                    watches[key] = _Watch(t)
                    log(f"vpn-monitor: {t.vpn} on {t.node}: ICMP from {t.source} to {t.destination} every "
                        f"{t.interval}s, down after {t.threshold} unanswered{', optimized' if t.optimized else ''}")
            for key in [k for k in watches if k not in found]:
                log(f"vpn-monitor: {key[1]} on {key[0]}: no longer monitored")
                del watches[key]
        for w in watches.values():
            if now < w.due:
                continue
            w.due = now + w.target.interval
            try:
                _check(lab_name, w, log)
            except Exception as e:  # noqa: BLE001 - a charon being restarted: the next interval looks again
                log(f"vpn-monitor: {w.target.vpn} on {w.target.node}: not probed this time ({type(e).__name__}: {e})")
        status: dict[str, dict[str, str]] = {}
        for w in watches.values():
            status.setdefault(w.target.node, {})[w.target.vpn] = w.mon
        if paths.lab_dir(lab_name).exists():
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
    if t.optimized:  # Junos: pings only while traffic goes out and none comes in
        before, w.packets = w.packets, counts
        if before is None or counts[0] < before[0] or counts[1] < before[1]:
            return  # a first look at this SA (new, or rekeyed): what flows is known from the next
        if counts[0] > before[0]:
            w.failures, w.mon = 0, "U"  # traffic came in: the peer lives
            return
        if counts[1] == before[1]:
            return  # idle: nothing to probe for
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
    try:
        with lab_lock(lab_name):  # never while a command changes the lab (apply, repair, a restart)
            _clear(session, w, log)
    except LabBusy:
        log(f"vpn-monitor: {t.vpn} on {t.node}: {t.threshold} probes unanswered, but the lab is being changed: "
            "judged again at the next probe")
        w.failures = t.threshold - 1


def _clear(session, w: _Watch, log: Callable[[str], None]) -> None:
    t = w.target
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
