"""Pre-shared keys as configs write them: Junos ascii-text (plain or $9$-obfuscated), hexadecimal."""
from __future__ import annotations

from netutils.password import decrypt_juniper_type9

from .site import Secret


def junos_secret(value: str, kind: str = "ascii-text") -> Secret:
    """The key a Junos `pre-shared-key <kind> "<value>"` stands for. $9$ is reversible obfuscation."""
    if kind == "hexadecimal":
        try:
            bytes.fromhex(value)
        except ValueError:
            raise ValueError("not a hexadecimal string") from None
        return Secret("0x" + value.lower())  # strongSwan reads a 0x prefix as hex
    if value.startswith("$9$"):
        try:
            return Secret(decrypt_juniper_type9(value))
        except Exception:  # netutils raises assorted errors on a truncated string
            raise ValueError("cannot decode the $9$ string") from None
    return Secret(value)
