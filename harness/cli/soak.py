"""`nhtb-lab soak`: the running lab under shortened lifetimes and traffic for a while; what it
lost, how often it rekeyed, and its daemons' memory. Exit 1 if anything was lost."""
from __future__ import annotations

from ..drivers import for_lab, running
from ..errors import LabError
from ..render.strongswan import lifetime_text
from ..verify.soak import SoakReport, parse_duration, soak
from ..verify.traffic import PING_INTERVAL
from .output import Listing, ProgressPrinter, columns, err, out, print_json, print_listing
from .target import lab_name


def spans(times: list[float], step: float = PING_INTERVAL) -> str:
    """Loss times as a person reads them: consecutive probes as one span ("105-110")."""
    runs: list[list[float]] = []
    for t in times:
        if runs and t - runs[-1][-1] <= step * 1.5:
            runs[-1].append(t)
        else:
            runs.append([t])
    return " ".join(f"{r[0]:g}" if len(r) == 1 else f"{r[0]:g}-{r[-1]:g}" for r in runs)


def _listings(r: SoakReport) -> list[Listing]:
    lists = [Listing(f"rekeys in {r.seconds:g}s (IKE lifetime {lifetime_text(r.ike_lifetime)}, "
                     f"IPsec {lifetime_text(r.ipsec_lifetime)})",
                     columns("VPN", "IPsec rekeys", "IKE rekeys", "read without an IPsec SA"),
                     [(v.vpn, str(v.ipsec), str(v.ike), f"{v.down_seconds:g}s") for v in r.rekeys]),
             Listing(f"pings (every {PING_INTERVAL:g} s)", columns("", "pair", "lost", "sent", "lost at (s)"),
                     [(lost == 0, pair, "not measured" if lost < 0 else str(lost), str(sent),
                       spans(r.lost_at.get(pair, [])))
                      for pair, (lost, sent) in sorted(r.pings.items())]),
             Listing("TCP connections", columns("", "pair", "exchanges", "longest wait", "stalls over 1s", "error"),
                     [(bool(t.get("connected")) and not t.get("broken"), pair, str(t.get("exchanges", 0)),
                       f"{t.get('max_gap', 0):g}s", str(t.get("stalls", 0)), t.get("error") or "")
                      for pair, t in sorted(r.tcp.items())])]
    if r.memory:
        lists.append(Listing("resident memory (kB)", columns("node", "daemon", "start", "end"),
                             [(node, d, str(a), str(b)) for node, ds in r.memory.items() for d, (a, b) in ds.items()]))
    return lists


def cmd_soak(args) -> int:
    seconds = parse_duration(args.duration)
    for what in ("ike_lifetime", "ipsec_lifetime"):
        if getattr(args, what) != 0 and getattr(args, what) < 10:
            raise LabError(f"soak: --{what.replace('_', '-')} must be at least 10 seconds (or 0: as configured)")
    name = lab_name(args)
    rt, model = running(name)
    r = soak(model, rt, for_lab(name), seconds, args.ike_lifetime or None, args.ipsec_lifetime or None,
             ProgressPrinter())
    if args.format == "json":
        print_json(r.to_dict())
    else:
        for listing in _listings(r):
            print_listing(listing, args.format)
        for end, at in sorted(r.rekeyed_at.items()):
            out.print(f"new IPsec SAs read on {end} at (s): {' '.join(f'{t:g}' for t in at) or 'none'}", markup=False)
        for line in r.nhtb_changes:
            out.print(f"NHTB on {model.hub().name}: {line}", markup=False)
        if not r.nhtb_changes:
            out.print(f"NHTB on {model.hub().name}: no change in {r.samples} readings", markup=False)
        for node, grew in r.xfrm_errors.items():
            out.print(f"XFRM errors on {node} during the soak: " + ", ".join(f"{k} +{v}" for k, v in grew.items()),
                      markup=False)
        for node in r.not_soaked:
            out.print(f"not soaked: {node} (a device: its lifetimes are its own)", markup=False)
    for pair in r.unmeasured:
        err.print(f"not measured: {pair}", markup=False)
    for vpn in r.not_rekeyed:
        err.print(f"no rekey of {vpn} in {r.seconds:g}s: the soak tested none (a longer --duration, or a shorter "
                  "--ipsec-lifetime)", markup=False)
    if r.failed_readings:
        err.print(f"{r.failed_readings} of {r.failed_readings + r.samples} readings of the SAs failed", markup=False)
    (out if args.format != "json" else err).print(r.summary(), markup=False)
    return 0 if r.ok else 1
