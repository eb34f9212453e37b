"""Verification: checks on the lab's live state, and Junos-style output of it."""
