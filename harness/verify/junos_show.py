"""Junos-style text for the lab's live state (pure: data in, the note's layout out)."""
from __future__ import annotations


def next_hop_tunnels(entries: list[dict]) -> str:
    """`show security ipsec next-hop-tunnels`: nothing at all on a spoke, as on Westford."""
    if not entries:
        return ""
    rows = [("Next-hop gateway", "interface", "IPsec VPN name", "Flag")]
    rows += [(e["next_hop"], e["interface"], e["vpn"], e["flag"]) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows) + "\n"


def route(answer: dict) -> str:
    """`show route <address>`, in the note's layout; an inactive route is shown without '*'."""
    head = (f"inet.0: {answer['destinations']} destinations, {answer['destinations']} routes "
            f"({answer['active']} active, 0 holddown, {answer['hidden']} hidden)\n"
            "+ = Active Route, - = Last Active, * = Both\n\n")
    r = answer["route"]
    if r is None:
        return head
    pref = 0 if r["protocol"] == "Direct" else 5
    mark = "*" if r["active"] else " "
    line = f"{r['prefix']:<20}{mark}[{r['protocol']}/{pref}]\n"
    hop = f"to {r['next_hop']} via {r['interface']}" if r["next_hop"] else f"via {r['interface']}"
    line += f"                  > {hop}\n"
    if not r["active"]:
        line += f"                    (inactive: no next-hop tunnel binding for {r['next_hop']})\n"
    return head + line
