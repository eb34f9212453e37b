"""A stand-in's NAT rules with their translation hits: the site's rules (model) joined with the
packet counters of the nftables rules rendered from them, found by the name each rule's comment
starts with (render/nftables.py writes "<name>: ..." and "static <name> ...")."""
from __future__ import annotations

import json

from ..junos.records import NatRule
from ..model.site import Site


def counters(nft_json: str) -> list[tuple[str, int]]:
    """(comment, packets) of every counted rule in `nft -j list table` output."""
    out = []
    for item in json.loads(nft_json).get("nftables", []):
        rule = item.get("rule")
        if not rule or "comment" not in rule:
            continue
        packets = next((e["counter"]["packets"] for e in rule.get("expr", []) if "counter" in e), None)
        if packets is not None:
            out.append((rule["comment"], packets))
    return out


def _range(net) -> tuple[str, str]:
    return (str(net.network_address), str(net.broadcast_address))


def _split(name: str) -> tuple[str, str]:
    """"rule-set RS rule R" -> (RS, R)."""
    words = name.split()
    return words[1], words[3]


def nat_rules(site: Site, kind: str, nft_json: str) -> list[NatRule]:
    counted = counters(nft_json)

    def hits(prefix: str) -> int:
        return sum(p for c, p in counted if c.startswith(prefix))

    out = []
    if kind == "source":
        for n in site.nat_rules:
            rs, rule = _split(n.name)
            out.append(NatRule("source", rule, rs, n.from_zone, n.to_zone, tuple(map(_range, n.sources)),
                               tuple(map(_range, n.destinations)), None, n.action, hits(f"{n.name}: ")))
    elif kind == "destination":
        for n in site.destination_nat:
            rs, rule = _split(n.name)
            out.append(NatRule("destination", rule, rs, n.from_zone, "", tuple(map(_range, n.sources)),
                               (_range(n.destination),), n.port, n.pool.name if n.pool else "off",
                               hits(f"destination {n.name}: ")))
    elif kind == "static":
        for n in site.static_nat:
            rs, rule = _split(n.name)
            out.append(NatRule("static", rule, rs, n.from_zone, "", (), (_range(n.destination),), None,
                               str(n.prefix.network_address), hits(f"static {n.name} ")))
    else:
        raise ValueError(f"unknown NAT kind '{kind}' (source, destination, static)")
    return out
