"""Shared paths and helpers for the test suite."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "lab"
TOPOLOGIES = REPO / "topologies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
THREE_SITE = TOPOLOGIES / "three-site.clab.yml"


def pytest_addoption(parser):
    parser.addoption("--driver", default="linux", choices=["linux", "junos-ssh"],
                     help="how the verification tests ask the sites: linux (vici, netlink) or junos-ssh "
                          "(their Junos CLI over SSH, parsed as a vSRX's would be)")


def strip_sources(obj):
    """A model as plain data without where it came from (file, line), for comparing two syntaxes."""
    if dataclasses.is_dataclass(obj):
        return {f.name: strip_sources(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.name not in ("source", "file") and not f.name.endswith("_source") and f.name != "address_sources"}
    if isinstance(obj, dict):
        return {k: strip_sources(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strip_sources(v) for v in obj]
    if isinstance(obj, set):
        return sorted(obj)
    return obj


@pytest.fixture
def lab_copy(tmp_path: Path) -> Path:
    """A writable copy of lab/ and topologies/ (same relative layout): returns the topology path."""
    shutil.copytree(LAB, tmp_path / "lab")
    shutil.copytree(TOPOLOGIES, tmp_path / "topologies")
    return tmp_path / "topologies" / THREE_SITE.name
