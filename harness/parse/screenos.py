"""ScreenOS configuration (the SSG5 subset of `get config`) into flat statements.

Each `set ...` line becomes one statement without the leading `set`. A bare `set policy id N`
opens that policy's context until `exit`; lines inside it (`set dst-address "x"`) are folded
into the policy: (`policy`, `id`, N, `dst-address`, `x`). `unset ...` removes what it names.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from ..errors import ConfigError, Source
from .statements import ParsedConfig, Statement, StatementList, read_config


def parse_screenos(text: str, file: str) -> ParsedConfig:
    statements = StatementList(file)
    context: tuple[str, ...] = ()
    for lineno, raw in enumerate(text.splitlines(), 1):
        src = Source(file, lineno)
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = tuple(shlex.split(line, posix=True))
        except ValueError as e:
            raise ConfigError(f"cannot split line: {e}", src) from None
        cmd, args = words[0], words[1:]
        if cmd == "exit":
            if not context:
                raise ConfigError("'exit' outside a policy context", src)
            context = ()
            continue
        if cmd not in ("set", "unset"):
            raise ConfigError(f"unknown command '{cmd}' (expected set, unset or exit)", src)
        if not args:
            raise ConfigError(f"'{cmd}' needs arguments", src)
        if cmd == "set" and not context and len(args) == 3 and args[:2] == ("policy", "id"):
            context = args  # `set policy id N`: enter the policy's context
            continue
        path = context + args
        if cmd == "unset":
            statements.delete(path)
        else:
            statements.add(Statement(path, src))
    if context:
        raise ConfigError(f"policy context '{' '.join(context)}' not closed with 'exit'", Source(file, lineno))
    return ParsedConfig(file, statements.live())


def load_screenos(path: Path | str, display_name: str | None = None) -> ParsedConfig:
    return parse_screenos(read_config(path), display_name or str(path))
