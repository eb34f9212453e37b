"""The note's printed outputs as golden files (tests/fixtures/junos_outputs/), compared with what
the live hub's CLI prints in the note's layout, as FRR's topotests compare JSON: every field the
note shows must be there with the note's value, except those that differ on every run (cookies,
SPIs, indexes, lifetimes, counters, route ages). Both sides are read by the same Junos text
parsers. (The SSH path itself, in the current layout, is tests/integration/test_junos_ssh.py.)"""
from __future__ import annotations

import pytest

from harness.drivers import for_lab
from harness.junos import cli as junos_cli
from harness.junos import ike, ipsec, nhtb, route

from ..conftest import FIXTURES

NOTE = FIXTURES / "junos_outputs"
VOLATILE = {"index", "id", "initiator_cookie", "responder_cookie", "spi", "life_seconds", "age"}


def subset(expected, seen, path="") -> list[str]:
    """Where `seen` differs from `expected` (json_cmp: extra fields in `seen` are fine). A list is
    compared as the set of its items without the volatile fields: a rekeyed SA listed twice for a
    while (old and new SPIs) is one tunnel, and every tunnel must be the note's."""
    if isinstance(expected, dict):
        out = []
        for k, v in expected.items():
            if k in VOLATILE:
                continue
            if not isinstance(seen, dict) or k not in seen:
                out.append(f"{path}.{k}: missing")
            else:
                out += subset(v, seen[k], f"{path}.{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(seen, list):
            return [f"{path}: a list expected, saw {seen!r}"]
        want = {repr(strip(x)) for x in expected}
        keys = set(expected[0]) if expected and isinstance(expected[0], dict) else None  # the note's fields
        have = {repr(strip({k: v for k, v in x.items() if k in keys} if keys and isinstance(x, dict) else x))
                for x in seen}
        return [f"{path}: missing {w}" for w in sorted(want - have)] + [f"{path}: not in the note {h}" for h in sorted(have - want)]
    return [] if expected == seen else [f"{path}: expected {expected!r}, saw {seen!r}"]


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


class NoteLayout:
    """The hub's stand-in CLI answering in the note's (2009) layout, from its live state."""

    def __init__(self, driver):
        self.driver = driver

    def cli(self, command: str) -> str:
        return junos_cli.run(self.driver, command, layout="2009")


@pytest.fixture(scope="module")
def hub(lab):
    return NoteLayout(for_lab(lab.name)[lab.model.hub().name])


def note(name: str) -> str:
    return (NOTE / name).read_text()


def test_the_subset_compare_can_fail():
    assert subset([{"a": 1, "spi": 2}], [{"a": 1, "spi": 3}, {"a": 1, "spi": 4, "b": 0}]) == []
    assert subset([{"a": 1}], [{"a": 2}]) != []
    assert subset([{"a": 1}], []) != []
    assert subset([{"a": 1}], [{"a": 1}, {"a": 2}]) == [": not in the note {'a': 2}"]


@pytest.mark.parametrize("fixture,command,parse", [
    ("ike_sa_table.txt", ike.COMMAND, ike.parse_table),
    ("ipsec_sa_table.txt", ipsec.COMMAND, ipsec.parse_table),
    ("next_hop_tunnels.txt", nhtb.COMMAND, lambda text: [e.__dict__ for e in nhtb.parse_text(text)]),
])
def test_the_hub_prints_the_notes_tables(hub, fixture, command, parse):
    assert subset(parse(note(fixture)), parse(hub.cli(command))) == []


def test_the_hub_routes_as_the_note_shows(hub):
    for table in route.parse_tables(note("show_route.txt")):
        prefix = table["entries"][0]["prefix"]
        seen = route.parse_tables(hub.cli(f"show route {prefix.split('/')[0]}"))
        # The note's inet.0 counts its own routes (9); the lab's table holds what the lab has.
        assert subset({k: v for k, v in table.items() if k in ("table", "holddown", "hidden", "entries")}, seen[0]) == []
