"""The netns runtime's one job: make node namespaces exist and cable them (veth pairs).

Everything else about a node (addresses, st0, routes, nftables, charon) is `configure.py`, shared
with any runtime that hands over namespaces another way (containerlab exposes its containers').
Both ends of a veth are created directly in their nodes' namespaces under their final names, so
the host's own namespace never holds a lab interface, not even briefly.
"""
from __future__ import annotations

from pyroute2 import netns as pnetns

from ..errors import LabError
from ..model.lab import Lab
from ..model.mgmt import mgmt_plan
from . import nsexec, process
from .paths import mgmt_ns, ns_name
from .provider import Provider


class NetnsProvider(Provider):
    name = "netns"
    cables_mgmt = True  # it makes the management network itself (containerlab does its own)
    in_place = True

    def create(self, lab: Lab, lab_name: str, only: list[str] | None = None) -> dict[str, str]:
        """Create one namespace per node and the topology's links; returns node -> namespace.
        With `only`, just those nodes (added to a running lab) and the links that reach them."""
        namespaces = {node: ns_name(lab_name, node) for node in lab.nodes}
        new = {n: namespaces[n] for n in (only if only is not None else lab.nodes)}
        existing = set(pnetns.listnetns())
        for ns in new.values():
            if ns in existing:
                raise LabError(f"network namespace {ns} already exists (another lab, or a leftover: "
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
                with nsexec.iproute(a) as ipr:
                    extra = {"mtu": link.mtu} if link.mtu else {}
                    ipr.link("add", ifname=link.a.iface, kind="veth",
                             peer={"ifname": link.b.iface, "net_ns_fd": b, **extra}, **extra)
            self._cable_mgmt(lab, lab_name, new, created, first=only is None)
        except BaseException:
            self.destroy(lab_name, created)
            raise
        return new

    def _cable_mgmt(self, lab: Lab, lab_name: str, nodes: dict[str, str], created: list[str], first: bool) -> None:
        """A management bridge in a namespace of its own, and an eth0 in every node on it (as
        containerlab's docker network gives each container); its .1 is the bridge's."""
        mgmt, mns = mgmt_plan(lab), mgmt_ns(lab_name)
        if first:
            pnetns.create(mns)
            created.append(mns)
            with nsexec.iproute(mns) as ipr:
                ipr.link("add", ifname="br0", kind="bridge")
                br = ipr.link_lookup(ifname="br0")[0]
                ipr.addr("add", index=br, address=str(next(mgmt.subnet.hosts())), prefixlen=mgmt.subnet.prefixlen)
                ipr.link("set", index=br, state="up")
                ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        with nsexec.iproute(mns) as ipr:
            br = ipr.link_lookup(ifname="br0")[0]
            for node, ns in nodes.items():
                port = f"mg{lab.nodes.index(node)}"
                ipr.link("add", ifname=port, kind="veth", peer={"ifname": "eth0", "net_ns_fd": ns})
                idx = ipr.link_lookup(ifname=port)[0]
                ipr.link("set", index=idx, master=br, state="up")

    def mgmt_namespace(self, lab_name: str) -> str | None:
        return mgmt_ns(lab_name)

    def destroy(self, lab_name: str, namespaces: list[str], lab: Lab | None = None) -> list[str]:
        """Remove namespaces (their interfaces go with them); returns those that were there."""
        present = set(pnetns.listnetns())
        # Whatever still runs in them goes first: a daemon the lab's state does not name (its
        # command was killed before writing it) would otherwise keep its namespace alive, unnamed.
        process.end_all(nsexec.pids_in([ns for ns in namespaces if ns in present]))
        removed = []
        for ns in namespaces:
            if ns in present:
                pnetns.remove(ns)
                removed.append(ns)
        return removed
