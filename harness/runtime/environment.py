"""The variables a topology uses, taken from the environment of the user who runs the command
(containerlab expands `${VAR:=default}` in its user's environment): read once, on the user's side,
and carried with every call, so the lab VM's agent or a later command never reads its own."""
from __future__ import annotations

import os
from pathlib import Path

from ..parse.clab import expand_vars


class _Recorder(dict):
    """An environment that remembers which variables were looked up."""

    def __init__(self, source):
        super().__init__()
        self.source, self.used = source, {}

    def get(self, key, default=None):
        value = self.source.get(key)
        if value is not None:
            self.used[key] = value
        return value if value is not None else default


def topology_env(topology: str | Path, environ=None) -> dict[str, str]:
    """The user's values of the variables `topology` refers to (unset ones are left out, so the
    topology's own defaults apply wherever it is read)."""
    try:
        text = Path(topology).read_text(errors="replace")
    except OSError:
        return {}  # the read that follows reports it, with the file's name
    rec = _Recorder(os.environ if environ is None else environ)
    expand_vars(text, rec)
    return dict(rec.used)
