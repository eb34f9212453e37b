"""Everything rendered for one node, as named files (what `render --out` writes and `up` uses)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..model.lab import Lab
from . import nftables, strongswan
from .netplan import node_plan


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    secret: bool = False


def _plan_json(lab: Lab, node: str) -> str:
    return json.dumps(asdict(node_plan(lab, node)), indent=2, default=str) + "\n"


def render_node(lab: Lab, node: str, reveal: bool) -> list[Rendered]:
    """The files for `node`; secrets only when `reveal` (files on disk) is asked for."""
    out = [Rendered("plan.json", _plan_json(lab, node))]
    site = lab.sites.get(node)
    if site is not None:
        out += [
            Rendered("swanctl.conf", strongswan.swanctl_conf(site, reveal=reveal), secret=True),
            Rendered("strongswan.conf", strongswan.strongswan_conf(strongswan.retransmission(site))),
            Rendered("nftables.conf", nftables.ruleset(site)),
        ]
    return out
