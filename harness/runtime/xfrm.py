"""XFRM (IPsec) policies and states over netlink, on top of pyroute2's message classes.

pyroute2 0.9 has no XFRM API; this module adds the messages the lab needs, written to be offered
upstream: the structs of include/uapi/linux/xfrm.h (every padding byte spelled out, since
pyroute2 packs fields one after another), policy dump/update/delete and state dump with
lifetimes and statistics. Keys are never decoded: an SA's algorithms are read by name only.
"""
from __future__ import annotations

import contextlib
import errno
import socket
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from pyroute2.netlink import NETLINK_XFRM, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, nla, nlmsg

from . import nsexec

# Message types (XFRM_MSG_*).
XFRM_MSG_NEWSA, XFRM_MSG_GETSA = 16, 18
XFRM_MSG_NEWPOLICY, XFRM_MSG_DELPOLICY, XFRM_MSG_GETPOLICY, XFRM_MSG_UPDPOLICY = 19, 20, 21, 25
NLMSG_ERROR, NLMSG_DONE = 2, 3

XFRM_POLICY_IN, XFRM_POLICY_OUT, XFRM_POLICY_FWD = 0, 1, 2
DIRECTIONS = {"in": XFRM_POLICY_IN, "out": XFRM_POLICY_OUT, "fwd": XFRM_POLICY_FWD}
XFRM_MODE_TUNNEL = 1
IPPROTO_ESP = 50
INF = 0xFFFFFFFFFFFFFFFF  # XFRM_INF: no lifetime limit

_SELECTOR = (
    ("sel_daddr", "16s"), ("sel_saddr", "16s"),
    ("sel_dport", ">H"), ("sel_dport_mask", ">H"), ("sel_sport", ">H"), ("sel_sport_mask", ">H"),
    ("sel_family", "H"), ("sel_prefixlen_d", "B"), ("sel_prefixlen_s", "B"), ("sel_proto", "B"),
    ("sel_pad", "3s"), ("sel_ifindex", "i"), ("sel_user", "I"),
)  # struct xfrm_selector, 56 bytes
_LIFETIME_CFG = tuple((f"lft_{n}", "Q") for n in (
    "soft_byte_limit", "hard_byte_limit", "soft_packet_limit", "hard_packet_limit",
    "soft_add_expires_seconds", "hard_add_expires_seconds", "soft_use_expires_seconds", "hard_use_expires_seconds"))
_LIFETIME_CUR = tuple((f"cur_{n}", "Q") for n in ("bytes", "packets", "add_time", "use_time"))
_ID = (("id_daddr", "16s"), ("id_spi", ">I"), ("id_proto", "B"), ("id_pad", "3s"))  # struct xfrm_id, 24 bytes


class xfrm_algo(nla):
    """XFRMA_ALG_CRYPT / XFRMA_ALG_AUTH: the algorithm's name; the key that follows is skipped."""
    fields = (("alg_name", "64s"), ("alg_key_len", "I"))


class xfrm_user_tmpl(nla):
    """XFRMA_TMPL with one template (struct xfrm_user_tmpl, 64 bytes)."""
    fields = _ID + (
        ("family", "H"), ("pad1", "2s"), ("saddr", "16s"), ("reqid", "I"), ("mode", "B"), ("share", "B"),
        ("optional", "B"), ("pad2", "B"), ("aalgos", "I"), ("ealgos", "I"), ("calgos", "I"),
    )


class _xfrm_base(nlmsg):
    nla_map = (
        (1, "XFRMA_ALG_AUTH", "xfrm_algo"),
        (2, "XFRMA_ALG_CRYPT", "xfrm_algo"),
        (5, "XFRMA_TMPL", "xfrm_user_tmpl"),
        (15, "XFRMA_LASTUSED", "uint64"),
        (20, "XFRMA_ALG_AUTH_TRUNC", "xfrm_algo"),
        (31, "XFRMA_IF_ID", "uint32"),
    )
    xfrm_algo = xfrm_algo
    xfrm_user_tmpl = xfrm_user_tmpl


class xfrm_userpolicy_info(_xfrm_base):
    fields = _SELECTOR + _LIFETIME_CFG + _LIFETIME_CUR + (
        ("priority", "I"), ("index", "I"), ("dir", "B"), ("action", "B"), ("flags", "B"), ("share", "B"),
        ("pad", "4s"),
    )  # 168 bytes


class xfrm_userpolicy_id(_xfrm_base):
    fields = _SELECTOR + (("index", "I"), ("dir", "B"), ("pad", "3s"))  # 64 bytes


class xfrm_usersa_info(_xfrm_base):
    fields = _SELECTOR + _ID + (("saddr", "16s"),) + _LIFETIME_CFG + _LIFETIME_CUR + (
        ("stats_replay_window", "I"), ("stats_replay", "I"), ("stats_integrity_failed", "I"),
        ("seq", "I"), ("reqid", "I"), ("family", "H"), ("mode", "B"), ("replay_window", "B"), ("flags", "B"),
        ("pad", "7s"),
    )  # 224 bytes


class xfrm_dump(nlmsg):
    """A dump request: the header alone, as iproute2 sends it."""
    fields = ()


def _addr(ip: IPv4Address | str) -> bytes:
    return IPv4Address(ip).packed + b"\0" * 12


def _ip(raw: bytes) -> IPv4Address:
    return IPv4Address(raw[:4])


@dataclass(frozen=True)
class Policy:
    """One XFRM policy of the kind the binding installs: a selector, a direction, an if_id and
    one ESP tunnel template."""

    src: IPv4Network
    dst: IPv4Network
    dir: str  # in, out, fwd
    if_id: int
    reqid: int
    tmpl_src: IPv4Address  # tunnel endpoints: local public, remote public (reversed for in/fwd)
    tmpl_dst: IPv4Address
    priority: int

    @property
    def key(self) -> tuple:
        """What identifies a policy in the kernel: selector, direction, if_id."""
        return (self.src, self.dst, self.dir, self.if_id)


@dataclass(frozen=True)
class SAState:
    """An SA as the kernel holds it: endpoints, SPI, reqid, counters and error statistics."""

    src: IPv4Address
    dst: IPv4Address
    spi: int
    reqid: int
    if_id: int | None
    mode: int
    enc: str
    auth: str
    bytes: int
    packets: int
    add_time: int
    replay_window: int
    replay_errors: int
    integrity_failed: int


def _selector(msg: nlmsg, src: IPv4Network, dst: IPv4Network) -> None:
    msg["sel_daddr"], msg["sel_saddr"] = _addr(dst.network_address), _addr(src.network_address)
    msg["sel_prefixlen_d"], msg["sel_prefixlen_s"] = dst.prefixlen, src.prefixlen
    msg["sel_family"] = socket.AF_INET
    for f in ("sel_dport", "sel_dport_mask", "sel_sport", "sel_sport_mask", "sel_proto", "sel_ifindex", "sel_user"):
        msg[f] = 0
    msg["sel_pad"] = b"\0" * 3


class XfrmSocket:
    """A NETLINK_XFRM socket, opened inside a network namespace (or the current one)."""

    def __init__(self, ns: str | None = None):
        with nsexec.inside(ns) if ns else contextlib.nullcontext():
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _request(self, msg: nlmsg, msg_type: int, flags: int, reply_cls=None) -> list[nlmsg]:
        self.seq += 1
        msg["header"]["type"], msg["header"]["flags"] = msg_type, flags
        msg["header"]["sequence_number"], msg["header"]["pid"] = self.seq, 0
        msg.encode()
        self.sock.send(msg.data)
        replies: list[nlmsg] = []
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset < len(data):
                length, mtype = struct.unpack_from("IH", data, offset)
                if mtype == NLMSG_DONE:
                    return replies
                if mtype == NLMSG_ERROR:
                    (code,) = struct.unpack_from("i", data, offset + 16)
                    if code:
                        raise OSError(-code, f"{errno.errorcode.get(-code, -code)}: {msg_type=}")
                    return replies  # an ACK
                if reply_cls is not None:
                    reply = reply_cls(data[offset:offset + length])
                    reply.decode()
                    replies.append(reply)
                offset += (length + 3) & ~3
            if not flags & NLM_F_DUMP and not flags & NLM_F_ACK:
                return replies

    # ---- policies ------------------------------------------------------------------------
    def policies(self) -> list[Policy]:
        out = []
        for m in self._request(xfrm_dump(), XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, xfrm_userpolicy_info):
            tmpl = m.get_attr("XFRMA_TMPL")
            if tmpl is None:
                continue  # not one of ours (no template: an allow/block policy)
            direction = {v: k for k, v in DIRECTIONS.items()}.get(m["dir"])
            if direction is None:
                continue
            out.append(Policy(
                IPv4Network(f"{_ip(m['sel_saddr'])}/{m['sel_prefixlen_s']}"),
                IPv4Network(f"{_ip(m['sel_daddr'])}/{m['sel_prefixlen_d']}"),
                direction, m.get_attr("XFRMA_IF_ID") or 0, tmpl["reqid"], _ip(tmpl["saddr"]), _ip(tmpl["id_daddr"]),
                m["priority"]))
        return out

    def update_policy(self, p: Policy) -> None:
        """Add or replace (XFRM_MSG_UPDPOLICY: idempotent)."""
        msg = xfrm_userpolicy_info()
        _selector(msg, p.src, p.dst)
        for name, _ in _LIFETIME_CFG:
            # No limit is INF for bytes and packets but 0 for times: INF seconds overflows the
            # kernel's expiry arithmetic (6.1) and the policy expires at once.
            msg[name] = INF if name.endswith("_limit") else 0
        for name, _ in _LIFETIME_CUR:
            msg[name] = 0
        msg["priority"], msg["index"], msg["dir"] = p.priority, 0, DIRECTIONS[p.dir]
        msg["action"], msg["flags"], msg["share"], msg["pad"] = 0, 0, 0, b"\0" * 4
        tmpl = {"id_daddr": _addr(p.tmpl_dst), "id_spi": 0, "id_proto": IPPROTO_ESP, "id_pad": b"\0" * 3,
                "family": socket.AF_INET, "pad1": b"\0\0", "saddr": _addr(p.tmpl_src), "reqid": p.reqid,
                "mode": XFRM_MODE_TUNNEL, "share": 0, "optional": 0, "pad2": 0,
                "aalgos": 0xFFFFFFFF, "ealgos": 0xFFFFFFFF, "calgos": 0xFFFFFFFF}
        msg["attrs"] = [["XFRMA_TMPL", tmpl], ["XFRMA_IF_ID", p.if_id]]
        self._request(msg, XFRM_MSG_UPDPOLICY, NLM_F_REQUEST | NLM_F_ACK)

    def delete_policy(self, p: Policy) -> None:
        msg = xfrm_userpolicy_id()
        _selector(msg, p.src, p.dst)
        msg["index"], msg["dir"], msg["pad"] = 0, DIRECTIONS[p.dir], b"\0" * 3
        msg["attrs"] = [["XFRMA_IF_ID", p.if_id]]
        try:
            self._request(msg, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK)
        except FileNotFoundError:
            pass  # already gone: deleting is idempotent too

    # ---- states --------------------------------------------------------------------------
    def states(self) -> list[SAState]:
        out = []
        for m in self._request(xfrm_dump(), XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, xfrm_usersa_info):
            crypt = m.get_attr("XFRMA_ALG_CRYPT")
            auth = m.get_attr("XFRMA_ALG_AUTH_TRUNC") or m.get_attr("XFRMA_ALG_AUTH")
            name = lambda a: a["alg_name"].rstrip(b"\0").decode() if a else ""  # noqa: E731
            out.append(SAState(
                _ip(m["saddr"]), _ip(m["id_daddr"]), m["id_spi"], m["reqid"], m.get_attr("XFRMA_IF_ID"), m["mode"],
                name(crypt), name(auth), m["cur_bytes"], m["cur_packets"], m["cur_add_time"], m["replay_window"],
                m["stats_replay"], m["stats_integrity_failed"]))
        return out


@contextmanager
def xfrm(ns: str | None = None):
    s = XfrmSocket(ns)
    try:
        yield s
    finally:
        s.close()


def netns_stats(ns: str) -> dict[str, int]:
    """The kernel's per-namespace XFRM error counters (/proc/net/xfrm_stat as seen from `ns`)."""
    with nsexec.inside(ns), open("/proc/thread-self/net/xfrm_stat") as f:
        return {k: int(v) for k, v in (line.split() for line in f if line.strip())}
