"""nhtb-lab: the command line. Bad input prints file:line messages and exits 1, never a traceback."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import LabError
from .runtime import backend, clab
from .runtime.relay import splice
from .runtime.vm import LabVM
from .drivers import for_lab, running
from .render.nftables import TRACE_TERMS, trace_table
from .junos import ike, ipsec, kmd, nhtb, route, stats
from .verify.diagnose import TITLES, diagnose
from .verify.rehearse import html_report, read_change, rehearse
from .verify.suite import verify as verify_lab
from .files import write_file
from .model.change import change_script, write_changed_lab
from .model.faults import apply_fault, load_faults
from .model.spoke import SpokeRequest, add_spoke, grow
from .model.lab import Lab, load_lab
from .model.mgmt import DEFAULT_PASSWORD, SSH_PORT, credentials, mgmt_plan
from .model.preflight import preflight
from .render.bundle import render_node

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TOPOLOGY = "topologies/three-site.clab.yml"

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def default_topology() -> str:
    """NHTB_TOPOLOGY, else the three-site topology (from the working directory or the checkout)."""
    env = os.environ.get("NHTB_TOPOLOGY")
    if env:
        return env
    here = Path(DEFAULT_TOPOLOGY)
    return str(here if here.exists() else REPO / DEFAULT_TOPOLOGY)


def _load(args) -> Lab:
    return load_lab(args.topology, name=getattr(args, "name", None))


def cmd_check(args) -> int:
    lab = _load(args)
    for src, msg in lab.warnings:
        err.print(f"[yellow]warning[/]: {src}: {msg}")
    table = Table(title=f"lab {lab.name} ({lab.topology.file})")
    for col in ("node", "kind", "role", "config", "public address"):
        table.add_column(col)
    for node in lab.nodes:
        site = lab.sites.get(node)
        if site:
            table.add_row(node, lab.kind(node), site.role, site.file, str(site.public_address() or "-"))
        else:
            table.add_row(node, lab.kind(node), lab.hosts[node].role, "-", "-")
    out.print(table)
    findings = preflight(lab)
    if not findings:
        out.print("configs valid; pre-flight: every VPN has a matching peer (addresses, keys, proposals, PFS, proxy IDs, NHTB)")
        return 0
    for f in findings:
        err.print(f"pre-flight: {f}", soft_wrap=True)
    err.print(f"{len(findings)} pre-flight problem(s): the lab would come up, but these VPNs or routes would not work")
    return 1


def cmd_render(args) -> int:
    lab = _load(args)
    if args.node not in lab.topology.nodes:
        raise LabError(f"{lab.topology.file}: no node '{args.node}' (nodes: {', '.join(lab.nodes)})")
    files = render_node(lab, args.node, reveal=bool(args.out) or args.show_secrets)
    wanted = [f for f in files if args.what in ("all", f.name.split(".")[0])]
    if args.out:
        for f in wanted:
            path = write_file(Path(args.out) / f.name, f.text, secret=f.secret)
            out.print(f"wrote {path}" + (" (mode 0600: holds the pre-shared keys)" if f.secret else ""))
        return 0
    for f in wanted:
        if len(wanted) > 1:
            out.print(f"# ---- {f.name} ----")
        out.print(f.text, end="", markup=False)
    return 0


class ProgressPrinter:
    """Prints each phase as it starts and ends, with the time since the command began."""

    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self, phase: str, message: str) -> None:
        if message:
            err.print(f"[dim]{time.monotonic() - self.t0:6.1f}s[/] [bold]{phase}[/]: {message}", soft_wrap=True)


def node_table(state: dict, where: str) -> Table:
    table = Table(title=f"lab {state['name']} ({where}, {state['provider']})")
    for col in ("node", "kind", "role", "public address", "namespace", "charon"):
        table.add_column(col)
    for node, info in state["nodes"].items():
        ch = info.get("charon_running", info.get("charon_pid") is not None)
        charon_state = "-" if info.get("charon_pid") is None else ("running" if ch else "[red]dead[/]")
        table.add_row(node, info["kind"], info["role"], info.get("public") or "-", info["ns"], charon_state)
    return table


def _lab_name(args) -> str:
    return args.name or load_lab(args.topology).name


def cmd_up(args) -> int:
    progress = ProgressPrinter()
    topology = str(Path(args.topology).resolve())
    lab = load_lab(topology, name=args.name)  # bad input fails here, before anything is made
    for src, msg in lab.warnings:
        err.print(f"[yellow]warning[/]: {src}: {msg}")
    for f in preflight(lab):
        err.print(f"[yellow]pre-flight[/]: {f}", soft_wrap=True)
    if args.dry_run:
        return _dry_run(args, lab, Path(topology))
    rt = backend.choose(args.runtime, progress, topology)
    try:
        result = rt.up(topology, name=args.name, progress=progress)
    except BaseException:
        # The agent undoes a failed or abandoned `up` itself; wait for it, then stop the VM if it
        # only ran for this lab.
        if backend.stop_vm_if_idle(rt, wait_for=lab.name):
            err.print("lab VM stopped (no lab left in it)")
        raise
    state = result["lab"]
    out.print(node_table(state, rt.where))
    t = result["timings"]
    if result["reused"]:
        out.print(f"lab {state['name']} was already up: reused")
    else:
        up, skipped = state.get("vpns_up", []), state.get("vpns_skipped", [])
        out.print(f"lab {state['name']} is up in {t['total']:.1f}s: {len(up)} VPN(s) with IKE and CHILD SAs "
                  f"established on both ends" + (f"; not brought up (pre-flight findings): {', '.join(skipped)}"
                                                  if skipped else ""))
    return 0


def _dry_run(args, lab: Lab, topology: Path) -> int:
    """What the containerlab runtime would run for this topology, in order, without running it."""
    if args.runtime != "containerlab":
        raise LabError("--dry-run lists the containerlab runtime's plan: use it with --runtime containerlab")
    table = Table(title=f"containerlab runtime, lab {lab.name}: the plan (nothing is run)")
    for col in ("#", "step", "command", "until"):
        table.add_column(col, overflow="fold")
    for i, st in enumerate(clab.plan(lab, topology, lab.name), 1):
        until = f"prints {st.wait_for!r}, within {st.deadline:.0f}s" if st.wait_for else (
            f"within {st.deadline:.0f}s" if st.deadline else "")
        table.add_row(str(i), escape(st.what), escape(" ".join(st.command)) if st.command else "(the harness)", until)
    out.print(table)
    out.print("down: " + " ".join(clab.destroy_plan(lab, topology, lab.name)[0].command or ()))
    return 0


def cmd_down(args) -> int:
    if args.all:
        names = backend.NativeRuntime().down_all()
        client = LabVM().client()
        if client is not None and client.ping():
            names += backend.RemoteRuntime(client).down_all()
        stopped = LabVM().stop()
        out.print(f"removed labs: {', '.join(names) or 'none'}" + ("; lab VM stopped" if stopped else ""))
        return 0
    name = _lab_name(args)
    removed, stopped = backend.down(name)
    out.print(f"lab {name} removed ({len(removed)} namespaces)" + ("; no lab left in the lab VM: stopped it" if stopped else ""))
    return 0


def cmd_inspect(args) -> int:
    labs = backend.all_labs()
    if args.format == "json":
        print(json.dumps([{"where": w, **s} for w, s in labs], indent=2))
        return 0
    if not labs:
        out.print("no lab is up")
    for where, state in labs:
        out.print(node_table(state, where))
    return 0


def cmd_exec(args) -> int:
    argv = args.argv
    if "--" in argv:  # options may also come after NODE: `exec westford --name lab2 -- cmd`
        i = argv.index("--")
        extra, argv = argv[:i], argv[i + 1:]
        opts = argparse.ArgumentParser(prog="nhtb-lab exec NODE")
        opts.add_argument("--name", default=args.name)
        opts.add_argument("--timeout", type=float, default=args.timeout)
        opts.parse_args(extra, namespace=args)
    if not argv:
        raise LabError("nothing to run: nhtb-lab exec NODE -- COMMAND...")
    name = _lab_name(args)
    res = backend.find(name).exec(name, args.node, argv, timeout=args.timeout)
    sys.stdout.write(res["stdout"])
    sys.stderr.write(res["stderr"])
    return res["returncode"]


def cmd_show(args) -> int:
    name = _lab_name(args)
    if args.node is None:
        hub = load_lab(args.topology).hub()
        args.node = hub.name if hub else None
    if args.node is None:
        raise LabError("no hub in this topology: name the node with --node")
    drivers = for_lab(name)
    if args.node not in drivers:
        raise LabError(f"lab {name} has no node '{args.node}' (nodes: {', '.join(drivers)})")
    d = drivers[args.node]
    if args.what == "ike-security-associations":
        data = [s for s in d.ike_sas() if args.index is None or s.index == args.index]
        text = ike.text(data, detail=args.detail)
    elif args.what == "ipsec-security-associations":
        data = [s for s in d.ipsec_sas() if args.index is None or s.index == args.index]
        text = ipsec.text(data, detail=args.detail)
    elif args.what == "ipsec-statistics":
        if args.index is None:
            raise LabError("show ipsec-statistics needs --index N (the ID column of ipsec-security-associations)")
        data = d.ipsec_stats(args.index)
        text = stats.text(data)
    elif args.what == "next-hop-tunnels":
        data = d.next_hop_tunnels()
        text = nhtb.text(data)
    else:  # route
        if not args.address:
            raise LabError("show route needs an address: nhtb-lab show route 192.168.168.10 --node corporate")
        data = d.route_answer(args.address)
        text = route.text(data)
    if args.format == "json":
        print(json.dumps([asdict(x) for x in data] if isinstance(data, list) else asdict(data), indent=2))
    else:
        sys.stdout.write(text)
    return 0


def cmd_verify(args) -> int:
    name, drivers, model = _drivers(args)
    results = verify_lab(model, drivers)
    table = Table(title=f"lab {name}: the note's verification steps")
    for col in ("step", "node", "result", "expected", "seen"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(escape(r.step), r.node, "[green]ok[/]" if r.ok else "[red]FAILED[/]", escape(r.expected), escape(r.seen))
    out.print(table)
    failed = [r for r in results if not r.ok]
    if failed:
        err.print(f"{len(failed)} of {len(results)} checks failed")
        return 1
    out.print(f"lab {name} verified: {len(results)} checks passed")
    return 0


def _drivers(args):
    name = _lab_name(args)
    drivers = for_lab(name)
    return name, drivers, next(iter(drivers.values())).model


def _node(model: Lab, node: str | None, sites_only: bool = True) -> str:
    node = node or (model.hub().name if model.hub() else next(iter(model.sites)))
    if node not in (model.sites if sites_only else model.nodes):
        raise LabError(f"lab {model.name} has no {'site' if sites_only else 'node'} '{node}' "
                       f"({', '.join(model.sites if sites_only else model.nodes)})")
    return node


def cmd_diagnose(args) -> int:
    name, drivers, model = _drivers(args)
    if args.node:
        _node(model, args.node)
    d = diagnose(model, drivers, args.node)
    if args.format == "json":
        out.print_json(json.dumps(asdict(d)))
        return 0 if d.healthy else 1
    table = Table(title=f"lab {name}: bottom-up, as the note troubleshoots" + (f" (around {args.node})" if args.node else ""))
    for col in ("layer", "result", "what"):
        table.add_column(col, overflow="fold")
    for st in d.steps:
        table.add_row(TITLES.get(st.layer, st.layer), "[green]ok[/]" if st.ok else "[red]FAILED[/]", escape(st.what))
    out.print(table)
    if d.healthy:
        out.print(f"lab {name}: healthy, every layer checked out")
        return 0
    out.print(f"[red]first failing layer[/]: {TITLES.get(d.layer, d.layer)} on {d.node}"
              + (f" (role: {d.role})" if d.role else ""))
    out.print(f"[bold]cause[/]: {d.cause}: {escape(d.summary)}")
    out.print(f"[bold]fix[/]: {escape(d.advice)}")
    if d.evidence:
        out.print("[bold]evidence[/]:")
        for line in d.evidence:
            out.print("  " + escape(line), soft_wrap=True)
    return 1


def cmd_log(args) -> int:
    name, drivers, model = _drivers(args)
    node = _node(model, args.node)
    text = drivers[node].log(args.lines)
    out.print(escape(kmd.kmd(text) if args.what == "kmd" else text), soft_wrap=True)
    return 0


def _filters(specs: list[str]) -> list[dict[str, str]]:
    out_ = []
    for spec in specs:
        f = {}
        for term in spec.split(","):
            key, sep, value = term.partition("=")
            if not sep or not value:
                raise LabError(f"--filter {spec}: terms are name=value, comma-separated ({', '.join(TRACE_TERMS)})")
            f[key.strip()] = value.strip()
        out_.append(f)
    return out_


def cmd_trace(args) -> int:
    name, drivers, model = _drivers(args)
    node = _node(model, args.node)
    filters = _filters(args.filter)
    if not filters:
        raise LabError("trace flow needs at least one --filter (as Junos needs a packet-filter)")
    ping_from = ping_to = None
    if args.ping:
        ping_from, _, ping_to = args.ping.partition(":")
        _node(model, ping_from, sites_only=False)
    trace_table(model.sites.get(node), filters)  # bad terms fail here, before anything is loaded
    packets = drivers[node].flow_trace(filters, args.duration, ping_from, ping_to)
    for p in packets:
        out.print(escape(p.summary()), soft_wrap=True)
        if args.detail:
            for step in p.steps:
                out.print("    " + escape(step), soft_wrap=True)
    out.print(f"{len(packets)} packet(s) matched on {node} in {args.duration:g}s")
    return 0


def cmd_spoke(args) -> int:
    if args.action == "scale":
        if not args.spokes or args.spokes < 1:
            raise LabError("spoke scale needs --spokes N (the total number of spokes)")
        out_dir = Path(args.out or f"scale-{args.spokes}")
        topo = grow(args.topology, args.spokes, out_dir, args.like)
        lab = load_lab(topo)
        out.print(f"{topo}: {len(lab.sites) - 1} spokes on {lab.hub().name}'s "
                  f"{len([u for u in lab.hub().tunnel_units if u.multipoint])} multipoint st0 unit; "
                  f"pre-flight findings: {len(preflight(lab))}")
        return 0
    for opt in ("spoke_name", "public", "lan", "tunnel_ip"):
        if not getattr(args, opt):
            raise LabError(f"spoke add needs --{opt.replace('spoke_', '').replace('_', '-')}")
    lab = _load(args)
    try:
        req = SpokeRequest(args.spoke_name, IPv4Interface(args.public), IPv4Network(args.lan),
                           IPv4Address(args.tunnel_ip), args.like or _default_like(lab), args.nhtb or "")
    except ValueError as e:
        raise LabError(f"spoke add: {e}") from None
    if not req.nhtb:  # a Junos peer announces its next hop; anything else needs a static entry
        req = replace(req, nhtb="auto" if lab.sites[req.like].os == "junos" else "static")
    change = add_spoke(lab, req)
    out_dir = Path(args.out or f"spoke-{req.name}")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise LabError(f"{out_dir}: exists and is not empty (choose another --out)")
    try:
        topo = write_changed_lab(args.topology, change, out_dir)
        new = load_lab(topo)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)  # bad input leaves nothing behind
        raise
    script = write_file(out_dir / "change.set", change_script(change))
    findings = preflight(new)
    for f in findings:
        err.print(f"[yellow]pre-flight[/]: {f}", soft_wrap=True)
    out.print(escape(change_script(change)), soft_wrap=True)
    out.print(f"wrote {out_dir}/: {topo.name}, lab/ ({', '.join(sorted(p.name for p in (out_dir / 'lab').iterdir()))}), "
              f"{script.name}; rehearse it with: nhtb-lab rehearse {out_dir}")
    if findings and not args.allow_findings:
        err.print(f"{len(findings)} pre-flight finding(s): the change would not work as written "
                  "(--allow-findings keeps it, to rehearse the mistake)")
        shutil.rmtree(out_dir, ignore_errors=True)
        return 1
    return 0


def _default_like(lab: Lab) -> str:
    return next(s.name for s in lab.sites.values() if not s.is_hub)


def cmd_rehearse(args) -> int:
    folder = Path(args.change)
    try:
        topo, base, meta = read_change(folder)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise LabError(f"rehearse: {e}") from None
    load_lab(base)  # bad input fails here, before anything is made
    new = load_lab(topo)
    for f in preflight(new):  # predictions: the rehearsal confirms or refutes them
        err.print(f"[yellow]pre-flight[/]: {f}", soft_wrap=True)
    name = args.name or f"{load_lab(base).name}-rehearsal"
    progress = ProgressPrinter()
    rt = backend.choose(args.runtime, progress)
    try:
        r = rehearse(folder, rt, for_lab, name, progress, watch_seconds=args.watch)
    finally:
        if not args.keep:
            backend.down(name)
    table = Table(title=f"rehearsal of {r.change}")
    for col in ("", "result"):
        table.add_column(col, overflow="fold")
    lost = sum(v[0] for v in r.impact.lost_pings.values() if v[0] > 0)
    sent = sum(v[1] for v in r.impact.lost_pings.values())
    failed = [c for c in r.checks if not c.ok]
    ok = lambda b: "[green]ok[/]" if b else "[red]FAILED[/]"  # noqa: E731
    table.add_row("new node(s)", ", ".join(r.new_nodes) or "-")
    table.add_row("new spoke verified", ok(r.new_spoke_ok))
    table.add_row("verification suite", f"{ok(not failed)}: {len(r.checks) - len(failed)} of {len(r.checks)} checks passed")
    table.add_row("existing SAs re-negotiated", ok(not r.impact.renegotiated) + "".join(
        f"\n{escape(x)}" for x in r.impact.renegotiated))
    table.add_row("routes or NHTB changed", ok(not r.impact.routes_changed) + "".join(
        f"\n{escape(x)}" for x in r.impact.routes_changed))
    table.add_row("pings lost during the change", f"{ok(lost == 0 and not r.impact.unmeasured)}: {lost} of {sent}"
                  + "".join(f"\nnot measured: {p}" for p in r.impact.unmeasured))
    table.add_row("reachability lost", ok(not r.impact.unreachable) + "".join(f"\n{x}" for x in r.impact.unreachable))
    table.add_row("time", ", ".join(f"{k} {v}s" for k, v in r.seconds.items()))
    out.print(table)
    for c in failed:
        out.print(f"[red]FAILED[/] {escape(str(c))}", soft_wrap=True)
    if r.diagnosis and not r.diagnosis.healthy:
        d = r.diagnosis
        out.print(f"[bold]why[/]: {TITLES.get(d.layer, d.layer)} on {d.node}: {d.cause}: {escape(d.summary)}", soft_wrap=True)
        out.print(f"[bold]fix[/]: {escape(d.advice)}", soft_wrap=True)
    report = write_file(Path(args.report or Path("build") / f"rehearsal-{name}.html"), html_report(r, new))
    write_file(report.with_suffix(".json"), r.to_json())
    out.print(f"report: {report} (and {report.with_suffix('.json').name})")
    if r.ok:
        out.print(f"rehearsal passed: {r.change} works and touched nothing else")
        return 0
    err.print("rehearsal failed: the change breaks something (see above)")
    return 1


def _forwarder(connect, port: int) -> socket.socket:
    """Listen on 127.0.0.1:port (0: any free one); each connection is relayed to `connect()`.
    Loopback only: nothing becomes reachable from other machines."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return
            try:
                far = connect()
            except Exception as e:  # noqa: BLE001 - tell the one client, keep serving
                err.print(f"forward: {e}")
                near.close()
                continue
            threading.Thread(target=splice, args=(near, far), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def cmd_ssh(args) -> int:
    name = _lab_name(args)
    rt, model = running(name)
    node = _node(model, args.node)
    user, password = credentials(model, node)
    connect = lambda: rt.mgmt_socket(name, node)  # noqa: E731
    if args.command:
        from .drivers.junos_ssh import JunosCliError, JunosSshDriver

        d = JunosSshDriver(node, model, connect, user, password)
        try:
            out.print(escape(d.cli(" ".join(args.command))), end="", soft_wrap=True)
        except JunosCliError as e:
            raise LabError(str(e)) from None
        finally:
            d.close()
        return 0
    listener = _forwarder(connect, args.forward or 0)
    port = listener.getsockname()[1]
    where = f"{node}'s management address {mgmt_plan(model).address(node)}:{SSH_PORT}"
    ssh = ["ssh", "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", f"{user}@127.0.0.1"]
    if args.forward is not None:
        out.print(f"forwarding 127.0.0.1:{port} -> {where}; log in with: {' '.join(ssh)} "
                  f"(password: the node's, {'default ' if password == DEFAULT_PASSWORD else ''}as in the topology); Ctrl-C stops")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
        finally:
            listener.close()
    err.print(f"connecting to {where} (user {user}; password {'admin@123, containerlab' + chr(39) + 's default' if password == DEFAULT_PASSWORD else 'from the topology labels'})")
    try:
        return subprocess.call(ssh)
    finally:
        listener.close()


def cmd_fault(args) -> int:
    faults = load_faults(args.faults)
    if args.action == "list":
        table = Table(title=f"faults ({args.faults})")
        for col in ("fault", "layer", "nodes", "the note says"):
            table.add_column(col, overflow="fold")
        for f in faults.values():
            table.add_row(f.name, f.layer, ", ".join(f.edits), escape(f.note))
        out.print(table)
        return 0
    if args.name not in faults:
        raise LabError(f"{args.faults}: no fault '{args.name}' (faults: {', '.join(faults)})")
    if not args.out:
        raise LabError("fault apply needs --out DIR (where the patched configs and topology go)")
    path = apply_fault(args.topology, faults[args.name], Path(args.out))
    out.print(f"wrote {path}: bring it up with  nhtb-lab -t {path} up --name {args.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nhtb-lab", description=__doc__)
    p.add_argument("-t", "--topology", default=default_topology(),
                   help="containerlab topology file (default: %(default)s; env NHTB_TOPOLOGY)")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate the topology and every config, then the pre-flight checks across sites")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("render", help="print or write what a node's stand-in is configured with")
    r.add_argument("node")
    r.add_argument("--what", choices=["all", "swanctl", "strongswan", "nftables", "plan"], default="all")
    r.add_argument("--out", help="write the files into this directory (secret files 0600) instead of printing")
    r.add_argument("--show-secrets", action="store_true", help="print pre-shared keys instead of hiding them")
    r.set_defaults(func=cmd_render)

    u = sub.add_parser("up", help="bring the lab up (natively, or in the lab VM where the kernel lacks IPsec)")
    u.add_argument("--runtime", choices=["auto", "native", "vm", "containerlab"], default=os.environ.get("NHTB_RUNTIME", "auto"))
    u.add_argument("--dry-run", action="store_true", help="with --runtime containerlab: list the commands and "
                   "readiness steps it would run, run nothing")
    u.add_argument("--name", help="lab name (default: the topology's); namespaces are <name>-<node>")
    u.set_defaults(func=cmd_up)

    d = sub.add_parser("down", help="destroy a lab (every namespace, process and file of it)")
    d.add_argument("--name", help="lab name (default: the topology's)")
    d.add_argument("--all", action="store_true", help="every lab of this project, and the lab VM")
    d.set_defaults(func=cmd_down)

    i = sub.add_parser("inspect", help="list running labs and their nodes")
    i.add_argument("--format", choices=["text", "json"], default="text")
    i.set_defaults(func=cmd_inspect)

    e = sub.add_parser("exec", help="run a command in a node's namespace: exec NODE -- CMD...")
    e.add_argument("node")
    e.add_argument("argv", nargs=argparse.REMAINDER)
    e.add_argument("--name", help="lab name (default: the topology's)")
    e.add_argument("--timeout", type=float, default=120)
    e.set_defaults(func=cmd_exec)

    f = sub.add_parser("fault", help="the note's faults as config changes: list, or apply one to a copy of the lab")
    f.add_argument("action", choices=["list", "apply"])
    f.add_argument("name", nargs="?")
    f.add_argument("--out", help="for apply: the folder for the patched lab")
    f.add_argument("--faults", default=str(REPO / "lab" / "faults.yml"))
    f.set_defaults(func=cmd_fault)

    dg = sub.add_parser("diagnose", help="troubleshoot the running lab bottom-up as the note does; stops at the first failing layer")
    dg.add_argument("--node", help="only what involves this site")
    dg.add_argument("--name", help="lab name (default: the topology's)")
    dg.add_argument("--format", choices=["text", "json"], default="text")
    dg.set_defaults(func=cmd_diagnose)

    lg = sub.add_parser("log", help="a node's IKE log: `log kmd` in kmd's words, `log charon` as charon wrote it")
    lg.add_argument("what", choices=["kmd", "charon"])
    lg.add_argument("--node", help="the site (default: the hub)")
    lg.add_argument("--name", help="lab name (default: the topology's)")
    lg.add_argument("--lines", type=int, default=2000, help="how much of charon's log to read")
    lg.set_defaults(func=cmd_log)

    tr = sub.add_parser("trace", help="`trace flow`: security flow traceoptions with packet filters")
    tr.add_argument("what", choices=["flow"])
    tr.add_argument("--node", help="the site to trace on (default: the hub)")
    tr.add_argument("--name", help="lab name (default: the topology's)")
    tr.add_argument("--filter", action="append", default=[],
                    help="a packet filter: terms (AND) as name=value,...: " + ", ".join(TRACE_TERMS)
                    + "; repeat for more filters (OR); reply traffic is matched too")
    tr.add_argument("--duration", type=float, default=5.0, help="seconds to trace")
    tr.add_argument("--ping", metavar="NODE:ADDRESS", help="meanwhile, ping ADDRESS from lab node NODE")
    tr.add_argument("--detail", action="store_true", help="every chain and rule each packet went through")
    tr.set_defaults(func=cmd_trace)

    sp = sub.add_parser("spoke", help="`spoke add`: generate a new spoke like an existing one, and the change on the "
                        "others; `spoke scale`: a lab with N spokes on the one hub st0")
    sp.add_argument("action", choices=["add", "scale"], help="add: one spoke; scale: a lab grown to --spokes N")
    sp.add_argument("--name", dest="spoke_name", help="the new spoke's node name")
    sp.add_argument("--public", metavar="A.B.C.D/30", help="its Internet address and prefix")
    sp.add_argument("--lan", metavar="P/LEN", help="its LAN")
    sp.add_argument("--tunnel-ip", metavar="T", help="its st0/tunnel.1 address, in the hub's tunnel subnet")
    sp.add_argument("--spokes", type=int, help="for scale: how many spokes in total")
    sp.add_argument("--like", help="the spoke to duplicate (default: the first spoke)")
    sp.add_argument("--nhtb", choices=["static", "auto"], help="default: auto for a Junos spoke, static otherwise")
    sp.add_argument("--out", help="the folder to write (default: spoke-NAME)")
    sp.add_argument("--allow-findings", action="store_true", help="keep a change the pre-flight says will not work")
    sp.set_defaults(func=cmd_spoke)

    rh = sub.add_parser("rehearse", help="rehearse a change (a folder from `spoke add`): apply it in place to the lab "
                        "as it is today, verify everything, report the blast radius")
    rh.add_argument("change", help="the change folder")
    rh.add_argument("--name", help="lab name for the rehearsal (default: <lab>-rehearsal)")
    rh.add_argument("--runtime", choices=["auto", "native", "vm"], default=os.environ.get("NHTB_RUNTIME", "auto"))
    rh.add_argument("--keep", action="store_true", help="leave the rehearsal lab running afterwards")
    rh.add_argument("--watch", type=float, default=30.0, help="seconds of background pings around the change")
    rh.add_argument("--report", help="the HTML report's path (default: build/rehearsal-NAME.html)")
    rh.set_defaults(func=cmd_rehearse)

    ss = sub.add_parser("ssh", help="the node's Junos-style CLI over SSH (its management address, via a loopback forward)")
    ss.add_argument("node", nargs="?", help="the site (default: the hub)")
    ss.add_argument("command", nargs=argparse.REMAINDER, help="run one command and print its output")
    ss.add_argument("--name", help="lab name (default: the topology's)")
    ss.add_argument("--forward", type=int, metavar="PORT", help="only forward 127.0.0.1:PORT (0: any) until Ctrl-C")
    ss.set_defaults(func=cmd_ssh)

    v = sub.add_parser("verify", help="run the note's verification steps on the running lab")
    v.add_argument("--name", help="lab name (default: the topology's)")
    v.set_defaults(func=cmd_verify)

    sh = sub.add_parser("show", help="Junos-style views of a node's live state")
    sh.add_argument("what", choices=["ike-security-associations", "ipsec-security-associations", "ipsec-statistics",
                                     "next-hop-tunnels", "route"])
    sh.add_argument("address", nargs="?", help="for `show route`")
    sh.add_argument("--node", default=None, help="the node (default: the lab's hub)")
    sh.add_argument("--name", help="lab name (default: the topology's)")
    sh.add_argument("--format", choices=["text", "json"], default="text")
    sh.add_argument("--index", type=int, help="one SA (the Index / ID column)")
    sh.add_argument("--detail", action="store_true")
    sh.set_defaults(func=cmd_show)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as e:
        err.print(str(e), markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
