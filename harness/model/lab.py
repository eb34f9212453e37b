"""A whole lab: the topology's nodes, each site's model from its startup-config, the hosts.

`load_lab` is the one entry point from files to a validated model: parse every file, build
every site, validate each alone and all together (interfaces cabled, no address claimed twice),
and raise one ConfigError listing every problem with its file:line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ..errors import ConfigError, Source
from ..parse.clab import NodeSpec, TopologySpec, load_topology
from ..errors import redact
from ..parse.junos import parse_junos
from ..parse.screenos import parse_screenos
from ..parse.statements import read_config
from .hosts import Host, host_from_exec
from .ifnames import linux_ifname
from .junos_site import build_junos_site
from .screenos_site import build_screenos_site
from .site import OS, Site
from .validate import Problem, validate_site

OS_LABEL = "nhtb-lab.os"
# The text layout a stand-in's Junos CLI answers in: what current SRX releases print, or the note's.
OUTPUT_LABEL = "nhtb-lab.junos-output"
OUTPUT_LAYOUTS = ("current", "2009")
KIND_OS: dict[str, OS] = {"juniper_vsrx": "junos"}  # kinds whose OS is implied


@dataclass
class Lab:
    name: str
    topology: TopologySpec
    sites: dict[str, Site]
    hosts: dict[str, Host]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        return list(self.topology.nodes)

    def kind(self, node: str) -> str:
        return self.topology.nodes[node].kind

    def site_owning(self, addr: IPv4Address) -> Site | None:
        return next((s for s in self.sites.values() for _, a in s.addresses() if a.ip == addr), None)

    def lan_host(self, site: str) -> str | None:
        """The host on `site`'s LAN (the topologies cable one PC per site)."""
        nets = self.sites[site].lan_networks()
        return next((h for h, host in self.hosts.items() if any(a.ip in n for _, a, _ in host.addresses for n in nets)), None)

    def host_address(self, host: str) -> str:
        return str(self.hosts[host].addresses[0][1].ip)

    def hub(self) -> Site | None:
        return next((s for s in self.sites.values() if s.is_hub), None)


def _display(path: Path) -> str:
    """Paths in messages relative to the working directory when they are under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def node_os(node: NodeSpec) -> OS | None:
    os = node.labels.get(OS_LABEL) or KIND_OS.get(node.kind)
    return os  # type: ignore[return-value]


def _load_site(node: NodeSpec, problems: list[Problem], warnings: list[Problem]) -> Site | None:
    os = node_os(node)
    if os not in ("junos", "screenos"):
        problems.append((node.source, f"node {node.name}: startup-config needs label {OS_LABEL}: junos|screenos"
                         + (f" (found '{os}')" if os else "")))
        return None
    path = node.startup_config
    assert path is not None
    shown = _display(path)
    try:
        text = read_config(path, shown)
    except ConfigError as e:
        # A file that cannot be read at all is the topology's mistake: name its startup-config line.
        problems.extend((src or node.config_source or node.source, f"node {node.name}: startup-config: {msg}")
                        for src, msg in e.problems)
        return None
    try:
        if os == "junos":
            site, warn = build_junos_site(node.name, parse_junos(text, shown))
        else:
            site, warn = build_screenos_site(node.name, parse_screenos(text, shown))
    except ConfigError as e:
        problems.extend(e.problems)
        return None
    warnings.extend((src, redact(msg)) for src, msg in warn)  # warnings quote statements: no key in them
    problems.extend(validate_site(site))
    return site


def _check_cabling(topo: TopologySpec, sites: dict[str, Site], hosts: dict[str, Host], problems: list[Problem]) -> None:
    for name, site in sites.items():
        cabled = {ep.iface for ep, _ in topo.links_of(name)}
        for unit in site.units.values():
            if unit.tunnel or not unit.addresses:
                continue
            try:
                ifname = linux_ifname(site.os, unit.name)
            except ValueError as e:
                problems.append((unit.source, str(e)))
                continue
            if ifname not in cabled:
                problems.append((unit.source, f"{unit.name} ({name}:{ifname}) has an address but no link in "
                                 f"{topo.file}"))
    for name, host in hosts.items():
        cabled = {ep.iface for ep, _ in topo.links_of(name)}
        for ifname, _, src in host.addresses:
            if ifname not in cabled:
                problems.append((src, f"node {name}: {ifname} has no link in this topology"))


def _check_unique_addresses(sites: dict[str, Site], hosts: dict[str, Host], problems: list[Problem]) -> None:
    owners: dict[IPv4Address, tuple[str, Source]] = {}
    claims = [(s.name, a.ip, u.source) for s in sites.values() for u in s.units.values() for a in u.addresses]
    claims += [(h.name, a.ip, src) for h in hosts.values() for _, a, src in h.addresses]
    for node, ip, src in claims:
        if ip in owners and owners[ip][0] != node:
            other, osrc = owners[ip]
            problems.append((src, f"address {ip} is claimed by {node} and by {other} ({osrc})"))
        owners.setdefault(ip, (node, src))


def _check_host_routes(sites: dict[str, Site], hosts: dict[str, Host], complete: bool, problems: list[Problem]) -> None:
    """A host's route must go via an address on its own subnet that some node holds (when every
    site was built: a site that failed would make its addresses look unheld)."""
    held = {a.ip for s in sites.values() for _, a in s.addresses()}
    held |= {a.ip for h in hosts.values() for _, a, _ in h.addresses}
    for host in hosts.values():
        nets = [a.network for _, a, _ in host.addresses]
        for r in host.routes:
            if not any(r.via in n for n in nets):
                problems.append((r.source, f"node {host.name}: route {r.prefix} via {r.via}: {r.via} is not on "
                                 f"its subnets ({', '.join(map(str, nets)) or 'none'})"))
            elif complete and r.via not in held:
                problems.append((r.source, f"node {host.name}: route {r.prefix} via {r.via}: no node in the lab "
                                 f"holds {r.via}"))


def build_lab(topo: TopologySpec, name: str | None = None) -> Lab:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    sites: dict[str, Site] = {}
    hosts: dict[str, Host] = {}
    for node in topo.nodes.values():
        if node.startup_config is not None:
            site = _load_site(node, problems, warnings)
            if site is not None:
                sites[node.name] = site
        else:
            try:
                hosts[node.name] = host_from_exec(node)
            except ConfigError as e:
                problems.extend(e.problems)
    for node in topo.nodes.values():
        layout = node.labels.get(OUTPUT_LABEL)
        if layout is not None and str(layout) not in OUTPUT_LAYOUTS:
            problems.append((node.source, f"node {node.name}: label {OUTPUT_LABEL} is '{layout}': one of "
                                          f"{', '.join(OUTPUT_LAYOUTS)}"))
    _check_cabling(topo, sites, hosts, problems)
    _check_unique_addresses(sites, hosts, problems)
    devices = [n for n in topo.nodes.values() if n.startup_config is not None]
    _check_host_routes(sites, hosts, len(sites) == len(devices), problems)
    if problems:
        raise ConfigError(problems)
    return Lab(name or topo.name, topo, sites, hosts, warnings)


def load_lab(topology: Path | str, name: str | None = None, env: dict[str, str] | None = None) -> Lab:
    """Parse and validate a topology and every config it points at."""
    topology = Path(topology)
    topo = load_topology(topology, env)
    topo.file = Path(_display(topology.resolve()))
    return build_lab(topo, name)
