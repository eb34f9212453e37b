"""Rehearse a change: the lab as it is today, a snapshot, the change applied in place (as a commit
on the devices would be: no restart), the new VPNs up, the verification suite on every site, and
the blast radius on everything that was there before: SAs re-negotiated (cookies and SPIs),
routes that changed, pings lost while the change went in, reachability lost.

The snapshot and comparison are plain functions over drivers; `rehearse` drives a runtime.
"""
from __future__ import annotations

import html
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..drivers.base import NodeDriver
from ..model.change import CHANGE_FILE
from ..junos.nhtb import rows as nhtb_rows
from ..model.lab import Lab, load_lab
from ..model.ledger import not_emulated
from ..model.topology import lan_host_pairs
from ..progress import Progress
from ..render.diff import diff
from . import parallel
from .checks import CheckResult
from .diagnose import Diagnosis, diagnose
from .intent import INCONCLUSIVE, MATCHED, Intent, Judgement, derived_intent, differences, judge
from .suite import verify
from .traffic import hold_during, ping_during

CHECK_TIMEOUT = 8.0
SNAPSHOT_TCP_PORT = 5002  # a snapshot's first TCP port (parallel.pair_port)
INTENT_FILE = "intent.yml"  # in a change folder: what the change is meant to do
# A difference's kind (its first word, up to the dash) -> what it concerns, in report order.
BLAST_AREAS = {"ike": "IKE and IPsec SAs", "ipsec": "IKE and IPsec SAs", "nhtb": "NHTB table", "route": "routes",
               "reach": "reachability (ICMP, TCP)", "pings": "pings lost during the change",
               "tcp": "TCP held across the change"}


@dataclass
class Snapshot:
    ike: dict[str, dict[str, str]]  # site -> VPN -> "initiator cookie/responder cookie"
    ipsec: dict[str, dict[str, str]]  # site -> VPN -> "inbound SPI/outbound SPI"
    nhtb: dict[str, list[str]]  # site -> entries
    routes: dict[str, dict[str, str]]  # site -> LAN prefix -> "via X on Y, active"
    reach: dict[str, bool]  # "src-host -> dst-host" -> answered (ICMP)
    tcp: dict[str, bool] = field(default_factory=dict)  # "src-host -> dst-host" -> a TCP handshake completed


def watched_prefixes(*labs: Lab) -> dict[str, set[str]]:
    """site -> the prefixes whose route a snapshot reads there: every site's LAN and every static
    route any of `labs` configures (but the default route), minus the site's own LANs."""
    lans = {str(n) for lab in labs for s in lab.sites.values() for n in s.lan_networks()}
    routed = {str(r.prefix) for lab in labs for s in lab.sites.values() for r in s.routes if r.prefix.prefixlen}
    return {name: (lans | routed) - {str(n) for n in site.lan_networks()}
            for lab in labs for name, site in lab.sites.items()}


def snapshot(lab: Lab, drivers: dict[str, NodeDriver], prefixes: dict[str, set[str]] | None = None) -> Snapshot:
    """Every site read side by side, then every pair of LAN hosts probed several at a time (pair i
    on a TCP port of its own: concurrent handshakes to one host must not share a listener)."""
    prefixes = prefixes or watched_prefixes(lab)

    def site_view(site: str) -> tuple:
        d = drivers[site]
        watched = sorted(prefixes.get(site, ()))
        found = d.routes([p.split("/")[0] for p in watched])
        routes = {}
        for prefix in watched:
            r = found[prefix.split("/")[0]]
            routes[prefix] = (f"{r.prefix} via {r.next_hop or '-'} on {r.interface}, "
                              f"{'active' if r.active else 'inactive'}") if r else "no route"
        return ({s.name: f"{s.initiator_cookie}/{s.responder_cookie}" for s in d.ike_sas() if s.state == "UP"},
                {s.name: f"{s.spi_in}/{s.spi_out}" for s in d.ipsec_sas()},
                sorted(" ".join(row) for row in nhtb_rows(d.next_hop_tunnels())), routes)

    sites = list(lab.sites)
    views = dict(zip(sites, parallel.each(site_view, sites)))
    ike, ipsec, nhtb, routes = ({s: v[k] for s, v in views.items()} for k in range(4))
    pairs = lan_host_pairs(lab)

    def probe(item: tuple) -> tuple[bool, bool]:  # per protocol: policies can allow one and not the other
        i, (a, b) = item
        return (drivers[a.host].ping(b.address, count=2).received > 0,
                drivers[a.host].tcp_open(b.host, b.address, parallel.pair_port(SNAPSHOT_TCP_PORT, i)))

    answers = parallel.each(probe, list(enumerate(pairs)))
    reach = {f"{a.host} -> {b.host}": got[0] for (a, b), got in zip(pairs, answers)}
    tcp = {f"{a.host} -> {b.host}": got[1] for (a, b), got in zip(pairs, answers)}
    return Snapshot(ike, ipsec, nhtb, routes, reach, tcp)


@dataclass
class Rehearsal:
    change: str
    lab: str
    new_nodes: list[str]
    new_addresses: list[str]  # the new LAN hosts: pings to them concern the new spoke
    applied: dict
    before: Snapshot
    after: Snapshot
    pings: dict[str, tuple[int, int]]  # pair -> (lost, sent) during the change; (-1, 0): not measured
    checks: list[CheckResult]
    diagnosis: Diagnosis | None
    seconds: dict[str, float]
    intent: Intent = field(default_factory=Intent)
    judgement: Judgement = field(default_factory=lambda: Judgement([], [], []))
    held: dict[str, dict] = field(default_factory=dict)  # TCP connections held across the change
    not_emulated: list[str] = field(default_factory=list)  # file:line: statement, after the change
    touched: list[str] = field(default_factory=list)  # of those, the ones the change added
    before_failed: list[str] = field(default_factory=list)  # checks the lab failed before the change

    @property
    def new_spoke_ok(self) -> bool:
        mine = [c for c in self.checks if self._concerns_new(c)]
        return bool(mine) and all(c.ok for c in mine)

    def _concerns_new(self, c: CheckResult) -> bool:
        return c.node in self.new_nodes or any(a in c.step.split() for a in self.new_addresses)

    @property
    def pings_lost(self) -> tuple[int, int]:
        """(lost, sent) over every pair that was measured."""
        measured = [v for v in self.pings.values() if v[0] >= 0]
        return sum(v[0] for v in measured), sum(v[1] for v in measured)

    def blast_radius(self) -> dict[str, list[tuple[str, bool]]]:
        """Every difference by what it concerns, each with whether the intent declares it."""
        unexpected = set(self.judgement.unexpected)
        out: dict[str, list[tuple[str, bool]]] = {area: [] for area in BLAST_AREAS.values()}
        for d in self.judgement.differences:
            out[BLAST_AREAS[d.split("-", 1)[0]]].append((d, d not in unexpected))
        return out

    @property
    def verdict(self) -> str:
        if self.before_failed:  # a change to a network that was already broken cannot be judged
            return INCONCLUSIVE
        unmeasured = [d for d in self.judgement.differences if d.split(" ", 1)[0].endswith("-unmeasured")]
        return self.judgement.verdict(all(c.ok for c in self.checks), unmeasured + self.touched)

    @property
    def ok(self) -> bool:
        """Every check passed and the change did what its intent says, nothing else."""
        return self.verdict == MATCHED

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"ok": self.ok, "verdict": self.verdict}, indent=2, default=str)


def read_change(folder: Path) -> tuple[Path, Path, dict]:
    """(changed topology, base topology, change.json) of a change folder."""
    meta_path = folder / CHANGE_FILE
    if not meta_path.exists():
        raise FileNotFoundError(f"{folder}: no {CHANGE_FILE} (make one with `nhtb-lab spoke add`, `spoke remove`, "
                                "`change` or `fault apply`)")
    meta = json.loads(meta_path.read_text())
    topo = next((p for p in sorted(folder.glob("*.clab.yml"))), None)
    if topo is None:
        raise FileNotFoundError(f"{folder}: no *.clab.yml topology in it")
    return topo, Path(meta["base"]), meta


def rehearse(folder: Path, runtime, for_lab: Callable[[str], dict[str, NodeDriver]], name: str,
             progress: Progress, watch_seconds: float = 30.0, intent: Intent | None = None) -> Rehearsal:
    """A change folder (`spoke add`, `fault apply`): its base topology before, its own after."""
    topo, base, meta = read_change(folder)
    return rehearse_change(Path(base), topo, runtime, for_lab, name, progress, watch_seconds, intent,
                           meta.get("title", str(folder)))


def rehearse_change(before: Path, after: Path, runtime, for_lab: Callable[[str], dict[str, NodeDriver]], name: str,
                    progress: Progress, watch_seconds: float = 30.0, intent: Intent | None = None,
                    title: str | None = None) -> Rehearsal:
    """Bring up the lab as `before` describes it, as `name`; apply `after` in place while every pair
    of LAN hosts pings and holds a TCP connection; verify; and judge every difference against the
    intent (derived from the configs' difference when none is given). The caller removes the lab."""
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    progress("rehearse", f"bringing up the lab as it is before the change ({before})")
    runtime.up(str(before), name=name, progress=progress)
    seconds["up"] = round(time.monotonic() - t0, 1)
    old, new = load_lab(before, name=name), load_lab(after, name=name)
    change = diff(old, new)
    intent = intent or derived_intent(old, new, change)
    drivers = for_lab(name)
    progress("rehearse", "verification suite before the change (a lab that fails it cannot judge a change)")
    before_failed = [str(c) for c in verify(old, drivers, timeout=CHECK_TIMEOUT) if not c.ok]
    for line in before_failed:
        progress("rehearse", f"before the change: {line}")
    progress("rehearse", "snapshot: SAs, NHTB, routes, reachability (ICMP and TCP)")
    watched = watched_prefixes(old, new)  # a route the change adds or removes is read before and after
    snap_before = snapshot(old, drivers, watched)
    progress("rehearse", f"applying the change in place while every pair of LAN hosts pings and holds a TCP "
                         f"connection for {watch_seconds:g}s")
    # The pairs that outlive the change: a host it removes loses everything, as its intent says.
    staying = [(a, b) for a, b in lan_host_pairs(old) if a.host in new.hosts and b.host in new.hosts]
    pingers, lost = ping_during(drivers, staying, watch_seconds)
    holder, held = hold_during(runtime, name, staying, watch_seconds)
    time.sleep(1.0)  # some traffic before the change goes in
    t1 = time.monotonic()
    applied = runtime.apply(name, str(after), progress=progress)
    seconds["apply"] = round(time.monotonic() - t1, 1)
    for t in [*pingers, holder]:
        t.join()
    drivers = for_lab(name)
    progress("rehearse", "verification suite on every site")
    # Converged already (apply waited for the SAs and bindings): a failing step need not wait long.
    results = verify(new, drivers, timeout=CHECK_TIMEOUT)
    snap_after = snapshot(new, drivers, watched)
    judgement = judge(differences(snap_before, snap_after, lost, held), intent)
    diag = None
    if not all(r.ok for r in results):
        progress("rehearse", "something failed: diagnosing")
        diag = diagnose(new, drivers)
    seconds["total"] = round(time.monotonic() - t0, 1)
    added = applied.get("added", [])
    uncovered = not_emulated(new)
    before_texts = {line.split(": ", 1)[1] for line in not_emulated(old)}
    touched = [line for line in uncovered if line.split(": ", 1)[1] not in before_texts]
    return Rehearsal(title or str(after), name, added, [new.host_address(n) for n in added if n in new.hosts],
                     applied, snap_before, snap_after, lost, results, diag,
                     seconds, intent, judgement, held, uncovered, touched, before_failed)


# ---- HTML report ---------------------------------------------------------------------------------
def topology_svg(lab: Lab, new_nodes: list[str]) -> str:
    """Sites around the hub, a tunnel line to each spoke (the new ones highlighted)."""
    hub = lab.hub()
    spokes = [s for s in lab.sites.values() if not s.is_hub]
    w, h, r = 520, 360, 130
    cx, cy = w / 2, h / 2
    pos = {hub.name: (cx, cy)} if hub else {}
    for i, s in enumerate(spokes):
        a = 2 * math.pi * i / max(1, len(spokes)) - math.pi / 2
        pos[s.name] = (cx + r * math.cos(a), cy + r * math.sin(a))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">']
    for s in spokes:
        x, y = pos[s.name]
        color = "#d9480f" if s.name in new_nodes else "#1864ab"
        out.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.0f}" y2="{y:.0f}" stroke="{color}" stroke-width="2" '
                   f'stroke-dasharray="6 4"/>')
    for name, (x, y) in pos.items():
        site = lab.sites[name]
        fill = "#ffe8cc" if name in new_nodes else ("#d0ebff" if site.is_hub else "#e7f5ff")
        lan = next(iter(site.lan_networks()), "")
        out += [f'<rect x="{x - 70:.0f}" y="{y - 22:.0f}" width="140" height="44" rx="8" fill="{fill}" stroke="#495057"/>',
                f'<text x="{x:.0f}" y="{y - 4:.0f}" text-anchor="middle" font-weight="bold">{html.escape(name)} '
                f'({site.os})</text>',
                f'<text x="{x:.0f}" y="{y + 12:.0f}" text-anchor="middle">{lan}</text>']
    out.append("</svg>")
    return "\n".join(out)


def _matrix(reach: dict[str, bool], hosts: list[str]) -> str:
    rows = ["<table class=m><tr><th>from \\ to</th>" + "".join(f"<th>{html.escape(h)}</th>" for h in hosts) + "</tr>"]
    for a in hosts:
        cells = []
        for b in hosts:
            if a == b:
                cells.append("<td class=na>-</td>")
            elif f"{a} -> {b}" not in reach:
                cells.append("<td class=na>n/a</td>")
            else:
                ok = reach[f"{a} -> {b}"]
                cells.append(f"<td class={'ok' if ok else 'bad'}>{'reply' if ok else 'no reply'}</td>")
        rows.append(f"<tr><th>{html.escape(a)}</th>{''.join(cells)}</tr>")
    return "\n".join(rows) + "</table>"


def _judgement_html(r: Rehearsal) -> str:
    """Every difference, marked by whether the intent accounts for it; the expected ones missing."""
    j, unexpected = r.judgement, set(r.judgement.unexpected)
    rows = "".join(f"<tr class={'bad' if d in unexpected else 'ok'}><td>{html.escape(d)}</td>"
                   f"<td>{'not in the intent' if d in unexpected else 'expected or allowed'}</td></tr>"
                   for d in j.differences)
    rows += "".join(f"<tr class=bad><td>{html.escape(m)}</td><td>expected, did not happen</td></tr>" for m in j.missing)
    intent = html.escape(json.dumps(r.intent.as_dict(), indent=1))
    return (f"<p>Intent: {html.escape(r.intent.source)}</p><pre>{intent}</pre>"
            + (f"<table><tr><th>difference</th><th>judged</th></tr>{rows}</table>" if rows else "<p>no difference</p>"))


def html_report(r: Rehearsal, lab_after: Lab) -> str:
    hosts = sorted({h for pair in r.after.reach for h in pair.split(" -> ")})
    verdict = r.verdict  # never "safe": how the change compared with its intent
    checks = "".join(f"<tr class={'ok' if c.ok else 'bad'}><td>{html.escape(c.step)}</td><td>{c.node}</td>"
                     f"<td>{'ok' if c.ok else 'FAILED'}</td><td>{html.escape(c.seen)}</td></tr>" for c in r.checks)
    lost_total, sent_total = r.pings_lost
    radius = "".join(f"<h3>{html.escape(area)}</h3>" + ("<p>no difference</p>" if not items else "<ul>" + "".join(
        f"<li class={'ok' if declared else 'bad'}>{html.escape(d)}{'' if declared else ' (not in the intent)'}</li>"
        for d, declared in items) + "</ul>") for area, items in r.blast_radius().items())
    diag = ""
    if r.diagnosis and not r.diagnosis.healthy:
        d = r.diagnosis
        diag = (f"<h2>Why</h2><p><b>{html.escape(d.layer or '')}</b> on {d.node}: {html.escape(d.cause or '')}: "
                f"{html.escape(d.summary)}</p><p>{html.escape(d.advice)}</p><pre>{html.escape(chr(10).join(d.evidence))}</pre>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>rehearsal: {html.escape(r.change)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} td,th{{padding:.2em .6em;border:1px solid #ccc}}
table{{border-collapse:collapse;margin:.5em 0}} .ok{{background:#ebfbee}} .bad{{background:#ffe3e3}} .na{{color:#999}}
.verdict{{font-size:1.4em;font-weight:bold;color:{'#2b8a3e' if r.ok else '#c92a2a'}}}</style></head><body>
<h1>Rehearsal: {html.escape(r.change)}</h1>
<p class=verdict>{verdict}</p>
{'' if not r.before_failed else '<h2>The lab failed its verification before the change</h2><ul>' + ''.join(f'<li>{html.escape(x)}</li>' for x in r.before_failed) + '</ul>'}
<p>New: {', '.join(r.new_nodes) or 'no node'}; new spoke verified: {'yes' if r.new_spoke_ok else 'no'}.
Pings during the change: {lost_total} of {sent_total} lost. Differences: {len(r.judgement.differences)}, of which not in the intent: {len(r.judgement.unexpected)}.
Timings: {', '.join(f'{k} {v}s' for k, v in r.seconds.items())}.</p>
<h2>Topology after the change</h2>{topology_svg(lab_after, r.new_nodes)}
<h2>Reachability before</h2>{_matrix(r.before.reach, hosts)}
<h2>Reachability after</h2>{_matrix(r.after.reach, hosts)}
<h2>Blast radius</h2>{radius}
<h2>Against the intent</h2>{_judgement_html(r)}
<h2>Not covered: statements the stand-in does not emulate</h2>{'<p>none</p>' if not r.not_emulated else '<ul>' + ''.join(f'<li>{html.escape(x)}{" (added by the change)" if x in r.touched else ""}</li>' for x in r.not_emulated) + '</ul>'}
{diag}
<h2>Verification</h2><table><tr><th>step</th><th>node</th><th>result</th><th>seen</th></tr>{checks}</table>
</body></html>
"""
