"""Run pytest natively inside a lab VM's guest: the code path a user whose kernel has ESP and
xfrm interfaces takes (NativeRuntime: namespaces, charon and the binder on the running kernel, no
VM, no agent), on the guest's full kernel standing in for theirs.

    python -m harness.runtime.guest_pytest RESULT_FILE -- [pytest arguments]

(run by scripts/test_native.py as the VM's command). The exit status is written to RESULT_FILE:
the VM's own exit status does not carry it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import probe


def main() -> int:
    result, args = Path(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    report = probe.probe()  # loads esp4 and xfrm_interface, as a user's kernel has them
    print(f"guest kernel: {report.describe()}", flush=True)
    if not report.ok:
        result.write_text("3\n")
        return 3
    env = {**os.environ, "NHTB_RUNTIME": "native"}
    rc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], env=env).returncode
    result.write_text(f"{rc}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
