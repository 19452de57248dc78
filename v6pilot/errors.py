"""One exception hierarchy for v6pilot: catch `V6PilotError` to catch everything we raise."""


class V6PilotError(Exception):
    """Base class of every error v6pilot raises on purpose."""


class LabError(V6PilotError):
    """The lab cannot be built, started or described as asked."""


class NamespaceError(V6PilotError):
    """A network namespace cannot be used or changed as asked."""


def format_endpoint(address: str, port: int) -> str:
    """Render `address` and `port` as `host:port`, bracketing IPv6 so the port stays readable."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class NetError(V6PilotError):
    """Talking to `address`:`port` failed; the message names the endpoint and what went wrong."""

    def __init__(self, address: str, port: int, detail: str) -> None:
        self.address = address
        self.port = port
        self.detail = detail
        super().__init__(self._describe())

    def _describe(self) -> str:
        return f"{format_endpoint(self.address, self.port)}: {self.detail}"

    def _init_args(self) -> tuple[object, ...]:
        return (self.address, self.port, self.detail)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), self._init_args())


class NetTimeout(NetError):
    """The endpoint did not answer in time."""


class NetRefused(NetError):
    """The endpoint refused the connection (TCP RST or ICMP port unreachable)."""


class NetUnreachable(NetError):
    """No route to the endpoint (network or host unreachable, or no source address)."""


class TlsError(NetError):
    """The TLS handshake failed or the peer's certificate did not verify; the detail says why."""


class DnsError(NetError):
    """A DNS query for `qname` to `address`:`port` failed."""

    def __init__(self, address: str, port: int, detail: str, qname: str) -> None:
        self.qname = qname
        super().__init__(address, port, detail)

    def _describe(self) -> str:
        return (
            f"DNS query {self.qname} to {format_endpoint(self.address, self.port)}: {self.detail}"
        )

    def _init_args(self) -> tuple[object, ...]:
        return (self.address, self.port, self.detail, self.qname)


class DnsTimeout(DnsError, NetTimeout):
    """The DNS server did not answer the query in time."""


class DnsServFail(DnsError):
    """The DNS server answered SERVFAIL."""


class DnsBadResponse(DnsError):
    """The DNS server's reply was malformed, mismatched or carried an unusable rcode."""


class RootHintsError(V6PilotError):
    """A root hints file is unreadable or lists no usable root server."""
