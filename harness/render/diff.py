"""What a change does to a running lab (pure): `diff(old, new)` compares two labs by what the
stand-ins are configured with (the network plans, rulesets, strongSwan connections and secrets,
the binding specs), not by the configs' text, so moving a statement to another line changes
nothing. The runtime's `apply` carries the difference out, removals included, in a safe order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Interface

from ..model.lab import Lab
from ..model.topology import ends, peer_end
from . import nftables, strongswan
from .binding import binding_specs
from .netplan import NodePlan, RoutePlan, TunnelPlan, lab_plan


@dataclass(frozen=True)
class NodeChange:
    """What changes on one node that stays in the lab."""

    node: str
    interfaces_added: tuple[str, ...] = ()  # cabled to a new node: brought up
    addresses_added: tuple[tuple[str, IPv4Interface], ...] = ()  # (Linux interface, address)
    addresses_removed: tuple[tuple[str, IPv4Interface], ...] = ()
    tunnels_added: tuple[TunnelPlan, ...] = ()
    tunnels_removed: tuple[str, ...] = ()  # Linux interface names
    routes_set: tuple[RoutePlan, ...] = ()  # new, or the same prefix through another next hop
    routes_removed: tuple[RoutePlan, ...] = ()
    sysctls: bool = False
    ruleset: bool = False
    connections_loaded: tuple[str, ...] = ()  # new or changed strongSwan connections (VPNs)
    connections_unloaded: tuple[str, ...] = ()
    secrets_loaded: tuple[str, ...] = ()  # shared-secret ids (the keys themselves stay out)
    secrets_unloaded: tuple[str, ...] = ()
    binding: bool = False

    def links(self) -> bool:
        return bool(self.interfaces_added or self.addresses_added or self.addresses_removed or self.tunnels_added
                    or self.tunnels_removed or self.routes_set or self.routes_removed or self.sysctls)

    def empty(self) -> bool:
        return not (self.links() or self.ruleset or self.connections_loaded or self.connections_unloaded
                    or self.secrets_loaded or self.secrets_unloaded or self.binding)

    def summary(self) -> list[str]:
        """One line per kind of change, in the words `apply` reports it with."""
        out = []
        for what, items in (("interface added", list(self.interfaces_added)),
                            ("address added", [f"{a} on {i}" for i, a in self.addresses_added]),
                            ("address removed", [f"{a} on {i}" for i, a in self.addresses_removed]),
                            ("tunnel interface added", [t.unit for t in self.tunnels_added]),
                            ("tunnel interface removed", list(self.tunnels_removed)),
                            ("route set", [_route(r) for r in self.routes_set]),
                            ("route removed", [_route(r) for r in self.routes_removed]),
                            ("connection loaded", list(self.connections_loaded)),
                            ("connection unloaded", list(self.connections_unloaded)),
                            ("pre-shared key loaded", list(self.secrets_loaded)),
                            ("pre-shared key unloaded", list(self.secrets_unloaded))):
            out += [f"{what}: {x}" for x in items]
        if self.sysctls:
            out.append("sysctls")
        if self.ruleset:
            out.append("security policies (ruleset replaced)")
        if self.binding:
            out.append("next-hop tunnel bindings")
        return out


@dataclass(frozen=True)
class LabDiff:
    added: tuple[str, ...] = ()  # nodes
    removed: tuple[str, ...] = ()
    changed: dict[str, NodeChange] = field(default_factory=dict)  # only nodes with a change
    links_added: tuple[str, ...] = ()  # between nodes that stay (printed as a:eth1 -- b:eth2)
    links_removed: tuple[str, ...] = ()
    vpns_added: frozenset[str] = frozenset()  # VPN end labels (site/vpn) new in the lab
    vpns_removed: frozenset[str] = frozenset()
    # VPNs that stay but whose connection or key changed, both ends: cleared and renegotiated, as
    # an SRX deletes the IKE and IPsec SAs of a gateway or VPN whose configuration a commit changes.
    reconfigured: frozenset[str] = frozenset()

    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.links_added or self.links_removed)


def _route(r: RoutePlan) -> str:
    via = f" via {r.gateway}" if r.gateway else ""
    return f"{r.prefix}{via}" + (f" dev {r.dev}" if r.dev else "")


def _without_origin(r: RoutePlan) -> RoutePlan:
    return replace(r, origin="")


def _plan_change(old: NodePlan, new: NodePlan) -> dict:
    def addrs(plan: NodePlan) -> set[tuple[str, IPv4Interface]]:
        return {(ln.ifname, a) for ln in plan.links for a in ln.addresses} | \
               {(t.ifname, a) for t in plan.tunnels for a in t.addresses}

    old_t, new_t = {t.ifname: t for t in old.tunnels}, {t.ifname: t for t in new.tunnels}
    # A tunnel whose if_id or underlay changed is replaced: removed, then added.
    replaced = {n for n in old_t.keys() & new_t.keys()
                if (old_t[n].if_id, old_t[n].underlay) != (new_t[n].if_id, new_t[n].underlay)}
    old_r = {r.prefix: _without_origin(r) for r in old.routes}
    new_r = {r.prefix: _without_origin(r) for r in new.routes}
    fresh_tunnels = {n for n in new_t if n not in old_t or n in replaced}
    added_addrs = addrs(new) - addrs(old)
    return dict(
        interfaces_added=tuple(sorted({ln.ifname for ln in new.links} - {ln.ifname for ln in old.links})),
        addresses_added=tuple(sorted((i, a) for i, a in added_addrs if i not in fresh_tunnels)),
        addresses_removed=tuple(sorted((i, a) for i, a in addrs(old) - addrs(new) if i in new_t or
                                       i in {ln.ifname for ln in new.links})),
        tunnels_added=tuple(new_t[n] for n in sorted(fresh_tunnels)),
        tunnels_removed=tuple(sorted((old_t.keys() - new_t.keys()) | replaced)),
        # routes through a replaced tunnel go with it: set them again
        routes_set=tuple(r for p, r in sorted(new_r.items()) if old_r.get(p) != r or r.dev in replaced),
        routes_removed=tuple(r for p, r in sorted(old_r.items()) if p not in new_r),
        sysctls=old.sysctls != new.sysctls,
    )


def _ruleset_without_sources(text: str) -> str:
    """A ruleset minus its comments (the rules' comments name the file:line they came from, cut to
    nft's length limit): a moved statement, or the same config read from another folder, is not
    a change; what the rules do is."""
    text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    return re.sub(r' comment "[^"]*"', "", text)


def _link_names(lab: Lab, nodes: set[str]) -> set[str]:
    return {f"{ln.a.node}:{ln.a.iface} -- {ln.b.node}:{ln.b.iface}" for ln in lab.topology.links
            if ln.a.node in nodes and ln.b.node in nodes}


def diff(old: Lab, new: Lab) -> LabDiff:
    """What applying `new` to a running `old` changes, node by node."""
    added = tuple(n for n in new.nodes if n not in old.nodes)
    removed = tuple(n for n in old.nodes if n not in new.nodes)
    kept = [n for n in new.nodes if n in old.nodes]
    old_plans, new_plans = lab_plan(old), lab_plan(new)
    changed = {}
    for node in kept:
        fields_ = _plan_change(old_plans[node], new_plans[node])
        a, b = old.sites.get(node), new.sites.get(node)
        if a is not None and b is not None:
            before, after = strongswan.connections(a), strongswan.connections(b)
            old_keys, new_keys = strongswan.secrets(a), strongswan.secrets(b)
            fields_.update(
                ruleset=_ruleset_without_sources(nftables.ruleset(a)) != _ruleset_without_sources(nftables.ruleset(b)),
                connections_loaded=tuple(sorted(n for n, c in after.items() if before.get(n) != c)),
                connections_unloaded=tuple(sorted(before.keys() - after.keys())),
                secrets_loaded=tuple(sorted(i for i, s in new_keys.items() if old_keys.get(i) != s)),
                secrets_unloaded=tuple(sorted(old_keys.keys() - new_keys.keys())),
                binding=binding_specs(old, a) != binding_specs(new, b))
        elif (a is None) != (b is None):
            fields_.update(ruleset=True, binding=True)  # a host became a site or back: everything
        change = NodeChange(node, **fields_)
        if not change.empty():
            changed[node] = change
    labels = lambda lab: {e.label for s in lab.sites.values() for e in ends(s)}  # noqa: E731
    stay = set(kept)
    added_vpns = frozenset(labels(new) - labels(old))
    return LabDiff(added, removed, changed,
                   tuple(sorted(_link_names(new, stay) - _link_names(old, stay))),
                   tuple(sorted(_link_names(old, stay) - _link_names(new, stay))),
                   added_vpns, frozenset(labels(old) - labels(new)), _reconfigured(new, changed, added_vpns))


def _reconfigured(new: Lab, changed: dict[str, NodeChange], added: frozenset[str]) -> frozenset[str]:
    out = set()
    for node, what in changed.items():
        vpns = {c.removeprefix(strongswan.SECRET_PREFIX) for c in (*what.connections_loaded, *what.secrets_loaded)}
        site_ends = ends(new.sites[node]) if node in new.sites else []
        for end in (e for e in site_ends if e.vpn.name in vpns and e.label not in added):
            peer = peer_end(new, end)
            out |= {end.label} | ({peer.label} if peer else set())
    return frozenset(out)
