"""Parse and model-build time against config size: the parser and the model build must stay
linear (issue #13: 2.5k/5k/10k address-book entries once took 0.9/2.4/8.2 s).

Generates Westford's config (set form) plus N address-book entries and N policies' matches,
and prints the time to parse it and to build its Site. Figures only: no assertion.

    .venv/bin/python scripts/bench_parse.py [N ...]   (default: 10000 50000)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.model.change import as_set_commands
from harness.model.junos_site import build_junos_site
from harness.parse.junos import parse_junos

LAB = Path(__file__).resolve().parents[1] / "lab"


def config(statements: int) -> str:
    """Westford plus `statements` address-book entries (each a statement of its own)."""
    base = as_set_commands(LAB / "westford.junos")
    extra = (f"set security zones security-zone trust address-book address a{i} "
             f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32\n" for i in range(statements))
    return base + "".join(extra)


def bench(statements: int) -> None:
    text = config(statements)
    start = time.perf_counter()
    cfg = parse_junos(text, "bench.junos")
    parsed = time.perf_counter()
    site, _ = build_junos_site("bench", cfg)
    built = time.perf_counter()
    print(f"{len(cfg.statements):>7} statements ({len(text) / 2**20:.1f} MiB): parse {parsed - start:6.2f} s, "
          f"model build {built - parsed:6.2f} s, {len(site.zones['trust'].address_book)} address-book entries")


def main(argv: list[str]) -> int:
    for n in [int(a) for a in argv] or [10_000, 50_000]:
        bench(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
