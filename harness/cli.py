"""nhtb-lab: the command line. Bad input prints file:line messages and exits 1, never a traceback."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .errors import LabError
from .files import write_file
from .model.lab import Lab, load_lab
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
