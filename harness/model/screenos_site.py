"""Build a Site from ScreenOS statements (the subset an SSG5 route-based VPN spoke uses)."""
from __future__ import annotations

import re
from ipaddress import IPv4Interface, IPv4Network

from ..errors import ConfigError, Source
from ..parse.statements import ParsedConfig
from . import proposals as P
from .reader import TCP_MSS, Reader, add_zone_interface, parse_ip, parse_number
from .site import (
    Dpd, IkeGateway, IkePolicy, IpsecPolicy, ProxyId, Secret, SecurityPolicy, Site, StaticRoute, Unit, Vpn, Zone,
)

# ScreenOS defaults the config does not spell out: management (ping, ssh, web...) is on for
# Trust interfaces, Untrust answers IKE for the VPNs it terminates, other zones answer nothing.
DEFAULT_HOST_INBOUND = {"Trust": {"all"}, "Untrust": {"ike"}}
PREDEFINED_ZONES = ("Trust", "Untrust")
_TUNNEL = re.compile(r"tunnel\.[0-9]{1,5}")
DPD_INTERVAL, DPD_RETRY = (0, 28800), (1, 128)  # seconds (0: off), unanswered probes
GATEWAY_KEYWORDS = ({"Main", "Aggressive"}, {"address", "outgoing-interface", "preshare", "sec-level"}, {"proposal"})


def _zone_source(cfg: ParsedConfig, zone: str) -> Source:
    """Where a predefined zone shows: the first line naming it, else the file's first line."""
    return next((st.source for st in cfg.statements if zone in st.words), Source(cfg.file, 1))


def _shown(st) -> str:
    """A statement as a warning quotes it: `ike` lines hold the key, so only their first words."""
    if st.words[0] == "ike":
        return " ".join(st.words[:3]) + " ... (the rest is not shown: it holds the pre-shared key)"
    return str(st)


def _net(r: Reader, words: list[str], src: Source) -> tuple[IPv4Network | None, int]:
    """`A.B.C.D/len` (one word) or `A.B.C.D M.M.M.M` (two words): the network and words used."""
    if "/" in words[0]:
        return parse_ip(r, words[0], src, IPv4Network), 1
    if len(words) > 1:
        try:
            return IPv4Network(f"{words[0]}/{words[1]}"), 2
        except ValueError:
            pass
    r.error(src, f"'{' '.join(words[:2])}' is not a network")
    return None, 1


def _keywords(words: list[str], flags: set[str], valued: set[str], multi: set[str] = frozenset()):
    """Split ScreenOS keyword arguments: {'address': '1.1.1.2', 'Main': True, 'proposal': [..]}."""
    out: dict[str, object] = {}
    unknown: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in flags:
            out[w] = True
            i += 1
        elif w in valued and i + 1 < len(words):
            out[w] = words[i + 1]
            i += 2
        elif w in multi:
            out[w] = words[i + 1:]
            break
        else:
            unknown.append(w)
            i += 1
    return out, unknown


def _dpd_liveness(r: Reader, lines) -> Dpd | None:
    """`set ike gateway G dpd-liveness interval N | retry N | always-send`; interval 0 (the
    default) leaves DPD off, as on the SSG."""
    interval, retry, mode = 0, 5, "optimized"
    for words, st in lines:
        if words == ["always-send"]:
            mode = "always-send"
        elif len(words) == 2 and words[0] in ("interval", "retry"):
            n = parse_number(r, words[1], st.source, f"dpd-liveness {words[0]}",
                             DPD_INTERVAL if words[0] == "interval" else DPD_RETRY)
            if n is not None:
                interval, retry = (n, retry) if words[0] == "interval" else (interval, n)
        else:
            r.error(st.source, f"dpd-liveness: cannot read '{' '.join(words)}' (interval N, retry N, always-send)")
    return Dpd(mode, interval, retry, lines[0][1].source) if interval else None


def build_screenos_site(name: str, cfg: ParsedConfig) -> tuple[Site, list[tuple[Source, str]]]:
    r = Reader(cfg)
    units: dict[str, Unit] = {}
    for (ifname, addr), st in r.match("interface * ip *"):
        if ifname.startswith("tunnel") and not _TUNNEL.fullmatch(ifname):
            r.error(st.source, f"interface '{ifname}': a tunnel interface is tunnel.N")
            continue
        a = parse_ip(r, addr, st.source, IPv4Interface)
        if a is not None:
            units.setdefault(ifname, Unit(ifname, [], st.source, tunnel=ifname.startswith("tunnel."))).addresses.append(a)
    for _ in r.match("interface * route"):  # route mode (no NAT on the interface): what the lab does anyway
        pass

    zones = {z: Zone(z, [], {}, set(DEFAULT_HOST_INBOUND.get(z, ())), _zone_source(cfg, z)) for z in PREDEFINED_ZONES}
    for (z,), st in r.match("zone name *"):
        zones.setdefault(z, Zone(z, [], {}, set(DEFAULT_HOST_INBOUND.get(z, ())), st.source))
    owners: dict[str, tuple[str, Source]] = {}
    for (ifname, z), st in r.match("interface * zone *"):
        if z not in zones:
            r.error(st.source, f"zone '{z}' is not defined (set zone name \"{z}\")")
            continue
        add_zone_interface(r, zones[z], ifname, owners, st.source)
    for (z, n, rest), st in r.match("address * * **"):
        if z not in zones:
            r.error(st.source, f"address {n}: zone '{z}' is not defined")
            continue
        net, _ = _net(r, rest.split(), st.source) if rest else (r.error(st.source, f"address {n}: no network"), 0)
        if net is not None:
            zones[z].address_book[n] = net
            zones[z].address_sources[n] = st.source

    ike_policies: dict[str, IkePolicy] = {}
    gateways: dict[str, IkeGateway] = {}
    liveness: dict[str, list] = {}
    for (g, rest), st in r.match("ike gateway * **"):
        if rest.split()[:1] == ["dpd-liveness"]:  # a line of its own, after the gateway's
            liveness.setdefault(g, []).append((rest.split()[1:], st))
            continue
        kw, unknown = _keywords(rest.split(), *GATEWAY_KEYWORDS)
        if unknown:  # the words are not quoted: with `preshare` misspelt, the next one is the key
            r.error(st.source, f"ike gateway {g}: cannot read {len(unknown)} word(s) of the line (keywords: "
                    f"{', '.join(sorted(set().union(*GATEWAY_KEYWORDS)))})")
        mode = "aggressive" if kw.get("Aggressive") else "main"
        level = kw.get("sec-level")
        if level and level not in P.IKE_PROPOSAL_SETS:
            r.error(st.source, f"ike gateway {g}: unknown sec-level '{level}'")
        proposals = P.ike_set(level) if level in P.IKE_PROPOSAL_SETS else []
        for p in kw.get("proposal", []):
            if p not in P.IKE_PROPOSALS:
                r.error(st.source, f"ike gateway {g}: proposal '{p}' is not defined")
            else:
                proposals.append(P.IKE_PROPOSALS[p])
        psk = Secret(kw["preshare"]) if "preshare" in kw else None
        # ScreenOS keeps the phase-1 policy on the gateway: one synthetic IKE policy per gateway.
        ike_policies[g] = IkePolicy(g, mode, proposals, psk, st.source, st.source if psk else None)
        addr = parse_ip(r, kw["address"], st.source) if "address" in kw else None
        gateways[g] = IkeGateway(g, g, addr, kw.get("outgoing-interface"), st.source)
    for g, lines in liveness.items():
        if g not in gateways:
            r.error(lines[0][1].source, f"ike gateway {g}: dpd-liveness for a gateway that is not defined")
        else:
            gateways[g].dpd = _dpd_liveness(r, lines)

    ipsec_policies: dict[str, IpsecPolicy] = {}
    vpns: dict[str, Vpn] = {}
    for (v, g, rest), st in r.match("vpn * gateway * **"):
        kw, unknown = _keywords(rest.split(), {"replay", "no-replay", "tunnel", "transport"}, {"idletime", "sec-level"}, {"proposal"})
        if unknown:
            r.error(st.source, f"vpn {v}: cannot read '{' '.join(unknown)}'")
        level = kw.get("sec-level")
        proposals = P.ipsec_set(level) if level in P.IPSEC_PROPOSAL_SETS else []
        if level and level not in P.IPSEC_PROPOSAL_SETS:
            r.error(st.source, f"vpn {v}: unknown sec-level '{level}'")
        for p in kw.get("proposal", []):
            if p not in P.IPSEC_PROPOSALS:
                r.error(st.source, f"vpn {v}: proposal '{p}' is not defined")
            else:
                proposals.append(P.IPSEC_PROPOSALS[p])
        pfs = P.IPSEC_SET_PFS.get(level) if level else (2 if any(p.name.startswith("g2-") for p in proposals) else None)
        ipsec_policies[v] = IpsecPolicy(v, proposals, pfs, st.source)
        vpns[v] = Vpn(v, g, v, None, "on-traffic", ProxyId(), st.source)
    for (v, ifname), st in r.match("vpn * bind interface *"):
        if v not in vpns:
            r.error(st.source, f"vpn '{v}' is not defined")
        else:
            vpns[v].bind_interface, vpns[v].bind_source = ifname, st.source
    for (v, rest), st in r.match("vpn * proxy-id **"):
        kw, _ = _keywords(rest.split(), set(), {"local-ip", "remote-ip"})
        try:
            vpns[v].proxy_id = ProxyId(IPv4Network(kw["local-ip"]), IPv4Network(kw["remote-ip"]))
        except (KeyError, ValueError):
            r.error(st.source, f"vpn {v}: cannot read proxy-id '{rest}'")
    for _ in r.match("vpn * monitor **"):
        pass

    policies: list[SecurityPolicy] = []
    by_id: dict[str, SecurityPolicy] = {}
    for (pid, a, b, s, d, svc, rest), st in r.match("policy id * from * to * * * * **"):  # noqa: B007
        words = rest.split()
        action = words[-1] if words and words[-1] in ("permit", "deny", "reject") else None
        if action is None:
            r.error(st.source, f"policy id {pid}: no permit/deny/reject")
            continue
        anyname = lambda x: "any" if x.upper() == "ANY" else x  # noqa: E731
        pol = SecurityPolicy(a, b, f"id {pid}", [anyname(s)], [anyname(d)], [svc.lower()], action,
                             words[:2] == ["nat", "src"], st.source)
        by_id[pid] = pol
        policies.append(pol)
    for (pid, key, value), st in r.match("policy id * * *"):
        if key not in ("src-address", "dst-address"):
            continue
        if pid not in by_id:
            r.error(st.source, f"policy id {pid} is not defined")
            continue
        (by_id[pid].sources if key == "src-address" else by_id[pid].destinations).append(value)

    routes: list[StaticRoute] = []
    for (rest,), st in r.match("route **"):
        words = rest.split()
        net, used = _net(r, words, st.source) if words else (None, 0)
        kw, unknown = _keywords(words[used:], set(), {"interface", "gateway", "metric", "preference"})
        if unknown:
            r.error(st.source, f"route: cannot read '{' '.join(unknown)}'")
        if net is None:
            continue
        gw = parse_ip(r, kw["gateway"], st.source) if "gateway" in kw else None
        routes.append(StaticRoute(net, gw, kw.get("interface") if gw is None else None, st.source))

    mss = None
    for (m,), st in r.match("flow tcp-mss *"):
        mss = parse_number(r, m, st.source, "tcp-mss", TCP_MSS)
    hostname = next((c[0] for c, _ in r.match("hostname *")), None)

    if r.problems:
        raise ConfigError(r.problems)
    site = Site(name, "screenos", cfg.file, hostname, units, zones, policies, routes, ike_policies,
                gateways, ipsec_policies, vpns, mss)
    return site, [(st.source, f"not emulated by the stand-in, ignored: set {_shown(st)}") for st in r.unread()]
