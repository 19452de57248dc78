"""The lab's network: namespaces joined through a router, addresses, routes, and its daemons.

    client46 (dual-stack) ─┐                ┌─ dns  (root, TLD and zone servers, resolver)
                           ├── router ──────┤
    client6 (IPv6 only) ───┘                └─ web  (HTTP, HTTPS, SMTP, extra ports)

Service addresses live on `lo` of the dns and web namespaces; the router holds a blackhole
route for every endpoint whose state is `drop`, so packets to it vanish and clients time out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from v6pilot.errors import LabError
from v6pilot.lab.catalogue import Catalogue, Host, load_catalogue
from v6pilot.lab.tlsca import LabCA
from v6pilot.lab.zones import root_hints
from v6pilot.net import netns

PREFIX = "v6p-"
STATE_DIR = Path(os.environ.get("V6PILOT_LAB_STATE", "/run/v6pilot-lab"))
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Link:
    """A veth pair from the router to one namespace, with both ends' addresses."""

    ns: str
    v6_router: str
    v6_peer: str
    v4_router: str | None
    v4_peer: str | None


ROUTER = f"{PREFIX}router"
CLIENT46 = f"{PREFIX}client46"
CLIENT6 = f"{PREFIX}client6"
DNS = f"{PREFIX}dns"
WEB = f"{PREFIX}web"
NAMESPACES = (ROUTER, CLIENT46, CLIENT6, DNS, WEB)
LINKS = (
    Link(CLIENT46, "2001:db8:ff:1::1", "2001:db8:ff:1::2", "198.51.100.1", "198.51.100.2"),
    Link(CLIENT6, "2001:db8:ff:2::1", "2001:db8:ff:2::2", None, None),
    Link(DNS, "2001:db8:ff:3::1", "2001:db8:ff:3::2", "198.51.100.9", "198.51.100.10"),
    Link(WEB, "2001:db8:ff:4::1", "2001:db8:ff:4::2", "198.51.100.13", "198.51.100.14"),
)
SERVICE_ROUTES = {
    DNS: ("2001:db8:53::/48", "192.0.2.0/24"),
    WEB: ("2001:db8:80::/48", "203.0.113.0/24"),
}
DAEMONS = {"dns": DNS, "web": WEB}
NO_DAD = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"}
"""Duplicate address detection would hold every new address (link-local too) for a second."""
FORWARDING = {"net.ipv6.conf.all.forwarding": "1", "net.ipv4.ip_forward": "1"}


def _host_addresses(hosts: list[Host]) -> list[str]:
    return [e.address for h in hosts for e in h.endpoints if not e.mapped]


def _lo_commands(addresses: list[str]) -> list[str]:
    cmds = ["link set lo up"]
    for address in sorted(set(addresses)):
        if ":" in address:
            cmds.append(f"addr add {address}/128 dev lo nodad")
        else:
            cmds.append(f"addr add {address}/32 dev lo")
    return cmds


def _blackholes(catalogue: Catalogue) -> list[str]:
    hosts = [*catalogue.dns_hosts(), *(h for _, h in catalogue.web_hosts())]
    return [
        f"route add blackhole {e.address}/{128 if e.family == 6 else 32}"
        for h in hosts
        for e in h.endpoints
        if e.state == "drop"
    ]


def build_network(catalogue: Catalogue) -> None:
    """Create the namespaces, veth pairs, addresses and routes (fails if any exist)."""
    for name in NAMESPACES:
        netns.ip("netns", "add", name)
        netns.sysctls(name, NO_DAD | (FORWARDING if name == ROUTER else {}))
    netns.ip_batch(
        [
            f"link add r-{link.ns.removeprefix(PREFIX)} netns {ROUTER} type veth "
            f"peer name eth0 netns {link.ns}"
            for link in LINKS
        ]
    )
    router_cmds = ["link set lo up"]
    for link in LINKS:
        dev = f"r-{link.ns.removeprefix(PREFIX)}"
        router_cmds += [f"link set {dev} up", f"addr add {link.v6_router}/64 dev {dev} nodad"]
        if link.v4_router:
            router_cmds.append(f"addr add {link.v4_router}/30 dev {dev}")
        for prefix in SERVICE_ROUTES.get(link.ns, ()):
            via = link.v6_peer if ":" in prefix else link.v4_peer
            router_cmds.append(f"route add {prefix} via {via}")
    router_cmds += _blackholes(catalogue)
    netns.ip_batch(router_cmds, netns=ROUTER)

    service_addresses = {
        DNS: _host_addresses(list(catalogue.dns_hosts())),
        WEB: _host_addresses([h for _, h in catalogue.web_hosts()]),
    }
    for link in LINKS:
        cmds = _lo_commands(service_addresses.get(link.ns, []))
        cmds += ["link set eth0 up", f"addr add {link.v6_peer}/64 dev eth0 nodad"]
        cmds.append(f"route add default via {link.v6_router}")
        if link.v4_peer:
            cmds += [
                f"addr add {link.v4_peer}/30 dev eth0",
                f"route add default via {link.v4_router}",
            ]
        else:
            cmds.append("addr del 127.0.0.1/8 dev lo")
        netns.ip_batch(cmds, netns=link.ns)


def _write_client_config(catalogue: Catalogue, state: Path) -> None:
    resolver = catalogue.resolver
    assert resolver.v4 is not None and resolver.v6 is not None
    for ns, servers in ((CLIENT46, [resolver.v6, resolver.v4]), (CLIENT6, [resolver.v6])):
        directory = netns.ETC_NETNS / ns
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "resolv.conf").write_text(
            "".join(f"nameserver {s.address}\n" for s in servers) + "options timeout:2 attempts:2\n"
        )
    (state / "root.hints").write_text(root_hints(catalogue))
    LabCA.create(state)


def _start_daemon(role: str, state: Path) -> int:
    log = open(state / f"{role}.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        ["ip", "netns", "exec", DAEMONS[role], sys.executable, "-m", "v6pilot.lab.daemon", role],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "V6PILOT_LAB_STATE": str(state)},
        start_new_session=True,
    )
    log.close()
    return proc.pid


def _wait_ready(roles: list[str], pids: dict[str, int], state: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    pending = set(roles)
    while pending and time.monotonic() < deadline:
        for role in list(pending):
            if (state / f"{role}.ready").exists():
                pending.discard(role)
            elif not alive(pids[role]):
                log = (state / f"{role}.log").read_text(errors="replace")[-2000:]
                raise LabError(f"lab {role} daemon exited during start-up:\n{log}")
        time.sleep(0.05)
    if pending:
        raise LabError(f"lab daemon(s) {sorted(pending)} not ready after {START_TIMEOUT:.0f} s")


def alive(pid: int) -> bool:
    """Whether `pid` still runs; reaps it first when it is our own exited child."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def up(catalogue: Catalogue | None = None, state: Path = STATE_DIR) -> float:
    """Bring the whole lab up from scratch and return how long it took in seconds."""
    started = time.monotonic()
    catalogue = catalogue or load_catalogue()
    down(state)
    state.mkdir(parents=True, exist_ok=True)
    try:
        build_network(catalogue)
        _write_client_config(catalogue, state)
        pids = {role: _start_daemon(role, state) for role in DAEMONS}
        (state / "pids.json").write_text(json.dumps(pids))
        _wait_ready(list(DAEMONS), pids, state)
    except BaseException:
        down(state)
        raise
    return time.monotonic() - started


def _stop(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def down(state: Path = STATE_DIR) -> list[str]:
    """Remove every process, namespace, file and mount the lab made; safe after a crash."""
    removed: list[str] = []
    pid_file = state / "pids.json"
    pids = list(json.loads(pid_file.read_text()).values()) if pid_file.exists() else []
    for name in NAMESPACES:
        if netns.exists(name):
            pids.extend(netns.pids_in(name))
    _stop(sorted(set(pids)))
    for name in NAMESPACES:
        if netns.exists(name):
            netns.ip("netns", "del", name)
            removed.append(name)
        shutil.rmtree(netns.ETC_NETNS / name, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    return removed


def set_fault(
    catalogue: Catalogue, scenario_id: str, label: str, family: int, *, active: bool
) -> str:
    """Black-hole (or restore) one endpoint of a running lab at the router; returns its address.

    This changes a scenario's behaviour on purpose, e.g. to rehearse how a regression shows.
    """
    host = catalogue.scenario(scenario_id).zone.host(label)
    endpoint = host.v4 if family == 4 else host.v6
    if endpoint is None or endpoint.mapped:
        raise LabError(f"{host.fqdn} has no IPv{family} address to black-hole")
    if not netns.exists(ROUTER):
        raise LabError("the lab is not up")
    if endpoint.state == "drop":
        raise LabError(f"{endpoint.address} is black-holed by its scenario already")
    route = f"{endpoint.address}/{32 if family == 4 else 128}"
    if active:
        netns.ip("route", "replace", "blackhole", route, netns=ROUTER)
    else:
        netns.ip("route", "del", "blackhole", route, netns=ROUTER, check=False)
    return endpoint.address


@dataclass(frozen=True)
class HostStatus:
    name: str
    role: str
    present: bool
    processes: int


def status(state: Path = STATE_DIR) -> list[HostStatus]:
    """Which lab namespaces exist and how many processes run in each."""
    roles = {
        ROUTER: "router",
        CLIENT46: "dual-stack client",
        CLIENT6: "IPv6-only client",
        DNS: "DNS servers and resolver",
        WEB: "web, SMTP and extra ports",
    }
    return [
        HostStatus(
            name,
            roles[name],
            netns.exists(name),
            len(netns.pids_in(name)) if netns.exists(name) else 0,
        )
        for name in NAMESPACES
    ]
