"""The lab's scenario catalogue: scenarios, their hosts and addresses, and their ground truth.

Loading is deterministic: the same catalogue always yields the same addresses, so ground truth,
zone files and the running lab agree without sharing state.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import idna
import yaml

from v6pilot.errors import LabError

EndpointState = Literal["up", "drop", "refuse"]
STATUSES = frozenset({"pass", "warn", "fail", "info", "error", "skipped"})
GRADES = frozenset({"v6_full", "v6_partial", "v4_only", "unreachable"})

DNS_V6_PREFIX = "2001:db8:53::"
ZONE_NS_V6_PREFIX = "2001:db8:53:1::"
WEB_V6_PREFIX = "2001:db8:80"
DNS_V4_NET = "192.0.2."
WEB_V4_NET = "203.0.113."
ZONE_NS_V4_FIRST = 100
WEB_V4_FIRST = 10


@dataclass(frozen=True)
class Endpoint:
    """One address of a host, and how the server behind it behaves."""

    address: str
    state: EndpointState = "up"
    ports: tuple[int, ...] = (80, 443)
    extra_ports: tuple[int, ...] = ()
    smtp: bool = False
    delay_ms: int = 0
    flaky_every: int = 0
    cert: Literal["good", "wrong"] = "good"
    content: Literal["same", "different"] = "same"
    status: int | None = None
    strip_headers: tuple[str, ...] = ()
    mapped: bool = False

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.address).version

    @property
    def listening_ports(self) -> tuple[int, ...]:
        """Every TCP port a server accepts connections on at this address."""
        if self.state != "up" or self.mapped:
            return ()
        return self.ports + self.extra_ports + ((25,) if self.smtp else ())


@dataclass(frozen=True)
class Host:
    """A DNS name with at most one address per family, or a CNAME."""

    fqdn: str
    v4: Endpoint | None = None
    v6: Endpoint | None = None
    cname: str | None = None

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(e for e in (self.v4, self.v6) if e is not None)


@dataclass(frozen=True)
class Zone:
    """A zone (ACE name, no trailing dot) with its name servers, hosts and MX hosts."""

    name: str
    nameservers: tuple[Host, ...]
    hosts: tuple[Host, ...]
    mx: tuple[str, ...] = ()

    @property
    def parent(self) -> str:
        return self.name.split(".", 1)[1] if "." in self.name else ""

    def host(self, label: str) -> Host:
        fqdn = f"{label}.{self.name}"
        for host in self.hosts:
            if host.fqdn == fqdn:
                return host
        raise LabError(f"zone {self.name} has no host {label}")


@dataclass(frozen=True)
class LinkGroup:
    """`count` links to pages served on the host labelled `host`."""

    host: str
    count: int


@dataclass(frozen=True)
class Site:
    """What the lab web server serves on a scenario's hosts."""

    https_redirect: bool = True
    links: tuple[LinkGroup, ...] = ()
    l3_links: tuple[LinkGroup, ...] = ()
    subresources: tuple[str, ...] = ()
    ipv4_literal: bool = False
    charset: str = "utf-8"
    dynamic: bool = False
    body_mb: int = 0
    redirect_to: str | None = None
    redirect_loop: bool = False
    maze: bool = False


@dataclass(frozen=True)
class Expectation:
    """Ground truth: the grade and every check's status a correct scanner reports."""

    grade: str
    checks: dict[str, str]


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    title_zh: str
    description: str
    zones: tuple[Zone, ...]
    site: Site
    expect: Expectation

    @property
    def zone(self) -> Zone:
        """The scenario's own zone (further zones are third parties such as a CDN)."""
        return self.zones[0]

    @property
    def target(self) -> str:
        """What a user types to scan this scenario: the www name, in Unicode for IDNs."""
        return f"www.{idna.decode(self.zone.name)}"

    def hosts(self) -> tuple[Host, ...]:
        return tuple(h for z in self.zones for h in z.hosts)


@dataclass(frozen=True)
class Tld:
    name: str
    nameservers: tuple[Host, ...]


@dataclass(frozen=True)
class Catalogue:
    root_servers: tuple[Host, ...]
    tlds: tuple[Tld, ...]
    resolver: Host
    scenarios: tuple[Scenario, ...]
    by_id: dict[str, Scenario] = field(repr=False, compare=False)

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self.by_id[scenario_id]
        except KeyError:
            raise LabError(f"no scenario {scenario_id!r} in the catalogue") from None

    def zones(self) -> tuple[Zone, ...]:
        return tuple(z for s in self.scenarios for z in s.zones)

    def web_hosts(self) -> tuple[tuple[Scenario, Host], ...]:
        """Every host the web namespace serves, with the scenario that owns it."""
        return tuple((s, h) for s in self.scenarios for h in s.hosts() if h.cname is None)

    def dns_hosts(self) -> tuple[Host, ...]:
        """Every name server and the resolver: the hosts of the DNS namespace."""
        tld_ns = tuple(ns for t in self.tlds for ns in t.nameservers)
        zone_ns = tuple(ns for z in self.zones() for ns in z.nameservers)
        return (*self.root_servers, *tld_ns, self.resolver, *zone_ns)


def ace(name: str) -> str:
    """The ASCII (punycode) form of a domain name, lower-case, no trailing dot."""
    return idna.encode(name.rstrip("."), uts46=True).decode().lower()


class _Allocator:
    """Hands out the lab's addresses in catalogue order, so they are stable across runs."""

    def __init__(self) -> None:
        self.ns_count = 0
        self.web_v4 = WEB_V4_FIRST
        self.web_v6: dict[int, int] = {}

    def zone_ns(self) -> tuple[str, str]:
        self.ns_count += 1
        v4_host = ZONE_NS_V4_FIRST + self.ns_count
        if v4_host > 254:
            raise LabError("the catalogue has more name servers than the lab's IPv4 pool")
        return f"{DNS_V4_NET}{v4_host}", f"{ZONE_NS_V6_PREFIX}{self.ns_count:x}"

    def web(self, scenario_index: int) -> tuple[str, str]:
        if self.web_v4 > 254:
            raise LabError("the catalogue has more web hosts than the lab's IPv4 pool")
        v4 = f"{WEB_V4_NET}{self.web_v4}"
        self.web_v4 += 1
        n = self.web_v6.get(scenario_index, 0) + 1
        self.web_v6[scenario_index] = n
        return v4, f"{WEB_V6_PREFIX}:{scenario_index:x}::{n:x}"


def _endpoint(spec: dict[str, Any] | None, address: str) -> Endpoint | None:
    if spec is None:
        return None
    known = set(Endpoint.__dataclass_fields__) - {"address"}
    unknown = set(spec) - known
    if unknown:
        raise LabError(f"unknown endpoint field(s) {sorted(unknown)} at {address}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
    return Endpoint(address=address, **values)


def _host(fqdn: str, spec: dict[str, Any], addresses: tuple[str, str]) -> Host:
    if "cname" in spec:
        return Host(fqdn=fqdn, cname=ace(spec["cname"]))
    v4_addr, v6_addr = addresses
    v6_spec = spec.get("v6")
    if v6_spec and v6_spec.get("mapped"):
        v6_addr = f"::ffff:{v4_addr}"
    return Host(fqdn=fqdn, v4=_endpoint(spec.get("v4"), v4_addr), v6=_endpoint(v6_spec, v6_addr))


def _site(spec: dict[str, Any]) -> Site:
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key in ("links", "l3_links"):
            values[key] = tuple(LinkGroup(**g) for g in value)
        elif key == "subresources":
            values[key] = tuple(g["host"] for g in value)
        else:
            values[key] = value
    return Site(**values)


def _expectation(defaults: dict[str, Any], spec: dict[str, Any], where: str) -> Expectation:
    checks = dict(defaults["checks"]) | dict(spec.get("checks") or {})
    grade = spec.get("grade", defaults["grade"])
    bad = {k: v for k, v in checks.items() if v not in STATUSES}
    if bad or grade not in GRADES:
        raise LabError(f"{where}: invalid ground truth {bad or grade}")
    return Expectation(grade=grade, checks=checks)


def _nameservers(zone: str, specs: list[dict[str, Any]], alloc: _Allocator) -> tuple[Host, ...]:
    return tuple(_host(f"{s['name']}.{zone}", s, alloc.zone_ns()) for s in specs)


def _build(doc: dict[str, Any]) -> Catalogue:
    defaults = doc["defaults"]
    alloc = _Allocator()
    roots = tuple(
        Host(
            fqdn=f"{label}.root-servers.test",
            v4=Endpoint(address=f"{DNS_V4_NET}{i}"),
            v6=Endpoint(address=f"{DNS_V6_PREFIX}{i}"),
        )
        for i, label in ((1, "a"), (2, "b"))
    )
    tlds = []
    for t_index, (tld, fams) in enumerate(doc["tlds"].items()):
        servers = []
        for n in (1, 2):
            host_id = 10 * (t_index + 1) + n
            servers.append(
                Host(
                    fqdn=f"ns{n}.nic.{tld}",
                    v4=Endpoint(address=f"{DNS_V4_NET}{host_id}") if fams["v4"] else None,
                    v6=Endpoint(address=f"{DNS_V6_PREFIX}{host_id}") if fams["v6"] else None,
                )
            )
        tlds.append(Tld(name=tld, nameservers=tuple(servers)))
    resolver = Host(
        fqdn="resolver.nic.test",
        v4=Endpoint(address=f"{DNS_V4_NET}53"),
        v6=Endpoint(address=f"{DNS_V6_PREFIX}53"),
    )
    scenarios = []
    for index, spec in enumerate(doc["scenarios"], start=1):
        zone_specs = spec.get("zones") or [{}]
        zones = []
        for z_index, zspec in enumerate(zone_specs):
            name = ace(zspec.get("name", f"{spec['id']}.test"))
            ns = _nameservers(name, zspec.get("nameservers", defaults["nameservers"]), alloc)
            host_specs = dict(zspec.get("hosts", {}))
            mx = zspec.get("mx", [])
            if z_index == 0:
                host_specs = dict(defaults["hosts"]) | host_specs
                mx = zspec.get("mx", defaults["mx"])
            hosts = tuple(
                _host(f"{label}.{name}", hspec, alloc.web(index))
                for label, hspec in host_specs.items()
            )
            zones.append(Zone(name=name, nameservers=ns, hosts=hosts, mx=tuple(mx)))
        site = _site(dict(defaults["site"]) | dict(spec.get("site") or {}))
        expect = _expectation(doc["expect_defaults"], spec.get("expect") or {}, spec["id"])
        scenarios.append(
            Scenario(
                id=spec["id"],
                title=spec["title"],
                title_zh=spec["title_zh"],
                description=spec.get("description", spec["title"]),
                zones=tuple(zones),
                site=site,
                expect=expect,
            )
        )
    return Catalogue(
        root_servers=roots,
        tlds=tuple(tlds),
        resolver=resolver,
        scenarios=tuple(scenarios),
        by_id={s.id: s for s in scenarios},
    )


def parse_catalogue(text: str) -> Catalogue:
    """Build a catalogue from YAML text, validating every scenario."""
    try:
        doc = yaml.safe_load(text)
        return _build(doc)
    except (KeyError, TypeError, ValueError, idna.IDNAError) as exc:
        raise LabError(f"invalid scenario catalogue: {exc!r}") from exc


@cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped inside the package."""
    text = resources.files("v6pilot.lab").joinpath("catalogue.yaml").read_text("utf-8")
    return parse_catalogue(text)
