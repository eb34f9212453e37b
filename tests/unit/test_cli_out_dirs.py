"""Commands that write a folder refuse a non-empty one unless --force, never write outside it, and
leave nothing behind on bad input."""
from __future__ import annotations

from ..conftest import THREE_SITE
from .test_cli import nhtb

SPOKE = ["spoke", "add", "--name", "boston", "--public", "4.4.4.2/30", "--lan", "192.168.188.0/24",
         "--tunnel-ip", "10.11.11.13"]


def test_spoke_add_refuses_a_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = nhtb("-t", str(THREE_SITE), *SPOKE, "--out", str(out))
    assert res.returncode == 1 and "not empty" in res.stderr and "Traceback" not in res.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    res = nhtb("-t", str(THREE_SITE), *SPOKE, "--out", str(out), "--force")
    assert res.returncode == 0, res.stderr
    assert (out / "keep.txt").read_text() == "mine" and (out / "change.json").exists()


def test_spoke_add_like_an_unknown_spoke_names_the_spokes(tmp_path):
    res = nhtb("-t", str(THREE_SITE), *SPOKE, "--like", "nowhere", "--out", str(tmp_path / "x"))
    assert res.returncode == 1 and "Traceback" not in res.stderr and "westford" in res.stderr, res.stderr
    assert not (tmp_path / "x").exists()


def test_fault_apply_into_the_lab_itself_is_refused(tmp_path):
    res = nhtb("-t", str(THREE_SITE), "fault", "apply", "psk-mismatch", "--out", str(THREE_SITE.parent.parent))
    assert res.returncode == 1 and "not empty" in res.stderr, res.stderr


def test_render_out_refuses_a_file_and_a_symlink(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = nhtb("-t", str(THREE_SITE), "render", "corporate", "--out", str(f))
    assert res.returncode == 1 and "not a folder" in res.stderr
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    res = nhtb("-t", str(THREE_SITE), "render", "corporate", "--out", str(link))
    assert res.returncode == 1 and "symbolic link" in res.stderr and not (tmp_path / "elsewhere").exists()


def test_a_file_that_cannot_be_written_is_an_error_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "out"
    (out / "plan.json").mkdir(parents=True)  # a folder where a file must go
    res = nhtb("-t", str(THREE_SITE), "render", "corporate", "--out", str(out), "--force")
    assert res.returncode == 1 and "Traceback" not in res.stderr and "plan.json" in res.stderr, res.stderr
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_spoke_scale_refuses_a_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "scale"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = nhtb("-t", str(THREE_SITE), "spoke", "scale", "--spokes", "3", "--out", str(out))
    assert res.returncode == 1 and "not empty" in res.stderr
