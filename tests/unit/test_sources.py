"""A rehearsal's before and after: a folder, the working tree, or a git ref exported without
touching the user's checkout."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.errors import LabError
from harness.cli.sources import resolve

from ..conftest import LAB, TOPOLOGIES


@pytest.fixture
def repo(tmp_path):
    """A small git repository laid out like this one, with a second commit that edits a config."""
    root = tmp_path / "repo"
    shutil.copytree(LAB, root / "lab")
    shutil.copytree(TOPOLOGIES, root / "topologies")
    git = lambda *a: subprocess.run(["git", "-C", str(root), *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "base")
    cfg = root / "lab" / "corporate.junos"
    cfg.write_text(cfg.read_text() + "/* changed */\n")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qam", "change")
    return root


def test_a_git_ref_is_exported_and_the_checkout_is_untouched(repo):
    topo = repo / "topologies" / "three-site.clab.yml"
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    src = resolve("HEAD~1", topo, "HEAD")
    try:
        assert src.temporary is not None and src.topology.exists()
        assert "/* changed */" not in (src.topology.parent.parent / "lab" / "corporate.junos").read_text()
    finally:
        src.cleanup()
    assert not src.topology.exists()
    after = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert after == status


def test_the_working_tree_and_a_folder(repo, tmp_path):
    topo = repo / "topologies" / "three-site.clab.yml"
    assert resolve(None, topo, "worktree").topology == topo.resolve()
    other = tmp_path / "other"
    shutil.copytree(repo / "lab", other / "lab")
    shutil.copytree(repo / "topologies", other / "topologies")
    assert resolve(str(other), topo, "HEAD").topology == (other / "topologies" / "three-site.clab.yml").resolve()


def test_a_bad_source_says_what_it_is_not(repo):
    topo = repo / "topologies" / "three-site.clab.yml"
    with pytest.raises(LabError, match="neither a folder nor a git ref"):
        resolve("no-such-ref", topo, "HEAD")
