"""The lab's life and the way into its nodes: `up`, `down`, `inspect`, `exec`, `ssh`."""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from rich.text import Text

from ..drivers import running
from ..errors import LabError
from ..model.lab import Lab, load_lab
from ..model.mgmt import DEFAULT_PASSWORD, SSH_PORT, credentials, mgmt_plan
from ..model.preflight import preflight
from ..runtime import backend, clab, clabernetes
from ..runtime.environment import topology_env
from ..runtime.local import LabBusy
from ..runtime.relay import loopback_forward
from ..runtime.vm import LabVM
from .output import (Listing, ProgressPrinter, columns, err, out, print_json, print_listing, table,
                     warn_lab, warn_preflight)
from .target import lab_name, node


def node_listing(state: dict, where: str) -> Listing:
    """A running lab's nodes, as `up` and `inspect` show them."""
    rows = []
    for name, info in state["nodes"].items():
        alive = info.get("charon_running", info.get("charon_pid") is not None)
        charon = "-" if info.get("charon_pid") is None else ("running" if alive else Text("dead", style="red"))
        rows.append((name, info["kind"], info["role"], info.get("public") or "-", info["ns"], charon))
    return Listing(f"lab {state['name']} ({where}, {state['provider']}) from {state['topology']}",
                   columns("node", "kind", "role", "public address", "namespace", "charon"), rows)


def cmd_up(args) -> int:
    progress = ProgressPrinter()
    topology = str(Path(args.topology).resolve())
    lab = load_lab(topology, name=args.name)  # bad input fails here, before anything is made (in this environment)
    warn_lab(lab)
    warn_preflight(preflight(lab))
    if args.runtime == "clabernetes":
        return _clabernetes(args, lab, Path(topology))
    if args.dry_run:
        return _dry_run(args, lab, Path(topology))
    rt = backend.choose(args.runtime, progress, topology)
    try:
        result = rt.up(topology, name=args.name, progress=progress)
    except BaseException as e:
        # The agent undoes a failed or abandoned `up` itself; wait for it, then stop the VM if it
        # only ran for this lab. An `up` refused because another command is bringing the same lab
        # up made nothing: waiting for "its" lab to go waited 120 s on the other command's.
        refused = isinstance(e, LabBusy) or getattr(e, "kind", "") == LabBusy.__name__
        if backend.stop_vm_if_idle(rt, wait_for=None if refused else lab.name):
            err.print("lab VM stopped (no lab left in it)")
        raise
    state = result["lab"]
    out.print(table(node_listing(state, rt.where)))
    t = result["timings"]
    if result["reused"]:
        out.print(f"lab {state['name']} was already up: reused")
    else:
        up, skipped = state.get("vpns_up", []), state.get("vpns_skipped", [])
        out.print(f"lab {state['name']} is up in {t['total']:.1f}s: {len(up)} VPN(s) with IKE and CHILD SAs "
                  f"established on both ends" + (f"; not brought up (pre-flight findings): {', '.join(skipped)}"
                                                  if skipped else ""))
    return 0


def _clabernetes(args, lab: Lab, topology: Path) -> int:
    """The topology as clabernetes resources: printed (--dry-run), or applied with kubectl."""
    env = topology_env(topology)
    if args.dry_run:
        sys.stdout.write(clabernetes.manifest(clabernetes.resources(lab.name, topology, env)))
        for site in clabernetes.stand_ins(lab):
            err.print(f"{site}: a stand-in site; the clabernetes runtime runs vSRX nodes only, so `up` refuses this topology")
        return 0
    ns = clabernetes.up(lab, topology, env)
    out.print(f"lab {lab.name} deployed by clabernetes in namespace {ns} (`kubectl -n {ns} get topology,pods,svc`); "
              f"`nhtb-lab verify --name {lab.name}` asks its vSRX nodes over their exposed SSH")
    return 0


def _dry_run(args, lab: Lab, topology: Path) -> int:
    """What the containerlab runtime would run for this topology, in order, without running it."""
    if args.runtime != "containerlab":
        raise LabError("--dry-run lists the containerlab runtime's plan: use it with --runtime containerlab")
    rows = []
    for i, st in enumerate(clab.plan(lab, topology, lab.name), 1):
        until = f"prints {st.wait_for!r}, within {st.deadline:.0f}s" if st.wait_for else (
            f"within {st.deadline:.0f}s" if st.deadline else "")
        rows.append((str(i), st.what, " ".join(st.command) if st.command else "(the harness)", until))
    out.print(table(Listing(f"containerlab runtime, lab {lab.name}: the plan (nothing is run)",
                            columns("#", "step", "command", "until"), rows, fold=True)))
    out.print("down: " + " ".join(clab.destroy_plan(lab, topology, lab.name)[0].command or ()))
    return 0


def cmd_down(args) -> int:
    if args.all:
        names = backend.NativeRuntime().down_all()
        silent = False
        try:
            client = LabVM().agent(patience=10)
        except LabError:  # a silent agent: its VM is stopped all the same, labs and all
            err.print("the lab VM's agent does not answer: stopping the VM with every lab in it")
            client, silent = None, True
        if client is not None:
            names += backend.RemoteRuntime(client).down_all()
        stopped = LabVM().stop()
        out.print(f"removed labs: {', '.join(names) or 'none'}"
                  + ("; lab VM stopped" + (" (the labs in it went with it)" if silent else "") if stopped else ""))
        return 0
    name = lab_name(args)
    vm = LabVM()
    elsewhere = backend.NativeRuntime().labs() + clabernetes.ClabernetesRuntime().labs()
    if vm.died() and not any(s["name"] == name for s in elsewhere):
        # Every lab in it went with it: nothing of this one is left anywhere. Keep its console.
        kept = vm.keep_crash_console()
        vm.stop()  # clears its files
        out.print(f"the lab VM had stopped without a `down` (console kept in {kept}): lab {name} and every other "
                  "lab in it went with it; nothing of them is left")
        return 0
    removed, stopped = backend.down(name)
    out.print(f"lab {name} removed ({len(removed)} namespaces)" + ("; no lab left in the lab VM: stopped it" if stopped else ""))
    return 0


def cmd_inspect(args) -> int:
    labs = backend.all_labs()
    if args.format == "json":
        print_json([{"where": w, **s} for w, s in labs])
        return 0
    if not labs:
        out.print("no lab is up")
    for where, state in labs:
        print_listing(node_listing(state, where), args.format)
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
    name = lab_name(args)
    res = backend.find(name).exec(name, args.node, argv, timeout=args.timeout)
    sys.stdout.write(res["stdout"])
    sys.stderr.write(res["stderr"])
    return res["returncode"]


def cmd_ssh(args) -> int:
    name = lab_name(args)
    rt, model = running(name)
    site = node(model, args.node)
    user, password = credentials(model, site)
    connect = lambda: rt.mgmt_socket(name, site)  # noqa: E731
    if args.command:
        return _ssh_command(site, model, connect, user, password, args.command)
    listener = loopback_forward(connect, args.forward or 0, lambda e: err.print(f"forward: {e}"))
    port = listener.getsockname()[1]
    where = f"{site}'s management address {mgmt_plan(model).address(site)}:{SSH_PORT}"
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


def _ssh_command(site: str, model: Lab, connect, user: str, password: str, command: list[str]) -> int:
    """One command on the node's CLI, its output printed as the node gave it."""
    from ..drivers.junos_ssh import JunosCliError, JunosSshDriver

    d = JunosSshDriver(site, model, connect, user, password)
    try:
        out.print(d.cli(" ".join(command)), end="", soft_wrap=True, markup=False)
    except JunosCliError as e:
        raise LabError(str(e)) from None
    finally:
        d.close()
    return 0
