"""The netns runtime's one job: make node namespaces exist and cable them (veth pairs).

Everything else about a node (addresses, st0, routes, nftables, charon) is `configure.py`, shared
with any runtime that hands over namespaces another way (containerlab exposes its containers').
Both ends of a veth are created directly in their nodes' namespaces under their final names, so
the host's own namespace never holds a lab interface, not even briefly.
"""
from __future__ import annotations

from pyroute2 import NetNS
from pyroute2 import netns as pnetns

from ..model.lab import Lab
from .paths import ns_name


class NetnsProvider:
    name = "netns"

    def create(self, lab: Lab, lab_name: str, only: list[str] | None = None) -> dict[str, str]:
        """Create one namespace per node and the topology's links; returns node -> namespace.
        With `only`, just those nodes (added to a running lab) and the links that reach them."""
        namespaces = {node: ns_name(lab_name, node) for node in lab.nodes}
        new = {n: namespaces[n] for n in (only if only is not None else lab.nodes)}
        existing = set(pnetns.listnetns())
        for ns in new.values():
            if ns in existing:
                raise FileExistsError(f"network namespace {ns} already exists (another lab, or a leftover: "
                                      f"nhtb-lab down --name {lab_name})")
        created: list[str] = []
        try:
            for ns in new.values():
                pnetns.create(ns)
                created.append(ns)
            for link in lab.topology.links:
                if link.a.node not in new and link.b.node not in new:
                    continue
                a, b = namespaces[link.a.node], namespaces[link.b.node]
                with NetNS(a) as ipr:
                    extra = {"mtu": link.mtu} if link.mtu else {}
                    ipr.link("add", ifname=link.a.iface, kind="veth",
                             peer={"ifname": link.b.iface, "net_ns_fd": b, **extra}, **extra)
        except BaseException:
            self.destroy(created)
            raise
        return new

    def destroy(self, namespaces: list[str]) -> list[str]:
        """Remove namespaces (their interfaces go with them); returns those that were there."""
        present = set(pnetns.listnetns())
        removed = []
        for ns in namespaces:
            if ns in present:
                pnetns.remove(ns)
                removed.append(ns)
        return removed
