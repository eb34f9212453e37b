"""The kernel probe's and the ESP warm-up's scratch namespaces, left behind by a process killed
between making and removing one: `down --all` removes them (probe.remove_orphans), and never one
whose process still runs. Real namespaces of this kernel; nothing else is needed."""
from __future__ import annotations

import os
import subprocess

from pyroute2 import netns as pnetns

from harness.runtime import probe


def test_a_dead_process_scratch_namespace_goes_and_a_live_ones_stays():
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now; a scratch namespace named after it is an orphan
    orphan, alive = probe.scratch_name("warm").replace(f"-{os.getpid()}-", f"-{dead.pid}-"), probe.scratch_name("probe")
    assert probe.scratch_owner(orphan) == dead.pid and probe.scratch_owner(alive) == os.getpid()
    for ns in (orphan, alive):
        pnetns.create(ns)
    try:
        gone = probe.remove_orphans()
        names = pnetns.listnetns()
        assert orphan in gone and orphan not in names
        assert alive not in gone and alive in names
    finally:
        for ns in (orphan, alive):
            if ns in pnetns.listnetns():
                pnetns.remove(ns)
