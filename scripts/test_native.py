#!/usr/bin/env python3
"""The integration tests on the native path (`make test-native`): a lab VM is booted with pytest as
its command, and the tests run natively on the guest's full kernel, as on a user's machine whose
kernel has ESP and xfrm interfaces (NativeRuntime: no VM, no agent). This machine's kernel lacks
them, so without this the native runtime would be exercised only up to the kernel probe.

    .venv/bin/python scripts/test_native.py [pytest arguments]   (default: NATIVE_TESTS)

Exit status: pytest's in the guest (3: the guest's kernel lacked ESP or xfrm interfaces; 4: the VM
ended without a result). The guest's output is streamed; build/ is where it writes (junit, evidence).
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.runtime import probe  # noqa: E402
from harness.runtime.vm import vng_command  # noqa: E402

# The lifecycle, the NHTB binding and the note's verification (the minimum). Two lifecycle
# tests that start a dozen CLI processes are left to the VM path: natively in the guest every new
# Python imports over 9p under emulation (6 minutes for the two), which a user's disk does not.
NATIVE_TESTS = ["tests/integration/test_lab_lifecycle.py", "tests/integration/test_binding.py",
                "tests/integration/test_verification.py", "-k", "not topology_variables and not second_up",
                "--junitxml=build/junit-native.xml"]


def main() -> int:
    args = sys.argv[1:] or NATIVE_TESTS
    if probe.probe().ok:  # a user's kernel: `make test` ran natively already; here too, no VM
        print("test-native: this kernel has ESP and xfrm interfaces: running natively on it", flush=True)
        env = {**os.environ, "NHTB_RUNTIME": "native"}
        return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=REPO, env=env).returncode
    build = REPO / "build"
    build.mkdir(exist_ok=True)
    result = build / "native-result"
    result.unlink(missing_ok=True)
    inner = shlex.join([sys.executable, "-m", "harness.runtime.guest_pytest", str(result), "--", *args])
    # KVM hangs on machines like this one; TCG always boots
    cmd = vng_command(os.environ.get("NHTB_VM_ACCEL") == "kvm", "--rwdir", str(build),
                      "--exec", f"cd {shlex.quote(str(REPO))} && {inner}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    print(f"test-native: booting a VM to run {' '.join(args)} natively in it", flush=True)
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL)
    if not result.exists():
        print(f"test-native: the VM ended (status {proc.returncode}) without a test result", file=sys.stderr)
        return 4
    return int(result.read_text().strip() or 4)


if __name__ == "__main__":
    sys.exit(main())
