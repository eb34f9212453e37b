"""Host PCs and the internet router: their settings from the topology's containerlab `exec` lines.

The lines are what containerlab itself would run in a Linux node; the lab reads the few forms
it needs (address, default or static route, forwarding) and applies them with pyroute2.
Anything else is refused with file:line rather than run through a shell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..errors import ConfigError, Source
from ..parse.clab import NodeSpec

_ADDR = re.compile(r"ip (?:-4 )?addr(?:ess)? add (\S+) dev (\S+)")
_ROUTE = re.compile(r"ip (?:-4 )?route (?:add|replace) (\S+) via (\S+)(?: dev (\S+))?")
_FWD = re.compile(r"sysctl -w net\.ipv4\.ip_forward=([01])")


@dataclass(frozen=True)
class HostRoute:
    prefix: IPv4Network
    via: IPv4Address
    source: Source


@dataclass
class Host:
    name: str
    addresses: list[tuple[str, IPv4Interface, Source]] = field(default_factory=list)
    routes: list[HostRoute] = field(default_factory=list)
    forwarding: bool = False

    @property
    def role(self) -> str:
        return "router" if self.forwarding else "host"


def host_from_exec(node: NodeSpec) -> Host:
    host = Host(node.name)
    problems: list[tuple[Source | None, str]] = []
    for cmd, src in node.exec:
        line = " ".join(cmd.split())
        try:
            if m := _ADDR.fullmatch(line):
                host.addresses.append((m.group(2), IPv4Interface(m.group(1)), src))
            elif m := _ROUTE.fullmatch(line):
                prefix = IPv4Network("0.0.0.0/0" if m.group(1) == "default" else m.group(1))
                host.routes.append(HostRoute(prefix, IPv4Address(m.group(2)), src))
            elif m := _FWD.fullmatch(line):
                host.forwarding = m.group(1) == "1"
            else:
                problems.append((src, f"node {node.name}: exec '{cmd}' is not one nhtb-lab applies "
                                 "(supported: ip addr add A/L dev IF; ip route add|replace P|default via G; "
                                 "sysctl -w net.ipv4.ip_forward=0|1)"))
        except ValueError as e:
            problems.append((src, f"node {node.name}: exec '{cmd}': {e}"))
    if not host.addresses and not problems:
        # Without a startup-config the node is a host or the Internet router: its exec lines are all
        # it is, and with no address it would stand on its links answering nothing.
        problems.append((node.source, f"node {node.name}: no 'ip addr add A/L dev IF' in its exec list "
                         "(a linux node without a startup-config is a host or router: its exec lines configure it)"))
    if problems:
        raise ConfigError(problems)
    return host
