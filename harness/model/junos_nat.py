"""`security nat` of a Junos config read into the model (nat.py): source, destination and static
rule-sets with their pools. What a rule says that the stand-in does not emulate is left unread,
so the statement ledger names it: address-book names, port ranges, interface or routing-instance
contexts, pool options, proxy-arp."""
from __future__ import annotations

from ipaddress import IPv4Network

from .nat import DestinationNat, NatPool, SourceNat, StaticNat
from .reader import Reader, parse_ip, parse_number

PORT = (1, 65535)


def _pools(r: Reader, kind: str) -> dict[str, NatPool]:
    """`security nat KIND pool P address A [to B] [port N]`: one address, prefix or range per pool
    (a second one, or another shape, stays unread: not emulated)."""
    out: dict[str, NatPool] = {}
    for (name, rest), st in r.cfg.match(f"security nat {kind} pool * address **"):
        words = rest.split()
        port = None
        if len(words) >= 3 and words[-2] == "port" and kind == "destination":  # a source pool has none
            port = parse_number(r, words[-1], st.source, "NAT pool port", PORT)
            words = words[:-2]
        if name in out or len(words) not in (1, 3) or (len(words) == 3 and words[1] != "to"):
            continue
        nets = [parse_ip(r, w, st.source, IPv4Network) for w in (words[0], words[-1])]
        if None in nets:
            continue
        first, last = nets
        if len(words) == 1:  # one prefix: its addresses
            first, last = first.network_address, first.broadcast_address
        elif first.prefixlen == last.prefixlen == 32:
            first, last = first.network_address, last.network_address
        else:
            continue
        r.used.add(st)
        out[name] = NatPool(name, first, last, port, st.source)
    return out


def _rule_sets(r: Reader, kind: str, directions: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    """Each `security nat KIND rule-set RS` in file order with its zones; a rule-set whose
    context is not a zone is left unread (not emulated)."""
    out = []
    for rs in r.first_sources(f"security nat {kind} rule-set * **"):
        base = f"security nat {kind} rule-set {rs}"
        zones = {d: next((c[0] for c, _ in r.cfg.match(f"{base} {d} zone *")), None) for d in directions}
        if None in zones.values():
            continue
        for d in directions:
            list(r.match(f"{base} {d} zone *"))
        out.append((rs, zones))
    return out


def _prefixes(r: Reader, pattern: str) -> tuple[IPv4Network, ...] | None:
    """The prefixes a match condition names (empty: any); None when one is not a prefix (an
    address-book name: not emulated, left unread)."""
    found = list(r.cfg.match(pattern))
    nets = []
    for (text,), st in found:
        try:
            nets.append(IPv4Network(text))
        except ValueError:
            return None
    for _, st in found:
        r.used.add(st)
    return () if not nets or any(n.prefixlen == 0 for n in nets) else tuple(nets)


def source_rules(r: Reader) -> list[SourceNat]:
    """`security nat source rule-set`: from zone, to zone, and per rule (in order) the source and
    destination prefixes it matches, then `source-nat interface | pool P | off`."""
    pools = _pools(r, "source")
    out: list[SourceNat] = []
    for rs, zones in _rule_sets(r, "source", ("from", "to")):
        base = f"security nat source rule-set {rs}"
        for rule, rsrc in r.first_sources(f"{base} rule * **").items():
            then = [c[0] for c, _ in r.cfg.match(f"{base} rule {rule} then source-nat **")]
            pool = pools.get(then[0].split()[1]) if len(then) == 1 and then[0].startswith("pool ") else None
            if then not in (["interface"], ["off"]) and pool is None:
                continue  # an unknown pool, or an option: not emulated (left unread, so reported)
            sources = _prefixes(r, f"{base} rule {rule} match source-address *")
            dests = _prefixes(r, f"{base} rule {rule} match destination-address *")
            if sources is None or dests is None:
                continue
            list(r.match(f"{base} rule {rule} then source-nat **"))
            out.append(SourceNat(f"rule-set {rs} rule {rule}", zones["from"], zones["to"], sources, then != ["off"],
                                 rsrc, dests, pool))
    return out


def destination_rules(r: Reader) -> list[DestinationNat]:
    """`security nat destination rule-set ... from zone Z`: per rule, the destination address
    (and optionally port and source prefixes) it matches, then `destination-nat pool P | off`."""
    pools = _pools(r, "destination")
    out: list[DestinationNat] = []
    for rs, zones in _rule_sets(r, "destination", ("from",)):
        base = f"security nat destination rule-set {rs}"
        for rule, rsrc in r.first_sources(f"{base} rule * **").items():
            then = [c[0] for c, _ in r.cfg.match(f"{base} rule {rule} then destination-nat **")]
            pool = pools.get(then[0].split()[1]) if len(then) == 1 and then[0].startswith("pool ") else None
            dest = list(r.cfg.match(f"{base} rule {rule} match destination-address *"))
            ports = list(r.cfg.match(f"{base} rule {rule} match destination-port *"))
            if (then != ["off"] and pool is None) or len(dest) != 1 or len(ports) > 1:
                continue
            try:
                destination = IPv4Network(dest[0][0][0])
            except ValueError:
                continue
            sources = _prefixes(r, f"{base} rule {rule} match source-address *")
            if sources is None:
                continue
            port = None
            if ports:
                port = parse_number(r, ports[0][0][0], ports[0][1].source, "destination-port", PORT)
                r.used.add(ports[0][1])
            r.used.add(dest[0][1])
            list(r.match(f"{base} rule {rule} then destination-nat **"))
            out.append(DestinationNat(f"rule-set {rs} rule {rule}", zones["from"], sources, destination, port,
                                      pool, rsrc))
    return out


def static_rules(r: Reader) -> list[StaticNat]:
    """`security nat static rule-set ... from zone Z`: per rule, one host for another
    (`match destination-address A/32 then static-nat prefix B/32`)."""
    out: list[StaticNat] = []
    for rs, zones in _rule_sets(r, "static", ("from",)):
        base = f"security nat static rule-set {rs}"
        for rule, rsrc in r.first_sources(f"{base} rule * **").items():
            dest = list(r.cfg.match(f"{base} rule {rule} match destination-address *"))
            then = list(r.cfg.match(f"{base} rule {rule} then static-nat prefix *"))
            if len(dest) != 1 or len(then) != 1:
                continue
            try:
                a, b = IPv4Network(dest[0][0][0]), IPv4Network(then[0][0][0])
            except ValueError:
                continue
            if a.prefixlen != 32 or b.prefixlen != 32:
                continue  # prefix-to-prefix static NAT: not emulated
            r.used.update({dest[0][1], then[0][1]})
            out.append(StaticNat(f"rule-set {rs} rule {rule}", zones["from"], a, b, rsrc))
    return out

