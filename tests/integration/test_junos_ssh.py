"""The sites' Junos-style CLI over SSH on their management addresses, and the whole verification
suite through it: the vSRX driver (SSH, `| display xml`, the Junos parsers) against the stand-ins.
`pytest --driver junos-ssh` runs every verification test this way."""
from __future__ import annotations

import time

import pytest

from harness.cli import main
from harness.drivers import for_lab
from harness.drivers.junos_ssh import JunosCliError, JunosSshDriver
from harness.model.mgmt import credentials, mgmt_plan
from harness.verify.suite import verify


@pytest.fixture(scope="module")
def ssh_drivers(lab):
    drivers = for_lab(lab.name, "junos-ssh")
    yield drivers
    for d in drivers.values():
        if isinstance(d, JunosSshDriver):
            d.close()


def test_the_verification_suite_passes_through_ssh(lab, ssh_drivers):
    results = verify(lab.model, ssh_drivers)
    failed = [str(r) for r in results if not r.ok]
    assert not failed, failed
    sites = [d for d in ssh_drivers.values() if isinstance(d, JunosSshDriver)]
    assert len(sites) == len(lab.model.sites)
    assert all(d.fallbacks == [] for d in sites), [d.fallbacks for d in sites]  # every answer was XML


def test_ssh_answers_equal_the_native_driver(lab, ssh_drivers):
    native = for_lab(lab.name)
    hub = lab.model.hub().name
    key = lambda sas: sorted((s.name, s.remote, s.state, s.initiator_cookie, s.responder_cookie) for s in sas)  # noqa: E731
    assert key(ssh_drivers[hub].ike_sas()) == key(native[hub].ike_sas())
    assert ssh_drivers[hub].next_hop_tunnels() == native[hub].next_hop_tunnels()
    spis = lambda sas: sorted((s.name, s.spi_in, s.spi_out) for s in sas)  # noqa: E731
    assert spis(ssh_drivers[hub].ipsec_sas()) == spis(native[hub].ipsec_sas())


def test_the_text_path_alone_gives_the_same_answers(lab, ssh_drivers):
    """The text parsers on the live lab: every site asked in text only (the current layout the
    stand-ins print, as a current vSRX would), the verification passes and the hub's answers
    equal the native driver's."""
    sites = [d for d in ssh_drivers.values() if isinstance(d, JunosSshDriver)]
    for d in sites:
        d.text_only = True
    try:
        failed = [str(r) for r in verify(lab.model, ssh_drivers) if not r.ok]
        assert not failed, failed
        native, hub = for_lab(lab.name), lab.model.hub().name
        key = lambda sas: sorted((s.name, s.remote, s.state, s.initiator_cookie, s.responder_cookie) for s in sas)  # noqa: E731
        assert key(ssh_drivers[hub].ike_sas()) == key(native[hub].ike_sas())
        spis = lambda sas: sorted((s.name, s.index, s.spi_in, s.spi_out) for s in sas)  # noqa: E731
        assert spis(ssh_drivers[hub].ipsec_sas()) == spis(native[hub].ipsec_sas())
        assert ssh_drivers[hub].next_hop_tunnels() == native[hub].next_hop_tunnels()
    finally:
        for d in sites:
            d.text_only = False


def test_the_cli_refuses_what_junos_would_and_serves_a_shell(lab, ssh_drivers):
    d = ssh_drivers[lab.model.hub().name]
    with pytest.raises(JunosCliError, match="syntax error"):
        d.cli("show bogus")
    assert "<ike-security-associations-information>" in d.cli("sh sec ike sec | display xml")
    chan = d._client().invoke_shell()
    chan.send(b"show security ipsec next-hop-tunnels\rexit\r")
    text, deadline = b"", time.monotonic() + 30
    while not chan.exit_status_ready() and time.monotonic() < deadline:
        if chan.recv_ready():
            text += chan.recv(65536)
        time.sleep(0.1)
    text += chan.recv(65536) if chan.recv_ready() else b""
    prompt = f"{credentials(lab.model, d.node)[0]}@{lab.model.sites[d.node].hostname}> "
    assert prompt.encode() in text and b"Next-hop gateway" in text


def test_a_wrong_password_is_refused(lab):
    hub = lab.model.hub().name
    rt_drivers = for_lab(lab.name, "junos-ssh")
    good = rt_drivers[hub]
    bad = JunosSshDriver(hub, lab.model, good._connect, good.user, "not-the-password", ready_timeout=5)
    with pytest.raises(JunosCliError):
        bad.cli("show security ike security-associations")


def test_nhtb_lab_ssh_runs_a_command(lab, capsys):
    hub = lab.model.hub().name
    assert main(["ssh", "--name", lab.name, hub, "show", "security", "ipsec", "next-hop-tunnels"]) == 0
    out = capsys.readouterr().out
    assert "Next-hop gateway" in out and "st0.0" in out
    assert main(["ssh", "--name", lab.name, hub, "show", "bogus"]) == 1
    assert "syntax error" in capsys.readouterr().err


def test_every_node_has_its_management_address(lab):
    mgmt = mgmt_plan(lab.model)
    for node in lab.model.nodes:
        addrs = lab.exec(node, "ip", "-4", "-o", "addr", "show", "dev", "eth0")["stdout"]
        assert f"{mgmt.address(node)}/{mgmt.subnet.prefixlen}" in addrs, (node, addrs)
