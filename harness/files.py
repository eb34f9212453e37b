"""Writing files the lab generates; files that may hold a pre-shared key are created 0600."""
from __future__ import annotations

import os
from pathlib import Path


def write_file(path: Path, text: str, secret: bool = False) -> Path:
    """Write atomically; a secret file never exists with a looser mode, not even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    try:
        os.fchmod(fd, 0o600 if secret else 0o644)  # O_CREAT's mode is filtered by the umask
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path
