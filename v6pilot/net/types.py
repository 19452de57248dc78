"""Plain results of the network primitives, shared by the live network and the mock one."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class TcpOutcome(StrEnum):
    """How one TCP connection attempt ended."""

    OPEN = "open"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(slots=True)
class TlsInfo:
    """The TLS session of a response: the peer's leaf certificate and whether it verified."""

    fingerprint: str
    """SHA-256 of the leaf certificate (DER), hex."""
    verified: bool
    error: str = ""


@dataclass(slots=True)
class HttpResponse:
    """One HTTP exchange with one address: nothing followed, body capped at the client's limit."""

    url: str
    address: str
    status: int
    headers: dict[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    body: bytes
    elapsed: float
    """Seconds from the start of the connection to the end of the (capped) body."""
    truncated: bool = False
    tls: TlsInfo | None = None

    @property
    def location(self) -> str | None:
        return self.headers.get("location") if 300 <= self.status < 400 else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(slots=True)
class SmtpReply:
    """An SMTP greeting and EHLO exchange with one address."""

    address: str
    banner: str
    ehlo: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.banner.startswith("220") and bool(self.ehlo) and self.ehlo[-1].startswith("250")
