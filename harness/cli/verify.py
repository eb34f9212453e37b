"""Asking the running lab whether it works: `verify` (the note's verification steps), `diagnose`
(its bottom-up troubleshooting) and `trace flow`. The listings and documents are pure functions of
the results, so their forms are tested without a lab."""
from __future__ import annotations

from dataclasses import asdict

from rich.markup import escape

from ..errors import LabError
from ..render.nftables import TRACE_TERMS, trace_table
from ..model.ledger import not_emulated
from ..verify.checks import CheckResult
from ..verify.diagnose import TITLES, Diagnosis, diagnose
from ..verify.suite import verify as verify_lab
from .output import Listing, columns, err, out, print_json, print_listing
from .target import node, running_lab


def verification_listing(name: str, results: list[CheckResult]) -> Listing:
    return Listing(f"lab {name}: the note's verification steps",
                   columns("step", "node", "result", "expected", "seen", labelled=("expected", "seen")),
                   [(r.step, r.node, r.ok, r.expected, r.seen) for r in results], fold=True)


def verification_document(results: list[CheckResult]) -> list[dict]:
    return [asdict(r) for r in results]


def diagnosis_listing(name: str, d: Diagnosis, around: str | None = None) -> Listing:
    return Listing(f"lab {name}: bottom-up, as the note troubleshoots" + (f" (around {around})" if around else ""),
                   columns("layer", "result", "what"),
                   [(TITLES.get(st.layer, st.layer), st.ok if st.checked else "not checked", st.what) for st in d.steps],
                   fold=True)


def diagnosis_document(d: Diagnosis) -> dict:
    return asdict(d) | {"healthy": d.healthy}


def cmd_verify(args) -> int:
    name, drivers, model = running_lab(args)
    results = verify_lab(model, drivers, mesh=args.mesh)
    if args.format == "json":
        print_json(verification_document(results))
    else:
        print_listing(verification_listing(name, results), args.format)
    uncovered = not_emulated(model)
    for line in uncovered:  # a verdict never hides what it did not cover (stderr keeps JSON clean)
        (err if args.format == "json" else out).print(f"not covered (not emulated): {line}", markup=False, soft_wrap=True)
    failed = [r for r in results if not r.ok]
    if failed:
        err.print(f"{len(failed)} of {len(results)} checks failed")
        return 1
    if args.format != "json":
        out.print(f"lab {name} verified: {len(results)} checks passed"
                  + (f"; {len(uncovered)} statement(s) not emulated, not covered" if uncovered else ""))
    return 0


def cmd_diagnose(args) -> int:
    name, drivers, model = running_lab(args)
    if args.node:
        node(model, args.node)
    d = diagnose(model, drivers, args.node)
    if args.format == "json":
        print_json(diagnosis_document(d))
        return 0 if d.healthy else 1
    print_listing(diagnosis_listing(name, d, args.node), args.format)
    if d.healthy:
        out.print(f"lab {name}: healthy, every layer checked out")
        return 0
    print_cause(d)
    return 1


def print_cause(d: Diagnosis) -> None:
    """The first failing layer, its cause, the fix and the evidence (after the table or the lines alike)."""
    out.print(f"[red]first failing layer[/]: {TITLES.get(d.layer, d.layer)} on {d.node}"
              + (f" (role: {d.role})" if d.role else ""))
    out.print(f"[bold]cause[/]: {d.cause}: {escape(d.summary)}")
    out.print(f"[bold]fix[/]: {escape(d.advice)}")
    if d.evidence:
        out.print("[bold]evidence[/]:")
        for line in d.evidence:
            out.print("  " + line, soft_wrap=True, markup=False)


def _filters(specs: list[str]) -> list[dict[str, str]]:
    filters = []
    for spec in specs:
        f = {}
        for term in spec.split(","):
            key, sep, value = term.partition("=")
            if not sep or not value:
                raise LabError(f"--filter {spec}: terms are name=value, comma-separated ({', '.join(TRACE_TERMS)})")
            f[key.strip()] = value.strip()
        filters.append(f)
    return filters


def cmd_trace(args) -> int:
    _, drivers, model = running_lab(args)
    site = node(model, args.node)
    filters = _filters(args.filter)
    if not filters:
        raise LabError("trace flow needs at least one --filter (as Junos needs a packet-filter)")
    ping_from = ping_to = None
    if args.ping:
        ping_from, _, ping_to = args.ping.partition(":")
        node(model, ping_from, sites_only=False)
    trace_table(model.sites.get(site), filters)  # bad terms fail here, before anything is loaded
    packets = drivers[site].flow_trace(filters, args.duration, ping_from, ping_to)
    for p in packets:
        out.print(p.summary(), soft_wrap=True, markup=False)
        if args.detail:
            for step in p.steps:
                out.print("    " + step, soft_wrap=True, markup=False)
    out.print(f"{len(packets)} packet(s) matched on {site} in {args.duration:g}s")
    return 0
