"""What the stand-in can emulate, as data: the algorithms and DH groups charon renders, and the
Junos applications the ruleset expresses. The renderers read their keywords from these maps and
validation refuses the rest with file:line, so `check` refuses exactly what render would."""
from __future__ import annotations

from .site import IkeProposal, IpsecProposal, SecurityPolicy

# Junos algorithm names -> strongSwan proposal keywords (what charon's openssl plugin provides).
ENCRYPTION = {"3des-cbc": "3des", "des-cbc": "des", "aes-128-cbc": "aes128", "aes-192-cbc": "aes192",
              "aes-256-cbc": "aes256"}
# AES-GCM carries its own integrity; strongSwan negotiates it for ESP only under IKEv1 (the lab's).
AEAD = {"aes-128-gcm": "aes128gcm16", "aes-192-gcm": "aes192gcm16", "aes-256-gcm": "aes256gcm16"}
INTEGRITY = {"sha1": "sha1", "md5": "md5", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512",
             "hmac-sha1-96": "sha1", "hmac-md5-96": "md5", "hmac-sha-256-128": "sha256",
             "hmac-sha-256-96": "sha256_96", "hmac-sha-384-192": "sha384", "hmac-sha-512-256": "sha512"}
# The same algorithms as the kernel's XFRM names them, with key bytes (and truncation bits): what a
# scratch ESP state needs to make the kernel build its crypto instance before charon does.
KERNEL_CIPHER = {"3des-cbc": ("cbc(des3_ede)", 24), "des-cbc": ("cbc(des)", 8), "aes-128-cbc": ("cbc(aes)", 16),
                 "aes-192-cbc": ("cbc(aes)", 24), "aes-256-cbc": ("cbc(aes)", 32)}
KERNEL_AEAD = {"aes-128-gcm": ("rfc4106(gcm(aes))", 20), "aes-192-gcm": ("rfc4106(gcm(aes))", 28),
               "aes-256-gcm": ("rfc4106(gcm(aes))", 36)}  # key + 4-byte salt; 16-byte ICV
KERNEL_AUTH = {"hmac-sha1-96": ("hmac(sha1)", 20, 96), "hmac-md5-96": ("hmac(md5)", 16, 96),
               "hmac-sha-256-128": ("hmac(sha256)", 32, 128), "hmac-sha-256-96": ("hmac(sha256)", 32, 96),
               "hmac-sha-384-192": ("hmac(sha384)", 48, 192), "hmac-sha-512-256": ("hmac(sha512)", 64, 256)}
DH_GROUPS = {1: "modp768", 2: "modp1024", 5: "modp1536", 14: "modp2048", 15: "modp3072", 16: "modp4096",
             19: "ecp256", 20: "ecp384", 21: "ecp521", 24: "modp2048s256"}


def _unknown(what: str, value: object, known) -> str:
    return f"{what} '{value}' is not one the stand-in renders (supported: {', '.join(map(str, known))})"


def ike_problem(p: IkeProposal) -> str | None:
    """Why the stand-in cannot render this phase-1 proposal, or None: the model build reports it
    with file:line, so that `check` refuses what render would."""
    if p.encryption not in ENCRYPTION:
        return _unknown("IKE (IKEv1) encryption-algorithm", p.encryption, ENCRYPTION)
    if p.authentication not in INTEGRITY:
        return _unknown("IKE authentication-algorithm", p.authentication, INTEGRITY)
    return group_problem(p.dh_group)


def esp_problem(p: IpsecProposal) -> str | None:
    """Why the stand-in cannot render this phase-2 proposal, or None."""
    if p.encryption not in ENCRYPTION and p.encryption not in AEAD:
        return _unknown("IPsec encryption-algorithm", p.encryption, [*ENCRYPTION, *AEAD])
    if p.encryption not in AEAD and p.authentication not in INTEGRITY:
        return _unknown("IPsec authentication-algorithm", p.authentication, INTEGRITY)
    return None


def group_problem(group: int | None) -> str | None:
    if group is None or group in DH_GROUPS:
        return None
    return _unknown("DH group", f"group{group}", [f"group{g}" for g in DH_GROUPS])


# Junos predefined applications the lab understands.
APPLICATIONS = {
    "any": "",
    "junos-icmp-all": "meta l4proto icmp",
    "junos-icmp-ping": "icmp type echo-request",
    "junos-ping": "icmp type echo-request",
    "junos-ssh": "tcp dport 22",
    "junos-http": "tcp dport 80",
    "junos-https": "tcp dport 443",
    "junos-telnet": "tcp dport 23",
    "junos-ike": "udp dport 500",
    "junos-dns-udp": "udp dport 53",
}


def application_problem(pol: SecurityPolicy) -> str | None:
    """Why the ruleset cannot express a policy's applications, or None (validation reports it
    with file:line, so that `check` refuses what render would)."""
    unknown = next((a for a in pol.applications if a not in APPLICATIONS), None)
    if unknown is None:
        return None
    return f"policy {pol.name}: application '{unknown}' is not one the lab emulates ({', '.join(sorted(APPLICATIONS))})"


def kernel_esp(p: IpsecProposal) -> list[str] | None:
    """`ip xfrm state` algorithm arguments for an ESP state with this proposal's algorithms (dummy
    keys), or None where the kernel names are not known here."""
    if p.encryption in KERNEL_AEAD:
        name, size = KERNEL_AEAD[p.encryption]
        return ["aead", name, _key(size), "128"]
    if p.encryption in KERNEL_CIPHER and p.authentication in KERNEL_AUTH:
        cipher, csize = KERNEL_CIPHER[p.encryption]
        auth, asize, bits = KERNEL_AUTH[p.authentication]
        return ["enc", cipher, _key(csize), "auth-trunc", auth, _key(asize), str(bits)]
    return None


def _key(size: int) -> str:
    """A dummy key whose parts all differ (3DES refuses one whose three keys are equal)."""
    return "0x" + bytes((i * 37 + 11) % 256 for i in range(size)).hex()
