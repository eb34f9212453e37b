"""The `nhtb-lab` command line as argparse sees it: every command, option, default and help text.
What a command does is in its module; `harness.cli.main` dispatches to it."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..model.spoke import SPOKE_ROUTES
from ..render.nftables import TRACE_TERMS
from .output import FORMATS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TOPOLOGY = "topologies/three-site.clab.yml"
DESCRIPTION = "nhtb-lab: the command line. Bad input prints file:line messages and exits 1, never a traceback."


def default_topology() -> str:
    """NHTB_TOPOLOGY, else the three-site topology (from the working directory or the checkout)."""
    env = os.environ.get("NHTB_TOPOLOGY")
    if env:
        return env
    here = Path(DEFAULT_TOPOLOGY)
    return str(here if here.exists() else REPO / DEFAULT_TOPOLOGY)


def listing_format(p: argparse.ArgumentParser) -> None:
    """--format for a command that prints a table: a table on a terminal, one line a row in a log."""
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text: a table on a terminal, one line a row when stdout is not one; plain: one line a "
                        "row; json: the same facts as a JSON document (the exit status is the same in each)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nhtb-lab", description=DESCRIPTION)
    p.add_argument("-t", "--topology", default=default_topology(),
                   help="containerlab topology file (default: %(default)s; env NHTB_TOPOLOGY)")
    sub = p.add_subparsers(dest="verb", required=True)  # not "command": `ssh NODE COMMAND...` has one

    c = sub.add_parser("check", help="validate the topology and every config, then the pre-flight checks across sites")
    c.add_argument("--strict", action="store_true", help="exit 1 when a statement is not emulated by the stand-in")
    c.add_argument("--coverage", action="store_true", help="list every statement: emulated, inert, not-emulated "
                   "or invalid, with file:line and why (the statements only: no pre-flight)")
    listing_format(c)

    r = sub.add_parser("render", help="print or write what a node's stand-in is configured with")
    r.add_argument("node")
    r.add_argument("--what", choices=["all", "swanctl", "strongswan", "nftables", "plan"], default="all")
    r.add_argument("--out", help="write the files into this directory (secret files 0600) instead of printing")
    r.add_argument("--show-secrets", action="store_true", help="print pre-shared keys instead of hiding them")
    r.add_argument("--force", action="store_true", help="write into --out even when it is not empty")

    u = sub.add_parser("up", help="bring the lab up (natively, or in the lab VM where the kernel lacks IPsec)")
    u.add_argument("--runtime", choices=["auto", "native", "vm", "containerlab", "clabernetes"],
                   default=os.environ.get("NHTB_RUNTIME", "auto"))
    u.add_argument("--dry-run", action="store_true", help="with --runtime containerlab: list the commands and "
                   "readiness steps it would run; with --runtime clabernetes: print the Kubernetes resources "
                   "(keys redacted); run nothing")
    u.add_argument("--name", help="lab name (default: the topology's); namespaces are <name>-<node>")

    d = sub.add_parser("down", help="destroy a lab (every namespace, process and file of it)")
    d.add_argument("--name", help="lab name (default: the topology's)")
    d.add_argument("--all", action="store_true", help="every lab of this project, and the lab VM")

    i = sub.add_parser("inspect", help="list running labs and their nodes")
    listing_format(i)

    e = sub.add_parser("exec", help="run a command in a node's namespace: exec NODE -- CMD...")
    e.add_argument("node")
    e.add_argument("argv", nargs=argparse.REMAINDER)
    e.add_argument("--name", help="lab name (default: the topology's)")
    e.add_argument("--timeout", type=float, default=120)

    f = sub.add_parser("fault", help="the note's faults as config changes (list, apply one to a copy of the lab); "
                                     "runtime faults in the running lab (inject one, clear them all)")
    f.add_argument("action", choices=["list", "apply", "inject", "clear"])
    f.add_argument("fault", nargs="?", help="the fault (`fault list` names them)")
    f.add_argument("--node", help="inject: the site (default: the first spoke; the hub for kill-binder)")
    f.add_argument("--loss", type=float, default=10.0, help="inject netem: packet loss in %% (default 10)")
    f.add_argument("--delay", type=int, default=100, help="inject netem: delay in ms (default 100)")
    f.add_argument("--name", help="inject, clear: lab name (default: the topology's)")
    f.add_argument("--out", help="for apply: the folder for the patched lab")
    f.add_argument("--faults", default=str(REPO / "lab" / "faults.yml"))
    f.add_argument("--force", action="store_true", help="write into --out even when it is not empty")
    listing_format(f)

    dg = sub.add_parser("diagnose", help="troubleshoot the running lab bottom-up as the note does; stops at the first failing layer")
    dg.add_argument("--node", help="only what involves this site")
    dg.add_argument("--name", help="lab name (default: the topology's)")
    listing_format(dg)

    lg = sub.add_parser("log", help="a node's IKE log: `log kmd` in kmd's words, `log charon` as charon wrote it; "
                        "`log supervisor`: the lab's daemons that died and were started again")
    lg.add_argument("what", choices=["kmd", "charon", "supervisor"])
    lg.add_argument("--node", help="the site (default: the hub)")
    lg.add_argument("--name", help="lab name (default: the topology's)")
    lg.add_argument("--lines", type=int, default=None, help="only the last N lines of the log (default: all of it, "
                    "as `show log kmd`)")

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

    sp = sub.add_parser("spoke", help="`spoke add`: generate a new spoke like an existing one, and the change on the "
                        "others; `spoke remove NAME`: decommission one; `spoke scale`: a lab with N spokes on the "
                        "one hub st0")
    sp.add_argument("action", choices=["add", "remove", "scale"],
                    help="add: one spoke; remove: decommission NAME; scale: a lab grown to --spokes N")
    sp.add_argument("spoke", nargs="?", metavar="NAME", help="for remove: the spoke to decommission")
    sp.add_argument("--name", dest="spoke_name", help="the new spoke's node name")
    sp.add_argument("--public", metavar="A.B.C.D/30", help="its Internet address and prefix")
    sp.add_argument("--lan", metavar="P/LEN", help="its LAN")
    sp.add_argument("--tunnel-ip", metavar="T", help="its st0/tunnel.1 address, in the hub's tunnel subnet")
    sp.add_argument("--spokes", type=int, help="for scale: how many spokes in total")
    sp.add_argument("--spoke-routes", choices=SPOKE_ROUTES,
                    help="for scale: how spokes reach each other's LANs: summary (default): one route to the "
                    "generated LANs' pool (172.16.0.0/12) through the hub, so each spoke adds commands only on the hub and itself; "
                    "each: a route per LAN on every spoke, as `spoke add` writes (configs grow with the square)")
    sp.add_argument("--like", help="the spoke to duplicate (default: the first spoke)")
    sp.add_argument("--nhtb", choices=["static", "auto"], help="default: auto for a Junos spoke, static otherwise")
    sp.add_argument("--out", help="the folder to write (default: spoke-NAME, remove-NAME, or scale-N)")
    sp.add_argument("--allow-findings", action="store_true", help="keep a change the pre-flight says will not work")
    sp.add_argument("--force", action="store_true", help="write into --out even when it is not empty")

    ch = sub.add_parser("change", help="a change folder from the commands you would paste on each device (the "
                        "format `spoke add` writes as change.set: `# on NODE:` then its commands), to rehearse")
    ch.add_argument("script", help="the commands per device: `# on corporate:` then `set ...` lines, and so on")
    ch.add_argument("--out", help="the folder to write (default: change-<script name>)")
    ch.add_argument("--allow-findings", action="store_true", help="keep a change the pre-flight says will not work")
    ch.add_argument("--force", action="store_true", help="write into --out even when it is not empty")

    rh = sub.add_parser("rehearse", help="rehearse a change: the lab as --before describes it, the change to --after "
                        "applied in place, everything verified and every difference judged against an intent")
    rh.add_argument("change", nargs="?", help="a change folder (from `spoke add` or `fault apply`) instead of "
                    "--before/--after")
    rh.add_argument("--before", help="a folder laid out like the repository, or a git ref (default: HEAD)")
    rh.add_argument("--after", help="the same, or `worktree` (default: the working tree)")
    rh.add_argument("--intent", help="YAML: `expect:` and `allow:` patterns of differences (default: the change "
                    "folder's intent.yml, else what the configs' difference implies)")
    rh.add_argument("--name", help="lab name for the rehearsal (default: <lab>-rehearsal)")
    rh.add_argument("--runtime", choices=["auto", "native", "vm", "containerlab"],
                    default=os.environ.get("NHTB_RUNTIME", "auto"),
                    help="containerlab: changes to the nodes that stay only (no node added or removed)")
    rh.add_argument("--keep", action="store_true", help="leave the rehearsal lab running afterwards")
    rh.add_argument("--watch", type=float, default=30.0, help="seconds of background pings around the change")
    rh.add_argument("--report", help="the HTML report's path (default: build/rehearsal-NAME.html)")
    listing_format(rh)

    ss = sub.add_parser("ssh", help="the node's Junos-style CLI over SSH (its management address, via a loopback forward)")
    ss.add_argument("node", nargs="?", help="the site (default: the hub)")
    ss.add_argument("command", nargs=argparse.REMAINDER, help="run one command and print its output")
    ss.add_argument("--name", help="lab name (default: the topology's)")
    ss.add_argument("--forward", type=int, metavar="PORT", help="only forward 127.0.0.1:PORT (0: any) until Ctrl-C")

    pa = sub.add_parser("parse", help="read a saved device answer (text, either layout, or | display xml) into records")
    pa.add_argument("file", help="the saved answer")
    pa.add_argument("--command", dest="answers", required=True, help='the command it answers, e.g. "show security ike security-associations"')
    pa.add_argument("--format", choices=["text", "json"], default="text")

    so = sub.add_parser("soak", help="leave the running lab rekeying under traffic for a while (lifetimes shortened "
                                     "in the running charons only): rekeys, pings lost, TCP stalls, NHTB changes, memory")
    so.add_argument("--duration", default="10m", help="how long: 90s, 10m, 1h (default 10m)")
    so.add_argument("--ike-lifetime", type=int, default=120,
                    help="IKE SA lifetime in seconds for the soak (default 120; 0: as the configs give it)")
    so.add_argument("--ipsec-lifetime", type=int, default=20,
                    help="IPsec SA lifetime in seconds for the soak (default 20; 0: as the configs give it)")
    so.add_argument("--name", help="lab name (default: the topology's)")
    listing_format(so)

    v = sub.add_parser("verify", help="run the note's verification steps on the running lab")
    v.add_argument("--name", help="lab name (default: the topology's)")
    v.add_argument("--mesh", action="store_true",
                   help="ping between every pair of LAN hosts (default: hub to every LAN and back, and each spoke to "
                        "the next: linear in the spokes; the same for a lab with two spokes)")
    listing_format(v)

    sh = sub.add_parser("show", help="Junos-style views of a node's live state")
    sh.add_argument("what", choices=["ike-security-associations", "ipsec-security-associations", "ipsec-statistics",
                                     "next-hop-tunnels", "route", "nat-source-rules", "nat-destination-rules",
                                     "nat-static-rules"])
    sh.add_argument("address", nargs="?", help="for `show route`")
    sh.add_argument("--node", default=None, help="the node (default: the lab's hub)")
    sh.add_argument("--name", help="lab name (default: the topology's)")
    sh.add_argument("--format", choices=["text", "json"], default="text")
    sh.add_argument("--index", type=int, help="one SA (the Index / ID column)")
    sh.add_argument("--detail", action="store_true")
    return p
