"""The lab VM: a full kernel (Debian's linux-image-amd64) under virtme-ng, for hosts whose kernel
lacks ESP or xfrm interfaces. One VM serves every lab on the machine; it outlives the command
that booted it and goes away with the last lab (or `down --all`).

Host side, in VM_DIR: qemu's pid (a process group of its own), the forwarded control port, the
token (0600), the console log (kernel messages included) and kernel.log written by the guest.
"""
from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from ..errors import LabError
from ..files import write_file
from . import process
from .paths import VM_DIR
from .rpc import AGENT_PORT, AgentClient

REPO = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = float(os.environ.get("NHTB_VM_BOOT_TIMEOUT", "180"))
KVM_TIMEOUT = 45.0  # a working KVM boots to the agent well within this; a hanging one never does
KVM_VERDICT = VM_DIR.parent / "kvm-verdict"  # kept across VMs: the probe costs a boot
EVENTS = VM_DIR / "events.log"
AGENT_PATIENCE = 60.0  # how long a busy agent (software emulation under load) may take to answer


def event(what: str) -> None:
    """One line per step of the VM's life, with the process and the caller that took it: which
    command booted or stopped a VM is otherwise lost with the VM."""
    caller = " < ".join(f.name for f in reversed(traceback.extract_stack()[-5:-2]))
    argv = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:160]
    try:
        VM_DIR.mkdir(parents=True, exist_ok=True)
        if EVENTS.exists() and EVENTS.stat().st_size > 1_000_000:
            EVENTS.replace(EVENTS.with_suffix(".log.1"))
        with open(EVENTS, "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()} [{argv}] {what} ({caller})\n")
    except OSError:
        pass  # the log serves diagnosis; it never stops a lab


# The guest is a throwaway lab under emulation: the CPU-vulnerability mitigations (retpolines,
# return thunks, RSB filling) protect nothing there and cost every emulated call and return.
GUEST_CMDLINE = os.environ.get("NHTB_VM_CMDLINE", "mitigations=off")
# Under software emulation, both vCPUs run on one qemu thread, in turn. With one thread per vCPU
# (qemu's default), CI's VMs locked up with a vCPU stuck at one instruction of the control NIC's
# receive path, its registers impossible for the code there (README: the VM lockup); one thread
# takes cross-vCPU races in the emulator out of play. NHTB_VM_TCG overrides it, for comparisons.
TCG_OPTS = os.environ.get("NHTB_VM_TCG", "-accel tcg,thread=single")


def vng_command(kvm: bool, *extra: str) -> list[str]:
    """vng booting the lab VM's kernel as every lab VM boots (the agent's, and test-native's)."""
    cmd = [_vng(), "--run", _kernel(), "--memory", "2G", "--cpus", "2", "--append", GUEST_CMDLINE]
    if not kvm:
        cmd += ["--disable-kvm"] + ([f"--qemu-opts={TCG_OPTS}"] if TCG_OPTS else [])
    return cmd + list(extra)


def _kernel() -> str:
    """Debian's kernel image: the newest /boot/vmlinuz-* with its modules installed."""
    candidates = sorted(Path("/boot").glob("vmlinuz-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for k in candidates:
        if Path("/lib/modules", k.name.removeprefix("vmlinuz-")).is_dir():
            return str(k)
    raise LabError("no kernel with modules in /boot for the lab VM: install linux-image-amd64 (make bootstrap)")


def _vng() -> str:
    here = Path(sys.executable).parent / "vng"
    if here.exists():
        return str(here)
    found = shutil.which("vng")
    if not found:
        raise LabError("vng (virtme-ng) not found: install the project's Python dependencies (make bootstrap)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _holds() -> Path:
    """One file per process holding the VM, named by its pid, holding its start time."""
    return VM_DIR / "holds"


@contextmanager
def _locked():
    """One boot or shutdown at a time, across processes (pytest-xdist workers)."""
    VM_DIR.mkdir(parents=True, exist_ok=True)
    VM_DIR.chmod(0o700)
    with open(VM_DIR / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class BootTimeout(LabError):
    """The VM ran but its agent never answered (how a hanging nested KVM shows)."""


class LabVM:
    def _read(self, name: str) -> str | None:
        try:
            return (VM_DIR / name).read_text().strip()
        except OSError:
            return None

    def client(self) -> AgentClient | None:
        """A client for the running VM's agent, or None when no VM runs (a client is no promise
        that the agent answers: see `agent`)."""
        pid, port, token = self._read("qemu.pid"), self._read("port"), self._read("token")
        if not (pid and port and token) or not process.alive(int(pid)):
            return None
        return AgentClient(int(port), token)

    def qemu_alive(self) -> bool:
        """Whether the VM's qemu still runs (a guest that panics ends it: `-no-reboot`), however
        busy its agent is."""
        pid = self._read("qemu.pid")
        return bool(pid) and process.alive(int(pid))

    def agent(self, patience: float = AGENT_PATIENCE) -> AgentClient | None:
        """The running VM's agent once it answers, or None when no VM runs. A VM whose qemu runs
        is never taken for absent because its agent is slow: under software emulation and load
        a ping can take seconds, and "no VM" would boot a second one over the first (orphaning
        its labs) or report its labs gone. Raises when the agent stays silent for `patience`."""
        deadline = time.monotonic() + patience
        while True:
            c = self.client()  # read again: the VM may have been replaced meanwhile
            if c is None:
                return None
            if c.ping(timeout=5):
                return c
            if time.monotonic() > deadline:
                event(f"agent silent for {patience:.0f}s while qemu runs")
                raise LabError(f"the lab VM runs (qemu pid {self._read('qemu.pid')}) but its agent has not answered "
                               f"for {patience:.0f}s; `nhtb-lab down --all` stops it (console: {VM_DIR / 'console.log'})")
            time.sleep(1)

    def ensure(self, progress=lambda p, m: None) -> AgentClient:
        with _locked():
            c = self.agent()
            if c is not None:
                return c
            if self.died():  # it died on its own, with whatever labs it held: keep its console
                self.keep_crash_console()
            self._cleanup_files()
            accel = os.environ.get("NHTB_VM_ACCEL") or (KVM_VERDICT.read_text().strip() if KVM_VERDICT.exists() else None)
            if accel in (None, "kvm") and os.path.exists("/dev/kvm"):
                try:
                    c = self._boot(True, progress, KVM_TIMEOUT)
                    KVM_VERDICT.write_text("kvm")
                    return c
                except LabError as e:  # nested KVM hangs or qemu aborts, depending on the host
                    if os.environ.get("NHTB_VM_ACCEL") == "kvm":
                        raise
                    reason = [ln for ln in str(e).splitlines() if ln.strip()][-1].strip()
                    progress("VM boot", f"KVM did not boot the VM ({reason}): using software emulation from now on")
                    KVM_VERDICT.write_text("tcg")
            return self._boot(False, progress, BOOT_TIMEOUT)

    def _boot(self, kvm: bool, progress, timeout: float) -> AgentClient:
        port, token = _free_port(), secrets.token_hex(32)
        write_file(VM_DIR / "token", token + "\n", secret=True)
        guest_dir = VM_DIR / "guest"
        guest_dir.mkdir(exist_ok=True)
        netdev = (f"-netdev user,id=labctl,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:{AGENT_PORT} "
                  "-device virtio-net-pci,netdev=labctl -no-reboot")  # a guest panic ends the VM
        agent = f"{sys.executable} -m harness.runtime.agent --token-file {VM_DIR / 'token'} --port {AGENT_PORT}"
        cmd = vng_command(kvm, "--verbose", "--rwdir", str(guest_dir), f"--qemu-opts={netdev}", "--exec", agent)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        progress("VM boot", f"booting {Path(_kernel()).name} ({'KVM' if kvm else 'software emulation'})")
        t0 = time.monotonic()
        with open(VM_DIR / "console.log", "wb") as console:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        (VM_DIR / "qemu.pid").write_text(str(proc.pid))
        (VM_DIR / "port").write_text(str(port))
        event(f"boot: pid {proc.pid}, {'KVM' if kvm else 'TCG'}")
        client = AgentClient(port, token)
        try:
            while time.monotonic() - t0 < timeout:
                if proc.poll() is not None:
                    event(f"boot: pid {proc.pid} exited with status {proc.returncode}")
                    raise LabError(f"the lab VM exited during boot (status {proc.returncode}); console:\n{self.console_tail()}")
                if client.ping(timeout=2):
                    progress("VM boot", f"agent ready after {time.monotonic() - t0:.1f}s")
                    event(f"boot: pid {proc.pid} agent ready after {time.monotonic() - t0:.1f}s")
                    return client
                time.sleep(0.5)
        except BaseException as e:  # failed, or Ctrl-C: a VM nobody can reach must not stay behind
            event(f"boot: pid {proc.pid} abandoned ({type(e).__name__})")
            self._kill(proc.pid)
            self._cleanup_files()
            raise
        event(f"boot: pid {proc.pid} agent silent for {timeout:.0f}s, killed")
        self._kill(proc.pid)
        self._cleanup_files()
        raise BootTimeout(f"the lab VM's agent did not answer within {timeout:.0f}s; console:\n{self.console_tail()}")

    def keep_crash_console(self) -> Path:
        """Keep the console of a VM that died, for diagnosis (the next boot overwrites console.log)."""
        dest = VM_DIR / f"console-crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
        shutil.copy(VM_DIR / "console.log", dest)
        event(f"died: console kept in {dest.name}")
        return dest

    def last_crash_console(self) -> Path | None:
        kept = sorted(VM_DIR.glob("console-crash-*.log"))
        return kept[-1] if kept else None

    def was_stopped(self, pid: int) -> bool:
        """Whether a `down` (or `stop`) ended VM `pid`, as the events say: a VM stopped on purpose
        did not die."""
        text = ""
        for log in (EVENTS.with_suffix(".log.1"), EVENTS):  # the log may have just been rotated
            try:
                text += log.read_text(errors="replace")
            except OSError:
                pass
        booted = [m.end() for m in re.finditer(rf"\] boot: pid {pid},", text)]  # pids are reused
        return re.search(rf"\] stop: pid {pid}\b", text[booted[-1] if booted else 0:]) is not None

    def console_tail(self, lines: int = 15) -> str:
        return process.tail(VM_DIR / "console.log", lines=lines)

    def died(self) -> bool:
        """Whether a VM was running and its qemu is gone without a `down` (its files remain)."""
        return self._read("qemu.pid") is not None and not self.qemu_alive()

    def pid_of(self, port: int) -> int | None:
        """The qemu pid of the VM whose control port is `port` (None once its files are gone)."""
        pid = self._read("qemu.pid")
        return int(pid) if pid and self._read("port") == str(port) else None

    def gone_within(self, seconds: float, pid: int | None = None) -> bool:
        """Whether qemu (`pid`, by default the current VM's) has exited, or does within `seconds`
        (a guest powering off takes a moment)."""
        deadline = time.monotonic() + seconds
        while process.alive(pid) if pid else self.qemu_alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def clear_if_dead(self, pid: int | None) -> bool:
        """Clear the files of VM `pid` if they are still the current ones and it is dead; False
        when another VM has taken their place (booted by another process meanwhile)."""
        with _locked():
            if pid is None or self._read("qemu.pid") != str(pid) or process.alive(pid):
                return False
            self._cleanup_files()
            return True

    # ---- holds: a process that brings many labs up and down keeps one VM between them ----------
    @staticmethod
    def hold() -> None:
        """Keep the VM between this process's labs (a test session brings dozens up and down: one
        boot, not one after every moment without a lab): `stop(only_if_idle)` leaves it running
        while this process lives and has not called `release`."""
        _holds().mkdir(parents=True, exist_ok=True)
        (_holds() / str(os.getpid())).write_text(process.started(os.getpid()) or "")

    def release(self) -> bool:
        """Let the VM go again, and stop it now if no lab is left in it and nobody else holds it;
        True when it stopped."""
        (_holds() / str(os.getpid())).unlink(missing_ok=True)
        return self.stop(only_if_idle=True)

    @staticmethod
    def holders() -> list[int]:
        """The live processes holding the VM. A holder killed before its `release` holds nothing,
        nor does a later process that was given its pid (the file keeps the holder's start time)."""
        live = []
        for f in _holds().glob("*") if _holds().is_dir() else ():
            try:
                started = f.read_text().strip()
            except OSError:
                continue  # released meanwhile
            if f.name.isdigit() and process.alive(int(f.name)) and process.started(int(f.name)) == started:
                live.append(int(f.name))
            else:
                f.unlink(missing_ok=True)
        return live

    def stop(self, only_if_idle: bool = False) -> bool:
        """Shut the VM down, all its labs with it; True when it stopped. With `only_if_idle`, only
        if the agent finds no lab in it and none being brought up: it decides that atomically, so
        another process's `up` in between is never cut off (and a silent agent is never stopped)."""
        with _locked():
            pid = self._read("qemu.pid")
            if not pid or not process.alive(int(pid)):
                if pid and not self.was_stopped(int(pid)):  # it died, and nobody has said so yet
                    self.keep_crash_console()
                self._cleanup_files()
                return False
            c = self.client()
            labs, kernel_log = "?", None
            if only_if_idle and (c is None or self.holders()):
                return False
            if c is not None:
                try:  # what was in it, and its kernel log, for diagnosis: never a reason to keep it
                    names = [s["name"] for s in c.call("labs", timeout=30)]
                    if only_if_idle and names:
                        return False  # cheaply: the agent's own check below is the one that counts
                    labs = ", ".join(names) or "none"
                    kernel_log = c.call("kernel_log", timeout=30)
                except (OSError, LabError):
                    pass
                try:
                    if only_if_idle and not c.call("shutdown_if_idle", timeout=30):
                        return False
                    if not only_if_idle:
                        c.call("shutdown", timeout=30)
                except (OSError, LabError):
                    if only_if_idle:
                        return False  # a silent agent: its labs may be there, never stop it blind
            if kernel_log is not None:
                (VM_DIR / "kernel.log").write_text(kernel_log)
            event(f"stop: pid {pid}{' (idle)' if only_if_idle else ''}, labs in it: {labs}")
            if not self.gone_within(10, int(pid)):
                self._kill(int(pid))
            self._cleanup_files()
            return True

    @staticmethod
    def _kill(pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)  # vng, virtme-run and qemu share the group
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    @staticmethod
    def _cleanup_files() -> None:
        for name in ("qemu.pid", "port", "token"):
            (VM_DIR / name).unlink(missing_ok=True)
        shutil.rmtree(VM_DIR / "guest", ignore_errors=True)
