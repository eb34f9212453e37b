"""`nft monitor trace` output, read as flow traceoptions: per packet, where it came in and went
out, and which rule decided its fate (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..render.nftables import TABLE

LINE = re.compile(r"^trace id (?P<id>\w+) (?P<family>\w+) (?P<table>\S+) (?P<chain>\S+) (?P<what>.*)$")
DECIDING = ("accept", "drop", "reject")


@dataclass
class TracedPacket:
    id: str
    src: str | None = None
    dst: str | None = None
    protocol: str | None = None
    iif: str | None = None
    oif: str | None = None
    chain: str | None = None  # the policy chain that decided
    verdict: str | None = None  # accept | drop | reject (None: no policy chain saw it)
    rule: str | None = None  # the deciding rule's comment: a policy's name and file:line
    steps: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = f"in {self.iif or 'local'}" + (f" out {self.oif}" if self.oif else "")
        if self.verdict is None:
            decision = "no security policy looked at it"
        else:
            decision = f"{'permitted' if self.verdict == 'accept' else 'dropped'} by {self.rule or 'chain policy'} [{self.chain}]"
        return f"{self.src}->{self.dst} {self.protocol or '?'} {where}: {decision}"


def _is_policy_chain(chain: str) -> bool:
    """The chains that stand for host-inbound and security policies (not the MSS clamp or NAT)."""
    return chain in ("input", "forward") or chain.startswith("from_")


def _field(text: str, name: str) -> str | None:
    m = re.search(rf"\b{name} \"?([^\s\"]+)\"?", text)
    return m.group(1) if m else None


def parse(lines: list[str]) -> list[TracedPacket]:
    packets: dict[str, TracedPacket] = {}
    for raw in lines:
        m = LINE.match(raw.strip())
        if not m:
            continue
        p = packets.setdefault(m["id"], TracedPacket(m["id"]))
        what, table, chain = m["what"], m["table"], m["chain"]
        p.steps.append(f"{table} {chain}: {what}")
        if what.startswith("packet:"):
            p.src = p.src or _field(what, "ip saddr")
            p.dst = p.dst or _field(what, "ip daddr")
            p.iif = p.iif or _field(what, "iif")
            p.oif = _field(what, "oif") or p.oif
            proto = _field(what, "ip protocol") or next((x for x in ("icmp", "tcp", "udp", "esp") if f" {x} " in f" {what} "), None)
            p.protocol = p.protocol or proto
            continue
        if table != TABLE or p.verdict is not None or not _is_policy_chain(chain):
            continue
        v = re.search(r"\(verdict (\w+)", what)
        if what.startswith("rule") and v and v.group(1) in DECIDING:
            c = re.search(r'comment "([^"]*)"', what)
            p.verdict, p.chain = v.group(1), chain
            p.rule = c.group(1) if c else what[len("rule "):].split(" (verdict")[0]
        elif what.startswith("policy") and what.split()[1] in DECIDING:
            p.verdict, p.chain, p.rule = what.split()[1], chain, f"chain {chain} default policy"
    return [p for p in packets.values() if p.src]

