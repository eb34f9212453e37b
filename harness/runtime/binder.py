"""The binder: keeps a hub's XFRM policies equal to what its NHTB table and routes call for.

One process per hub, in the hub's network namespace, started by `up` beside charon. It wakes on
a route change in the namespace (rtnetlink), on an SA coming up or going down (vici events),
on SIGHUP (the spec file changed) and every few seconds regardless; then it computes the wanted
policies and applies only the difference (update what is missing or different, delete what is
extra), so re-syncs are idempotent. It writes the NHTB table as JSON for `show`. Like kmd, it
refuses a phase 2 whose proxy IDs differ from the configured ones (strongSwan would narrow).

    python -m harness.runtime.binder --ns NS --spec SPEC.json --vici SOCKET --table NHTB.json
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import time
from dataclasses import asdict
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import vici
from pyroute2 import IPRoute
from pyroute2.netlink import NETLINK_ROUTE
from pyroute2.netlink.rtnl import RTMGRP_IPV4_ROUTE

from ..files import write_file
from ..render.binding import desired_policies, nhtb_table
from . import nsexec
from .charon import LOG_IN_RUN, child_installed, connect, plain
from .xfrm import Policy, XfrmSocket

RESYNC = 2.0  # seconds between syncs when nothing happens


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} binder: {message}", flush=True)


# The mark the harness puts on IKE log lines it writes itself (the kmd view translates them).
PROXY_ID_MISMATCH = "proxy IDs do not match the configured ones:"


def kmd_log(path: Path, message: str) -> None:
    """Append a line to the node's IKE log in charon's own format, tagged [KMD]."""
    with open(path, "a") as f:
        f.write(f"{time.strftime('%b %e %T')} 00[KMD] {message}\n")


def vpns_up(session: vici.Session) -> set[str]:
    """Connections with an installed CHILD SA."""
    return {name for sa in session.list_sas() for name, ike in plain(sa).items() if child_installed(ike)}


def reconcile(sock: XfrmSocket, specs: list[dict], up: set[str], routes, log=lambda message: None) -> tuple[list[dict], dict]:
    """Make the kernel's policies for each spec's if_id equal to what its NHTB table and routes call
    for, touching only what differs. `routes(ifname)` gives [(prefix, next hop)] via that unit.
    Returns the NHTB table (JSON-able) and the counts of policies added and removed."""
    table, changes = [], {"added": 0, "removed": 0}
    current = sock.policies()
    for spec in specs:
        entries = nhtb_table(spec, up)
        table += [dict(asdict(e), next_hop=str(e.next_hop)) for e in entries]
        want = {Policy(**asdict(p)) for p in desired_policies(spec, entries, routes(spec["ifname"]))}
        have = {p for p in current if p.if_id == spec["if_id"]}
        want_keys = {p.key for p in want}
        for p in have - want:
            if p.key not in want_keys:  # a changed policy is replaced by the update below
                sock.delete_policy(p)
                changes["removed"] += 1
                log(f"removed {p.dir} {p.src} -> {p.dst} reqid {p.reqid}")
        for p in want - have:
            sock.update_policy(p)
            changes["added"] += 1
            log(f"bound {p.dir} {p.src} -> {p.dst} to reqid {p.reqid} ({p.tmpl_src} -> {p.tmpl_dst})")
    return table, changes


def _connect_when_ready(vici_path: str, timeout: float = 120) -> vici.Session:
    """The binder starts while charon does (its imports take seconds under emulation): wait for
    the vici socket rather than fail."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect(vici_path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Binder:
    def __init__(self, ns: str, spec_path: Path, vici_path: str, table_path: Path):
        self.ns, self.spec_path, self.vici_path, self.table_path = ns, spec_path, vici_path, table_path
        self.log_path = Path(vici_path).parent / LOG_IN_RUN
        self.wake = threading.Event()
        self.load_spec()
        # Every socket below is opened inside the hub's namespace (never making it: racing `down`).
        with nsexec.inside(ns):
            self.ipr = IPRoute()
            # A plain rtnetlink socket on the IPv4 route group: each datagram is a wake-up (pyroute2
            # 0.9's asyncio-based get() delivers no events when called from a thread).
            self.events = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            self.events.bind((0, RTMGRP_IPV4_ROUTE))
            self.xfrm = XfrmSocket()
        self.session = _connect_when_ready(vici_path)
        self.syncs = 0

    def load_spec(self) -> None:
        self.specs = json.loads(self.spec_path.read_text())

    def watch_routes(self) -> None:
        while True:
            self.events.recv(65536)  # any IPv4 route change
            self.wake.set()

    def watch_sas(self) -> None:
        while True:
            try:
                s = connect(self.vici_path)
                for _ in s.listen(["child-updown", "child-rekey", "ike-updown"]):
                    self.wake.set()
            except Exception:
                time.sleep(1)  # charon restarting: the periodic sync covers the gap

    def routes(self, ifname: str) -> list[tuple[IPv4Network, IPv4Address]]:
        idx = self.ipr.link_lookup(ifname=ifname)
        if not idx:
            return []
        out = []
        for r in self.ipr.get_routes(family=socket.AF_INET, table=254):
            if r.get_attr("RTA_OIF") == idx[0] and r.get_attr("RTA_GATEWAY"):
                dst = r.get_attr("RTA_DST") or "0.0.0.0"
                out.append((IPv4Network(f"{dst}/{r['dst_len']}"), IPv4Address(r.get_attr("RTA_GATEWAY"))))
        return out

    def enforce_proxy_ids(self) -> None:
        """Junos accepts a phase 2 only for the proxy IDs it is configured with; strongSwan's
        responder narrows to any subset. Delete a CHILD SA whose traffic selectors differ and
        say so in the node's IKE log in kmd's words."""
        want = {name: v.get("proxy_id") for spec in self.specs for name, v in spec["vpns"].items()}
        for sa in self.session.list_sas():
            for name, ike in plain(sa).items():
                for child in (ike.get("child-sas") or {}).values():
                    pid = want.get(child.get("name"))
                    if not pid or child.get("state") != "INSTALLED":
                        continue
                    seen = [",".join(child.get("local-ts") or []), ",".join(child.get("remote-ts") or [])]
                    if seen == pid:
                        continue
                    # A session of its own: a streamed command must not share the sync's session.
                    for _ in connect(self.vici_path).terminate({"child-id": child["uniqueid"]}):
                        pass
                    kmd_log(self.log_path, f"<{name}|{ike.get('uniqueid')}> {PROXY_ID_MISMATCH} "
                            f"received local={seen[0]} remote={seen[1]}, configured local={pid[0]} remote={pid[1]}, "
                            f"peer {ike.get('remote-host')}: CHILD_SA deleted")
                    log(f"{name}: proxy IDs {seen} differ from {pid}: CHILD SA deleted")

    def sync(self) -> dict:
        try:
            self.enforce_proxy_ids()
        except Exception as e:  # noqa: BLE001 - enforcement must not stop the binding
            log(f"proxy-id check failed: {e}")
        table, changes = reconcile(self.xfrm, self.specs, vpns_up(self.session), self.routes, log)
        self.syncs += 1
        write_file(self.table_path, json.dumps({"entries": table, "syncs": self.syncs, "time": time.time()}, indent=2))
        return changes

    def run(self) -> None:
        signal.signal(signal.SIGHUP, lambda *_: (self.load_spec(), self.wake.set()))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        threading.Thread(target=self.watch_routes, daemon=True).start()
        threading.Thread(target=self.watch_sas, daemon=True).start()
        while True:
            self.wake.clear()
            try:
                self.sync()
            except (OSError, vici.exception.SessionException) as e:
                log(f"sync failed: {e}")
                try:
                    self.session = connect(self.vici_path)
                except OSError:
                    pass
            self.wake.wait(RESYNC)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", required=True)
    ap.add_argument("--spec", required=True, type=Path)
    ap.add_argument("--vici", required=True)
    ap.add_argument("--table", required=True, type=Path)
    a = ap.parse_args()
    Binder(a.ns, a.spec, a.vici, a.table).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
