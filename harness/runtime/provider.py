"""How a lab's node namespaces come to exist: the seam between the lifecycle and the providers
(netns.py: namespaces on this kernel; clab.py: containerlab's containers; a Kubernetes one later).
The lifecycle only talks to this interface, so shared code never branches on a provider's name."""
from __future__ import annotations

from abc import ABC, abstractmethod

from ..model.lab import Lab

VSRX_KINDS = ("juniper_vsrx", "vr-vsrx", "vr-juniper_vsrx")


def is_device(lab: Lab, node: str) -> bool:
    """A node that boots as a real device (its config is its own business, not ours)."""
    return lab.kind(node) in VSRX_KINDS


class Provider(ABC):
    name: str
    cables_mgmt: bool  # it makes the management network itself (containerlab's is its own)
    in_place: bool  # nodes can be added to and removed from a running lab

    @abstractmethod
    def create(self, lab: Lab, lab_name: str, only: list[str] | None = None) -> dict[str, str]:
        """Make the namespaces of `lab`'s nodes (with `only`, of those nodes only) and their links;
        returns node -> namespace. Undoes what it made if it fails."""

    @abstractmethod
    def destroy(self, lab_name: str, namespaces: list[str], lab: Lab | None = None) -> list[str]:
        """Remove the lab's namespaces (or those of some of its nodes); returns those removed."""

    def mgmt_namespace(self, lab_name: str) -> str | None:
        """Where the management network can be reached from (None: this host's own namespace)."""
        return None

    def configures(self, lab: Lab, node: str) -> bool:
        """Whether the harness configures this node (a real device configures itself)."""
        return not is_device(lab, node)
