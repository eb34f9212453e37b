"""The kernel's ESP crypto, built before any SA (runtime/probe.warm_esp, run by `up`): every
algorithm set the stand-in renders, named as harness/model/emulation.py names it for the kernel,
is accepted by the lab's real kernel, and the scratch namespace is gone afterwards. Without the
warm-up, 100 spokes' first SAs built the same crypto instance at once and the kernel throttled
their module requests past the peers' retransmissions."""
from __future__ import annotations

import json
import sys

from harness.model.emulation import ENCRYPTION, INTEGRITY, KERNEL_AEAD, KERNEL_AUTH, KERNEL_CIPHER, kernel_esp
from harness.model.site import IpsecProposal
from harness.runtime import probe

EVERY = [IpsecProposal("p", "esp", auth, enc) for enc in [*ENCRYPTION, *KERNEL_AEAD]
         for auth in ([a for a in INTEGRITY if a.startswith("hmac-")] if enc in ENCRYPTION else ["-"])]


def test_every_esp_algorithm_the_stand_in_renders_has_its_kernel_name():
    assert set(KERNEL_CIPHER) == set(ENCRYPTION)
    assert {a for a in INTEGRITY if a.startswith("hmac-")} == set(KERNEL_AUTH)
    assert all(kernel_esp(p) is not None for p in EVERY)


def test_the_labs_kernel_takes_every_warm_up_state_and_keeps_no_scratch_namespace(lab):
    node = lab.model.hub().name
    code = ("import json, os, sys; from harness.runtime.probe import warm_esp; "
            "print(json.dumps([os.getpid(), warm_esp(json.loads(sys.argv[1]))]))")
    algorithms = [kernel_esp(p) for p in EVERY]
    res = lab.exec(node, sys.executable, "-c", code, json.dumps(algorithms), timeout=300)
    assert res["returncode"] == 0, res["stderr"]
    pid, failed = json.loads(res["stdout"])
    assert failed == [], res["stdout"]
    # Its own scratch namespace (another worker's `up` may be warming up in the same kernel now).
    names = [ln.split()[0] for ln in lab.exec(node, "ip", "netns", "list")["stdout"].splitlines() if ln.strip()]
    assert pid not in [probe.scratch_owner(ns) for ns in names], names
