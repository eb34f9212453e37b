"""NAT as a current SRX configures it, typed onto the hub's config as an engineer would paste it:
source rule-sets with a pool, `off` and a destination match; destination NAT to a pool with a
port; static NAT. The model holds what the commands say, the stand-in's nftables says it in the
kernel's words (and the kernel's parser accepts it), and the ledger calls each statement emulated
except the pool option the stand-in does not do. The traffic is proved on the live lab:
tests/integration/test_nat_live.py."""
from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from harness.drivers import nat_counters
from harness.junos import cli as junos_cli, nat as nat_view
from harness.junos.records import NatRule
from harness.model.change import edited_config
from harness.model.lab import load_lab
from harness.model.ledger import classify
from harness.parse.junos import load_junos
from harness.render import nftables

from ..conftest import NEEDS_NFT, scratch_netns

HUB = "corporate"
# The hub's public address in lab/corporate.junos (ge-0/0/3.0) and its LAN (trust, ge-0/0/0.0).
NAT = [
    "set security nat source pool out-pool address 203.0.113.10/32 to 203.0.113.12/32",
    "set security nat source pool out-pool port no-translation",
    "set security nat source rule-set to-net from zone trust",
    "set security nat source rule-set to-net to zone untrust",
    "set security nat source rule-set to-net rule keep match source-address 10.10.10.0/24",
    "set security nat source rule-set to-net rule keep match destination-address 192.0.2.0/24",
    "set security nat source rule-set to-net rule keep then source-nat off",
    "set security nat source rule-set to-net rule pooled match source-address 10.10.10.0/24",
    "set security nat source rule-set to-net rule pooled then source-nat pool out-pool",
    "set security nat destination pool web address 10.10.10.10/32 port 80",
    "set security nat destination rule-set in from zone untrust",
    "set security nat destination rule-set in rule web match destination-address 1.1.1.2/32",
    "set security nat destination rule-set in rule web match destination-port 8080",
    "set security nat destination rule-set in rule web then destination-nat pool web",
    "set security nat static rule-set one-to-one from zone untrust",
    "set security nat static rule-set one-to-one rule cam match destination-address 203.0.113.20/32",
    "set security nat static rule-set one-to-one rule cam then static-nat prefix 10.10.10.20/32",
]


@pytest.fixture
def nat_lab(lab_copy):
    path = lab_copy.parents[1] / "lab" / f"{HUB}.junos"
    path.write_text(edited_config(path, "junos", "NAT rule-sets", NAT))
    return load_lab(lab_copy), path


def line(path, text: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.strip() == text)


def test_the_model_holds_what_the_commands_say(nat_lab):
    lab, path = nat_lab
    site = lab.sites[HUB]
    keep, pooled = [n for n in site.nat_rules if n.name.startswith("rule-set to-net")]
    assert (keep.from_zone, keep.to_zone, keep.translate) == ("trust", "untrust", False)
    assert keep.sources == (IPv4Network("10.10.10.0/24"),) and keep.destinations == (IPv4Network("192.0.2.0/24"),)
    assert pooled.translate and pooled.destinations == () and pooled.pool.name == "out-pool"
    assert (pooled.pool.first, pooled.pool.last) == (IPv4Address("203.0.113.10"), IPv4Address("203.0.113.12"))
    assert pooled.source.line == line(path, NAT[7])
    (web,) = site.destination_nat
    assert (web.from_zone, web.destination, web.port) == ("untrust", IPv4Network("1.1.1.2/32"), 8080)
    assert (web.pool.first, web.pool.port) == (IPv4Address("10.10.10.10"), 80)
    (cam,) = site.static_nat
    assert (cam.from_zone, cam.destination, cam.prefix) == ("untrust", IPv4Network("203.0.113.20/32"),
                                                           IPv4Network("10.10.10.20/32"))


def test_the_ruleset_says_it_in_nftables_words_in_junos_order(nat_lab):
    lab, path = nat_lab
    text = nftables.ruleset(lab.sites[HUB])
    dstnat = text.split("chain dstnat {")[1].split("    }")[0]
    srcnat = text.split("chain srcnat {")[1].split("    }")[0]
    # Static before destination NAT on the way in; the static reverse before source NAT out.
    assert [ln.split(" counter ")[1].split(" comment")[0] for ln in dstnat.splitlines() if "counter" in ln] == \
        ["dnat ip to 10.10.10.20", "dnat ip to 10.10.10.10:80"]
    assert "ip daddr 203.0.113.20 " in dstnat and "meta l4proto { tcp, udp } th dport 8080" in dstnat
    verdicts = [ln.split(" counter ")[1].split(" comment")[0] for ln in srcnat.splitlines() if "counter" in ln]
    assert verdicts[0] == "snat ip to 203.0.113.20"
    assert verdicts[-2:] == ["accept", "snat ip to 203.0.113.10-203.0.113.12"]
    assert 'comment "rule-set to-net rule pooled: source-nat pool out-pool (' in srcnat
    assert "ip saddr 10.10.10.0/24 ip daddr 192.0.2.0/24 counter accept" in srcnat


@NEEDS_NFT
def test_the_kernel_accepts_the_nat_ruleset(nat_lab, tmp_path):
    lab, _ = nat_lab
    rules = tmp_path / "rules.nft"
    rules.write_text(nftables.ruleset(lab.sites[HUB]))
    with scratch_netns(f"nhtb-unit-natcheck-{tmp_path.name[-8:]}") as run:
        res = run("nft", "-c", "-f", str(rules))
    assert res.returncode == 0, res.stderr


def test_the_ledger_calls_the_nat_emulated_but_the_pool_option(nat_lab):
    _, path = nat_lab
    entries = {e.statement: e for e in classify(load_junos(path), "junos")}
    nat = {s: e for s, e in entries.items() if s.startswith("security nat ")}
    assert {s for s, e in nat.items() if e.class_ != "emulated"} == {"security nat source pool out-pool port no-translation"}
    assert nat["security nat source pool out-pool port no-translation"].line == line(path, NAT[1])
    assert set(nat) == {c.removeprefix("set ") for c in NAT}


# `show security nat static rule all` and `... destination rule all` as a vSRX printed them (a
# public write-up of Juniper's NAT examples), without the session lines the stand-in does not print.
VSRX_STATIC = """Total static-nat rules: 1
Total referenced IPv4/IPv6 ip-prefixes: 2/0
Static NAT rule: StaticNatR1
  Rule set                   : StaticNat-RS1
  Rule Id                    : 1
  Rule position              : 1
  From zone                  : untrust
  Destination addresses      : 172.17.42.1
  Host addresses             : 10.0.0.2
  Netmask                    : 32
  Host routing-instance      : N/A
  Translation hits           : 29
"""
VSRX_DESTINATION = """Total destination-nat rules: 1
Total referenced IPv4/IPv6 ip-prefixes: 1/0
Destination NAT rule: DstNatR1
  Rule set                   : DstNat-RS1
  Rule Id                    : 1
  Rule position              : 1
  From zone                  : untrust
    Destination addresses    : 172.17.42.1     - 172.17.42.1
  Action                     : DstPool1
  Translation hits           : 3
"""
VSRX_SOURCE = """Total rules: 1
Total referenced IPv4/IPv6 ip-prefixes: 2/0
source NAT rule: SrcNatR1
  Rule set                   : SrcNat-RS1
  Rule Id                    : 1
  Rule position              : 1
  From zone                  : trust
  To zone                    : untrust
  Match
    Source addresses         : 0.0.0.0         - 255.255.255.255
    Destination addresses    : 0.0.0.0         - 255.255.255.255
  Action                        : interface
  Translation hits           : 10
"""


def test_the_nat_views_print_what_a_vsrx_prints():
    one = (("172.17.42.1", "172.17.42.1"),)
    assert nat_view.text([NatRule("static", "StaticNatR1", "StaticNat-RS1", "untrust", "", (), one, None,
                                  "10.0.0.2", 29)], "static") == VSRX_STATIC
    assert nat_view.text([NatRule("destination", "DstNatR1", "DstNat-RS1", "untrust", "", (), one, None,
                                  "DstPool1", 3)], "destination") == VSRX_DESTINATION
    assert nat_view.text([NatRule("source", "SrcNatR1", "SrcNat-RS1", "trust", "untrust", (), (), None,
                                  "interface", 10)], "source") == VSRX_SOURCE


@NEEDS_NFT
def test_every_nat_rule_finds_its_counter_in_the_kernels_ruleset(nat_lab, tmp_path):
    """The ruleset loaded into a scratch namespace and read back as `nft -j` prints it: each rule
    of the config is found, with its counter (0: no traffic here; the live test counts hits)."""
    lab, _ = nat_lab
    rules = tmp_path / "rules.nft"
    rules.write_text(nftables.ruleset(lab.sites[HUB]))
    with scratch_netns(f"nhtb-unit-natload-{tmp_path.name[-8:]}") as run:
        assert run("nft", "-f", str(rules)).returncode == 0
        listed = run("nft", "-j", "list", "table", "inet", nftables.TABLE).stdout
    comments = [c for c, _ in nat_counters.counters(listed)]
    for kind, names in (("source", ["keep", "pooled"]), ("destination", ["web"]), ("static", ["cam"])):
        got = nat_counters.nat_rules(lab.sites[HUB], kind, listed)
        assert [r.name for r in got] == names and all(r.hits == 0 for r in got)
    assert sum(c.startswith("static rule-set one-to-one rule cam ") for c in comments) == 2  # both ways
    (web,) = nat_counters.nat_rules(lab.sites[HUB], "destination", listed)
    assert (web.rule_set, web.action, web.destination_port, web.destinations) == ("in", "web", 8080,
                                                                                  (("1.1.1.2", "1.1.1.2"),))


def test_the_stand_ins_cli_answers_the_nat_commands_abbreviated_too():
    class Node:
        def nat_rules(self, kind):
            return [NatRule("static", "StaticNatR1", "StaticNat-RS1", "untrust", "", (), (("172.17.42.1",) * 2,),
                            None, "10.0.0.2", 29)] if kind == "static" else []

    assert junos_cli.run(Node(), "show security nat static rule all") == VSRX_STATIC
    assert junos_cli.run(Node(), "sh sec nat stat rule all") == VSRX_STATIC
    assert junos_cli.run(Node(), "show security nat source rule all").startswith("Total rules: 0\n")
    with pytest.raises(junos_cli.CliError):
        junos_cli.run(Node(), "show security nat static rule all | display xml")
