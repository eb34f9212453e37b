"""Parsers: Junos (curly and set), ScreenOS, containerlab topologies."""
