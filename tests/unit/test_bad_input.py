"""Bad input never crashes or leaks (issue #13): every case is a ConfigError or LabError naming the
file and a line, never a traceback, and no pre-shared key appears in any message or warning."""
from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.files import WriteRefused, prepare_out_dir, write_file
from harness.model.change import CHANGE_FILE
from harness.model.faults import apply_fault, load_faults
from harness.model.lab import load_lab
from harness.model.spoke import add_spoke
from harness.parse.clab import load_topology
from harness.parse.junos import MAX_DEPTH, parse_junos
from harness.render import strongswan

from ..conftest import BOSTON, LAB, THREE_SITE
from .test_cli import nhtb
from .test_validate import edit

# What must never show: the $9$ strings of lab/*.junos and the key they (and Sunnyvale's) stand for.
KEYS = [*re.findall(r'"(\$9\$[^"]+)"', (LAB / "corporate.junos").read_text() + (LAB / "westford.junos").read_text()),
        "secretkey"]


def labdir(topology: Path) -> Path:
    return topology.parent.parent / "lab"


def no_key(text: str) -> None:
    for key in KEYS:
        assert key not in text, text


def error_of(topology: Path) -> str:
    """load_lab's ConfigError text (it must fail); no key in it."""
    with pytest.raises(ConfigError) as e:
        load_lab(topology)
    text = str(e.value)
    no_key(text)
    return text


def expect(topology: Path, file: str, message: str, line: int | None = None) -> str:
    text = error_of(topology)
    where = rf"{re.escape(file)}:{line if line else '[1-9][0-9]*'}: "
    assert re.search(where + rf".*{re.escape(message)}", text), text
    return text


def cli_check(topology: Path, file: str, message: str) -> None:
    """The real CLI: exit 1, no traceback, file:line and the message, no key anywhere."""
    res = nhtb("-t", str(topology), "check")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(rf"{re.escape(file)}:[1-9][0-9]*: .*{re.escape(message)}", res.stderr), res.stderr
    no_key(res.stdout + res.stderr)


def topology_line(topology: Path, text: str, after: str | None = None) -> int:
    """The 1-based line of the first line containing `text` (after the line containing `after`)."""
    lines = topology.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i for i, ln in enumerate(lines) if i >= start and text in ln) + 1


# ---- 1. bytes that are not UTF-8 ---------------------------------------------------------------

def test_a_bad_byte_in_a_config_names_its_line(lab_copy):
    path = labdir(lab_copy) / "corporate.junos"
    data = path.read_bytes().replace(b"host-name CORPORATE", b"host-name CORP\xffRATE")
    path.write_bytes(data)
    line = data[:data.index(b"\xff")].count(b"\n") + 1
    expect(lab_copy, "corporate.junos", "not UTF-8", line)


def test_a_bad_byte_in_the_topology_through_the_cli(lab_copy):
    lab_copy.write_bytes(lab_copy.read_bytes().replace(b"kind: linux", b"kind: l\xffnux", 1))
    cli_check(lab_copy, lab_copy.name, "not UTF-8")


# ---- 2. YAML -----------------------------------------------------------------------------------

@pytest.mark.parametrize("old,new,message", [
    ("startup-config: ../lab/westford.junos", "startup-config:", "startup-config must name a file"),
    ("kind: linux\n      startup-config: ../lab/westford", "kind: !weird linux\n      startup-config: ../lab/westford",
     "not valid YAML"),
    ("    westford:\n      kind: linux\n", "    westford:\n      kind: linux\n      kind: linux\n", "duplicate key 'kind'"),
    ("      startup-config: ../lab/westford.junos", "      startup-config: [../lab/westford.junos",
     "not valid YAML"),
])
def test_yaml_mistakes_name_the_topology_line(lab_copy, old, new, message):
    text = lab_copy.read_text()
    assert old in text
    lab_copy.write_text(text.replace(old, new, 1))
    expect(lab_copy, lab_copy.name, message)


def test_a_duplicate_key_names_both_lines(lab_copy):
    text = lab_copy.read_text().replace("    internet:\n", "    corp-pc:\n      kind: linux\n    internet:\n", 1)
    lab_copy.write_text(text)
    first, second = topology_line(lab_copy, "corp-pc:"), topology_line(lab_copy, "corp-pc:", "internet:")
    msg = expect(lab_copy, lab_copy.name, "duplicate key 'corp-pc'", second)
    assert f"lines {first} and {second}" in msg


def test_a_billion_laughs_is_refused_at_once(tmp_path):
    laughs = ["name: lol", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "lol.clab.yml"
    path.write_text("\n".join(laughs + ["topology: {nodes: {x: {kind: linux, labels: *a9}}}"]) + "\n")
    start = time.monotonic()
    with pytest.raises(ConfigError) as e:
        load_topology(path)
    assert time.monotonic() - start < 1
    assert re.search(rf"{re.escape(str(path))}:\d+: .*(aliases|stands for more)", str(e.value)), str(e.value)


@pytest.mark.parametrize("text,line,message", [
    ("- a\n- b\n", 1, "must be a mapping"),
    ("faults:\n  x:\n    layer: 1\n    edits: not-a-mapping\n", 4, "edits must be a mapping"),
    ("faults:\n  x:\n    layer: 1\n    edits:\n      westford: 7\n", 5, "must be a list of commands"),
    ("faults:\n  x:\n    note: n\n", 2, "needs `edits`"),
    ("faults:\n  x:\n    edits: {}\n  x:\n    edits: {}\n", 4, "duplicate key 'x'"),
    ("faults: [\n", 2, "not valid YAML"),
])
def test_a_bad_faults_file_names_a_real_line(tmp_path, text, line, message):
    path = tmp_path / "faults.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_faults(path)
    assert re.search(rf"{re.escape(str(path))}:{line}: .*{re.escape(message)}", str(e.value)), str(e.value)


# ---- 3. deep nesting ---------------------------------------------------------------------------

def test_a_thousand_nested_braces_are_an_error_not_a_recursion(lab_copy):
    path = labdir(lab_copy) / "westford.junos"
    path.write_text("a {\n" * 1000 + "b;\n" + "}\n" * 1000)
    expect(lab_copy, "westford.junos", f"nested more than {MAX_DEPTH} deep", MAX_DEPTH + 1)
    cli_check(lab_copy, "westford.junos", "nested more than")


# ---- 4. bounds: sizes, special files, list expansion ---------------------------------------------

@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "missing", "huge"])
def test_a_startup_config_that_is_no_config_names_the_topology_line(lab_copy, target):
    special = labdir(lab_copy) / target
    if target == "fifo":
        os.mkfifo(special)
    elif target == "huge":  # sparse: no disk used
        with open(special, "wb") as f:
            f.truncate(17 * 2**20)
    where = "/dev/zero" if target == "/dev/zero" else f"../lab/{target}"
    lab_copy.write_text(lab_copy.read_text().replace("../lab/westford.junos", where))
    line = topology_line(lab_copy, where)
    start = time.monotonic()
    expect(lab_copy, lab_copy.name, "node westford: startup-config: cannot read", line)
    assert time.monotonic() - start < 5  # a FIFO never blocks, /dev/zero is not read


def test_dev_zero_through_the_cli(lab_copy):
    lab_copy.write_text(lab_copy.read_text().replace("../lab/westford.junos", "/dev/zero"))
    cli_check(lab_copy, lab_copy.name, "not a regular file")


@pytest.mark.parametrize("text", [
    "set a " + " ".join("[ " + " ".join(f"x{i}" for i in range(20)) + " ]" for _ in range(8)),
    "a " + " ".join("[ " + " ".join(f"x{i}" for i in range(20)) + " ]" for _ in range(8)) + ";",
])
def test_list_expansion_is_bounded(text):
    start = time.monotonic()
    with pytest.raises(ConfigError) as e:
        parse_junos(text + "\n", "big.junos")
    assert time.monotonic() - start < 1
    assert re.search(r"big\.junos:1: .*'\[ \]' lists stand for \d+ statements", str(e.value)), str(e.value)


# ---- 6. numbers --------------------------------------------------------------------------------

IKE_PROPOSAL = ("proposal-set standard;", "proposals p1;")


def _with_proposal(lab_copy, family: str, attrs: list[str]) -> int:
    """Westford's policy on a custom proposal with `attrs`; returns the first attribute's line."""
    path = labdir(lab_copy) / "westford.junos"
    text = path.read_text()
    anchor = f"    {family} {{\n"
    block = "".join(f"        proposal p1 {{ {a}; }}\n" for a in attrs)
    path.write_text(text.replace(anchor, anchor + block, 1))
    edit(path, "proposal-set standard;", "proposals p1;") if family == "ike" else None
    if family == "ipsec":
        lines = path.read_text().splitlines(keepends=True)
        idx = [i for i, ln in enumerate(lines) if "proposal-set standard;" in ln][-1]
        lines[idx] = lines[idx].replace("proposal-set standard;", "proposals p1;")
        path.write_text("".join(lines))
    return path.read_text().index(block.splitlines()[0]) and \
        path.read_text()[:path.read_text().index(block.splitlines()[0])].count("\n") + 1


@pytest.mark.parametrize("family,attrs,message", [
    ("ike", ["lifetime-seconds abc"], "lifetime-seconds 'abc' is not a number from 180 to 86400"),
    ("ike", ["lifetime-seconds 0"], "lifetime-seconds '0' is not a number from 180 to 86400"),
    ("ipsec", ["lifetime-seconds 0"], "lifetime-seconds '0' is not a number from 180 to 86400"),
    ("ipsec", ["lifetime-seconds ²"], "lifetime-seconds '²' is not a number"),
    ("ike", ["dh-group group3"], "DH group 'group3' is not one the stand-in renders"),
    ("ike", ["dh-group groupx"], "dh-group 'groupx' is not groupN"),
    ("ike", ["encryption-algorithm aes-256-gcm"], "IKE (IKEv1) encryption-algorithm 'aes-256-gcm' is not one"),
    ("ipsec", ["encryption-algorithm chacha"], "IPsec encryption-algorithm 'chacha' is not one"),
    ("ipsec", ["authentication-algorithm hmac-foo"], "IPsec authentication-algorithm 'hmac-foo' is not one"),
])
def test_bad_proposal_values_name_their_line(lab_copy, family, attrs, message):
    line = _with_proposal(lab_copy, family, attrs)
    expect(lab_copy, "westford.junos", message, line)


@pytest.mark.parametrize("file,old,new,message,below", [
    ("corporate.junos", "mss 1350;", "mss ²;", "tcp-mss '²' is not a number", 0),
    ("corporate.junos", "mss 1350;", "mss 0;", "tcp-mss '0' is not a number from 64 to 65535", 0),
    ("sunnyvale.screenos", "tcp-mss 1350", "tcp-mss 70000", "tcp-mss '70000' is not a number from 64 to 65535", 0),
    # A unit is named where its first statement is: the line below `unit x {`.
    ("corporate.junos", "    st0 {\n        unit 0 {", "    st0 {\n        unit x {", "unit 'x' is not a number", 1),
])
def test_bad_numbers_name_their_line(lab_copy, file, old, new, message, below):
    path = labdir(lab_copy) / file
    text = path.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text)
    line = text[:text.index(new.splitlines()[-1])].count("\n") + 1
    expect(lab_copy, file, message, line + below)


# ---- 7. algorithms the renderer knows: accepted and rendered, never a KeyError --------------------

@pytest.mark.parametrize("family,attrs,rendered", [
    ("ike", ["dh-group group15", "authentication-algorithm sha-256", "encryption-algorithm aes-256-cbc"],
     "aes256-sha256-modp3072"),
    ("ike", ["dh-group group21", "authentication-algorithm sha-384", "encryption-algorithm aes-192-cbc"],
     "aes192-sha384-ecp521"),
    ("ipsec", ["protocol esp", "encryption-algorithm aes-256-gcm"], "aes256gcm16-modp1024"),
])
def test_supported_algorithms_render(lab_copy, family, attrs, rendered):
    _with_proposal(lab_copy, family, attrs)
    site = load_lab(lab_copy).sites["westford"]
    assert rendered in strongswan.swanctl_conf(site)


def test_render_refuses_what_it_cannot_render_without_a_key_error():
    site = load_lab(THREE_SITE).sites["westford"]
    pol = next(iter(site.ike_policies.values()))
    pol.proposals = [replace(pol.proposals[0], dh_group=3)]
    with pytest.raises(ConfigError, match="DH group 'group3'"):
        strongswan.connections(site)


# ---- 8. what check must refuse -----------------------------------------------------------------

def test_a_topology_without_nodes(tmp_path):
    path = tmp_path / "empty.clab.yml"
    path.write_text("name: x\ntopology:\n  nodes: {}\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}:3: the topology has no nodes"):
        load_topology(path)


def test_a_host_without_its_exec_list(lab_copy):
    text = lab_copy.read_text()
    text = text.replace("      exec:\n        - ip addr add 10.10.10.10/24 dev eth1\n"
                        "        - ip route replace default via 10.10.10.1\n", "")
    lab_copy.write_text(text)
    expect(lab_copy, lab_copy.name, "node corp-pc: no 'ip addr add", topology_line(lab_copy, "corp-pc:"))


def test_a_host_route_via_an_address_no_node_holds(lab_copy):
    text = lab_copy.read_text().replace("default via 10.10.10.1", "default via 10.10.10.99")
    lab_copy.write_text(text)
    expect(lab_copy, lab_copy.name, "no node in the lab holds 10.10.10.99", topology_line(lab_copy, "10.10.10.99"))


@pytest.mark.parametrize("file,old,new,message", [
    ("corporate.junos", "                    ike;\n", "                    ping;\n",
     "zone untrust (ge-0/0/3.0, the external-interface of ike gateway sunnyvale-gate) does not allow"),
    ("corporate.junos", "                st0.0;\n", "", "st0.0 is in no security zone"),
    ("corporate.junos", "                st0.0;\n", "                st0.0;\n                ge-0/0/0.0;\n",
     "interface ge-0/0/0.0 is already in zone trust"),
    ("corporate.junos", "destination-address local-net;", "destination-address local-net;\n application bogus;",
     "application 'bogus' is not one the lab emulates"),
    ("sunnyvale.screenos", 'set interface "tunnel.1" zone "VPN"\n', "", "tunnel.1 is in no security zone"),
])
def test_check_refuses_what_cannot_work(lab_copy, file, old, new, message):
    path = labdir(lab_copy) / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    expect(lab_copy, file, message)


def test_an_unknown_application_through_the_cli(lab_copy):
    path = labdir(lab_copy) / "corporate.junos"
    path.write_text(path.read_text().replace("application any;", "application bogus;", 1))
    cli_check(lab_copy, "corporate.junos", "application 'bogus' is not one the lab emulates")


def test_screenos_predefined_zones_name_a_real_line():
    site = load_lab(THREE_SITE).sites["sunnyvale"]
    assert all(z.source.line >= 1 for z in site.zones.values())
    assert site.zones["Trust"].source.line == 2  # `set interface ethernet0/6 zone "Trust"`


def test_a_bad_node_name_in_a_topology(lab_copy):
    lab_copy.write_text(lab_copy.read_text().replace("    corp-pc:", "    ../corp-pc:").replace(
        '"corp-pc:eth1"', '"../corp-pc:eth1"'))
    expect(lab_copy, lab_copy.name, "node name '../corp-pc' is not valid")


# ---- 9. keys never in a message ------------------------------------------------------------------

def test_a_statement_quoted_in_an_error_hides_its_key(lab_copy):
    path = labdir(lab_copy) / "corporate.junos"
    text = path.read_text()
    assert f'{KEYS[0]}";' in text
    path.write_text(text.replace(f'{KEYS[0]}";', f'{KEYS[0]}"'))
    msg = expect(lab_copy, "corporate.junos", "after 'pre-shared-key ascii-text <redacted>'")
    cli_check(lab_copy, "corporate.junos", "pre-shared-key ascii-text <redacted>")
    assert "$9$" not in msg


def test_a_misspelt_screenos_preshare_hides_the_key(lab_copy):
    path = labdir(lab_copy) / "sunnyvale.screenos"
    path.write_text(path.read_text().replace("preshare", "presahre"))
    expect(lab_copy, "sunnyvale.screenos", "ike gateway corp-ike: cannot read 2 word(s)")
    cli_check(lab_copy, "sunnyvale.screenos", "cannot read")


def test_warnings_hide_keys(lab_copy):
    path = labdir(lab_copy) / "sunnyvale.screenos"
    path.write_text(path.read_text() + 'set ike gatewy "x" preshare "secretkey"\n')
    path = labdir(lab_copy) / "corporate.junos"
    key = KEYS[0]
    path.write_text(path.read_text().replace("    ike {\n", f'    ike {{\n        respond-bad-spi "{key}";\n', 1))
    warnings = load_lab(lab_copy).warnings
    assert len(warnings) == 2
    no_key(str(warnings))
    res = nhtb("-t", str(lab_copy), "check")
    assert "warning" in res.stderr
    no_key(res.stdout + res.stderr)


# ---- 10. files ---------------------------------------------------------------------------------

def test_a_planted_tmp_symlink_is_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".swanctl.conf.tmp").symlink_to(victim)
    write_file(out / "swanctl.conf", "secret", secret=True)
    assert victim.read_text() == "untouched"
    assert (out / "swanctl.conf").read_text() == "secret"
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()] == []


def test_a_symlinked_output_folder_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(WriteRefused, match="symbolic link"):
        write_file(tmp_path / "link" / "x.conf", "x")
    with pytest.raises(WriteRefused, match="symbolic link"):
        prepare_out_dir(tmp_path / "link", force=True)


def test_prepare_out_dir(tmp_path):
    assert prepare_out_dir(tmp_path / "new" / "dir", force=False).is_dir()
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(WriteRefused, match="not empty"):
        prepare_out_dir(full, force=False)
    assert prepare_out_dir(full, force=True) == full and (full / "x").exists()
    with pytest.raises(WriteRefused, match="is not a folder"):
        prepare_out_dir(full / "x", force=True)
    with pytest.raises(WriteRefused, match=re.escape(str(full / "x" / "below"))):
        prepare_out_dir(full / "x" / "below", force=False)
    with pytest.raises(WriteRefused, match="cannot use it"):
        prepare_out_dir(tmp_path / ("y" * 300), force=False)


def test_change_json_is_private(tmp_path):
    fault = load_faults(LAB / "faults.yml")["psk-mismatch"]
    apply_fault(THREE_SITE, fault, tmp_path)
    assert stat.S_IMODE((tmp_path / CHANGE_FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize("change,message", [
    ({"name": "../../escape"}, "node name '../../escape' is not valid"),
    ({"name": "two words"}, "node name 'two words' is not valid"),
    ({"like": "nowhere"}, "--like nowhere: not a spoke of lab nhtb (spokes: westford, sunnyvale)"),
    ({"lan": IPv4Network("192.168.188.0/32")}, "--lan 192.168.188.0/32: a subnet of at least /30"),
])
def test_spoke_add_refuses_bad_requests(change, message):
    with pytest.raises(ConfigError) as e:
        add_spoke(load_lab(THREE_SITE), replace(BOSTON, **change))
    assert message in str(e.value)
