"""`show security nat source | destination | static rule all`, text, in the layout current vSRX
releases print (public samples: "Total rules", a rule's header line, then `Rule set`, `Rule Id`,
`Rule position`, the zones, the match ranges, `Action`, `Translation hits`). The session lines
that follow on a device (`Successful sessions`, `Number of sessions`) are not printed: the stand-in
counts translations (its NAT rules' packet counters), not sessions."""
from __future__ import annotations

from .records import NatRule

COMMANDS = {"source": "show security nat source rule all", "destination": "show security nat destination rule all",
            "static": "show security nat static rule all"}
ANY = ("0.0.0.0", "255.255.255.255")


def _field(name: str, value: object, indent: int = 2, width: int = 29) -> str:
    """`name` padded so the colon falls in the samples' column (29; 32 for a source rule's Action)."""
    return f"{' ' * indent}{name:<{width - indent}}: {value}"


def _ranges(name: str, ranges: tuple[tuple[str, str], ...], indent: int = 4) -> list[str]:
    ranges = ranges or (ANY,)
    return [_field(name if i == 0 else "", f"{a:<15} - {b}", indent) for i, (a, b) in enumerate(ranges)]


def text(rules: list[NatRule], kind: str) -> str:
    # Prefix references, as the samples count them: a source rule's "any" match counts (2 for
    # any to any), a destination rule's unset source does not, a static rule names two hosts.
    prefixes = sum(len(r.sources or (ANY,)) + len(r.destinations or (ANY,)) if kind == "source" else
                   len(r.sources) + len(r.destinations) + (kind == "static") for r in rules)
    title = {"source": "Total rules", "destination": "Total destination-nat rules", "static": "Total static-nat rules"}
    out = [f"{title[kind]}: {len(rules)}", f"Total referenced IPv4/IPv6 ip-prefixes: {prefixes}/0"]
    for i, r in enumerate(rules, 1):
        out.append(f"{ {'source': 'source NAT', 'destination': 'Destination NAT', 'static': 'Static NAT'}[kind]} rule: {r.name}")
        out += [_field("Rule set", r.rule_set), _field("Rule Id", i), _field("Rule position", i),
                _field("From zone", r.from_zone)]
        if kind == "source":
            out += [_field("To zone", r.to_zone), "  Match", *_ranges("Source addresses", r.sources),
                    *_ranges("Destination addresses", r.destinations), _field("Action", r.action, width=32)]
        elif kind == "destination":
            if r.sources:
                out += _ranges("Source addresses", r.sources)
            out += _ranges("Destination addresses", r.destinations)
            if r.destination_port:
                out.append(_field("Destination port", f"{r.destination_port:<15} - {r.destination_port}", 4))
            out.append(_field("Action", r.action))
        else:
            out += [_field("Destination addresses", r.destinations[0][0]), _field("Host addresses", r.action),
                    _field("Netmask", 32), _field("Host routing-instance", "N/A")]
        out.append(_field("Translation hits", r.hits))
    return "\n".join(out) + "\n"
