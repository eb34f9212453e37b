"""The management network, as containerlab gives one: a subnet (the topology's `mgmt` section,
172.20.20.0/24 by default) and an address per node (its `mgmt-ipv4`, else the next free one in
node order). Stand-ins serve their Junos-style CLI over SSH there; `admin` / `admin@123` are
containerlab's vSRX defaults, overridable per node with labels."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..errors import ConfigError
from .lab import Lab

DEFAULT_SUBNET = IPv4Network("172.20.20.0/24")
USER_LABEL, PASSWORD_LABEL = "nhtb-lab.username", "nhtb-lab.password"
DEFAULT_USER, DEFAULT_PASSWORD = "admin", "admin@123"
SSH_PORT = 22
MGMT_IFNAME = "eth0"  # containerlab's management interface in every node (the SRX's fxp0)


@dataclass(frozen=True)
class Mgmt:
    subnet: IPv4Network
    addresses: dict[str, IPv4Interface]  # node -> its management address

    def address(self, node: str) -> IPv4Address:
        return self.addresses[node].ip


def mgmt_plan(lab: Lab) -> Mgmt:
    spec = lab.topology.mgmt or {}
    try:
        subnet = IPv4Network(spec.get("ipv4-subnet") or spec.get("ipv4_subnet") or DEFAULT_SUBNET)
    except ValueError as e:
        raise ConfigError(f"{lab.topology.file}: mgmt ipv4-subnet: {e}") from None
    fixed: dict[str, IPv4Address] = {}
    for name, node in lab.topology.nodes.items():
        if node.mgmt_ipv4:
            try:
                fixed[name] = IPv4Address(node.mgmt_ipv4)
            except ValueError as e:
                raise ConfigError(f"node {name}: mgmt-ipv4: {e}", node.source) from None
            if fixed[name] not in subnet:
                raise ConfigError(f"node {name}: mgmt-ipv4 {fixed[name]} is outside the mgmt subnet {subnet}", node.source)
    # .1 is the gateway's on containerlab's bridge; nodes take the rest, in order.
    free = (a for a in list(subnet.hosts())[1:] if a not in fixed.values())
    out = {}
    for name in lab.nodes:
        addr = fixed.get(name) or next(free, None)
        if addr is None:
            raise ConfigError(f"{lab.topology.file}: the mgmt subnet {subnet} has no address left for {name}")
        out[name] = IPv4Interface(f"{addr}/{subnet.prefixlen}")
    return Mgmt(subnet, out)


def credentials(lab: Lab, node: str) -> tuple[str, str]:
    labels = lab.topology.nodes[node].labels
    return labels.get(USER_LABEL, DEFAULT_USER), labels.get(PASSWORD_LABEL, DEFAULT_PASSWORD)
