"""`nhtb-lab parse`: a saved device answer read into records, through the real command line."""
from __future__ import annotations

import json

from ..conftest import FIXTURES
from .test_cli import nhtb

CURRENT = FIXTURES / "junos_outputs" / "current"


def test_a_current_ipsec_table_parses_to_records():
    res = nhtb("parse", "--command", "show security ipsec security-associations", "--format", "json",
               str(CURRENT / "ipsec_sa_table.vsrx-12.x-spoke.txt"))
    assert res.returncode == 0, res.stderr
    sas = json.loads(res.stdout)
    assert [(s["index"], s["gateway"], s["spi_in"], s["monitoring"]) for s in sas] == [
        (131073, "10.10.10.1", "2267ff45", "U"), (131074, "10.10.10.2", "17933245", "U")]


def test_statistics_parse_to_one_object_and_text_prints_a_line_per_record():
    res = nhtb("parse", "--command", "sh sec ipsec stat", "--format", "json",
               str(CURRENT / "ipsec_statistics.srx4700-25.2R1.txt"))
    assert res.returncode == 0 and json.loads(res.stdout)["encrypted_packets"] == 10080413567
    res = nhtb("parse", "--command", "show security ike security-associations",
               str(CURRENT / "ike_sa_table.vsrx-12.x-hub.txt"))
    assert res.returncode == 0 and len(res.stdout.strip().splitlines()) == 2 and "index=3126079" in res.stdout


def test_an_answer_to_another_command_is_an_error_naming_file_and_line():
    f = FIXTURES / "junos_outputs" / "ipsec_sa_table.txt"
    res = nhtb("parse", "--command", "show security ike security-associations", str(f))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert str(f) in res.stderr and "line 2: unknown header" in res.stderr
