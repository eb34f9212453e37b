#!/usr/bin/env python3
"""Save every answer the drivers ask a Junos node for, as parser fixtures: for each site of a
running lab that answers a Junos CLI over SSH (a vSRX, or a stand-in), each command in text and
`| display xml`, with `show version` for the release, into OUT/<node>/<command>.<release>.<txt|xml>,
and a README.md listing them (command, node, release). The vSRX workflow uploads the folder; its
files can be added to tests/fixtures/junos_outputs/current/ as they are.

    python scripts/collect_answers.py --lab nhtb-vsrx --out build/device-answers [--node corporate]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.drivers import for_lab  # noqa: E402
from harness.drivers.junos_ssh import JunosCliError, JunosSshDriver  # noqa: E402
from harness.files import write_file  # noqa: E402

COMMANDS = ("show security ike security-associations", "show security ike security-associations detail",
            "show security ipsec security-associations", "show security ipsec security-associations detail",
            "show security ipsec statistics", "show security ipsec next-hop-tunnels", "show route")


def release(version_text: str) -> str:
    m = re.search(r"Junos:\s*(\S+)|JUNOS .*?\[(\S+)\]", version_text)
    return (m.group(1) or m.group(2)) if m else "unknown-release"


def slug(command: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", command.removeprefix("show ").lower()).strip("_")


def collect(driver: JunosSshDriver, out: Path) -> list[tuple[str, str, str]]:
    """(file, command, what happened) for every answer saved or refused."""
    try:
        version, refused = driver.cli("show version"), None
    except JunosCliError as e:
        version, refused = "", str(e)
    rel = release(version)
    if refused is None:
        write_file(out / f"show_version.{rel}.txt", version)
    rows = [(f"show_version.{rel}.txt", "show version", "saved" if refused is None else f"refused: {refused}")]
    for command in COMMANDS:
        for suffix, asked in (("txt", command), ("xml", f"{command} | display xml")):
            name = f"{slug(command)}.{rel}.{suffix}"
            try:
                write_file(out / name, driver.cli(asked))
                rows.append((name, asked, "saved"))
            except JunosCliError as e:
                rows.append((name, asked, f"refused: {e}"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--node", action="append", help="only these sites (default: every site)")
    args = ap.parse_args()
    drivers = for_lab(args.lab, "junos-ssh")
    lines = ["# Device answers", "", f"Collected from lab `{args.lab}` by scripts/collect_answers.py.", "",
             "| file | command | node | result |", "|---|---|---|---|"]
    for node, d in drivers.items():
        if not isinstance(d, JunosSshDriver) or (args.node and node not in args.node):
            continue
        for file, command, what in collect(d, args.out / node):
            lines.append(f"| {node}/{file} | `{command}` | {node} | {what} |")
        d.close()
    write_file(args.out / "README.md", "\n".join(lines) + "\n")
    print(f"wrote {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
