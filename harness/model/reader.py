"""Reading a ParsedConfig into the model: remembers what was read, collects problems."""
from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network

from ..errors import Source
from ..parse.statements import ParsedConfig, Statement


class Reader:
    """Wraps ParsedConfig.match and remembers which statements were read."""

    def __init__(self, cfg: ParsedConfig, modelled=((),), ignored=()):
        self.cfg, self.modelled, self.ignored = cfg, modelled, ignored
        self.used: set[Statement] = set()
        self.problems: list[tuple[Source | None, str]] = []

    def match(self, pattern: str):
        for caps, st in self.cfg.match(pattern):
            self.used.add(st)
            yield caps, st

    def first_sources(self, pattern: str) -> dict[str, Source]:
        """First capture -> where it first appears (e.g. each gateway name and its first line)."""
        out: dict[str, Source] = {}
        for caps, st in self.cfg.match(pattern):  # finding the names reads none of the statements
            out.setdefault(caps[0], st.source)
        return out

    def error(self, src: Source | None, msg: str) -> None:
        self.problems.append((src, msg))

    def unread(self) -> list[Statement]:
        def under(st: Statement, prefixes) -> bool:
            return any(st.words[: len(p)] == p for p in prefixes)
        return [s for s in self.cfg.statements if s not in self.used and under(s, self.modelled) and not under(s, self.ignored)]


_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(): '²' is a digit to it, and int('²') fails

# Junos ranges (and ScreenOS's for tcp-mss): outside them the device refuses the commit.
LIFETIME_SECONDS = (180, 86400)  # ike and ipsec proposal lifetime-seconds
TCP_MSS = (64, 65535)


def parse_number(r: Reader, text: str, src: Source | None, what: str, bounds: tuple[int, int]) -> int | None:
    """`text` as a decimal number within `bounds`; an error with file:line (and None) otherwise."""
    lo, hi = bounds
    if not _DIGITS.fullmatch(text) or not lo <= int(text) <= hi:
        r.error(src, f"{what} '{text}' is not a number from {lo} to {hi}")
        return None
    return int(text)


def add_zone_interface(r: Reader, zone, ifname: str, owners: dict[str, tuple[str, Source]], src: Source) -> None:
    """Put `ifname` in `zone`; an interface is in one zone at most (the device refuses a second)."""
    if ifname in owners:
        other, where = owners[ifname]
        if other != zone.name:
            r.error(src, f"interface {ifname} is already in zone {other} ({where})")
        return
    owners[ifname] = (zone.name, src)
    zone.interfaces.append(ifname)


def parse_ip(r: Reader, text: str, src: Source, kind=IPv4Address):
    try:
        return kind(text)
    except ValueError:
        r.error(src, f"'{text}' is not a valid IPv4 {'prefix' if kind is IPv4Network else 'address'}")
        return None
