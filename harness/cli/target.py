"""Which lab and which node a command means: from -t/--topology, --name and --node, with the
defaults every command shares (the topology's lab, the hub)."""
from __future__ import annotations

from ..drivers import for_lab
from ..errors import LabError
from ..model.lab import Lab, load_lab


def load(args) -> Lab:
    return load_lab(args.topology, name=getattr(args, "name", None))


def lab_name(args) -> str:
    return args.name or load_lab(args.topology).name


def running_lab(args):
    """(lab name, a driver per node, the model the lab was brought up with)."""
    name = lab_name(args)
    drivers = for_lab(name)
    return name, drivers, next(iter(drivers.values())).model


def node(model: Lab, node: str | None, sites_only: bool = True) -> str:
    """`node`, or the hub (else the first site) when none is named; an unknown one is refused."""
    node = node or (model.hub().name if model.hub() else next(iter(model.sites)))
    if node not in (model.sites if sites_only else model.nodes):
        raise LabError(f"lab {model.name} has no {'site' if sites_only else 'node'} '{node}' "
                       f"({', '.join(model.sites if sites_only else model.nodes)})")
    return node
