"""`check` and `render`: what the configs say, before anything runs."""
from __future__ import annotations

from pathlib import Path

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab
from ..model.preflight import Finding, preflight
from ..render.bundle import render_node
from ..files import prepare_out_dir
from .output import Listing, columns, err, out, print_json, print_listing, warn_lab
from .target import load

PREFLIGHT_CLEAN = ("configs valid; pre-flight: every VPN has a matching peer "
                   "(addresses, keys, proposals, PFS, proxy IDs, NHTB)")


def node_rows(lab: Lab) -> list[tuple[str, str, str, str, str]]:
    """(node, kind, role, config, public address) of every node; "-" where a host has none."""
    rows = []
    for node in lab.nodes:
        site = lab.sites.get(node)
        if site:
            rows.append((node, lab.kind(node), site.role, site.file, str(site.public_address() or "-")))
        else:
            rows.append((node, lab.kind(node), lab.hosts[node].role, "-", "-"))
    return rows


def finding_document(f: Finding) -> dict:
    first = f.sources[0] if f.sources else None
    return {"file": first.file if first else None, "line": first.line if first else None, "vpn": f.vpn,
            "message": f.message, "see_also": [str(s) for s in f.sources[1:]], "blocks_sa": f.blocks_sa}


def check_document(lab: Lab, findings: list[Finding]) -> dict:
    keys = ("node", "kind", "role", "config", "public_address")
    return {"lab": lab.name, "topology": str(lab.topology.file), "valid": not findings,
            "nodes": [dict(zip(keys, row)) for row in node_rows(lab)],
            "findings": [finding_document(f) for f in findings],
            "warnings": [{"source": str(src), "message": msg} for src, msg in lab.warnings]}


def cmd_check(args) -> int:
    lab = load(args)
    if args.format == "json":  # warnings and findings are objects in the document
        findings = preflight(lab)
        print_json(check_document(lab, findings))
    else:
        warn_lab(lab)
        print_listing(Listing(f"lab {lab.name} ({lab.topology.file})",
                              columns("node", "kind", "role", "config", "public address"), node_rows(lab)), args.format)
        findings = preflight(lab)
        for f in findings:
            err.print(f"pre-flight: {f}", soft_wrap=True)
        if not findings:
            out.print(PREFLIGHT_CLEAN)
    if findings:
        err.print(f"{len(findings)} pre-flight problem(s): the lab would come up, but these VPNs or routes would not work")
        return 1
    return 0


def cmd_render(args) -> int:
    lab = load(args)
    if args.node not in lab.topology.nodes:
        raise LabError(f"{lab.topology.file}: no node '{args.node}' (nodes: {', '.join(lab.nodes)})")
    files = render_node(lab, args.node, reveal=bool(args.out) or args.show_secrets)
    wanted = [f for f in files if args.what in ("all", f.name.split(".")[0])]
    if args.out:
        out_dir = prepare_out_dir(Path(args.out), args.force)
        for f in wanted:
            path = write_file(out_dir / f.name, f.text, secret=f.secret)
            out.print(f"wrote {path}" + (" (mode 0600: holds the pre-shared keys)" if f.secret else ""))
        return 0
    for f in wanted:
        if len(wanted) > 1:
            out.print(f"# ---- {f.name} ----")
        out.print(f.text, end="", markup=False)
    return 0
