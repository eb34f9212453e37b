"""Writing files the lab generates; files that may hold a pre-shared key are created 0600.

Writes never follow a symlink: the temporary file gets a random name and is created with
O_EXCL|O_NOFOLLOW (a planted `.name.tmp` symlink is not written through), a symlinked output
folder is refused, and the final rename replaces a symlink at the target instead of following it.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path



class WriteRefused(Exception):
    """A file or folder the harness will not or cannot write (a symlink, a file in the way, a full
    disk): shown like bad input, `path: why`, never as a traceback. The lowest room: it imports
    nothing of the harness; errors.USER_ERRORS names it beside LabError."""


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise WriteRefused(f"{path}: is a symbolic link; nhtb-lab does not write through one")


def write_file(path: Path, text: str, secret: bool = False) -> Path:
    """Write atomically; a secret file never exists with a looser mode, not even briefly."""
    _refuse_symlink(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if secret else 0o644
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        try:
            os.fchmod(fd, mode)  # O_CREAT's mode is filtered by the umask
            data = memoryview(text.encode())
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)  # never a leftover (it may hold a key)
        if isinstance(e, OSError):
            raise WriteRefused(f"{path}: cannot write it: {e.strerror or e}") from None
        raise
    return path


def prepare_out_dir(path: Path, force: bool = False) -> Path:
    """An output folder ready to write into: created when missing; an existing non-empty folder
    only with `force` (its files are then overwritten, none removed). A file or a symlink in the
    way, or a path the system refuses (too long, a file as a parent), is a WriteRefused naming it."""
    path = Path(path)
    try:
        _refuse_symlink(path)
        if path.exists() and not path.is_dir():
            raise WriteRefused(f"{path}: exists and is not a folder")
        if path.is_dir() and any(path.iterdir()) and not force:
            raise WriteRefused(f"{path}: exists and is not empty (choose another folder, or --force to write into it)")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteRefused(f"{path}: cannot use it as the output folder: {e.strerror or e}") from None
    return path
