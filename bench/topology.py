"""The benchmark's network: a server namespace holding every service address on `lo`, and a
client namespace joined to it by one veth pair (no router: nothing to slow the path down).

Only documentation ranges are used, and only inside these two namespaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from bench.corpus import web_addresses
from bench.infra import ALL_HOSTS
from v6pilot.lab.topology import alive
from v6pilot.net import netns

PREFIX = "v6p-bench-"
SERVER = f"{PREFIX}srv"
CLIENT = f"{PREFIX}cli"
NAMESPACES = (SERVER, CLIENT)
SERVER_DEV, CLIENT_DEV = "srv0", "cli0"
LINK_V6 = ("2001:db8:b0::1", "2001:db8:b0::2")
LINK_V4 = ("192.0.2.1", "192.0.2.2")
"""(server end, client end) of the veth pair; service addresses sit elsewhere in 192.0.2.0/24."""
COMMON_SYSCTLS = {
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.accept_dad": "0",
    "net.core.somaxconn": "65535",
    "net.ipv4.tcp_max_syn_backlog": "65535",
}
CLIENT_SYSCTLS = {
    "net.ipv4.ip_local_port_range": "1024 65000",
    "net.ipv4.tcp_tw_reuse": "1",
}
KILL_GRACE = 5.0


def _server_commands() -> list[str]:
    cmds = ["link set lo up", f"link set {SERVER_DEV} up"]
    cmds += [f"addr add {LINK_V6[0]}/64 dev {SERVER_DEV} nodad"]
    cmds += [f"addr add {LINK_V4[0]}/30 dev {SERVER_DEV}"]
    service = [a for h in ALL_HOSTS for a in h.addresses] + web_addresses()
    for address in service:
        cmds.append(
            f"addr add {address}/128 dev lo nodad"
            if ":" in address
            else f"addr add {address}/32 dev lo"
        )
    return cmds


def _client_commands() -> list[str]:
    return [
        "link set lo up",
        f"link set {CLIENT_DEV} up",
        f"addr add {LINK_V6[1]}/64 dev {CLIENT_DEV} nodad",
        f"addr add {LINK_V4[1]}/30 dev {CLIENT_DEV}",
        f"route add default via {LINK_V6[0]}",
        f"route add default via {LINK_V4[0]}",
    ]


def build() -> None:
    """Create both namespaces, the veth pair, every address and the client's default routes."""
    for name in NAMESPACES:
        netns.ip("netns", "add", name)
        netns.sysctls(name, COMMON_SYSCTLS | (CLIENT_SYSCTLS if name == CLIENT else {}))
    netns.ip(
        "link", "add", SERVER_DEV, "netns", SERVER, "type", "veth",
        "peer", "name", CLIENT_DEV, "netns", CLIENT,
    )  # fmt: skip
    netns.ip_batch(_server_commands(), netns=SERVER)
    netns.ip_batch(_client_commands(), netns=CLIENT)


def _terminate(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def destroy() -> None:
    """Delete the benchmark namespaces (and so the veth pair), ending what still runs inside.

    Only this harness creates namespaces with these names, so whatever runs in them was
    started by it (possibly by an earlier run that was killed before it could clean up).
    """
    for name in NAMESPACES:
        if netns.exists(name):
            _terminate(netns.pids_in(name))
            netns.ip("netns", "del", name, check=False)
