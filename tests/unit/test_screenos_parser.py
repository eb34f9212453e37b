"""The SSG5's ScreenOS config into the same site model."""
from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from harness.errors import ConfigError
from harness.model.screenos_site import build_screenos_site
from harness.parse.screenos import load_screenos, parse_screenos

from ..conftest import LAB


def sunnyvale():
    return build_screenos_site("sunnyvale", load_screenos(LAB / "sunnyvale.screenos"))


def test_sunnyvale_reads_without_leftovers():
    site, warnings = sunnyvale()
    assert warnings == []
    assert site.os == "screenos" and site.role == "spoke"
    assert [u.name for u in site.tunnel_units] == ["tunnel.1"]
    (vpn,) = site.vpns.values()
    assert vpn.bind_interface == "tunnel.1"
    # sec-level standard: the standard pair in both phases, PFS group 2.
    assert [p.name for p in site.ike_policies[vpn.gateway].proposals] == ["pre-g2-aes128-sha", "pre-g2-3des-sha"]
    assert [p.name for p in site.ipsec_policies[vpn.ipsec_policy].proposals] == ["g2-esp-3des-sha", "g2-esp-aes128-sha"]
    assert site.ipsec_policies[vpn.ipsec_policy].pfs_group == 2


def test_policy_context_lines_join_their_policy():
    site, _ = sunnyvale()
    pol2 = next(p for p in site.policies if p.name == "id 2")
    # `set policy id 2` / `set dst-address "westford-net"` / `exit` adds a destination to policy 2.
    assert pol2.destinations == ["corp-net", "westford-net"]
    assert all(site.zones["VPN"].address_book[n] for n in pol2.destinations)
    nat = next(p for p in site.policies if p.name == "id 1")
    assert nat.source_nat and nat.sources == ["any"]


def test_routes_via_tunnel_interface_and_gateway():
    site, _ = sunnyvale()
    default = next(r for r in site.routes if r.prefix == IPv4Network("0.0.0.0/0"))
    assert default.next_hop is not None and default.interface is None
    assert all(r.interface == "tunnel.1" for r in site.routes if r.prefix != IPv4Network("0.0.0.0/0"))


@pytest.mark.parametrize("text,line,message", [
    ('set policy id 2\nset dst-address "x"\n', 2, "not closed with 'exit'"),
    ("exit\n", 1, "'exit' outside a policy context"),
    ("get config\n", 1, "unknown command 'get'"),
    ('set interface "tunnel.1" zone "Nowhere"\n', 1, "zone 'Nowhere' is not defined"),
    ('set vpn "v" gateway "g" sec-level bogus\n', 1, "unknown sec-level 'bogus'"),
])
def test_bad_screenos_names_file_and_line(text, line, message):
    with pytest.raises(ConfigError) as e:
        build_screenos_site("x", parse_screenos(text, "ssg.conf"))
    assert f"ssg.conf:{line}: " in str(e.value) and message in str(e.value)
