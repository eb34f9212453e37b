"""nftables ruleset for a stand-in site (pure): SRX/ScreenOS zones and policies on Linux.

- zones are sets of interface names; host-inbound services are the input chain;
- security policies are per zone-pair chains in config order, first match wins, default deny
  (intra-zone too, as on SRX); replies pass through conntrack as SRX sessions do;
- NAT in Junos's order: static and destination NAT in prerouting (before the policies, which
  see the translated destination, as on SRX), a static rule's reverse then source NAT in
  postrouting (`interface` is masquerade, a pool is snat to its range, `off` accepts);
- `tcp-mss ipsec-vpn` clamps SYNs in and out of the tunnel units.
Every rule counts and carries the policy's name and file:line, so counters name their source.
"""
from __future__ import annotations

import re

from ..errors import ConfigError
from ..model.ifnames import linux_ifname
from ..model.mgmt import MGMT_IFNAME, SSH_PORT
from ..model.site import SecurityPolicy, Site
# The application map lives with validation, which refuses (file:line) what it cannot express.
from ..model.emulation import APPLICATIONS, application_problem

TABLE = "nhtb"

# host-inbound-traffic system-services -> what the input chain accepts.
HOST_INBOUND = {
    "ike": ["udp dport { 500, 4500 }", "meta l4proto esp"],
    "ping": ["icmp type echo-request"],
    "ssh": ["tcp dport 22"],
    "http": ["tcp dport 80"],
    "https": ["tcp dport 443"],
    "telnet": ["tcp dport 23"],
    "traceroute": ["udp dport 33434-33534", "icmp type echo-request"],
    "snmp": ["udp dport 161"],
}
VERDICT = {"permit": "accept", "deny": "drop", "reject": "reject"}


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _comment(text: str) -> str:
    return 'comment "' + text.replace('"', "'")[:120] + '"'


def _nets(site: Site, zone: str, names: list[str]) -> str | None:
    if "any" in names:
        return None
    nets = [str(site.zones[zone].address_book[n]) for n in names]
    return nets[0] if len(nets) == 1 else "{ " + ", ".join(nets) + " }"


def _policy_rule(site: Site, pol: SecurityPolicy) -> str:
    parts = []
    src, dst = _nets(site, pol.from_zone, pol.sources), _nets(site, pol.to_zone, pol.destinations)
    if src:
        parts.append(f"ip saddr {src}")
    if dst:
        parts.append(f"ip daddr {dst}")
    if problem := application_problem(pol):
        raise ConfigError(problem, pol.source)
    apps = [APPLICATIONS[a] for a in pol.applications]
    if len(apps) > 1 and "" in apps:
        apps = [""]
    rules = []
    for app in apps:
        match = " ".join(p for p in parts + [app] if p)
        rules.append(f"{match} counter {VERDICT[pol.action]} {_comment(f'policy {pol.name} ({pol.source})')}".strip())
    return "\n        ".join(rules)


def linux_units(site: Site, names: list[str]) -> list[str]:
    return [linux_ifname(site.os, n) for n in names]


def ruleset(site: Site) -> str:
    zones = {z.name: linux_units(site, z.interfaces) for z in site.zones.values()}
    tunnels = [linux_ifname(site.os, u.name) for u in site.tunnel_units]
    out = [
        f"# nftables for {site.name}, rendered from {site.file} by nhtb-lab",
        "# Loaded in the node's own network namespace; replaces only this table.",
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        f"table inet {TABLE} {{",
    ]
    for z, ifs in zones.items():
        elems = f" elements = {{ {', '.join(f'{chr(34)}{i}{chr(34)}' for i in ifs)} }};" if ifs else ""
        out.append(f"    set zone_{_ident(z)} {{ type ifname;{elems} }}")
    if tunnels:
        out.append(f"    set tunnels {{ type ifname; elements = {{ {', '.join(f'{chr(34)}{t}{chr(34)}' for t in tunnels)} }}; }}")

    out += ["", "    chain input {", "        type filter hook input priority filter; policy drop;",
            "        ct state established,related accept", '        iifname "lo" accept',
            # The management interface (fxp0 on an SRX) is out of band: no zone governs it.
            f'        iifname "{MGMT_IFNAME}" tcp dport {SSH_PORT} accept {_comment("management: SSH")}']
    for z in site.zones.values():
        services = sorted(z.host_inbound)
        if "all" in services:
            out.append(f"        iifname @zone_{_ident(z.name)} counter accept {_comment(f'zone {z.name}: host-inbound all')}")
            continue
        for s in services:
            for match in HOST_INBOUND.get(s, []):
                out.append(f"        iifname @zone_{_ident(z.name)} {match} counter accept {_comment(f'zone {z.name}: host-inbound {s}')}")
    out += [f"        counter drop {_comment('host-inbound: not allowed')}", "    }"]

    pairs: dict[tuple[str, str], list[SecurityPolicy]] = {}
    for pol in site.policies:
        pairs.setdefault((pol.from_zone, pol.to_zone), []).append(pol)
    out += ["", "    chain forward {", "        type filter hook forward priority filter; policy drop;",
            "        ct state established,related accept"]
    for a, b in pairs:
        out.append(f"        iifname @zone_{_ident(a)} oifname @zone_{_ident(b)} jump from_{_ident(a)}_to_{_ident(b)}")
    out += [f"        counter drop {_comment('default policy: deny')}", "    }"]
    for (a, b), pols in pairs.items():
        out += ["", f"    chain from_{_ident(a)}_to_{_ident(b)} {{"]
        out += [f"        {_policy_rule(site, p)}" for p in pols]
        out.append("    }")

    out += _nat_chains(site)

    if site.tcp_mss and tunnels:
        m = site.tcp_mss
        out += ["", "    chain tcp_mss {", "        type filter hook forward priority mangle; policy accept;",
                f"        oifname @tunnels tcp flags syn tcp option maxseg size > {m} counter tcp option maxseg size set {m}",
                f"        iifname @tunnels tcp flags syn tcp option maxseg size > {m} counter tcp option maxseg size set {m}",
                "    }"]
    out.append("}")
    return "\n".join(out) + "\n"


# ---- flow traceoptions ----------------------------------------------------------------------
TRACE_TABLE = "nhtb_trace"
# Filter terms, as `set security flow traceoptions packet-filter NAME <term> <value>` names them.
def _set(nets) -> str:
    nets = [str(n) for n in nets]
    return nets[0] if len(nets) == 1 else "{ " + ", ".join(nets) + " }"


def _nat_chains(site: Site) -> list[str]:
    """The NAT chains, rules in the order they apply, first match wins (an `off` rule accepts,
    which ends NAT for the packet without translating it)."""
    out: list[str] = []
    inbound = []
    for n in site.static_nat:
        inbound.append(f"iifname @zone_{_ident(n.from_zone)} ip daddr {n.destination.network_address} counter "
                       f"dnat ip to {n.prefix.network_address} {_comment(f'static {n.name} ({n.source})')}")
    for n in site.destination_nat:
        match = f"ip saddr {_set(n.sources)} " if n.sources else ""
        match += f"ip daddr {_set([n.destination])} "
        if n.port:
            match += f"meta l4proto {{ tcp, udp }} th dport {n.port} "
        verdict = "accept" if n.pool is None else \
            f"dnat ip to {n.pool.text()}" + (f":{n.pool.port}" if n.pool.port else "")
        what = "off" if n.pool is None else f"pool {n.pool.name}"
        inbound.append(f"iifname @zone_{_ident(n.from_zone)} {match}counter {verdict} "
                       f"{_comment(f'destination {n.name}: {what} ({n.source})')}")
    if inbound:
        out += ["", "    chain dstnat {", "        type nat hook prerouting priority dstnat; policy accept;"]
        out += [f"        {line}" for line in inbound] + ["    }"]
    outbound = []
    for n in site.static_nat:  # the reverse of a static rule wins over source NAT (Junos's order)
        outbound.append(f"oifname @zone_{_ident(n.from_zone)} ip saddr {n.prefix.network_address} counter "
                        f"snat ip to {n.destination.network_address} {_comment(f'static {n.name} reverse ({n.source})')}")
    for n in site.source_nat():
        match = f"ip saddr {_set(n.sources)} " if n.sources else ""
        match += f"ip daddr {_set(n.destinations)} " if n.destinations else ""
        verdict = ("accept" if not n.translate else f"snat ip to {n.pool.text()}" if n.pool else "masquerade")
        what = f"source-nat pool {n.action}" if n.pool else f"source-nat {n.action}"
        outbound.append(f"iifname @zone_{_ident(n.from_zone)} oifname @zone_{_ident(n.to_zone)} {match}counter "
                        f"{verdict} {_comment(f'{n.name}: {what} ({n.source})')}")
    if outbound:
        out += ["", "    chain srcnat {", "        type nat hook postrouting priority srcnat; policy accept;"]
        out += [f"        {line}" for line in outbound] + ["    }"]
    return out


TRACE_TERMS = ("source-prefix", "destination-prefix", "protocol", "source-port", "destination-port", "interface")
_PROTOCOLS = {"icmp": "icmp", "tcp": "tcp", "udp": "udp", "esp": "esp", "1": "icmp", "6": "tcp", "17": "udp", "50": "esp"}


def trace_table(site: Site | None, filters: list[dict[str, str]]) -> str:
    """A table that marks packets for `nft monitor trace` as Junos packet filters select them:
    the terms of one filter all match (AND), any filter may match (OR), and reply traffic of a
    connection whose original direction matches is traced too (conntrack's original tuple).
    It hooks after conntrack and before the policies, for forwarded and local traffic alike."""
    rules = []
    for i, f in enumerate(filters):
        unknown = set(f) - set(TRACE_TERMS)
        if unknown:
            raise ConfigError(f"packet filter {i + 1}: unknown term(s) {', '.join(sorted(unknown))} "
                              f"(terms: {', '.join(TRACE_TERMS)})")
        m = []
        if "source-prefix" in f:
            m.append(f"ct original ip saddr {f['source-prefix']}")
        if "destination-prefix" in f:
            m.append(f"ct original ip daddr {f['destination-prefix']}")
        if "protocol" in f:
            proto = _PROTOCOLS.get(f["protocol"].lower())
            if proto is None:
                raise ConfigError(f"packet filter {i + 1}: protocol {f['protocol']}: one of {', '.join(sorted(set(_PROTOCOLS.values())))}")
            m.append(f"meta l4proto {proto}")  # the same in both directions
        if ("source-port" in f or "destination-port" in f) and f.get("protocol", "").lower() not in ("tcp", "udp", "6", "17"):
            raise ConfigError(f"packet filter {i + 1}: a port needs protocol tcp or udp")
        for term, key in (("source-port", "proto-src"), ("destination-port", "proto-dst")):
            if term in f:
                if not re.fullmatch(r"[0-9]{1,5}", f[term]) or not 0 < int(f[term]) < 65536:
                    raise ConfigError(f"packet filter {i + 1}: {term} {f[term]}: a port number (1-65535)")
                m.append(f"ct original {key} {int(f[term])}")
        if "interface" in f:
            name = linux_ifname(site.os, f["interface"]) if site else f["interface"]
            m.append(f'iifname "{name}"')
        rules.append(f"        {' '.join(m)} meta nftrace set 1 {_comment(f'packet-filter {i + 1}')}".replace("  meta", " meta"))
    chains = []
    for chain, hook in (("pre", "prerouting"), ("out", "output")):
        chains += [f"    chain {chain} {{", f"        type filter hook {hook} priority -150; policy accept;", *rules, "    }"]
    return "\n".join([f"table inet {TRACE_TABLE} {{", *chains, "}"]) + "\n"
