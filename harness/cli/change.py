"""Changes to the lab, made and tried: `fault` (the note's faults as config changes), `spoke`
(a new spoke, or a lab grown to N) and `rehearse` (a change applied in place to today's lab)."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import yaml
from rich.markup import escape
from rich.text import Text

from ..drivers import for_lab, running
from ..errors import USER_ERRORS, ConfigError, LabError, redact
from ..files import prepare_out_dir, write_file
from ..model.change import (Change, change_script, edited_config, first_command_line, read_change_script,
                            write_changed_lab)
from ..model.faults import apply_fault, load_faults
from ..model.lab import Lab, load_lab
from ..model.preflight import preflight
from ..model.decommission import remove_spoke
from ..model.spoke import SpokeRequest, add_spoke, grow
from ..render.diff import diff
from ..runtime import backend
from ..runtime.injected import RUNTIME_FAULTS, target
from ..verify.diagnose import TITLES
from .sources import Source, resolve
from ..verify.intent import derived_intent, load_intent
from ..verify.rehearse import INTENT_FILE, Rehearsal, html_report, read_change, rehearse_change
from .output import Listing, ProgressPrinter, columns, err, out, print_json, print_listing, verdict, warn_preflight
from .target import lab_name, load


def cmd_fault(args) -> int:
    faults = load_faults(args.faults)
    if args.action == "list":
        if args.format == "json":
            print_json([{"name": f.name, "layer": f.layer, "nodes": list(f.edits), "note": f.note}
                        for f in faults.values()]
                       + [{"name": n, "layer": "runtime", "nodes": [], "note": what} for n, what in RUNTIME_FAULTS.items()])
        else:
            print_listing(Listing(f"faults ({args.faults})", columns("fault", "layer", "nodes", "the note says"),
                                  [(f.name, f.layer, ", ".join(f.edits), f.note) for f in faults.values()],
                                  fold=True), args.format)
            print_listing(Listing("runtime faults (`fault inject NAME`, undone by `fault clear`)",
                                  columns("fault", "what"), list(RUNTIME_FAULTS.items()), fold=True), args.format)
        return 0
    if args.action in ("inject", "clear"):
        return _runtime_fault(args)
    if args.fault not in faults:
        raise LabError(f"{args.faults}: no fault '{args.fault}' (faults: {', '.join(faults)})")
    if not args.out:
        raise LabError("fault apply needs --out DIR (where the patched configs and topology go)")
    path = apply_fault(args.topology, faults[args.fault], prepare_out_dir(Path(args.out), args.force))
    out.print(f"wrote {path}: bring it up with  nhtb-lab -t {path} up --name {args.fault}")
    return 0


def _runtime_fault(args) -> int:
    """`fault inject NAME`: a fault in the running lab; `fault clear`: every one undone."""
    name = lab_name(args)
    rt, model = running(name)
    if args.action == "inject":
        if not args.fault:
            raise LabError(f"fault inject needs a fault: {', '.join(RUNTIME_FAULTS)}")
        target(model, args.fault, args.node)  # refused here, before the lab is touched
        r = rt.inject(name, args.fault, node=args.node, loss=args.loss, delay_ms=args.delay)
        undo = ("the lab's supervisor starts it again within a second (`nhtb-lab log supervisor`)"
                if r["fault"].startswith("kill-") else "`nhtb-lab fault clear` undoes it")
        out.print(f"injected {r['fault']}" + (f" on {r['node']}" if r["node"] else "") + f" ({r['where']}): {r['what']}; "
                  + undo, markup=False)
        return 0
    r = rt.repair(name, progress=ProgressPrinter())
    out.print(f"lab {name} repaired: " + ("; ".join(r["repaired"]) or "nothing was broken")
              + (f"; brought up {', '.join(r['vpns_brought_up'])}" if r["vpns_brought_up"] else ""), markup=False)
    return 0


def _write_change(args, base: Lab, change, out_dir: Path) -> int:
    """The change as a folder (changed configs, topology, the commands, and the intent the config
    difference implies), printed as the commands to paste; bad input leaves nothing behind."""
    created = not out_dir.exists()
    prepare_out_dir(out_dir, args.force)
    try:
        topo = write_changed_lab(args.topology, change, out_dir)
        new = load_lab(topo)
        intent = derived_intent(base, new, diff(base, new))
        write_file(out_dir / INTENT_FILE, f"# What `{change.title}` is meant to do (derived from the configs' "
                   "difference; edit it to say more).\n" + yaml.safe_dump(intent.as_dict(), sort_keys=False))
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    script = write_file(out_dir / "change.set", change_script(change), secret=True)  # it may set a key
    findings = preflight(new)
    warn_preflight(findings)
    out.print(redact(change_script(change)), soft_wrap=True, markup=False)
    if findings and not args.allow_findings:
        err.print(f"{len(findings)} pre-flight finding(s): the change would not work as written; nothing written "
                  "(--allow-findings keeps it, to rehearse the mistake)")
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        return 1
    out.print(f"wrote {out_dir}/: {topo.name}, lab/ ({', '.join(sorted(p.name for p in (out_dir / 'lab').iterdir()))}), "
              f"{script.name}, {INTENT_FILE}; rehearse it with: nhtb-lab rehearse {out_dir}")
    return 0


# The options only some of `spoke`'s actions take: one given to another action is refused, not
# ignored (`spoke add --spoke-routes each` would otherwise write what the user did not ask for).
SPOKE_ACTION_OPTIONS = {"add": {"spoke_name", "public", "lan", "tunnel_ip", "like", "nhtb", "allow_findings"},
                        "remove": {"spoke", "allow_findings"},
                        "scale": {"spokes", "spoke_routes", "like"}}


def _refuse_other_actions_options(args) -> None:
    for opt in sorted(set().union(*SPOKE_ACTION_OPTIONS.values()) - SPOKE_ACTION_OPTIONS[args.action]):
        if getattr(args, opt) not in (None, False):
            flag = {"spoke_name": "--name", "spoke": "a NAME"}.get(opt, f"--{opt.replace('_', '-')}")
            takers = " and ".join(f"spoke {a}" for a, opts in SPOKE_ACTION_OPTIONS.items() if opt in opts)
            raise LabError(f"spoke {args.action} does not take {flag} (only {takers} does)")


def cmd_spoke(args) -> int:
    if args.action == "add" and args.spoke:
        raise LabError(f"spoke add takes the new spoke's name as --name, not as '{args.spoke}'")
    _refuse_other_actions_options(args)
    if args.action == "scale":
        return _spoke_scale(args)
    if args.action == "remove":
        if not args.spoke:
            raise LabError("spoke remove needs the spoke's NAME")
        lab = load(args)
        return _write_change(args, lab, remove_spoke(lab, args.spoke), Path(args.out or f"remove-{args.spoke}"))
    for opt in ("spoke_name", "public", "lan", "tunnel_ip"):
        if not getattr(args, opt):
            raise LabError(f"spoke add needs --{opt.replace('spoke_', '').replace('_', '-')}")
    lab = load(args)
    try:
        req = SpokeRequest(args.spoke_name, IPv4Interface(args.public), IPv4Network(args.lan),
                           IPv4Address(args.tunnel_ip), args.like or _default_like(lab), args.nhtb or "")
    except ValueError as e:
        raise LabError(f"spoke add: {e}") from None
    like = lab.sites.get(req.like)
    if not req.nhtb and like is not None:  # a Junos peer announces its next hop; anything else needs a static entry
        req = replace(req, nhtb="auto" if like.os == "junos" else "static")
    change = add_spoke(lab, req)  # an unknown --like is refused here, naming the spokes there are
    return _write_change(args, lab, change, Path(args.out or f"spoke-{req.name}"))


def cmd_change(args) -> int:
    lab = load(args)
    script = Path(args.script)
    title, commands, lines = read_change_script(script, {n: site.os for n, site in lab.sites.items()})
    out_dir = Path(args.out or f"change-{script.stem}")
    try:
        return _write_change(args, lab, Change(title, commands), out_dir)
    except ConfigError as e:  # a message about the generated config: say it of the script's line
        raise ConfigError(_in_script(str(e), lab, out_dir, script, title, commands, lines)) from None


def _in_script(message: str, lab: Lab, out_dir: Path, script: Path, title: str, commands: dict[str, list[str]],
               lines: dict[str, list[int]]) -> str:
    """`message` with each `OUT/lab/NODE.ext:N` (a folder removed with the failure) said again:
    an appended command as the script's file:line, another line as the statement it holds."""
    for node, at in lines.items():
        spec = lab.topology.nodes[node]
        written = out_dir / "lab" / f"{node}{spec.startup_config.suffix}"
        os_ = lab.sites[node].os
        first = first_command_line(spec.startup_config, os_, title)
        text = edited_config(spec.startup_config, os_, title, commands[node]).splitlines()

        def repl(m: re.Match) -> str:
            n = int(m.group(1))
            if 0 <= n - first < len(at):
                return f"{script}:{at[n - first]}"
            return f"{node}'s config with the change, at `{text[n - 1].strip()}`" if 0 < n <= len(text) else m.group(0)

        message = re.sub(rf"{re.escape(str(written))}:(\d+)", repl, message)
    return message


def _spoke_scale(args) -> int:
    if not args.spokes or args.spokes < 1:
        raise LabError("spoke scale needs --spokes N (the total number of spokes)")
    out_dir = prepare_out_dir(Path(args.out or f"scale-{args.spokes}"), args.force)
    routes = {"spoke_routes": args.spoke_routes} if args.spoke_routes else {}  # grow's default otherwise
    topo = grow(args.topology, args.spokes, out_dir, args.like, **routes)
    lab = load_lab(topo)
    out.print(f"{topo}: {len(lab.sites) - 1} spokes on {lab.hub().name}'s "
              f"{len([u for u in lab.hub().tunnel_units if u.multipoint])} multipoint st0 unit; "
              f"pre-flight findings: {len(preflight(lab))}")
    return 0


def _default_like(lab: Lab) -> str:
    return next(s.name for s in lab.sites.values() if not s.is_hub)


def rehearsal_listing(r: Rehearsal) -> Listing:
    """The rehearsal's verdicts, a row each; what a verdict is about follows it on lines of its own.
    The blast radius is every difference by what it concerns, each marked by the intent."""
    lost, sent = r.pings_lost
    failed = [c for c in r.checks if not c.ok]

    def judged(ok: bool, head: str = "", lines=()) -> Text:
        return verdict(ok) + head + "".join(f"\n{x}" for x in lines)

    radius = [(area, judged(all(ok for _, ok in items), f": {len(items)} difference(s)" if items else ": none",
                            [f"{d}{'' if ok else '   <- not in the intent'}" for d, ok in items]))
              for area, items in r.blast_radius().items()]
    return Listing(f"rehearsal of {r.change}", columns("", "result"), [
        ("the lab before the change", judged(not r.before_failed, ": verified" if not r.before_failed else
                                             f": {len(r.before_failed)} check(s) failed: nothing can be judged",
                                             r.before_failed)),
        ("new node(s)", ", ".join(r.new_nodes) or "-"),
        ("verification suite", judged(not failed, f": {len(r.checks) - len(failed)} of {len(r.checks)} checks passed")),
        *radius,
        ("pings counted", f"{lost} of {sent} lost"),
        ("TCP connections held", f"{sum(1 for h in r.held.values() if h.get('connected'))} of {len(r.held)}"),
        ("not emulated (not covered)", judged(not r.touched, f": {len(r.not_emulated)} statement(s)",
                                              [f"added by the change: {t}" for t in r.touched])),
        (f"against the intent ({r.intent.source})",
         judged(r.judgement.ok, f": {len(r.judgement.differences)} difference(s)",
                [f"not in the intent: {d}" for d in r.judgement.unexpected]
                + [f"expected, did not happen: {m}" for m in r.judgement.missing])),
        ("time", ", ".join(f"{k} {v}s" for k, v in r.seconds.items())),
    ], fold=True)


def cmd_rehearse(args) -> int:
    """Exit 0 only for INTENT MATCHED, 1 for another verdict, 2 for an error before any verdict."""
    try:
        return _cmd_rehearse(args)
    except USER_ERRORS as e:
        err.print(str(e), markup=False, soft_wrap=True)
        err.print("rehearsal: no verdict (an error before the change could be judged)")
        return 2


def _cmd_rehearse(args) -> int:
    intent = load_intent(Path(args.intent)) if args.intent else None
    if args.change and (args.before or args.after):
        raise LabError("rehearse: a change folder, or --before/--after, not both")
    sources: list[Source] = []
    try:
        if args.change:
            try:
                after, before, meta = read_change(Path(args.change))
            except (FileNotFoundError, ValueError, KeyError) as e:
                raise LabError(f"rehearse: {e}") from None
            title = meta.get("title", args.change)
            if intent is None and (Path(args.change) / INTENT_FILE).exists():  # what the folder says it is for
                intent = load_intent(Path(args.change) / INTENT_FILE)
        else:
            sources = [resolve(args.before, Path(args.topology), "HEAD"), resolve(args.after, Path(args.topology), "worktree")]
            before, after = sources[0].topology, sources[1].topology
            title = f"{sources[0].spec} -> {sources[1].spec}"
        return _rehearse(args, Path(before), Path(after), intent, title)
    finally:
        for src in sources:
            src.cleanup()


def _rehearse(args, before: Path, after: Path, intent, title: str) -> int:
    old = load_lab(before)  # bad input fails here, before anything is made
    new = load_lab(after)
    warn_preflight(preflight(new))  # predictions: the rehearsal confirms or refutes them
    change = diff(old, new)
    if args.runtime == "containerlab" and (change.added or change.removed):
        raise LabError(f"rehearse --runtime containerlab: the change adds or removes nodes "
                       f"({', '.join(change.added + change.removed)}), which containerlab itself does; "
                       "rehearse it with --runtime native or vm")
    name = args.name or f"{old.name}-rehearsal"
    progress = ProgressPrinter()
    rt = backend.choose(args.runtime, progress, str(before))
    try:
        r = rehearse_change(before, after, rt, for_lab, name, progress, args.watch, intent, title)
    finally:
        if not args.keep:
            backend.down(name)
    if args.format != "json":  # the verdicts first: a report that cannot be written must not hide them
        _print_rehearsal(r, args.format)
    try:
        report = write_file(Path(args.report or Path("build") / f"rehearsal-{name}.html"), html_report(r, new))
        write_file(report.with_suffix(".json"), r.to_json())
    except USER_ERRORS as e:  # the verdict stands; only the report is missing
        err.print(f"report not written: {e}", markup=False, soft_wrap=True)
        if args.format == "json":
            print_json({"verdict": r.verdict})
        return 0 if r.ok else 1
    if args.format == "json":  # the document written beside the report, and where the report is
        print_json(json.loads(r.to_json()) | {"report": str(report)})
    else:
        out.print(f"report: {report} (and {report.with_suffix('.json').name})")
    if args.format != "json":
        out.print(f"rehearsal of {r.change}: {r.verdict}")
    if r.ok:
        return 0
    err.print(f"{r.verdict}: a check failed, or the change did something its intent does not say (see above)")
    return 1


def _print_rehearsal(r: Rehearsal, fmt: str) -> None:
    """The verdicts, every failed check, and the diagnosis of what broke."""
    print_listing(rehearsal_listing(r), fmt)
    for c in r.checks:
        if not c.ok:
            out.print(f"[red]FAILED[/] {escape(str(c))}", soft_wrap=True)
    if r.diagnosis and not r.diagnosis.healthy:
        d = r.diagnosis
        out.print(f"[bold]why[/]: {TITLES.get(d.layer, d.layer)} on {d.node}: {d.cause}: {escape(d.summary)}", soft_wrap=True)
        out.print(f"[bold]fix[/]: {escape(d.advice)}", soft_wrap=True)
