"""The lab's infrastructure hosts: root and TLD servers, the zone's name servers, mail, resolver."""

from __future__ import annotations

from dataclasses import dataclass

from bench.corpus import ZONE


@dataclass(frozen=True, slots=True)
class Host:
    """A named infrastructure host with one address of each family."""

    name: str
    v6: str
    v4: str

    @property
    def addresses(self) -> tuple[str, str]:
        return self.v6, self.v4


ROOT = Host("a.root-servers.test", "2001:db8:53::21", "192.0.2.21")
TLD = Host("a.nic.test", "2001:db8:53::22", "192.0.2.22")
NS1 = Host(f"ns1.{ZONE}", "2001:db8:53::31", "192.0.2.31")
NS2 = Host(f"ns2.{ZONE}", "2001:db8:53::32", "192.0.2.32")
MAIL = Host(f"mail.{ZONE}", "2001:db8:25::25", "192.0.2.25")
RESOLVER = Host("resolver", "2001:db8:53::53", "192.0.2.53")
ALL_HOSTS = (ROOT, TLD, NS1, NS2, MAIL, RESOLVER)
