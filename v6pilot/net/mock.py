"""A scripted `Network` for unit tests: declare names, pages, ports and mail servers, then run
checks against it in milliseconds. Anything not declared fails like the real network would."""

from __future__ import annotations

import dns.message
import dns.rdatatype

from v6pilot.errors import DnsTimeout, NetError, NetRefused, NetTimeout
from v6pilot.net.dns import RdataTypeLike, Resolution
from v6pilot.net.iterative import IterativeResult
from v6pilot.net.types import HttpResponse, SmtpReply, TcpOutcome

Handler = HttpResponse | NetError


def _type_text(rdtype: RdataTypeLike) -> str:
    return rdtype if isinstance(rdtype, str) else dns.rdatatype.to_text(rdtype)


class MockNetwork:
    """In-memory network; `calls` records every request made, for assertions."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.cnames: dict[str, str] = {}
        self.failing_names: dict[str, NetError] = {}
        self.pages: dict[tuple[str, str], list[Handler]] = {}
        self.ports: dict[tuple[str, int], TcpOutcome] = {}
        self.direct: dict[tuple[str, str, str], dns.message.Message | NetError] = {}
        self.iterations: dict[tuple[str, str, frozenset[int]], IterativeResult] = {}
        self.mail: dict[str, SmtpReply | NetError] = {}
        self.calls: list[tuple[str, ...]] = []
        self.reused: list[str] = []
        """URLs fetched with `reuse` (a kept-alive connection allowed)."""
        self.families: frozenset[int] = frozenset({4, 6})

    def add_host(self, name: str, v4: list[str] | None = None, v6: list[str] | None = None) -> None:
        self.records[(name, "A")] = list(v4 or [])
        self.records[(name, "AAAA")] = list(v6 or [])

    def add_record(self, name: str, rdtype: str, values: list[str]) -> None:
        self.records[(name, rdtype)] = list(values)

    def add_page(
        self,
        url: str,
        address: str,
        status: int = 200,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        elapsed: float = 0.01,
    ) -> None:
        """Answer `url` at `address` (repeat calls queue answers; the last one sticks)."""
        data = body.encode() if isinstance(body, str) else body
        response = HttpResponse(
            url=url,
            address=address,
            status=status,
            headers={k.lower(): v for k, v in (headers or {}).items()},
            body=data,
            elapsed=elapsed,
        )
        self.pages.setdefault((url, address), []).append(response)

    def fail_page(self, url: str, address: str, error: NetError) -> None:
        self.pages.setdefault((url, address), []).append(error)

    async def resolve(self, name: str, rdtype: RdataTypeLike) -> Resolution:
        qtype = _type_text(rdtype)
        self.calls.append(("resolve", name, qtype))
        if name in self.failing_names:
            raise self.failing_names[name]
        chain = []
        current = name.rstrip(".")
        while current in self.cnames:
            current = self.cnames[current]
            chain.append(current + ".")
        key = (current, qtype)
        known = any(n == current for n, _ in self.records)
        return Resolution(
            name=name,
            rdtype=qtype,
            rcode="NOERROR" if known or chain else "NXDOMAIN",
            cnames=chain,
            records=list(self.records.get(key, [])),
        )

    async def query(self, server: str, name: str, rdtype: RdataTypeLike) -> dns.message.Message:
        qtype = _type_text(rdtype)
        self.calls.append(("query", server, name, qtype))
        answer = self.direct.get((server, name, qtype))
        if answer is None:
            raise DnsTimeout(server, 53, "no answer (mock)", f"{name} {qtype}")
        if isinstance(answer, NetError):
            raise answer
        return answer

    async def iterate(
        self, name: str, rdtype: RdataTypeLike, families: frozenset[int]
    ) -> IterativeResult:
        qtype = _type_text(rdtype)
        self.calls.append(("iterate", name, qtype, ",".join(map(str, sorted(families)))))
        return self.iterations[(name, qtype, families)]

    async def connect(self, address: str, port: int) -> TcpOutcome:
        self.calls.append(("connect", address, str(port)))
        return self.ports.get((address, port), TcpOutcome.REFUSED)

    async def fetch(
        self,
        url: str,
        address: str,
        *,
        method: str = "GET",
        max_body: int | None = None,
        reuse: bool = False,
    ) -> HttpResponse:
        self.calls.append(("fetch", method, url, address))
        if reuse:
            self.reused.append(url)
        queue = self.pages.get((url, address))
        if not queue:
            raise NetRefused(address, 443 if url.startswith("https") else 80, "refused (mock)")
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(handler, NetError):
            raise handler
        if max_body is not None and len(handler.body) > max_body:
            handler = HttpResponse(
                handler.url,
                handler.address,
                handler.status,
                handler.headers,
                handler.body[:max_body],
                handler.elapsed,
                True,
                handler.tls,
            )
        return handler

    async def smtp(self, address: str, helo: str) -> SmtpReply:
        self.calls.append(("smtp", address))
        reply = self.mail.get(address)
        if reply is None:
            raise NetTimeout(address, 25, "no answer (mock)")
        if isinstance(reply, NetError):
            raise reply
        return reply

    def routes(self) -> frozenset[int]:
        return self.families

    async def close(self) -> None:
        self.calls.append(("close",))
