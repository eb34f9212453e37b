"""Where a lab's files come from for a rehearsal: a folder laid out like the repository (a topology
under `topologies/` and the configs it points at), or a git ref of the repository the topology is
in, exported with `git archive` to a temporary folder: the user's checkout is never changed."""
from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError


@dataclass
class Source:
    spec: str  # as the user gave it
    topology: Path  # the topology file in it
    temporary: Path | None = None  # a folder to remove afterwards (an exported ref)

    def cleanup(self) -> None:
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=120)


def resolve(spec: str | None, topology: Path, default: str) -> Source:
    """`spec` (None: `default`, "HEAD" or "worktree") as a Source holding the counterpart of
    `topology`: the same path relative to its repository (a folder: relative to the folder)."""
    spec = spec or default
    topology = topology.resolve()
    top = _git(topology.parent, "rev-parse", "--show-toplevel")
    repo = Path(top.stdout.decode().strip()) if top.returncode == 0 else None
    relative = topology.relative_to(repo) if repo else Path("topologies") / topology.name
    if spec == "worktree":
        return Source(spec, topology)
    folder = Path(spec)
    if folder.is_dir():
        found = folder / relative if (folder / relative).exists() else None
        found = found or next(iter(sorted(folder.glob("topologies/*.clab.yml")) + sorted(folder.glob("*.clab.yml"))), None)
        if found is None:
            raise LabError(f"{folder}: no topology in it ({relative}, topologies/*.clab.yml or *.clab.yml)")
        return Source(spec, found.resolve())
    if repo is None:
        raise LabError(f"'{spec}' is neither a folder nor a git ref: {topology} is not in a git repository")
    ref = _git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    if ref.returncode != 0:
        raise LabError(f"'{spec}' is neither a folder nor a git ref of {repo}")
    archive = _git(repo, "archive", "--format=tar", ref.stdout.decode().strip())
    if archive.returncode != 0:
        raise LabError(f"git archive {spec}: {archive.stderr.decode().strip()}")
    out = Path(tempfile.mkdtemp(prefix="nhtb-lab-ref-"))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(out, filter="data")  # no links out of the folder, no devices
    if not (out / relative).exists():
        shutil.rmtree(out, ignore_errors=True)
        raise LabError(f"{spec}: has no {relative}")
    return Source(spec, out / relative, out)
