"""A change judged against what it is meant to do (pure).

Two snapshots of a running lab (before and after the change) and what was measured while it went
in become a flat list of differences, each one line: `<kind> <subject>`, e.g.
`ike-renegotiated corporate/westford-vpn`, `nhtb-added corporate 10.11.11.13 st0.0 boston-vpn Auto`,
`reach-lost westford-pc -> corp-pc tcp`, `pings-lost westford-pc -> corp-pc`. An intent declares
the differences the change is meant to make (`expect`: each pattern must match one) and those it
may make (`allow`); every other difference fails the rehearsal, as netdryrun and Batfish's
differential questions judge a change. Patterns are shell globs over the whole line.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ConfigError, Source
from ..model.lab import Lab
from ..render.diff import LabDiff

KINDS = ("ike-new", "ike-gone", "ike-renegotiated", "ipsec-new", "ipsec-gone", "ipsec-renegotiated",
         "nhtb-added", "nhtb-removed", "route-new", "route-gone", "route-changed",
         "reach-gained", "reach-lost", "pings-lost", "pings-unmeasured", "tcp-broken", "tcp-stalled",
         "tcp-unmeasured")


@dataclass
class Intent:
    expect: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    source: str = "derived from the configs"

    def as_dict(self) -> dict:
        return {"expect": self.expect, "allow": self.allow}


# What a rehearsal concludes; the report never says "safe", only how the change compared.
MATCHED, UNDECLARED, BROKEN, INCONCLUSIVE = "INTENT MATCHED", "UNDECLARED CHANGES", "BROKEN", "INCONCLUSIVE"
# Differences that are a loss: traffic or an SA the network had and no longer has.
LOSSES = ("reach-lost", "ike-gone", "ipsec-gone", "pings-lost", "tcp-broken", "nhtb-removed", "route-gone")


@dataclass
class Judgement:
    differences: list[str]
    unexpected: list[str]  # differences the intent neither expects nor allows
    missing: list[str]  # expected patterns no difference matched

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.missing

    def verdict(self, checks_ok: bool = True, unverifiable: list[str] | None = None) -> str:
        """BROKEN: a check failed, or something was lost that the intent did not remove;
        INCONCLUSIVE: what the rehearsal could not judge (named by the caller); UNDECLARED CHANGES:
        a difference the intent does not declare, or a declared one that did not happen."""
        if not checks_ok or any(d.split(" ", 1)[0] in LOSSES for d in self.unexpected):
            return BROKEN
        if unverifiable:
            return INCONCLUSIVE
        return MATCHED if self.ok else UNDECLARED


def _matches(line: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(line, p) for p in patterns)


def judge(differences: list[str], intent: Intent) -> Judgement:
    unexpected = [d for d in differences if not _matches(d, intent.expect + intent.allow)]
    missing = [p for p in intent.expect if not any(fnmatch.fnmatchcase(d, p) for d in differences)]
    return Judgement(differences, unexpected, missing)


def load_intent(path: Path) -> Intent:
    """An intent file: YAML with `expect:` and `allow:` lists of patterns (both optional)."""
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', None) or e}",
                          Source(str(path), mark.line + 1 if mark else 1)) from None
    if not isinstance(doc, dict) or set(doc) - {"expect", "allow"}:
        raise ConfigError("an intent has `expect:` and `allow:` lists of patterns, nothing else", Source(str(path), 1))
    out = Intent(source=str(path))
    for key in ("expect", "allow"):
        items = doc.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"`{key}:` is a list of patterns (strings)", Source(str(path), 1))
        bad = [i for i in items if i.split(" ", 1)[0].rstrip("*") not in KINDS and not i.startswith("*")]
        if bad:
            raise ConfigError(f"`{key}:` {bad[0]!r}: a pattern starts with one of {', '.join(KINDS)}",
                              Source(str(path), 1))
        setattr(out, key, items)
    return out


def derived_intent(old: Lab, new: Lab, change: LabDiff) -> Intent:
    """What the config difference implies, as an intent: VPNs added come up (their SAs new, their
    NHTB entries added), VPNs removed go (SAs gone, entries removed), changed connections and keys
    renegotiate, routes to new and removed LANs appear and go, and the LAN hosts of added and
    removed nodes gain and lose their reachability. Everything else must stay as it was."""
    expect, allow = [], []
    for label in sorted(change.vpns_added):
        expect += [f"ike-new {label}", f"ipsec-new {label}"]
        allow.append(f"nhtb-added {label.split('/')[0]} * {label.split('/')[1]} *")
    for label in sorted(change.vpns_removed):
        expect += [f"ike-gone {label}", f"ipsec-gone {label}"]
        allow.append(f"nhtb-removed {label.split('/')[0]} * {label.split('/')[1]} *")
    for label in sorted(change.reconfigured):
        allow += [f"ike-renegotiated {label}", f"ipsec-renegotiated {label}"]
    for host in _hosts_behind(old, new, change.reconfigured):  # traffic through a VPN that renegotiates pauses
        allow += [f"pings-lost * -> {host}", f"pings-lost {host} -> *"]
    for node, what in change.changed.items():
        if what.routes_set or what.routes_removed:
            allow += [f"route-new {node} *", f"route-gone {node} *", f"route-changed {node} *"]
    for host in (h for h in change.added if h in new.hosts):
        allow += [f"reach-gained * -> {host} *", f"reach-gained {host} -> * *"]
    for host in (h for h in change.removed if h in old.hosts):
        allow += [f"reach-lost * -> {host} *", f"reach-lost {host} -> * *"]
    if any(s in new.sites for s in change.added):  # every site learns the new LAN's route
        allow.append("route-new * *")
    if any(s in old.sites for s in change.removed):
        allow.append("route-gone * *")
    return Intent(expect, sorted(set(allow), key=allow.index))


def _hosts_behind(old: Lab, new: Lab, labels: frozenset[str]) -> list[str]:
    """The LAN hosts whose traffic pauses while the VPN ends `labels` renegotiate: the spokes' own
    hosts (the hub's host keeps its other VPNs; its traffic to those spokes is counted at the
    spokes' hosts, as every pair with them is allowed)."""
    sites = {label.split("/")[0] for label in labels}
    hub = new.hub()
    if hub is not None and hub.name in sites:
        sites = {s for s in sites if s != hub.name} or sites
    return sorted({h for s in sites if s in new.sites and (h := new.lan_host(s)) and h in old.hosts})


def differences(before, after, pings: dict[str, tuple[int, int]], held: dict[str, dict]) -> list[str]:
    """Every difference between two snapshots (verify/rehearse.Snapshot) and what the pings and
    held TCP connections measured while the change went in, one line each."""
    out: list[str] = []
    keyed = [("ike", "renegotiated", "/", before.ike, after.ike), ("ipsec", "renegotiated", "/", before.ipsec, after.ipsec),
             ("route", "changed", " ", before.routes, after.routes)]
    for kind, changed, sep, b, a in keyed:  # site -> key -> value: gone, new or changed per key
        for site in sorted(set(b) | set(a)):
            was, now = b.get(site, {}), a.get(site, {})
            for key in sorted(set(was) | set(now)):
                what = "gone" if key not in now else "new" if key not in was else changed if was[key] != now[key] else ""
                if what:
                    out.append(f"{kind}-{what} {site}{sep}{key}")
    for site in sorted(set(before.nhtb) | set(after.nhtb)):
        was, now = set(before.nhtb.get(site, [])), set(after.nhtb.get(site, []))
        out += [f"nhtb-removed {site} {e}" for e in sorted(was - now)]
        out += [f"nhtb-added {site} {e}" for e in sorted(now - was)]
    for proto, b, a in (("icmp", before.reach, after.reach), ("tcp", before.tcp, after.tcp)):
        for pair in sorted(set(b) | set(a)):
            if b.get(pair) and not a.get(pair):
                out.append(f"reach-lost {pair} {proto}")
            elif a.get(pair) and not b.get(pair):
                out.append(f"reach-gained {pair} {proto}")
    for pair, (lost, sent) in sorted(pings.items()):
        if lost < 0:
            out.append(f"pings-unmeasured {pair}")
        elif lost:
            out.append(f"pings-lost {pair}")
    for pair, r in sorted(held.items()):
        if not r.get("connected"):
            out.append(f"tcp-unmeasured {pair}")
        elif r.get("broken"):
            out.append(f"tcp-broken {pair}")
        # A stall (max_gap) is shown in the report, not judged: under software emulation the
        # prober itself pauses for a second while the change is applied beside it.
    return out
