"""A node's IKE log, read as the note reads kmd: which phase completed or failed, in which role,
between which addresses, and why (pure functions over log text).

`parse` reads either log and tells them apart by their lines:
- charon's (a stand-in's): charon logs per IKE SA ("<name|N>" or "<N>" before it has a name); this
  follows each SA through its lines and emits the events the note's "Review Kmd Log" section
  shows. Lines tagged [KMD] are the harness's own (a Junos rule strongSwan lacks).
- kmd's (a device's `show log kmd`, or what `kmd()` wrote): the note's troubleshooting lines and
  what current releases log (KMD_PM_SA_ESTABLISHED, KMD_VPN_UP_ALARM_USER / _DOWN_, "IKE
  negotiation successfully completed").
`kmd_lines` renders an event in kmd's words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

# Junos' error names, as the note quotes them.
NO_PROPOSAL, INVALID_PAYLOAD, TIMED_OUT = "No proposal chosen", "Invalid payload type", "Timed out"
DPD_DEAD = "the peer did not answer dead-peer detection"  # our words: no device sample of this reason yet

LINE = re.compile(r"^(?P<ts>\w{3} [ \d]\d \d\d:\d\d:\d\d) \d+\[(?P<grp>\w+)\] (?:<(?:(?P<name>[^|>]+)\|)?(?P<sa>\d+)> )?(?P<msg>.*)$")


@dataclass(frozen=True)
class IkeEvent:
    time: str
    kind: str  # p1-done, p1-failed, peer-unknown, p2-done, p2-failed, proxy-id-mismatch, vpn-up, vpn-down (DPD)
    role: str  # initiator | responder | "" (kmd's SA and VPN alarms name no role)
    local: str | None
    remote: str | None
    error: str | None = None
    p2_local: str | None = None
    p2_remote: str | None = None
    vpn: str | None = None
    evidence: tuple[str, ...] = field(default=(), compare=False)  # charon's own lines behind it


@dataclass
class _Sa:
    role: str = "responder"
    local: str | None = None
    remote: str | None = None
    established: bool = False
    qm_role: str = "responder"
    probing: bool = False  # its last request was an IKEv2 liveness check (an empty INFORMATIONAL)
    name: str | None = None
    lines: list[str] = field(default_factory=list)


_PATTERNS = [  # (regex, handler name): first match wins
    (r"initiating Main Mode IKE_SA \S+\[\d+\] to (?P<remote>[\d.]+)", "initiating"),
    (r"(?P<remote>[\d.]+) is initiating a Main Mode IKE_SA", "responding"),
    (r"(?:received|sending) packet: from (?P<a>[\d.]+)\[\d+\] to (?P<b>[\d.]+)\[\d+\]", "packet"),
    (r"IKE_SA \S+\[\d+\] established between (?P<local>[\d.]+)\[[^]]*\]\.\.\.(?P<remote>[\d.]+)\[", "p1_done"),
    (r"no IKE config found for (?P<local>[\d.]+)\.\.\.(?P<remote>[\d.]+)", "peer_unknown"),
    (r"^no proposal found$", "p1_no_proposal"),
    (r"could not decrypt payloads", "p1_invalid_payload"),
    (r"establishing IKE_SA failed, peer not responding", "p1_timeout"),
    (r"received NO_PROPOSAL_CHOSEN error notify", "no_proposal_notify"),
    (r"(?:parsed|generating) QUICK_MODE request \d+ \[ HASH SA", "qm_start"),
    (r"no matching proposal found, sending NO_PROPOSAL_CHOSEN", "p2_no_proposal"),
    (r"no matching CHILD_SA config found for (?P<remote_ts>\S+) === (?P<local_ts>\S+)", "p2_no_child"),
    (r"CHILD_SA (?P<child>\S+)\{\d+\} established with SPIs \w+_i \w+_o and TS (?P<lts>\S+) === (?P<rts>\S+)", "p2_done"),
    (r"DPD check timed out, enforcing DPD action", "dpd_dead"),
    # IKEv2 has no DPD timeout: a liveness check is an empty INFORMATIONAL, and a peer that never
    # answers it is dead when charon gives up retransmitting it.
    (r"generating INFORMATIONAL request \d+ \[ \]$", "v2_probe"),
    (r"generating \S+ request \d+ ", "v2_request"),
    (r"giving up after \d+ retransmits", "gave_up"),
    (r"proxy IDs do not match the configured ones: received local=(?P<lts>\S+) remote=(?P<rts>\S+), "
     r"configured local=\S+ remote=\S+, peer (?P<remote>[\d.]+)", "kmd_proxy"),
]
_COMPILED = [(re.compile(p), h) for p, h in _PATTERNS]


def parse(text: str) -> list[IkeEvent]:
    """The note-level events in a charon log or a kmd log (whichever the lines are), in order."""
    if not any(LINE.match(raw) for raw in text.splitlines()):
        return parse_kmd(text)
    return parse_charon(text)


def parse_charon(text: str) -> list[IkeEvent]:
    """The note-level events in a charon log, in order."""
    sas: dict[str, _Sa] = {}
    events: list[IkeEvent] = []
    last_p1_fail: dict[str, str] = {}  # remote -> error: a retransmitted failure is logged once

    for raw in text.splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        msg, key = m["msg"], m["sa"]
        sa = sas.setdefault(key, _Sa()) if key else _Sa()
        if m["name"]:
            sa.name = m["name"]
        if key:
            sa.lines.append(raw)
        for rx, handler in _COMPILED:
            hit = rx.search(msg)
            if not hit:
                continue

            def emit(kind: str, role: str, local=None, remote=None, **kw) -> None:
                events.append(IkeEvent(m["ts"], kind, role, local or sa.local, remote or sa.remote,
                                       vpn=sa.name, evidence=tuple(sa.lines[-6:] if key else [raw]), **kw))

            if handler == "initiating":
                sa.role, sa.remote = "initiator", hit["remote"]
            elif handler == "responding":
                sa.role, sa.remote = "responder", hit["remote"]
            elif handler == "packet":
                a, b = hit["a"], hit["b"]
                received = msg.startswith("received")
                sa.remote, sa.local = (a, b) if received else (b, a)
            elif handler == "p1_done":
                sa.established, sa.local, sa.remote = True, hit["local"], hit["remote"]
                last_p1_fail.pop(sa.remote, None)
                emit("p1-done", sa.role)
            elif handler == "peer_unknown":
                if last_p1_fail.get(hit["remote"]) != "peer-unknown":
                    emit("peer-unknown", "responder", hit["local"], hit["remote"], error=NO_PROPOSAL)
                last_p1_fail[hit["remote"]] = "peer-unknown"
            elif handler in ("p1_no_proposal", "p1_invalid_payload", "p1_timeout"):
                error = {"p1_no_proposal": NO_PROPOSAL, "p1_invalid_payload": INVALID_PAYLOAD,
                         "p1_timeout": TIMED_OUT}[handler]
                if last_p1_fail.get(sa.remote or "") != error:
                    emit("p1-failed", sa.role, error=error)
                last_p1_fail[sa.remote or ""] = error
            elif handler == "no_proposal_notify":
                if sa.established:
                    emit("p2-failed", "initiator", error=NO_PROPOSAL)
                else:
                    emit("p1-failed", "initiator", error=NO_PROPOSAL)
            elif handler == "qm_start":
                sa.qm_role = "responder" if msg.startswith("parsed") else "initiator"
            elif handler == "p2_no_proposal":
                emit("p2-failed", "responder", error=NO_PROPOSAL)
            elif handler == "p2_no_child":
                emit("proxy-id-mismatch", "responder", error=NO_PROPOSAL,
                     p2_local=hit["local_ts"], p2_remote=hit["remote_ts"])
            elif handler == "p2_done":
                emit("p2-done", sa.qm_role, p2_local=hit["lts"], p2_remote=hit["rts"])
            elif handler == "dpd_dead":
                emit("vpn-down", "", error=DPD_DEAD)
            elif handler in ("v2_probe", "v2_request"):
                sa.probing = handler == "v2_probe"
            elif handler == "gave_up":
                if sa.established and sa.probing:
                    emit("vpn-down", "", error=DPD_DEAD)
            elif handler == "kmd_proxy":
                # kmd never completes such a phase 2: drop strongSwan's "established" for it.
                done = next((i for i in range(len(events) - 1, -1, -1) if events[i].kind == "p2-done"
                             and events[i].vpn == sa.name and events[i].p2_local == hit["lts"]
                             and events[i].p2_remote == hit["rts"]), None)
                if done is not None:
                    del events[done]
                emit("proxy-id-mismatch", "responder", remote=hit["remote"], error=NO_PROPOSAL,
                     p2_local=hit["lts"], p2_remote=hit["rts"])
            break
    return events


def _ip(addr: str | None, port: str = "udp:500") -> str:
    return f"ipv4({port},[0..3]={addr})" if addr else "unknown(any:0,[0..0]=)"


def _subnet(ts: str | None) -> str:
    return f"ipv4_subnet(any:0,[0..7]={ts})"


def kmd_lines(event: IkeEvent) -> list[str]:
    """One event as kmd writes it (the note's "Review Kmd Log" excerpts)."""
    t, role, e = event.time, event.role, event
    peers = f"{e.local}:500 ({role.capitalize()}) <-> {e.remote}:500"
    if e.kind == "p1-done":
        return [f"{t} Phase-1 [{role}] done for local={_ip(e.local)} remote={_ip(e.remote)}"]
    if e.kind == "p1-failed":
        return [f"{t} Phase-1 [{role}] failed with error({e.error}) for local={_ip(None)} "
                f"remote={_ip(e.remote, 'any:0')}", f"{t} {peers} IP; Error = {e.error}"]
    if e.kind == "peer-unknown":
        return [f"{t} Unable to find phase-1 policy as remote peer:{e.remote} is not recognized.",
                f"{t} KMD_PM_P1_POLICY_LOOKUP_FAILURE: Policy lookup for Phase-1 [responder] failed for "
                f"p1_local={_ip(e.local, 'any:0')} p1_remote={_ip(e.remote, 'any:0')}",
                f"{t} {peers} IP; Error = {NO_PROPOSAL} (14)"]
    if e.kind == "p2-done":
        return [f"{t} Phase-2 [{role}] done for p1_local={_ip(e.local)} p1_remote={_ip(e.remote)} "
                f"p2_local={_subnet(e.p2_local)} p2_remote={_subnet(e.p2_remote)}"]
    if e.kind == "p2-failed":
        return [f"{t} {peers} QM; Error = {e.error} (14)"]
    if e.kind in ("vpn-up", "vpn-down"):
        state = e.kind.split("-")[1]
        return [f"{t} KMD_VPN_{state.upper()}_ALARM_USER: VPN {e.vpn} from {e.remote} is {state}. "
                f"Local-ip: {e.local}, vpn name: {e.vpn}" + (f", Reason: {e.error}" if e.error else "")]
    if e.kind == "proxy-id-mismatch":
        return [f"{t} Failed to match the peer proxy ids p2_remote={_subnet(e.p2_remote)} "
                f"p2_local={_subnet(e.p2_local)} for the remote peer:{_ip(e.remote)}",
                f"{t} KMD_PM_P2_POLICY_LOOKUP_FAILURE: Policy lookup for Phase-2 [responder] failed for "
                f"p1_local={_ip(e.local)} p1_remote={_ip(e.remote)} p2_local={_subnet(e.p2_local)} "
                f"p2_remote={_subnet(e.p2_remote)}",
                f"{t} {peers} QM; Error = {NO_PROPOSAL} (14)"]
    raise ValueError(f"unknown IKE event kind {e.kind}")


def kmd(text: str) -> str:
    """`show log kmd` for a node, from its charon log."""
    return "\n".join(line for ev in parse(text) for line in kmd_lines(ev))


# ---- kmd's own log -----------------------------------------------------------------------------
# `Aug  3 10:18:44  srx1 kmd[14162]: MESSAGE` (a device's syslog) or `Nov 27 08:30:52 MESSAGE` (kmd()).
KMD_LINE = re.compile(r"^(?P<ts>\w{3} [ \d]\d \d\d:\d\d:\d\d)\s+(?:\S+ kmd\[\d+\]: )?(?P<msg>.*)$")
_ADDR = r"(?:ipv4\([^,]*,\[0\.\.\d\]=(?P<{0}>[^)]*)\)|unknown\(any:0,\[0\.\.0\]=\))"
_TS = r"ipv4_subnet\(any:0,\[0\.\.7\]=(?P<{0}>[^)]*)\)"
_PEERS = r"(?P<local>\S+):500 \((?P<role>\w+)\) <-> (?P<remote>\S+):500"
_KMD_PATTERNS = [  # (regex, kind): first match wins
    (rf"^Phase-1 \[(?P<role>\w*)\] done for local={_ADDR.format('local')} remote={_ADDR.format('remote')}$", "p1-done"),
    (rf"^Phase-1 \[(?P<role>\w*)\] failed with error\((?P<error>[^)]*)\) for local={_ADDR.format('local')} "
     rf"remote={_ADDR.format('remote')}$", "p1-failed"),
    (r"^Unable to find phase-1 policy as remote peer:(?P<remote>\S+) is not recognized\.$", "peer-unknown"),
    (rf"^Phase-2 \[(?P<role>\w*)\] done for p1_local={_ADDR.format('local')} p1_remote={_ADDR.format('remote')} "
     rf"p2_local={_TS.format('p2_local')} p2_remote={_TS.format('p2_remote')}$", "p2-done"),
    (rf"^Failed to match the peer proxy ids p2_remote={_TS.format('p2_remote')} p2_local={_TS.format('p2_local')} "
     rf"for the remote peer:{_ADDR.format('remote')}$", "proxy-id-mismatch"),
    (rf"^KMD_PM_P[12]_POLICY_LOOKUP_FAILURE: Policy lookup for Phase-[12] \[\w+\] failed for "
     rf"p1_local={_ADDR.format('local')} p1_remote={_ADDR.format('remote')}", "lookup-failure"),
    (rf"^{_PEERS} (?P<phase>IP|QM); Error = (?P<error>.+?)(?: \(\d+\))?$", "error"),
    # what current releases log
    (r"^KMD_PM_SA_ESTABLISHED: Local gateway: (?P<local>[^,]+), Remote gateway: (?P<remote>[^,]+), "
     rf"Local ID: {_TS.format('p2_local')}, Remote ID: {_TS.format('p2_remote')}, Direction: inbound,", "p2-done"),
    (r"^KMD_VPN_(?:UP|DOWN)_ALARM_USER: VPN (?P<vpn>\S+) from (?P<remote>\S+) is (?P<state>up|down)\. "
     r"Local-ip: (?P<local>[^,]+),.*?(?:, Reason: (?P<error>.*))?$", "vpn"),
    (r"^IKE negotiation successfully completed\. IKE Version: \d+, VPN: (?P<vpn>\S+) Gateway: \S+, "
     r"Local: (?P<local>[\d.]+)/\d+, Remote: (?P<remote>[\d.]+)/\d+, .*Role: (?P<role>\w+)$", "p1-done"),
]
_KMD_COMPILED = [(re.compile(p), k) for p, k in _KMD_PATTERNS]
_AWAITING = {"p1-failed", "peer-unknown", "proxy-id-mismatch"}  # kmd writes their error line after them


def _group(m: re.Match, name: str) -> str | None:
    value = m.groupdict().get(name)
    return None if value in (None, "", "None") else value


def parse_kmd(text: str) -> list[IkeEvent]:
    """The events in kmd's own lines. An event kmd writes over several lines (a policy lookup
    failure, then the error with the peers) is one event; lines kmd writes about anything else
    (config downloads, the outbound half of an SA pair) are read past."""
    events: list[IkeEvent] = []
    pending: IkeEvent | None = None  # the last event whose follow-up lines may come
    for raw in text.splitlines():
        line = KMD_LINE.match(raw)
        hit = next(((m, kind) for rx, kind in _KMD_COMPILED if (m := rx.match(line["msg"]))), None) if line else None
        if hit is None:
            continue
        m, kind = hit
        ts = line["ts"]
        same = pending is not None and pending.time == ts and pending.remote == _group(m, "remote")
        if kind in ("lookup-failure", "error") and same:
            events[-1] = pending = replace(pending, local=pending.local or _group(m, "local"),
                                           evidence=pending.evidence + (raw,))
            if kind == "error":
                pending = None
            continue
        if kind == "lookup-failure":
            continue
        if kind == "error":
            kind = "p2-failed" if m["phase"] == "QM" else "p1-failed"
        if kind == "vpn":
            kind = f"vpn-{m['state']}"
        error = _group(m, "error") or (NO_PROPOSAL if kind in ("peer-unknown", "proxy-id-mismatch") else None)
        role = (m.groupdict().get("role") or ("responder" if kind in ("peer-unknown", "proxy-id-mismatch") else "")).lower()
        event = IkeEvent(ts, kind, role, _group(m, "local"), _group(m, "remote"), error=error,
                         p2_local=_group(m, "p2_local"), p2_remote=_group(m, "p2_remote"), vpn=_group(m, "vpn"),
                         evidence=(raw,))
        events.append(event)
        pending = event if kind in _AWAITING else None
    return events
