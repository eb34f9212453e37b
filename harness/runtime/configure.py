"""Configure one node inside its namespace from its rendered plan: shared by every runtime."""
from __future__ import annotations

import errno
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ..errors import LabError
from ..render.diff import NodeChange
from ..render.netplan import NodePlan, RoutePlan
from . import nsexec


def _index(ipr: IPRoute, ifname: str, node: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise LabError(f"node {node}: interface {ifname} does not exist (is it cabled in the topology?)")
    return found[0]


def _add_address(ipr: IPRoute, idx: int, a) -> None:
    try:
        ipr.addr("add", index=idx, address=str(a.ip), prefixlen=a.network.prefixlen)
    except NetlinkError as e:
        if e.code != errno.EEXIST:  # already there: a re-applied plan
            raise


def configure_links(ns: str, plan: NodePlan) -> None:
    """Addresses, tunnel (xfrm) interfaces, sysctls and routes. Applying a plan again (a changed
    config, in place) adds what is new and leaves what is there."""
    with nsexec.iproute(ns) as ipr:
        ipr.link("set", index=_index(ipr, "lo", plan.node), state="up")
        for link in plan.links:
            idx = _index(ipr, link.ifname, plan.node)
            ipr.link("set", index=idx, state="up")
            for a in link.addresses:
                _add_address(ipr, idx, a)
        for t in plan.tunnels:
            extra = {"xfrm_link": _index(ipr, t.underlay, plan.node)} if t.underlay else {}
            if ipr.link_lookup(ifname=t.ifname):
                continue
            try:
                ipr.link("add", ifname=t.ifname, kind="xfrm", xfrm_if_id=t.if_id, **extra)
            except Exception as e:  # the kernel probe normally catches this first
                raise LabError(f"node {plan.node}: cannot create xfrm interface {t.ifname}: {e}") from None
            idx = _index(ipr, t.ifname, plan.node)
            ipr.link("set", index=idx, state="up")
            for a in t.addresses:
                _add_address(ipr, idx, a)
        nsexec.write_sysctls(ns, plan.sysctls)
        for r in plan.routes:
            try:
                ipr.route("replace", **_route_spec(ipr, r, plan.node))
            except Exception as e:
                raise LabError(f"node {plan.node}: route {r.prefix} ({r.origin}): {e}") from None


def _route_spec(ipr: IPRoute, r: RoutePlan, node: str) -> dict:
    spec = {"dst": str(r.prefix)}
    if r.gateway is not None:
        spec["gateway"] = str(r.gateway)
    if r.dev is not None:
        spec["oif"] = _index(ipr, r.dev, node)
    return spec


def _absent(e: NetlinkError) -> bool:
    return e.code in (errno.ESRCH, errno.EADDRNOTAVAIL, errno.ENODEV, errno.ENOENT)


def apply_link_changes(ns: str, node: str, change: NodeChange) -> None:
    """A node's part of a change in place: what is new first (tunnels, addresses, routes), then
    what went (routes, addresses, tunnels), so traffic that can keep flowing does."""
    with nsexec.iproute(ns) as ipr:
        for ifname in change.interfaces_added:  # the node's end of a link to a new node
            ipr.link("set", index=_index(ipr, ifname, node), state="up")
        for t in change.tunnels_removed:  # a replaced tunnel goes before its successor comes
            for idx in ipr.link_lookup(ifname=t):
                ipr.link("del", index=idx)
        for t in change.tunnels_added:
            extra = {"xfrm_link": _index(ipr, t.underlay, node)} if t.underlay else {}
            ipr.link("add", ifname=t.ifname, kind="xfrm", xfrm_if_id=t.if_id, **extra)
            idx = _index(ipr, t.ifname, node)
            ipr.link("set", index=idx, state="up")
            for a in t.addresses:
                _add_address(ipr, idx, a)
        for ifname, a in change.addresses_added:
            _add_address(ipr, _index(ipr, ifname, node), a)
        for r in change.routes_set:
            try:
                ipr.route("replace", **_route_spec(ipr, r, node))
            except Exception as e:
                raise LabError(f"node {node}: route {r.prefix} ({r.origin}): {e}") from None
        for r in change.routes_removed:
            try:
                ipr.route("del", dst=str(r.prefix))
            except NetlinkError as e:
                if not _absent(e):
                    raise
        for ifname, a in change.addresses_removed:
            try:
                ipr.addr("del", index=_index(ipr, ifname, node), address=str(a.ip), prefixlen=a.network.prefixlen)
            except NetlinkError as e:
                if not _absent(e):
                    raise


def configure_mgmt(ns: str, node: str, address) -> None:
    """The node's management address on eth0 (containerlab configures it itself)."""
    with nsexec.iproute(ns) as ipr:
        idx = _index(ipr, "eth0", node)
        _add_address(ipr, idx, address)
        ipr.link("set", index=idx, state="up")


def load_nftables(ns: str, node: str, ruleset: Path) -> None:
    res = nsexec.run(ns, ["nft", "-f", str(ruleset)])
    if res.returncode != 0:
        raise LabError(f"node {node}: nft rejected {ruleset}: {res.stderr.strip()}")
