"""Live health probes of a running lab, made from inside its client namespaces."""

from __future__ import annotations

import asyncio

import dns.rdatatype

from v6pilot.errors import V6PilotError
from v6pilot.lab import topology
from v6pilot.lab.catalogue import Catalogue, load_catalogue
from v6pilot.net.dns import query
from v6pilot.net.netns import run_in_netns

PROBE_TIMEOUT = 2.0


async def tcp_open(address: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a TCP connection to address:port is accepted within `timeout`."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def dns_answers(server: str, name: str, rdtype: str, recursive: bool = False) -> bool:
    """Whether `server` answers NOERROR with records for name/rdtype."""
    try:
        reply = await query(
            name,
            dns.rdatatype.from_text(rdtype),
            server,
            timeout=PROBE_TIMEOUT,
            recursion_desired=recursive,
        )
    except V6PilotError:
        return False
    return reply.rcode() == 0 and (bool(reply.answer) or bool(reply.authority))


def _addr(catalogue: Catalogue, fqdn_prefix: str, family: int) -> str:
    zone = catalogue.scenario("good").zone
    host = zone.host(fqdn_prefix)
    endpoint = host.v4 if family == 4 else host.v6
    assert endpoint is not None
    return endpoint.address


async def _client46(catalogue: Catalogue) -> dict[str, list[tuple[str, bool]]]:
    root = catalogue.root_servers[0]
    tld = catalogue.tlds[0].nameservers[0]
    resolver = catalogue.resolver
    assert root.v6 and tld.v6 and resolver.v6 and resolver.v4
    www6, www4, mail6 = (
        _addr(catalogue, "www", 6),
        _addr(catalogue, "www", 4),
        _addr(catalogue, "mail", 6),
    )
    results = await asyncio.gather(
        tcp_open(www4, 80),
        tcp_open(www6, 80),
        dns_answers(root.v6.address, ".", "SOA"),
        dns_answers(tld.v6.address, "test.", "SOA"),
        dns_answers(
            resolver.v6.address, f"www.{catalogue.scenario('good').zone.name}.", "AAAA", True
        ),
        dns_answers(resolver.v4.address, f"www.{catalogue.scenario('good').zone.name}.", "A", True),
        tcp_open(www6, 443),
        tcp_open(mail6, 25),
    )
    ok4, ok6, root_ok, tld_ok, res6, res4, https_ok, smtp_ok = results
    return {
        topology.CLIENT46: [("IPv4", ok4), ("IPv6", ok6)],
        topology.ROUTER: [("forwarding", ok4 and ok6)],
        topology.DNS: [("root", root_ok), ("TLD", tld_ok), ("resolver", res6 and res4)],
        topology.WEB: [("http", ok6), ("https", https_ok), ("smtp", smtp_ok)],
    }


async def _client6(catalogue: Catalogue) -> dict[str, list[tuple[str, bool]]]:
    ok6, reaches4 = await asyncio.gather(
        tcp_open(_addr(catalogue, "www", 6), 80), tcp_open(_addr(catalogue, "www", 4), 80, 0.5)
    )
    return {topology.CLIENT6: [("IPv6", ok6), ("no IPv4", not reaches4)]}


def health(catalogue: Catalogue | None = None) -> dict[str, list[tuple[str, bool]]]:
    """Probe every lab service from the clients: host namespace -> [(service, ok)]."""
    catalogue = catalogue or load_catalogue()
    result = run_in_netns(topology.CLIENT46, lambda: _client46(catalogue))
    result.update(run_in_netns(topology.CLIENT6, lambda: _client6(catalogue)))
    return result
