"""Junos predefined proposals and proposal sets, and ScreenOS sec-levels, as SRX expands them."""
from __future__ import annotations

from .site import IkeProposal, IpsecProposal

_PSK = "pre-shared-keys"

IKE_PROPOSALS = {
    p.name: p
    for p in (
        IkeProposal("pre-g2-aes128-sha", _PSK, 2, "sha1", "aes-128-cbc"),
        IkeProposal("pre-g2-3des-sha", _PSK, 2, "sha1", "3des-cbc"),
        IkeProposal("pre-g2-des-sha", _PSK, 2, "sha1", "des-cbc"),
        IkeProposal("pre-g2-3des-md5", _PSK, 2, "md5", "3des-cbc"),
        IkeProposal("pre-g2-des-md5", _PSK, 2, "md5", "des-cbc"),
        IkeProposal("pre-g1-des-sha", _PSK, 1, "sha1", "des-cbc"),
        IkeProposal("pre-g1-des-md5", _PSK, 1, "md5", "des-cbc"),
    )
}

IPSEC_PROPOSALS = {
    p.name: p
    for p in (
        IpsecProposal("g2-esp-3des-sha", "esp", "hmac-sha1-96", "3des-cbc"),
        IpsecProposal("g2-esp-aes128-sha", "esp", "hmac-sha1-96", "aes-128-cbc"),
        IpsecProposal("nopfs-esp-3des-sha", "esp", "hmac-sha1-96", "3des-cbc"),
        IpsecProposal("nopfs-esp-des-sha", "esp", "hmac-sha1-96", "des-cbc"),
        IpsecProposal("nopfs-esp-3des-md5", "esp", "hmac-md5-96", "3des-cbc"),
        IpsecProposal("nopfs-esp-des-md5", "esp", "hmac-md5-96", "des-cbc"),
    )
}

# Junos `proposal-set` (security ike policy / security ipsec policy); ScreenOS `sec-level` means the same.
IKE_PROPOSAL_SETS = {
    "standard": ["pre-g2-aes128-sha", "pre-g2-3des-sha"],
    "compatible": ["pre-g2-3des-sha", "pre-g2-3des-md5", "pre-g2-des-sha", "pre-g2-des-md5"],
    "basic": ["pre-g1-des-sha", "pre-g1-des-md5"],
}
IPSEC_PROPOSAL_SETS = {
    "standard": ["g2-esp-3des-sha", "g2-esp-aes128-sha"],
    "compatible": ["nopfs-esp-3des-sha", "nopfs-esp-3des-md5", "nopfs-esp-des-sha", "nopfs-esp-des-md5"],
    "basic": ["nopfs-esp-des-sha", "nopfs-esp-des-md5"],
}
# The PFS group a set implies when the policy names none (the g2- ESP proposals).
IPSEC_SET_PFS = {"standard": 2, "compatible": None, "basic": None}


def ike_set(name: str) -> list[IkeProposal]:
    return [IKE_PROPOSALS[n] for n in IKE_PROPOSAL_SETS[name]]


def ipsec_set(name: str) -> list[IpsecProposal]:
    return [IPSEC_PROPOSALS[n] for n in IPSEC_PROPOSAL_SETS[name]]
