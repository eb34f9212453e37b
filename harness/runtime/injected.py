"""Faults injected into a running lab (`nhtb-lab fault inject NAME`), as opposed to the note's
config faults (`model/faults.py`): a cut cable, a lossy Internet, a dead daemon. `repair` undoes
them all, as an operator (or Junos restarting kmd) would: links up, netem gone, dead daemons
started again with their connections and keys, then the VPNs and the NHTB table waited for.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import LabError
from ..model.ifnames import linux_ifname
from ..model.lab import Lab
from ..model.topology import ends
from . import nsexec
from .state import LabState

RUNTIME_FAULTS = {
    "link-cut": "the site's Internet link cut at its far end (the site itself still sees its link up)",
    "netem": "loss and delay on the site's Internet link (tc netem at its far end)",
    "kill-charon": "the site's IKE daemon killed (SIGKILL): its SAs stay in the kernel, nobody keeps them",
    "kill-binder": "the hub's binder killed: nobody keeps its NHTB table or its policies",
    "kill-mgmtd": "the management daemon killed (the stand-ins' SSH CLI)",
}


@dataclass(frozen=True)
class Upstream:
    node: str  # the node at the far end of the site's Internet link (the Internet router)
    iface: str


def upstream(lab: Lab, site: str) -> Upstream:
    """The far end of `site`'s Internet link: where a cut or a lossy line is made."""
    own = lab.sites[site]
    gateways = [e.gateway for e in ends(own)]
    if not gateways:
        raise LabError(f"lab {lab.name}: {site} has no IKE gateway, so no Internet link to cut")
    near = linux_ifname(own.os, gateways[0].external_interface)
    far = next((b for a, b in lab.topology.links_of(site) if a.iface == near), None)
    if far is None:
        raise LabError(f"lab {lab.name}: {site}'s Internet interface {near} is not cabled in the topology")
    return Upstream(far.node, far.iface)


def target(lab: Lab, fault: str, node: str | None) -> str | None:
    """The site a fault is made on (a spoke when none is named; the hub for its binder)."""
    if fault not in RUNTIME_FAULTS:
        raise LabError(f"no runtime fault '{fault}' (faults: {', '.join(RUNTIME_FAULTS)})")
    hub = lab.hub()
    if fault == "kill-mgmtd":
        return None
    if fault == "kill-binder":
        if node and (hub is None or node != hub.name):
            raise LabError(f"kill-binder: only the hub runs a binder ({hub.name if hub else 'this lab has no hub'})")
        if hub is None:
            raise LabError(f"lab {lab.name} has no hub, so no binder")
        return hub.name
    if node is None:
        node = next((s for s in lab.sites if hub is None or s != hub.name), None)
    if node not in lab.sites:
        raise LabError(f"lab {lab.name} has no site '{node}' (sites: {', '.join(lab.sites)})")
    return node


def netem_argv(iface: str, loss: float, delay_ms: int) -> list[str]:
    if not 0 <= loss <= 100 or delay_ms < 0:
        raise LabError(f"netem: loss must be 0-100 % and delay at least 0 ms (got {loss} %, {delay_ms} ms)")
    return ["tc", "qdisc", "replace", "dev", iface, "root", "netem", "loss", f"{loss:g}%", "delay", f"{delay_ms}ms"]


def link_ends(lab: Lab, state: LabState) -> list[tuple[str, str, str]]:
    """(node, namespace, interface) of every cabled interface."""
    return [(e.node, state.nodes[e.node].ns, e.iface) for ln in lab.topology.links for e in (ln.a, ln.b)
            if e.node in state.nodes]


def restore_links(lab: Lab, state: LabState) -> list[str]:
    """Every cabled interface up and without a netem qdisc; what had to be undone."""
    done = []
    for node, ns, iface in link_ends(lab, state):
        if nsexec.run(ns, ["tc", "qdisc", "del", "dev", iface, "root"]).returncode == 0:
            done.append(f"netem removed on {node} {iface}")
        shown = nsexec.run(ns, ["ip", "-o", "link", "show", "dev", iface]).stdout
        flags = shown.split("<", 1)[1].split(">", 1)[0].split(",") if "<" in shown else []
        if shown and "UP" not in flags:  # administratively down (a cut), not merely without carrier
            nsexec.run(ns, ["ip", "link", "set", iface, "up"])
            done.append(f"{node} {iface} up")
    return done
