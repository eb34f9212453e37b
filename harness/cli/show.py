"""What a node says about itself: `show` (Junos-style views of its live state) and `log`."""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from ..drivers import for_lab
from ..drivers.base import NotOffered
from ..errors import LabError
from ..junos import as_data, ike, ipsec, kmd, nat, nhtb, parse_any, route, stats
from ..junos.cli import CliError
from ..junos.textreply import UnknownField
from ..parse.statements import read_config
from ..runtime import backend
from ..model.lab import load_lab
from .output import out, print_json
from .target import lab_name, node, running_lab


def cmd_show(args) -> int:
    name = lab_name(args)
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
    elif args.what.startswith("nat-"):  # nat-source-rules: `show security nat source rule all`
        kind = args.what.split("-")[1]
        try:
            data = d.nat_rules(kind)
        except NotOffered as e:
            raise LabError(str(e)) from None
        text = nat.text(data, kind)
    else:  # route
        if not args.address:
            raise LabError("show route needs an address: nhtb-lab show route 192.168.168.10 --node corporate")
        data = d.route_answer(args.address)
        text = route.text(data)
    if args.format == "json":
        print_json([asdict(x) for x in data] if isinstance(data, list) else asdict(data))
    else:
        sys.stdout.write(text)
    return 0


def cmd_log(args) -> int:
    if args.what == "supervisor":  # the lab's, not a node's
        name = lab_name(args)
        out.print(backend.find(name).supervisor_log(name, args.lines), soft_wrap=True, markup=False)
        return 0
    _, drivers, model = running_lab(args)
    site = node(model, args.node)
    text = drivers[site].log(args.lines)
    out.print(kmd.kmd(text) if args.what == "kmd" else text, soft_wrap=True, markup=False)
    return 0


def cmd_parse(args) -> int:
    """A saved device answer (text in either layout, or `| display xml`) read into records: one
    line per record, or JSON (a list of records; an object for statistics and routes)."""
    path = Path(args.file)
    text = read_config(path)  # size, encoding and file-type limits as for configs
    try:
        parsed = parse_any(args.answers, text)
    except CliError as e:
        raise LabError(f"--command {args.answers!r}: {e}") from None
    except UnknownField as e:
        raise LabError(f"{path}: {e}") from None
    data = as_data(parsed)
    if args.format == "json":
        print_json(data)
        return 0
    for record in data if isinstance(data, list) else [data]:
        out.print(" ".join(f"{k}={v}" for k, v in record.items() if k != "evidence"), markup=False, soft_wrap=True)
    return 0
