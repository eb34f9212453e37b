"""`check` and `render`: what the configs say, before anything runs."""
from __future__ import annotations

from pathlib import Path

from ..errors import LabError
from ..files import write_file
from ..model.lab import Lab
from ..model.ledger import Entry, as_records, counts, lab_ledger
from ..model.preflight import Finding, preflight
from ..runtime import clabernetes
from ..runtime.provider import is_device
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


def ledger_problems(lab: Lab, ledger: dict) -> tuple[list[Entry], list[Entry]]:
    """(errors, warnings) of the ledger: a statement that is not Junos (not ScreenOS) is an error;
    one SRX 24.4 no longer accepts is an error on a node that boots as a real SRX, a warning on a
    stand-in (the stand-in reads it; a current SRX would not commit it)."""
    errors, warnings = [], []
    for node, entries in ledger.items():
        for e in entries:
            if e.class_ == "invalid" or (e.obsolete and is_device(lab, node)):
                errors.append(e)
            elif e.obsolete:
                warnings.append(e)
    return errors, warnings


def _print_capacity(lab: Lab) -> None:
    """How many vSRX nodes this machine holds, and clabernetes when the topology has more."""
    devices = [n for n in lab.nodes if is_device(lab, n)]
    if not devices:
        return  # stand-ins are namespaces: a few MB each (the README's scale table)
    fits = clabernetes.capacity()
    line = (f"this machine holds {fits} vSRX node(s) ({clabernetes.VSRX_MEMORY_GB} GB and {clabernetes.VSRX_CPUS} "
            f"vCPUs each); the topology has {len(devices)}")
    if len(devices) > fits:
        line += ": more than fit here, run it on clabernetes (`up --runtime clabernetes --dry-run` shows the resources)"
        standins = clabernetes.stand_ins(lab)
        if standins:
            line += f"; its stand-in site(s) {', '.join(standins)} cannot run there: make them vSRX nodes first"
    out.print(line, soft_wrap=True)


def cmd_check(args) -> int:
    lab = load(args)
    ledger = lab_ledger(lab)
    entries = [e for es in ledger.values() for e in es]
    not_emulated = [e for e in entries if e.class_ == "not-emulated"]
    bad, old = ledger_problems(lab, ledger)
    if args.coverage:
        if args.format == "json":
            print_json(as_records(entries))
        else:
            print_listing(Listing(f"statements of lab {lab.name}", columns("where", "class", "statement", "why"),
                                  [(f"{e.file}:{e.line}", e.class_ + (" (obsolete)" if e.obsolete else ""),
                                    e.statement, e.reason) for e in entries], fold=True), args.format)
        return 1 if bad or (args.strict and not_emulated) else 0
    if args.format == "json":  # warnings and findings are objects in the document
        findings = preflight(lab)
        print_json(check_document(lab, findings) | {"statements": counts(entries),
                                                   "not_emulated": as_records(not_emulated),
                                                   "errors": as_records(bad), "obsolete": as_records(old)})
    else:
        warn_lab(lab)
        print_listing(Listing(f"lab {lab.name} ({lab.topology.file})",
                              columns("node", "kind", "role", "config", "public address"), node_rows(lab)), args.format)
        _print_capacity(lab)
        findings = preflight(lab)
        for f in findings:
            err.print(f"pre-flight: {f}", soft_wrap=True)
        if not findings:
            out.print(PREFLIGHT_CLEAN)
    if args.format != "json":
        _print_ledger(entries, not_emulated, bad, old)
    if bad:
        err.print(f"{len(bad)} statement(s) a device would refuse (see above)")
        return 1
    if args.strict and not_emulated:
        err.print(f"--strict: {len(not_emulated)} statement(s) the stand-in does not emulate")
        return 1
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


def _print_ledger(entries, not_emulated, bad, old) -> None:
    """The counts, then every statement a verdict does not cover, by file:line."""
    c = counts(entries)
    out.print("statements: " + ", ".join(f"{c[k]} {k}" for k in ("emulated", "inert", "not-emulated", "invalid"))
              + (f" ({c['obsolete']} obsolete on SRX 24.4)" if c.get("obsolete") else ""), soft_wrap=True)
    for e in bad:
        err.print(f"{e.file}:{e.line}: {e.statement}: {e.reason}", markup=False, soft_wrap=True)
    for e in old:
        err.print(f"warning: {e.file}:{e.line}: {e.statement}: {e.reason}", markup=False, soft_wrap=True)
    for e in not_emulated:
        out.print(f"not emulated: {e.file}:{e.line}: {e.statement} ({e.reason})", markup=False, soft_wrap=True)
