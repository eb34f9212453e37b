"""Where a lab runs: natively (this kernel has ESP and xfrm interfaces) or in the lab VM.

Both offer the same calls; the CLI and the tests never care which one answers.
"""
from __future__ import annotations

import inspect
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import LabError, VMDied
from ..progress import Progress
from ..model.lab import load_lab
from . import clab, clabernetes, process
from .environment import topology_env
from .local import LocalRuntime
from .probe import probe
from .rpc import PROGRESS_CALLS, RUNTIME_CALLS, AgentClient, AgentError
from .vm import LabVM



class RemoteRuntime:
    """LocalRuntime's calls, carried out by the agent in the lab VM (the forwarding methods are
    made from LocalRuntime's signatures below, so both sides name parameters alike)."""

    where = "vm"

    def __init__(self, client: AgentClient):
        self.client = client
        self.qemu_pid = LabVM().pid_of(client.port)  # the VM it talks to, to tell its death
        self._following = threading.Lock()

    def up(self, topology: str, name: str | None = None, progress: Progress | None = None, sa_timeout: float = 90,
           env: dict[str, str] | None = None, retries: int = 1) -> dict:
        # The topology's variables come from this (the user's) environment, not the agent's.
        env = topology_env(topology) if env is None else env
        params = {"topology": topology, "name": name, "sa_timeout": sa_timeout, "env": env}
        try:
            return self.client.call("up", params, on_event=progress, timeout=900)
        except (OSError, LabError) as e:
            vm, say = LabVM(), progress or (lambda p, m: None)
            kind = getattr(e, "kind", "")
            if retries <= 0 or (kind and kind != "VMClosing"):
                raise  # the agent answered with an error of the lab's own
            pid = vm.pid_of(self.client.port)  # None: its files are gone (cleared, or replaced)
            if kind == "VMClosing":  # another process's last `down` is shutting the VM: a new one
                say("VM", "the lab VM was shutting down (its last lab went): booting a new one")
                if pid:
                    vm.gone_within(30, pid)  # its closer kills it and clears its files
            elif pid is not None:
                # Only a VM whose qemu is gone died. An agent slow to answer (software emulation
                # under load) is not dead: taking it for dead stopped a healthy VM and its labs.
                if not vm.gone_within(10, pid):
                    raise
                # The VM itself died (its kernel panics on a lockup): every lab in it is gone. Say
                # so, keep its console, and try once more on a fresh VM (never stopping one that
                # another process may have booted meanwhile).
                kept = vm.keep_crash_console()  # (logs the death in the VM's events)
                vm.clear_if_dead(pid)
                say("VM", f"the lab VM died during bring-up (console kept in {kept}); booting a new one and trying again")
            self.client = vm.ensure(progress or (lambda p, m: None))
            return self.up(topology, name, progress, sa_timeout, env, retries - 1)



    def _follow(self) -> tuple[AgentClient, int | None]:
        """Talk to the lab VM that runs now: a runtime kept across a VM's death (a test module's
        drivers) reaches the labs brought up again in the VM booted since, by their names.
        Returns the client and the VM's pid a call is to use, read together under a lock (another
        thread may follow at the same moment)."""
        with self._following:
            vm = LabVM()
            pid = vm.pid_of(self.client.port)
            if pid is not None:
                self.qemu_pid = pid
                if process.alive(pid):
                    return self.client, self.qemu_pid
            current = vm.client()
            if current is not None:
                self.client, self.qemu_pid = current, vm.pid_of(current.port)
            return self.client, self.qemu_pid

    @contextmanager
    def _watching_vm(self, call: str):
        """A call to the VM that runs now, whose failure says VMDied if the VM died under it."""
        # The VM this call goes to: another thread's call may follow a VM booted since and move
        # self.qemu_pid on while this one fails, and this death must still be told as one.
        client, pid = self._follow()
        try:
            yield client
        except (OSError, AgentError) as e:
            if not getattr(e, "kind", ""):  # a kind: the agent answered with an error of the lab's own
                self._raise_if_vm_died(call, e, pid)
            raise

    def _raise_if_vm_died(self, call: str, error: Exception, pid: int | None) -> None:
        """A call that failed because the VM's qemu is gone without a `down` (its kernel panicked,
        and `-no-reboot` ends qemu) raises VMDied, which says so and where the console is kept,
        instead of a bare connection error. A slow agent in a running VM is not dead, and a VM
        that a `down` stopped did not die: those errors stay what they were."""
        vm = LabVM()
        if pid is None or not vm.gone_within(10, pid) or vm.was_stopped(pid):
            return
        if vm.pid_of(self.client.port) == pid:  # nobody has noticed yet: keep its console
            kept = vm.keep_crash_console()
            vm.clear_if_dead(pid)
        else:
            kept = vm.last_crash_console()
        raise VMDied(f"the lab VM died during '{call}': every lab in it is gone (console kept in {kept})") from error

    def mgmt_socket(self, lab_name: str, node: str, port: int = 22, timeout: float = 30):
        """A connection to a node's management port, relayed by the agent (nothing is forwarded
        on the host but what the caller itself listens on)."""
        with self._watching_vm("relay") as client:
            return client.stream("relay", {"lab_name": lab_name, "node": node, "port": port, "timeout": timeout},
                                      timeout=timeout + 30)


def _forward(name: str):
    signature = inspect.signature(getattr(LocalRuntime, name))

    def call(self, *args, **kwargs):
        params = signature.bind(None, *args, **kwargs)
        params.apply_defaults()
        arguments = {k: v for k, v in params.arguments.items() if k != "self"}
        if "env" in arguments and arguments["env"] is None:  # the user's environment, not the agent's
            arguments["env"] = topology_env(arguments["topology"])
        with self._watching_vm(name) as client:
            if name in PROGRESS_CALLS:  # progress comes back as events on the same connection
                progress = arguments.pop("progress")
                return client.call(name, arguments, on_event=progress, timeout=900)
            # A call that lasts `seconds` (a held TCP connection) is given that long and a margin.
            timeout = (arguments["timeout"] + 30 if "timeout" in arguments
                       else arguments["seconds"] + 60 if "seconds" in arguments else None)
            return client.call(name, arguments, timeout=timeout)

    call.__name__ = name
    call.__doc__ = getattr(LocalRuntime, name).__doc__
    return call


for _name in RUNTIME_CALLS + PROGRESS_CALLS:
    setattr(RemoteRuntime, _name, _forward(_name))


class NativeRuntime(LocalRuntime):
    where = "native"


def choose(mode: str, progress: Progress, topology: str | None = None) -> NativeRuntime | RemoteRuntime:
    """The runtime for a new lab: `native`, `vm`, `containerlab`, or `auto` (containerlab for a
    topology with vSRX nodes, else native when the kernel can, else the VM)."""
    lab = load_lab(topology) if topology else None
    if mode == "auto" and lab is not None and clab.needs_containerlab(lab):
        mode = "containerlab"
        progress("runtime", "the topology has vSRX nodes: containerlab")
    if mode == "containerlab":
        if topology is None:
            raise LabError("the containerlab runtime needs the topology")
        if not clab.available():
            missing = [t for t in ("containerlab", "docker") if not shutil.which(t)] or ["a running Docker engine"]
            raise LabError(f"{topology}: the containerlab runtime needs containerlab and a Docker engine; this machine "
                           f"lacks {', '.join(missing)} (`up --runtime containerlab --dry-run` shows what it would run)")
        return NativeRuntime(clab.ContainerlabProvider(Path(topology)))
    if mode == "native":
        return NativeRuntime()
    if mode == "auto":
        report = probe()
        if report.ok:
            progress("kernel", f"{report.describe()}: running natively")
            return NativeRuntime()
        progress("kernel", f"{report.describe()}: running the lab in a VM with a full kernel")
    elif mode != "vm":
        raise LabError(f"unknown runtime '{mode}' (native, vm, containerlab, auto)")
    return RemoteRuntime(LabVM().ensure(progress))


def find(lab: str) -> NativeRuntime | RemoteRuntime | clabernetes.ClabernetesRuntime:
    """The runtime that holds the running lab `lab`."""
    native = NativeRuntime()
    if any(s["name"] == lab for s in native.labs()):
        return native
    cluster = clabernetes.ClabernetesRuntime()
    if any(s["name"] == lab for s in cluster.labs()):
        return cluster
    client = LabVM().agent()
    if client is not None:
        remote = RemoteRuntime(client)
        if any(s["name"] == lab for s in remote.labs()):
            return remote
    running = [f"{s['name']} (from {s['topology']})" for _, s in all_labs()]
    raise LabError(f"no lab named '{lab}' is up; " + (f"running: {', '.join(running)}" if running else "no lab is running"))


def all_labs() -> list[tuple[str, dict]]:
    out = [("native", s) for s in NativeRuntime().labs()]
    out += [("clabernetes", s) for s in clabernetes.ClabernetesRuntime().labs()]
    client = LabVM().agent()
    if client is not None:
        out += [("vm", s) for s in RemoteRuntime(client).labs()]
    return out


def down(name: str) -> tuple[list[str], bool]:
    """Destroy lab `name` wherever it runs; stop the lab VM when it was the VM's last lab.
    Returns (namespaces removed, VM stopped)."""
    rt = find(name)
    removed = rt.down(name)
    return removed, stop_vm_if_idle(rt)


def stop_vm_if_idle(rt, wait_for: str | None = None, timeout: float = 120) -> bool:
    """Stop the lab VM when no lab is left in it. With `wait_for`, first wait (up to `timeout`)
    until that lab has gone: an interrupted `up` is still being undone by the agent, and until its
    undo has ended the agent counts it as a bring-up in progress (and keeps the VM)."""
    if rt.where != "vm":
        return False
    deadline = time.monotonic() + timeout
    while True:
        if not LabVM().qemu_alive():
            return False  # no VM (any more) to stop
        if LabVM.holders():
            return False  # kept between labs (a test session): nothing to wait for
        try:
            names = [s["name"] for s in rt.labs()]
        except (OSError, LabError):
            names = []  # the agent decides below, or a silent one is left alone
        if wait_for and wait_for in names and time.monotonic() < deadline:
            time.sleep(0.5)
            continue
        if names and names != [wait_for]:
            return False  # other labs keep it
        if LabVM().stop(only_if_idle=True):
            return True
        # Refused: a bring-up is in progress. Ours, being undone, ends soon; another's keeps the VM.
        if not wait_for or time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
