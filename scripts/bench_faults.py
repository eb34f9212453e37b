#!/usr/bin/env python3
"""Benchmark of the runtime faults (prints figures, asserts nothing): each fault of `nhtb-lab
fault inject` on a running lab, one after the other, with pings from the hub's LAN host to a
spoke's all along. For each it prints:

- noticed: seconds from the fault until the hub's NHTB entry for the spoke went (DPD, or the
  supervisor clearing a restarted charon's peers), "-" if the hub never showed it gone;
- what the hub showed meanwhile: entry gone, the route to the spoke's LAN inactive, the IKE SA
  gone, and the kmd view's reason for the VPN going down;
- outage: the longest time without a ping reply (over a second), from when to when after the fault;
- flowing again: seconds from the repair until the first ping reply after that outage (the
  repair is `fault clear` for a cut link or netem, the fault itself for a killed daemon, which the
  lab's supervisor restarts by itself), "-" if there was none or it ended before the repair;
- pings lost (every 0.2 s, one ICMP echo);
- stale: after recovery, any IPsec SA a stand-in's kernel holds that its charon does not list,
  any XFRM policy that was not there before the fault or is gone, and any NHTB entry that
  differs from before.

    .venv/bin/python scripts/bench_faults.py [--topology topologies/modern.clab.yml] [--spoke boston]
        [--faults link-cut netem kill-charon:boston kill-charon:hq kill-binder kill-mgmtd] [--hold 20]

The default lab is the modern one: DPD (interval 5, threshold 3) on every gateway, tunnels
established at once. A FAULT:NODE names the node; without it the fault goes to the spoke (the hub
for kill-binder).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.drivers import for_lab  # noqa: E402
from harness.errors import LabError  # noqa: E402
from harness.junos import kmd  # noqa: E402
from harness.model.lab import load_lab  # noqa: E402
from harness.model.topology import ends  # noqa: E402
from harness.polling import wait_until  # noqa: E402
from harness.runtime import backend  # noqa: E402

DEFAULT_FAULTS = ["link-cut", "netem", "kill-charon", "kill-charon:{hub}", "kill-binder", "kill-mgmtd"]
REPLY = re.compile(r"^\[(?P<t>\d+\.\d+)\] \d+ bytes from ")
SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")


@dataclass
class Pinger:
    """One ping process on `host` for the whole fault (an ICMP echo every 0.2 s, each reply
    timestamped by ping itself), stopped with SIGINT; reply times are turned from the guest's
    clock into this host's by `offset`."""
    rt: object
    lab: str
    host: str
    address: str
    offset: float  # guest clock minus host clock
    replies: list[float] = field(default_factory=list)
    sent: int = 0
    received: int = 0

    def start(self) -> "Pinger":
        self.out = f"/tmp/bench-faults-{self.lab}-{self.host}.ping"
        r = self.rt.exec(self.lab, self.host, ["sh", "-c", f"ping -D -n -i 0.2 -W 1 {self.address} > {self.out} 2>&1 & "
                                                           "echo $!"])
        self.pid = r["stdout"].strip()
        return self

    def stop(self) -> None:
        self.rt.exec(self.lab, self.host, ["sh", "-c", f"kill -INT {self.pid}; while kill -0 {self.pid} 2>/dev/null; "
                                                       "do sleep 0.1; done"])
        out = self.rt.exec(self.lab, self.host, ["sh", "-c", f"cat {self.out}; rm -f {self.out}"])["stdout"]
        self.replies = [float(m["t"]) - self.offset for m in map(REPLY.match, out.splitlines()) if m]
        m = SUMMARY.search(out)
        self.sent, self.received = (int(m[1]), int(m[2])) if m else (0, 0)

    def longest_outage(self, since: float) -> tuple[float, float] | None:
        """(last reply before, first reply after) the longest gap of over a second between replies
        that ends after `since`; None when replies never stopped that long."""
        times = sorted(self.replies)
        gaps = [(a, b) for a, b in zip(times, times[1:]) if b > since and b - a > 1.0]
        return max(gaps, key=lambda g: g[1] - g[0], default=None)

    def replied_since(self, since: float) -> bool:
        """Whether a reply came after `since` (read from the running ping's output so far)."""
        out = self.rt.exec(self.lab, self.host, ["cat", self.out])["stdout"]
        return any(float(m["t"]) - self.offset > since for m in map(REPLY.match, out.splitlines()) if m)


def clock_offset(rt, lab: str, node: str) -> float:
    """Guest clock minus this host's, from the quickest of five reads (within half its round trip)."""
    samples = []
    for _ in range(5):
        t0 = time.time()
        guest = float(rt.exec(lab, node, ["date", "+%s.%N"])["stdout"])
        t1 = time.time()
        samples.append((t1 - t0, guest - (t0 + t1) / 2))
    return min(samples)[1]


def policies(rt, lab: str, node: str) -> set[tuple]:
    """A node's XFRM policies as the kernel holds them (priorities aside: a restart may renumber)."""
    return {tuple(v for k, v in sorted(p.items()) if k != "priority") for p in rt.xfrm_policies(lab, node)}


def stale(rt, lab: str, model, drivers, before: dict) -> list[str]:
    found = []
    for node in model.sites:
        kernel = {f"{s['spi']:08x}" for s in rt.xfrm_states(lab, node)}
        charon = {spi for sa in drivers[node].ipsec_sas() for spi in (sa.spi_in, sa.spi_out)}
        if kernel - charon:
            found.append(f"{node}: SAs its charon does not list: {sorted(kernel - charon)}")
        now = policies(rt, lab, node)
        if now != before["policies"][node]:
            found.append(f"{node}: policies {len(now - before['policies'][node])} new, "
                         f"{len(before['policies'][node] - now)} gone")
    hub = model.hub().name
    if table(drivers[hub]) != before["nhtb"]:
        found.append(f"{hub}: NHTB {sorted(table(drivers[hub]))} (before: {sorted(before['nhtb'])})")
    return found


def table(d) -> set[tuple[str, str, str]]:
    return {(e.next_hop, e.vpn, e.flag) for e in d.next_hop_tunnels()}


def run_fault(rt, lab: str, model, drivers, fault: str, node: str, spoke: str, hold: float) -> dict:
    hub = model.hub().name
    vpn = next(e.vpn.name for e in ends(model.sites[hub])
               if str(e.gateway.address) == str(model.sites[spoke].public_address()))
    hub_host, spoke_host = model.lan_host(hub), model.lan_host(spoke)
    address = model.host_address(spoke_host)
    before = {"policies": {n: policies(rt, lab, n) for n in model.sites}, "nhtb": table(drivers[hub])}
    downs_before = len([e for e in kmd.parse(drivers[hub].log(None)) if e.kind == "vpn-down" and e.vpn == vpn])
    seen = {"entry gone": None, "route inactive": None, "IKE SA gone": None}
    pinger = Pinger(rt, lab, hub_host, address, clock_offset(rt, lab, hub_host)).start()
    time.sleep(2)  # replies before the fault: an outage is a gap after them

    def look() -> bool:
        now = time.time()
        d = drivers[hub]
        for what, gone in (("entry gone", lambda: not any(e.vpn == vpn for e in d.next_hop_tunnels())),
                           ("route inactive", lambda: not ((r := d.route(address)) and r.active)),
                           ("IKE SA gone", lambda: not any(s.name == vpn and s.state == "UP" for s in d.ike_sas()))):
            try:
                if seen[what] is None and gone():
                    seen[what] = now
            except LabError:  # the hub's charon is being restarted: nothing to read this time
                pass
        return seen["entry gone"] is not None

    t_fault = time.time()
    rt.inject(lab, fault.split(":")[0], node=node)
    if fault.startswith("kill-"):
        t_repair = t_fault  # the supervisor repairs it by itself
        wait_until(look, hold, step=0.3)
    else:
        wait_until(look, hold if fault == "netem" else 60, step=0.3)
        if fault == "netem":
            time.sleep(max(0.0, hold - (time.time() - t_fault)))
        t_repair = time.time()
        rt.repair(lab)

    def recovered() -> bool:
        look()
        try:
            sas = drivers[hub].ike_sas()
            return (any(e.vpn == vpn for e in drivers[hub].next_hop_tunnels()) and pinger.replied_since(t_repair)
                    and len([s for s in sas if s.state == "UP"]) >= len(ends(model.sites[hub])))
        except LabError:
            return False

    healed = wait_until(recovered, 120, step=0.5) is not None
    time.sleep(2)
    pinger.stop()
    if not healed:
        rt.repair(lab)  # the next fault starts from a working lab
    downs = [e for e in kmd.parse(drivers[hub].log(None)) if e.kind == "vpn-down" and e.vpn == vpn][downs_before:]
    outage = pinger.longest_outage(t_fault)
    return {
        "fault": fault.split(":")[0], "node": node,
        "noticed": None if seen["entry gone"] is None else seen["entry gone"] - t_fault,
        "shown": [k for k, v in seen.items() if v is not None] + [f"kmd: {e.error}" for e in downs[-1:]],
        "outage": None if outage is None else (outage[0] - t_fault, outage[1] - t_fault),
        # From the repair (`fault clear`; for a killed daemon the fault itself: the supervisor
        # repairs it) to the first reply after the outage; None if the outage ended before it.
        "flowing": None if outage is None or outage[1] < t_repair else outage[1] - t_repair, "healed": healed,
        "lost": (pinger.sent - pinger.received, pinger.sent),
        "stale": stale(rt, lab, model, drivers, before),
        "supervisor": [line for line in rt.supervisor_log(lab).splitlines()[-6:] if node and node in line],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topology", default=str(REPO / "topologies" / "modern.clab.yml"))
    ap.add_argument("--spoke", default="boston")
    ap.add_argument("--faults", nargs="+", default=DEFAULT_FAULTS)
    ap.add_argument("--hold", type=float, default=20, help="seconds of netem, and the longest wait for a killed daemon's mark")
    ap.add_argument("--runtime", default="auto")
    args = ap.parse_args()
    name = f"faults-{os.getpid()}"
    rt = backend.choose(args.runtime, lambda phase, message: None, args.topology)
    t0 = time.monotonic()
    rt.up(args.topology, name=name)
    print(f"lab {name} up in {time.monotonic() - t0:.1f} s ({args.topology})", flush=True)
    try:
        model = load_lab(Path(args.topology), name=name)
        drivers = for_lab(name)
        hub = model.hub()
        dpd = {(e.gateway.dpd.interval, e.gateway.dpd.threshold): e.gateway.dpd for e in ends(hub) if e.gateway.dpd}.values()
        print("hub DPD: " + (", ".join(f"interval {d.interval} x threshold {d.threshold} = {d.interval * d.threshold} s"
                                       for d in dpd) or "none"))
        rows = []
        for fault in args.faults:
            fault = fault.format(hub=hub.name)
            kind, _, node = fault.partition(":")
            node = node or (hub.name if kind == "kill-binder" else None if kind == "kill-mgmtd" else args.spoke)
            r = run_fault(rt, name, model, drivers, fault, node, args.spoke, args.hold)
            rows.append(r)
            noticed = "-" if r["noticed"] is None else f"{r['noticed']:.1f} s"
            outage = ("none" if r["outage"] is None else
                      f"{r['outage'][1] - r['outage'][0]:.1f} s (+{r['outage'][0]:.1f}..+{r['outage'][1]:.1f})")
            flowing = ("NOT RECOVERED" if not r["healed"] else "-" if r["flowing"] is None
                       else f"{r['flowing']:.1f} s")
            print(f"{kind:<12} {node or '':<8} noticed {noticed:>7}  outage {outage:<22} flowing again after repair "
                  f"{flowing:>6}  "
                  f"lost {r['lost'][0]} of {r['lost'][1]}  shown: {', '.join(r['shown']) or 'nothing'}  "
                  f"stale: {'; '.join(r['stale']) or 'none'}", flush=True)
        bad = [r for r in rows if r["stale"]]
        print(f"bench_faults: {len(rows)} faults, {sum(not r['healed'] for r in rows)} not recovered, "
              f"{len(bad)} left something stale, "
              f"{sum(r['lost'][0] for r in rows)} of {sum(r['lost'][1] for r in rows)} pings lost")
    finally:
        backend.down(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
