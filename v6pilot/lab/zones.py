"""DNS zones of the lab (root, TLDs, scenario zones) generated from the catalogue."""

from __future__ import annotations

from collections.abc import Iterable

import dns.zone

from v6pilot.lab.catalogue import Catalogue, Host, Zone

TTL = 300
SOA_TIMERS = "1 3600 600 86400 300"


def _address_records(owner: str, host: Host) -> list[str]:
    lines = []
    if host.v4 is not None:
        lines.append(f"{owner} {TTL} IN A {host.v4.address}")
    if host.v6 is not None:
        lines.append(f"{owner} {TTL} IN AAAA {host.v6.address}")
    return lines


def _delegation(child: str, nameservers: Iterable[Host]) -> list[str]:
    """NS records of a child zone plus glue for the name servers inside it."""
    lines = []
    for ns in nameservers:
        lines.append(f"{child}. {TTL} IN NS {ns.fqdn}.")
        if ns.fqdn.endswith("." + child):
            lines.extend(_address_records(f"{ns.fqdn}.", ns))
    return lines


def _zone(origin: str, nameservers: Iterable[Host], body: list[str]) -> dns.zone.Zone:
    servers = list(nameservers)
    apex = f"{origin}." if origin else "."
    lines = [f"{apex} {TTL} IN SOA {servers[0].fqdn}. hostmaster.{apex.lstrip('.')} {SOA_TIMERS}"]
    lines += [f"{apex} {TTL} IN NS {ns.fqdn}." for ns in servers]
    lines += body
    return dns.zone.from_text("\n".join(lines), origin=apex, relativize=False, check_origin=True)


def root_zone(catalogue: Catalogue) -> dns.zone.Zone:
    body = []
    for server in catalogue.root_servers:
        body.extend(_address_records(f"{server.fqdn}.", server))
    for tld in catalogue.tlds:
        body.extend(_delegation(tld.name, tld.nameservers))
    return _zone("", catalogue.root_servers, body)


def tld_zone(catalogue: Catalogue, name: str) -> dns.zone.Zone:
    tld = next(t for t in catalogue.tlds if t.name == name)
    body = []
    infra = (*catalogue.root_servers, *tld.nameservers, catalogue.resolver)
    for host in infra:
        if host.fqdn.endswith("." + name):
            body.extend(_address_records(f"{host.fqdn}.", host))
    for zone in catalogue.zones():
        if zone.parent == name:
            body.extend(_delegation(zone.name, zone.nameservers))
    return _zone(name, tld.nameservers, body)


def scenario_zone(zone: Zone) -> dns.zone.Zone:
    body = []
    for ns in zone.nameservers:
        body.extend(_address_records(f"{ns.fqdn}.", ns))
    for host in zone.hosts:
        if host.cname is not None:
            body.append(f"{host.fqdn}. {TTL} IN CNAME {host.cname}.")
        else:
            body.extend(_address_records(f"{host.fqdn}.", host))
    www = next((h for h in zone.hosts if h.fqdn == f"www.{zone.name}" and h.cname is None), None)
    if www is not None:
        body.extend(_address_records(f"{zone.name}.", www))
    for preference, label in enumerate(zone.mx, start=1):
        body.append(f"{zone.name}. {TTL} IN MX {10 * preference} {label}.{zone.name}.")
    return _zone(zone.name, zone.nameservers, body)


def server_zones(catalogue: Catalogue) -> list[tuple[Host, list[dns.zone.Zone]]]:
    """Each authoritative name server of the lab with the zones it serves."""
    served: list[tuple[Host, list[dns.zone.Zone]]] = []
    root = root_zone(catalogue)
    served.extend((server, [root]) for server in catalogue.root_servers)
    for tld in catalogue.tlds:
        zone = tld_zone(catalogue, tld.name)
        served.extend((server, [zone]) for server in tld.nameservers)
    for scenario_zone_ in catalogue.zones():
        zone = scenario_zone(scenario_zone_)
        served.extend((server, [zone]) for server in scenario_zone_.nameservers)
    return served


def root_hints(catalogue: Catalogue) -> str:
    """The lab's root hints in the zone-file format of IANA's named.root."""
    lines = ["; root hints of the v6pilot lab"]
    for server in catalogue.root_servers:
        lines.append(f".                        3600000  NS  {server.fqdn}.")
    for server in catalogue.root_servers:
        lines.extend(
            f"{rec.split(' ', 1)[0]:<24} 3600000  {rec.split(' IN ')[1]}"
            for rec in _address_records(f"{server.fqdn}.", server)
        )
    return "\n".join(lines) + "\n"
