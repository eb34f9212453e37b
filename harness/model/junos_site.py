"""Build a Site from Junos statements (either syntax: the parser made them alike)."""
from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..errors import ConfigError, Source
from ..parse.statements import ParsedConfig
from . import junos_nat, proposals as P
from .reader import LIFETIME_SECONDS, TCP_MSS, Reader as _Reader, add_zone_interface, parse_ip as _ip, parse_number
from .secrets import junos_secret
from .site import (
    Dpd, IkeGateway, IkePolicy, IkeProposal, IpsecPolicy, IpsecProposal, NextHopTunnel, ProxyId,
    SecurityPolicy, Site, StaticRoute, TrafficSelector, Unit, Vpn, VpnMonitor, Zone,
)
from .emulation import esp_problem, group_problem, ike_problem

# Hierarchies the stand-in emulates: statements under them that nothing read are reported.
MODELLED = (
    ("interfaces",), ("routing-options", "static"), ("security", "ike"), ("security", "ipsec"),
    ("security", "zones"), ("security", "policies"), ("security", "flow"), ("security", "nat"),
)
IGNORED = (("security", "ike", "traceoptions"), ("security", "flow", "traceoptions"))


_GROUP = re.compile(r"group([0-9]{1,3})")
_UNIT = re.compile(r"[0-9]{1,5}")  # Junos logical units are 0..16385


def _group(text: str) -> int | None:
    m = _GROUP.fullmatch(text)
    return int(m.group(1)) if m else None


def _units(r: _Reader) -> dict[str, Unit]:
    units: dict[str, Unit] = {}

    bad: dict[tuple[str, str], Source] = {}
    for (ifd, u, _), st in r.cfg.match("interfaces * unit * **"):  # file order; reads nothing
        if not _UNIT.fullmatch(u):
            bad.setdefault((ifd, u), st.source)
    for (ifd, u), src in bad.items():
        r.error(src, f"interface {ifd}: unit '{u}' is not a number")

    def unit(ifd: str, u: str, src: Source) -> Unit:
        name = f"{ifd}.{u}"
        if name not in units:
            units[name] = Unit(name, [], src, tunnel=ifd.startswith("st"))
        return units[name]

    for (ifd, u, addr, _flags), st in r.match("interfaces * unit * family inet address * **"):
        a = _ip(r, addr, st.source, IPv4Interface)
        if a is not None:
            unit(ifd, u, st.source).addresses.append(a)
    for (ifd, u), st in r.match("interfaces * unit * multipoint"):
        unit(ifd, u, st.source).multipoint = True
    for (ifd, u, hop, vpn), st in r.match("interfaces * unit * family inet next-hop-tunnel * ipsec-vpn *"):
        h = _ip(r, hop, st.source)
        if h is not None:
            unit(ifd, u, st.source).next_hop_tunnels.append(NextHopTunnel(h, vpn, st.source))
    for _, st in r.match("interfaces * unit * family inet"):
        unit(st.words[1], st.words[3], st.source)
    for _ in r.match("interfaces * unit * description **"):
        pass
    for _ in r.match("interfaces * description **"):
        pass
    return units


def _routes(r: _Reader) -> list[StaticRoute]:
    routes = []
    for (prefix, hop), st in r.match("routing-options static route * next-hop *"):
        p = _ip(r, prefix, st.source, IPv4Network)
        if p is None:
            continue
        try:
            routes.append(StaticRoute(p, IPv4Address(hop), None, st.source))
        except ValueError:  # `next-hop st0.0`: an interface
            routes.append(StaticRoute(p, None, hop, st.source))
    return routes


def _custom_proposals(r: _Reader, family: str) -> dict[str, dict[str, tuple[str, Source]]]:
    out: dict[str, dict[str, tuple[str, Source]]] = {}
    for (name, key, value), st in r.match(f"security {family} proposal * * *"):
        out.setdefault(name, {})[key] = (value, st.source)
    return out


def _attr(attrs: dict[str, tuple[str, Source]], key: str, default: str) -> str:
    return attrs[key][0] if key in attrs else default


def _where(attrs: dict[str, tuple[str, Source]], *keys: str) -> Source | None:
    """The line of the first of `keys` the proposal sets (any of its lines otherwise)."""
    return next((attrs[k][1] for k in keys if k in attrs), next(iter(attrs.values()))[1] if attrs else None)


def _lifetime(r: _Reader, attrs: dict[str, tuple[str, Source]], default: str) -> int:
    text = _attr(attrs, "lifetime-seconds", default)
    life = parse_number(r, text, _where(attrs, "lifetime-seconds"), "lifetime-seconds", LIFETIME_SECONDS)
    return life if life is not None else int(default)


def _ike_proposal(r: _Reader, name: str, attrs: dict[str, tuple[str, Source]]) -> IkeProposal:
    group_text = _attr(attrs, "dh-group", "group2")
    group = _group(group_text)
    if group is None:
        r.error(_where(attrs, "dh-group"), f"ike proposal {name}: dh-group '{group_text}' is not groupN")
    p = IkeProposal(
        name, _attr(attrs, "authentication-method", "pre-shared-keys"), group or 2,
        _attr(attrs, "authentication-algorithm", "sha1"), _attr(attrs, "encryption-algorithm", "aes-128-cbc"),
        _lifetime(r, attrs, "28800"),
    )
    if group is not None and (problem := ike_problem(p)):
        r.error(_where(attrs, "encryption-algorithm", "authentication-algorithm", "dh-group"), f"ike proposal {name}: {problem}")
    return p


def _ipsec_proposal(r: _Reader, name: str, attrs: dict[str, tuple[str, Source]]) -> IpsecProposal:
    p = IpsecProposal(
        name, _attr(attrs, "protocol", "esp"), _attr(attrs, "authentication-algorithm", "hmac-sha1-96"),
        _attr(attrs, "encryption-algorithm", "aes-128-cbc"), _lifetime(r, attrs, "3600"),
    )
    if problem := esp_problem(p):
        r.error(_where(attrs, "encryption-algorithm", "authentication-algorithm"), f"ipsec proposal {name}: {problem}")
    elif p.encryption.endswith("-gcm") and "authentication-algorithm" in attrs:
        r.error(attrs["authentication-algorithm"][1], f"ipsec proposal {name}: {p.encryption} carries its own "
                "integrity: no authentication-algorithm (Junos refuses the commit)")
    return p


def _ike_policies(r: _Reader) -> dict[str, IkePolicy]:
    custom = {n: _ike_proposal(r, n, a) for n, a in _custom_proposals(r, "ike").items()}
    pols: dict[str, IkePolicy] = {}
    names = r.first_sources("security ike policy * **")
    for name, src in names.items():
        pol = IkePolicy(name, "main", [], None, src)
        for (mode,), st in r.match(f"security ike policy {name} mode *"):
            if mode not in ("main", "aggressive"):
                r.error(st.source, f"ike policy {name}: unknown mode '{mode}'")
            else:
                pol.mode = mode  # type: ignore[assignment]
        for (s,), st in r.match(f"security ike policy {name} proposal-set *"):
            if s not in P.IKE_PROPOSAL_SETS:
                r.error(st.source, f"ike policy {name}: unknown proposal-set '{s}'")
            else:
                pol.proposals += P.ike_set(s)
        for (p,), st in r.match(f"security ike policy {name} proposals *"):
            if p in custom:
                pol.proposals.append(custom[p])
            elif p in P.IKE_PROPOSALS:
                pol.proposals.append(P.IKE_PROPOSALS[p])
            else:
                r.error(st.source, f"ike policy {name}: proposal '{p}' is not defined")
        for (kind, value), st in r.match(f"security ike policy {name} pre-shared-key * *"):
            if kind not in ("ascii-text", "hexadecimal"):
                r.error(st.source, f"ike policy {name}: unknown pre-shared-key type '{kind}'")
                continue
            try:
                pol.psk, pol.psk_source = junos_secret(value, kind), st.source
            except ValueError as e:
                r.error(st.source, f"ike policy {name}: pre-shared-key: {e}")
        for _ in r.match(f"security ike policy {name} description **"):
            pass
        pols[name] = pol
    return pols


def _gateways(r: _Reader) -> dict[str, IkeGateway]:
    gws: dict[str, IkeGateway] = {}
    names = r.first_sources("security ike gateway * **")
    for name, src in names.items():
        gw = IkeGateway(name, "", None, None, src)
        for (p,), _ in r.match(f"security ike gateway {name} ike-policy *"):
            gw.ike_policy = p
        for (a,), st in r.match(f"security ike gateway {name} address *"):
            gw.address = _ip(r, a, st.source)
        for (i,), _ in r.match(f"security ike gateway {name} external-interface *"):
            gw.external_interface = i
        gw.dpd = _dpd(r, name)
        for (v,), st in r.match(f"security ike gateway {name} version *"):
            if v in ("v1-only", "v2-only"):
                gw.version, gw.version_source = v, st.source  # type: ignore[assignment]
            else:
                r.error(st.source, f"ike gateway {name}: version '{v}' is not v1-only or v2-only")
        if not gw.ike_policy:
            r.error(src, f"ike gateway {name} has no ike-policy")
        if gw.address is None:
            r.error(src, f"ike gateway {name} has no address")
        gws[name] = gw
    return gws


DPD_INTERVAL, DPD_THRESHOLD = (2, 60), (1, 5)  # Junos's ranges (SRX YANG); defaults 10 and 5
DPD_MODES = ("optimized", "probe-idle-tunnel", "always-send")


def _dpd(r: _Reader, gateway: str) -> Dpd | None:
    at = f"security ike gateway {gateway} dead-peer-detection"
    found = list(r.cfg.match(f"{at} **"))
    if not found:
        return None
    mode, interval, threshold = "optimized", 10, 5
    for (rest,), st in found:
        words = rest.split()
        if words[:1] not in (["always-send"], ["probe-idle-tunnel"]):
            r.used.add(st)  # those two are read (the mode) but not emulated: the ledger names them
        if words and words[0] in DPD_MODES:
            mode = words[0]
        elif words[:1] == ["interval"] and len(words) == 2:
            interval = parse_number(r, words[1], st.source, "dead-peer-detection interval", DPD_INTERVAL) or interval
        elif words[:1] == ["threshold"] and len(words) == 2:
            threshold = parse_number(r, words[1], st.source, "dead-peer-detection threshold", DPD_THRESHOLD) or threshold
        elif words:
            r.error(st.source, f"dead-peer-detection: '{rest}' is not a DPD option ({', '.join(DPD_MODES)}, "
                               "interval N, threshold N)")
    return Dpd(mode, interval, threshold, found[0][1].source)


def _ipsec_policies(r: _Reader) -> dict[str, IpsecPolicy]:
    custom = {n: _ipsec_proposal(r, n, a) for n, a in _custom_proposals(r, "ipsec").items()}
    pols: dict[str, IpsecPolicy] = {}
    names = r.first_sources("security ipsec policy * **")
    for name, src in names.items():
        pol = IpsecPolicy(name, [], None, src)
        set_pfs = None
        for (s,), st in r.match(f"security ipsec policy {name} proposal-set *"):
            if s not in P.IPSEC_PROPOSAL_SETS:
                r.error(st.source, f"ipsec policy {name}: unknown proposal-set '{s}'")
            else:
                pol.proposals += P.ipsec_set(s)
                set_pfs = P.IPSEC_SET_PFS[s]
        for (p,), st in r.match(f"security ipsec policy {name} proposals *"):
            if p in custom:
                pol.proposals.append(custom[p])
            elif p in P.IPSEC_PROPOSALS:
                pol.proposals.append(P.IPSEC_PROPOSALS[p])
            else:
                r.error(st.source, f"ipsec policy {name}: proposal '{p}' is not defined")
        pfs = None
        for (g,), st in r.match(f"security ipsec policy {name} perfect-forward-secrecy keys *"):
            pfs = _group(g)
            if pfs is None:
                r.error(st.source, f"ipsec policy {name}: unknown PFS keys '{g}'")
            elif problem := group_problem(pfs):
                r.error(st.source, f"ipsec policy {name}: perfect-forward-secrecy: {problem}")
        pol.pfs_group = pfs if pfs is not None else set_pfs
        pols[name] = pol
    return pols


def _vpns(r: _Reader) -> dict[str, Vpn]:
    vpns: dict[str, Vpn] = {}
    names = r.first_sources("security ipsec vpn * **")
    monitored = r.first_sources("security ipsec vpn * vpn-monitor **")
    options = _monitor_options(r) if monitored else (10, 10)
    for name, src in names.items():
        vpn = Vpn(name, "", "", None, "on-traffic", ProxyId(), src)
        for (g,), _ in r.match(f"security ipsec vpn {name} ike gateway *"):
            vpn.gateway = g
        for (p,), _ in r.match(f"security ipsec vpn {name} ike ipsec-policy *"):
            vpn.ipsec_policy = p
        for (u,), st in r.match(f"security ipsec vpn {name} bind-interface *"):
            vpn.bind_interface, vpn.bind_source = u, st.source
        for (e,), st in r.match(f"security ipsec vpn {name} establish-tunnels *"):
            if e not in ("immediately", "on-traffic"):
                r.error(st.source, f"vpn {name}: unknown establish-tunnels '{e}'")
            else:
                vpn.establish_tunnels = e  # type: ignore[assignment]
        local, remote = ProxyId().local, ProxyId().remote
        for (side, prefix), st in r.match(f"security ipsec vpn {name} ike proxy-identity * *"):
            if side == "service":
                continue
            net = _ip(r, prefix, st.source, IPv4Network)
            if net is not None and side == "local":
                local = net
            elif net is not None and side == "remote":
                remote = net
        vpn.proxy_id = ProxyId(local, remote)
        vpn.monitor = _vpn_monitor(r, name, *options) if name in monitored else None
        vpn.traffic_selectors = _traffic_selectors(r, name)
        if not vpn.gateway:
            r.error(src, f"vpn {name} has no 'ike gateway'")
        if not vpn.ipsec_policy:
            r.error(src, f"vpn {name} has no 'ike ipsec-policy'")
        vpns[name] = vpn
    return vpns


def _traffic_selectors(r: _Reader, vpn: str) -> list[TrafficSelector]:
    """The VPN's traffic selectors, read without counting them as emulated (r.cfg, not r)."""
    found: dict[str, dict] = {}
    for (ts, rest), st in r.cfg.match(f"security ipsec vpn {vpn} traffic-selector * **"):
        entry = found.setdefault(ts, {"source": st.source})
        words = rest.split()
        if len(words) == 2 and words[0] in ("local-ip", "remote-ip"):
            entry[words[0]] = _ip(r, words[1], st.source, IPv4Network)
    return [TrafficSelector(ts, e.get("local-ip"), e.get("remote-ip"), e["source"]) for ts, e in found.items()]


MONITOR_INTERVAL, MONITOR_THRESHOLD = (2, 3600), (1, 65536)  # Junos's ranges (SRX YANG); defaults 10 and 10


def _monitor_options(r: _Reader) -> tuple[int, int]:
    """`security ipsec vpn-monitor-options`: (interval, threshold) for every monitored VPN."""
    interval, threshold = 10, 10
    for (what, value), st in r.match("security ipsec vpn-monitor-options * *"):
        if what == "interval":
            interval = parse_number(r, value, st.source, "vpn-monitor-options interval", MONITOR_INTERVAL) or interval
        elif what == "threshold":
            threshold = parse_number(r, value, st.source, "vpn-monitor-options threshold", MONITOR_THRESHOLD) or threshold
    return interval, threshold


def _vpn_monitor(r: _Reader, vpn: str, interval: int, threshold: int) -> VpnMonitor:
    found = list(r.cfg.match(f"security ipsec vpn {vpn} vpn-monitor **"))
    optimized, source_interface, destination = False, None, None
    for (rest,), st in found:
        words = rest.split()
        if words == ["optimized"]:
            optimized = True
        elif words[:1] == ["source-interface"] and len(words) == 2:
            source_interface = words[1]
        elif words[:1] == ["destination-ip"] and len(words) == 2:
            destination = _ip(r, words[1], st.source, IPv4Address)
        elif words[:1] == ["verify-path"]:
            continue  # real Junos the stand-in does not reproduce: the ledger names it
        elif words:
            r.error(st.source, f"vpn {vpn}: vpn-monitor: '{rest}' is not a vpn-monitor option (optimized, "
                               "source-interface IF, destination-ip ADDRESS)")
            continue
        r.used.add(st)
    return VpnMonitor(optimized, source_interface, destination, interval, threshold, found[0][1].source)


def _zones(r: _Reader) -> dict[str, Zone]:
    zones: dict[str, Zone] = {}
    for (z, _), st in r.cfg.match("security zones security-zone * **"):  # the names: nothing read yet
        zones.setdefault(z, Zone(z, [], {}, set(), st.source))
    owners: dict[str, tuple[str, Source]] = {}
    for (z, i, rest), st in r.cfg.match("security zones security-zone * interfaces * **"):
        add_zone_interface(r, zones[z], i, owners, st.source)
        if not rest:
            r.used.add(st)  # `interfaces X` itself; what is under it is read below, or not at all
    for (z, n, p), st in r.match("security zones security-zone * address-book address * *"):
        net = _ip(r, p, st.source, IPv4Network)
        if net is not None:
            zones[z].address_book[n] = net
            zones[z].address_sources[n] = st.source
    for (z, s), _ in r.match("security zones security-zone * host-inbound-traffic system-services *"):
        zones[z].host_inbound.add(s)
    # Per-interface host-inbound services count for the zone in this model (one set per zone).
    for (z, _i, s), _ in r.match("security zones security-zone * interfaces * host-inbound-traffic system-services *"):
        zones[z].host_inbound.add(s)
    return zones


def _policies(r: _Reader) -> list[SecurityPolicy]:
    out: list[SecurityPolicy] = []
    seen: dict[tuple[str, str, str], Source] = {}
    for (a, b, n, _), st in r.cfg.match("security policies from-zone * to-zone * policy * **"):
        seen.setdefault((a, b, n), st.source)
    for (a, b, n), src in seen.items():
        base = f"security policies from-zone {a} to-zone {b} policy {n}"
        pol = SecurityPolicy(a, b, n, [], [], [], "deny", False, src)
        pol.sources = [c[0] for c, _ in r.match(f"{base} match source-address *")]
        pol.destinations = [c[0] for c, _ in r.match(f"{base} match destination-address *")]
        pol.applications = [c[0] for c, _ in r.match(f"{base} match application *")]
        for (act, rest), st in r.cfg.match(f"{base} then * **"):
            if act in ("permit", "deny", "reject"):  # `log`/`count` change nothing here
                r.used.add(st)
                pol.action = act  # type: ignore[assignment]
                pol.source_nat = pol.source_nat or (act == "permit" and rest == "source-nat interface")
        for what, vals in (("source-address", pol.sources), ("destination-address", pol.destinations),
                           ("application", pol.applications)):
            if not vals:
                r.error(src, f"policy {n} ({a} -> {b}) has no 'match {what}'")
        out.append(pol)
    # SRX orders policies within a zone pair only; across pairs the order means nothing.
    out.sort(key=lambda p: (p.from_zone, p.to_zone))
    return out


def build_junos_site(name: str, cfg: ParsedConfig) -> tuple[Site, list[tuple[Source, str]]]:
    """The Site a Junos config describes, and warnings for statements the stand-in does not emulate.
    Raises ConfigError (every problem, each with file:line) when the config is not usable."""
    r = _Reader(cfg, MODELLED, IGNORED)
    hostname = next((c[0] for c, _ in r.match("system host-name *")), None)
    mss = None
    for (m,), st in r.match("security flow tcp-mss ipsec-vpn mss *"):
        mss = parse_number(r, m, st.source, "tcp-mss", TCP_MSS)
    site = Site(
        name=name, os="junos", file=cfg.file, hostname=hostname, units=_units(r), zones=_zones(r),
        policies=_policies(r), routes=_routes(r), ike_policies=_ike_policies(r), gateways=_gateways(r),
        ipsec_policies=_ipsec_policies(r), vpns=_vpns(r), tcp_mss=mss, nat_rules=junos_nat.source_rules(r),
        destination_nat=junos_nat.destination_rules(r), static_nat=junos_nat.static_rules(r),
    )
    if r.problems:
        raise ConfigError(r.problems)
    warnings = [(st.source, f"not emulated by the stand-in, ignored: {st}") for st in r.unread()]
    warnings += _ikev2_dpd_conflicts(site)
    return site, warnings


def _ikev2_dpd_conflicts(site: Site) -> list[tuple[Source, str]]:
    """IKEv2 gateways whose DPD the stand-in cannot follow: charon declares an IKEv2 peer dead by
    its retransmission, one setting per node, taken from the first such gateway."""
    v2 = site.ikev2_dpd_gateways()
    if not v2:
        return []
    first = v2[0]
    alone = [(first.dpd.source, f"ike gateway {first.name}: dead-peer-detection threshold 1 on IKEv2 makes the "
                                "stand-in's charon send every IKE request of this node once, never again")] \
        if first.dpd.threshold == 1 else []
    return alone + [(gw.dpd.source, f"ike gateway {gw.name}: dead-peer-detection interval {gw.dpd.interval} threshold "
                            f"{gw.dpd.threshold} is not emulated: the stand-in's charon retransmits every IKEv2 probe "
                            f"one way per node, and follows ike gateway {first.name}'s (interval "
                            f"{first.dpd.interval} threshold {first.dpd.threshold}, {first.dpd.source})")
            for gw in v2[1:] if (gw.dpd.interval, gw.dpd.threshold) != (first.dpd.interval, first.dpd.threshold)]
