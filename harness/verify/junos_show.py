"""Junos-style text for the lab's live state (pure: data in, the note's layout out)."""
from __future__ import annotations


def next_hop_tunnels(entries: list[dict]) -> str:
    """`show security ipsec next-hop-tunnels`: nothing at all on a spoke, as on Westford."""
    if not entries:
        return ""
    rows = [("Next-hop gateway", "interface", "IPsec VPN name", "Flag")]
    rows += [(e["next_hop"], e["interface"], e["vpn"], e["flag"]) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows) + "\n"


def route(answer: dict) -> str:
    """`show route <address>`, in the note's layout; an inactive route is shown without '*'."""
    head = (f"inet.0: {answer['destinations']} destinations, {answer['destinations']} routes "
            f"({answer['active']} active, 0 holddown, {answer['hidden']} hidden)\n"
            "+ = Active Route, - = Last Active, * = Both\n\n")
    r = answer["route"]
    if r is None:
        return head
    pref = 0 if r["protocol"] == "Direct" else 5
    mark = "*" if r["active"] else " "
    line = f"{r['prefix']:<20}{mark}[{r['protocol']}/{pref}]\n"
    hop = f"to {r['next_hop']} via {r['interface']}" if r["next_hop"] else f"via {r['interface']}"
    line += f"                  > {hop}\n"
    if not r["active"]:
        line += f"                    (inactive: no next-hop tunnel binding for {r['next_hop']})\n"
    return head + line


def _table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]) + "\n"


def ike_sas(sas, index: int | None = None, detail: bool = False) -> str:
    """`show security ike security-associations [index N] [detail]`."""
    if index is not None:
        sas = [s for s in sas if s.index == index]
    if not detail:
        header = ("Index", "Remote Address", "State", "Initiator cookie", "Responder cookie", "Mode")
        return _table([(s.index, s.remote, s.state, s.initiator_cookie, s.responder_cookie, s.mode) for s in sas], header)
    out = []
    for s in sas:
        life = f"Expires in {s.lifetime_remaining} seconds" if s.lifetime_remaining is not None else "-"
        out.append(f"""IKE peer {s.remote}, Index {s.index},
  Role: {s.role}, State: {s.state}
  Initiator cookie: {s.initiator_cookie}, Responder cookie: {s.responder_cookie}
  Exchange type: {s.mode}, Authentication method: Pre-shared-keys
  Local: {s.local}:{s.local_port}, Remote: {s.remote}:{s.remote_port}
  Lifetime: {life}
  Algorithms:
    Authentication        : {s.authentication}
    Encryption            : {s.encryption}
    Pseudo random function: {s.prf}
    Diffie-Hellman group  : {s.dh_group}
  Traffic statistics (the IPsec SAs' traffic; charon does not count IKE messages):
    Input bytes   : {s.input_bytes:>12}
    Output bytes  : {s.output_bytes:>12}
    Input packets : {s.input_packets:>12}
    Output packets: {s.output_packets:>12}
  IPsec security associations: {s.ipsec_created} active
""")
    return "\n".join(out)


def ipsec_sas(sas, index: int | None = None, detail: bool = False) -> str:
    """`show security ipsec security-associations [index N] [detail]`."""
    if index is not None:
        sas = [s for s in sas if s.index == index]
    if not detail:
        header = ("ID", "Gateway", "Port", "Algorithm", "SPI", "Life:sec/kb", "Mon", "vsys")
        blocks = []
        for s in sas:
            alg = f"{s.protocol}:{s.encryption.split('-')[0] if s.encryption.startswith('3des') else s.encryption}/{s.authentication.split('-')[1] if s.authentication.startswith('hmac-') else s.authentication}"
            life = f"{s.life_seconds if s.life_seconds is not None else '-'}/{s.life_kb}"
            rows = [(f"<{s.index}", s.gateway, s.port, alg, s.spi_in, life, s.monitoring, s.vsys),
                    (f">{s.index}", s.gateway, s.port, alg, s.spi_out, life, s.monitoring, s.vsys)]
            blocks.append(f"total configured sa: {len(sas)}\n" + _table(rows, header))
        return "".join(blocks)
    out = []
    for s in sas:
        dirs = []
        for direction, spi in (("inbound", s.spi_in), ("outbound", s.spi_out)):
            dirs.append(f"""  Direction: {direction}, SPI: {int(spi, 16) if spi else '-'}, AUX-SPI: 0
  Hard lifetime: Expires in {s.life_seconds if s.life_seconds is not None else '-'} seconds
  Lifesize Remaining: Unlimited
  Soft lifetime: Expires in {s.soft_lifetime if s.soft_lifetime is not None else '-'} seconds
  Mode: {s.mode}, Type: dynamic, State: {s.state}, VPN Monitoring: {s.monitoring}
  Protocol: {s.protocol}, Authentication: {s.authentication}, Encryption: {s.encryption}
  Anti-replay service: {'enabled' if s.replay_window else 'disabled'}, Replay window size: {s.replay_window}
""")
        out.append(f"""Virtual-system: Root
Local Gateway: {s.local_gateway}, Remote Gateway: {s.gateway}
Local Identity: {s.local_identity}
Remote Identity: {s.remote_identity}
  PFS group: {s.pfs_group}
""" + "\n".join(dirs))
    return "\n".join(out)


def ipsec_stats(st) -> str:
    """`show security ipsec statistics index N`."""
    return f"""ESP Statistics:
  Encrypted bytes:   {st.encrypted_bytes:>10}
  Decrypted bytes:   {st.decrypted_bytes:>10}
  Encrypted packets: {st.encrypted_packets:>10}
  Decrypted packets: {st.decrypted_packets:>10}
AH Statistics:
  Input bytes:       {st.ah_input_bytes:>10}
  Output bytes:      {st.ah_output_bytes:>10}
  Input packets:     {st.ah_input_packets:>10}
  Output packets:    {st.ah_output_packets:>10}
Errors:
  AH authentication failures: {st.ah_authentication_failures}, Replay errors: {st.replay_errors}
  ESP authentication failures: {st.esp_authentication_failures}, ESP decryption failures: {st.esp_decryption_failures}
  Bad headers: {st.bad_headers}, Bad trailers: {st.bad_trailers}
"""
