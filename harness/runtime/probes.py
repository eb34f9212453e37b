"""Looking at traffic inside node namespaces: flow traces (nftables trace) and the MSS a TCP SYN
carries on arrival (tcpdump). Both clean up what they add, whatever happens."""
from __future__ import annotations

import re
import subprocess
import threading
import time
from typing import Callable

from ..errors import LabError
from ..render.nftables import TRACE_TABLE
from . import nsexec, tcp


MONITOR_WAIT = 20.0  # seconds `nft monitor` may take to subscribe (a process start under emulation)


def flow_trace(ns: str, table: str, duration: float, during: Callable[[], object] | None = None) -> tuple[list[str], object]:
    """Record `nft monitor` in `ns` for `duration` seconds while `during()` runs (traffic to look
    at), with the trace `table` loaded; then remove the table. Returns the monitor's lines and
    what `during` returned. The traffic starts only once the monitor has seen the table being
    made: before that, the first packets would go untraced (a fixed wait lost them under load,
    and the first packet traced was a later one, accepted as an established flow)."""
    # Line-buffered: nft writes through stdio, and a pipe would hold the events until exit.
    mon = subprocess.Popen(nsexec.in_ns(ns, ["stdbuf", "-oL", "nft", "monitor"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    subscribed = threading.Event()

    def read() -> None:
        for line in mon.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if not line.startswith("trace ") and f" {TRACE_TABLE}" in line:  # the table's own event
                subscribed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    load = lambda: nsexec.run(ns, ["nft", "-f", "-"], input=table).check_returncode()  # noqa: E731
    result = None
    try:
        deadline = time.monotonic() + MONITOR_WAIT
        load()
        while not subscribed.wait(0.5):
            if time.monotonic() > deadline or mon.poll() is not None:
                raise LabError(f"{ns}: `nft monitor` did not start within {MONITOR_WAIT:.0f}s: "
                               f"{''.join(lines[-3:]).strip() or 'no output'}")
            # Made before the monitor listened: made again, it is seen now.
            nsexec.run(ns, ["nft", "delete", "table", "inet", TRACE_TABLE])
            load()
        t0 = time.monotonic()
        result = during() if during else None
        time.sleep(max(0.5, duration - (time.monotonic() - t0)))
    finally:
        mon.terminate()
        try:
            mon.wait(5)
        except subprocess.TimeoutExpired:
            mon.kill()
            mon.wait()
        reader.join(2)
        nsexec.run(ns, ["nft", "delete", "table", "inet", TRACE_TABLE])
    return [ln.rstrip("\n") for ln in lines], result


def _syn(src_ns: str, address: str, port: int) -> None:
    """One TCP connection attempt from `src_ns` (a socket made there by this process, no new
    one: a Python start costs seconds under emulation); refused or unanswered alike."""
    s = tcp.client_socket(src_ns)
    try:
        s.settimeout(0.3)
        s.connect((address, port))
    except OSError:
        pass
    finally:
        s.close()


def syn_mss(src_ns: str, dst_ns: str, dst_ifname: str, address: str, port: int, timeout: float) -> dict:
    """Open TCP connections from `src_ns` to address:port until tcpdump in `dst_ns` sees a SYN
    arrive; returns the MSS option it carried (None if no SYN arrived) and the capture text."""
    cap = subprocess.Popen(nsexec.in_ns(dst_ns, ["timeout", str(int(timeout)), "tcpdump", "-n", "-v", "-c", "1",
                                                 "-i", dst_ifname, f"tcp[tcpflags] & tcp-syn != 0 and dst port {port}"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while cap.poll() is None:  # keep sending SYNs until the capture has one: no fixed sleep
            _syn(src_ns, address, port)
            time.sleep(0.2)
        out = cap.stdout.read() if cap.stdout else ""
    finally:
        if cap.poll() is None:
            cap.kill()
        cap.wait()
    m = re.search(r"mss (\d+)", out)
    return {"mss": int(m.group(1)) if m else None, "capture": out}
